//! The body as one vertical list, set on all cores: a long body is cut at articles (in a
//! book) or top-level headings into chunks that are shaped and broken into lines in
//! parallel, then joined as if set in one pass.
//!
//! A body too short for that (an article) but long enough to be worth it is set in two
//! halves at once, cut between two paragraphs, the first half on this thread.
//!
//! Chunks never depend on the number of threads, so output is the same on any machine.

use std::collections::HashSet;
use std::ops::Range;

use rayon::prelude::*;

use super::LayoutError;
use super::blocks::{self, Ctx, Elem, Env, Follows};
use super::page::Item;
use crate::beside::along;
use crate::model::Block;

/// One chunk set: its elements, warnings and characters no face has.
type Chunk = (Vec<Elem>, Vec<String>, Vec<char>);

/// Bodies shorter than this are set in one piece: splitting costs more than it saves.
const MIN_PARALLEL_BLOCKS: usize = 96;
/// At most this many chunks (each needs its own font set and shaping cache).
const MAX_CHUNKS: usize = 16;
/// Bodies with less text than this (in bytes) are set on one thread: below it, a second
/// thread's own start (its font set, shaping plans and caches) costs about what it saves.
const HALVES_FROM_TEXT: usize = 2_000;

/// The body's elements. `fresh` makes a context like `ctx` for another chunk.
pub(crate) fn body_elems<'a, F>(
    ctx: &mut Ctx<'a>,
    body: &[Block],
    env: &Env,
    fresh: F,
) -> Result<Vec<Elem>, LayoutError>
where
    F: Fn() -> Result<Ctx<'a>, LayoutError> + Sync,
{
    let chunks = chunks(body);
    if chunks.len() <= 1 {
        if let Some(cut) = halfway(body) {
            return halves(ctx, body, cut, env, fresh);
        }
        // No side job in this layout: the other core need not be kept awake.
        crate::warm::done();
        let mut out = Vec::new();
        blocks::blocks(ctx, body, env, &mut out);
        return Ok(out);
    }
    crate::warm::done();
    let numbers = ctx.numbers.clone();
    let recto = ctx.recto;
    let drop_cap = ctx.drop_cap_pending;
    let base_url = ctx.base_url.clone();
    let parts: Vec<Result<Chunk, LayoutError>> = chunks
        .par_iter()
        .enumerate()
        .map(|(i, range)| {
            let mut c = fresh()?;
            c.numbers = numbers.clone();
            c.recto = recto;
            c.drop_cap_pending = drop_cap && i == 0;
            c.base_url = base_url.clone();
            let mut out = Vec::new();
            let follows = if i > 0 {
                Follows::Block
            } else {
                Follows::Nothing
            };
            blocks::blocks_after(&mut c, &body[range.clone()], env, &mut out, follows);
            Ok((out, c.warnings, c.missing.into_iter().collect()))
        })
        .collect();
    let mut all: Vec<Elem> = Vec::new();
    for part in parts {
        append(ctx, &mut all, part?);
    }
    first_references_only(&mut all);
    Ok(all)
}

/// Appends a chunk set elsewhere, its warnings and missing characters going to `ctx`.
fn append(ctx: &mut Ctx, all: &mut Vec<Elem>, (elems, warnings, missing): Chunk) {
    ctx.warnings.extend(warnings);
    ctx.missing.extend(missing);
    join(all, elems);
}

/// Sets `body` as two halves at once, cut before block `cut`: the first on this thread
/// with `ctx`, whose caches the title block has warmed, the second beside it (on the core
/// kept awake, see [`along`]) with a context from `fresh`. Joined, they are the elements one pass would give.
fn halves<'a, F>(
    ctx: &mut Ctx<'a>,
    body: &[Block],
    cut: usize,
    env: &Env,
    fresh: F,
) -> Result<Vec<Elem>, LayoutError>
where
    F: Fn() -> Result<Ctx<'a>, LayoutError> + Sync,
{
    let (front, back) = body.split_at(cut);
    let numbers = ctx.numbers.clone();
    let base_url = ctx.base_url.clone();
    let recto = ctx.recto;
    let set_back = || -> Result<Chunk, LayoutError> {
        let mut c = fresh()?;
        c.numbers = numbers.clone();
        c.base_url = base_url.clone();
        c.recto = recto;
        let mut out = Vec::new();
        blocks::blocks_after(&mut c, back, env, &mut out, Follows::Paragraph);
        Ok((out, c.warnings, c.missing.into_iter().collect()))
    };
    let (back_set, mut all) = along("layout", set_back, || {
        let mut out = Vec::new();
        blocks::blocks_after(ctx, front, env, &mut out, Follows::Nothing);
        out
    });
    if ctx.drop_cap_pending {
        // Every paragraph of the first half was too short for the drop cap, which passes
        // on into the second: set that here, as one pass would have.
        let mut out = Vec::new();
        blocks::blocks_after(ctx, back, env, &mut out, Follows::Paragraph);
        join(&mut all, out);
    } else {
        append(ctx, &mut all, back_set?);
    }
    first_references_only(&mut all);
    Ok(all)
}

/// Where to cut a body of paragraphs in two of about equal text: before a paragraph that
/// follows another (neither a lone image), so the second half starts as one pass would
/// have reached it. `None` for a short body or one with no such place.
pub(super) fn halfway(body: &[Block]) -> Option<usize> {
    let text: Vec<usize> = body.iter().map(text_len).collect();
    let total: usize = text.iter().sum();
    if total < HALVES_FROM_TEXT {
        return None;
    }
    let plain = |b: &Block| matches!(b, Block::Paragraph { content } if blocks::lone_image(content).is_none());
    let mut before = 0;
    let mut best: Option<(usize, usize)> = None;
    for i in 1..body.len() {
        before += text[i - 1];
        if plain(&body[i - 1]) && plain(&body[i]) {
            let off = before.abs_diff(total - before);
            if best.is_none_or(|(_, b)| off < b) {
                best = Some((i, off));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// Bytes of text in a block, a measure of the work of setting it.
fn text_len(block: &Block) -> usize {
    match block {
        Block::Paragraph { content } | Block::Heading { content, .. } => {
            crate::model::plain_text(content).len()
        }
        Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
            blocks.iter().map(text_len).sum()
        }
        Block::List(l) => l.items.iter().flat_map(|i| &i.blocks).map(text_len).sum(),
        Block::Code { text, .. } => text.len(),
        Block::Table(t) => t
            .header
            .iter()
            .chain(t.rows.iter())
            .flatten()
            .map(|c| crate::model::plain_text(&c.content).len())
            .sum(),
        Block::Figure(f) => crate::model::plain_text(&f.caption).len(),
        _ => 0,
    }
}

/// Where the body may be cut: before every article, else before every heading of the top
/// level; consecutive pieces are grouped into at most [`MAX_CHUNKS`] chunks of similar size.
fn chunks(body: &[Block]) -> Vec<Range<usize>> {
    if body.len() < MIN_PARALLEL_BLOCKS {
        return std::iter::once(0..body.len()).collect();
    }
    let book = body.iter().any(|b| matches!(b, Block::Article { .. }));
    let top = body
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .min();
    let cut = |b: &Block| match b {
        Block::Article { .. } => true,
        Block::Heading { level, .. } => !book && Some(*level) == top,
        _ => false,
    };
    let mut starts: Vec<usize> = (1..body.len()).filter(|&i| cut(&body[i])).collect();
    starts.insert(0, 0);
    let target = body.len().div_ceil(MAX_CHUNKS).max(MIN_PARALLEL_BLOCKS / 4);
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    for &s in starts.iter().skip(1) {
        if s - start >= target {
            out.push(start..s);
            start = s;
        }
    }
    out.push(start..body.len());
    out
}

/// Appends a chunk's elements, merging the gap between chunks as one pass would have
/// (the larger gap wins; it stays tied to what precedes a heading-only section).
fn join(all: &mut Vec<Elem>, mut next: Vec<Elem>) {
    let is_gap = |e: &Elem| e.discardable && e.items.is_empty();
    if let (Some(last), Some(first)) = (all.last(), next.first())
        && is_gap(last)
        && is_gap(first)
    {
        let height = last.height.max(first.height);
        let keep = all
            .iter()
            .rev()
            .find(|e| !e.discardable)
            .is_some_and(|e| e.keep_with_next);
        next.remove(0);
        if let Some(last) = all.last_mut() {
            last.height = height;
            last.keep_with_next = keep;
        }
    }
    all.append(&mut next);
}

/// Each chunk marks the first reference to a footnote it sees; only the book's first
/// reference keeps its mark (and brings the note to its page).
fn first_references_only(elems: &mut [Elem]) {
    let mut seen: HashSet<u32> = HashSet::new();
    let mut dests: HashSet<String> = HashSet::new();
    for e in elems {
        e.notes.retain(|n| seen.insert(*n));
        e.items.retain(|it| match it {
            Item::Dest { name, .. } if name.starts_with("fnref-") => dests.insert(name.clone()),
            _ => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Inline;

    fn para() -> Block {
        Block::Paragraph {
            content: vec![Inline::text("text")],
        }
    }

    fn h(level: u8) -> Block {
        Block::Heading {
            level,
            id: format!("h{level}"),
            content: vec![Inline::text("h")],
        }
    }

    #[test]
    fn articles_are_halved_between_paragraphs_of_text() {
        let long = |n: usize| Block::Paragraph {
            content: vec![Inline::text("x".repeat(n))],
        };
        let image = Block::Paragraph {
            content: vec![Inline::Image(crate::model::Image {
                src: "a.png".into(),
                alt: "a".into(),
                title: None,
            })],
        };
        // Too little text to be worth a thread.
        assert_eq!(halfway(&[long(600), long(600), long(600)]), None);
        // Even paragraphs: the middle one.
        let even: Vec<Block> = (0..6).map(|_| long(500)).collect();
        assert_eq!(halfway(&even), Some(3));
        // The nearest place between two paragraphs of text, never next to a heading or
        // an image.
        let mixed = vec![long(900), long(900), h(2), long(900), image, long(900)];
        assert_eq!(halfway(&mixed), Some(1));
    }

    #[test]
    fn short_bodies_stay_whole_and_long_ones_cut_at_top_headings() {
        let short: Vec<Block> = (0..10).map(|_| para()).collect();
        assert_eq!(chunks(&short), std::iter::once(0..10).collect::<Vec<_>>());
        let mut long = Vec::new();
        for _ in 0..40 {
            long.push(h(2));
            long.push(h(3));
            long.extend((0..8).map(|_| para()));
        }
        let c = chunks(&long);
        assert!(c.len() > 1 && c.len() <= MAX_CHUNKS, "{c:?}");
        for r in &c {
            assert!(matches!(long[r.start], Block::Heading { level: 2, .. }));
        }
        assert_eq!(c.last().map(|r| r.end), Some(long.len()));
    }
}
