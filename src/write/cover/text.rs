//! Setting cover text: fonts with GPOS kerning, one-line runs, wrapping, balancing and
//! ellipsis cuts, all measured in pixels of the cover canvas.

use std::cell::RefCell;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};
use rustc_hash::FxHashMap;
use ttf_parser::gpos::{PairAdjustment, PositioningSubtable};

/// Collapses whitespace and drops words the font cannot draw at all, so a
/// title in an unsupported script leaves no blank lines or stray gaps behind.
pub(super) fn visible_text(font: &Face, text: &str) -> String {
    text.split_whitespace()
        .filter(|w| w.chars().any(|c| glyph_for(font, c).is_some()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `visible_text` of an optional field, `None` when nothing drawable is left.
pub(super) fn visible_field(font: &Face, text: Option<&str>) -> Option<String> {
    text.map(|t| visible_text(font, t))
        .filter(|t| !t.is_empty())
}

/// A positioned line of glyphs: x offsets are relative to the line start.
pub(super) struct Run {
    pub(super) size: f32,
    pub(super) glyphs: Vec<(GlyphId, f32)>,
    pub(super) width: f32,
}

/// Maps a char to a glyph, substituting plain ASCII for typographic punctuation
/// the font lacks; chars with no acceptable glyph are dropped rather than shown
/// as .notdef boxes, which look broken on a cover.
fn glyph_for(font: &Face, c: char) -> Option<GlyphId> {
    *font
        .glyphs
        .borrow_mut()
        .entry(c)
        .or_insert_with(|| find_glyph(font, c))
}

/// `glyph_for` without the memo.
fn find_glyph(font: &Face, c: char) -> Option<GlyphId> {
    if c.is_control() {
        return None;
    }
    let id = font.font.glyph_id(c);
    if id.0 != 0 {
        return Some(id);
    }
    let fallback = match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '«' | '»' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        c if c.is_whitespace() => ' ',
        _ => return None,
    };
    let id = font.font.glyph_id(fallback);
    (id.0 != 0).then_some(id)
}

/// Pair kerning read from the GPOS `kern` feature. ab_glyph only reads the
/// legacy `kern` table, which most current fonts (EB Garamond included) no
/// longer ship, and unkerned display sizes show gaps like "T o".
struct GposKerning<'a> {
    /// Pair-adjustment subtables grouped by lookup, in lookup order.
    lookups: Vec<Vec<PairAdjustment<'a>>>,
}

impl<'a> GposKerning<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut lookups = Vec::new();
        let Ok(face) = ttf_parser::Face::parse(data, 0) else {
            return Self { lookups };
        };
        let Some(gpos) = face.tables().gpos else {
            return Self { lookups };
        };
        let kern = ttf_parser::Tag::from_bytes(b"kern");
        let mut indices: Vec<u16> = gpos
            .features
            .into_iter()
            .filter(|f| f.tag == kern)
            .flat_map(|f| f.lookup_indices.into_iter())
            .collect();
        indices.sort_unstable();
        indices.dedup();
        for index in indices {
            let Some(lookup) = gpos.lookups.get(index) else {
                continue;
            };
            let pairs: Vec<PairAdjustment<'a>> = lookup
                .subtables
                .into_iter::<PositioningSubtable>()
                .filter_map(|t| match t {
                    PositioningSubtable::Pair(p) => Some(p),
                    _ => None,
                })
                .collect();
            if !pairs.is_empty() {
                lookups.push(pairs);
            }
        }
        Self { lookups }
    }

    /// Advance adjustment in font units; within a lookup the first subtable
    /// that applies wins, as in HarfBuzz.
    fn kern_unscaled(&self, first: GlyphId, second: GlyphId) -> f32 {
        let (a, b) = (ttf_parser::GlyphId(first.0), ttf_parser::GlyphId(second.0));
        let mut total = 0.0;
        for subtables in &self.lookups {
            for table in subtables {
                let hit = match table {
                    PairAdjustment::Format1 { coverage, sets } => coverage
                        .get(a)
                        .and_then(|i| sets.get(i))
                        .and_then(|set| set.get(b))
                        .map(|(v, _)| v.x_advance),
                    PairAdjustment::Format2 {
                        coverage,
                        classes,
                        matrix,
                    } => coverage
                        .contains(a)
                        .then(|| matrix.get((classes.0.get(a), classes.1.get(b))))
                        .flatten()
                        .map(|(v, _)| v.x_advance),
                };
                if let Some(adv) = hit {
                    total += f32::from(adv);
                    break;
                }
            }
        }
        total
    }
}

/// A parsed font plus the kerning source it should use, and the lookups layout repeats:
/// a title is re-wrapped at every candidate size and balancing width, so each char,
/// advance and kerning pair is resolved from the font once (in font units, scaled by the
/// caller exactly as ab_glyph would).
pub(super) struct Face<'a> {
    pub(super) font: FontRef<'a>,
    /// The same font for outlining glyphs into the rasteriser's own buffers; ab_glyph
    /// gives each outline a vector of its own.
    pub(super) outlines: ttf_parser::Face<'a>,
    gpos: GposKerning<'a>,
    glyphs: RefCell<FxHashMap<char, Option<GlyphId>>>,
    advances: RefCell<FxHashMap<u16, f32>>,
    kerning: RefCell<FxHashMap<(u16, u16), f32>>,
}

impl<'a> Face<'a> {
    pub(super) fn parse(data: &'a [u8]) -> Result<Self, ab_glyph::InvalidFont> {
        let font = FontRef::try_from_slice(data)?;
        let outlines = ttf_parser::Face::parse(data, 0).map_err(|_| ab_glyph::InvalidFont)?;
        Ok(Face {
            font,
            outlines,
            gpos: GposKerning::new(data),
            glyphs: RefCell::default(),
            advances: RefCell::default(),
            kerning: RefCell::default(),
        })
    }

    /// Kerning in pixels at `size`; GPOS wins when present because fonts that
    /// carry both keep the legacy table only as a subset.
    pub(super) fn kern(&self, size: f32, first: GlyphId, second: GlyphId) -> f32 {
        let unscaled = *self
            .kerning
            .borrow_mut()
            .entry((first.0, second.0))
            .or_insert_with(|| {
                if self.gpos.lookups.is_empty() {
                    self.font.kern_unscaled(first, second)
                } else {
                    self.gpos.kern_unscaled(first, second)
                }
            });
        unscaled * self.font.as_scaled(PxScale::from(size)).h_scale_factor()
    }

    /// Advance width of `id` in pixels at `size`.
    pub(super) fn advance(&self, size: f32, id: GlyphId) -> f32 {
        let unscaled = *self
            .advances
            .borrow_mut()
            .entry(id.0)
            .or_insert_with(|| self.font.h_advance_unscaled(id));
        self.font.as_scaled(PxScale::from(size)).h_scale_factor() * unscaled
    }
}

/// Lays out `text` on one line with kerning and `tracking` px between glyphs.
pub(super) fn shape(font: &Face, size: f32, text: &str, tracking: f32) -> Run {
    let mut glyphs = Vec::with_capacity(text.len());
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut prev_space = false;
    for c in text.chars() {
        let Some(id) = glyph_for(font, c) else {
            continue;
        };
        // Dropped glyphs would otherwise leave doubled word spaces behind.
        let is_space = c.is_whitespace();
        if is_space && (prev_space || glyphs.is_empty()) {
            continue;
        }
        prev_space = is_space;
        if let Some(p) = prev {
            x += font.kern(size, p, id) + tracking;
        }
        glyphs.push((id, x));
        x += font.advance(size, id);
        prev = Some(id);
    }
    Run {
        size,
        glyphs,
        width: x,
    }
}

/// Width of `text` set on one line.
#[cfg(test)]
pub(super) fn measure(font: &Face, size: f32, text: &str) -> f32 {
    shape(font, size, text, 0.0).width
}

/// Shrinks a one-line label until it fits, then cuts it with an ellipsis.
pub(super) fn fit_single_line(
    font: &Face,
    size: f32,
    text: &str,
    tracking_ratio_px: f32,
    max_w: f32,
) -> Run {
    let ratio = tracking_ratio_px / size;
    let mut s = size;
    loop {
        let run = shape(font, s, text, ratio * s);
        if run.width <= max_w || s <= size * 0.6 {
            if run.width <= max_w {
                return run;
            }
            let cut = ellipsize(font, s, ratio * s, text, max_w);
            return shape(font, s, &cut, ratio * s);
        }
        s -= 2.0;
    }
}

/// Pulls opening punctuation into the margin so the letters, not the quote
/// mark, line up with the rules: the usual "hanging punctuation" of good covers.
pub(super) fn hang_offset(font: &Face, size: f32, line: &str, run: &Run) -> f32 {
    let scaled = font.font.as_scaled(PxScale::from(size));
    let first_char = line.chars().next();
    let hang = matches!(
        first_char,
        Some('\u{201C}' | '\u{2018}' | '"' | '\'' | '«' | '\u{201E}' | '(')
    );
    match run.glyphs.as_slice() {
        [(_, _), (_, next_x), ..] if hang => *next_x,
        [(first, _), ..] => scaled.h_side_bearing(*first).min(size * 0.1),
        [] => 0.0,
    }
}

/// Lines of a wrapped text, and whether a word had to be broken to fit.
pub(super) struct Wrapped {
    pub(super) lines: Vec<String>,
    pub(super) broke_word: bool,
}

/// Running width of a line being built, kept incrementally so wrapping long
/// texts stays linear instead of re-shaping the line for every word.
#[derive(Clone, Copy, Default)]
pub(super) struct Pen {
    pub(super) width: f32,
    pub(super) last: Option<GlyphId>,
    pub(super) tracking: f32,
}

impl Pen {
    /// Width after appending glyph `id` (with kerning against the previous one).
    fn step(&self, font: &Face, size: f32, id: GlyphId) -> f32 {
        let kern = self
            .last
            .map_or(0.0, |p| font.kern(size, p, id) + self.tracking);
        self.width + kern + font.advance(size, id)
    }

    fn push(&mut self, font: &Face, size: f32, id: GlyphId) {
        self.width = self.step(font, size, id);
        self.last = Some(id);
    }

    pub(super) fn push_str(&mut self, font: &Face, size: f32, text: &str) {
        for id in text.chars().filter_map(|c| glyph_for(font, c)) {
            self.push(font, size, id);
        }
    }
}

/// Greedy wrap by measured advances; words wider than the measure are split
/// at char boundaries so nothing runs off the page.
pub(super) fn wrap(font: &Face, size: f32, text: &str, max_w: f32) -> Wrapped {
    let space = glyph_for(font, ' ');
    // A hyphen marks a forced break as deliberate; fonts without one get a bare break.
    let hyphen = glyph_for(font, '-');
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut pen = Pen::default();
    let mut broke_word = false;
    for word in text.split_whitespace() {
        if !current.is_empty() {
            let mut trial = pen;
            if let Some(sp) = space {
                trial.push(font, size, sp);
            }
            trial.push_str(font, size, word);
            if trial.width <= max_w {
                current.push(' ');
                current.push_str(word);
                pen = trial;
                continue;
            }
            lines.push(std::mem::take(&mut current));
            pen = Pen::default();
        }
        let mut alone = Pen::default();
        alone.push_str(font, size, word);
        if alone.width <= max_w {
            current.push_str(word);
            pen = alone;
            continue;
        }
        broke_word = true;
        let mut chars = word.chars().peekable();
        while let Some(c) = chars.next() {
            let Some(id) = glyph_for(font, c) else {
                current.push(c);
                continue;
            };
            let mut after = pen;
            after.push(font, size, id);
            // Leave room for the hyphen unless this char ends the word.
            let needed = match (chars.peek(), hyphen) {
                (Some(_), Some(h)) => after.step(font, size, h),
                _ => after.width,
            };
            if pen.last.is_some() && needed > max_w {
                if hyphen.is_some() {
                    current.push('-');
                }
                lines.push(std::mem::take(&mut current));
                pen = Pen::default();
                pen.push(font, size, id);
            } else {
                pen = after;
            }
            current.push(c);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    Wrapped { lines, broke_word }
}

/// Re-wraps at the narrowest measure that keeps the same line count, so a
/// title doesn't end on a lonely word; ragged-right titles read better balanced.
pub(super) fn balance(font: &Face, size: f32, text: &str, max_w: f32, greedy: Wrapped) -> Wrapped {
    let n = greedy.lines.len();
    if n < 2 || greedy.broke_word {
        return greedy;
    }
    let mut best = greedy;
    let mut w = max_w;
    while w > max_w * 0.55 {
        w -= max_w * 0.02;
        let trial = wrap(font, size, text, w);
        if trial.lines.len() != n || trial.broke_word {
            break;
        }
        best = trial;
    }
    best
}

/// Keeps at most `max` lines, ending the last kept one with an ellipsis.
pub(super) fn truncate_lines(
    font: &Face,
    size: f32,
    mut lines: Vec<String>,
    max: usize,
    max_w: f32,
) -> Vec<String> {
    if lines.len() <= max {
        return lines;
    }
    lines.truncate(max);
    if let Some(last) = lines.last_mut() {
        *last = ellipsize(font, size, 0.0, last, max_w);
    }
    lines
}

/// Cuts `text` so that it plus an ellipsis fits `max_w`, preferring to cut
/// between words unless that would throw away too much of the line.
fn ellipsize(font: &Face, size: f32, tracking: f32, text: &str, max_w: f32) -> String {
    const TRIM: &[char] = &[
        ' ', ',', ';', ':', '.', '-', '\u{2013}', '\u{2014}', '\u{2026}',
    ];
    let ell = if glyph_for(font, '\u{2026}').is_some() {
        "\u{2026}"
    } else {
        "..."
    };
    let text = text.trim_end_matches(TRIM);
    let mut pen = Pen {
        tracking,
        ..Pen::default()
    };
    let (mut best, mut best_word) = (0, 0);
    let mut prev: Option<char> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if prev.is_some_and(|p| !TRIM.contains(&p)) {
            let mut with_ell = pen;
            with_ell.push_str(font, size, ell);
            if with_ell.width > max_w {
                break;
            }
            best = i;
            if c.is_whitespace() {
                best_word = i;
            }
        }
        if let Some(id) = glyph_for(font, c) {
            pen.push(font, size, id);
        }
        prev = Some(c);
    }
    let cut = if best_word * 3 >= best * 2 {
        best_word
    } else {
        best
    };
    format!("{}{ell}", text[..cut].trim_end_matches(TRIM))
}

/// Capital height, used to put the top of the first line's capitals exactly
/// on the layout grid regardless of the font's ascender.
pub(super) fn cap_height(font: &Face, size: f32) -> f32 {
    let scaled = font.font.as_scaled(PxScale::from(size));
    let from_outline = font
        .font
        .outline(font.font.glyph_id('H'))
        // ab_glyph stores the top edge in `min.y` (y-up font units).
        .map(|o| o.bounds.min.y.max(o.bounds.max.y) * scaled.v_scale_factor())
        .filter(|h| *h > 0.0);
    from_outline.unwrap_or(scaled.ascent() * 0.7)
}
