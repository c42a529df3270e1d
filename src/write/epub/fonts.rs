//! Embedding the theme's fonts, subset to the characters the book uses.

use std::collections::BTreeSet;

use crate::model::{Block, Document, Inline};
use crate::theme::{FaceStyle, FontFamily, Theme};

use super::css::EmbeddedFace;

/// A font file to add to the EPUB.
pub struct FontFile {
    /// Path inside the EPUB's content folder.
    pub href: String,
    /// The (subset) font.
    pub data: Vec<u8>,
    /// For the stylesheet.
    pub face: EmbeddedFace,
}

/// Characters used by a document, split by whether they appear in code.
#[derive(Default)]
pub struct CharUse {
    /// Everything set in the text faces (body, headings, title block).
    pub text: BTreeSet<char>,
    /// Everything set in the monospace face.
    pub mono: BTreeSet<char>,
}

impl CharUse {
    /// Collects the characters of `doc`, plus `extra` strings shown by the writer (title block labels).
    pub fn of(doc: &Document, extra: &[&str]) -> CharUse {
        let mut u = CharUse::default();
        let m = &doc.meta;
        for s in [
            &m.title,
            &m.subtitle,
            &m.kicker,
            &m.date,
            &m.publisher,
            &m.source_url,
        ]
        .into_iter()
        .flatten()
        {
            u.text.extend(s.chars());
        }
        for a in &m.authors {
            u.text.extend(a.chars());
        }
        for s in extra {
            u.text.extend(s.chars());
        }
        u.blocks(&doc.blocks);
        // Case changes through CSS (kickers, small caps) need both cases; numbers label notes and lists.
        let cased: Vec<char> = u
            .text
            .iter()
            .flat_map(|c| c.to_uppercase().chain(c.to_lowercase()))
            .collect();
        u.text.extend(cased);
        u.text.extend("0123456789.,:;[]()-–—‘’“”… ".chars());
        if !u.mono.is_empty() {
            u.mono.extend(" ↵".chars());
        }
        u.text.retain(|c| !c.is_control());
        u.mono.retain(|c| !c.is_control());
        u
    }

    fn blocks(&mut self, blocks: &[Block]) {
        for b in blocks {
            match b {
                Block::Heading { content, .. } | Block::Paragraph { content } => {
                    self.inlines(content)
                }
                Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => self.blocks(blocks),
                Block::List(l) => l.items.iter().for_each(|i| self.blocks(&i.blocks)),
                Block::Code { text, .. } => self.mono.extend(text.chars()),
                Block::Figure(f) => {
                    self.text.extend(f.image.alt.chars());
                    self.inlines(&f.caption);
                }
                Block::Table(t) => {
                    for c in t.header.iter().flatten().chain(t.rows.iter().flatten()) {
                        self.inlines(&c.content);
                    }
                    self.inlines(&t.caption);
                }
                Block::Rule | Block::Article { .. } => {}
                Block::RawHtml { html } => self
                    .text
                    .extend(crate::write::raw_html::text_of(html).chars()),
            }
        }
    }

    fn inlines(&mut self, inlines: &[Inline]) {
        for i in inlines {
            match i {
                Inline::Text { text } => self.text.extend(text.chars()),
                Inline::Code { text } => self.mono.extend(text.chars()),
                Inline::Image(img) => self.text.extend(img.alt.chars()),
                other => {
                    if let Some(c) = other.children() {
                        self.inlines(c)
                    }
                }
            }
        }
    }
}

/// Subsets every face the book needs. A face that cannot be subset is embedded whole, with a warning.
pub fn embed(theme: &Theme, chars: &CharUse, warnings: &mut Vec<String>) -> Vec<FontFile> {
    let mut files = Vec::new();
    let mut families: Vec<(String, &FontFamily, BTreeSet<char>)> =
        vec![("body".into(), &theme.fonts.body, chars.text.clone())];
    if let Some(h) = &theme.fonts.heading
        && h.family != theme.fonts.body.family
    {
        families.push(("heading".into(), h, chars.text.clone()));
    }
    if !chars.mono.is_empty() {
        families.push(("mono".into(), &theme.fonts.mono, chars.mono.clone()));
    }
    // Characters the body face lacks go to the theme's fallback families, each given only
    // what the faces before it could not set; families with nothing to set are left out.
    let mut uncovered: BTreeSet<char> = theme
        .face_data(&theme.fonts.body, FaceStyle::Regular)
        .and_then(|d| crate::font::subset::subset_for_chars(&d, chars.text.iter().copied()).ok())
        .map(|s| {
            s.missing_chars()
                .iter()
                .copied()
                .filter(|c| !c.is_whitespace())
                .collect()
        })
        .unwrap_or_default();
    for (i, fallback) in theme.fonts.fallbacks.iter().enumerate() {
        if uncovered.is_empty() {
            break;
        }
        let Some(data) = theme.face_data(fallback, FaceStyle::Regular) else {
            continue;
        };
        let Ok(sub) = crate::font::subset::subset_for_chars(&data, uncovered.iter().copied())
        else {
            continue;
        };
        let missing: BTreeSet<char> = sub.missing_chars().iter().copied().collect();
        let covered: BTreeSet<char> = uncovered.difference(&missing).copied().collect();
        if !covered.is_empty() {
            families.push((format!("fallback{}", i + 1), fallback, covered));
            uncovered = missing;
        }
    }
    for (role, family, set) in families {
        for style in FaceStyle::ALL {
            let Some(data) = theme.face_data(family, style) else {
                continue;
            };
            let data = match crate::font::subset::subset_for_chars(&data, set.iter().copied()) {
                Ok(sub) => sub.data,
                Err(e) => {
                    warnings.push(format!(
                        "font {} {}: cannot subset ({e}); embedding the whole font",
                        family.family,
                        style.key()
                    ));
                    data.into_owned()
                }
            };
            let href = format!("fonts/{role}-{}.ttf", style.key().replace('_', "-"));
            files.push(FontFile {
                face: EmbeddedFace {
                    family: family.family.clone(),
                    style,
                    href: href.clone(),
                },
                href,
                data,
            });
        }
    }
    files
}
