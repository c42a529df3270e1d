//! The faces a document can use: the theme's families plus fallbacks, each under a
//! stable index that glyph runs and [`LaidOut::faces`](super::page::LaidOut::faces) share.
//!
//! Font bytes are loaded when the set is built (a missing file is an error up front),
//! but a face is only parsed the first time something asks about it.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use read_fonts::model::{Blob, Font};
use read_fonts::types::{GlyphId, NameId};

use super::page::FaceData;
use crate::theme::{FaceStyle, FontFamily, Theme};

/// Why a font set could not be built or extended.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// A font file named by the theme could not be loaded.
    #[error("font file '{path}' (key {key}) cannot be read")]
    Missing {
        /// The theme key, e.g. `fonts.body.italic`.
        key: String,
        /// The path as the theme wrote it.
        path: String,
    },
    /// The bytes are not a font this engine can read.
    #[error("{name}: not a usable TrueType/OpenType font")]
    Invalid {
        /// The key or name the font was given under.
        name: String,
    },
}

/// What a run of text is: decides which theme family sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Running text.
    Body,
    /// Headings (the body family unless the theme names one).
    Heading,
    /// Code.
    Mono,
}

/// Font-wide measurements in font units (y up; the descender is negative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMetrics {
    /// Design units per em.
    pub units_per_em: u16,
    /// Top of the line above the baseline.
    pub ascender: f32,
    /// Bottom of the line, below the baseline (negative).
    pub descender: f32,
    /// Extra gap the font asks for between lines.
    pub line_gap: f32,
    /// Height of capital letters.
    pub cap_height: f32,
    /// Height of lowercase letters.
    pub x_height: f32,
}

impl FaceMetrics {
    /// Points per font unit at `size` points.
    pub fn scale(&self, size: f32) -> f32 {
        size / f32::from(self.units_per_em)
    }
}

/// One parsed face.
pub struct Face {
    font: Font,
    name: String,
    metrics: FaceMetrics,
    /// Whether the face has each of the first 256 characters, found out on first use:
    /// 0 not yet known, 1 no, 2 yes. Shaping asks for every character of every word,
    /// and a cmap lookup costs a few hundred instructions each time.
    latin1: [AtomicU8; 256],
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("name", &self.name)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl Face {
    fn parse(blob: Blob, fallback_name: &str) -> Option<Face> {
        let font = Font::new(blob, 0)?;
        // A face without a Unicode cmap could only ever draw .notdef.
        if !font.charmap().has_unicode() {
            return None;
        }
        let name = font
            .names()
            .get(NameId::POSTSCRIPT_NAME)
            .and_then(|n| n.english_or_first())
            .map(|l| ps_name(&l.name().to_string()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| ps_name(fallback_name));
        let metrics = measure(&font);
        Some(Face {
            font,
            name,
            metrics,
            latin1: [const { AtomicU8::new(0) }; 256],
        })
    }

    /// PostScript name, e.g. `EBGaramond-Italic`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Font-wide measurements.
    pub fn metrics(&self) -> &FaceMetrics {
        &self.metrics
    }

    /// Design units per em.
    pub fn units_per_em(&self) -> u16 {
        self.metrics.units_per_em
    }

    /// Whether the face maps `c` to a real glyph.
    pub fn has_char(&self, c: char) -> bool {
        let Some(known) = self.latin1.get(c as usize) else {
            return self.font.charmap().map_unicode(c).is_some();
        };
        match known.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                let has = self.font.charmap().map_unicode(c).is_some();
                known.store(if has { 2 } else { 1 }, Ordering::Relaxed);
                has
            }
        }
    }

    /// The nominal glyph for `c` (no shaping).
    pub fn glyph_id(&self, c: char) -> Option<u16> {
        let gid = self.font.charmap().map_unicode(c)?;
        u16::try_from(gid.to_u32()).ok()
    }

    /// Horizontal advance of a glyph, in font units.
    pub fn advance(&self, glyph: u16) -> f32 {
        self.font.glyph_metrics().h_advance(GlyphId::from(glyph))
    }

    /// Unshaped advance of `c` in font units, if the face has it.
    pub fn char_advance(&self, c: char) -> Option<f32> {
        self.glyph_id(c).map(|g| self.advance(g))
    }

    /// The parsed font, for the shaper.
    pub(crate) fn font(&self) -> &Font {
        &self.font
    }
}

/// Reads line and letter heights, estimating what old fonts leave out of `OS/2`.
fn measure(font: &Font) -> FaceMetrics {
    let m = font.metrics();
    let upem = f32::from(m.units_per_em);
    let (ascender, descender, line_gap) = m
        .h_line()
        .map(|l| {
            (
                l.ascender.to_f32(),
                l.descender.to_f32(),
                l.line_gap.to_f32(),
            )
        })
        .unwrap_or((0.8 * upem, -0.2 * upem, 0.0));
    let glyphs = font.glyph_metrics();
    let ink_top = |c: char| {
        let gid = font.charmap().map_unicode(c)?;
        glyphs
            .extents(gid)
            .map(|e| e.y_bearing)
            .filter(|&t| t > 0.0)
    };
    let positive =
        |v: Option<read_fonts::types::F48Dot16>| v.map(|v| v.to_f32()).filter(|&v| v > 0.0);
    let cap_height = positive(m.cap_height)
        .or_else(|| ink_top('H'))
        .unwrap_or(0.7 * upem);
    let x_height = positive(m.x_height)
        .or_else(|| ink_top('x'))
        .unwrap_or(0.5 * upem);
    FaceMetrics {
        units_per_em: m.units_per_em,
        ascender,
        descender,
        line_gap,
        cap_height,
        x_height,
    }
}

/// Keeps the characters PDF names tolerate, so a family name can stand in.
fn ps_name(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() && !"[](){}<>/%#".contains(*c))
        .collect()
}

/// Font bytes, shared with the parsed font so nothing is copied twice.
#[derive(Clone)]
enum Bytes {
    Static(&'static [u8]),
    Shared(Arc<Vec<u8>>),
}

impl Bytes {
    fn from_cow(data: Cow<'static, [u8]>) -> Bytes {
        match data {
            Cow::Borrowed(b) => Bytes::Static(b),
            Cow::Owned(v) => Bytes::Shared(Arc::new(v)),
        }
    }

    fn blob(&self) -> Blob {
        match self {
            Bytes::Static(b) => Blob::from(*b),
            Bytes::Shared(v) => Blob::Shared(v.clone()),
        }
    }

    fn to_cow(&self) -> Cow<'static, [u8]> {
        match self {
            Bytes::Static(b) => Cow::Borrowed(b),
            Bytes::Shared(v) => Cow::Owned(v.as_ref().clone()),
        }
    }
}

struct Slot {
    /// Family name plus style, used when the font has no PostScript name.
    label: String,
    /// Theme path, to give one index to a file named twice.
    path: Option<String>,
    style: FaceStyle,
    bytes: Bytes,
    parsed: OnceLock<Option<Face>>,
}

impl Slot {
    fn face(&self) -> Option<&Face> {
        self.parsed
            .get_or_init(|| Face::parse(self.bytes.blob(), &self.label))
            .as_ref()
    }
}

/// Face indexes of one family by style (`None` where the family lacks it).
type Family = [Option<usize>; 4];

fn style_index(style: FaceStyle) -> usize {
    match style {
        FaceStyle::Regular => 0,
        FaceStyle::Italic => 1,
        FaceStyle::Bold => 2,
        FaceStyle::BoldItalic => 3,
    }
}

fn style_of(bold: bool, italic: bool) -> FaceStyle {
    match (bold, italic) {
        (false, false) => FaceStyle::Regular,
        (false, true) => FaceStyle::Italic,
        (true, false) => FaceStyle::Bold,
        (true, true) => FaceStyle::BoldItalic,
    }
}

/// Gives each font set (and each change to one) a distinct identity for caches.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// All faces of a theme plus fallbacks, by stable index.
pub struct FontSet {
    slots: Vec<Slot>,
    body: Family,
    heading: Family,
    mono: Family,
    fallbacks: Vec<Family>,
    /// Per face: itself, then the faces to try for characters it lacks.
    chains: Vec<Vec<usize>>,
    id: u64,
}

impl std::fmt::Debug for FontSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontSet")
            .field(
                "faces",
                &self.slots.iter().map(|s| &s.label).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl FontSet {
    /// Loads the bytes of every face the theme names; faces are parsed on first use.
    pub fn new(theme: &Theme) -> Result<FontSet, FontError> {
        let mut set = FontSet {
            slots: Vec::new(),
            body: [None; 4],
            heading: [None; 4],
            mono: [None; 4],
            fallbacks: Vec::new(),
            chains: Vec::new(),
            id: 0,
        };
        set.body = set.add_family(theme, "body", &theme.fonts.body)?;
        set.heading = match &theme.fonts.heading {
            Some(h) => set.add_family(theme, "heading", h)?,
            None => set.body,
        };
        set.mono = set.add_family(theme, "mono", &theme.fonts.mono)?;
        for (i, fam) in theme.fonts.fallbacks.iter().enumerate() {
            let family = set.add_family(theme, &format!("fallbacks[{i}]"), fam)?;
            set.fallbacks.push(family);
        }
        // Without a readable body face nothing can be set, so say so now.
        let body = set.face_for(Role::Body, false, false);
        if set.face(body).is_none() {
            return Err(FontError::Invalid {
                name: "fonts.body.regular".to_string(),
            });
        }
        set.rebuild();
        Ok(set)
    }

    fn add_family(
        &mut self,
        theme: &Theme,
        role: &str,
        fam: &FontFamily,
    ) -> Result<Family, FontError> {
        let mut out = [None; 4];
        for style in FaceStyle::ALL {
            let Some(path) = fam.face(style) else {
                continue;
            };
            if let Some(i) = self
                .slots
                .iter()
                .position(|s| s.path.as_deref() == Some(path))
            {
                out[style_index(style)] = Some(i);
                continue;
            }
            let data = theme
                .face_data(fam, style)
                .ok_or_else(|| FontError::Missing {
                    key: format!("fonts.{role}.{}", style.key()),
                    path: path.to_string(),
                })?;
            out[style_index(style)] = Some(self.slots.len());
            self.slots.push(Slot {
                label: format!("{}-{}", fam.family, style_label(style)),
                path: Some(path.to_string()),
                style,
                bytes: Bytes::from_cow(data),
                parsed: OnceLock::new(),
            });
        }
        Ok(out)
    }

    /// Appends a regular-style fallback family of one face, tried after the theme's
    /// fallbacks; returns its index. The bytes are parsed now, so junk is refused.
    pub fn add_fallback(
        &mut self,
        name: &str,
        data: Cow<'static, [u8]>,
    ) -> Result<usize, FontError> {
        let index = self.slots.len();
        let slot = Slot {
            label: name.to_string(),
            path: None,
            style: FaceStyle::Regular,
            bytes: Bytes::from_cow(data),
            parsed: OnceLock::new(),
        };
        if slot.face().is_none() {
            return Err(FontError::Invalid {
                name: name.to_string(),
            });
        }
        self.slots.push(slot);
        self.fallbacks.push([Some(index), None, None, None]);
        self.rebuild();
        Ok(index)
    }

    /// Recomputes fallback chains and the identity that caches key on.
    fn rebuild(&mut self) {
        self.chains = (0..self.slots.len())
            .map(|face| {
                let style = self.slots[face].style;
                let mut chain = vec![face];
                let same_style = self.fallbacks.iter().filter_map(|fam| best_in(fam, style));
                let regular = self.fallbacks.iter().filter_map(|fam| fam[0]);
                for f in same_style.chain(regular) {
                    if !chain.contains(&f) {
                        chain.push(f);
                    }
                }
                chain
            })
            .collect();
        self.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    }

    /// Number of faces (parsed or not).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the set has no faces (never true for a set built from a theme).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Changes whenever faces or fallbacks change, so caches can tell sets apart.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The face for a role and style: bold-italic falls back to bold, italic, then
    /// regular; faces that fail to parse are skipped the same way.
    pub fn face_for(&self, role: Role, bold: bool, italic: bool) -> usize {
        let family = match role {
            Role::Body => &self.body,
            Role::Heading => &self.heading,
            Role::Mono => &self.mono,
        };
        let style = style_of(bold, italic);
        style
            .preference()
            .iter()
            .filter_map(|s| family[style_index(*s)])
            .find(|&i| self.face(i).is_some())
            .or(family[0])
            .unwrap_or(0)
    }

    /// The parsed face, or `None` for an unknown index or unreadable font.
    pub fn face(&self, index: usize) -> Option<&Face> {
        self.slots.get(index)?.face()
    }

    /// Whether face `index` has a glyph for `c`.
    pub fn has_char(&self, index: usize, c: char) -> bool {
        self.face(index).is_some_and(|f| f.has_char(c))
    }

    /// The style a face was loaded as.
    pub fn style(&self, index: usize) -> Option<FaceStyle> {
        self.slots.get(index).map(|s| s.style)
    }

    /// `primary` followed by the faces tried for characters it lacks: fallback
    /// families in the same style, then their regular faces.
    pub fn fallback_chain(&self, primary: usize) -> &[usize] {
        self.chains.get(primary).map_or(&[], Vec::as_slice)
    }

    /// The first face in `primary`'s chain that has `c`.
    pub fn face_covering(&self, primary: usize, c: char) -> Option<usize> {
        self.fallback_chain(primary)
            .iter()
            .copied()
            .find(|&f| self.has_char(f, c))
    }

    /// Name and bytes of every face, in index order, for [`LaidOut::faces`](super::page::LaidOut::faces).
    /// Names are unique; an unparseable face keeps its family-style label.
    pub fn face_data(&self) -> Vec<FaceData> {
        let mut out: Vec<FaceData> = Vec::with_capacity(self.slots.len());
        for (i, slot) in self.slots.iter().enumerate() {
            let mut name = slot
                .face()
                .map_or_else(|| ps_name(&slot.label), |f| f.name.clone());
            if out.iter().any(|d| d.name == name) {
                name = format!("{name}_{i}");
            }
            out.push(FaceData {
                name,
                data: slot.bytes.to_cow(),
            });
        }
        out
    }
}

fn best_in(family: &Family, style: FaceStyle) -> Option<usize> {
    style
        .preference()
        .iter()
        .find_map(|s| family[style_index(*s)])
}

fn style_label(style: FaceStyle) -> &'static str {
    match style {
        FaceStyle::Regular => "Regular",
        FaceStyle::Italic => "Italic",
        FaceStyle::Bold => "Bold",
        FaceStyle::BoldItalic => "BoldItalic",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A system font for fallback tests; `None` (skip) when absent unless the
    /// environment demands validators.
    pub(crate) fn system_font(path: &str) -> Option<Cow<'static, [u8]>> {
        match std::fs::read(path) {
            Ok(b) => Some(Cow::Owned(b)),
            Err(e) => {
                assert!(
                    std::env::var("GALLEY_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
                    "{path}: {e}"
                );
                eprintln!("skipping: {path} not available");
                None
            }
        }
    }

    pub(crate) const DEJAVU: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    /// Classic's faces with only its first fallback (Noto Serif Armenian), so tests can
    /// add DejaVu Sans themselves and know where it lands.
    pub(crate) fn classic() -> FontSet {
        let mut theme = Theme::default_theme().expect("classic theme");
        theme.fonts.fallbacks.truncate(1);
        FontSet::new(&theme).expect("classic fonts")
    }

    #[test]
    fn roles_and_style_fallback() {
        let set = classic();
        let body = set.face_for(Role::Body, false, false);
        let bi = set.face_for(Role::Body, true, true);
        let mono_it = set.face_for(Role::Mono, false, true);
        let mono_bi = set.face_for(Role::Mono, true, true);
        assert_eq!(set.face(body).map(Face::name), Some("EBGaramond-Regular"));
        assert_eq!(set.face(bi).map(Face::name), Some("EBGaramond-BoldItalic"));
        // Noto Sans Mono has no italics: italic → regular, bold-italic → bold.
        assert_eq!(
            set.face(mono_it).map(Face::name),
            Some("NotoSansMono-Regular")
        );
        assert_eq!(set.face(mono_bi).map(Face::name), Some("NotoSansMono-Bold"));
        // No heading family: headings share the body faces.
        assert_eq!(
            set.face_for(Role::Heading, true, false),
            set.face_for(Role::Body, true, false)
        );
        let data = set.face_data();
        // Body ×4, mono ×2, and the theme's Armenian fallback (regular, bold).
        assert_eq!(data.len(), 8);
        assert_eq!(data[body].name, "EBGaramond-Regular");
        assert!(matches!(data[0].data, Cow::Borrowed(_)));
    }

    #[test]
    fn metrics_are_sane() {
        let set = classic();
        let face = set
            .face(set.face_for(Role::Body, false, false))
            .expect("face");
        let m = face.metrics();
        assert_eq!(m.units_per_em, 1000);
        assert!(m.ascender > m.cap_height && m.cap_height > m.x_height && m.x_height > 0.0);
        assert!(m.descender < 0.0);
        assert!(face.has_char('ﬁ') && !face.has_char('Ա'));
        let a = face.char_advance('a').expect("a");
        assert!(a > 300.0 && a < 600.0, "{a}");
        assert!((m.scale(10.0) - 0.01).abs() < 1e-6);
    }

    #[test]
    fn added_fallback_extends_chains() {
        let mut set = classic();
        let body = set.face_for(Role::Body, false, false);
        let before = set.id();
        // Georgian: neither EB Garamond nor the theme's Armenian fallback has it.
        assert_eq!(set.face_covering(body, 'ა'), None);
        let armenian = set.face_covering(body, 'Ա').expect("theme fallback");
        assert!(
            set.add_fallback("junk", Cow::Borrowed(b"not a font"))
                .is_err()
        );
        let Some(dejavu) = system_font(DEJAVU) else {
            return;
        };
        let dv = set.add_fallback("DejaVu Sans", dejavu).expect("dejavu");
        assert_ne!(set.id(), before);
        assert_eq!(set.fallback_chain(body), &[body, armenian, dv]);
        assert_eq!(set.face_covering(body, 'Ա'), Some(armenian));
        assert_eq!(set.face_covering(body, 'ა'), Some(dv));
        assert_eq!(set.face_covering(body, 'a'), Some(body));
        assert_eq!(set.face_data()[dv].name, "DejaVuSans");
        // DejaVu has no OS/2 x-height; it is measured from the glyph.
        let m = set.face(dv).expect("dv").metrics();
        assert!(m.x_height > 1000.0 && m.x_height < 1300.0, "{}", m.x_height);
    }

    #[test]
    fn theme_fallback_families_by_style() {
        // Body without Latin, Greek or Cyrillic: those come from DejaVu, in the right weight.
        let src = r##"
name = "t"
description = "t"
[fonts.body]
family = "Noto Sans Armenian"
generic = "sans-serif"
regular = "noto/NotoSansArmenian-Regular.ttf"
bold = "noto/NotoSansArmenian-Bold.ttf"
[fonts.mono]
family = "DejaVu Sans Mono"
generic = "monospace"
regular = "dejavu/DejaVuSansMono.ttf"
[[fonts.fallbacks]]
family = "DejaVu Sans"
generic = "sans-serif"
regular = "dejavu/DejaVuSans.ttf"
bold = "dejavu/DejaVuSans-Bold.ttf"
[text]
size = 10.0
leading = 1.3
paragraph = "space"
indent = 0.0
justify = false
hyphenate = false
[headings]
sizes = [2.0, 1.5, 1.2, 1.0, 1.0, 1.0]
bold = true
align = "left"
space_before = 1.0
space_after = 0.5
[colors]
text = "#000000"
background = "#ffffff"
heading = "#000000"
link = "#000000"
rule = "#000000"
accent = "#000000"
cover_background = "#ffffff"
cover_text = "#000000"
[page]
size = "a4"
margin_top = 20.0
margin_bottom = 20.0
margin_inner = 20.0
margin_outer = 20.0
"##;
        let dir = std::path::PathBuf::from("/usr/share/fonts/truetype");
        let theme = match Theme::parse(src, "test theme", Some(dir)) {
            Ok(t) => t,
            Err(e) => {
                assert!(
                    std::env::var("GALLEY_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
                    "{e}"
                );
                eprintln!("skipping: {e}");
                return;
            }
        };
        let set = FontSet::new(&theme).expect("fonts");
        let body = set.face_for(Role::Body, false, false);
        let bold = set.face_for(Role::Body, true, false);
        let bold_it = set.face_for(Role::Body, true, true);
        assert_eq!(bold_it, bold);
        let name = |f: Option<usize>| f.and_then(|f| set.face(f)).map(|f| f.name().to_string());
        assert_eq!(
            name(set.face_covering(body, 'Ա')).as_deref(),
            Some("NotoSansArmenian-Regular")
        );
        assert_eq!(
            name(set.face_covering(body, 'Ω')).as_deref(),
            Some("DejaVuSans")
        );
        assert_eq!(
            name(set.face_covering(bold, 'Ж')).as_deref(),
            Some("DejaVuSans-Bold")
        );
        assert_eq!(
            name(set.face_covering(bold, 'Ա')).as_deref(),
            Some("NotoSansArmenian-Bold")
        );
    }
}
