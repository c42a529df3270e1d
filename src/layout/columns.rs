//! Multi-column pages: the last page's columns are balanced so the text ends level
//! rather than filling the first column and leaving the second short.

use std::collections::HashMap;

use super::paginate::{self, Geometry, PageBody};

/// Re-flows the last page's columns to equal heights when that is possible without
/// moving footnotes or repeated table headers (such pages are left as they are).
pub(crate) fn balance_last_page(bodies: &mut Vec<PageBody>, cols: usize, geo: Geometry) {
    if cols < 2 || bodies.is_empty() {
        return;
    }
    let start = (bodies.len() - 1) / cols * cols;
    let last = &bodies[start..];
    let movable = last.iter().all(|pb| {
        pb.notes.is_empty()
            && pb
                .body
                .iter()
                .all(|p| p.elem.repeat.is_none() && p.elem.notes.is_empty())
    });
    if !movable {
        return;
    }
    let elems: Vec<_> = last
        .iter()
        .flat_map(|pb| pb.body.iter().map(|p| p.elem.clone()))
        .collect();
    if elems.is_empty() {
        return;
    }
    let full = if start < geo.short_count {
        geo.short_height
    } else {
        geo.height
    };
    let total: f32 = elems.iter().map(|e| e.height).sum();
    let none = HashMap::new();
    let fits = |h: f32| {
        let g = Geometry::uniform(h, geo.note_sep);
        let out = paginate::paginate(&elems, &none, g);
        (out.len() <= cols).then_some(out)
    };
    // The shortest column height that still holds the page: bisect between half the
    // material and the full column.
    let (mut lo, mut hi) = ((total / cols as f32).min(full), full);
    let Some(mut best) = fits(hi) else {
        return;
    };
    for _ in 0..12 {
        let mid = (lo + hi) / 2.0;
        match fits(mid) {
            Some(out) => {
                best = out;
                hi = mid;
            }
            None => lo = mid,
        }
        if hi - lo < 0.5 {
            break;
        }
    }
    bodies.truncate(start);
    bodies.extend(best);
}
