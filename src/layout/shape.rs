//! Shaping words into positioned glyphs (harfrust), with per-cluster font fallback,
//! a per-document word cache, and UAX #14 line-break opportunities.
//!
//! Paragraphs are shaped word by word (text between break opportunities), so kerning
//! across a break is lost; inside a word kerning, ligatures and marks are exact.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use harfrust::{
    Buffer, Direction, Feature, Language, Script, ShapeOptions, ShapePlan, ShaperFont, Tag,
};

use super::fonts::FontSet;
use super::page::PositionedGlyph;

/// Glyphs of one face, left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapedRun {
    /// Index into the [`FontSet`] (and so into `LaidOut::faces`).
    pub face: usize,
    /// Byte range of the shaped text this run covers.
    pub range: Range<usize>,
    /// The glyphs, advances in points.
    pub glyphs: Vec<PositionedGlyph>,
    /// Sum of the advances, in points.
    pub width: f32,
}

/// A shaped piece of text: runs of glyphs, one face each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shaped {
    /// Runs in text order (a single run unless fallback faces were needed).
    pub runs: Vec<ShapedRun>,
    /// Total advance, in points.
    pub width: f32,
    /// Characters no face has, drawn as the primary face's .notdef; warn about them.
    pub missing: Vec<char>,
}

impl Shaped {
    /// Every glyph with its face, in order.
    pub fn glyphs(&self) -> impl Iterator<Item = (usize, &PositionedGlyph)> {
        self.runs
            .iter()
            .flat_map(|r| r.glyphs.iter().map(move |g| (r.face, g)))
    }

    /// The text the glyphs stand for (equals the input for left-to-right text).
    pub fn text(&self) -> String {
        self.glyphs().map(|(_, g)| g.text.as_str()).collect()
    }
}

/// Where a line may end, from UAX #14.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The line must end here (newline, and always at the end of the text).
    Mandatory,
    /// The line may end here.
    Allowed,
}

/// Byte offsets where a line may or must break: the break goes before the byte at the
/// offset, so spaces stay at the end of the preceding segment. The end of the text is
/// always reported, as mandatory.
pub fn break_opportunities(text: &str) -> Vec<(usize, BreakKind)> {
    unicode_linebreak::linebreaks(text)
        .map(|(i, b)| {
            let kind = match b {
                unicode_linebreak::BreakOpportunity::Mandatory => BreakKind::Mandatory,
                unicode_linebreak::BreakOpportunity::Allowed => BreakKind::Allowed,
            };
            (i, kind)
        })
        .collect()
}

/// Entries kept before the word cache starts over; a novel's vocabulary fits.
const DEFAULT_LIMIT: usize = 50_000;

/// Words already shaped for one (face, size, language).
struct WordTable {
    face: usize,
    size_bits: u32,
    lang: Option<String>,
    words: HashMap<Box<str>, Arc<Shaped>>,
}

type PlanKey = (usize, Option<Script>, Direction, Option<Language>);

/// Shapes text, remembering whole words; use one per document (or per [`FontSet`]).
pub struct ShapeCache {
    fonts_id: u64,
    tables: Vec<WordTable>,
    entries: usize,
    limit: usize,
    plans: HashMap<PlanKey, ShapePlan>,
    buffer: Option<Buffer>,
    features: [Feature; 2],
    hits: u64,
    misses: u64,
}

impl Default for ShapeCache {
    fn default() -> Self {
        ShapeCache::new()
    }
}

impl std::fmt::Debug for ShapeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShapeCache")
            .field("entries", &self.entries)
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish_non_exhaustive()
    }
}

impl ShapeCache {
    /// A cache holding up to 50,000 words.
    pub fn new() -> ShapeCache {
        ShapeCache::with_limit(DEFAULT_LIMIT)
    }

    /// A cache that empties itself once it holds `limit` words (0: no caching).
    pub fn with_limit(limit: usize) -> ShapeCache {
        ShapeCache {
            fonts_id: 0,
            tables: Vec::new(),
            entries: 0,
            limit,
            plans: HashMap::new(),
            buffer: Some(Buffer::new()),
            // Kerning and standard ligatures are HarfBuzz defaults; say so anyway.
            features: [
                Feature::new(Tag::new(b"kern"), 1, ..),
                Feature::new(Tag::new(b"liga"), 1, ..),
            ],
            hits: 0,
            misses: 0,
        }
    }

    /// Words currently cached.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether no words are cached.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// Forgets every shaped word.
    pub fn clear(&mut self) {
        self.tables.clear();
        self.entries = 0;
    }

    /// Shapes `text` in face `face` at `size` points, falling back per cluster to
    /// other faces for characters `face` lacks. `lang` is a BCP 47 tag (it selects
    /// localized forms). Cached by (face, size, language, text).
    pub fn shape(
        &mut self,
        fonts: &FontSet,
        face: usize,
        size: f32,
        text: &str,
        lang: Option<&str>,
    ) -> Arc<Shaped> {
        if fonts.id() != self.fonts_id {
            // Face indexes mean something else in another set.
            self.clear();
            self.plans.clear();
            self.fonts_id = fonts.id();
        }
        let size_bits = size.to_bits();
        let table = self
            .tables
            .iter()
            .position(|t| t.face == face && t.size_bits == size_bits && t.lang.as_deref() == lang);
        if let Some(t) = table
            && let Some(hit) = self.tables[t].words.get(text)
        {
            self.hits += 1;
            return hit.clone();
        }
        self.misses += 1;
        let shaped = Arc::new(self.shape_uncached(fonts, face, size, text, lang));
        if self.limit == 0 {
            return shaped;
        }
        if self.entries >= self.limit {
            self.clear();
        }
        let t = match table {
            Some(t) if t < self.tables.len() => t,
            _ => {
                self.tables.push(WordTable {
                    face,
                    size_bits,
                    lang: lang.map(str::to_string),
                    words: HashMap::new(),
                });
                self.tables.len() - 1
            }
        };
        self.tables[t].words.insert(text.into(), shaped.clone());
        self.entries += 1;
        shaped
    }

    /// Shapes without looking in or filling the word cache (plans are still reused).
    pub fn shape_uncached(
        &mut self,
        fonts: &FontSet,
        face: usize,
        size: f32,
        text: &str,
        lang: Option<&str>,
    ) -> Shaped {
        let language = lang.and_then(Language::new);
        let mut out = Shaped::default();
        for item in itemize(fonts, face, text) {
            let run = self.shape_run(
                fonts,
                &item,
                size,
                text,
                language.as_ref(),
                &mut out.missing,
            );
            out.width += run.width;
            out.runs.push(run);
        }
        out
    }

    fn shape_run(
        &mut self,
        fonts: &FontSet,
        item: &Item,
        size: f32,
        text: &str,
        language: Option<&Language>,
        missing: &mut Vec<char>,
    ) -> ShapedRun {
        let range = item.range.clone();
        let mut run = ShapedRun {
            face: item.face,
            range: range.clone(),
            glyphs: Vec::new(),
            width: 0.0,
        };
        let Some(face) = fonts.face(item.face) else {
            // Cannot happen for a set built from a theme (the body face is checked),
            // but an unreadable face must still not lose text.
            note_missing(missing, text[range].chars());
            return run;
        };
        let font = face.font();
        let scale = face.metrics().scale(size);
        let mut buffer = self.buffer.take().unwrap_or_default();
        buffer.clear();
        buffer.set_pre_context(&text[..range.start]);
        buffer.set_post_context(&text[range.end..]);
        for (i, c) in text[range.clone()].char_indices() {
            buffer.push(c as u32, clamp_u32(range.start + i));
        }
        buffer.set_script(item.script);
        buffer.set_language(language.cloned());
        buffer.guess_segment_properties();
        let key: PlanKey = (
            item.face,
            buffer.script(),
            buffer.direction(),
            language.cloned(),
        );
        let plan = self.plans.entry(key).or_insert_with(|| {
            ShapePlan::new(
                font,
                buffer.direction(),
                buffer.script(),
                language,
                &self.features,
            )
        });
        let shaper = ShaperFont::new(font);
        let options = ShapeOptions::new()
            .plan(Some(plan))
            .features(&self.features);
        if harfrust::shape(&shaper, &mut buffer, options).is_err() {
            note_missing(missing, text[range].chars());
            self.buffer = Some(buffer);
            return run;
        }

        // Each cluster's text runs from its value to the next larger one.
        let infos = buffer.glyph_infos();
        let positions = buffer.glyph_positions();
        let mut starts: Vec<usize> = infos.iter().map(|g| g.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let mut seen = vec![false; starts.len()];
        for (info, pos) in infos.iter().zip(positions) {
            let i = starts.partition_point(|&s| s < info.cluster as usize);
            let first = seen.get(i).is_some_and(|s| !s);
            let glyph_text = if first {
                seen[i] = true;
                let from = if i == 0 { range.start } else { starts[i] };
                let to = starts.get(i + 1).copied().unwrap_or(range.end);
                text.get(from..to).unwrap_or("")
            } else {
                ""
            };
            if info.glyph_id == 0 && first {
                let lacking: Vec<char> = glyph_text
                    .chars()
                    .filter(|&c| !face.has_char(c) && !is_default_ignorable(c))
                    .collect();
                if lacking.is_empty() {
                    note_missing(missing, glyph_text.chars());
                } else {
                    note_missing(missing, lacking.into_iter());
                }
            }
            let advance = pos.x_advance as f32 * scale;
            run.width += advance;
            run.glyphs.push(PositionedGlyph {
                id: u16::try_from(info.glyph_id).unwrap_or(0),
                advance,
                x_offset: pos.x_offset as f32 * scale,
                y_offset: pos.y_offset as f32 * scale,
                text: glyph_text.into(),
            });
        }
        self.buffer = Some(buffer);
        run
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn note_missing(missing: &mut Vec<char>, chars: impl Iterator<Item = char>) {
    for c in chars {
        if !missing.contains(&c) {
            missing.push(c);
        }
    }
}

/// A stretch of text set in one face and script.
struct Item {
    face: usize,
    script: Option<Script>,
    range: Range<usize>,
}

/// Splits text into runs by the face that covers each cluster (a base character and
/// the marks that follow it) and by script.
fn itemize(fonts: &FontSet, primary: usize, text: &str) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, base)) = chars.next() {
        let mut end = start + base.len_utf8();
        let mut prev = base;
        while let Some(&(i, c)) = chars.peek() {
            // A zero-width joiner glues the next character on too (emoji sequences).
            if !(extends_cluster(c) || prev == '\u{200D}') {
                break;
            }
            end = i + c.len_utf8();
            prev = c;
            chars.next();
        }
        let cluster = &text[start..end];
        let face = cluster_face(fonts, primary, base, cluster);
        let script = real_script(base);
        match items.last_mut() {
            Some(last)
                if last.face == face
                    && (script.is_none() || last.script.is_none() || last.script == script) =>
            {
                last.range.end = end;
                if last.script.is_none() {
                    last.script = script;
                }
            }
            _ => items.push(Item {
                face,
                script,
                range: start..end,
            }),
        }
    }
    items
}

/// The first face in the chain that has every character of the cluster, else the
/// first that has its base, else the primary (which then draws .notdef).
fn cluster_face(fonts: &FontSet, primary: usize, base: char, cluster: &str) -> usize {
    // Spaces keep the primary face's width; HarfBuzz synthesizes odd spaces itself.
    if base.is_whitespace() || is_default_ignorable(base) {
        return primary;
    }
    let chain = fonts.fallback_chain(primary);
    let covers = |f: usize| {
        cluster
            .chars()
            .all(|c| is_default_ignorable(c) || fonts.has_char(f, c))
    };
    if covers(primary) {
        return primary;
    }
    chain
        .iter()
        .copied()
        .find(|&f| covers(f))
        .or_else(|| chain.iter().copied().find(|&f| fonts.has_char(f, base)))
        .unwrap_or(primary)
}

/// Whether `c` belongs to the cluster of the character before it.
fn extends_cluster(c: char) -> bool {
    let cp = c as u32;
    harfrust::unicode::combining_class(cp) != 0
        || harfrust::unicode::script(cp) == Script::INHERITED
        || matches!(cp, 0x200C | 0x200D | 0xFE00..=0xFE0F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F | 0xE0100..=0xE01EF)
}

/// The script of `c`, or `None` for characters shared between scripts.
fn real_script(c: char) -> Option<Script> {
    match harfrust::unicode::script(c as u32) {
        s if s == Script::COMMON || s == Script::INHERITED || s == Script::UNKNOWN => None,
        s => Some(s),
    }
}

/// Characters drawn as nothing, which need no glyph in any face.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::fonts::tests::{DEJAVU, classic, system_font};
    use crate::layout::fonts::{FaceMetrics, Role};

    fn body(set: &FontSet) -> usize {
        set.face_for(Role::Body, false, false)
    }

    #[test]
    fn ligatures_keep_their_text() {
        let set = classic();
        let mut cache = ShapeCache::new();
        let f = body(&set);
        let shaped = cache.shape(&set, f, 10.0, "office", Some("en"));
        assert_eq!(shaped.runs.len(), 1);
        let texts: Vec<&str> = shaped.runs[0]
            .glyphs
            .iter()
            .map(|g| g.text.as_str())
            .collect();
        assert!(
            texts.contains(&"ffi") || texts.contains(&"fi"),
            "no ligature: {texts:?}"
        );
        assert!(texts.len() < 6, "{texts:?}");
        assert_eq!(shaped.text(), "office");
        assert!(shaped.missing.is_empty());
        for word in ["“Quoted” — it’s –5", "affluent flow", "e\u{301}te\u{301}"] {
            let s = cache.shape(&set, f, 10.0, word, None);
            assert_eq!(s.text(), word);
            assert!(s.missing.is_empty(), "{word}: {:?}", s.missing);
            assert!(s.glyphs().all(|(_, g)| g.id != 0));
        }
    }

    #[test]
    fn kerning_narrows_avaway() {
        let set = classic();
        let f = body(&set);
        let face = set.face(f).expect("face");
        let size = 12.0;
        let unkerned: f32 = "AVAWAY"
            .chars()
            .map(|c| face.char_advance(c).unwrap_or(0.0))
            .sum::<f32>()
            * face.metrics().scale(size);
        let shaped = ShapeCache::new().shape_uncached(&set, f, size, "AVAWAY", None);
        assert!(
            shaped.width < unkerned - 1.0,
            "{} vs {unkerned}",
            shaped.width
        );
        let sum: f32 = shaped.glyphs().map(|(_, g)| g.advance).sum();
        assert!((sum - shaped.width).abs() < 1e-3);
    }

    #[test]
    fn scripts_fall_back_per_cluster() {
        let mut set = classic();
        let f = body(&set);
        let Some(dejavu) = system_font(DEJAVU) else {
            return;
        };
        let arm = set
            .face_covering(f, 'Բ')
            .expect("theme's Armenian fallback");
        let dv = set.add_fallback("DejaVu Sans", dejavu).expect("dejavu");
        let mut cache = ShapeCache::new();
        // Garamond has Greek and Cyrillic; Armenian comes from the theme's fallback.
        let text = "Ωμέγα Жук «Բարեւ»";
        let s = cache.shape(&set, f, 10.0, text, None);
        assert_eq!(s.text(), text);
        assert!(s.missing.is_empty(), "{:?}", s.missing);
        let faces: Vec<(usize, &str)> = s
            .runs
            .iter()
            .map(|r| (r.face, &text[r.range.clone()]))
            .collect();
        // Runs also split by script; spaces and punctuation join the run before them.
        assert_eq!(
            faces,
            vec![(f, "Ωμέγα "), (f, "Жук «"), (arm, "Բարեւ"), (f, "»")]
        );
        // A mark stays with its base even when the base comes from a fallback.
        let s = cache.shape(&set, f, 10.0, "Ա\u{301}", None);
        assert_eq!(s.runs.len(), 1);
        assert_eq!(s.runs[0].face, dv);
        // Mono has no Armenian either: the theme's fallback sets it.
        let mono = set.face_for(Role::Mono, false, false);
        let s = cache.shape(&set, mono, 10.0, "Ա", None);
        assert_eq!(s.runs[0].face, arm);
        let arm = system_font("/usr/share/fonts/truetype/noto/NotoSansArmenian-Regular.ttf");
        let Some(arm) = arm else { return };
        let mut set2 = classic();
        let na = set2.add_fallback("Noto Sans Armenian", arm).expect("noto");
        let dv2 = set2
            .add_fallback("DejaVu Sans", system_font(DEJAVU).unwrap_or_default())
            .expect("dejavu");
        // A primary without Greek and Cyrillic sends them to DejaVu.
        let s = cache.shape(&set2, na, 10.0, "Αβγ Абв Աբգ", None);
        let faces: Vec<usize> = s.runs.iter().map(|r| r.face).collect();
        // Spaces stay in the primary face.
        assert_eq!(faces, vec![dv2, na, dv2, na]);
        assert_eq!(s.text(), "Αβγ Абв Աբգ");
    }

    #[test]
    fn missing_characters_are_reported() {
        let set = classic();
        let f = body(&set);
        // Linear B: in no shipped font.
        let s = ShapeCache::new().shape_uncached(&set, f, 10.0, "a\u{10000}b", None);
        assert_eq!(s.missing, vec!['\u{10000}']);
        assert_eq!(s.text(), "a\u{10000}b");
        assert!(s.glyphs().any(|(face, g)| face == f && g.id == 0));
        // Invisible characters need no glyph.
        let s = ShapeCache::new().shape_uncached(&set, f, 10.0, "a\u{200B}b\u{00AD}c", None);
        assert!(s.missing.is_empty(), "{:?}", s.missing);
    }

    #[test]
    fn cache_hits_and_bounds() {
        let set = classic();
        let f = body(&set);
        let mut cache = ShapeCache::with_limit(2);
        let a = cache.shape(&set, f, 10.0, "word", None);
        let b = cache.shape(&set, f, 10.0, "word", None);
        assert!(Arc::ptr_eq(&a, &b));
        let c = cache.shape(&set, f, 11.0, "word", None);
        assert!((c.width - a.width * 1.1).abs() < 1e-3);
        assert_eq!(cache.len(), 2);
        cache.shape(&set, f, 10.0, "other", Some("de"));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.stats(), (1, 3));
        let m: &FaceMetrics = set.face(f).expect("f").metrics();
        assert!(m.units_per_em > 0);
    }

    #[test]
    fn breaks_follow_uax14() {
        let text = "well-known path/to/file";
        let breaks = break_opportunities(text);
        let at: Vec<&str> = breaks.iter().map(|&(i, _)| &text[..i]).collect();
        assert_eq!(
            at,
            vec![
                "well-",
                "well-known ",
                "well-known path/",
                "well-known path/to/",
                text
            ]
        );
        assert_eq!(breaks.last().map(|b| b.1), Some(BreakKind::Mandatory));
        assert!(
            breaks[..breaks.len() - 1]
                .iter()
                .all(|b| b.1 == BreakKind::Allowed)
        );
        let cjk = break_opportunities("日本語の文");
        assert_eq!(cjk.len(), 5);
        assert_eq!(break_opportunities("a\nb")[0], (2, BreakKind::Mandatory));
    }

    #[test]
    #[ignore = "timing; run with --release -- --ignored --nocapture"]
    fn shaping_speed() {
        let set = classic();
        let f = body(&set);
        let sample = include_str!("../../fonts/eb-garamond/OFL.txt");
        let words: Vec<&str> = sample.split_whitespace().collect();
        let mut cache = ShapeCache::new();
        let t = std::time::Instant::now();
        let mut width = 0.0;
        for i in 0..100_000 {
            width += cache
                .shape(&set, f, 10.0, words[i % words.len()], Some("en"))
                .width;
        }
        let warm = t.elapsed();
        let t = std::time::Instant::now();
        let mut cold = ShapeCache::with_limit(0);
        for w in words.iter().cycle().take(100_000) {
            width += cold.shape(&set, f, 10.0, w, Some("en")).width;
        }
        eprintln!(
            "100k words ({} distinct): cached {warm:?}, uncached {:?} (w={width})",
            cache.len(),
            t.elapsed()
        );
    }
}
