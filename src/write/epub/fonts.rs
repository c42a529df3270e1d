//! Embedding the theme's fonts: only the faces the book sets text in, each subset to its
//! characters, and fallback families only for characters the primary families lack.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::theme::{FaceStyle, FontFamily, Theme};

use super::css::EmbeddedFace;
use super::scripts;
use super::usage::{Role, Usage};

/// A face the book embeds: what the stylesheet needs at once, and what subsetting needs,
/// which can happen elsewhere meanwhile.
pub struct PlannedFont {
    /// For the stylesheet; its `href` is the path inside the EPUB's content folder.
    pub face: EmbeddedFace,
    /// The whole face.
    data: Cow<'static, [u8]>,
    /// The characters it sets.
    chars: BTreeSet<char>,
}

impl PlannedFont {
    /// The face subset to its characters, or whole with a warning if it cannot be subset.
    pub fn subset(self, warnings: &mut Vec<String>) -> Vec<u8> {
        match crate::font::subset::subset_for_chars(&self.data, self.chars.iter().copied()) {
            Ok(sub) => sub.data,
            Err(e) => {
                warnings.push(format!(
                    "font {} {}: cannot subset ({e}); embedding the whole font",
                    self.face.family,
                    self.face.style.key()
                ));
                self.data.into_owned()
            }
        }
    }
}

/// The theme's distinct families in a fixed order (body, heading, mono, fallbacks), each
/// with the label used in file names. A family named twice is embedded once.
struct Families<'a> {
    list: Vec<(String, &'a FontFamily)>,
    /// Index into `list` of the first fallback family.
    first_fallback: usize,
}

impl<'a> Families<'a> {
    fn of(theme: &'a Theme) -> Self {
        fn push<'a>(list: &mut Vec<(String, &'a FontFamily)>, label: String, fam: &'a FontFamily) {
            if !list.iter().any(|(_, f)| f.family == fam.family) {
                list.push((label, fam));
            }
        }
        let mut list = Vec::new();
        push(&mut list, "body".into(), &theme.fonts.body);
        push(&mut list, "heading".into(), theme.heading_family());
        push(&mut list, "mono".into(), &theme.fonts.mono);
        let first_fallback = list.len();
        for (i, f) in theme.fonts.fallbacks.iter().enumerate() {
            push(&mut list, format!("fallback{}", i + 1), f);
        }
        Families {
            list,
            first_fallback,
        }
    }

    fn index(&self, family: &FontFamily) -> usize {
        self.list
            .iter()
            .position(|(_, f)| f.family == family.family)
            .unwrap_or(0)
    }
}

/// The face of `family` that a reading system would pick for `want`: the face itself, else
/// the nearest one it has (weight matters more than slant), else the regular.
fn nearest(family: &FontFamily, want: FaceStyle) -> FaceStyle {
    want.preference()
        .iter()
        .copied()
        .find(|s| family.face(*s).is_some())
        .unwrap_or(FaceStyle::Regular)
}

/// Face data, loaded once per face.
struct FaceCache<'t> {
    theme: &'t Theme,
    data: BTreeMap<(usize, FaceStyle), Option<Cow<'static, [u8]>>>,
}

impl FaceCache<'_> {
    fn get(&mut self, fams: &Families, fi: usize, style: FaceStyle) -> Option<&[u8]> {
        let theme = self.theme;
        self.data
            .entry((fi, style))
            .or_insert_with(|| theme.face_data(fams.list[fi].1, style))
            .as_deref()
    }

    /// The characters of `chars` that the face has a glyph for (by its cmap). A face that
    /// cannot be parsed is taken to cover everything: subsetting it then fails and it is
    /// embedded whole, with a warning.
    fn covered(
        &mut self,
        fams: &Families,
        fi: usize,
        style: FaceStyle,
        chars: &BTreeSet<char>,
    ) -> BTreeSet<char> {
        let Some(data) = self.get(fams, fi, style) else {
            return BTreeSet::new();
        };
        match ttf_parser::Face::parse(data, 0) {
            Ok(face) => chars
                .iter()
                .copied()
                .filter(|c| scripts::needs_no_glyph(*c) || face.glyph_index(*c).is_some())
                .collect(),
            Err(_) => chars.clone(),
        }
    }
}

/// Chooses every face the book needs and the characters each sets; warns once per script
/// for characters that no family of the theme covers. Subsetting is left to
/// [`PlannedFont::subset`].
pub fn plan(theme: &Theme, usage: &Usage, warnings: &mut Vec<String>) -> Vec<PlannedFont> {
    let fams = Families::of(theme);
    let mut cache = FaceCache {
        theme,
        data: BTreeMap::new(),
    };
    let role_family = |role: Role| match role {
        Role::Body => fams.index(&theme.fonts.body),
        Role::Heading => fams.index(theme.heading_family()),
        Role::Mono => fams.index(&theme.fonts.mono),
    };
    // (family, face) → characters it sets.
    let mut need: BTreeMap<(usize, FaceStyle), BTreeSet<char>> = BTreeMap::new();
    let mut missing: BTreeSet<char> = BTreeSet::new();
    for (&(role, want), chars) in &usage.faces {
        let fi = role_family(role);
        let face = nearest(fams.list[fi].1, want);
        let covered = cache.covered(&fams, fi, face, chars);
        let mut uncovered: BTreeSet<char> = chars.difference(&covered).copied().collect();
        need.entry((fi, face)).or_default().extend(covered);
        // Each fallback gets only what the families before it could not set.
        for fb in fams.first_fallback..fams.list.len() {
            if uncovered.is_empty() {
                break;
            }
            let face = nearest(fams.list[fb].1, want);
            let got = cache.covered(&fams, fb, face, &uncovered);
            if !got.is_empty() {
                uncovered.retain(|c| !got.contains(c));
                need.entry((fb, face)).or_default().extend(got);
            }
        }
        missing.extend(uncovered);
    }
    warnings.extend(scripts::missing_warnings(
        &theme.name,
        missing.intersection(&usage.seen).copied(),
    ));

    let mut files = Vec::new();
    for ((fi, style), chars) in need {
        if chars.iter().all(|c| scripts::needs_no_glyph(*c)) && fi >= fams.first_fallback {
            continue;
        }
        let (label, family) = &fams.list[fi];
        // Each face is planned once, so its bytes can leave the cache.
        cache.get(&fams, fi, style);
        let Some(data) = cache.data.remove(&(fi, style)).flatten() else {
            continue;
        };
        files.push(PlannedFont {
            face: EmbeddedFace {
                family: family.family.clone(),
                style,
                href: format!("fonts/{label}-{}.ttf", style.key().replace('_', "-")),
            },
            data,
            chars,
        });
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_that_cannot_be_subset_goes_in_whole_with_a_warning() {
        let junk: &'static [u8] = b"not a font at all";
        let planned = PlannedFont {
            face: EmbeddedFace {
                family: "Junk".into(),
                style: FaceStyle::Regular,
                href: "fonts/body-regular.ttf".into(),
            },
            data: Cow::Borrowed(junk),
            chars: "abc".chars().collect(),
        };
        let mut warnings = Vec::new();
        assert_eq!(planned.subset(&mut warnings), junk);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with("font Junk regular: cannot subset"),
            "{warnings:?}"
        );
    }

    #[test]
    fn planned_faces_subset_to_their_characters() {
        let theme = crate::theme::load::builtin("classic").expect("classic");
        let doc = crate::read::markdown::read("# Title\n\nSome *text*.\n").expect("markdown");
        let numbers = std::collections::HashMap::new();
        let extras = super::super::usage::Extras {
            title: "Title",
            byline: None,
            date: None,
            source: None,
            retrieved: None,
            numbers: &numbers,
            drop_cap: None,
        };
        let usage = Usage::of(&doc, &theme, &extras);
        let mut warnings = Vec::new();
        let planned = plan(&theme, &usage, &mut warnings);
        assert!(!planned.is_empty() && warnings.is_empty(), "{warnings:?}");
        for p in planned {
            let whole = p.data.len();
            let href = p.face.href.clone();
            let sub = p.subset(&mut warnings);
            assert!(
                sub.len() < whole,
                "{href} not subset: {} of {whole} bytes",
                sub.len()
            );
        }
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn nearest_face_prefers_weight() {
        let theme = crate::theme::load::builtin("classic").expect("classic");
        let mono = &theme.fonts.mono;
        assert_eq!(nearest(mono, FaceStyle::BoldItalic), FaceStyle::Bold);
        assert_eq!(nearest(mono, FaceStyle::Italic), FaceStyle::Regular);
        assert_eq!(
            nearest(&theme.fonts.body, FaceStyle::BoldItalic),
            FaceStyle::BoldItalic
        );
    }
}
