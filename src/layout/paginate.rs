//! Pages from the vertical list: keep chains (headings with what follows, widows and
//! orphans), footnotes at the foot of the page of their reference, repeated table headers.
//!
//! Greedy, one page at a time: a chain of elements tied by `keep_with_next` goes on the
//! page if it fits with its footnotes, else the page ends before it. Only a chain taller
//! than an empty page is split, element by element.

use std::collections::HashMap;

use super::blocks::{Elem, HeadingMark};
use super::page::Item;

/// An element placed on a page: its top, from the text block's top.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub y: f32,
    pub elem: Elem,
}

/// A page before headers, footers and margins are applied.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageBody {
    /// Body elements, top to bottom.
    pub body: Vec<Placed>,
    /// Footnote elements, top to bottom, to be set at the foot of the text block.
    pub notes: Vec<Elem>,
    /// Headings placed on this page, with their y.
    pub headings: Vec<(HeadingMark, f32)>,
}

impl PageBody {
    /// Height taken by the footnotes, including the separator.
    pub fn notes_height(&self, sep: f32) -> f32 {
        if self.notes.is_empty() {
            0.0
        } else {
            sep + self.notes.iter().map(|e| e.height).sum::<f32>()
        }
    }
}

/// Column geometry and the footnote separator's height.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    /// Column height (the text block's, with one column).
    pub height: f32,
    /// Space the rule above footnotes takes.
    pub note_sep: f32,
    /// Height of the first `short_count` columns (below a spanning title block).
    pub short_height: f32,
    /// How many columns at the start are `short_height` tall.
    pub short_count: usize,
    /// Columns per page, so a right-hand page can be found.
    pub columns: usize,
}

impl Geometry {
    /// Plain geometry: every column `height` tall.
    pub fn uniform(height: f32, note_sep: f32) -> Geometry {
        Geometry {
            height,
            note_sep,
            short_height: height,
            short_count: 0,
            columns: 1,
        }
    }
}

struct Pager<'a> {
    geo: Geometry,
    notes: &'a HashMap<u32, Vec<Elem>>,
    pages: Vec<PageBody>,
    cur: PageBody,
    y: f32,
    /// Footnote lines that did not fit on their page.
    carried: Vec<Elem>,
}

impl Pager<'_> {
    /// Height of the column being filled.
    fn height(&self) -> f32 {
        if self.pages.len() < self.geo.short_count {
            self.geo.short_height
        } else {
            self.geo.height
        }
    }

    fn notes_h(&self) -> f32 {
        self.cur.notes_height(self.geo.note_sep)
    }

    fn is_empty(&self) -> bool {
        self.cur.body.is_empty()
    }

    fn new_page(&mut self) {
        let done = std::mem::take(&mut self.cur);
        self.pages.push(done);
        self.y = 0.0;
        // Carried footnote lines first, up to half the page.
        let carried = std::mem::take(&mut self.carried);
        let mut rest = Vec::new();
        for e in carried {
            let h = self.notes_h()
                + e.height
                + if self.cur.notes.is_empty() {
                    self.geo.note_sep
                } else {
                    0.0
                };
            if rest.is_empty() && h <= self.height() * 0.5 {
                self.cur.notes.push(e);
            } else {
                rest.push(e);
            }
        }
        self.carried = rest;
    }

    fn note_elems(&self, chain: &[Elem]) -> Vec<Elem> {
        chain
            .iter()
            .flat_map(|e| &e.notes)
            .filter_map(|n| self.notes.get(n))
            .flatten()
            .cloned()
            .collect()
    }

    /// Height of `chain` if placed now (leading spaces vanish at the top of a page), plus
    /// the repeated table header it would need at a page top.
    fn chain_height(&self, chain: &[Elem]) -> f32 {
        let skip = if self.is_empty() {
            chain.iter().take_while(|e| e.discardable).count()
        } else {
            0
        };
        let body: f32 = chain[skip..].iter().map(|e| e.height).sum();
        let header = if self.is_empty() {
            chain[skip..]
                .first()
                .and_then(|e| e.repeat.as_ref())
                .map_or(0.0, |h| h.iter().map(|e| e.height).sum())
        } else {
            0.0
        };
        body + header
    }

    fn place(&mut self, elem: Elem) {
        if self.is_empty() && elem.discardable {
            return;
        }
        if self.is_empty()
            && let Some(h) = elem.repeat.clone()
        {
            for e in h.iter() {
                self.put(e.clone());
            }
        }
        let notes = self.note_elems(std::slice::from_ref(&elem));
        self.put(elem);
        for n in notes {
            let sep = if self.cur.notes.is_empty() {
                self.geo.note_sep
            } else {
                0.0
            };
            if self.carried.is_empty() && self.y + self.notes_h() + sep + n.height <= self.height()
            {
                self.cur.notes.push(n);
            } else {
                self.carried.push(n);
            }
        }
    }

    fn put(&mut self, elem: Elem) {
        if let Some(h) = &elem.heading {
            self.cur.headings.push((h.clone(), self.y));
        }
        let y = self.y;
        self.y += elem.height;
        self.cur.body.push(Placed { y, elem });
    }
}

/// Breaks `elems` into pages of `geo.height`; `notes` maps footnote numbers to their
/// elements, placed on the page of the element that references them.
pub(crate) fn paginate(
    elems: &[Elem],
    notes: &HashMap<u32, Vec<Elem>>,
    geo: Geometry,
) -> Vec<PageBody> {
    paginate_owned(elems.to_vec(), notes, geo)
}

/// [`paginate`] taking the elements by value: each is moved onto its page rather than
/// cloned, which for a book (hundreds of thousands of glyphs) was a large share of layout.
pub(crate) fn paginate_owned(
    mut elems: Vec<Elem>,
    notes: &HashMap<u32, Vec<Elem>>,
    geo: Geometry,
) -> Vec<PageBody> {
    let mut p = Pager {
        geo,
        notes,
        pages: Vec::new(),
        cur: PageBody::default(),
        y: 0.0,
        carried: Vec::new(),
    };
    let mut i = 0;
    let n = elems.len();
    while i < n {
        if elems[i].break_before {
            if !p.is_empty() {
                p.new_page();
            }
            // A right-hand page starts at an even count of columns (pages are 1-based).
            let spread = 2 * geo.columns.max(1);
            while elems[i].recto && !p.pages.len().is_multiple_of(spread) {
                p.new_page();
            }
        }
        let mut j = i;
        while j + 1 < n && elems[j].keep_with_next {
            j += 1;
        }
        let chain = &elems[i..=j];
        let h = p.chain_height(chain);
        let note_h: f32 = p.note_elems(chain).iter().map(|e| e.height).sum();
        let sep = if note_h > 0.0 && p.cur.notes.is_empty() {
            geo.note_sep
        } else {
            0.0
        };
        let fits = p.y + h + p.notes_h() + note_h + sep <= p.height() + 0.01
            && p.carried.is_empty()
            || p.y + h + p.notes_h() <= p.height() + 0.01 && note_h == 0.0;
        if fits {
            // Elements before `i` are never looked at again: move them out.
            for e in &mut elems[i..=j] {
                p.place(std::mem::take(e));
            }
            i = j + 1;
            continue;
        }
        if !p.is_empty() {
            p.new_page();
            continue;
        }
        // Too tall for an empty page: set what fits, element by element.
        let mut k = i;
        while k <= j {
            let e = &mut elems[k];
            if !p.is_empty() && p.y + e.height + p.notes_h() > p.height() + 0.01 {
                p.new_page();
            }
            p.place(std::mem::take(e));
            k += 1;
        }
        i = j + 1;
    }
    while !p.carried.is_empty() {
        let before = p.carried.len();
        p.new_page();
        if p.carried.len() == before {
            // A single note line taller than half a page: force it.
            let e = p.carried.remove(0);
            p.cur.notes.push(e);
        }
    }
    if !p.cur.body.is_empty() || !p.cur.notes.is_empty() || p.pages.is_empty() {
        let last = std::mem::take(&mut p.cur);
        p.pages.push(last);
    }
    // Drop trailing gaps so nothing hangs below the last line.
    for page in &mut p.pages {
        while page
            .body
            .last()
            .is_some_and(|pl| pl.elem.discardable && pl.elem.items.is_empty())
        {
            page.body.pop();
        }
    }
    p.pages
}

/// Moves every item of a placed element to page coordinates.
pub(crate) fn items_at(elem: Elem, dx: f32, dy: f32) -> impl Iterator<Item = Item> {
    elem.items.into_iter().map(move |mut it| {
        super::blocks::shift_item(&mut it, dx, dy);
        it
    })
}
