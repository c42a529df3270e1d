//! The cover's picture: glyphs and rules placed on an indexed-colour canvas, then
//! composed a row at a time straight into the PNG.
//!
//! Drawing only records where each shape goes. A letter that recurs at the same size is
//! rasterised once (on a quarter-pixel grid, or whole pixels for display sizes) and kept
//! as runs of equal coverage, so composing a row costs one step per run rather than one
//! per pixel, and the 4 MB picture never exists: rows with nothing on them go to the
//! encoder as blank. Before, rasterising every glyph into a full canvas and compressing
//! it pixel by pixel was over half the time of making an article's EPUB.

use ab_glyph::{Font, GlyphId, PxScale, ScaleFont, point};
use rustc_hash::FxHashMap;

use std::ops::Range;

use super::png::{IndexedPng, Part, RowRuns};
use super::raster::{self, Raster};
use super::text::{Face, Run};
use super::{COVER_HEIGHT, COVER_WIDTH, CoverError};

/// Anti-aliasing levels per ink colour: with four inks (text, muted, faint, accent) plus
/// the background the palette stays within PNG's 256 entries, and 63 steps of edge coverage
/// are indistinguishable from 255 at cover sizes.
const LEVELS: u8 = 63;
/// Inks a cover can use; `render_cover_png` draws in four colours.
const MAX_INKS: usize = 4;
/// Text at least this many pixels tall is placed on whole pixels: half a pixel is a
/// fraction of a percent of such a glyph, and each letter is then rasterised once.
const WHOLE_PIXEL_SIZE: f32 = 100.0;
/// Horizontal positions per pixel for smaller text, whose spacing a whole-pixel grid
/// would make uneven.
const SUBPIXEL_STEPS: i64 = 4;

/// One row's stretch of equal coverage within a shape.
#[derive(Clone, Copy)]
struct Span {
    /// Offset from the shape's left edge.
    x: u16,
    len: u16,
    /// Coverage in `1..=LEVELS`.
    level: u8,
}

/// Coverage of a glyph or rule as spans per row, with where its top-left corner sits
/// relative to the point it is placed at. A clone's lists are exactly as long as needed.
#[derive(Clone, Default)]
pub(super) struct Shape {
    pub(super) dx: i32,
    pub(super) dy: i32,
    /// Where each row's spans start in `spans`; one more entry than rows.
    rows: Vec<u32>,
    spans: Vec<Span>,
}

impl Shape {
    /// An empty shape whose top-left corner is (`dx`, `dy`) from where it is placed.
    pub(super) fn new(dx: i32, dy: i32) -> Shape {
        Shape {
            dx,
            dy,
            rows: vec![0],
            spans: Vec::new(),
        }
    }

    /// Empties the shape, keeping its lists' memory, to start one at (`dx`, `dy`).
    pub(super) fn restart(&mut self, dx: i32, dy: i32) {
        (self.dx, self.dy) = (dx, dy);
        self.rows.clear();
        self.rows.push(0);
        self.spans.clear();
    }

    /// Adds `len` pixels of `level` from `x` to the current row; level 0 is no ink.
    pub(super) fn push(&mut self, x: usize, len: usize, level: u8) {
        if level > 0 && len > 0 {
            self.spans.push(Span {
                x: x as u16,
                len: len as u16,
                level,
            });
        }
    }

    /// Ends the current row.
    pub(super) fn end_row(&mut self) {
        self.rows.push(self.spans.len() as u32);
    }

    fn height(&self) -> i32 {
        self.rows.len() as i32 - 1
    }

    fn row(&self, r: usize) -> &[Span] {
        &self.spans[self.rows[r] as usize..self.rows[r + 1] as usize]
    }

    /// The shape as a `width`-wide grid of levels, to compare with other rasterisers.
    #[cfg(test)]
    pub(super) fn dense(&self, width: usize) -> Vec<u8> {
        let mut levels = vec![0; width * self.height() as usize];
        for r in 0..self.height() as usize {
            for s in self.row(r) {
                let at = r * width + usize::from(s.x);
                levels[at..at + usize::from(s.len)].fill(s.level);
            }
        }
        levels
    }
}

/// A shape placed on the canvas in one ink.
struct Mark {
    x: i32,
    y: i32,
    shape: usize,
    slot: u8,
}

/// A rasterised glyph is the same wherever its face, size and sub-pixel offset recur.
#[derive(Hash, PartialEq, Eq)]
struct GlyphKey {
    face: u8,
    glyph: u16,
    size: u32,
    phase: u8,
}

/// An indexed-colour canvas: each pixel is the background (0) or one ink at one coverage
/// level, a third of the bytes of RGB and flat runs for the encoder.
pub(super) struct Canvas {
    background: [u8; 3],
    inks: Vec<[u8; 3]>,
    shapes: Vec<Shape>,
    marks: Vec<Mark>,
    glyphs: FxHashMap<GlyphKey, Option<usize>>,
    raster: Raster,
}

impl Canvas {
    /// An empty canvas of the cover's size in `bg`.
    pub(super) fn new(bg: [u8; 3]) -> Self {
        Canvas {
            background: bg,
            inks: Vec::with_capacity(MAX_INKS),
            shapes: Vec::new(),
            marks: Vec::new(),
            glyphs: FxHashMap::default(),
            raster: Raster::default(),
        }
    }

    /// The ink slot for `color`, adding it if new; `None` once the palette is full (the
    /// cover only ever uses `MAX_INKS` colours).
    fn ink(&mut self, color: [u8; 3]) -> Option<u8> {
        if let Some(i) = self.inks.iter().position(|&c| c == color) {
            return Some(i as u8);
        }
        if self.inks.len() == MAX_INKS {
            return None;
        }
        self.inks.push(color);
        Some((self.inks.len() - 1) as u8)
    }

    /// A rule; its top and bottom edges are anti-aliased so sub-pixel positions stay crisp.
    pub(super) fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: [u8; 3]) {
        let Some(slot) = self.ink(color) else { return };
        let (x0, x1) = (x.round() as i64, (x + w).round() as i64);
        let (y0, y1) = (y.floor() as i64, (y + h).ceil() as i64);
        let width = (x1 - x0).clamp(0, i64::from(COVER_WIDTH)) as usize;
        let height = (y1 - y0).clamp(0, i64::from(COVER_HEIGHT)) as usize;
        if width == 0 || height == 0 {
            return;
        }
        let mut shape = Shape::new(0, 0);
        for i in 0..height {
            let top = (y0 as f32 + i as f32).max(y);
            let bottom = (y0 as f32 + i as f32 + 1.0).min(y + h);
            shape.push(0, width, level(bottom - top));
            shape.end_row();
        }
        self.shapes.push(shape);
        self.marks.push(Mark {
            x: x0 as i32,
            y: y0 as i32,
            shape: self.shapes.len() - 1,
            slot,
        });
    }

    /// Places `run` with its origin at `x` on `baseline`; `face_key` tells faces apart in
    /// the glyph cache.
    pub(super) fn draw_run(
        &mut self,
        face: &Face,
        face_key: u8,
        run: &Run,
        x: f32,
        baseline: f32,
        color: [u8; 3],
    ) {
        let Some(slot) = self.ink(color) else { return };
        let steps = if run.size >= WHOLE_PIXEL_SIZE {
            1
        } else {
            SUBPIXEL_STEPS
        };
        let y = baseline.round() as i32;
        for &(id, dx) in &run.glyphs {
            let pos = ((x + dx) * steps as f32).round() as i64;
            let phase = pos.rem_euclid(steps);
            let key = GlyphKey {
                face: face_key,
                glyph: id.0,
                size: run.size.to_bits(),
                phase: phase as u8,
            };
            let shape = match self.glyphs.get(&key) {
                Some(s) => *s,
                None => {
                    let frac = phase as f32 / steps as f32;
                    let s = self.rasterise(face, id, run.size, frac);
                    self.glyphs.insert(key, s);
                    s
                }
            };
            if let Some(shape) = shape {
                self.marks.push(Mark {
                    x: pos.div_euclid(steps) as i32,
                    y,
                    shape,
                    slot,
                });
            }
        }
    }

    /// Rasterises glyph `id` with its origin `frac` of a pixel right of a pixel corner;
    /// `None` for glyphs with no outline (spaces).
    fn rasterise(&mut self, face: &Face, id: GlyphId, size: f32, frac: f32) -> Option<usize> {
        let factor = face.font.as_scaled(PxScale::from(size)).scale_factor();
        let shape = raster::rasterise_glyph(
            &face.outlines,
            id,
            factor,
            point(frac, 0.0),
            &mut self.raster,
        )?;
        self.shapes.push(shape);
        Some(self.shapes.len() - 1)
    }

    /// The palette: background, then each ink at each coverage level over the background.
    fn palette(&self) -> Vec<[u8; 3]> {
        let mut pal = Vec::with_capacity(1 + self.inks.len() * usize::from(LEVELS));
        pal.push(self.background);
        for &ink in &self.inks {
            for level in 1..=LEVELS {
                pal.push(super::mix(
                    ink,
                    self.background,
                    f32::from(level) / f32::from(LEVELS),
                ));
            }
        }
        pal
    }

    /// Composes the picture row by row into a PNG.
    #[cfg(test)]
    pub(super) fn encode(&self) -> Result<Vec<u8>, CoverError> {
        Ok(super::png::join(vec![self.encode_band(0..COVER_HEIGHT)?])?)
    }

    /// `n` bands of rows (`n` at least 1) that split the work of composing and coding the
    /// picture about evenly: each row costs a step per span of every shape on it, and one
    /// per shape for being there at all. Bands are never empty, so fewer come back when
    /// the work cannot be split `n` ways.
    pub(super) fn bands(&self, n: u32) -> Vec<Range<u32>> {
        let height = COVER_HEIGHT as usize;
        let mut cost = vec![0u64; height];
        for mark in &self.marks {
            let shape = &self.shapes[mark.shape];
            let top = i64::from(mark_top(mark, shape));
            for r in 0..shape.height() as usize {
                if let Ok(y) = usize::try_from(top + r as i64)
                    && y < height
                {
                    cost[y] += 1 + shape.row(r).len() as u64;
                }
            }
        }
        let n = u64::from(n.max(1));
        let total: u64 = cost.iter().sum();
        let mut bands = Vec::with_capacity(n as usize);
        let (mut start, mut sum, mut k) = (0u32, 0u64, 1u64);
        for (y, c) in cost.iter().enumerate() {
            sum += c;
            // The band ends after the row that takes the work past its share.
            if k < n && sum * n >= total * k && y + 1 < height {
                let end = y as u32 + 1;
                if end > start {
                    bands.push(start..end);
                    start = end;
                }
                k += 1;
            }
        }
        bands.push(start..COVER_HEIGHT);
        bands
    }

    /// Composes the rows `band` of the picture and codes them, for [`super::png::join`].
    pub(super) fn encode_band(&self, band: Range<u32>) -> Result<Part, CoverError> {
        let width = COVER_WIDTH as usize;
        let mut png = IndexedPng::part(COVER_WIDTH, COVER_HEIGHT, &self.palette(), band.clone())?;
        let top = |m: &Mark| mark_top(m, &self.shapes[m.shape]);
        let bottom = |m: &Mark| top(m) + self.shapes[m.shape].height();
        // Marks by first row; a stable sort keeps drawing order among equals.
        let mut order: Vec<usize> = (0..self.marks.len()).collect();
        order.sort_by_key(|&i| top(&self.marks[i]));
        let mut next = 0;
        // Marks on the current row, in drawing order, which decides overlaps.
        let mut active: Vec<usize> = Vec::new();
        // The row's inked pieces, for rows whose pieces do not come in order.
        let mut pieces: Vec<Piece> = Vec::new();
        let mut sorted: Vec<Piece> = Vec::new();
        let mut row = vec![0u8; width];
        let mut blank = 0;
        for y in band.start as i32..band.end as i32 {
            while let Some(&i) = order.get(next) {
                if top(&self.marks[i]) > y {
                    break;
                }
                if let Err(at) = active.binary_search(&i) {
                    active.insert(at, i);
                }
                next += 1;
            }
            active.retain(|&i| bottom(&self.marks[i]) > y);
            if active.is_empty() {
                blank += 1;
                continue;
            }
            if blank > 0 {
                png.blank_rows(blank)?;
                blank = 0;
            }
            // The usual row: pieces that come left to right without overlapping, in
            // drawing order, go to the encoder as runs straight away.
            let in_order = |row: &mut RowRuns| {
                let mut at = 0;
                self.each_piece(&active, y, |p| code_piece(row, &mut at, p)) && code_rest(row, at)
            };
            if png.row_with(in_order)? {
                continue;
            }
            // Where letters touch (kerned pairs, swashes) or lines of text share a row,
            // the pieces are sorted, and if they still overlap the row is painted in
            // drawing order.
            pieces.clear();
            self.each_piece(&active, y, |p| {
                pieces.push(p);
                true
            });
            sorted.clear();
            sorted.extend_from_slice(&pieces);
            sorted.sort_unstable_by_key(|p| p.0);
            let sorted_in_order = |row: &mut RowRuns| {
                let mut at = 0;
                sorted.iter().all(|&p| code_piece(row, &mut at, p)) && code_rest(row, at)
            };
            if png.row_with(sorted_in_order)? {
                continue;
            }
            row.fill(0);
            for &(start, end, value) in &pieces {
                let (slot, level) = ((value - 1) / LEVELS, (value - 1) % LEVELS + 1);
                paint(&mut row[start..end], slot, level);
            }
            png.row(&row)?;
        }
        if blank > 0 {
            png.blank_rows(blank)?;
        }
        Ok(png.finish_part()?)
    }

    /// Hands the inked pieces of row `y` from the `active` marks to `f`, in drawing
    /// order, each within the picture, until `f` returns `false`; whether it never did.
    /// (A loop rather than an iterator: this is the cover's innermost loop, and chained
    /// iterator adapters cost it 6% more instructions.)
    #[inline(always)]
    fn each_piece(&self, active: &[usize], y: i32, mut f: impl FnMut(Piece) -> bool) -> bool {
        for &i in active {
            let mark = &self.marks[i];
            let shape = &self.shapes[mark.shape];
            let left = i64::from(mark.x) + i64::from(shape.dx);
            for span in shape.row((y - mark_top(mark, shape)) as usize) {
                if let Some((start, end)) = clamp_span(left, span, COVER_WIDTH as usize)
                    && !f((start, end, ink_value(mark.slot, span.level)))
                {
                    return false;
                }
            }
        }
        true
    }
}

/// A stretch of one row in one palette index: (start, end, index).
type Piece = (usize, usize, u8);

/// Codes pieces into `row` as runs, background between them, as long as each starts
/// where or after the one before ends, which `at` (the end so far, from 0) tracks;
/// `false` for a piece that does not.
#[inline(always)]
fn code_piece(row: &mut RowRuns, at: &mut usize, (start, end, value): Piece) -> bool {
    if start < *at {
        return false;
    }
    row.run(0, (start - *at) as u32);
    row.run(value, (end - start) as u32);
    *at = end;
    true
}

/// Ends a row coded by [`code_piece`] with background up to the edge.
#[inline(always)]
fn code_rest(row: &mut RowRuns, at: usize) -> bool {
    row.run(0, (COVER_WIDTH as usize - at) as u32);
    true
}

/// The row where `mark`, of `shape`, starts.
fn mark_top(mark: &Mark, shape: &Shape) -> i32 {
    mark.y + shape.dy
}

/// Where `span` of a shape whose left edge is at `left` lies within a `width`-pixel row,
/// if anywhere.
#[inline(always)]
fn clamp_span(left: i64, span: &Span, width: usize) -> Option<(usize, usize)> {
    let start = left + i64::from(span.x);
    let end = start + i64::from(span.len);
    let (start, end) = (start.clamp(0, width as i64), end.clamp(0, width as i64));
    (start < end).then_some((start as usize, end as usize))
}

/// The palette index of `level` (at least 1) of ink `slot`.
fn ink_value(slot: u8, level: u8) -> u8 {
    1 + slot * LEVELS + (level - 1)
}

/// Coverage in `0.0..=1.0` as one of `LEVELS` steps (0 = none).
pub(super) fn level(coverage: f32) -> u8 {
    (coverage.clamp(0.0, 1.0) * f32::from(LEVELS) + 0.5) as u8
}

/// Lays `level` (at least 1) of ink `slot` over `pixels`. The same ink accumulates as
/// alpha compositing would (1 − (1 − a)(1 − b)); a different ink wins where it covers
/// more. Full coverage wins either way, which makes solid spans a plain fill.
fn paint(pixels: &mut [u8], slot: u8, level: u8) {
    let value = ink_value(slot, level);
    if level == LEVELS {
        pixels.fill(value);
        return;
    }
    for px in pixels {
        let (old_slot, old_level) = match *px {
            0 => (slot, 0),
            p => ((p - 1) / LEVELS, (p - 1) % LEVELS + 1),
        };
        let new = if old_slot == slot {
            let (a, b) = (u16::from(old_level), u16::from(level));
            let l = u16::from(LEVELS);
            (a + b - (a * b + l / 2) / l).min(l) as u8
        } else if level >= old_level {
            level
        } else {
            continue;
        };
        *px = ink_value(slot, new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_keep_rows_and_skip_empty_spans() {
        let mut shape = Shape::new(0, 0);
        shape.push(0, 2, 0);
        shape.push(2, 2, 5);
        shape.push(4, 3, LEVELS);
        shape.end_row();
        shape.push(1, 1, 1);
        shape.push(3, 0, 9);
        shape.end_row();
        assert_eq!(shape.height(), 2);
        assert_eq!(
            shape.dense(7),
            [0, 0, 5, 5, 63, 63, 63, 0, 1, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn painting_accumulates_one_ink_and_lets_the_stronger_ink_win() {
        let mut px = [0u8; 3];
        paint(&mut px, 0, 32);
        paint(&mut px[1..], 0, 32);
        assert_eq!(px[0], 32);
        assert!(px[1] > 32 && px[1] <= LEVELS, "{}", px[1]);
        paint(&mut px[2..], 1, LEVELS);
        assert_eq!(px[2], 1 + LEVELS + LEVELS - 1);
        // A weaker edge of another ink leaves a solid pixel alone.
        paint(&mut px[2..], 0, 10);
        assert_eq!(px[2], 1 + LEVELS + LEVELS - 1);
    }
}
