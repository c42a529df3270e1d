//! The PDF's table of contents: one entry per heading, dot leaders, page numbers, and a
//! link from every entry to its heading.
//!
//! Entries are laid out with a number column of fixed width, so their heights do not
//! depend on the page numbers: the document is paginated once with placeholder numbers
//! to learn where each heading falls, and the contents are then set again with the real
//! numbers without moving anything.

use std::collections::HashMap;

use super::blocks::{Ctx, Elem, Env, shift_item};
use super::fonts::Role;
use super::page::{GlyphRun, Item, LinkTarget, PositionedGlyph};
use super::paragraph::{self, Align, ParaSpec, TextLook};
use crate::model::{self, Block, Inline};

/// Whether the PDF gets a contents list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ContentsMode {
    /// For documents with at least three top-level sections that run to several pages.
    #[default]
    Auto,
    /// Whenever the document has headings.
    Always,
    /// Never.
    Never,
}

/// Fewest top-level sections for an automatic contents list.
pub(crate) const AUTO_MIN_SECTIONS: usize = 3;
/// Fewest pages (without contents) for an automatic contents list.
pub(crate) const AUTO_MIN_PAGES: usize = 8;

/// One line of the contents.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// Depth below the top heading level: 0 for the top level.
    pub depth: u8,
    /// Heading text.
    pub title: String,
    /// Destination name of the heading.
    pub id: String,
}

/// The headings of `blocks` down to `max_depth` levels below the top one, in order. In a
/// book, articles are the top level and each article's headings nest below its title.
pub(crate) fn entries(blocks: &[Block], max_depth: u8) -> Vec<Entry> {
    let book = blocks.iter().any(|b| matches!(b, Block::Article { .. }));
    let top = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .min()
        .unwrap_or(1);
    let below = u8::from(book);
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, id, content } => {
                let title = model::plain_text(content).trim().to_string();
                let depth = level - top + below;
                (depth < max_depth.max(1) && !title.is_empty()).then(|| Entry {
                    depth,
                    title,
                    id: id.clone(),
                })
            }
            Block::Article { id, meta } => Some(Entry {
                depth: 0,
                title: meta
                    .title
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "Untitled".into()),
                id: id.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The word for "Contents" in the document's language.
fn caption(lang: &str) -> &'static str {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    match primary.to_ascii_lowercase().as_str() {
        "de" => "Inhalt",
        "fr" => "Table des matières",
        "es" => "Índice",
        "it" => "Indice",
        "pt" => "Sumário",
        "nl" => "Inhoud",
        "sv" | "da" | "no" | "nb" | "nn" => "Innehåll",
        "fi" => "Sisällys",
        "pl" => "Spis treści",
        "cs" => "Obsah",
        "ru" => "Содержание",
        "uk" => "Зміст",
        "el" => "Περιεχόμενα",
        "tr" => "İçindekiler",
        _ => "Contents",
    }
}

/// Lays out the contents. `pages` maps heading ids to 1-based page numbers (missing ids
/// show no number); `digits` is the widest page number to leave room for.
pub(crate) fn elems(
    ctx: &mut Ctx,
    entries: &[Entry],
    pages: &HashMap<String, usize>,
    digits: usize,
    env: &Env,
) -> Vec<Elem> {
    let mut out = Vec::new();
    if entries.is_empty() {
        return out;
    }
    let size = env.size;
    let heading = ParaSpec {
        look: TextLook {
            role: Role::Heading,
            size: size * ctx.theme.headings.sizes[1],
            bold: ctx.theme.headings.bold,
            italic: false,
            color: ctx.palette.heading,
            tracking: 0.0,
        },
        leading: size * ctx.theme.headings.sizes[1] * 1.2,
        align: Align::Left,
        hyphenate: false,
        indent: 0.0,
        width: env.width,
    };
    let cap = caption(&ctx.lang);
    let mut head = ctx.text_elems(&[Inline::text(cap)], &heading, env.left);
    for e in &mut head {
        e.keep_with_next = true;
    }
    out.extend(head);
    out.push(Elem {
        keep_with_next: true,
        discardable: true,
        ..Elem::new(size * 0.8)
    });

    let face = ctx.fonts.face_for(Role::Body, false, false);
    // Advances in em.
    let em = |c: char| {
        ctx.fonts.face(face).and_then(|f| {
            let upem = f32::from(f.units_per_em().max(1));
            Some((f.glyph_id(c)?, f.char_advance(c)? / upem))
        })
    };
    let digit_w = em('0').map_or(0.5, |(_, a)| a) * size;
    let number_col = digit_w * digits.max(1) as f32 + size;
    let leader = em('.');
    let pitch = size * 0.55;
    for (i, entry) in entries.iter().enumerate() {
        let top = entry.depth == 0;
        let indent = f32::from(entry.depth) * size * 1.5;
        if top && i > 0 {
            out.push(Elem {
                discardable: true,
                ..Elem::new(size * 0.35)
            });
        }
        let spec = ParaSpec {
            look: TextLook {
                role: Role::Body,
                size,
                bold: false,
                italic: !top,
                color: ctx.palette.text,
                tracking: 0.0,
            },
            leading: env.leading,
            align: Align::Left,
            hyphenate: false,
            indent: 0.0,
            width: (env.width - indent - number_col).max(size * 4.0),
        };
        let baseline = paragraph::baseline_offset(ctx, &spec);
        let label = match ctx.numbers.get(&entry.id) {
            Some(n) => format!("{n}\u{2002}{}", entry.title),
            None => entry.title.clone(),
        };
        let lines = paragraph::set_lines(ctx, &[Inline::text(label)], &spec);
        let n = lines.len();
        for (li, line) in lines.into_iter().enumerate() {
            let mut e = Elem::new(env.leading);
            for mut it in line.items {
                if matches!(it, Item::Link { .. }) {
                    continue;
                }
                shift_item(&mut it, env.left + indent, baseline);
                e.items.push(it);
            }
            if li + 1 == n {
                let number = pages.get(&entry.id).map(usize::to_string);
                let text_end = env.left + indent + line.width + size * 0.4;
                let num_start = env.left + env.width - number_col + size * 0.6;
                if let (Some(_), Some((gid, adv))) = (&number, leader) {
                    // Dots on a common grid so leaders line up from entry to entry.
                    let first = ((text_end - env.left) / pitch).ceil() as i64;
                    let last = ((num_start - env.left) / pitch).floor() as i64 - 1;
                    if last >= first {
                        let count = usize::try_from(last - first + 1).unwrap_or(0);
                        let glyphs = (0..count)
                            .map(|_| PositionedGlyph {
                                id: gid,
                                advance: pitch,
                                x_offset: (pitch - adv * size) / 2.0,
                                y_offset: 0.0,
                                text: ".".into(),
                            })
                            .collect();
                        e.items.push(Item::Glyphs(GlyphRun {
                            face,
                            size,
                            x: env.left + first as f32 * pitch,
                            y: baseline,
                            color: ctx.palette.rule,
                            glyphs,
                        }));
                    }
                }
                if let Some(number) = number {
                    let num_spec = ParaSpec {
                        align: Align::Right,
                        width: env.width,
                        look: TextLook {
                            italic: false,
                            ..spec.look
                        },
                        ..spec
                    };
                    for l in paragraph::set_lines(ctx, &[Inline::text(number)], &num_spec) {
                        for mut it in l.items {
                            shift_item(&mut it, env.left, baseline);
                            e.items.push(it);
                        }
                    }
                }
            }
            e.items.push(Item::Link {
                x: env.left + indent,
                y: 0.0,
                width: env.width - indent,
                height: env.leading,
                target: LinkTarget::Internal(entry.id.clone()),
            });
            // An entry's lines stay together.
            e.keep_with_next = li + 1 < n;
            e.line_width = Some(line.width);
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Format, read_bytes};

    #[test]
    fn entries_follow_depth_and_skip_empty_headings() {
        let doc = read_bytes(
            "t.md",
            b"## One\n\ntext\n\n### One.a\n\n#### deep\n\n## Two\n\n##  \n",
            Format::Markdown,
        )
        .expect("markdown")
        .document;
        let e = entries(&doc.blocks, 2);
        let got: Vec<(u8, &str)> = e.iter().map(|e| (e.depth, e.title.as_str())).collect();
        assert_eq!(got, vec![(0, "One"), (1, "One.a"), (0, "Two")]);
        assert_eq!(entries(&doc.blocks, 1).len(), 2);
    }

    #[test]
    fn caption_follows_language() {
        assert_eq!(caption("de-AT"), "Inhalt");
        assert_eq!(caption("en"), "Contents");
        assert_eq!(caption(""), "Contents");
    }
}
