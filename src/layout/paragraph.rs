//! Paragraphs: inline content → Knuth–Plass items → lines of positioned glyph runs.
//!
//! Text is flattened to one string with style spans, so UAX #14 sees the whole paragraph;
//! the pieces between break opportunities are shaped word by word through the cache.
//! Justification goes into the advances of real space glyphs (the PDF writer takes every
//! advance as final, and `pdftotext` needs the spaces to see word gaps).

use std::sync::Arc;

use super::blocks::{Ctx, Elem};
use super::fonts::Role;
use super::linebreak::{self, INFINITY, Item as Kp, LineWidths, Params};
use super::page::{GlyphRun, Item, LinkTarget, PositionedGlyph, Rgb};
use super::shape::{BreakKind, break_opportunities};
use crate::model::Inline;
use crate::write::links::{self, Target};

/// Horizontal alignment of a paragraph's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Both edges flush (the last line ragged).
    Justify,
    /// Ragged right.
    Left,
    /// Each line centred.
    Center,
    /// Ragged left.
    Right,
}

/// The base look of a paragraph's text, before inline styles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextLook {
    /// Font role.
    pub role: Role,
    /// Size in points.
    pub size: f32,
    /// Bold by default (headings).
    pub bold: bool,
    /// Italic by default (captions, subtitles).
    pub italic: bool,
    /// Text colour.
    pub color: Rgb,
    /// Extra space after every glyph, in em (letter-spaced kickers).
    pub tracking: f32,
}

/// How one paragraph is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ParaSpec {
    /// Text look.
    pub look: TextLook,
    /// Baseline-to-baseline distance, in points.
    pub leading: f32,
    /// Line alignment.
    pub align: Align,
    /// Whether words may be hyphenated.
    pub hyphenate: bool,
    /// First-line indent, in points.
    pub indent: f32,
    /// Measure, in points.
    pub width: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shift {
    None,
    Sup,
    Sub,
}

/// Style of a stretch of the flattened text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SpanStyle {
    bold: bool,
    italic: bool,
    mono: bool,
    shift: Shift,
    strike: bool,
    link: Option<u32>,
    /// Footnote number, for the reference mark.
    note: Option<u32>,
}

impl SpanStyle {
    /// Upright, regular, unlinked text.
    const PLAIN: SpanStyle = SpanStyle {
        bold: false,
        italic: false,
        mono: false,
        shift: Shift::None,
        strike: false,
        link: None,
        note: None,
    };
}

/// A paragraph as one string plus style spans (start byte, style), sorted.
struct Flat {
    text: String,
    spans: Vec<(usize, SpanStyle)>,
    links: Vec<LinkTarget>,
}

impl Flat {
    fn push(&mut self, text: &str, style: SpanStyle) {
        if text.is_empty() {
            return;
        }
        if self.spans.last().is_none_or(|(_, s)| *s != style) {
            self.spans.push((self.text.len(), style));
        }
        self.text.push_str(text);
    }

    /// Spans overlapping `range`, clipped, as (start, end, style).
    fn pieces(&self, start: usize, end: usize) -> Vec<(usize, usize, SpanStyle)> {
        let first = self.spans.partition_point(|(s, _)| *s <= start).max(1) - 1;
        let mut out = Vec::new();
        for (k, (s, style)) in self.spans.iter().enumerate().skip(first) {
            if *s >= end {
                break;
            }
            let e = self.spans.get(k + 1).map_or(self.text.len(), |n| n.0);
            let (a, b) = ((*s).max(start), e.min(end));
            if a < b {
                out.push((a, b, *style));
            }
        }
        out
    }
}

fn flatten(ctx: &mut Ctx, inlines: &[Inline], style: SpanStyle, flat: &mut Flat) {
    for inline in inlines {
        match inline {
            Inline::Text { text } => {
                let clean: String = text
                    .chars()
                    .map(|c| {
                        if matches!(c, '\n' | '\r' | '\t') {
                            ' '
                        } else {
                            c
                        }
                    })
                    .collect();
                flat.push(&clean, style);
            }
            Inline::Emphasis { content } => flatten(
                ctx,
                content,
                SpanStyle {
                    italic: !style.italic || style.mono,
                    ..style
                },
                flat,
            ),
            Inline::Strong { content } => flatten(
                ctx,
                content,
                SpanStyle {
                    bold: true,
                    ..style
                },
                flat,
            ),
            Inline::Strikethrough { content } => flatten(
                ctx,
                content,
                SpanStyle {
                    strike: true,
                    ..style
                },
                flat,
            ),
            Inline::Superscript { content } => flatten(
                ctx,
                content,
                SpanStyle {
                    shift: Shift::Sup,
                    ..style
                },
                flat,
            ),
            Inline::Subscript { content } => flatten(
                ctx,
                content,
                SpanStyle {
                    shift: Shift::Sub,
                    ..style
                },
                flat,
            ),
            Inline::Code { text } => {
                let clean: String = text
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                flat.push(
                    &clean,
                    SpanStyle {
                        mono: true,
                        ..style
                    },
                );
            }
            Inline::Link { url, content, .. } => {
                let target = match links::classify(url, ctx.base_url.as_deref()) {
                    Target::Fragment(id) if ctx.ids.contains(id) => {
                        Some(LinkTarget::Internal(id.to_string()))
                    }
                    Target::Absolute(u) => Some(LinkTarget::Uri(u)),
                    _ => None,
                };
                let link = target.map(|t| {
                    flat.links.push(t);
                    u32::try_from(flat.links.len() - 1).unwrap_or(u32::MAX)
                });
                flatten(
                    ctx,
                    content,
                    SpanStyle {
                        link: link.or(style.link),
                        ..style
                    },
                    flat,
                );
            }
            Inline::Image(img) => {
                let alt = img.alt.trim();
                if !alt.is_empty() {
                    flat.push(
                        alt,
                        SpanStyle {
                            italic: true,
                            ..style
                        },
                    );
                }
            }
            Inline::FootnoteRef { label } => match ctx.notes.get(label).copied() {
                Some(n) => {
                    flat.links.push(LinkTarget::Internal(format!("fn-{n}")));
                    let link = u32::try_from(flat.links.len() - 1).ok();
                    flat.push(
                        &n.to_string(),
                        SpanStyle {
                            shift: Shift::Sup,
                            note: Some(n),
                            link,
                            ..style
                        },
                    );
                }
                None => {
                    ctx.warnings.push(format!(
                        "footnote [^{label}] is referenced but never defined"
                    ));
                    flat.push(&format!("[{label}]"), style);
                }
            },
            Inline::LineBreak => flat.push("\n", style),
            Inline::RawHtml { html } => {
                let t = crate::write::raw_html::text_of(html);
                flat.push(&t, style);
            }
        }
    }
}

/// What a Knuth–Plass item stands for when the line is drawn.
#[derive(Debug, Clone)]
enum Meta {
    /// Nothing to draw (indent boxes, ragged-right helpers, forced breaks).
    None,
    /// Glyphs.
    Piece(Piece),
    /// A word space: the space glyph to stretch.
    Space(Piece),
    /// A hyphen shown when the line breaks here.
    Hyphen(Piece),
}

/// Glyphs of one face, size and style.
#[derive(Debug, Clone)]
struct Piece {
    face: usize,
    size: f32,
    rise: f32,
    color: Rgb,
    tracking: f32,
    glyphs: Arc<[PositionedGlyph]>,
    link: Option<u32>,
    note: Option<u32>,
    strike: bool,
}

struct Builder<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    spec: ParaSpec,
    items: Vec<Kp<usize>>,
    meta: Vec<Meta>,
    emergency: bool,
}

impl Builder<'_, '_> {
    fn add(&mut self, item: Kp<usize>, meta: Meta) {
        self.items.push(item);
        self.meta.push(meta);
    }

    fn face_size(&self, style: &SpanStyle) -> (usize, f32, f32) {
        let look = &self.spec.look;
        let role = if style.mono { Role::Mono } else { look.role };
        let face = self.ctx.fonts.face_for(
            role,
            look.bold || style.bold,
            (look.italic || style.italic) && !style.mono,
        );
        let mut size = look.size;
        if style.mono && look.role != Role::Mono {
            // Monospace faces run large beside book faces.
            size *= 0.86;
        }
        let rise = match style.shift {
            Shift::None => 0.0,
            Shift::Sup => {
                size *= 0.66;
                look.size * 0.36
            }
            Shift::Sub => {
                size *= 0.66;
                -look.size * 0.14
            }
        };
        (face, size, rise)
    }

    fn color(&self, style: &SpanStyle, flat: &Flat) -> Rgb {
        match style.link.and_then(|l| flat.links.get(l as usize)) {
            Some(LinkTarget::Uri(_)) if style.note.is_none() => self.ctx.palette.link,
            _ => self.spec.look.color,
        }
    }

    fn shape(&mut self, text: &str, face: usize, size: f32) -> Arc<super::shape::Shaped> {
        let shaped = self.ctx.cache.shape(
            &self.ctx.fonts,
            face,
            size,
            text,
            Some(self.ctx.lang.as_str()),
        );
        for &c in &shaped.missing {
            self.ctx.missing.insert(c);
        }
        shaped
    }

    /// A piece of `text` in one style, split at hyphenation points when allowed
    /// (`urlish`: part of a URL, path or address, which a hyphen would corrupt).
    fn word(&mut self, flat: &Flat, a: usize, b: usize, style: SpanStyle, urlish: bool) {
        let text = &flat.text[a..b];
        let (face, size, rise) = self.face_size(&style);
        let color = self.color(&style, flat);
        let tracking = self.spec.look.tracking * size;
        let shaped = self.shape(text, face, size);
        let points = if self.spec.hyphenate && !style.mono && !urlish {
            let ctx = &mut *self.ctx;
            ctx.hyphens.points(text, &ctx.lang)
        } else {
            Vec::new()
        };
        let hyphen = (!points.is_empty()).then(|| self.shape("-", face, size));
        let base = Piece {
            face,
            size,
            rise,
            color,
            tracking,
            glyphs: Arc::from(Vec::new()),
            link: style.link,
            note: style.note,
            strike: style.strike,
        };
        for run in &shaped.runs {
            // Byte offset (in `text`) where each glyph's cluster starts; None inside a cluster.
            let mut offset = run.range.start;
            // (glyph index, kind): 0 hyphenation point, 1 emergency break after
            // punctuation, 2 emergency break anywhere.
            let mut cuts: Vec<(usize, u8)> = Vec::new();
            let wide = self.emergency && run.width > self.spec.width * 0.3;
            let mut prev_text = "";
            for (gi, g) in run.glyphs.iter().enumerate() {
                if !g.text.is_empty() {
                    if gi > 0 {
                        if points.contains(&offset) {
                            cuts.push((gi, 0));
                        } else if wide {
                            let after_punct = prev_text
                                .ends_with(['.', '/', '(', '_', '-', '{', ',', ':', '=', '&', '?']);
                            cuts.push((gi, if after_punct { 1 } else { 2 }));
                        }
                    }
                    offset += g.text.len();
                    prev_text = &g.text;
                }
            }
            let mut from = 0;
            let n = run.glyphs.len();
            for (cut, kind) in cuts.into_iter().chain(std::iter::once((n, 0))) {
                let glyphs: Arc<[PositionedGlyph]> = run.glyphs[from..cut].into();
                let width: f32 = glyphs.iter().map(|g| g.advance + tracking).sum();
                let piece = Piece {
                    face: run.face,
                    glyphs,
                    ..base.clone()
                };
                self.add(
                    Kp::Box {
                        width,
                        content: self.meta.len(),
                    },
                    Meta::Piece(piece),
                );
                if cut < n {
                    if kind == 0 {
                        let h = hyphen.as_ref();
                        let glyphs: Arc<[PositionedGlyph]> = h
                            .map(|h| h.glyphs().map(|(_, g)| g.clone()).collect::<Vec<_>>())
                            .unwrap_or_default()
                            .into();
                        let width = h.map_or(0.0, |h| h.width);
                        self.add(
                            Kp::Penalty {
                                width,
                                penalty: 50.0,
                                flagged: true,
                            },
                            Meta::Hyphen(Piece {
                                face,
                                glyphs,
                                link: None,
                                note: None,
                                strike: false,
                                ..base.clone()
                            }),
                        );
                    } else {
                        self.add(
                            Kp::Penalty {
                                width: 0.0,
                                penalty: if kind == 1 { 300.0 } else { 1000.0 },
                                flagged: false,
                            },
                            Meta::None,
                        );
                    }
                }
                from = cut;
            }
        }
    }

    fn space(&mut self, flat: &Flat, style: SpanStyle) {
        let (face, size, rise) = self.face_size(&SpanStyle {
            shift: Shift::None,
            ..style
        });
        let _ = rise;
        let shaped = self.shape(" ", face, size);
        let glyphs: Vec<PositionedGlyph> = shaped.glyphs().map(|(_, g)| g.clone()).collect();
        let width = shaped.width.max(size * 0.2);
        let piece = Piece {
            face: shaped.runs.first().map_or(face, |r| r.face),
            size,
            rise: 0.0,
            color: self.color(&style, flat),
            tracking: 0.0,
            glyphs: glyphs.into(),
            link: style.link,
            note: None,
            strike: style.strike,
        };
        match self.spec.align {
            Align::Justify => self.add(
                Kp::Glue {
                    width,
                    stretch: width * 0.6,
                    shrink: width * 0.3,
                },
                Meta::Space(piece),
            ),
            _ => {
                // TeX's \raggedright: stretch only where the line ends.
                let s = self.spec.look.size * 3.0;
                self.add(
                    Kp::Glue {
                        width: 0.0,
                        stretch: s,
                        shrink: 0.0,
                    },
                    Meta::None,
                );
                self.add(
                    Kp::Penalty {
                        width: 0.0,
                        penalty: 0.0,
                        flagged: false,
                    },
                    Meta::None,
                );
                self.add(
                    Kp::Glue {
                        width,
                        stretch: -s,
                        shrink: 0.0,
                    },
                    Meta::Space(piece),
                );
            }
        }
    }

    fn forced_break(&mut self) {
        self.add(
            Kp::Glue {
                width: 0.0,
                stretch: INFINITY,
                shrink: 0.0,
            },
            Meta::None,
        );
        self.add(
            Kp::Penalty {
                width: 0.0,
                penalty: -INFINITY,
                flagged: false,
            },
            Meta::None,
        );
    }

    fn build(&mut self, flat: &Flat) {
        if self.spec.indent > 0.0 {
            self.add(
                Kp::Box {
                    width: self.spec.indent,
                    content: 0,
                },
                Meta::None,
            );
        }
        let opps = break_opportunities(&flat.text);
        let mut prev = 0;
        let mut has_box = false;
        let tokens = url_like_tokens(&flat.text);
        let total = opps.len();
        for (k, (pos, kind)) in opps.into_iter().enumerate() {
            let seg = &flat.text[prev..pos];
            let content_len = seg.trim_end_matches([' ', '\n']).len();
            let ws = &seg[content_len..];
            let t = tokens.partition_point(|r| r.1 <= prev);
            let urlish = tokens.get(t).is_some_and(|r| r.0 <= prev && prev < r.1);
            for (a, b, style) in flat.pieces(prev, prev + content_len) {
                self.word(flat, a, b, style, urlish);
                has_box = true;
            }
            let last = k + 1 == total;
            if ws.contains('\n') {
                if has_box && !last {
                    self.forced_break();
                }
            } else if !ws.is_empty() {
                if has_box && !last {
                    let style = flat
                        .pieces(prev + content_len, pos)
                        .first()
                        .map(|p| p.2)
                        .unwrap_or(SpanStyle::PLAIN);
                    self.space(flat, style);
                }
            } else if kind == BreakKind::Allowed && !last && content_len > 0 {
                let explicit_hyphen = seg.ends_with(['-', '‐', '‑']);
                self.add(
                    Kp::Penalty {
                        width: 0.0,
                        penalty: if explicit_hyphen { 50.0 } else { 100.0 },
                        flagged: explicit_hyphen,
                    },
                    Meta::None,
                );
            }
            prev = pos;
        }
        self.forced_break();
    }
}

/// Byte ranges of whitespace-delimited tokens that look like URLs, paths or addresses.
fn url_like_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes = text.as_bytes();
    for i in 0..=bytes.len() {
        let ws = i == bytes.len() || bytes[i] == b' ' || bytes[i] == b'\n';
        match (ws, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                let tok = &text[s..i];
                let core = tok.trim_matches(|c: char| !c.is_alphanumeric());
                if core.contains(['/', '@', '\\', '_', '=', '#', '?', '&', '.']) {
                    out.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// One typeset line: items relative to the line's left end and its baseline (y = 0).
#[derive(Debug, Clone, Default)]
pub(crate) struct LineOut {
    /// What to draw.
    pub items: Vec<Item>,
    /// Footnotes first referenced on this line.
    pub notes: Vec<u32>,
    /// Natural width of the content, in points.
    pub width: f32,
    /// The line could not be fitted to the measure.
    pub overfull: bool,
    /// The line ends with a hyphen.
    pub hyphenated: bool,
}

/// Glyph runs built up left to right.
struct RunSink {
    items: Vec<Item>,
    current: Option<GlyphRun>,
}

impl RunSink {
    fn push(&mut self, x: f32, piece: &Piece, glyph: PositionedGlyph) {
        let key_matches = self.current.as_ref().is_some_and(|r| {
            r.face == piece.face
                && r.size == piece.size
                && r.y == -piece.rise
                && r.color == piece.color
        });
        if !key_matches {
            self.flush();
            self.current = Some(GlyphRun {
                face: piece.face,
                size: piece.size,
                x,
                y: -piece.rise,
                color: piece.color,
                glyphs: Vec::new(),
            });
        }
        if let Some(r) = self.current.as_mut() {
            r.glyphs.push(glyph);
        }
    }

    fn flush(&mut self) {
        if let Some(r) = self.current.take()
            && !r.glyphs.is_empty()
        {
            self.items.push(Item::Glyphs(r));
        }
    }
}

/// Largest adjustment ratio drawn in justified text (spaces at most 1.9× natural width).
const MAX_STRETCH: f32 = 1.5;

/// Room kept free at the start of a paragraph's first lines (for a drop cap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hang {
    /// How many lines are shortened.
    pub lines: usize,
    /// By how much, in points, on the left.
    pub width: f32,
}

/// Sets a paragraph of `inlines` as lines.
pub(crate) fn set_lines(ctx: &mut Ctx, inlines: &[Inline], spec: &ParaSpec) -> Vec<LineOut> {
    set_lines_hanging(ctx, inlines, spec, None)
}

/// Sets a paragraph whose first lines leave room at the left (`hang`).
pub(crate) fn set_lines_hanging(
    ctx: &mut Ctx,
    inlines: &[Inline],
    spec: &ParaSpec,
    hang: Option<Hang>,
) -> Vec<LineOut> {
    let mut flat = Flat {
        text: String::new(),
        spans: Vec::new(),
        links: Vec::new(),
    };
    flatten(ctx, inlines, SpanStyle::PLAIN, &mut flat);
    // Leading spaces would become glue before the first word.
    let lead = flat.text.len() - flat.text.trim_start_matches([' ', '\n']).len();
    if lead > 0 {
        flat.text.replace_range(..lead, "");
        for (s, _) in &mut flat.spans {
            *s = s.saturating_sub(lead);
        }
        let mut dedup: Vec<(usize, SpanStyle)> = Vec::new();
        for (s, st) in flat.spans.drain(..) {
            if dedup.last().is_some_and(|(ls, _)| *ls == s) {
                dedup.pop();
            }
            dedup.push((s, st));
        }
        flat.spans = dedup;
    }
    let trimmed = flat.text.trim_end_matches([' ', '\n']).len();
    flat.text.truncate(trimmed);
    if flat.text.is_empty() {
        return Vec::new();
    }
    if flat.text.len() > MAX_PARAGRAPH_BYTES {
        // Total-fit over megabytes of text costs memory and time out of all proportion:
        // such a paragraph is set in pieces, each a paragraph of its own to the breaker.
        ctx.warnings.push(format!(
            "a paragraph of {} KB was set in pieces of {} KB (its line breaks are not optimal across them)",
            flat.text.len() / 1024,
            MAX_PARAGRAPH_BYTES / 1024
        ));
        let mut out = Vec::new();
        for (k, piece) in split_flat(&flat, MAX_PARAGRAPH_BYTES).iter().enumerate() {
            out.extend(set_checked(ctx, piece, spec, hang.filter(|_| k == 0)));
        }
        return out;
    }
    set_checked(ctx, &flat, spec, hang)
}

/// Longest paragraph set in one piece, in bytes of text.
const MAX_PARAGRAPH_BYTES: usize = 32 * 1024;

/// Cuts a flattened paragraph into pieces of at most `max` bytes, at a space in the
/// piece's second half when there is one, else at a character boundary.
fn split_flat(flat: &Flat, max: usize) -> Vec<Flat> {
    let text = &flat.text;
    let mut cuts = vec![0];
    let mut a = 0;
    while text.len() - a > max {
        let mut end = a + max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let b = text[a + max / 2..end]
            .rfind(' ')
            .map_or(end, |i| a + max / 2 + i + 1);
        let b = if b <= a { end.max(a + 1) } else { b };
        cuts.push(b);
        a = b;
    }
    cuts.push(text.len());
    cuts.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let mut spans: Vec<(usize, SpanStyle)> = Vec::new();
            if let Some((_, st)) = flat.spans.iter().rev().find(|(s, _)| *s <= a) {
                spans.push((0, *st));
            }
            spans.extend(
                flat.spans
                    .iter()
                    .filter(|(s, _)| *s > a && *s < b)
                    .map(|(s, st)| (s - a, *st)),
            );
            Flat {
                text: text[a..b].trim_end_matches(' ').to_string(),
                spans,
                links: flat.links.clone(),
            }
        })
        .filter(|f| !f.text.is_empty())
        .collect()
}

/// Sets a flattened paragraph, retrying with words broken inside when a line overflows.
fn set_checked(ctx: &mut Ctx, flat: &Flat, spec: &ParaSpec, hang: Option<Hang>) -> Vec<LineOut> {
    let mut lines = set_flat(ctx, flat, spec, hang, false);
    if lines.iter().any(|l| l.overfull) {
        lines = set_flat(ctx, flat, spec, hang, true);
        let sample: String = flat.text.chars().take(40).collect();
        let still = lines.iter().any(|l| l.overfull);
        ctx.warnings.push(if still {
            format!(
                "a word or URL is wider than the line and sticks into the margin (in \"{sample}…\")"
            )
        } else {
            format!("a word or URL wider than the line was broken inside (in \"{sample}…\")")
        });
    }
    lines
}

fn set_flat(
    ctx: &mut Ctx,
    flat: &Flat,
    spec: &ParaSpec,
    hang: Option<Hang>,
    emergency: bool,
) -> Vec<LineOut> {
    let mut b = Builder {
        ctx,
        spec: *spec,
        items: Vec::new(),
        meta: Vec::new(),
        emergency,
    };
    b.build(flat);
    let Builder { items, meta, .. } = b;
    let mut params = Params::new(spec.width);
    params.line_widths = LineWidths::uniform(spec.width);
    if let Some(h) = hang {
        params.line_widths.first = vec![(spec.width - h.width).max(spec.width * 0.3); h.lines];
    }
    if spec.align != Align::Justify {
        params.tolerance = 10.0;
        params.pretolerance = -1.0;
    } else {
        params.tolerance = 3.0;
        params.pretolerance = 1.0;
    }
    if emergency {
        params.tolerance = 20.0;
    }
    let mut lines = linebreak::break_lines(&items, &params);
    for line in &mut lines {
        // A line that could only be justified with gaping spaces is better left short.
        if spec.align == Align::Justify && line.ratio > MAX_STRETCH {
            line.ratio = MAX_STRETCH;
        }
    }
    let mut out = Vec::with_capacity(lines.len());
    for (line_no, line) in lines.iter().enumerate() {
        let hung = hang.filter(|h| line_no < h.lines).map_or(0.0, |h| h.width);
        let measure = spec.width - hung;
        let mut sink = RunSink {
            items: Vec::new(),
            current: None,
        };
        let mut x = 0.0f32;
        let mut gap = 0.0f32;
        let mut space: Option<&Piece> = None;
        let mut notes = Vec::new();
        // (x0, x1, link, ascent) per drawn piece, for link rectangles.
        let mut spans: Vec<(f32, f32, Option<u32>, f32)> = Vec::new();
        let mut strikes: Vec<(f32, f32, f32, Rgb)> = Vec::new();
        let mut any_box = false;
        for i in line.range() {
            match (&items[i], &meta[i]) {
                (Kp::Box { width, .. }, m) => {
                    if any_box && gap != 0.0 {
                        if let Some(sp) = space {
                            for g in sp.glyphs.iter() {
                                let mut g = g.clone();
                                g.advance = gap;
                                sink.push(x, sp, g);
                            }
                        }
                        x += gap;
                    }
                    gap = 0.0;
                    space = None;
                    any_box = true;
                    if let Meta::Piece(p) = m {
                        let x0 = x;
                        for g in p.glyphs.iter() {
                            let mut g = g.clone();
                            g.advance += p.tracking;
                            let advance = g.advance;
                            sink.push(x, p, g);
                            x += advance;
                        }
                        spans.push((x0, x, p.link, p.size * 0.8 + p.rise));
                        if p.strike {
                            strikes.push((x0, x, p.size * 0.25 + p.rise, p.color));
                        }
                        if let Some(n) = p.note
                            && !ctx.refs_placed.contains(&n)
                        {
                            ctx.refs_placed.insert(n);
                            notes.push(n);
                            sink.flush();
                            sink.items.push(Item::Dest {
                                name: format!("fnref-{n}"),
                                y: -spec.look.size * 1.2,
                            });
                        }
                    } else {
                        x += width;
                    }
                }
                (
                    Kp::Glue {
                        width,
                        stretch,
                        shrink,
                    },
                    m,
                ) => {
                    if any_box {
                        gap += line.glue_width(*width, *stretch, *shrink);
                        if let Meta::Space(p) = m {
                            space = Some(p);
                        }
                    }
                }
                (Kp::Penalty { .. }, _) => {}
            }
        }
        if line.hyphenated
            && let Some(Meta::Hyphen(h)) = meta.get(line.end)
        {
            for g in h.glyphs.iter() {
                sink.push(x, h, g.clone());
                x += g.advance;
            }
        }
        sink.flush();
        let mut items_out = sink.items;
        // Link rectangles over consecutive pieces with the same target.
        let mut k = 0;
        while k < spans.len() {
            let (x0, mut x1, link, mut asc) = spans[k];
            let mut j = k + 1;
            while j < spans.len() && spans[j].2 == link {
                x1 = spans[j].1;
                asc = asc.max(spans[j].3);
                j += 1;
            }
            if let Some(target) = link.and_then(|l| flat.links.get(l as usize)) {
                let size = spec.look.size;
                items_out.push(Item::Link {
                    x: x0,
                    y: -asc.max(size * 0.8),
                    width: (x1 - x0).max(1.0),
                    height: asc.max(size * 0.8) + size * 0.25,
                    target: target.clone(),
                });
            }
            k = j;
        }
        for (x0, x1, h, color) in strikes {
            items_out.push(Item::Line {
                x1: x0,
                y1: -h,
                x2: x1,
                y2: -h,
                thickness: spec.look.size * 0.05,
                color,
            });
        }
        let natural = x;
        let shift = hung
            + match spec.align {
                Align::Center => ((measure - natural) / 2.0).max(0.0),
                Align::Right => (measure - natural).max(0.0),
                _ => 0.0,
            };
        if shift > 0.0 {
            for it in &mut items_out {
                super::blocks::shift_item(it, shift, 0.0);
            }
        }
        out.push(LineOut {
            items: items_out,
            notes,
            width: natural,
            overfull: line.overfull,
            hyphenated: line.hyphenated,
        });
    }
    out
}

/// Sets a paragraph and turns its lines into vertical elements, with widow and orphan
/// control: no page break after the first line or before the last.
pub(crate) fn paragraph_elems(ctx: &mut Ctx, inlines: &[Inline], spec: &ParaSpec) -> Vec<Elem> {
    let lines = set_lines(ctx, inlines, spec);
    let n = lines.len();
    let baseline = baseline_offset(ctx, spec);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mut e = Elem::new(spec.leading);
            for mut it in line.items {
                super::blocks::shift_item(&mut it, 0.0, baseline);
                e.items.push(it);
            }
            e.notes = line.notes;
            // Widows, orphans, and no word split across pages.
            e.keep_with_next = n >= 2 && (i == 0 || i + 2 == n || line.hyphenated);
            e.line_width = Some(line.width);
            e
        })
        .collect()
}

/// Distance from a line's top to its baseline: the face's ascent, centred in the leading.
pub(crate) fn baseline_offset(ctx: &Ctx, spec: &ParaSpec) -> f32 {
    let face = ctx
        .fonts
        .face_for(spec.look.role, spec.look.bold, spec.look.italic);
    let (asc, desc) = ctx.fonts.face(face).map_or((0.8, 0.2), |f| {
        let m = f.metrics();
        let upem = f32::from(m.units_per_em.max(1));
        (m.ascender / upem, -m.descender / upem)
    });
    let content = (asc + desc) * spec.look.size;
    (spec.leading - content) / 2.0 + asc * spec.look.size
}
