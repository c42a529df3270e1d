//! Typographic cover generation for articles that ship without a cover image.
//!
//! Readers' library views look broken without a cover, so galley draws a quiet
//! magazine-style one: a kicker and accent rule at the top, the title set large
//! and left-aligned, an optional subtitle, and the byline anchored at the bottom.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use ttf_parser::gpos::{PairAdjustment, PositioningSubtable};

/// Cover width in pixels; 1600×2560 is the 1:1.6 ratio e-book stores recommend.
pub const COVER_WIDTH: u32 = 1600;
/// Cover height in pixels.
pub const COVER_HEIGHT: u32 = 2560;

/// What goes on a generated cover.
pub struct CoverSpec<'a> {
    /// Small section label shown above the title, e.g. "Science".
    pub kicker: Option<&'a str>,
    /// The article title; may be empty.
    pub title: &'a str,
    /// Optional standfirst shown under the title.
    pub subtitle: Option<&'a str>,
    /// Author names, in display order.
    pub authors: &'a [String],
    /// Publication date, already formatted for display.
    pub date: Option<&'a str>,
    /// Page colour.
    pub background: [u8; 3],
    /// Main text colour.
    pub foreground: [u8; 3],
    /// Colour of the rules and the kicker.
    pub accent: [u8; 3],
    /// TrueType/OpenType bytes for the title.
    pub title_font: &'a [u8],
    /// TrueType/OpenType bytes for kicker, subtitle, authors and date.
    pub text_font: &'a [u8],
}

/// Why a cover could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    /// The title font bytes are not a usable font.
    #[error("invalid title font: {0}")]
    TitleFont(ab_glyph::InvalidFont),
    /// The text font bytes are not a usable font.
    #[error("invalid text font: {0}")]
    TextFont(ab_glyph::InvalidFont),
    /// PNG encoding failed.
    #[error("could not encode cover PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

// Layout constants, in pixels of the 1600×2560 canvas.
const MARGIN_X: f32 = 150.0;
const TOP_BAND: f32 = 250.0;
const BOTTOM_EDGE: f32 = 2560.0 - 210.0;
const TITLE_MAX_SIZE: f32 = 280.0;
const TITLE_MIN_SIZE: f32 = 80.0;
const BODY_DRIFT: f32 = 0.3;
const WORD_BREAK_SIZE: f32 = 110.0;
const TITLE_MAX_LINES: usize = 6;
/// Beyond this even the smallest title size reads as body text, not a cover.
const TITLE_HARD_MAX_LINES: usize = 9;
const SUBTITLE_MAX_LINES: usize = 4;
const AUTHOR_MAX_LINES: usize = 3;

/// Renders the cover as a PNG (1600×2560, the usual e-book cover ratio), deterministic bytes for the same spec.
pub fn render_cover_png(spec: &CoverSpec) -> Result<Vec<u8>, CoverError> {
    let title_font = Face::parse(spec.title_font).map_err(CoverError::TitleFont)?;
    let text_font = Face::parse(spec.text_font).map_err(CoverError::TextFont)?;
    let mut canvas = Canvas::new(spec.background);
    let fg = spec.foreground;
    let muted = mix(spec.foreground, spec.background, 0.72);
    let faint = mix(spec.foreground, spec.background, 0.55);
    let text_w = COVER_WIDTH as f32 - 2.0 * MARGIN_X;

    // Top band: kicker over a full-measure hairline rule.
    let mut y = TOP_BAND;
    if let Some(kicker) = visible_field(&text_font, spec.kicker) {
        let size = 50.0;
        let tracking = 0.16 * size;
        let caps = kicker.to_uppercase();
        let run = fit_single_line(&text_font, size, &caps, tracking, text_w);
        canvas.draw_run(&text_font, &run, MARGIN_X, y, spec.accent);
        y += 48.0;
    }
    canvas.fill_rect(MARGIN_X, y, text_w, 5.0, spec.accent);
    let title_top = y + 150.0;

    // Bottom block, laid out upward from the bottom edge so its height is known
    // before the title is sized.
    let mut bottom = BOTTOM_EDGE;
    let mut bottom_runs: Vec<(Run, f32, f32, [u8; 3], &Face)> = Vec::new();
    if let Some(date) = visible_field(&text_font, spec.date) {
        let size = 46.0;
        let tracking = 0.12 * size;
        let run = fit_single_line(&text_font, size, &date.to_uppercase(), tracking, text_w);
        bottom_runs.push((run, MARGIN_X, bottom, faint, &text_font));
        bottom -= 100.0;
    }
    let authors: Vec<String> = spec
        .authors
        .iter()
        .map(|a| visible_text(&text_font, a))
        .collect();
    let byline = join_authors(&authors);
    if !byline.is_empty() {
        let mut size = 76.0;
        let lines = loop {
            let wrapped = wrap(&text_font, size, &byline, text_w);
            if wrapped.lines.len() <= 2 || size <= 48.0 {
                break truncate_lines(&text_font, size, wrapped.lines, AUTHOR_MAX_LINES, text_w);
            }
            size -= 6.0;
        };
        let lead = size * 1.22;
        for line in lines.iter().rev() {
            let run = shape(&text_font, size, line, 0.0);
            bottom_runs.push((run, MARGIN_X, bottom, fg, &text_font));
            bottom -= lead;
        }
        bottom += lead - size * 0.9;
    }
    let has_bottom = !bottom_runs.is_empty();
    if has_bottom {
        bottom -= 64.0;
        canvas.fill_rect(MARGIN_X, bottom, 150.0, 7.0, spec.accent);
    }
    for (run, x, baseline, color, font) in &bottom_runs {
        canvas.draw_run(font, run, *x, *baseline, *color);
    }
    let body_bottom = if has_bottom {
        bottom - 140.0
    } else {
        BOTTOM_EDGE
    };

    // Title and subtitle share the space between the bands; shrink the title
    // until both fit, keeping the title within a readable number of lines.
    let title = visible_text(&title_font, spec.title);
    let subtitle = visible_field(&text_font, spec.subtitle);
    let available = body_bottom - title_top;
    let block = layout_body(
        &title_font,
        &text_font,
        &title,
        subtitle.as_deref(),
        text_w,
        available,
    );

    // Float the block a little below the top band: pinned to the rule, short
    // titles leave a dead empty middle; centred, they lose the editorial feel.
    let body_top = title_top + ((available - block.height) * BODY_DRIFT).max(0.0);
    let mut baseline = body_top + block.title_cap;
    for line in &block.title_lines {
        let run = shape(&title_font, block.title_size, line, 0.0);
        let x = MARGIN_X - hang_offset(&title_font, block.title_size, line, &run);
        canvas.draw_run(&title_font, &run, x, baseline, fg);
        baseline += block.title_lead;
    }
    if !block.subtitle_lines.is_empty() {
        let mut baseline = body_top + block.subtitle_top + block.subtitle_cap;
        for line in &block.subtitle_lines {
            let run = shape(&text_font, block.subtitle_size, line, 0.0);
            canvas.draw_run(&text_font, &run, MARGIN_X, baseline, muted);
            baseline += block.subtitle_lead;
        }
    }

    canvas.encode()
}

/// Collapses whitespace and drops words the font cannot draw at all, so a
/// title in an unsupported script leaves no blank lines or stray gaps behind.
fn visible_text(font: &Face, text: &str) -> String {
    text.split_whitespace()
        .filter(|w| w.chars().any(|c| glyph_for(font, c).is_some()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `visible_text` of an optional field, `None` when nothing drawable is left.
fn visible_field(font: &Face, text: Option<&str>) -> Option<String> {
    text.map(|t| visible_text(font, t))
        .filter(|t| !t.is_empty())
}

/// "A", "A & B", "A, B & C".
fn join_authors(authors: &[String]) -> String {
    let names: Vec<&str> = authors
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} & {}", rest.join(", "), last),
    }
}

/// Blends `a` toward `b`; `t` is the weight of `a`.
fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let ch = |i: usize| {
        (a[i] as f32 * t + b[i] as f32 * (1.0 - t))
            .round()
            .clamp(0.0, 255.0) as u8
    };
    [ch(0), ch(1), ch(2)]
}

/// Anti-aliasing levels per ink colour: with four inks (text, muted, faint, accent) plus
/// the background the palette stays within PNG's 256 entries, and 63 steps of edge coverage
/// are indistinguishable from 255 at cover sizes.
const LEVELS: u8 = 63;
/// Inks a cover can use; `render_cover_png` draws in four colours.
const MAX_INKS: usize = 4;

/// An indexed-colour canvas: each pixel is the background (0) or one ink at one coverage
/// level. A third of the bytes of RGB, and flat runs the PNG encoder squeezes quickly,
/// which made the cover several times cheaper to draw and encode.
struct Canvas {
    pixels: Vec<u8>,
    background: [u8; 3],
    inks: Vec<[u8; 3]>,
}

impl Canvas {
    fn new(bg: [u8; 3]) -> Self {
        Canvas {
            pixels: vec![0; COVER_WIDTH as usize * COVER_HEIGHT as usize],
            background: bg,
            inks: Vec::with_capacity(MAX_INKS),
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

    /// Lays `coverage` of ink `slot` over the pixel. The same ink accumulates as alpha
    /// compositing would (1 − (1 − a)(1 − b)); a different ink wins where it covers more.
    fn blend(&mut self, x: i64, y: i64, slot: u8, coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(COVER_WIDTH) || y >= i64::from(COVER_HEIGHT) {
            return;
        }
        let level = (coverage.clamp(0.0, 1.0) * f32::from(LEVELS) + 0.5) as u8;
        if level == 0 {
            return;
        }
        let px = &mut self.pixels[y as usize * COVER_WIDTH as usize + x as usize];
        let (old_slot, old_level) = match *px {
            0 => (slot, 0),
            p => ((p - 1) / LEVELS, (p - 1) % LEVELS + 1),
        };
        let level = if old_slot == slot {
            let (a, b) = (u16::from(old_level), u16::from(level));
            let l = u16::from(LEVELS);
            (a + b - (a * b + l / 2) / l).min(l) as u8
        } else if level >= old_level {
            level
        } else {
            return;
        };
        *px = 1 + slot * LEVELS + (level - 1);
    }

    /// Anti-aliases the top and bottom edges so sub-pixel rule positions stay crisp.
    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: [u8; 3]) {
        let Some(slot) = self.ink(color) else { return };
        let (x0, x1) = (x.round() as i64, (x + w).round() as i64);
        let (y0, y1) = (y.floor() as i64, (y + h).ceil() as i64);
        for py in y0..y1 {
            let top = (py as f32).max(y);
            let bot = (py as f32 + 1.0).min(y + h);
            let cov = (bot - top).max(0.0);
            for px in x0..x1 {
                self.blend(px, py, slot, cov);
            }
        }
    }

    fn draw_run(&mut self, font: &Face, run: &Run, x: f32, baseline: f32, color: [u8; 3]) {
        let Some(slot) = self.ink(color) else { return };
        let scale = PxScale::from(run.size);
        for &(id, dx) in &run.glyphs {
            let glyph = id.with_scale_and_position(scale, point(x + dx, baseline));
            if let Some(outlined) = font.font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                let (bx, by) = (b.min.x as i64, b.min.y as i64);
                outlined
                    .draw(|gx, gy, c| self.blend(bx + i64::from(gx), by + i64::from(gy), slot, c));
            }
        }
    }

    /// The palette: background, then each ink at each coverage level over the background.
    fn palette(&self) -> Vec<u8> {
        let mut pal = Vec::with_capacity(3 * (1 + self.inks.len() * usize::from(LEVELS)));
        pal.extend_from_slice(&self.background);
        for &ink in &self.inks {
            for level in 1..=LEVELS {
                let t = f32::from(level) / f32::from(LEVELS);
                pal.extend_from_slice(&mix(ink, self.background, t));
            }
        }
        pal
    }

    fn encode(self) -> Result<Vec<u8>, CoverError> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, COVER_WIDTH, COVER_HEIGHT);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(self.palette());
        // fdeflate encodes at memory speed where zlib's default level spent most of the
        // conversion. It is tuned for runs of zeros, which the Sub filter turns both the
        // background and solid glyph interiors into. Explicit settings also keep the
        // bytes stable if the crate's defaults move.
        enc.set_filter(png::Filter::Sub);
        enc.set_deflate_compression(png::DeflateCompression::FdeflateUltraFast);
        let mut w = enc.write_header()?;
        w.write_image_data(&self.pixels)?;
        w.finish()?;
        Ok(out)
    }
}

/// A positioned line of glyphs: x offsets are relative to the line start.
struct Run {
    size: f32,
    glyphs: Vec<(GlyphId, f32)>,
    width: f32,
}

/// Maps a char to a glyph, substituting plain ASCII for typographic punctuation
/// the font lacks; chars with no acceptable glyph are dropped rather than shown
/// as .notdef boxes, which look broken on a cover.
fn glyph_for(font: &Face, c: char) -> Option<GlyphId> {
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

/// A parsed font plus the kerning source it should use.
struct Face<'a> {
    font: FontRef<'a>,
    gpos: GposKerning<'a>,
}

impl<'a> Face<'a> {
    fn parse(data: &'a [u8]) -> Result<Self, ab_glyph::InvalidFont> {
        let font = FontRef::try_from_slice(data)?;
        Ok(Face {
            font,
            gpos: GposKerning::new(data),
        })
    }

    /// Kerning in pixels at `size`; GPOS wins when present because fonts that
    /// carry both keep the legacy table only as a subset.
    fn kern(&self, size: f32, first: GlyphId, second: GlyphId) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(size));
        if self.gpos.lookups.is_empty() {
            scaled.kern(first, second)
        } else {
            self.gpos.kern_unscaled(first, second) * scaled.h_scale_factor()
        }
    }
}

/// Lays out `text` on one line with kerning and `tracking` px between glyphs.
fn shape(font: &Face, size: f32, text: &str, tracking: f32) -> Run {
    let scaled = font.font.as_scaled(PxScale::from(size));
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
        x += scaled.h_advance(id);
        prev = Some(id);
    }
    Run {
        size,
        glyphs,
        width: x,
    }
}

#[cfg(test)]
fn measure(font: &Face, size: f32, text: &str) -> f32 {
    shape(font, size, text, 0.0).width
}

/// Shrinks a one-line label until it fits, then cuts it with an ellipsis.
fn fit_single_line(font: &Face, size: f32, text: &str, tracking_ratio_px: f32, max_w: f32) -> Run {
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
fn hang_offset(font: &Face, size: f32, line: &str, run: &Run) -> f32 {
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

struct Wrapped {
    lines: Vec<String>,
    broke_word: bool,
}

/// Running width of a line being built, kept incrementally so wrapping long
/// texts stays linear instead of re-shaping the line for every word.
#[derive(Clone, Copy, Default)]
struct Pen {
    width: f32,
    last: Option<GlyphId>,
    tracking: f32,
}

impl Pen {
    /// Width after appending glyph `id` (with kerning against the previous one).
    fn step(&self, font: &Face, size: f32, id: GlyphId) -> f32 {
        let scaled = font.font.as_scaled(PxScale::from(size));
        let kern = self
            .last
            .map_or(0.0, |p| font.kern(size, p, id) + self.tracking);
        self.width + kern + scaled.h_advance(id)
    }

    fn push(&mut self, font: &Face, size: f32, id: GlyphId) {
        self.width = self.step(font, size, id);
        self.last = Some(id);
    }

    fn push_str(&mut self, font: &Face, size: f32, text: &str) {
        for id in text.chars().filter_map(|c| glyph_for(font, c)) {
            self.push(font, size, id);
        }
    }
}

/// Greedy wrap by measured advances; words wider than the measure are split
/// at char boundaries so nothing runs off the page.
fn wrap(font: &Face, size: f32, text: &str, max_w: f32) -> Wrapped {
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
fn balance(font: &Face, size: f32, text: &str, max_w: f32, greedy: Wrapped) -> Wrapped {
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
fn truncate_lines(
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
fn cap_height(font: &Face, size: f32) -> f32 {
    let scaled = font.font.as_scaled(PxScale::from(size));
    let from_outline = font
        .font
        .outline(font.font.glyph_id('H'))
        // ab_glyph stores the top edge in `min.y` (y-up font units).
        .map(|o| o.bounds.min.y.max(o.bounds.max.y) * scaled.v_scale_factor())
        .filter(|h| *h > 0.0);
    from_outline.unwrap_or(scaled.ascent() * 0.7)
}

struct Body {
    height: f32,
    title_size: f32,
    title_lead: f32,
    title_cap: f32,
    title_lines: Vec<String>,
    subtitle_size: f32,
    subtitle_lead: f32,
    subtitle_cap: f32,
    subtitle_top: f32,
    subtitle_lines: Vec<String>,
}

fn layout_body(
    title_font: &Face,
    text_font: &Face,
    title: &str,
    subtitle: Option<&str>,
    text_w: f32,
    available: f32,
) -> Body {
    let title_lines_h = |n: usize, cap: f32, lead: f32| {
        if n == 0 {
            0.0
        } else {
            cap + lead * (n - 1) as f32
        }
    };
    // The subtitle size only takes a few distinct values, so reuse its wrap.
    let mut sub_cache: Option<(f32, Vec<String>)> = None;
    // Widths scale linearly with size, so one measurement rules out sizes at
    // which the title cannot possibly fit in the allowed lines, skipping
    // pointless wraps of very long titles.
    let mut flat = Pen::default();
    flat.push_str(title_font, TITLE_MAX_SIZE, title);
    let mut size = TITLE_MAX_SIZE;
    loop {
        let at_min = size <= TITLE_MIN_SIZE;
        if !at_min && flat.width * size / TITLE_MAX_SIZE > text_w * TITLE_MAX_LINES as f32 {
            size = (size * 0.93).max(TITLE_MIN_SIZE);
            continue;
        }
        let greedy = wrap(title_font, size, title, text_w);
        let n = greedy.lines.len();
        // Shrinking to fit one monster word would make the whole title tiny, so
        // below a floor we accept breaking it instead.
        let title_ok = n <= TITLE_MAX_LINES && (!greedy.broke_word || size <= WORD_BREAK_SIZE);
        let title_lead = size * 0.88;
        let title_cap = cap_height(title_font, size);

        // The subtitle tracks the title so that a small title doesn't sit on a
        // subtitle of nearly the same size.
        let sub_size = (size * 0.42).clamp(50.0, 72.0);
        let sub_lead = sub_size * 1.22;
        let sub_cap = cap_height(text_font, sub_size);
        let sub_lines = match (&sub_cache, subtitle) {
            (Some((cached, lines)), _) if *cached == sub_size => lines.clone(),
            (_, Some(s)) => {
                let w = wrap(text_font, sub_size, s, text_w).lines;
                let lines = truncate_lines(text_font, sub_size, w, SUBTITLE_MAX_LINES, text_w);
                sub_cache = Some((sub_size, lines.clone()));
                lines
            }
            (_, None) => Vec::new(),
        };
        let sub_gap = if n == 0 { 0.0 } else { size * 0.55 + 40.0 };
        let sub_h = if sub_lines.is_empty() {
            0.0
        } else {
            sub_gap + title_lines_h(sub_lines.len(), sub_cap, sub_lead)
        };
        let fits = title_lines_h(n, title_cap, title_lead) + sub_h + size * 0.3 <= available;

        if (title_ok && fits) || at_min {
            let lines = if fits && n <= TITLE_HARD_MAX_LINES {
                balance(title_font, size, title, text_w, greedy).lines
            } else {
                // Only pathological titles get here: cut to what fits.
                let room = available - sub_h - title_cap - size * 0.3;
                let max_lines =
                    (1 + (room / title_lead).max(0.0) as usize).min(TITLE_HARD_MAX_LINES);
                truncate_lines(title_font, size, greedy.lines, max_lines, text_w)
            };
            let title_h = title_lines_h(lines.len(), title_cap, title_lead);
            return Body {
                height: title_h + sub_h,
                title_size: size,
                title_lead,
                title_cap,
                subtitle_top: title_h + sub_gap,
                title_lines: lines,
                subtitle_size: sub_size,
                subtitle_lead: sub_lead,
                subtitle_cap: sub_cap,
                subtitle_lines: sub_lines,
            };
        }
        size = (size * 0.93).max(TITLE_MIN_SIZE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    const BOLD: &[u8] = include_bytes!("../../fonts/eb-garamond/EBGaramond-Bold.ttf");
    const REGULAR: &[u8] = include_bytes!("../../fonts/eb-garamond/EBGaramond-Regular.ttf");

    fn spec<'a>(title: &'a str, authors: &'a [String]) -> CoverSpec<'a> {
        CoverSpec {
            kicker: None,
            title,
            subtitle: None,
            authors,
            date: None,
            background: [0xF4, 0xEF, 0xE6],
            foreground: [0x1E, 0x1E, 0x24],
            accent: [0xB2, 0x3A, 0x2E],
            title_font: BOLD,
            text_font: REGULAR,
        }
    }

    fn decode(png: &[u8]) -> RgbImage {
        let img =
            image::load_from_memory_with_format(png, image::ImageFormat::Png).expect("valid PNG");
        assert_eq!((img.width(), img.height()), (COVER_WIDTH, COVER_HEIGHT));
        img.to_rgb8()
    }

    #[test]
    fn renders_valid_png_of_cover_size() {
        let authors = vec!["Ada Lovelace".to_string()];
        let png = render_cover_png(&spec("On Analytical Engines", &authors)).expect("render");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        decode(&png);
    }

    #[test]
    fn output_is_deterministic() {
        let authors = vec!["A. Writer".to_string(), "B. Writer".to_string()];
        let mut s = spec("Same Input, Same Bytes", &authors);
        s.kicker = Some("Tests");
        s.date = Some("1 May 2025");
        assert_eq!(
            render_cover_png(&s).expect("first"),
            render_cover_png(&s).expect("second")
        );
    }

    #[test]
    fn title_region_has_foreground_pixels() {
        let s = spec("Hello", &[]);
        let img = decode(&render_cover_png(&s).expect("render"));
        let fg = Rgb(s.foreground);
        let hits = (400..1800)
            .flat_map(|y| (0..COVER_WIDTH).map(move |x| (x, y)))
            .filter(|&(x, y)| *img.get_pixel(x, y) == fg)
            .count();
        assert!(hits > 1000, "only {hits} foreground pixels in title region");
    }

    #[test]
    fn long_titles_shrink_and_wrap() {
        let font = Face::parse(BOLD).expect("font");
        let reg = Face::parse(REGULAR).expect("font");
        let long = "“A Remarkably Long Title” — One That Keeps Going Well Past the Point Where \
                    Any Sensible Editor Would Have Stopped It, Surely";
        let body = layout_body(&font, &reg, long, None, 1300.0, 1500.0);
        assert!(body.title_size < TITLE_MAX_SIZE);
        assert!(body.title_lines.len() <= TITLE_MAX_LINES);
        for line in &body.title_lines {
            assert!(
                measure(&font, body.title_size, line) <= 1300.0 + 0.5,
                "{line}"
            );
        }
        render_cover_png(&spec(long, &[])).expect("render long");
    }

    #[test]
    fn pathological_inputs_do_not_panic() {
        let (bold, reg) = (
            Face::parse(BOLD).expect("font"),
            Face::parse(REGULAR).expect("font"),
        );
        let huge = "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(6);
        let many = "word ".repeat(400);
        for title in [
            "",
            "   \n\t ",
            &huge,
            &many,
            "日本語のタイトル 🚀",
            "Ünïcödé — ‘quotes’ … ﬁ\u{0}",
        ] {
            let body = layout_body(&bold, &reg, title, Some(&many), 1300.0, 1500.0);
            assert!(body.height <= 1500.0, "{title:.20}: {}", body.height);
            assert!(body.subtitle_lines.len() <= SUBTITLE_MAX_LINES);
            for line in &body.title_lines {
                assert!(measure(&bold, body.title_size, line) <= 1300.5, "{line}");
            }
        }
        let body = layout_body(&bold, &reg, &many, None, 1300.0, 1500.0);
        assert!(body.title_lines.len() <= TITLE_HARD_MAX_LINES);
        assert!(
            body.title_lines
                .last()
                .is_some_and(|l| l.ends_with('\u{2026}'))
        );
        assert_eq!(visible_text(&bold, " 日本語  Title\n🚀 "), "Title");

        // Full renders are slow in debug builds, so only the worst cases go end to end.
        let authors: Vec<String> = (0..40).map(|i| format!("Author Number {i}")).collect();
        for title in ["   ", many.as_str()] {
            let mut s = spec(title, &authors);
            s.kicker = Some(&huge);
            s.subtitle = Some(&many);
            s.date = Some("");
            decode(&render_cover_png(&s).expect("render"));
        }
    }

    #[test]
    fn garbage_fonts_are_errors() {
        let junk = b"definitely not a font".as_slice();
        let mut s = spec("Title", &[]);
        s.title_font = junk;
        assert!(matches!(
            render_cover_png(&s),
            Err(CoverError::TitleFont(_))
        ));
        let mut s = spec("Title", &[]);
        s.text_font = &[];
        assert!(matches!(render_cover_png(&s), Err(CoverError::TextFont(_))));
    }

    #[test]
    fn wrap_breaks_overlong_words() {
        let font = Face::parse(BOLD).expect("font");
        let w = wrap(&font, 200.0, "Supercalifragilisticexpialidocious", 600.0);
        assert!(w.broke_word && w.lines.len() > 1);
        for line in &w.lines {
            assert!(measure(&font, 200.0, line) <= 600.0);
        }
    }

    #[test]
    fn gpos_kerning_tightens_classic_pairs() {
        let face = Face::parse(BOLD).expect("font");
        let id = |c| face.font.glyph_id(c);
        assert!(face.kern(200.0, id('T'), id('o')) < 0.0);
        assert!(face.kern(200.0, id('A'), id('V')) < 0.0);
        let plain = measure(&face, 200.0, "T") + measure(&face, 200.0, "o");
        assert!(measure(&face, 200.0, "To") < plain);
    }

    #[test]
    fn authors_are_joined_naturally() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join_authors(&names(&[])), "");
        assert_eq!(join_authors(&names(&["A"])), "A");
        assert_eq!(join_authors(&names(&["A", " "])), "A");
        assert_eq!(join_authors(&names(&["A", "B", "C"])), "A, B & C");
    }
}
