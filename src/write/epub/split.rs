//! Dividing a document into content files: one per top-level section, long ones cut further.

use std::collections::HashMap;

use crate::model::{Block, Document, Inline};

/// Rough XHTML size above which a section is cut into several files, so
/// e-readers never choke on one huge document.
const MAX_FILE_BYTES: usize = 120_000;

/// One content file: a run of top-level blocks.
#[derive(Debug, Clone)]
pub struct Part {
    /// File name inside the EPUB.
    pub file: String,
    /// Index range into `Document::blocks`.
    pub start: usize,
    /// End of the range (exclusive).
    pub end: usize,
}

/// The heading level that starts a new file: the highest level used at the top of the body.
pub fn top_level(doc: &Document) -> u8 {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .min()
        .unwrap_or(1)
}

/// More top-level sections than this and small ones share files: thousands of tiny
/// documents make reading systems (and EPUBCheck) crawl.
const MAX_SECTION_FILES: usize = 300;

/// Splits the body into files named `text-NNN.xhtml`; every article of a book starts one.
pub fn split(doc: &Document, top: u8) -> Vec<Part> {
    let is_section = |b: &Block| {
        matches!(b, Block::Heading { level, .. } if *level == top)
            || matches!(b, Block::Article { .. })
    };
    let sections = doc.blocks.iter().filter(|b| is_section(b)).count();
    // Past the file limit, a section starts a new file only once the current one is well filled.
    let min_fill = if sections > MAX_SECTION_FILES {
        MAX_FILE_BYTES / 4
    } else {
        0
    };
    let mut parts: Vec<Part> = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, block) in doc.blocks.iter().enumerate() {
        let block_size = estimate(block);
        let article = matches!(block, Block::Article { .. });
        if i > start
            && (article
                || (is_section(block) && size >= min_fill)
                || size + block_size > MAX_FILE_BYTES)
        {
            parts.push(Part {
                file: String::new(),
                start,
                end: i,
            });
            start = i;
            size = 0;
        }
        size += block_size;
    }
    if start < doc.blocks.len() || parts.is_empty() {
        parts.push(Part {
            file: String::new(),
            start,
            end: doc.blocks.len(),
        });
    }
    for (n, p) in parts.iter_mut().enumerate() {
        p.file = format!("text-{:03}.xhtml", n + 1);
    }
    parts
}

/// Approximate XHTML bytes of a block.
fn estimate(block: &Block) -> usize {
    fn inl(xs: &[Inline]) -> usize {
        xs.iter()
            .map(|x| match x {
                Inline::Text { text } | Inline::Code { text } => text.len() + 2,
                Inline::Link { url, content, .. } => url.len() + 16 + inl(content),
                Inline::RawHtml { html } => html.len(),
                other => 24 + other.children().map_or(0, inl),
            })
            .sum()
    }
    fn blk(xs: &[Block]) -> usize {
        xs.iter().map(estimate).sum()
    }
    16 + match block {
        Block::Heading { content, .. } | Block::Paragraph { content } => inl(content),
        Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => blk(blocks),
        Block::List(l) => l.items.iter().map(|i| 10 + blk(&i.blocks)).sum(),
        Block::Code { text, .. } => text.len() + text.len() / 8,
        Block::Figure(f) => 64 + inl(&f.caption),
        Block::Table(t) => t
            .header
            .iter()
            .flatten()
            .chain(t.rows.iter().flatten())
            .map(|c| 10 + inl(&c.content))
            .sum(),
        Block::Rule | Block::Article { .. } => 0,
        Block::RawHtml { html } => html.len(),
    }
}

/// Every heading and article id in `blocks` (at any depth) mapped to `file`.
pub fn collect_ids(blocks: &[Block], file: &str, ids: &mut HashMap<String, String>) {
    for b in blocks {
        match b {
            Block::Heading { id, .. } | Block::Article { id, .. } => {
                ids.entry(id.clone()).or_insert_with(|| file.to_string());
            }
            Block::Quote { blocks } => collect_ids(blocks, file, ids),
            Block::List(l) => l
                .items
                .iter()
                .for_each(|i| collect_ids(&i.blocks, file, ids)),
            _ => {}
        }
    }
}

/// Footnote labels referenced in `blocks`, in reading order (footnote definitions themselves skipped).
pub fn note_refs(blocks: &[Block], out: &mut Vec<String>) {
    fn inl(xs: &[Inline], out: &mut Vec<String>) {
        for x in xs {
            match x {
                Inline::FootnoteRef { label } => out.push(label.clone()),
                other => {
                    if let Some(c) = other.children() {
                        inl(c, out)
                    }
                }
            }
        }
    }
    for b in blocks {
        match b {
            Block::Heading { content, .. } | Block::Paragraph { content } => inl(content, out),
            Block::Quote { blocks } => note_refs(blocks, out),
            Block::List(l) => l.items.iter().for_each(|i| note_refs(&i.blocks, out)),
            Block::Figure(f) => inl(&f.caption, out),
            Block::Table(t) => {
                for c in t.header.iter().flatten().chain(t.rows.iter().flatten()) {
                    inl(&c.content, out);
                }
            }
            Block::FootnoteDef { .. }
            | Block::Code { .. }
            | Block::Rule
            | Block::RawHtml { .. }
            | Block::Article { .. } => {}
        }
    }
}

/// Every footnote definition in `blocks` (at any depth), label → content; first definition wins.
pub fn collect_notes<'a>(blocks: &'a [Block], out: &mut Vec<(&'a str, &'a [Block])>) {
    for b in blocks {
        match b {
            Block::FootnoteDef { label, blocks } if !out.iter().any(|(l, _)| *l == label) => {
                out.push((label, blocks));
            }
            Block::Quote { blocks } => collect_notes(blocks, out),
            Block::List(l) => l.items.iter().for_each(|i| collect_notes(&i.blocks, out)),
            _ => {}
        }
    }
}
