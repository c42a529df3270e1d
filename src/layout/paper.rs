//! Paper sizes: the names people use (`a4`, `letter`, `6x9`) and `WxH` with units.

use std::fmt;

/// Points per millimetre.
pub const PT_PER_MM: f32 = 72.0 / 25.4;

/// A page size in points, portrait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperSize {
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
}

/// Why a paper size could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "paper size '{0}' is not understood (use a4, a5, letter, 6x9, or WxH with units mm, cm, in or pt, e.g. 150x220mm)"
)]
pub struct PaperError(pub String);

impl fmt::Display for PaperSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}×{:.1} pt", self.width, self.height)
    }
}

impl PaperSize {
    /// ISO A4.
    pub const A4: PaperSize = PaperSize {
        width: 210.0 * PT_PER_MM,
        height: 297.0 * PT_PER_MM,
    };

    /// Parses `a4`, `a5`, `a6`, `b5`, `letter`, `legal`, `6x9` (inches, the US trade size) or
    /// `WxH` with a unit on either or both numbers (`150x220mm`, `6in x 9in`, `15cmx22cm`).
    /// Bare numbers are inches when both are at most 20, else millimetres.
    pub fn parse(spec: &str) -> Result<PaperSize, PaperError> {
        let err = || PaperError(spec.to_string());
        let s: String = spec
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mm = |w: f32, h: f32| PaperSize {
            width: w * PT_PER_MM,
            height: h * PT_PER_MM,
        };
        let named = match s.as_str() {
            "a4" => Some(mm(210.0, 297.0)),
            "a5" => Some(mm(148.0, 210.0)),
            "a6" => Some(mm(105.0, 148.0)),
            "b5" => Some(mm(176.0, 250.0)),
            "letter" | "us-letter" => Some(PaperSize {
                width: 612.0,
                height: 792.0,
            }),
            "legal" => Some(PaperSize {
                width: 612.0,
                height: 1008.0,
            }),
            _ => None,
        };
        if let Some(p) = named {
            return Ok(p);
        }
        let (w, h) = s.split_once(['x', '×']).ok_or_else(err)?;
        let (wv, wu) = number_and_unit(w).ok_or_else(err)?;
        let (hv, hu) = number_and_unit(h).ok_or_else(err)?;
        let default_unit = if wv <= 20.0 && hv <= 20.0 { "in" } else { "mm" };
        let unit_w = wu.or(hu).unwrap_or(default_unit);
        let unit_h = hu.or(wu).unwrap_or(default_unit);
        let size = PaperSize {
            width: wv * points_per(unit_w).ok_or_else(err)?,
            height: hv * points_per(unit_h).ok_or_else(err)?,
        };
        // A business card to a poster; anything else is a typo.
        let ok = |v: f32| v.is_finite() && (72.0..=14_400.0).contains(&v);
        if ok(size.width) && ok(size.height) {
            Ok(size)
        } else {
            Err(err())
        }
    }
}

fn number_and_unit(s: &str) -> Option<(f32, Option<&str>)> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let value: f32 = s[..split].parse().ok()?;
    let unit = &s[split..];
    Some((value, (!unit.is_empty()).then_some(unit)))
}

fn points_per(unit: &str) -> Option<f32> {
    match unit {
        "mm" => Some(PT_PER_MM),
        "cm" => Some(10.0 * PT_PER_MM),
        "in" | "\"" => Some(72.0),
        "pt" => Some(1.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.05
    }

    #[test]
    fn named_and_measured_sizes() {
        let a4 = PaperSize::parse("A4").expect("a4");
        assert!(close(a4.width, 595.28) && close(a4.height, 841.89));
        let t = PaperSize::parse("6x9").expect("6x9");
        assert!(close(t.width, 432.0) && close(t.height, 648.0));
        let m = PaperSize::parse("150x220mm").expect("mm");
        assert!(close(m.width, 425.2) && close(m.height, 623.6));
        let c = PaperSize::parse("15cm x 22cm").expect("cm");
        assert!(close(c.width, 425.2));
        let p = PaperSize::parse("400x600pt").expect("pt");
        assert!(close(p.width, 400.0) && close(p.height, 600.0));
        assert!(PaperSize::parse("letter").is_ok());
        for bad in ["", "huge", "0x0", "10x", "5x5km", "1x1pt", "99999x9in"] {
            assert!(PaperSize::parse(bad).is_err(), "{bad}");
        }
    }
}
