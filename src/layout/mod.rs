//! The typesetting engine: fonts, shaping, hyphenation, line breaking and pages.
//!
//! Pure Rust and free of PDF syntax: it turns the document model and a theme into
//! pages of positioned glyphs, rules and images ([`page`]), which `write::pdf` serialises.
//! [`typeset`] is the entry point: blocks become a vertical list of elements
//! (`blocks`, `paragraph`), which `paginate` cuts into pages; running heads, folios,
//! footnotes and the outline are added here.

pub(crate) mod blocks;
pub(crate) mod columns;
pub mod contents;
pub(crate) mod coverage;
pub(crate) mod dropcap;
pub(crate) mod flow;
pub mod fonts;
pub(crate) mod frame;
pub mod hyphen;
pub mod linebreak;
pub mod page;
pub(crate) mod paginate;
pub mod paper;
pub(crate) mod paragraph;
pub mod shape;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::assets::Assets;
use crate::model::{self, Block, Document};
use crate::theme::{Theme, parse_color};
use blocks::{Ctx, Elem, Env, Palette};
pub use contents::ContentsMode;
use fonts::{FontError, FontSet};
use page::{Item, LaidOut, OutlineEntry, Page};
use paper::{PT_PER_MM, PaperError, PaperSize};
use shape::ShapeCache;

/// Choices that are not part of the document or the theme.
#[derive(Debug, Clone, Default)]
pub struct LayoutOptions {
    /// Paper size overriding the theme's (`--paper`).
    pub paper: Option<PaperSize>,
    /// Whether to print a contents list after the title block.
    pub contents: ContentsMode,
    /// Heading levels the contents list (0 means the default, 2).
    pub toc_depth: u8,
    /// In a book, start every article on a right-hand page.
    pub recto: bool,
}

/// Why a document could not be typeset.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The theme's fonts are unusable.
    #[error(transparent)]
    Fonts(#[from] FontError),
    /// The theme's page size is not understood.
    #[error("theme: {0}")]
    Paper(#[from] PaperError),
    /// The margins leave no room for text.
    #[error("the margins leave no room for text on a {0} page")]
    Margins(PaperSize),
    /// One paragraph is longer than the typesetter takes (hostile or broken input).
    #[error(
        "a paragraph of {} KB is longer than galley typesets ({} KB); the EPUB output has no such limit",
        .0 / 1024,
        MAX_PARAGRAPH_TEXT / 1024
    )]
    ParagraphTooLong(usize),
}

/// Longest paragraph text typeset, in bytes: far beyond any real paragraph, and well
/// inside what fits in memory and seconds.
pub const MAX_PARAGRAPH_TEXT: usize = 1024 * 1024;

/// The longest paragraph (or heading, or table cell) text in `blocks`, in bytes.
fn longest_paragraph(blocks: &[Block]) -> usize {
    fn inl(xs: &[model::Inline]) -> usize {
        model::plain_text(xs).len()
    }
    blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph { content } | Block::Heading { content, .. } => inl(content),
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                longest_paragraph(blocks)
            }
            Block::List(l) => l
                .items
                .iter()
                .map(|i| longest_paragraph(&i.blocks))
                .max()
                .unwrap_or(0),
            Block::Table(t) => t
                .header
                .iter()
                .chain(t.rows.iter())
                .flatten()
                .map(|c| inl(&c.content))
                .max()
                .unwrap_or(0),
            Block::Figure(f) => inl(&f.caption),
            Block::Code { text, .. } => text.lines().map(str::len).max().unwrap_or(0),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// Typesets `doc` into pages. Warnings (missing glyphs, overlong words, broken images)
/// are appended to `warnings`.
pub fn typeset(
    doc: &Document,
    assets: &Assets,
    theme: &Theme,
    opts: &LayoutOptions,
    warnings: &mut Vec<String>,
) -> Result<LaidOut, LayoutError> {
    let paper = match opts.paper {
        Some(p) => p,
        None => PaperSize::parse(&theme.page.size)?,
    };
    let pg = &theme.page;
    let top = pg.margin_top.max(0.0) * PT_PER_MM;
    let bottom = pg.margin_bottom.max(0.0) * PT_PER_MM;
    let inner = pg.margin_inner.max(0.0) * PT_PER_MM;
    let outer = pg.margin_outer.max(0.0) * PT_PER_MM;
    let width = paper.width - inner - outer;
    let height = paper.height - top - bottom;
    let size = theme.text.size;
    let cols = usize::from(pg.columns.clamp(1, 2));
    let gutter = pg.gutter.max(0.0) * PT_PER_MM;
    let col_width = if cols > 1 {
        (width - gutter) / 2.0
    } else {
        width
    };
    if col_width < size * 8.0 || height < size * theme.text.leading * 6.0 {
        return Err(LayoutError::Margins(paper));
    }
    let longest = longest_paragraph(&doc.blocks);
    if longest > MAX_PARAGRAPH_TEXT {
        return Err(LayoutError::ParagraphTooLong(longest));
    }
    let (_, defs) = blocks::number_notes(&doc.blocks);
    let palette = ctx_palette(theme);
    let mut ctx = make_ctx(doc, assets, theme, height, warnings)?;
    let full = Env {
        left: 0.0,
        width,
        size,
        leading: size * theme.text.leading,
        list_depth: 0,
        indents: true,
        italic: false,
    };
    let env = Env {
        width: col_width,
        ..full
    };

    let title = doc
        .meta
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "Untitled".into());
    let title_elems = blocks::title_block(&mut ctx, &doc.meta, &title, &full);
    let spans = cols > 1 && title_elems.iter().map(|e| e.height).sum::<f32>() < height * 0.6;
    let (head, mut elems) = if spans {
        (title_elems, Vec::new())
    } else if cols > 1 {
        // Too tall to span the columns: set it in the first column instead.
        (
            Vec::new(),
            blocks::title_block(&mut ctx, &doc.meta, &title, &env),
        )
    } else {
        (Vec::new(), title_elems)
    };
    let title_len = elems.len();
    // A first heading repeating the title is already in the title block.
    let body: &[Block] = match doc.blocks.first() {
        Some(Block::Heading { content, .. })
            if model::plain_text(content).trim() == title.trim() =>
        {
            &doc.blocks[1..]
        }
        _ => &doc.blocks,
    };
    if theme.headings.numbered {
        ctx.numbers = model::numbering::section_numbers(body);
    }
    // In a book each article sets its own drop cap (see `blocks::article`).
    let book = body.iter().any(|b| matches!(b, Block::Article { .. }));
    ctx.drop_cap_pending = theme.text.drop_cap >= 2 && !book;
    ctx.recto = opts.recto && book;
    elems.extend(flow::body_elems(&mut ctx, body, &env, || {
        make_ctx(doc, assets, theme, height, &mut Vec::new())
    })?);

    let mut note_map: HashMap<u32, Vec<Elem>> = HashMap::new();
    let mut endnotes = Vec::new();
    for (n, content) in &defs {
        let e = blocks::note_elems(&mut ctx, *n, content, &env);
        note_map.insert(*n, e);
    }
    // Notes never referenced (or referenced only from unplaced notes) go at the end.
    let mut referenced: HashSet<u32> = elems.iter().flat_map(|e| e.notes.clone()).collect();
    let mut grew = true;
    while grew {
        grew = false;
        let inner: Vec<u32> = referenced
            .iter()
            .filter_map(|n| note_map.get(n))
            .flatten()
            .flat_map(|e| e.notes.clone())
            .collect();
        for n in inner {
            grew |= referenced.insert(n);
        }
    }
    for (n, _) in &defs {
        if !referenced.contains(n)
            && let Some(e) = note_map.remove(n)
        {
            endnotes.extend(e);
        }
    }
    if !endnotes.is_empty() {
        elems.push(Elem {
            discardable: true,
            ..Elem::new(env.leading)
        });
        elems.extend(endnotes);
    }
    // Notes referenced from notes follow their parent note.
    let keys: Vec<u32> = note_map.keys().copied().collect();
    for k in keys {
        let inner: Vec<u32> = note_map
            .get(&k)
            .into_iter()
            .flatten()
            .flat_map(|e| e.notes.clone())
            .collect();
        for i in inner {
            if i != k
                && let Some(mut child) = note_map.remove(&i)
                && let Some(parent) = note_map.get_mut(&k)
            {
                for e in &mut child {
                    e.notes.clear();
                }
                parent.append(&mut child);
            }
        }
    }
    for v in note_map.values_mut() {
        for e in v.iter_mut() {
            e.notes.clear();
        }
    }

    // Two columns: the title block spans them above the flow on the first page.
    let head_height: f32 = head.iter().map(|e| e.height).sum();
    let geo = paginate::Geometry {
        height,
        note_sep: env.leading * 0.9,
        short_height: height - head_height,
        short_count: if head.is_empty() { 0 } else { cols },
        columns: cols,
    };
    let page_count = |bodies: &[paginate::PageBody]| bodies.len().div_ceil(cols);
    // Whether there is a contents list, and how wide its numbers are, depends on how many
    // pages the body takes; a pass without the drawing tells that at a fraction of the cost.
    let body_pages = page_count(&paginate::paginate_owned(
        elems.iter().map(Elem::copy_for_trial).collect(),
        &note_map,
        geo,
    ));
    let toc_depth = if opts.toc_depth == 0 {
        2
    } else {
        opts.toc_depth
    };
    let toc = contents::entries(body, toc_depth);
    let want_toc = match opts.contents {
        ContentsMode::Never => false,
        ContentsMode::Always => !toc.is_empty(),
        ContentsMode::Auto if book => toc.iter().filter(|e| e.depth == 0).count() >= 2,
        ContentsMode::Auto => {
            toc.iter().filter(|e| e.depth == 0).count() >= contents::AUTO_MIN_SECTIONS
                && body_pages >= contents::AUTO_MIN_PAGES
        }
    };
    let mut bodies = if want_toc {
        // Room for the widest page number the contents could push the body to.
        let digits = (body_pages + toc.len() + 1).to_string().len();
        // The body starts on a new page after the contents.
        if let Some(first) = elems[title_len..].iter_mut().find(|e| !e.discardable) {
            first.break_before = true;
        }
        let with_contents = |ctx: &mut Ctx, pages: &HashMap<String, usize>, body: Vec<Elem>| {
            let mut list = contents::elems(ctx, &toc, pages, digits, &env);
            let mut body = body.into_iter();
            let mut all = Vec::with_capacity(body.len() + list.len());
            all.extend(body.by_ref().take(title_len));
            all.append(&mut list);
            all.extend(body);
            all
        };
        let outline: Vec<Elem> = elems.iter().map(Elem::copy_for_trial).collect();
        let trial = paginate::paginate_owned(
            with_contents(&mut ctx, &HashMap::new(), outline),
            &note_map,
            geo,
        );
        let mut pages = HashMap::new();
        for (bi, pb) in trial.iter().enumerate() {
            for (h, _) in &pb.headings {
                pages.entry(h.id.clone()).or_insert(bi / cols + 1);
            }
        }
        drop(trial);
        paginate::paginate_owned(with_contents(&mut ctx, &pages, elems), &note_map, geo)
    } else {
        paginate::paginate_owned(elems, &note_map, geo)
    };
    if cols > 1 {
        columns::balance_last_page(&mut bodies, cols, geo);
    }

    let author = doc.meta.byline().unwrap_or_default();
    let top_level = top_heading_level(body);
    let mut current: Option<String> = None;
    let mut pages = Vec::with_capacity(page_count(&bodies));
    let mut flat_outline: Vec<(u8, String, usize, f32)> = Vec::new();
    let mut chunks = bodies.into_iter().peekable();
    let mut pi = 0;
    while chunks.peek().is_some() {
        let number = pi + 1;
        let recto = number % 2 == 1;
        let left = if recto { inner } else { outer };
        let mut page = Page {
            width: paper.width,
            height: paper.height,
            items: Vec::new(),
        };
        let (col_top, col_height) = if pi == 0 && !head.is_empty() {
            let mut y = top;
            for e in &head {
                let h = e.height;
                page.items.extend(paginate::items_at(e.clone(), left, y));
                y += h;
            }
            (top + head_height, height - head_height)
        } else {
            (top, height)
        };
        let mut first_section = None;
        let mut filled = 0;
        for ci in 0..cols {
            let Some(pb) = chunks.next() else { break };
            if !pb.body.is_empty() || !pb.notes.is_empty() {
                filled += 1;
            }
            let x = left + ci as f32 * (col_width + gutter);
            for (h, y) in &pb.headings {
                flat_outline.push((h.level, h.title.clone(), pi, col_top + y));
                if Some(h.level) == top_level {
                    first_section.get_or_insert_with(|| h.title.clone());
                    current = Some(h.title.clone());
                }
            }
            let notes_h = pb.notes_height(geo.note_sep);
            for placed in pb.body {
                page.items
                    .extend(paginate::items_at(placed.elem, x, col_top + placed.y));
            }
            if !pb.notes.is_empty() {
                let mut y = col_top + col_height - notes_h;
                let rule_y = y + geo.note_sep * 0.45;
                page.items.push(Item::Line {
                    x1: x,
                    y1: rule_y,
                    x2: x + col_width.min(size * 8.0),
                    y2: rule_y,
                    thickness: 0.4,
                    color: palette.rule,
                });
                y += geo.note_sep;
                for e in pb.notes {
                    let h = e.height;
                    page.items.extend(paginate::items_at(e, x, y));
                    y += h;
                }
            }
        }
        if filled > 1 {
            // A column rule, as on a printed news page.
            let x = left + col_width + gutter / 2.0;
            page.items.push(Item::Line {
                x1: x,
                y1: col_top,
                x2: x,
                y2: top + height,
                thickness: 0.3,
                color: palette.rule,
            });
        }
        // Blank pages (before a right-hand start) carry no heads or folios.
        if pi > 0 && filled > 0 {
            let section = first_section
                .or_else(|| current.clone())
                .unwrap_or_else(|| title.clone());
            let f = frame::Frame {
                number,
                title: &title,
                section: &section,
                author: &author,
                left,
                width,
                top,
                bottom: top + height,
                margin_bottom: bottom,
            };
            frame::decorate(&mut ctx, &mut page, &f);
        }
        pages.push(page);
        pi += 1;
    }

    let missing = coverage::missing_warnings(&theme.name, &ctx.missing);
    ctx.warnings.extend(missing);
    warnings.extend(condense(ctx.warnings.drain(..)));
    Ok(LaidOut {
        pages,
        faces: ctx.fonts.face_data(),
        outline: nest_outline(&flat_outline),
    })
}

/// Warnings once each, and those of one kind (the text before ` (in "`) that recur
/// folded into one line with a count, so a long table of narrow cells gives one line.
fn condense(all: impl Iterator<Item = String>) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut kinds: HashMap<String, (usize, String)> = HashMap::new();
    let mut seen = HashSet::new();
    for w in all {
        if !seen.insert(w.clone()) {
            continue;
        }
        let kind = w.split(" (in \"").next().unwrap_or(&w).to_string();
        match kinds.get_mut(&kind) {
            Some((n, _)) => *n += 1,
            None => {
                order.push(kind.clone());
                kinds.insert(kind, (1, w));
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| {
            let (n, first) = kinds.remove(&k)?;
            Some(if n == 1 {
                first
            } else {
                let example = first.strip_prefix(k.as_str()).unwrap_or("");
                format!("{k} — {n} times, first{example}")
            })
        })
        .collect()
}

fn ctx_palette(theme: &Theme) -> Palette {
    let color = |s: &str| parse_color(s).unwrap_or([0, 0, 0]);
    Palette {
        text: color(&theme.colors.text),
        heading: color(&theme.colors.heading),
        link: color(&theme.colors.link),
        rule: color(&theme.colors.rule),
        accent: color(&theme.colors.accent),
    }
}

/// The layout context for one document.
fn make_ctx<'a>(
    doc: &Document,
    assets: &'a Assets,
    theme: &'a Theme,
    block_height: f32,
    _warnings: &mut Vec<String>,
) -> Result<Ctx<'a>, LayoutError> {
    let lang = doc
        .meta
        .language
        .clone()
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| "en".to_string());
    let (notes, _) = blocks::number_notes(&doc.blocks);
    let mut ids = HashSet::new();
    collect_ids(&doc.blocks, &mut ids);
    Ok(Ctx {
        fonts: FontSet::new(theme)?,
        cache: ShapeCache::new(),
        hyphens: hyphen::HyphenCache::default(),
        theme,
        assets,
        lang,
        warnings: Vec::new(),
        notes,
        ids,
        base_url: doc.meta.source_url.clone(),
        palette: ctx_palette(theme),
        missing: BTreeSet::new(),
        refs_placed: HashSet::new(),
        block_height,
        numbers: HashMap::new(),
        drop_cap_pending: false,
        recto: false,
    })
}

fn collect_ids(blocks: &[Block], ids: &mut HashSet<String>) {
    for b in blocks {
        match b {
            Block::Heading { id, .. } | Block::Article { id, .. } => {
                ids.insert(id.clone());
            }
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => collect_ids(blocks, ids),
            Block::List(l) => l.items.iter().for_each(|i| collect_ids(&i.blocks, ids)),
            _ => {}
        }
    }
}

/// The level running heads follow: articles (0) in a book, else the top heading level.
fn top_heading_level(blocks: &[Block]) -> Option<u8> {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            Block::Article { .. } => Some(0),
            _ => None,
        })
        .min()
}

/// Nests (level, title, page, y) headings in document order.
fn nest_outline(flat: &[(u8, String, usize, f32)]) -> Vec<OutlineEntry> {
    fn build(flat: &[(u8, String, usize, f32)], i: &mut usize, level: u8) -> Vec<OutlineEntry> {
        let mut out = Vec::new();
        while *i < flat.len() {
            let (l, title, page, y) = &flat[*i];
            if *l < level {
                break;
            }
            *i += 1;
            let children = build(flat, i, l.saturating_add(1));
            out.push(OutlineEntry {
                title: title.clone(),
                page: *page,
                y: *y,
                children,
            });
        }
        out
    }
    let mut i = 0;
    let min = flat.iter().map(|f| f.0).min().unwrap_or(1);
    let mut out = Vec::new();
    while i < flat.len() {
        out.extend(build(flat, &mut i, min));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::Asset;
    use crate::read::{Format, read_bytes};

    fn md(src: &str) -> Document {
        read_bytes("t.md", src.as_bytes(), Format::Markdown)
            .expect("markdown")
            .document
    }

    fn theme() -> Theme {
        Theme::default_theme().expect("classic")
    }

    fn set(doc: &Document, assets: &Assets) -> LaidOut {
        let mut w = Vec::new();
        typeset(doc, assets, &theme(), &LayoutOptions::default(), &mut w).expect("typeset")
    }

    /// Text block edges of page `i` (0-based): (left, right, top, bottom).
    fn block(i: usize) -> (f32, f32, f32, f32) {
        let t = theme();
        let p = PaperSize::parse(&t.page.size).expect("paper");
        let (inner, outer) = (
            t.page.margin_inner * PT_PER_MM,
            t.page.margin_outer * PT_PER_MM,
        );
        let left = if i.is_multiple_of(2) { inner } else { outer };
        let right = p.width - if i.is_multiple_of(2) { outer } else { inner };
        (
            left,
            right,
            t.page.margin_top * PT_PER_MM,
            p.height - t.page.margin_bottom * PT_PER_MM,
        )
    }

    fn run_right(r: &page::GlyphRun) -> f32 {
        r.x + r.glyphs.iter().map(|g| g.advance).sum::<f32>()
    }

    fn page_text(p: &Page) -> String {
        p.items
            .iter()
            .filter_map(|i| match i {
                Item::Glyphs(r) => {
                    Some(r.glyphs.iter().map(|g| g.text.as_str()).collect::<String>())
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn dest_page(l: &LaidOut, name: &str) -> Option<(usize, f32)> {
        l.pages.iter().enumerate().find_map(|(i, p)| {
            p.items.iter().find_map(|it| match it {
                Item::Dest { name: n, y } if n == name => Some((i, *y)),
                _ => None,
            })
        })
    }

    const WORDS: &[&str] = &[
        "harbour",
        "tide",
        "lantern",
        "quay",
        "northern",
        "weather",
        "ferry",
        "island",
        "morning",
        "council",
        "stone",
        "bread",
        "letter",
        "signal",
        "current",
        "evening",
        "extraordinary",
        "a",
        "of",
        "the",
        "and",
        "understanding",
        "navigation",
    ];

    fn words(seed: &mut u64, n: usize) -> String {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            out.push(WORDS[(*seed >> 33) as usize % WORDS.len()]);
        }
        out.join(" ")
    }

    fn long_doc(sections: usize, with_notes: bool) -> String {
        let mut s = String::from("---\ntitle: Test\n---\n\n");
        let mut seed = 7;
        for c in 0..sections {
            s.push_str(&format!("## Section {c}\n\n"));
            for p in 0..(3 + c % 4) {
                s.push_str(&words(&mut seed, 20 + (c * 37 + p * 53) % 120));
                if with_notes && p == 1 {
                    s.push_str(&format!("[^n{c}]"));
                }
                s.push_str(".\n\n");
            }
            if with_notes {
                s.push_str(&format!("[^n{c}]: Note {c}: {}.\n\n", words(&mut seed, 12)));
            }
        }
        s
    }

    #[test]
    fn justified_lines_fill_the_measure_exactly() {
        let theme = theme();
        let assets = Assets::default();
        let doc = md(&format!("{}\n", words(&mut 3, 400)));
        let mut w = Vec::new();
        let laid = typeset(&doc, &assets, &theme, &LayoutOptions::default(), &mut w).expect("ok");
        let (left, right, _, _) = block(0);
        // Group runs into lines by baseline.
        let mut lines: Vec<(f32, f32, f32)> = Vec::new(); // (y, min x, max right)
        for it in &laid.pages[0].items {
            if let Item::Glyphs(r) = it
                && r.size == theme.text.size
            {
                match lines.iter_mut().find(|l| (l.0 - r.y).abs() < 0.5) {
                    Some(l) => {
                        l.1 = l.1.min(r.x);
                        l.2 = l.2.max(run_right(r));
                    }
                    None => lines.push((r.y, r.x, run_right(r))),
                }
            }
        }
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(lines.len() > 10, "{}", lines.len());
        for l in &lines {
            assert!(
                l.1 >= left - 0.01 && l.2 <= right + 0.01,
                "line crosses the margins: {l:?}"
            );
        }
        // Every full line but the paragraph's last ends exactly at the right margin.
        for l in &lines[..lines.len() - 1] {
            assert!(
                (l.2 - right).abs() < 0.05,
                "ragged justified line: {l:?} vs {right}"
            );
        }
        // Justification lives in the advances of real space glyphs.
        let spaces = laid.pages[0]
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Glyphs(r) => Some(r.glyphs.iter().filter(|g| g.text == " ").count()),
                _ => None,
            })
            .sum::<usize>();
        assert!(spaces > 50);
    }

    #[test]
    fn ragged_right_keeps_natural_spaces() {
        let mut theme = theme();
        theme.text.justify = false;
        let doc = md(&words(&mut 5, 300));
        let mut w = Vec::new();
        let laid = typeset(
            &doc,
            &Assets::default(),
            &theme,
            &LayoutOptions::default(),
            &mut w,
        )
        .expect("ok");
        let mut widths = BTreeSet::new();
        for it in &laid.pages[0].items {
            if let Item::Glyphs(r) = it {
                for g in r.glyphs.iter().filter(|g| g.text == " ") {
                    widths.insert((g.advance * 100.0).round() as i64);
                }
            }
        }
        assert_eq!(widths.len(), 1, "spaces vary: {widths:?}");
    }

    #[test]
    fn headings_never_end_a_page() {
        let doc = md(&long_doc(40, false));
        let laid = set(&doc, &Assets::default());
        assert!(laid.pages.len() > 5);
        let mut checked = 0;
        for (pi, page) in laid.pages.iter().enumerate() {
            let (_, _, _, bottom) = block(pi);
            for it in &page.items {
                if let Item::Dest { name, y } = it
                    && name.starts_with("section-")
                {
                    // At least two body lines below the heading on the same page.
                    let below = page
                        .items
                        .iter()
                        .filter(|i| matches!(i, Item::Glyphs(r) if r.y > *y + 25.0 && r.y < bottom))
                        .count();
                    assert!(
                        below >= 2,
                        "heading {name} alone at the bottom of page {pi}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 40);
    }

    /// A 300 pt column of 11 pt text.
    fn column() -> Env {
        Env {
            left: 0.0,
            width: 300.0,
            size: 11.0,
            leading: 15.4,
            list_depth: 0,
            indents: true,
            italic: false,
        }
    }

    #[test]
    fn an_article_set_in_halves_is_set_as_in_one_pass() {
        let theme = theme();
        let assets = Assets::default();
        let mut seed = 5;
        let mut src: Vec<String> = (0..14)
            .map(|p| words(&mut seed, 30 + (p * 17) % 60))
            .collect();
        // A note cited in both halves, and emphasis, as an article has them.
        src[2].push_str(" *and so*[^n].");
        src[11].push_str(" again[^n].");
        src.push("[^n]: The note.".into());
        let doc = md(&src.join("\n\n"));
        let cut = flow::halfway(&doc.blocks).expect("a body long enough to cut");
        assert!((5..10).contains(&cut), "cut at {cut}");
        let env = column();
        let fresh = || make_ctx(&doc, &assets, &theme, 500.0, &mut Vec::new());
        let mut one = fresh().expect("ctx");
        one.drop_cap_pending = true;
        let mut whole = Vec::new();
        blocks::blocks(&mut one, &doc.blocks, &env, &mut whole);
        let mut two = fresh().expect("ctx");
        two.drop_cap_pending = true;
        let halves = flow::body_elems(&mut two, &doc.blocks, &env, fresh).expect("halves");
        assert_eq!(format!("{whole:?}"), format!("{halves:?}"));
    }

    #[test]
    fn no_widows_or_orphans() {
        let theme = theme();
        let assets = Assets::default();
        let mut w = Vec::new();
        let mut ctx = make_ctx(&Document::default(), &assets, &theme, 500.0, &mut w).expect("ctx");
        let env = column();
        let mut seed = 11;
        let mut elems = Vec::new();
        let mut owner = Vec::new(); // (paragraph, line, lines)
        for p in 0..60 {
            let spec = ctx.body_spec(&env, p > 0);
            let doc = md(&words(&mut seed, 10 + (p * 41) % 90));
            let inlines = match doc.blocks.first() {
                Some(Block::Paragraph { content }) => content.clone(),
                _ => Vec::new(),
            };
            let lines = paragraph::paragraph_elems(&mut ctx, &inlines, &spec);
            let n = lines.len();
            for (i, l) in lines.into_iter().enumerate() {
                owner.push(Some((p, i, n)));
                elems.push(l);
            }
        }
        let geo = paginate::Geometry::uniform(500.0, 14.0);
        let pages = paginate::paginate(&elems, &HashMap::new(), geo);
        assert!(pages.len() > 5);
        // Map placed elements back to their lines by order.
        let mut k = 0;
        for (pi, page) in pages.iter().enumerate() {
            let first = owner[k];
            k += page.body.len();
            let last = owner[k - 1];
            if let Some((p, i, n)) = first {
                assert!(
                    !(n >= 2 && i == n - 1),
                    "widow: last line of paragraph {p} tops page {pi}"
                );
            }
            if let Some((p, i, n)) = last
                && pi + 1 < pages.len()
            {
                assert!(
                    !(n >= 2 && i == 0),
                    "orphan: first line of paragraph {p} ends page {pi}"
                );
            }
            assert!(
                page.body
                    .last()
                    .is_some_and(|b| b.y + b.elem.height <= 500.01)
            );
        }
        assert_eq!(k, owner.len());
    }

    #[test]
    fn footnotes_land_on_the_page_of_their_reference() {
        let doc = md(&long_doc(30, true));
        let laid = set(&doc, &Assets::default());
        for n in 1..=30 {
            let r = dest_page(&laid, &format!("fnref-{n}")).expect("reference");
            let d = dest_page(&laid, &format!("fn-{n}")).expect("note");
            assert_eq!(r.0, d.0, "note {n}");
            assert!(d.1 > r.1, "note {n} is below its reference");
        }
    }

    #[test]
    fn table_header_repeats_after_a_page_break() {
        let mut s = String::from("| Species | Form |\n|---|---|\n");
        for i in 0..120 {
            s.push_str(&format!("| plant {i} | leafy and green |\n"));
        }
        let laid = set(&md(&s), &Assets::default());
        assert!(laid.pages.len() >= 3);
        for p in &laid.pages {
            assert!(page_text(p).contains("Species"), "no header on a page");
        }
    }

    #[test]
    fn a_row_taller_than_a_page_runs_on_with_its_header() {
        let mut seed = 3;
        let long = words(&mut seed, 900);
        let s = format!(
            "| Name | Notes |\n|---|---|\n| first | short |\n| second | {long} |\n| third | end |\n"
        );
        let laid = set(&md(&s), &Assets::default());
        assert!(laid.pages.len() >= 3, "{} pages", laid.pages.len());
        let (_, _, _, bottom) = block(0);
        let mut seen = String::new();
        for p in &laid.pages {
            assert!(page_text(p).contains("Name"), "no header on a page");
            for it in &p.items {
                if let Item::Glyphs(r) = it
                    && r.y > bottom + 0.01
                {
                    // Only the folio sits below the text block.
                    let t: String = r.glyphs.iter().map(|g| g.text.as_str()).collect();
                    assert!(t.chars().all(|c| c.is_ascii_digit()), "{t} below the block");
                }
            }
            seen.push_str(&page_text(p));
        }
        // Every word of the long cell, in order.
        let flat = seen
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("- ", "");
        let mut at = 0;
        for w in long.split_whitespace().take(200) {
            let found = flat[at..].find(w);
            assert!(found.is_some(), "lost {w}");
            at += found.unwrap_or(0);
        }
        assert!(flat.contains("third"));
    }

    #[test]
    fn code_wraps_inside_the_text_block() {
        let long = "x = [".to_string() + &"1234, ".repeat(80) + "]";
        let laid = set(
            &md(&format!("```\n{long}\nshort\n```\n")),
            &Assets::default(),
        );
        let (left, right, _, _) = block(0);
        let mut runs = 0;
        for it in &laid.pages[0].items {
            if let Item::Glyphs(r) = it {
                assert!(r.x >= left - 0.01 && run_right(r) <= right + 0.01);
                runs += 1;
            }
        }
        let text = page_text(&laid.pages[0]);
        assert!(text.matches(CONTINUATION_FOR_TESTS).count() >= 3, "{text}");
        assert!(runs > 4);
    }

    const CONTINUATION_FOR_TESTS: &str = "→";

    #[test]
    fn images_stay_inside_the_text_block() {
        let mut assets = Assets::default();
        for (src, w, h) in [
            ("tall.png", 800, 5000),
            ("wide.png", 5000, 600),
            ("tiny.png", 16, 16),
        ] {
            assets.insert(
                src,
                Asset {
                    data: src.as_bytes().to_vec(),
                    media_type: "image/png",
                    ext: "png",
                    width: w,
                    height: h,
                },
            );
        }
        let doc =
            md("![a](tall.png)\n\n![b](wide.png)\n\n![c](tiny.png)\n\n![gone](missing.png)\n");
        let laid = set(&doc, &assets);
        let mut seen = 0;
        for (pi, p) in laid.pages.iter().enumerate() {
            let (left, right, top, bottom) = block(pi);
            for it in &p.items {
                if let Item::Image {
                    x,
                    y,
                    width,
                    height,
                    ..
                } = it
                {
                    assert!(*x >= left - 0.01 && x + width <= right + 0.01);
                    assert!(*y >= top - 0.01 && y + height <= bottom + 0.01);
                    // Aspect ratio kept.
                    let ratio = width / height;
                    assert!(
                        [800.0 / 5000.0, 5000.0 / 600.0, 1.0]
                            .iter()
                            .any(|r| (r - ratio).abs() < 0.01)
                    );
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 3);
        assert!(laid.pages.iter().any(|p| page_text(p).contains("gone")));
    }

    #[test]
    fn outline_nests_headings_in_order() {
        let doc = md(
            "---\ntitle: Doc\n---\n\n# A\n\ntext\n\n## B\n\ntext\n\n### C\n\ntext\n\n## D\n\ntext\n\n# E\n\ntext\n",
        );
        let laid = set(&doc, &Assets::default());
        let o = &laid.outline;
        assert_eq!(
            o.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
            ["A", "E"]
        );
        assert_eq!(o[0].children.len(), 2);
        assert_eq!(o[0].children[0].children[0].title, "C");
        assert!(o[0].y < o[0].children[0].y);
    }

    #[test]
    fn overlong_words_break_with_a_warning() {
        let url = format!("https://example.com/{}", "abcdefghij".repeat(30));
        let doc = md(&format!("See <{url}> for details.\n"));
        let mut w = Vec::new();
        let laid = typeset(
            &doc,
            &Assets::default(),
            &theme(),
            &LayoutOptions::default(),
            &mut w,
        )
        .expect("ok");
        let (left, right, _, _) = block(0);
        for it in &laid.pages[0].items {
            if let Item::Glyphs(r) = it {
                assert!(r.x >= left - 0.01 && run_right(r) <= right + 0.01);
            }
        }
        assert!(w.iter().any(|m| m.contains("wider than the line")), "{w:?}");
        assert!(
            laid.pages[0]
                .items
                .iter()
                .any(|i| matches!(i, Item::Link { .. }))
        );
    }

    #[test]
    fn running_heads_and_folios_skip_the_first_page() {
        let doc = md(&long_doc(12, false));
        let laid = set(&doc, &Assets::default());
        assert!(laid.pages.len() > 2);
        let (_, _, top, bottom) = block(0);
        let outside = |p: &Page| {
            p.items
                .iter()
                .filter(|i| matches!(i, Item::Glyphs(r) if r.y < top || r.y > bottom))
                .count()
        };
        assert_eq!(outside(&laid.pages[0]), 0);
        for p in &laid.pages[1..] {
            assert_eq!(outside(p), 2);
        }
        assert!(page_text(&laid.pages[1]).contains("Test"));
    }

    /// Page numbers printed in the contents, by destination: each entry's link target and
    /// the digits set on the same line.
    fn contents_numbers(p: &Page) -> Vec<(String, String)> {
        p.items
            .iter()
            .filter_map(|i| match i {
                Item::Link {
                    y,
                    height,
                    target: page::LinkTarget::Internal(id),
                    ..
                } if !id.starts_with("fn") => {
                    let digits: String = p
                        .items
                        .iter()
                        .filter_map(|g| match g {
                            Item::Glyphs(r) if r.y > *y && r.y < y + height => {
                                Some(r.glyphs.iter().map(|g| g.text.as_str()).collect::<String>())
                            }
                            _ => None,
                        })
                        .filter(|t| t.chars().all(|c| c.is_ascii_digit()))
                        .collect();
                    Some((id.clone(), digits))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn contents_list_the_pages_their_headings_land_on() {
        let doc = md(&long_doc(14, true));
        let mut w = Vec::new();
        let opts = LayoutOptions {
            contents: ContentsMode::Always,
            ..LayoutOptions::default()
        };
        let laid = typeset(&doc, &Assets::default(), &theme(), &opts, &mut w).expect("typeset");
        let listed = contents_numbers(&laid.pages[0]);
        assert_eq!(listed.len(), 14, "{listed:?}");
        for (id, number) in &listed {
            let (page, _) = dest_page(&laid, id).expect("heading destination");
            assert_eq!(number, &(page + 1).to_string(), "{id}");
            assert!(page > 0, "the body starts after the contents");
        }
        assert!(page_text(&laid.pages[0]).contains("Contents"));
        // The contents are not in the outline; every heading is.
        assert_eq!(laid.outline.len(), 14);

        // Never: no contents even when asked for nothing else.
        let opts = LayoutOptions {
            contents: ContentsMode::Never,
            ..LayoutOptions::default()
        };
        let plain = typeset(&doc, &Assets::default(), &theme(), &opts, &mut w).expect("typeset");
        assert!(contents_numbers(&plain.pages[0]).is_empty());
        // Auto: short documents go without.
        let short = md(&long_doc(3, false));
        assert!(contents_numbers(&set(&short, &Assets::default()).pages[0]).is_empty());
    }

    fn set_with(doc: &Document, theme: &Theme) -> LaidOut {
        let mut w = Vec::new();
        typeset(
            doc,
            &Assets::default(),
            theme,
            &LayoutOptions::default(),
            &mut w,
        )
        .expect("typeset")
    }

    fn runs(p: &Page) -> impl Iterator<Item = &page::GlyphRun> {
        p.items.iter().filter_map(|i| match i {
            Item::Glyphs(r) => Some(r),
            _ => None,
        })
    }

    #[test]
    fn newspaper_sets_two_columns_under_a_spanning_title() {
        let theme = Theme::load("newspaper").expect("newspaper");
        let doc =
            md(&long_doc(30, false)
                .replace("title: Test", "title: A Headline Long Enough To Span"));
        let laid = set_with(&doc, &theme);
        assert!(laid.pages.len() >= 2);
        let paper = PaperSize::parse(&theme.page.size).expect("paper");
        let pg = &theme.page;
        let gutter = pg.gutter * PT_PER_MM;
        let width = paper.width - (pg.margin_inner + pg.margin_outer) * PT_PER_MM;
        let col = (width - gutter) / 2.0;
        let (top, bottom) = (
            pg.margin_top * PT_PER_MM,
            paper.height - pg.margin_bottom * PT_PER_MM,
        );
        for (i, p) in laid.pages.iter().enumerate() {
            let left = if i % 2 == 0 {
                pg.margin_inner
            } else {
                pg.margin_outer
            } * PT_PER_MM;
            let (mut first, mut second) = (0, 0);
            for r in runs(p).filter(|r| r.y > top && r.y < bottom) {
                let right = run_right(r);
                let size = theme.text.size;
                if (r.size - size).abs() > 0.01 && r.size < size * 1.5 {
                    continue; // footnotes, captions
                }
                if r.size > size * 2.0 {
                    assert_eq!(i, 0, "headline only on the first page");
                    continue;
                }
                if right <= left + col + 0.01 {
                    first += 1;
                } else {
                    assert!(
                        r.x >= left + col + gutter - 0.01 && right <= left + width + 0.01,
                        "run at {}..{right} crosses the gutter on page {i}",
                        r.x
                    );
                    second += 1;
                }
            }
            assert!(first > 0 && second > 0, "page {i}: {first} / {second} runs");
        }
        // The headline spans both columns.
        let headline = runs(&laid.pages[0])
            .filter(|r| r.size > theme.text.size * 2.0)
            .map(run_right)
            .fold(0.0f32, f32::max);
        assert!(
            headline > pg.margin_inner * PT_PER_MM + col + gutter,
            "{headline}"
        );
    }

    #[test]
    fn running_heads_and_feet_follow_the_templates() {
        let mut theme = theme();
        theme.page.header_verso = "{author} — {title}".into();
        theme.page.header_recto = String::new();
        theme.page.footer_verso = "p. {page}".into();
        theme.page.footer_recto = "p. {page}".into();
        let doc = md(&long_doc(12, false).replace("title: Test", "title: Test\nauthor: Ann Lee"));
        let laid = set_with(&doc, &theme);
        let (_, _, top, bottom) = block(0);
        let outside = |p: &Page| -> (String, String) {
            let pick = |f: &dyn Fn(f32) -> bool| {
                runs(p)
                    .filter(|r| f(r.y))
                    .map(|r| r.glyphs.iter().map(|g| g.text.as_str()).collect::<String>())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (pick(&|y| y < top), pick(&|y| y > bottom))
        };
        let (head, foot) = outside(&laid.pages[1]);
        assert!(head.contains("Ann") && head.contains("Test"), "{head}");
        assert!(foot.contains("p.") && foot.contains('2'), "{foot}");
        let (head, foot) = outside(&laid.pages[2]);
        assert!(head.is_empty(), "{head}");
        assert!(foot.contains('3'), "{foot}");
        assert_eq!(outside(&laid.pages[0]), (String::new(), String::new()));
    }

    #[test]
    fn drop_cap_spans_three_lines_and_keeps_the_word() {
        let mut theme = theme();
        theme.text.drop_cap = 3;
        // A two-line paragraph is too short for the letter, which goes to the next one.
        let mut seed = 5;
        let body = format!(
            "# Test\n\nShort opening line.\n\n{}\n\n{}\n",
            words(&mut seed, 90),
            words(&mut seed, 60)
        );
        let doc = md(&body);
        let laid = set_with(&doc, &theme);
        let size = theme.text.size;
        let p = &laid.pages[0];
        let big: Vec<&page::GlyphRun> = runs(p)
            .filter(|r| r.size > size * 2.5 && r.size < size * 6.0)
            .collect();
        // The title is 2.2 em; the drop cap is larger still and alone.
        let cap = big
            .iter()
            .max_by(|a, b| a.size.total_cmp(&b.size))
            .expect("a drop cap");
        assert!(cap.glyphs.iter().all(|g| g.text.is_empty()));
        let leading = size * theme.text.leading;
        // Lines beside the letter start to its right; the fourth returns to the margin.
        let mut starts: Vec<(f32, f32)> = runs(p)
            .filter(|r| (r.size - size).abs() < 0.01 && r.y > cap.y - 2.0 * leading - 0.5)
            .map(|r| (r.y, r.x))
            .collect();
        starts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        starts.dedup_by(|a, b| (a.0 - b.0).abs() < 0.1);
        assert!(starts.len() >= 4, "{starts:?}");
        let (left, ..) = block(0);
        for (y, x) in &starts[..3] {
            assert!(
                *x >= run_right(cap),
                "line at {y} starts at {x}, inside the letter"
            );
        }
        assert!((starts[3].1 - left).abs() < 0.5, "{:?}", starts[3]);
        // The letter's baseline is the third line's.
        assert!((starts[2].0 - cap.y).abs() < 0.5);
        let first_word = runs(p)
            .find(|r| (r.y - starts[0].0).abs() < 0.1 && (r.size - size).abs() < 0.01)
            .and_then(|r| r.glyphs.first())
            .map(|g| g.text.clone())
            .unwrap_or_default();
        assert!(first_word.chars().count() >= 2, "{first_word}");
    }

    #[test]
    fn numbered_headings_number_text_contents_and_outline() {
        let mut theme = theme();
        theme.headings.numbered = true;
        let doc = md(&long_doc(12, false));
        let laid = set_with(&doc, &theme);
        assert_eq!(laid.outline[0].title, "1\u{2002}Section 0");
        assert_eq!(laid.outline[11].title, "12\u{2002}Section 11");
        let all: String = laid.pages.iter().map(page_text).collect();
        assert!(
            all.contains("12\u{2002}Section"),
            "number missing in the text"
        );
    }

    fn book(recto: bool) -> LaidOut {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut sources = Vec::new();
        for (i, n) in [3usize, 1, 2].iter().enumerate() {
            let path = tmp.path().join(format!("{i}.md"));
            let text = long_doc(*n, true).replace("title: Test", &format!("title: Article {i}"));
            std::fs::write(&path, text).expect("write");
            sources.push(crate::read::read_file(&path, Some(Format::Markdown)).expect("read"));
        }
        let meta = model::Meta {
            title: Some("The Book".into()),
            ..model::Meta::default()
        };
        let doc = crate::bundle::bundle(meta, sources);
        let mut w = Vec::new();
        let opts = LayoutOptions {
            recto,
            ..LayoutOptions::default()
        };
        typeset(&doc, &Assets::default(), &theme(), &opts, &mut w).expect("typeset")
    }

    #[test]
    fn a_book_nests_articles_and_starts_each_on_a_new_page() {
        let laid = book(false);
        let titles: Vec<&str> = laid.outline.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, vec!["Article 0", "Article 1", "Article 2"]);
        assert_eq!(laid.outline[0].children.len(), 3);
        assert_eq!(laid.outline[0].children[0].title, "Section 0");
        let starts: Vec<usize> = (1..=3)
            .map(|i| {
                dest_page(&laid, &format!("article-{i}"))
                    .expect("article")
                    .0
            })
            .collect();
        assert!(starts[0] > 0 && starts[0] < starts[1] && starts[1] < starts[2]);
        for (i, &p) in starts.iter().enumerate() {
            // The title block is the first thing on the page.
            let (_, y) = dest_page(&laid, &format!("article-{}", i + 1)).expect("dest");
            let (_, _, top, _) = block(p);
            assert!(
                (y - top).abs() < 1.0,
                "article {i} starts at {y}, not the top"
            );
        }
        // The contents on the first page list the three articles.
        let text = page_text(&laid.pages[0]);
        assert!(
            text.contains("Article 0") && text.contains("Article 2"),
            "{text}"
        );
        // Running heads: the book on the left, the article on the right.
        let p = starts[0] + 1;
        let head = page_text(&laid.pages[p]);
        let want = if (p + 1).is_multiple_of(2) {
            "The Book"
        } else {
            "Article 0"
        };
        assert!(head.contains(want), "page {p}: {head}");

        let laid = book(true);
        for i in 1..=3 {
            let (p, _) = dest_page(&laid, &format!("article-{i}")).expect("article");
            assert_eq!(
                p % 2,
                0,
                "article {i} on page {} is not a right-hand page",
                p + 1
            );
        }
    }
}
