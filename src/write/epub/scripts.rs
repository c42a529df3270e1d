//! Naming the script of characters no font covers, so a warning can say "Tibetan" rather
//! than list code points.

use std::collections::BTreeMap;

/// The script of `c` by name, as shown in warnings.
pub fn script_of(c: char) -> String {
    crate::font::script::script_name(c)
}

/// Whether `c` needs no glyph of its own: spaces, joiners, variation selectors, soft hyphens.
pub fn needs_no_glyph(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c as u32, 0x00AD | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFEFF | 0xE0100..=0xE01EF)
}

/// Most characters a warning lists before "…".
const SHOWN: usize = 8;

/// One warning per script for characters that no font in theme `theme` covers.
pub fn missing_warnings(theme: &str, missing: impl IntoIterator<Item = char>) -> Vec<String> {
    let mut by_script: BTreeMap<String, Vec<char>> = BTreeMap::new();
    for c in missing {
        if !needs_no_glyph(c) {
            by_script.entry(script_of(c)).or_default().push(c);
        }
    }
    by_script
        .into_iter()
        .map(|(script, chars)| {
            let shown: String = chars.iter().take(SHOWN).collect();
            let more = if chars.len() > SHOWN { "…" } else { "" };
            let n = chars.len();
            let noun = if n == 1 { "character" } else { "characters" };
            format!("no font in theme '{theme}' covers {n} {noun} ({script}: {shown}{more}); reading systems will use a font of their own or show boxes")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_script() {
        let w = missing_warnings("modern", "ༀ༁༂\u{200d} ꯀ".chars());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w.iter()
                .any(|m| m.contains("covers 3 characters (Tibetan: ༀ༁༂)")),
            "{w:?}"
        );
        assert_eq!(script_of('Ա'), "Armenian");
        assert_eq!(script_of('ж'), "Cyrillic");
    }
}
