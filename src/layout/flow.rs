//! The body as one vertical list, set on all cores: a long body is cut at articles (in a
//! book) or top-level headings into chunks that are shaped and broken into lines in
//! parallel, then joined as if set in one pass.
//!
//! Chunks never depend on the number of threads, so output is the same on any machine.

use std::collections::HashSet;
use std::ops::Range;

use rayon::prelude::*;

use super::LayoutError;
use super::blocks::{self, Ctx, Elem, Env};
use super::page::Item;
use crate::model::Block;

/// One chunk set: its elements, warnings and characters no face has.
type Chunk = (Vec<Elem>, Vec<String>, Vec<char>);

/// Bodies shorter than this are set in one piece: splitting costs more than it saves.
const MIN_PARALLEL_BLOCKS: usize = 96;
/// At most this many chunks (each needs its own font set and shaping cache).
const MAX_CHUNKS: usize = 16;

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
        let mut out = Vec::new();
        blocks::blocks(ctx, body, env, &mut out);
        return Ok(out);
    }
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
            blocks::blocks_after(&mut c, &body[range.clone()], env, &mut out, i > 0);
            Ok((out, c.warnings, c.missing.into_iter().collect()))
        })
        .collect();
    let mut all: Vec<Elem> = Vec::new();
    for part in parts {
        let (elems, warnings, missing) = part?;
        ctx.warnings.extend(warnings);
        ctx.missing.extend(missing);
        join(&mut all, elems);
    }
    first_references_only(&mut all);
    Ok(all)
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
