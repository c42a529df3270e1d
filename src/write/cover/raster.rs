//! Anti-aliased glyph rasterising straight to runs of equal coverage.
//!
//! The coverage model is ab_glyph's (signed-area accumulation, as in font-rs, with the
//! same curve flattening; the tests hold the two to one level apart), but ab_glyph sums
//! every pixel of the glyph's box and hands them over one by one. A 250 px title letter is
//! some 25,000 pixels and about 600 edge pixels, and the runs between edges (surround and
//! interior) are constant: visiting only the pixels an edge touched, and emitting the runs
//! between them whole, made the title several times cheaper to draw. No rasteriser crate
//! gives coverage as runs.

use ab_glyph::{GlyphId, Outline, OutlineCurve, Point, PxScaleFactor, Rect, point};

use super::canvas::{Shape, level};

/// Rows rasterised at a time. A 250 px title letter swept whole needed a quarter of a
/// megabyte of coverage deltas, every page of it faulted in afresh (some 100 faults per
/// cover, 3 µs each on a virtual machine); a strip of rows needs a few pages, reused.
const STRIP: usize = 32;

/// Reusable buffers for rasterising glyphs one after another.
#[derive(Default)]
pub(super) struct Raster {
    width: usize,
    /// Row length of `deltas`: an edge on the right border touches the column past it.
    stride: usize,
    /// Words of `touched` per row.
    words: usize,
    /// Per pixel of the strip, coverage minus that of the pixel on its left.
    deltas: Vec<f32>,
    /// Per row of the strip, a bit for each entry of `deltas` an edge has touched.
    touched: Vec<u64>,
    /// The glyph's outline, as the font gives it.
    curves: Vec<OutlineCurve>,
    /// The outline flattened to edges, each where the last strip left it.
    edges: Vec<Edge>,
    /// The shape being swept.
    shape: Shape,
}

/// A straight edge of the outline, walked down a row at a time across strips. Walking it
/// on from where it stopped, rather than from the top at each strip, keeps every sum
/// exactly what one pass over the whole glyph gave.
struct Edge {
    /// 1 for an edge going down, -1 going up.
    dir: f32,
    /// Where the edge ends.
    bottom_y: f32,
    dxdy: f32,
    /// Where the next row's part of the edge begins.
    x: f32,
    y: f32,
    /// The next row to walk, and one past the last.
    row: usize,
    end: usize,
    /// The bottom of the row before `row`.
    row_bottom: f32,
}

/// Rasterises glyph `id` of `face` scaled by `factor` with its origin at `origin` (within
/// the first pixel), placed as ab_glyph's `OutlinedGlyph` would place it; `None` for a
/// glyph without an outline or with an empty box.
pub(super) fn rasterise_glyph(
    face: &ttf_parser::Face,
    id: GlyphId,
    factor: PxScaleFactor,
    origin: Point,
    raster: &mut Raster,
) -> Option<Shape> {
    let mut builder = CurveBuilder {
        curves: std::mem::take(&mut raster.curves),
        last: point(0.0, 0.0),
        last_move: None,
    };
    builder.curves.clear();
    let bbox = face.outline_glyph(ttf_parser::GlyphId(id.0), &mut builder);
    // Some fonts leave their glyphs' last contour implicitly closed.
    ttf_parser::OutlineBuilder::close(&mut builder);
    let curves = builder.curves;
    // As ab_glyph: an invalid box means no outline.
    let shape = bbox
        .filter(|b| b.x_min < b.x_max && b.y_min < b.y_max)
        .and_then(|b| {
            let bounds = Rect {
                min: point(b.x_min.into(), b.y_max.into()),
                max: point(b.x_max.into(), b.y_min.into()),
            };
            rasterise(&curves, bounds, factor, origin, raster)
        });
    raster.curves = curves;
    shape
}

/// Rasterises `curves` (in font units, within `bounds`) as [`rasterise_glyph`] does.
fn rasterise(
    curves: &[OutlineCurve],
    bounds: Rect,
    factor: PxScaleFactor,
    origin: Point,
    raster: &mut Raster,
) -> Option<Shape> {
    let bounds = Outline {
        bounds,
        curves: Vec::new(),
    }
    .px_bounds(factor, origin);
    let (width, height) = (bounds.width() as usize, bounds.height() as usize);
    if width == 0 || height == 0 || width > usize::from(u16::MAX) {
        return None;
    }
    let offset = origin - bounds.min;
    let (h, v) = (factor.horizontal, -factor.vertical);
    let px = |p: &Point| point(p.x * h, p.y * v) + offset;
    raster.start(width, height);
    for curve in curves {
        match curve {
            OutlineCurve::Line(p0, p1) => raster.line(px(p0), px(p1)),
            OutlineCurve::Quad(p0, p1, p2) => raster.quad(px(p0), px(p1), px(p2)),
            OutlineCurve::Cubic(p0, p1, p2, p3) => raster.cubic(px(p0), px(p1), px(p2), px(p3)),
        }
    }
    // Swept into a shape kept between glyphs, then copied out at its final size: grown
    // run by run, each glyph's lists went through every size on the way, each in memory
    // of its own.
    raster
        .shape
        .restart(bounds.min.x as i32, bounds.min.y as i32);
    for top in (0..height).step_by(STRIP) {
        let rows = top..(top + STRIP).min(height);
        raster.walk(rows.clone());
        raster.sweep(rows.len());
    }
    Some(raster.shape.clone())
}

/// Collects a glyph's outline as ab_glyph's outliner does, into a buffer kept between
/// glyphs.
struct CurveBuilder {
    curves: Vec<OutlineCurve>,
    last: Point,
    last_move: Option<Point>,
}

impl ttf_parser::OutlineBuilder for CurveBuilder {
    fn move_to(&mut self, x: f32, y: f32) {
        self.last = point(x, y);
        self.last_move = Some(self.last);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = point(x, y);
        self.curves.push(OutlineCurve::Line(self.last, p));
        self.last = p;
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let p = point(x, y);
        self.curves
            .push(OutlineCurve::Quad(self.last, point(x1, y1), p));
        self.last = p;
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let p = point(x, y);
        self.curves.push(OutlineCurve::Cubic(
            self.last,
            point(x1, y1),
            point(x2, y2),
            p,
        ));
        self.last = p;
    }

    fn close(&mut self) {
        if let Some(m) = self.last_move.take() {
            self.curves.push(OutlineCurve::Line(self.last, m));
        }
    }
}

/// The point `t` of the way from `a` to `b`.
fn lerp(t: f32, a: Point, b: Point) -> Point {
    point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
}

impl Raster {
    /// Starts a glyph `width` pixels wide and `height` high.
    fn start(&mut self, width: usize, height: usize) {
        self.width = width;
        self.stride = width + 2;
        self.words = self.stride.div_ceil(64);
        self.edges.clear();
        // Sweeping leaves both buffers zeroed, so growing them is all a new size needs.
        let rows = STRIP.min(height);
        let (deltas, words) = (self.stride * rows, self.words * rows);
        if self.deltas.len() < deltas {
            self.deltas.resize(deltas, 0.0);
        }
        if self.touched.len() < words {
            self.touched.resize(words, 0);
        }
    }

    /// Adds the straight edge from `p0` to `p1`, to be walked strip by strip.
    fn line(&mut self, p0: Point, p1: Point) {
        let (dir, top, bottom) = if p0.y < p1.y {
            (1.0, p0, p1)
        } else if p0.y > p1.y {
            (-1.0, p1, p0)
        } else {
            return;
        };
        // Outlines lie within the glyph's bounds; clamping the ends, in case rounding put
        // them a hair outside, keeps every x of the edge a column of the row.
        let w = self.width as f32;
        let (top, bottom) = (
            point(top.x.clamp(0.0, w), top.y),
            point(bottom.x.clamp(0.0, w), bottom.y),
        );
        let dxdy = (bottom.x - top.x) / (bottom.y - top.y);
        let y = top.y.max(0.0);
        let x = top.x + (y - top.y) * dxdy;
        // Row indices via i32: float to usize casts cost several times more.
        let first = y as i32 as usize;
        self.edges.push(Edge {
            dir,
            bottom_y: bottom.y,
            dxdy,
            x,
            y,
            row: first,
            end: (bottom.y.ceil() as i32).max(0) as usize,
            row_bottom: first as f32,
        });
    }

    /// Walks every edge through `rows`, the current strip, in the order the outline gave
    /// them, so each pixel's sums come in the order one pass over the glyph made them.
    fn walk(&mut self, rows: std::ops::Range<usize>) {
        let mut edges = std::mem::take(&mut self.edges);
        for e in &mut edges {
            let end = e.end.min(rows.end);
            while e.row < end {
                e.row_bottom += 1.0;
                let next_y = e.row_bottom.min(e.bottom_y);
                let next_x = e.x + (next_y - e.y) * e.dxdy;
                self.row_span(e.row - rows.start, e.x, next_x, e.dir * (next_y - e.y));
                (e.x, e.y) = (next_x, next_y);
                e.row += 1;
            }
        }
        self.edges = edges;
    }

    /// Adds the part of an edge within one row of the strip: it runs between `xa` and
    /// `xb` and covers `height` of the row (negative for edges going up).
    fn row_span(&mut self, row: usize, xa: f32, xb: f32, height: f32) {
        let (x0, x1) = if xa < xb { (xa, xb) } else { (xb, xa) };
        let (first, last) = (x0 as i32, x1 as i32);
        if first == last {
            // Within one pixel: the part right of the edge's midpoint is covered there,
            // the whole height from the next pixel on.
            let mid = (x0 + x1) * 0.5 - first as f32;
            self.add(row, first as usize, height * (1.0 - mid), height * mid);
            return;
        }
        let per_x = height / (x1 - x0);
        let mut x = x0;
        for col in first..=last {
            let next = ((col + 1) as f32).min(x1);
            let part = per_x * (next - x);
            let mid = (x + next) * 0.5 - col as f32;
            self.add(row, col as usize, part * (1.0 - mid), part * mid);
            x = next;
        }
    }

    /// Adds `here` at `col` of `row` and `next` at the column after it. Only `col` is
    /// marked touched: the sweep always takes the column after a marked one too.
    fn add(&mut self, row: usize, col: usize, here: f32, next: f32) {
        if let [a, b, ..] = &mut self.deltas[row * self.stride + col..] {
            *a += here;
            *b += next;
            self.touched[row * self.words + col / 64] |= 1 << (col % 64);
        }
    }

    /// Draws a quadratic curve as lines, as many as ab_glyph's rasteriser uses, so curved
    /// edges come out as they did with it.
    fn quad(&mut self, p0: Point, p1: Point, p2: Point) {
        let (dx, dy) = (p0.x - 2.0 * p1.x + p2.x, p0.y - 2.0 * p1.y + p2.y);
        let bend = dx * dx + dy * dy;
        if bend < 0.333 {
            self.line(p0, p2);
            return;
        }
        let n = 1 + (3.0 * bend).sqrt().sqrt() as usize;
        let step = 1.0 / n as f32;
        let (mut prev, mut t) = (p0, 0.0);
        for _ in 1..n {
            t += step;
            let p = lerp(t, lerp(t, p0, p1), lerp(t, p1, p2));
            self.line(prev, p);
            prev = p;
        }
        self.line(prev, p2);
    }

    /// Draws a cubic curve as lines by halving it until flat, as stb_truetype does (and
    /// ab_glyph after it).
    fn cubic(&mut self, p0: Point, p1: Point, p2: Point, p3: Point) {
        self.cubic_part(p0, p1, p2, p3, 0);
    }

    /// One of the halves `cubic` splits a curve into, `depth` halvings down.
    fn cubic_part(&mut self, p0: Point, p1: Point, p2: Point, p3: Point, depth: u8) {
        const FLATNESS: f32 = 0.35;
        const MAX_DEPTH: u8 = 16;
        let distance = |a: Point, b: Point| ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
        let around = distance(p0, p1) + distance(p1, p2) + distance(p2, p3);
        let across = distance(p0, p3);
        if depth >= MAX_DEPTH || around * around - across * across <= FLATNESS * FLATNESS {
            self.line(p0, p3);
            return;
        }
        let (p01, p12, p23) = (lerp(0.5, p0, p1), lerp(0.5, p1, p2), lerp(0.5, p2, p3));
        let (a, b) = (lerp(0.5, p01, p12), lerp(0.5, p12, p23));
        let mid = lerp(0.5, a, b);
        self.cubic_part(p0, p01, a, mid, depth + 1);
        self.cubic_part(mid, b, p23, p3, depth + 1);
    }

    /// Appends the strip's `rows` rows of coverage to the shape as runs; leaves the buffers
    /// zeroed for the next strip.
    fn sweep(&mut self, rows: usize) {
        let (w, stride, words) = (self.width, self.stride, self.words);
        let shape = &mut self.shape;
        for row in 0..rows {
            let deltas = &mut self.deltas[row * stride..(row + 1) * stride];
            // `now` is the level from column `done` on, until the next touched column.
            let (mut coverage, mut now, mut done) = (0.0f32, 0u8, 0usize);
            for (word, bits) in self.touched[row * words..(row + 1) * words]
                .iter_mut()
                .enumerate()
            {
                let mut bits = std::mem::take(bits);
                while bits != 0 {
                    let marked = word * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    // The marked column and the one after it (see `add`). A column seen
                    // twice adds nothing the second time: its delta was taken.
                    for (col, delta) in deltas.iter_mut().enumerate().skip(marked).take(2) {
                        coverage += std::mem::take(delta);
                        if col < w && col >= done {
                            let here = level(coverage.abs());
                            if here != now {
                                shape.push(done, col - done, now);
                                (now, done) = (here, col);
                            }
                        }
                    }
                }
            }
            shape.push(done, w - done.min(w), now);
            shape.end_row();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ab_glyph::{Font, FontRef, GlyphId, OutlinedGlyph, PxScale, Rect, ScaleFont};

    const BOLD: &[u8] = include_bytes!("../../../fonts/eb-garamond/EBGaramond-Bold.ttf");

    /// ab_glyph's coverage of the same glyph, as levels.
    fn reference(glyph: &OutlinedGlyph, width: usize, height: usize) -> Vec<u8> {
        let mut levels = vec![0; width * height];
        glyph.draw(|x, y, c| levels[y as usize * width + x as usize] = level(c));
        levels
    }

    fn assert_close(ours: &Shape, theirs: &[u8], width: usize, what: &str) {
        let dense = ours.dense(width);
        assert_eq!(dense.len(), theirs.len(), "{what}");
        let worst = dense.iter().zip(theirs).map(|(a, b)| a.abs_diff(*b)).max();
        assert!(worst <= Some(1), "{what}: {worst:?} levels off");
    }

    #[test]
    fn glyphs_match_ab_glyph() {
        let font = FontRef::try_from_slice(BOLD).expect("font");
        let face = ttf_parser::Face::parse(BOLD, 0).expect("font");
        let mut raster = Raster::default();
        for size in [230.0, 46.0] {
            let factor = font.as_scaled(PxScale::from(size)).scale_factor();
            for (i, c) in "Rag&@gyQ".chars().enumerate() {
                let id: GlyphId = font.glyph_id(c);
                let origin = point((i % 4) as f32 / 4.0, (i % 3) as f32 / 4.0);
                let theirs = font
                    .outline_glyph(id.with_scale_and_position(size, origin))
                    .expect("outline");
                let outline = font.outline(id).expect("outline");
                let ours = rasterise(&outline.curves, outline.bounds, factor, origin, &mut raster)
                    .expect("shape");
                // Outlined by us straight from the font, the same shape.
                let direct =
                    rasterise_glyph(&face, id, factor, origin, &mut raster).expect("shape");
                assert!(direct.dense(256) == ours.dense(256), "{c} at {size}");
                let b = theirs.px_bounds();
                assert_eq!(
                    (ours.dx, ours.dy),
                    (b.min.x as i32, b.min.y as i32),
                    "{c} at {size}"
                );
                let (w, h) = (b.width() as usize, b.height() as usize);
                assert_close(
                    &ours,
                    &reference(&theirs, w, h),
                    w,
                    &format!("{c} at {size}"),
                );
            }
        }
    }

    #[test]
    fn cubic_outlines_match_ab_glyph() {
        // No bundled font has cubic (CFF) outlines, but a theme's may: a ring of cubic
        // arcs, in font units (y up), stands in for an "o".
        let ring = |r: f32, clockwise: bool| {
            let (c, k) = (point(400.0, 350.0), 0.5523 * r);
            let at = |x: f32, y: f32| point(c.x + x, c.y + y);
            let mut arcs = vec![
                [at(r, 0.0), at(r, k), at(k, r), at(0.0, r)],
                [at(0.0, r), at(-k, r), at(-r, k), at(-r, 0.0)],
                [at(-r, 0.0), at(-r, -k), at(-k, -r), at(0.0, -r)],
                [at(0.0, -r), at(k, -r), at(r, -k), at(r, 0.0)],
            ];
            if clockwise {
                arcs.reverse();
                arcs.iter_mut().for_each(|a| a.reverse());
            }
            arcs.into_iter()
                .map(|[a, b, c, d]| OutlineCurve::Cubic(a, b, c, d))
                .collect::<Vec<_>>()
        };
        let outline = Outline {
            bounds: Rect {
                min: point(100.0, 650.0),
                max: point(700.0, 50.0),
            },
            curves: [ring(300.0, false), ring(180.0, true)].concat(),
        };
        let mut raster = Raster::default();
        for scale in [0.05, 0.31] {
            let factor = PxScaleFactor {
                horizontal: scale,
                vertical: scale,
            };
            for origin in [point(0.0, 0.0), point(0.75, 0.25)] {
                let ours = rasterise(&outline.curves, outline.bounds, factor, origin, &mut raster)
                    .expect("shape");
                let glyph = GlyphId(1).with_scale_and_position(1.0, origin);
                let theirs = OutlinedGlyph::new(glyph, outline.clone(), factor);
                let b = theirs.px_bounds();
                let (w, h) = (b.width() as usize, b.height() as usize);
                let dense = ours.dense(w);
                assert!(dense.contains(&LEVELS_FULL) && dense.contains(&0));
                assert_close(&ours, &reference(&theirs, w, h), w, &format!("{scale}"));
            }
        }
    }

    const LEVELS_FULL: u8 = 63;
}
