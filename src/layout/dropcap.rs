//! Drop caps: the first letter of an article's first paragraph set large across several
//! lines, with those lines shortened to make room.

use super::blocks::{Ctx, Elem, Env, shift_item};
use super::fonts::Role;
use super::page::{GlyphRun, Item};
use super::paragraph::{self, Hang};
use crate::model::Inline;

/// Splits the initial (opening punctuation plus the first letter or digit, with its
/// combining marks) off the start of `inlines`; `None` when the paragraph does not start
/// with a letter, possibly inside emphasis.
pub(crate) fn split_initial(inlines: &[Inline]) -> Option<(String, Vec<Inline>)> {
    let (first, rest) = inlines.split_first()?;
    let (initial, replaced) = match first {
        Inline::Text { text } => {
            let (initial, tail) = split_text(text)?;
            (initial, Inline::text(tail))
        }
        Inline::Emphasis { content } => {
            let (initial, inner) = split_initial(content)?;
            (initial, Inline::Emphasis { content: inner })
        }
        Inline::Strong { content } => {
            let (initial, inner) = split_initial(content)?;
            (initial, Inline::Strong { content: inner })
        }
        _ => return None,
    };
    let mut out = Vec::with_capacity(inlines.len());
    out.push(replaced);
    out.extend(rest.iter().cloned());
    Some((initial, out))
}

/// The initial and the rest of `text`; `None` when the text is the initial alone (a
/// one-letter paragraph keeps its letter in the text).
fn split_text(text: &str) -> Option<(String, &str)> {
    let (initial, tail) = crate::model::initial::split_initial(text)?;
    (!tail.trim().is_empty()).then(|| (initial.to_string(), tail))
}

/// The paragraph's lines with a drop cap `lines` deep, or `None` when it has no initial
/// or is too short to hold the letter (the caller then sets it normally).
pub(crate) fn paragraph(
    ctx: &mut Ctx,
    content: &[Inline],
    env: &Env,
    lines: usize,
) -> Option<Vec<Elem>> {
    let (initial, rest) = split_initial(content)?;
    let spec = ctx.body_spec(env, false);
    let face = ctx
        .fonts
        .face_for(Role::Heading, ctx.theme.headings.bold, false);
    let cap = ctx.fonts.face(face).map_or(0.7, |f| {
        let m = f.metrics();
        m.cap_height / f32::from(m.units_per_em.max(1))
    });
    // The letter's cap height runs from the first line's cap height to the last line's
    // baseline.
    let size = ((lines - 1) as f32 * env.leading + cap * env.size) / cap.max(0.3);
    let lang = ctx.lang.clone();
    let shaped = ctx
        .cache
        .shape_uncached(&ctx.fonts, face, size, &initial, Some(lang.as_str()));
    for &c in &shaped.missing {
        ctx.missing.insert(c);
    }
    let mut runs: Vec<GlyphRun> = Vec::new();
    let mut x = env.left;
    for (f, g) in shaped.glyphs() {
        let advance = g.advance;
        match runs.last_mut() {
            Some(r) if r.face == f => r.glyphs.push(g.clone()),
            _ => runs.push(GlyphRun {
                face: f,
                size,
                x,
                y: 0.0,
                color: ctx.palette.accent,
                glyphs: vec![g.clone()],
            }),
        }
        x += advance;
    }
    let hang = Hang {
        lines,
        width: shaped.width + env.size * 0.3,
    };
    let set = paragraph::set_lines_hanging(ctx, &rest, &spec, Some(hang));
    let n = set.len();
    if n < lines {
        return None;
    }
    let baseline = paragraph::baseline_offset(ctx, &spec);
    let mut out: Vec<Elem> = set
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mut e = Elem::new(spec.leading);
            for mut it in line.items {
                shift_item(&mut it, env.left, baseline);
                e.items.push(it);
            }
            e.notes = line.notes;
            // The lines beside the letter stay on its page; then widows and orphans.
            e.keep_with_next = i + 1 < lines || i + 2 == n || line.hyphenated;
            e.line_width = Some(line.width);
            e.baseline = Some(baseline);
            e
        })
        .collect();
    let first = out.first_mut()?;
    // Text extraction reads the letter with its word: the big glyphs carry no text and
    // the first glyph of the line carries the initial (the PDF writer turns both into
    // ActualText spans).
    let mut carried = false;
    if let Some(Item::Glyphs(r)) = first
        .items
        .iter_mut()
        .find(|i| matches!(i, Item::Glyphs(_)))
        && let Some(g) = r.glyphs.first_mut()
    {
        g.text = compact_str::format_compact!("{initial}{}", g.text);
        carried = true;
    }
    let letter_base = baseline + (lines - 1) as f32 * env.leading;
    for mut r in runs {
        r.y = letter_base;
        if carried {
            for g in &mut r.glyphs {
                g.text.clear();
            }
        }
        first.items.insert(0, Item::Glyphs(r));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_opening_punctuation_and_marks() {
        let (i, rest) = split_initial(&[Inline::text("“Stand on the quay")]).expect("initial");
        assert_eq!(i, "“S");
        assert_eq!(rest, vec![Inline::text("tand on the quay")]);
        let (i, _) = split_initial(&[Inline::text("e\u{301}té")]).expect("initial");
        assert_eq!(i, "e\u{301}");
        let em = [Inline::Emphasis {
            content: vec![Inline::text("Once")],
        }];
        let (i, rest) = split_initial(&em).expect("initial");
        assert_eq!(i, "O");
        assert_eq!(
            rest,
            vec![Inline::Emphasis {
                content: vec![Inline::text("nce")]
            }]
        );
        assert!(split_initial(&[Inline::text("— a dash first")]).is_none());
        assert!(split_initial(&[Inline::text("A")]).is_none());
        assert!(split_initial(&[Inline::Code { text: "x".into() }]).is_none());
    }
}
