//! Typographic cover generation for articles that ship without a cover image.
//!
//! Readers' library views look broken without a cover, so galley draws a quiet
//! magazine-style one: a kicker and accent rule at the top, the title set large
//! and left-aligned, an optional subtitle, and the byline anchored at the bottom.

mod body;
mod canvas;
mod png;
mod raster;
mod text;

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use body::layout_body;
use canvas::Canvas;
use png::Part;
pub use png::Pieces;
use text::{
    Face, fit_single_line, hang_offset, shape, truncate_lines, visible_field, visible_text, wrap,
};

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
    Encode(#[from] png::RlePngError),
    /// The PNG was asked for before every band of it was coded.
    #[error("cover PNG asked for before it was coded")]
    Unfinished,
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

/// Keys telling the two faces apart in the canvas's glyph cache.
const TITLE_FACE: u8 = 0;
const TEXT_FACE: u8 = 1;

/// Checks that the spec's fonts are usable, the one way `render_cover_png` can fail on
/// its inputs, so that a caller can commit to a cover before drawing it elsewhere.
pub fn check_fonts(spec: &CoverSpec) -> Result<(), CoverError> {
    ab_glyph::FontRef::try_from_slice(spec.title_font).map_err(CoverError::TitleFont)?;
    ab_glyph::FontRef::try_from_slice(spec.text_font).map_err(CoverError::TextFont)?;
    Ok(())
}

/// Renders the cover as a PNG (1600×2560, the usual e-book cover ratio), deterministic bytes for the same spec.
pub fn render_cover_png(spec: &CoverSpec) -> Result<Vec<u8>, CoverError> {
    let drawn = DrawnCover::draw(spec)?;
    drawn.help();
    drawn.png()
}

/// Bands of rows a cover's PNG is coded in. More than two, so that a thread that comes
/// to help late (a waiting thread wakes up to a millisecond after the drawing is done)
/// still finds work, and the two threads finish about together.
const BANDS: u32 = 6;

/// A drawn cover whose PNG is coded in bands of rows, each by whichever thread claims
/// it first: the thread that drew it and one waiting for it share the coding, a third
/// of the cover's time.
pub struct DrawnCover {
    canvas: Canvas,
    bands: Vec<Range<u32>>,
    /// The first band no thread has claimed yet.
    next: AtomicUsize,
    parts: Vec<Mutex<Option<Result<Part, CoverError>>>>,
}

impl DrawnCover {
    /// Lays out and rasterises the cover; the PNG is coded by [`DrawnCover::help`].
    pub fn draw(spec: &CoverSpec) -> Result<DrawnCover, CoverError> {
        let canvas = draw_canvas(spec)?;
        let bands = canvas.bands(BANDS);
        let parts = bands.iter().map(|_| Mutex::new(None)).collect();
        Ok(DrawnCover {
            canvas,
            bands,
            next: AtomicUsize::new(0),
            parts,
        })
    }

    /// Codes the bands no thread has claimed yet.
    pub fn help(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::AcqRel);
            let Some(band) = self.bands.get(i) else { break };
            let part = self.canvas.encode_band(band.clone());
            *self.parts[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(part);
        }
    }

    /// The PNG, once every thread that called [`DrawnCover::help`] has returned from it.
    pub fn png(&self) -> Result<Vec<u8>, CoverError> {
        Ok(self.pieces()?.concat())
    }

    /// [`DrawnCover::png`] as pieces, to be written out without first being joined.
    pub fn pieces(&self) -> Result<Pieces, CoverError> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for slot in &self.parts {
            let part = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            match part {
                Some(part) => parts.push(part?),
                None => return Err(CoverError::Unfinished),
            }
        }
        Ok(png::assemble(parts)?)
    }
}

/// Lays out the cover and rasterises its shapes.
fn draw_canvas(spec: &CoverSpec) -> Result<Canvas, CoverError> {
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
        canvas.draw_run(&text_font, TEXT_FACE, &run, MARGIN_X, y, spec.accent);
        y += 48.0;
    }
    canvas.fill_rect(MARGIN_X, y, text_w, 5.0, spec.accent);
    let title_top = y + 150.0;

    // Bottom block, laid out upward from the bottom edge so its height is known
    // before the title is sized.
    let mut bottom = BOTTOM_EDGE;
    let mut bottom_runs: Vec<(text::Run, f32, f32, [u8; 3])> = Vec::new();
    if let Some(date) = visible_field(&text_font, spec.date) {
        let size = 46.0;
        let tracking = 0.12 * size;
        let run = fit_single_line(&text_font, size, &date.to_uppercase(), tracking, text_w);
        bottom_runs.push((run, MARGIN_X, bottom, faint));
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
            bottom_runs.push((run, MARGIN_X, bottom, fg));
            bottom -= lead;
        }
        bottom += lead - size * 0.9;
    }
    let has_bottom = !bottom_runs.is_empty();
    if has_bottom {
        bottom -= 64.0;
        canvas.fill_rect(MARGIN_X, bottom, 150.0, 7.0, spec.accent);
    }
    for (run, x, baseline, color) in &bottom_runs {
        canvas.draw_run(&text_font, TEXT_FACE, run, *x, *baseline, *color);
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
        canvas.draw_run(&title_font, TITLE_FACE, &run, x, baseline, fg);
        baseline += block.title_lead;
    }
    if !block.subtitle_lines.is_empty() {
        let mut baseline = body_top + block.subtitle_top + block.subtitle_cap;
        for line in &block.subtitle_lines {
            let run = shape(&text_font, block.subtitle_size, line, 0.0);
            canvas.draw_run(&text_font, TEXT_FACE, &run, MARGIN_X, baseline, muted);
            baseline += block.subtitle_lead;
        }
    }

    Ok(canvas)
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
pub(super) fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let ch = |i: usize| {
        (a[i] as f32 * t + b[i] as f32 * (1.0 - t))
            .round()
            .clamp(0.0, 255.0) as u8
    };
    [ch(0), ch(1), ch(2)]
}

#[cfg(test)]
mod tests {
    use super::text::{measure, visible_text};
    use super::*;
    use ab_glyph::Font;
    use image::{Rgb, RgbImage};

    const BOLD: &[u8] = include_bytes!("../../../fonts/eb-garamond/EBGaramond-Bold.ttf");
    const REGULAR: &[u8] = include_bytes!("../../../fonts/eb-garamond/EBGaramond-Regular.ttf");

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
    fn bands_cover_the_rows_once_in_order() {
        let s = spec("Bands of Rows", &[]);
        let canvas = draw_canvas(&s).expect("draw");
        for n in [1, 2, BANDS, 64] {
            let bands = canvas.bands(n);
            assert!(
                !bands.is_empty() && bands.len() <= n as usize,
                "{n}: {bands:?}"
            );
            assert_eq!(bands[0].start, 0);
            assert_eq!(bands[bands.len() - 1].end, COVER_HEIGHT);
            assert!(bands.iter().all(|b| b.start < b.end), "{n}: {bands:?}");
            assert!(
                bands.windows(2).all(|w| w[0].end == w[1].start),
                "{n}: {bands:?}"
            );
        }
        assert!(canvas.bands(BANDS).len() > 2);
    }

    #[test]
    fn two_threads_coding_the_bands_make_the_same_png_as_one() {
        let authors = vec!["Ada Lovelace".to_string()];
        let s = spec(
            "Notes on the Analytical Engine, with Translations",
            &authors,
        );
        let alone = render_cover_png(&s).expect("render");
        let drawn = DrawnCover::draw(&s).expect("draw");
        assert!(drawn.bands.len() > 1);
        assert!(matches!(drawn.png(), Err(CoverError::Unfinished)));
        std::thread::scope(|scope| {
            scope.spawn(|| drawn.help());
            drawn.help();
        });
        assert!(drawn.png().expect("png") == alone);
        // The picture is the one coded in a single band.
        let whole = draw_canvas(&s).expect("draw").encode().expect("encode");
        assert!(whole != alone, "bands are deflate blocks of their own");
        assert!(decode(&whole).into_raw() == decode(&alone).into_raw());
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
