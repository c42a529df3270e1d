//! Which font faces the book sets text in, and with which characters.
//!
//! The walk mirrors the stylesheet ([`super::css`]): a heading is in the heading family at the
//! theme's heading weight, a `<th>` is bold, an italic quote sets `<em>` upright, and so on.
//! Only faces that really set text are embedded, each subset to its own characters.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Block, Document, Inline, plain_text};
use crate::theme::{FaceStyle, Theme};

/// The font role a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Running text, title block (but the title), notes, captions, the contents list.
    Body,
    /// Headings, the title, drop caps.
    Heading,
    /// Code.
    Mono,
}

/// Text the writer adds around the document's own, for the character sets.
pub struct Extras<'a> {
    /// The book title as shown in the title block.
    pub title: &'a str,
    /// The byline as shown (with any "By " prefix).
    pub byline: Option<&'a str>,
    /// The date as shown.
    pub date: Option<&'a str>,
    /// Publisher and shown source URL line.
    pub source: Option<&'a str>,
    /// The "Retrieved …" line of a fetched page.
    pub retrieved: Option<&'a str>,
    /// Heading id → section number, when headings are numbered.
    pub numbers: &'a HashMap<String, String>,
    /// The drop cap's text (opening punctuation and first letter), if any.
    pub drop_cap: Option<&'a str>,
}

/// Characters per (role, face), plus every character that appears in the text itself.
#[derive(Default)]
pub struct Usage {
    /// What each face sets; a face absent here sets nothing.
    pub faces: BTreeMap<(Role, FaceStyle), BTreeSet<char>>,
    /// Characters the text really contains (not case variants added for CSS transforms), for
    /// the missing-character warnings.
    pub seen: BTreeSet<char>,
    /// ASCII characters already in `seen` and in each face's set: a book repeats the same
    /// few dozen letters hundreds of thousands of times, and a bit test is far cheaper than
    /// a tree search per character.
    ascii_seen: u128,
    ascii_faces: BTreeMap<(Role, FaceStyle), u128>,
}

/// Style state while walking: the role and whether the text is bold or italic.
#[derive(Clone, Copy)]
struct Ctx {
    role: Role,
    bold: bool,
    italic: bool,
    /// Inside an italic quote or caption, where the stylesheet sets `<em>` upright.
    em_upright: bool,
}

impl Ctx {
    const BODY: Ctx = Ctx {
        role: Role::Body,
        bold: false,
        italic: false,
        em_upright: false,
    };

    fn style(self) -> FaceStyle {
        match (self.bold, self.italic) {
            (false, false) => FaceStyle::Regular,
            (false, true) => FaceStyle::Italic,
            (true, false) => FaceStyle::Bold,
            (true, true) => FaceStyle::BoldItalic,
        }
    }
}

/// Always set in the body face: note and list numbers, the contents list's fixed entries.
const BODY_EXTRAS: &str = "0123456789.,:;[]()-–—‘’“”… CoverContents";

impl Usage {
    /// Collects the faces and characters `doc` needs under `theme`.
    pub fn of(doc: &Document, theme: &Theme, extras: &Extras) -> Usage {
        let mut u = Usage::default();
        let title_style = Ctx {
            role: Role::Body,
            ..Ctx::BODY
        };
        let heading = Ctx {
            role: Role::Heading,
            bold: theme.headings.bold,
            ..Ctx::BODY
        };
        let m = &doc.meta;
        if let Some(k) = m.kicker.as_deref() {
            let kicker = Ctx {
                italic: !theme.title.kicker_caps,
                ..title_style
            };
            u.add(kicker, k);
            if theme.title.kicker_caps {
                u.add_derived(kicker, &k.to_uppercase());
            }
        }
        u.add(
            Ctx {
                bold: theme.title.bold,
                ..heading
            },
            extras.title,
        );
        if let Some(s) = m.subtitle.as_deref() {
            u.add(
                Ctx {
                    italic: true,
                    ..title_style
                },
                s,
            );
        }
        if let Some(b) = extras.byline {
            // The byline is in small capitals, which reading systems draw from capitals.
            u.add(title_style, b);
            u.add_derived(title_style, &b.to_uppercase());
        }
        for s in [extras.date, extras.source, extras.retrieved]
            .into_iter()
            .flatten()
        {
            u.add(title_style, s);
        }
        // The contents list (nav.xhtml) repeats the title and headings in the body face
        // under an `<h1>` "Contents".
        u.add(Ctx::BODY, extras.title);
        u.add_derived(Ctx::BODY, BODY_EXTRAS);
        u.add_derived(heading, "Contents");
        if let Some(d) = extras.drop_cap {
            u.add_derived(heading, d);
        }
        if !extras.numbers.is_empty() {
            u.add_derived(heading, "0123456789.");
        }
        u.blocks(&doc.blocks, Ctx::BODY, theme, extras);
        u.faces.retain(|_, set| !set.is_empty());
        u
    }

    /// The faces used in `role`, in a fixed order.
    pub fn styles(&self, role: Role) -> Vec<FaceStyle> {
        FaceStyle::ALL
            .into_iter()
            .filter(|s| self.faces.contains_key(&(role, *s)))
            .collect()
    }

    /// Text from the document: counts for the warnings.
    fn add(&mut self, ctx: Ctx, text: &str) {
        self.insert(ctx, text, true);
    }

    /// Text the writer adds or derives (case variants, numbers): embedded, never warned about.
    fn add_derived(&mut self, ctx: Ctx, text: &str) {
        self.insert(ctx, text, false);
    }

    /// Adds `text`'s characters to the face `ctx` selects and, if `seen`, to `self.seen`.
    fn insert(&mut self, ctx: Ctx, text: &str, seen: bool) {
        let key = (ctx.role, ctx.style());
        let set = self.faces.entry(key).or_default();
        let ascii = self.ascii_faces.entry(key).or_default();
        for c in text.chars().filter(|c| !c.is_control()) {
            if c.is_ascii() {
                let bit = 1u128 << (c as u32);
                if *ascii & bit == 0 {
                    *ascii |= bit;
                    set.insert(c);
                }
                if seen && self.ascii_seen & bit == 0 {
                    self.ascii_seen |= bit;
                    self.seen.insert(c);
                }
            } else {
                set.insert(c);
                if seen {
                    self.seen.insert(c);
                }
            }
        }
    }

    fn blocks(&mut self, blocks: &[Block], ctx: Ctx, theme: &Theme, extras: &Extras) {
        for b in blocks {
            self.block(b, ctx, theme, extras);
        }
    }

    fn block(&mut self, block: &Block, ctx: Ctx, theme: &Theme, extras: &Extras) {
        match block {
            Block::Heading { content, .. } => {
                let h = Ctx {
                    role: Role::Heading,
                    bold: theme.headings.bold,
                    italic: false,
                    em_upright: false,
                };
                self.inlines(content, h);
                let text = plain_text(content);
                if theme.headings.small_caps {
                    self.add_derived(h, &text.to_uppercase());
                }
                // The contents list shows the heading in the body face.
                self.add(Ctx::BODY, &text);
            }
            Block::Paragraph { content } => self.inlines(content, ctx),
            Block::Quote { blocks } => {
                let italic = ctx.italic || theme.quote.italic;
                let q = Ctx {
                    italic,
                    em_upright: ctx.em_upright || theme.quote.italic,
                    ..ctx
                };
                self.blocks(blocks, q, theme, extras);
            }
            Block::FootnoteDef { blocks, .. } => self.blocks(blocks, ctx, theme, extras),
            Block::List(l) => {
                for item in &l.items {
                    if let Some(done) = item.task {
                        self.add(ctx, if done { "☑" } else { "☐" });
                    }
                    self.blocks(&item.blocks, ctx, theme, extras);
                }
            }
            Block::Code { text, .. } => self.add(
                Ctx {
                    role: Role::Mono,
                    ..Ctx::BODY
                },
                text,
            ),
            Block::Figure(f) => {
                let italic = theme.figure.caption_italic;
                let caption = Ctx {
                    italic,
                    em_upright: italic,
                    ..ctx
                };
                self.inlines(&f.caption, caption);
                // Shown only when the image is missing, in italic.
                self.add(
                    Ctx {
                        italic: true,
                        ..ctx
                    },
                    &f.image.alt,
                );
                self.add_derived(ctx, "[image]");
            }
            Block::Table(t) => {
                let th = Ctx { bold: true, ..ctx };
                for c in t.header.iter().flatten() {
                    self.inlines(&c.content, th);
                }
                for c in t.rows.iter().flatten() {
                    self.inlines(&c.content, ctx);
                }
                self.inlines(
                    &t.caption,
                    Ctx {
                        italic: true,
                        ..ctx
                    },
                );
            }
            Block::Rule => {}
            Block::RawHtml { html } => self.add(ctx, &crate::write::raw_html::text_of(html)),
            Block::Article { meta, .. } => {
                // A bundled article's own title block: title in the heading face, the
                // rest in the body face (italic subtitle and date, capitals in the kicker).
                let h = Ctx {
                    role: Role::Heading,
                    bold: theme.title.bold,
                    italic: false,
                    em_upright: false,
                };
                if let Some(t) = &meta.title {
                    self.add(h, t);
                    self.add(Ctx::BODY, t);
                }
                if let Some(k) = &meta.kicker {
                    self.add_derived(h, &k.to_uppercase());
                    self.add(Ctx { italic: true, ..h }, k);
                }
                let it = Ctx {
                    italic: true,
                    ..Ctx::BODY
                };
                for s in [
                    &meta.subtitle,
                    &meta.date,
                    &meta.publisher,
                    &meta.source_url,
                ]
                .into_iter()
                .flatten()
                {
                    self.add(it, s);
                    self.add(Ctx::BODY, s);
                }
                if let Some(d) = &meta.date {
                    self.add(it, &crate::model::date::display(d));
                }
                if let Some(b) = meta.byline() {
                    self.add(Ctx::BODY, &format!("By {b}"));
                }
            }
        }
    }

    fn inlines(&mut self, inlines: &[Inline], ctx: Ctx) {
        for i in inlines {
            match i {
                Inline::Text { text } => self.add(ctx, text),
                Inline::Emphasis { content } => self.inlines(
                    content,
                    Ctx {
                        italic: !ctx.em_upright,
                        ..ctx
                    },
                ),
                Inline::Strong { content } => self.inlines(content, Ctx { bold: true, ..ctx }),
                Inline::Code { text } => self.add(
                    Ctx {
                        role: Role::Mono,
                        ..ctx
                    },
                    text,
                ),
                Inline::Image(img) => self.add(
                    Ctx {
                        italic: true,
                        ..ctx
                    },
                    &img.alt,
                ),
                Inline::FootnoteRef { label } => self.add_derived(ctx, label),
                other => {
                    if let Some(c) = other.children() {
                        self.inlines(c, ctx)
                    }
                }
            }
        }
    }
}
