//! Blocks → a vertical list of elements (lines, spaces, figures, table rows) with the
//! keep and break information pagination needs.
//!
//! Every element is positioned relative to the text block's left edge and its own top,
//! so pagination only translates it (mirrored margins move the text block per page).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use super::fonts::{FontSet, Role};
use super::page::{GlyphRun, Item, LinkTarget, Rgb};
use super::paragraph::{self, Align, ParaSpec, TextLook};
use super::shape::ShapeCache;
use crate::assets::Assets;
use crate::model::{self, Block, Figure, Inline, List, ListKind, Table};
use crate::theme::{BlockAlign, ParagraphStyle, RuleStyle, Theme};

/// Theme colours, parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    pub text: Rgb,
    pub heading: Rgb,
    pub link: Rgb,
    pub rule: Rgb,
    pub accent: Rgb,
}

/// Everything block layout shares: fonts, the shaping cache, the document's notes and ids.
pub(crate) struct Ctx<'a> {
    pub fonts: FontSet,
    pub cache: ShapeCache,
    /// Hyphenation points per word, for `lang`.
    pub hyphens: super::hyphen::HyphenCache,
    pub theme: &'a Theme,
    pub assets: &'a Assets,
    pub lang: String,
    pub warnings: Vec<String>,
    /// Footnote label → number (by first reference).
    pub notes: HashMap<String, u32>,
    /// Heading ids, the internal link targets that exist.
    pub ids: HashSet<String>,
    pub base_url: Option<String>,
    pub palette: Palette,
    /// Characters no face has.
    pub missing: BTreeSet<char>,
    /// Footnotes whose first reference has been set (later ones get no destination).
    pub refs_placed: HashSet<u32>,
    /// Height of the text block, for figures.
    pub block_height: f32,
    /// Section numbers by heading id, when the theme numbers headings.
    pub numbers: HashMap<String, String>,
    /// The next top-level paragraph opens with a drop cap.
    pub drop_cap_pending: bool,
    /// Articles of a book start on right-hand pages.
    pub recto: bool,
}

/// A heading as pagination sees it: for the outline and running heads.
#[derive(Debug, Clone)]
pub(crate) struct HeadingMark {
    pub level: u8,
    /// Destination name, for the contents' page numbers.
    pub id: String,
    pub title: String,
}

/// One element of the vertical list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Elem {
    /// Height, in points.
    pub height: f32,
    /// What to draw: x from the text block's left edge, y from the element's top.
    pub items: Vec<Item>,
    /// No page break between this element and the next.
    pub keep_with_next: bool,
    /// Vertical space, dropped at the top of a page.
    pub discardable: bool,
    /// Footnotes first referenced here.
    pub notes: Vec<u32>,
    /// Set on a heading's first line.
    pub heading: Option<HeadingMark>,
    /// Table header rows to repeat when this row starts a page.
    pub repeat: Option<Arc<Vec<Elem>>>,
    /// Natural width of a text line (tests check the measure).
    pub line_width: Option<f32>,
    /// Baseline of the first line, from the top (list markers align to it).
    pub baseline: Option<f32>,
    /// Starts a new page (after the contents, before a bundled article).
    pub break_before: bool,
    /// With `break_before`: a right-hand page, leaving the left one blank if need be.
    pub recto: bool,
}

impl Elem {
    /// An empty element of `height`.
    pub fn new(height: f32) -> Elem {
        Elem {
            height,
            ..Elem::default()
        }
    }

    /// A copy for trial pagination, which only needs heights and flags: without the
    /// drawing, except for gaps (pagination tells empty gaps from drawn ones).
    pub fn copy_for_trial(&self) -> Elem {
        Elem {
            height: self.height,
            items: if self.discardable {
                self.items.clone()
            } else {
                Vec::new()
            },
            keep_with_next: self.keep_with_next,
            discardable: self.discardable,
            notes: self.notes.clone(),
            heading: self.heading.clone(),
            repeat: self.repeat.clone(),
            line_width: self.line_width,
            baseline: self.baseline,
            break_before: self.break_before,
            recto: self.recto,
        }
    }

    fn space(height: f32) -> Elem {
        Elem {
            height,
            discardable: true,
            ..Elem::default()
        }
    }
}

/// Moves an item by (dx, dy).
pub(crate) fn shift_item(item: &mut Item, dx: f32, dy: f32) {
    match item {
        Item::Glyphs(r) => {
            r.x += dx;
            r.y += dy;
        }
        Item::Line { x1, y1, x2, y2, .. } => {
            *x1 += dx;
            *x2 += dx;
            *y1 += dy;
            *y2 += dy;
        }
        Item::Rect { x, y, .. } | Item::Image { x, y, .. } | Item::Link { x, y, .. } => {
            *x += dx;
            *y += dy;
        }
        Item::Dest { y, .. } => *y += dy,
    }
}

/// Where blocks go and how body text looks there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env {
    /// Left edge, from the text block's left.
    pub left: f32,
    /// Measure.
    pub width: f32,
    /// Body text size.
    pub size: f32,
    /// Body leading, in points.
    pub leading: f32,
    /// Bulleted-list depth, for the bullet shape.
    pub list_depth: usize,
    /// Whether paragraphs here get first-line indents (not in lists, notes, cells).
    pub indents: bool,
    /// Body text here is italic (quotes in some themes).
    pub italic: bool,
}

impl Ctx<'_> {
    /// Body text as set in `env`.
    pub(crate) fn body_spec(&self, env: &Env, indent: bool) -> ParaSpec {
        let t = &self.theme.text;
        ParaSpec {
            look: TextLook {
                role: Role::Body,
                size: env.size,
                bold: false,
                italic: env.italic,
                color: self.palette.text,
                tracking: 0.0,
            },
            leading: env.leading,
            align: if t.justify {
                Align::Justify
            } else {
                Align::Left
            },
            hyphenate: t.hyphenate,
            indent: if indent { t.indent * env.size } else { 0.0 },
            width: env.width,
        }
    }

    fn para_gap(&self, env: &Env) -> f32 {
        match self.theme.text.paragraph {
            ParagraphStyle::Indent => 0.0,
            ParagraphStyle::Space => env.leading * 0.6,
        }
    }

    fn block_gap(&self, env: &Env) -> f32 {
        env.leading * 0.6
    }

    /// Text as lines, moved to `env.left`.
    pub(crate) fn text_elems(
        &mut self,
        inlines: &[Inline],
        spec: &ParaSpec,
        left: f32,
    ) -> Vec<Elem> {
        let mut elems = paragraph::paragraph_elems(self, inlines, spec);
        let baseline = paragraph::baseline_offset(self, spec);
        for e in &mut elems {
            e.baseline = Some(baseline);
            for it in &mut e.items {
                shift_item(it, left, 0.0);
            }
        }
        elems
    }
}

fn push_gap(out: &mut Vec<Elem>, h: f32) {
    if h <= 0.0 {
        return;
    }
    match out.last_mut() {
        // Two gaps in a row: the larger wins, as in CSS margin collapsing.
        Some(last) if last.discardable && last.items.is_empty() => {
            last.height = last.height.max(h);
        }
        Some(last) => {
            let keep = last.keep_with_next;
            out.push(Elem {
                keep_with_next: keep,
                ..Elem::space(h)
            });
        }
        None => out.push(Elem::space(h)),
    }
}

/// Lays out `blocks` into `out`.
pub(crate) fn blocks(ctx: &mut Ctx, blocks: &[Block], env: &Env, out: &mut Vec<Elem>) {
    blocks_after(ctx, blocks, env, out, Follows::Nothing);
}

/// What a run of blocks laid out on its own follows in the whole body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follows {
    /// Nothing: the first block gets no space before it.
    Nothing,
    /// A block other than a paragraph (a chunk cut before a heading or article).
    Block,
    /// A paragraph of text, so a paragraph first in the run is indented.
    Paragraph,
}

/// Lays out `blocks` into `out`, as they would be after what they `follow` (a chunk of a
/// longer body laid out elsewhere): the first then gets the space before it.
pub(crate) fn blocks_after(
    ctx: &mut Ctx,
    blocks: &[Block],
    env: &Env,
    out: &mut Vec<Elem>,
    follows: Follows,
) {
    let mut indent_next = follows == Follows::Paragraph;
    for (bi, block) in blocks.iter().enumerate() {
        let first = bi == 0 && follows == Follows::Nothing;
        match block {
            Block::Heading { level, id, content } => {
                heading(ctx, *level, id, content, env, out, first);
                indent_next = false;
                continue;
            }
            Block::Article { id, meta } => {
                article(ctx, id, meta, env, out);
                indent_next = false;
                continue;
            }
            Block::Paragraph { content } => {
                if let Some(img) = lone_image(content) {
                    if !first {
                        push_gap(out, ctx.block_gap(env));
                    }
                    figure(
                        ctx,
                        &Figure {
                            image: img.clone(),
                            caption: Vec::new(),
                        },
                        env,
                        out,
                    );
                    push_gap(out, ctx.block_gap(env));
                    indent_next = false;
                    continue;
                }
                if !first {
                    push_gap(out, ctx.para_gap(env));
                }
                // A paragraph too short for the letter passes it on to the next one.
                if ctx.drop_cap_pending && env.left == 0.0 && env.list_depth == 0 {
                    let lines = usize::from(ctx.theme.text.drop_cap);
                    if let Some(elems) = super::dropcap::paragraph(ctx, content, env, lines) {
                        ctx.drop_cap_pending = false;
                        out.extend(elems);
                        indent_next = true;
                        continue;
                    }
                }
                let indent = indent_next
                    && env.indents
                    && ctx.theme.text.paragraph == ParagraphStyle::Indent;
                let spec = ctx.body_spec(env, indent);
                let elems = ctx.text_elems(content, &spec, env.left);
                out.extend(elems);
                indent_next = true;
                continue;
            }
            Block::FootnoteDef { .. } => continue,
            _ => {}
        }
        if !first {
            push_gap(out, ctx.block_gap(env));
        }
        match block {
            Block::Quote { blocks: inner } => quote(ctx, inner, env, out),
            Block::List(list) => self::list(ctx, list, env, out),
            Block::Code { text, .. } => code(ctx, text, env, out),
            Block::Figure(fig) => figure(ctx, fig, env, out),
            Block::Table(t) => table(ctx, t, env, out),
            Block::Rule => {
                let mut e = Elem::new(env.leading);
                let w = (env.width * 0.25).min(env.size * 6.0);
                let x = env.left + (env.width - w) / 2.0;
                e.items.push(Item::Line {
                    x1: x,
                    y1: env.leading / 2.0,
                    x2: x + w,
                    y2: env.leading / 2.0,
                    thickness: 0.5,
                    color: ctx.palette.rule,
                });
                out.push(e);
            }
            Block::RawHtml { html } => {
                let text = crate::write::raw_html::text_of(html);
                if !text.trim().is_empty() {
                    let spec = ctx.body_spec(env, false);
                    let elems = ctx.text_elems(&[Inline::text(text)], &spec, env.left);
                    out.extend(elems);
                }
            }
            Block::Heading { .. }
            | Block::Paragraph { .. }
            | Block::FootnoteDef { .. }
            | Block::Article { .. } => {}
        }
        push_gap(out, ctx.block_gap(env));
        indent_next = false;
    }
}

/// The image a paragraph holds alone (set as a figure), if so.
pub(crate) fn lone_image(content: &[Inline]) -> Option<&model::Image> {
    let mut found = None;
    for i in content {
        match i {
            Inline::Image(img) if found.is_none() => found = Some(img),
            Inline::Text { text } if text.trim().is_empty() => {}
            _ => return None,
        }
    }
    found
}

fn heading(
    ctx: &mut Ctx,
    level: u8,
    id: &str,
    content: &[Inline],
    env: &Env,
    out: &mut Vec<Elem>,
    first: bool,
) {
    let h = &ctx.theme.headings;
    let idx = usize::from(level.clamp(1, 6)) - 1;
    let size = env.size * h.sizes[idx];
    let before = h.space_before * env.size;
    let after = h.space_after * env.size;
    let spec = ParaSpec {
        look: TextLook {
            role: Role::Heading,
            size,
            bold: h.bold || level >= 4,
            italic: level >= 3 && !h.bold,
            color: ctx.palette.heading,
            tracking: 0.0,
        },
        leading: size * 1.2,
        align: match h.align {
            BlockAlign::Left => Align::Left,
            BlockAlign::Center => Align::Center,
        },
        hyphenate: false,
        indent: 0.0,
        width: env.width,
    };
    if !first {
        // The space before a heading is a good place for a page break, unless it follows
        // a heading (whose space after already ties it to us).
        let after_heading = out
            .iter()
            .rev()
            .find(|e| !e.discardable)
            .is_some_and(|e| e.keep_with_next);
        push_gap(out, before);
        if let Some(last) = out.last_mut()
            && last.discardable
            && !after_heading
        {
            last.keep_with_next = false;
        }
    }
    let numbered: Vec<Inline>;
    let content = match ctx.numbers.get(id) {
        Some(n) => {
            // An en space keeps the number apart without a justifiable gap.
            numbered = std::iter::once(Inline::text(format!("{n}\u{2002}")))
                .chain(content.iter().cloned())
                .collect();
            &numbered[..]
        }
        None => content,
    };
    let mut elems = ctx.text_elems(content, &spec, env.left);
    if elems.is_empty() {
        return;
    }
    let title = model::plain_text(content).trim().to_string();
    if let Some(e) = elems.first_mut() {
        e.items.push(Item::Dest {
            name: id.to_string(),
            y: 0.0,
        });
        e.heading = Some(HeadingMark {
            level,
            id: id.to_string(),
            title,
        });
    }
    for e in &mut elems {
        e.keep_with_next = true;
    }
    out.extend(elems);
    out.push(Elem {
        keep_with_next: true,
        ..Elem::space(after)
    });
}

/// One article of a book: a new page (a right-hand one with `recto`), its title block,
/// and a mark for the outline, the contents and the running heads.
fn article(ctx: &mut Ctx, id: &str, meta: &model::Meta, env: &Env, out: &mut Vec<Elem>) {
    let title = meta
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "Untitled".into());
    // Relative links in this article resolve against its own address.
    ctx.base_url = meta.source_url.clone();
    let mut elems = title_block(ctx, meta, &title, env);
    if let Some(first) = elems.first_mut() {
        first.break_before = true;
        first.recto = ctx.recto;
        first.items.push(Item::Dest {
            name: id.to_string(),
            y: 0.0,
        });
        first.heading = Some(HeadingMark {
            level: 0,
            id: id.to_string(),
            title,
        });
    }
    out.extend(elems);
    ctx.drop_cap_pending = ctx.theme.text.drop_cap >= 2;
}

fn quote(ctx: &mut Ctx, inner: &[Block], env: &Env, out: &mut Vec<Elem>) {
    let q = &ctx.theme.quote;
    let pad = env.size * q.indent;
    let scale = q.size;
    let inner_env = Env {
        left: env.left + pad,
        width: (env.width - 2.0 * pad).max(env.width * 0.5),
        indents: false,
        italic: q.italic != env.italic,
        size: env.size * scale,
        leading: env.leading * scale,
        ..*env
    };
    let rule = q.rule;
    let start = out.len();
    blocks(ctx, inner, &inner_env, out);
    // Drop the trailing gap: the caller adds one.
    while out.len() > start && out.last().is_some_and(|e| e.discardable) {
        out.pop();
    }
    if !rule {
        return;
    }
    let x = env.left + env.size * 0.35;
    let color = ctx.palette.rule;
    for e in &mut out[start..] {
        e.items.push(Item::Line {
            x1: x,
            y1: 0.0,
            x2: x,
            y2: e.height,
            thickness: 0.6,
            color,
        });
        // A rule drawn in a gap must not vanish at a page top with the gap, nor stay.
        e.discardable = e.discardable && e.items.len() <= 1;
    }
}

/// A glyph run for a short label (list numbers, bullets), or None if nothing to draw.
fn label_run(ctx: &mut Ctx, text: &str, look: &TextLook) -> Option<(GlyphRun, f32)> {
    let face = ctx.fonts.face_for(look.role, look.bold, look.italic);
    let shaped = ctx
        .cache
        .shape(&ctx.fonts, face, look.size, text, Some(ctx.lang.as_str()));
    let first = shaped.runs.first()?;
    let glyphs = shaped.glyphs().map(|(_, g)| g.clone()).collect();
    Some((
        GlyphRun {
            face: first.face,
            size: look.size,
            x: 0.0,
            y: 0.0,
            color: look.color,
            glyphs,
        },
        shaped.width,
    ))
}

fn list(ctx: &mut Ctx, list: &List, env: &Env, out: &mut Vec<Elem>) {
    let look = TextLook {
        role: Role::Body,
        size: env.size,
        bold: false,
        italic: false,
        color: ctx.palette.text,
        tracking: 0.0,
    };
    let numbers: Vec<String> = match list.kind {
        ListKind::Bullet => Vec::new(),
        ListKind::Ordered { start } => (0..list.items.len() as u64)
            .map(|i| format!("{}.", start.saturating_add(i)))
            .collect(),
    };
    let widest = numbers
        .iter()
        .filter_map(|n| label_run(ctx, n, &look).map(|r| r.1))
        .fold(0.0f32, f32::max);
    let is_task = list.items.iter().any(|i| i.task.is_some());
    let mut hang = match list.kind {
        ListKind::Bullet => env.size * 1.3,
        ListKind::Ordered { .. } => widest + env.size * 0.6,
    };
    if is_task {
        hang = hang.max(env.size * 1.6);
    }
    // Deep nesting must not squeeze the measure to nothing.
    if env.width - hang < env.width.min(env.size * 12.0) {
        hang = 0.0;
    }
    let inner = Env {
        left: env.left + hang,
        width: env.width - hang,
        list_depth: env.list_depth + 1,
        indents: false,
        ..*env
    };
    let bullet = ["•", "–", "◦"][env.list_depth % 3];
    for (i, item) in list.items.iter().enumerate() {
        if i > 0 && !list.tight {
            push_gap(out, env.leading * 0.4);
        }
        let start = out.len();
        blocks(ctx, &item.blocks, &inner, out);
        while out.len() > start && out.last().is_some_and(|e| e.discardable) {
            out.pop();
        }
        if out.len() == start {
            out.push(Elem::new(env.leading));
        }
        let Some(first) = out.get_mut(start) else {
            continue;
        };
        let baseline = first.baseline.unwrap_or(env.leading * 0.75);
        let gap = env.size * 0.45;
        if let Some(done) = item.task {
            // Drawn, not a glyph: few book faces have ☐ and ☑.
            let s = env.size * 0.62;
            let x0 = inner.left - gap - s;
            let y0 = baseline - s;
            let c = ctx.palette.text;
            let t = 0.5;
            for (a, b, c2, d) in [
                (x0, y0, x0 + s, y0),
                (x0 + s, y0, x0 + s, y0 + s),
                (x0 + s, y0 + s, x0, y0 + s),
                (x0, y0 + s, x0, y0),
            ] {
                first.items.push(Item::Line {
                    x1: a,
                    y1: b,
                    x2: c2,
                    y2: d,
                    thickness: t,
                    color: c,
                });
            }
            if done {
                first.items.push(Item::Line {
                    x1: x0 + s * 0.2,
                    y1: y0 + s * 0.55,
                    x2: x0 + s * 0.42,
                    y2: y0 + s * 0.8,
                    thickness: 0.9,
                    color: c,
                });
                first.items.push(Item::Line {
                    x1: x0 + s * 0.42,
                    y1: y0 + s * 0.8,
                    x2: x0 + s * 0.85,
                    y2: y0 + s * 0.15,
                    thickness: 0.9,
                    color: c,
                });
            }
            continue;
        }
        let label = match list.kind {
            ListKind::Bullet => bullet.to_string(),
            ListKind::Ordered { .. } => numbers.get(i).cloned().unwrap_or_default(),
        };
        if let Some((mut run, w)) = label_run(ctx, &label, &look) {
            run.x = inner.left - gap - w;
            run.y = baseline;
            first.items.push(Item::Glyphs(run));
        }
    }
}

/// The mark drawn at the start of a wrapped code line.
const CONTINUATION: &str = "→";

fn code(ctx: &mut Ctx, text: &str, env: &Env, out: &mut Vec<Elem>) {
    let size = env.size * ctx.theme.code.size;
    let leading = size * 1.35;
    let pad = size * 0.7;
    let face = ctx.fonts.face_for(Role::Mono, false, false);
    let avail = (env.width - 2.0 * pad).max(size * 10.0);
    let text_color = ctx.palette.text;
    let mark_color = ctx.palette.rule;
    let baseline = leading * 0.78;
    type Row = (Vec<(usize, super::page::PositionedGlyph)>, bool);
    let mut rows: Vec<Row> = Vec::new();
    for raw in text.split('\n') {
        let line = expand_tabs(raw.trim_end_matches('\r'));
        let shaped =
            ctx.cache
                .shape_uncached(&ctx.fonts, face, size, &line, Some(ctx.lang.as_str()));
        for &c in &shaped.missing {
            ctx.missing.insert(c);
        }
        let glyphs: Vec<(usize, super::page::PositionedGlyph)> =
            shaped.glyphs().map(|(f, g)| (f, g.clone())).collect();
        if glyphs.is_empty() {
            rows.push((Vec::new(), false));
            continue;
        }
        // Wrap: prefer the last space in the final third of the line, else any cluster.
        let mut start = 0;
        let mut cont = false;
        while start < glyphs.len() {
            let mut w = 0.0;
            let mut end = start;
            let mut last_space = None;
            while end < glyphs.len() {
                let g = &glyphs[end].1;
                if w + g.advance > avail && end > start {
                    break;
                }
                w += g.advance;
                if g.text == " " {
                    last_space = Some(end + 1);
                }
                end += 1;
            }
            if end < glyphs.len() {
                // Never cut inside a cluster (its later glyphs have empty text).
                while end > start + 1 && glyphs[end].1.text.is_empty() {
                    end -= 1;
                }
                if let Some(s) = last_space
                    && s > start + (end - start) * 2 / 3
                {
                    end = s;
                }
            }
            rows.push((glyphs[start..end].to_vec(), cont));
            start = end;
            cont = true;
        }
    }
    let n = rows.len();
    let bg = crate::theme::check::optional_color(&ctx.theme.code.background).flatten();
    for (i, (glyphs, cont)) in rows.into_iter().enumerate() {
        let top_pad = if i == 0 { pad * 0.8 } else { 0.0 };
        let bottom_pad = if i + 1 == n { pad * 0.8 } else { 0.0 };
        let h = leading + top_pad + bottom_pad;
        let mut e = Elem::new(h);
        if let Some(color) = bg {
            e.items.push(Item::Rect {
                x: env.left,
                y: 0.0,
                width: env.width,
                height: h,
                color,
            });
        }
        if cont
            && let Some((mut run, w)) = label_run(
                ctx,
                CONTINUATION,
                &TextLook {
                    role: Role::Mono,
                    size: size * 0.9,
                    bold: false,
                    italic: false,
                    color: mark_color,
                    tracking: 0.0,
                },
            )
        {
            run.x = env.left + (pad - w).max(0.0) / 2.0;
            run.y = top_pad + baseline;
            e.items.push(Item::Glyphs(run));
        }
        // One run per face (fallback faces for what the mono face lacks).
        let mut x = env.left + pad;
        let mut run: Option<GlyphRun> = None;
        for (f, g) in glyphs {
            if run.as_ref().is_none_or(|r| r.face != f) {
                if let Some(r) = run.take() {
                    e.items.push(Item::Glyphs(r));
                }
                run = Some(GlyphRun {
                    face: f,
                    size,
                    x,
                    y: top_pad + baseline,
                    color: text_color,
                    glyphs: Vec::new(),
                });
            }
            x += g.advance;
            if let Some(r) = run.as_mut() {
                r.glyphs.push(g);
            }
        }
        if let Some(r) = run {
            e.items.push(Item::Glyphs(r));
        }
        // Short listings stay whole; long ones keep two lines together at each end.
        e.keep_with_next = i + 1 < n && (n <= 8 || i == 0 || i + 2 == n);
        e.baseline = Some(top_pad + baseline);
        out.push(e);
    }
}

fn expand_tabs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut col = 0;
    for c in s.chars() {
        if c == '\t' {
            let n = 4 - col % 4;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else if c.is_control() {
            out.push(' ');
            col += 1;
        } else {
            out.push(c);
            col += 1;
        }
    }
    out
}

fn caption_spec(ctx: &Ctx, env: &Env) -> ParaSpec {
    let f = &ctx.theme.figure;
    let size = env.size * f.caption_size;
    ParaSpec {
        look: TextLook {
            role: Role::Body,
            size,
            bold: false,
            italic: f.caption_italic,
            color: ctx.palette.text,
            tracking: 0.0,
        },
        leading: size * 1.3,
        align: match f.caption_align {
            BlockAlign::Left => Align::Left,
            BlockAlign::Center => Align::Center,
        },
        hyphenate: ctx.theme.text.hyphenate,
        indent: 0.0,
        width: env.width,
    }
}

fn figure(ctx: &mut Ctx, fig: &Figure, env: &Env, out: &mut Vec<Elem>) {
    let asset = ctx
        .assets
        .get(&fig.image.src)
        .filter(|(_, a)| a.width > 0 && a.height > 0 && a.media_type != "image/svg+xml");
    let caption: Vec<Inline> = if !fig.caption.is_empty() {
        fig.caption.clone()
    } else if let Some(t) = fig.image.title.as_deref().filter(|t| !t.trim().is_empty()) {
        vec![Inline::text(t)]
    } else {
        Vec::new()
    };
    let Some((index, a)) = asset else {
        // No picture: the alt text stands in, in italics.
        let alt = if fig.image.alt.trim().is_empty() {
            "[image]".to_string()
        } else {
            fig.image.alt.trim().to_string()
        };
        let spec = caption_spec(ctx, env);
        let mut elems = ctx.text_elems(&[Inline::text(alt)], &spec, env.left);
        if !caption.is_empty() {
            elems.extend(ctx.text_elems(&caption, &spec, env.left));
        }
        out.extend(elems);
        return;
    };
    let (pw, ph) = (a.width as f32, a.height as f32);
    // 96 dpi is how screen images were meant to be seen; never blow them up past it.
    let mut w = (pw * 0.75).min(env.width);
    let mut h = w * ph / pw;
    let max_h = ctx.block_height * 0.6;
    if h > max_h {
        h = max_h;
        w = h * pw / ph;
    }
    let spec = caption_spec(ctx, env);
    let cap_lines = if caption.is_empty() {
        Vec::new()
    } else {
        ctx.text_elems(&caption, &spec, env.left)
    };
    let gap = env.size * 0.5;
    let mut e = Elem::new(h);
    e.items.push(Item::Image {
        asset: index,
        x: env.left + (env.width - w) / 2.0,
        y: 0.0,
        width: w,
        height: h,
    });
    if !cap_lines.is_empty() {
        e.height += gap;
        for line in cap_lines {
            let top = e.height;
            e.notes.extend(line.notes);
            for mut it in line.items {
                shift_item(&mut it, 0.0, top);
                e.items.push(it);
            }
            e.height += line.height;
        }
    }
    out.push(e);
}

fn table(ctx: &mut Ctx, t: &Table, env: &Env, out: &mut Vec<Elem>) {
    let ncols = t
        .header
        .iter()
        .chain(t.rows.iter())
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(t.align.len());
    if ncols == 0 {
        return;
    }
    let size = env.size * ctx.theme.table.size;
    let leading = size * 1.3;
    let pad_x = size * 0.5;
    let stripes = crate::theme::check::optional_color(&ctx.theme.table.stripes).flatten();
    let pad_y = size * 0.3;
    // Content widths per column: (widest word, whole text on one line).
    let mut min_w = vec![size; ncols];
    let mut max_w = vec![size; ncols];
    let body_face = ctx.fonts.face_for(Role::Body, false, false);
    let bold_face = ctx.fonts.face_for(Role::Body, true, false);
    for (ri, row) in t.header.iter().chain(t.rows.iter()).enumerate() {
        let face = if ri == 0 && t.header.is_some() {
            bold_face
        } else {
            body_face
        };
        for (c, cell) in row.iter().enumerate().take(ncols) {
            let text = model::plain_text(&cell.content);
            let mut total = 0.0;
            let space = ctx.cache.shape(&ctx.fonts, face, size, " ", None).width;
            for word in text.split_whitespace() {
                let wdt = ctx
                    .cache
                    .shape(&ctx.fonts, face, size, word, Some(ctx.lang.as_str()))
                    .width;
                min_w[c] = min_w[c].max(wdt);
                total += wdt + space;
            }
            max_w[c] = max_w[c].max(total * 1.02);
        }
    }
    let avail = (env.width - 2.0 * pad_x * ncols as f32).max(ncols as f32 * size);
    let sum_min: f32 = min_w.iter().sum();
    let sum_max: f32 = max_w.iter().sum();
    let widths: Vec<f32> = if sum_max <= avail {
        // Fits: share out what is left so the table spans the measure.
        let extra = (avail - sum_max) / ncols as f32;
        max_w.iter().map(|w| w + extra).collect()
    } else if sum_min >= avail {
        min_w.iter().map(|w| w * avail / sum_min).collect()
    } else {
        let f = (avail - sum_min) / (sum_max - sum_min);
        min_w
            .iter()
            .zip(&max_w)
            .map(|(a, b)| a + (b - a) * f)
            .collect()
    };
    let mut xs = Vec::with_capacity(ncols);
    let mut x = env.left;
    for w in &widths {
        xs.push(x + pad_x);
        x += w + 2.0 * pad_x;
    }
    let table_w = x - env.left;
    let rule = ctx.palette.rule;
    // A row taller than a third of the page is cut between its lines, so it can run on
    // to the next page (cells share one leading, so their lines align across columns).
    let split_above = ctx.block_height / 3.0;
    let make_row = |ctx: &mut Ctx, cells: &[model::TableCell], header: bool| -> Vec<Elem> {
        let mut cols: Vec<Vec<Elem>> = Vec::new();
        for (c, cell) in cells.iter().enumerate().take(ncols) {
            let align = match t.align.get(c).copied().unwrap_or_default() {
                model::Align::Center => Align::Center,
                model::Align::Right => Align::Right,
                _ => Align::Left,
            };
            let spec = ParaSpec {
                look: TextLook {
                    role: Role::Body,
                    size,
                    bold: header,
                    italic: false,
                    color: ctx.palette.text,
                    tracking: 0.0,
                },
                leading,
                align,
                hyphenate: ctx.theme.text.hyphenate,
                indent: 0.0,
                width: widths[c],
            };
            cols.push(ctx.text_elems(&cell.content, &spec, xs[c]));
        }
        let nlines = cols.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let split = !header && nlines as f32 * leading > split_above;
        let nbands = if split { nlines } else { 1 };
        let mut bands: Vec<Elem> = (0..nbands).map(|_| Elem::new(0.0)).collect();
        for lines in cols {
            for (li, line) in lines.into_iter().enumerate() {
                let (band, row_in_band) = if split { (li, 0) } else { (0, li) };
                let top = if band == 0 { pad_y } else { 0.0 };
                let y = top + row_in_band as f32 * leading;
                let e = &mut bands[band];
                e.notes.extend(line.notes);
                for mut it in line.items {
                    shift_item(&mut it, 0.0, y);
                    e.items.push(it);
                }
            }
        }
        let last = nbands - 1;
        for (b, e) in bands.iter_mut().enumerate() {
            let lines = if split { 1 } else { nlines };
            let top = if b == 0 { pad_y } else { 0.0 };
            let bottom = if b == last { pad_y } else { 0.0 };
            e.height = lines as f32 * leading + top + bottom;
            // No single line of a split row alone at a page's foot or head.
            e.keep_with_next = split && nbands >= 2 && (b == 0 || b + 2 == nbands);
        }
        bands
    };
    let line = |y: f32, thickness: f32| Item::Line {
        x1: env.left,
        y1: y,
        x2: env.left + table_w,
        y2: y,
        thickness,
        color: rule,
    };
    let header = t.header.as_ref().map(|cells| {
        let mut h = make_row(ctx, cells, true);
        if let Some(first) = h.first_mut() {
            first.items.push(line(0.4, 0.8));
        }
        if let Some(last) = h.last_mut() {
            let hh = last.height;
            last.items.push(line(hh - 0.2, 0.4));
        }
        for e in &mut h {
            e.keep_with_next = true;
        }
        Arc::new(h)
    });
    if let Some(h) = &header {
        out.extend(h.iter().cloned());
    }
    let n = t.rows.len();
    for (i, cells) in t.rows.iter().enumerate() {
        let mut slices = make_row(ctx, cells, false);
        if header.is_none()
            && i == 0
            && let Some(first) = slices.first_mut()
        {
            first.items.push(line(0.4, 0.8));
        }
        if let Some(last) = slices.last_mut() {
            if i + 1 == n {
                let hh = last.height;
                last.items.push(line(hh - 0.4, 0.8));
            }
            // Keep the last two rows together, like a paragraph's last lines.
            last.keep_with_next = n >= 3 && i + 2 == n;
        }
        for r in &mut slices {
            r.repeat = header.clone();
            if let Some(color) = stripes.filter(|_| i % 2 == 1) {
                // Shading goes under the text: first in painting order.
                r.items.insert(
                    0,
                    Item::Rect {
                        x: env.left,
                        y: 0.0,
                        width: table_w,
                        height: r.height,
                        color,
                    },
                );
            }
        }
        out.extend(slices);
    }
    if !t.caption.is_empty() {
        push_gap(out, env.size * 0.3);
        let spec = caption_spec(ctx, env);
        let lines = ctx.text_elems(&t.caption, &spec, env.left);
        out.extend(lines);
    }
}

/// The title block: kicker, title, subtitle, byline, date, source; kept together.
pub(crate) fn title_block(ctx: &mut Ctx, meta: &model::Meta, title: &str, env: &Env) -> Vec<Elem> {
    let mut out = Vec::new();
    let ts = ctx.theme.title.clone();
    let align = match ts.align {
        BlockAlign::Left => Align::Left,
        BlockAlign::Center => Align::Center,
    };
    let spec = |role, size: f32, bold, italic, color, tracking, leading: f32| ParaSpec {
        look: TextLook {
            role,
            size,
            bold,
            italic,
            color,
            tracking,
        },
        leading: size * leading,
        align,
        hyphenate: false,
        indent: 0.0,
        width: env.width,
    };
    let s = env.size;
    let p = ctx.palette;
    if let Some(k) = meta.kicker.as_deref().filter(|k| !k.trim().is_empty()) {
        let (text, italic, tracking) = if ts.kicker_caps {
            (k.trim().to_uppercase(), false, 0.14)
        } else {
            (k.trim().to_string(), true, 0.0)
        };
        let sp = spec(
            Role::Heading,
            s * 0.8,
            false,
            italic,
            p.accent,
            tracking,
            1.3,
        );
        out.extend(ctx.text_elems(&[Inline::text(text)], &sp, env.left));
        push_gap(&mut out, s * 0.3);
    }
    let sp = spec(
        Role::Heading,
        s * ts.size,
        ts.bold,
        false,
        p.heading,
        0.0,
        1.1,
    );
    out.extend(ctx.text_elems(&[Inline::text(title)], &sp, env.left));
    if let Some(sub) = meta.subtitle.as_deref().filter(|x| !x.trim().is_empty()) {
        push_gap(&mut out, s * 0.5);
        let sp = spec(Role::Body, s * 1.25, false, true, p.text, 0.0, 1.25);
        out.extend(ctx.text_elems(&[Inline::text(sub)], &sp, env.left));
    }
    push_gap(&mut out, s * 0.9);
    if let Some(by) = meta.byline() {
        let prefix = if ctx.lang.starts_with("en") {
            "By "
        } else {
            ""
        };
        let sp = spec(Role::Body, s * 1.0, false, false, p.text, 0.04, 1.3);
        out.extend(ctx.text_elems(&[Inline::text(format!("{prefix}{by}"))], &sp, env.left));
    }
    if let Some(d) = meta.date.as_deref() {
        let sp = spec(Role::Body, s * 0.9, false, true, p.text, 0.0, 1.3);
        out.extend(ctx.text_elems(&[Inline::text(model::date::display(d))], &sp, env.left));
    }
    let source = meta.source_url.as_deref().filter(|u| u.starts_with("http"));
    if meta.publisher.is_some() || source.is_some() {
        let mut inl = Vec::new();
        if let Some(pb) = &meta.publisher {
            inl.push(Inline::text(pb.clone()));
            if source.is_some() {
                inl.push(Inline::text(" · "));
            }
        }
        if let Some(u) = source {
            let shown = u
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/');
            inl.push(Inline::Link {
                url: u.to_string(),
                title: None,
                content: vec![Inline::text(shown)],
            });
        }
        let sp = spec(Role::Body, s * 0.8, false, false, p.rule, 0.0, 1.3);
        out.extend(ctx.text_elems(&inl, &sp, env.left));
    }
    if let Some(label) = meta.retrieved_label() {
        let sp = spec(Role::Body, s * 0.8, false, false, p.rule, 0.0, 1.3);
        out.extend(ctx.text_elems(&[Inline::text(label)], &sp, env.left));
    }
    push_gap(&mut out, s * 0.8);
    let mut rule = Elem::new(s * 1.6);
    let (w, thickness) = match ts.rule {
        RuleStyle::None => (0.0, 0.0),
        RuleStyle::Short => (env.width.min(s * 5.0), 0.6),
        RuleStyle::Full => (env.width, 0.8),
    };
    let x = match align {
        Align::Center => env.left + (env.width - w) / 2.0,
        _ => env.left,
    };
    if w > 0.0 {
        rule.items.push(Item::Line {
            x1: x,
            y1: 0.3,
            x2: x + w,
            y2: 0.3,
            thickness,
            color: p.rule,
        });
    }
    out.push(rule);
    for e in &mut out {
        e.keep_with_next = true;
        e.discardable = false;
    }
    if let Some(last) = out.last_mut() {
        last.keep_with_next = false;
    }
    out
}

/// Footnote bodies, each as elements: the number hangs in the margin of the note text and
/// links back to the reference.
pub(crate) fn note_elems(ctx: &mut Ctx, n: u32, content: &[Block], env: &Env) -> Vec<Elem> {
    let size = env.size * 0.82;
    let leading = size * 1.3;
    let hang = size * 1.4;
    let note_env = Env {
        left: env.left + hang,
        width: env.width - hang,
        size,
        leading,
        indents: false,
        ..*env
    };
    let mut out = Vec::new();
    blocks(ctx, content, &note_env, &mut out);
    while out.last().is_some_and(|e| e.discardable) {
        out.pop();
    }
    while out.first().is_some_and(|e| e.discardable) {
        out.remove(0);
    }
    if out.is_empty() {
        out.push(Elem::new(leading));
    }
    let look = TextLook {
        role: Role::Body,
        size,
        bold: false,
        italic: false,
        color: ctx.palette.text,
        tracking: 0.0,
    };
    let label = format!("{n}.");
    let run = label_run(ctx, &label, &look);
    if let Some(first) = out.first_mut() {
        let baseline = first.baseline.unwrap_or(leading * 0.75);
        if let Some((mut run, w)) = run {
            run.x = note_env.left - size * 0.4 - w;
            run.y = baseline;
            first.items.push(Item::Link {
                x: run.x,
                y: baseline - size * 0.8,
                width: w,
                height: size * 1.05,
                target: LinkTarget::Internal(format!("fnref-{n}")),
            });
            first.items.push(Item::Glyphs(run));
        }
        first.items.push(Item::Dest {
            name: format!("fn-{n}"),
            y: 0.0,
        });
    }
    for e in &mut out {
        e.discardable = false;
    }
    out
}

/// Footnote bodies by number.
pub(crate) type NoteList<'a> = Vec<(u32, &'a [Block])>;

/// Numbers footnotes by first reference (body first, then inside notes), like the EPUB
/// writer; returns label → number and the definitions in number order.
pub(crate) fn number_notes(blocks: &[Block]) -> (HashMap<String, u32>, NoteList<'_>) {
    fn refs_inl(xs: &[Inline], out: &mut Vec<String>) {
        for i in xs {
            match i {
                Inline::FootnoteRef { label } => out.push(label.clone()),
                other => {
                    if let Some(c) = other.children() {
                        refs_inl(c, out);
                    }
                }
            }
        }
    }
    fn refs(bs: &[Block], out: &mut Vec<String>) {
        for b in bs {
            match b {
                Block::Heading { content, .. } | Block::Paragraph { content } => {
                    refs_inl(content, out)
                }
                Block::Quote { blocks } => refs(blocks, out),
                Block::List(l) => l.items.iter().for_each(|i| refs(&i.blocks, out)),
                Block::Figure(f) => refs_inl(&f.caption, out),
                Block::Table(t) => {
                    for c in t.header.iter().flatten().chain(t.rows.iter().flatten()) {
                        refs_inl(&c.content, out);
                    }
                    refs_inl(&t.caption, out);
                }
                Block::FootnoteDef { .. }
                | Block::Code { .. }
                | Block::Rule
                | Block::RawHtml { .. }
                | Block::Article { .. } => {}
            }
        }
    }
    fn defs<'a>(bs: &'a [Block], out: &mut Vec<(&'a str, &'a [Block])>) {
        for b in bs {
            match b {
                Block::FootnoteDef { label, blocks } => {
                    out.push((label.as_str(), blocks.as_slice()));
                    defs(blocks, out);
                }
                Block::Quote { blocks } => defs(blocks, out),
                Block::List(l) => l.items.iter().for_each(|i| defs(&i.blocks, out)),
                _ => {}
            }
        }
    }
    let mut in_order = Vec::new();
    defs(blocks, &mut in_order);
    let mut all: HashMap<&str, &[Block]> = HashMap::new();
    for (l, b) in &in_order {
        all.entry(l).or_insert(b);
    }
    let mut order = Vec::new();
    refs(blocks, &mut order);
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut list: Vec<(u32, &[Block])> = Vec::new();
    let mut k = 0;
    loop {
        while k < order.len() {
            let label = order[k].clone();
            k += 1;
            if numbers.contains_key(&label) {
                continue;
            }
            let Some(content) = all.get(label.as_str()) else {
                continue;
            };
            let n = u32::try_from(list.len() + 1).unwrap_or(u32::MAX);
            numbers.insert(label, n);
            list.push((n, content));
            refs(content, &mut order);
        }
        // Unreferenced notes come last, in document order, so no text is lost.
        match in_order.iter().find(|(l, _)| !numbers.contains_key(*l)) {
            Some((l, _)) => order.push((*l).to_string()),
            None => break,
        }
    }
    (numbers, list)
}
