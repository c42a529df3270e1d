//! Font subsetting for EPUB (`@font-face`) and PDF embedding.
//!
//! `subsetter` cuts the outlines (`glyf`/`loca` or `CFF`) and the metrics tables well, but it
//! targets PDF and drops every table a PDF viewer ignores, `cmap` first of all. Browsers and
//! e-readers need a complete font, so the sfnt is re-assembled here with
//! - a fresh Unicode `cmap` (format 4, plus format 12 when a character lies outside the BMP),
//! - the original `OS/2` (first/last character fields updated) and `gasp`,
//! - `post` version 3.0, which carries no glyph names and so needs no remapping,
//! - for EPUB, `GSUB` with the `liga` ligatures the kept characters can form, `GPOS` with the
//!   `kern` pair adjustments between kept glyphs, and the `GDEF` glyph classes their lookup
//!   flags need; lookups are restricted to kept glyphs, not flattened, so kerning classes stay
//!   classes and a shaper gets the same result as with the original font.
//!
//! Every offset, length and checksum is recomputed, so the result passes OTS, the sanitizer
//! browsers run on web fonts.

use std::collections::{BTreeMap, BTreeSet};

use read_fonts::tables::cmap::PlatformId;
use read_fonts::tables::gpos::{PairPos, PairPosFormat1, PairPosFormat2, PositionSubtables};
use read_fonts::tables::gsub::{LigatureSubst, SubstitutionSubtables};
use read_fonts::tables::layout::{FeatureList, ScriptList};
use read_fonts::types::{GlyphId16, Tag};
use read_fonts::{FontRef, ReadError, TableProvider};

use super::sfnt::{post_table, read_sfnt, write_sfnt};

/// A subset font file plus the map from the original font's glyph ids to its own.
#[derive(Debug, Clone)]
pub struct Subset {
    /// The complete font file (TrueType or CFF-flavoured OpenType), ready to embed.
    pub data: Vec<u8>,
    remapper: subsetter::GlyphRemapper,
    missing: Vec<char>,
}

impl Subset {
    /// The glyph id in this subset of glyph `old` of the original font, if it was kept.
    pub fn new_glyph_id(&self, old: u16) -> Option<u16> {
        self.remapper.get(old)
    }

    /// Requested characters the font has no glyph for (in code point order): the caller
    /// should fall back to another face for them.
    pub fn missing_chars(&self) -> &[char] {
        &self.missing
    }
}

/// Why a font could not be subset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubsetError {
    /// The bytes are not a readable OpenType/TrueType font.
    #[error("cannot read font: {0}")]
    Parse(#[from] ReadError),
    /// The font has no Unicode `cmap` subtable to map characters to glyphs.
    #[error("font has no Unicode character map")]
    NoUnicodeCmap,
    /// The font uses an outline format that cannot be subset (CFF2, bitmap-only).
    #[error("unsupported font: {0}")]
    Unsupported(&'static str),
    /// A requested glyph id is not in the font.
    #[error("glyph id {0} is not in the font")]
    GlyphOutOfRange(u16),
    /// The `subsetter` crate rejected the font.
    #[error("subsetting failed: {0}")]
    Subsetter(subsetter::Error),
    /// The subset needs a table larger than its format allows.
    #[error("subset too large for the {0} table format")]
    TooLarge(&'static str),
}

/// Subsets `font` (TrueType or CFF-flavoured OpenType bytes) to the glyphs of `chars`, plus
/// .notdef, the space and the ligatures these characters can form, as a standalone font for
/// an EPUB `@font-face`. Characters the font lacks are listed in [`Subset::missing_chars`].
pub fn subset_for_chars(
    font: &[u8],
    chars: impl IntoIterator<Item = char>,
) -> Result<Subset, SubsetError> {
    let chars: BTreeSet<char> = chars.into_iter().chain([' ']).collect();
    plan(font, &[], chars, true)?.build(font)
}

/// Subsets `font` to explicit glyph ids, for a PDF whose text the caller shaped itself. The
/// glyphs of `chars` are kept too and mapped in a `cmap`; no `GSUB`/`GPOS` is written since
/// shaping already happened and PDF viewers ignore them.
pub fn subset_for_glyphs(
    font: &[u8],
    glyphs: &[u16],
    chars: impl IntoIterator<Item = char>,
) -> Result<Subset, SubsetError> {
    plan_for_glyphs(font, glyphs, chars)?.build(font)
}

/// What [`subset_for_glyphs`] keeps, worked out before the subset is built: the new glyph
/// ids are known at once (a PDF's pages can be drawn with them) while the subset itself is
/// built elsewhere with [`GlyphPlan::build`].
pub fn plan_for_glyphs(
    font: &[u8],
    glyphs: &[u16],
    chars: impl IntoIterator<Item = char>,
) -> Result<GlyphPlan, SubsetError> {
    plan(font, glyphs, chars.into_iter().collect(), false)
}

const CFF2: Tag = Tag::new(b"CFF2");
const LIGA: Tag = Tag::new(b"liga");
const KERN: Tag = Tag::new(b"kern");

/// The glyphs a subset keeps and the ids they get in it.
#[derive(Debug, Clone)]
pub struct GlyphPlan {
    kept: BTreeSet<u16>,
    char_map: BTreeMap<u32, u16>,
    missing: Vec<char>,
    ligatures: Vec<LigatureLookup>,
    remapper: subsetter::GlyphRemapper,
    layout: bool,
}

impl GlyphPlan {
    /// The glyph id in the subset of glyph `old` of the original font, if it is kept.
    pub fn new_glyph_id(&self, old: u16) -> Option<u16> {
        self.remapper.get(old)
    }

    /// Builds the subset of `font`, the font this plan was made for.
    pub fn build(self, font: &[u8]) -> Result<Subset, SubsetError> {
        let face = FontRef::new(font)?;
        let remapper = self.remapper;
        let base = subsetter::subset(font, 0, &remapper).map_err(SubsetError::Subsetter)?;
        // subsetter wrote this directory itself, so failing to read it back is its bug.
        let (flavor, mut tables) =
            read_sfnt(&base).ok_or(SubsetError::Subsetter(subsetter::Error::SubsetError))?;
        let new_id = |old: u16| remapper.get(old).unwrap_or(0);

        let new_map: BTreeMap<u32, u16> = self
            .char_map
            .iter()
            .map(|(&c, &g)| (c, new_id(g)))
            .collect();
        tables.insert(*b"cmap", cmap_table(&new_map)?);
        if let Some(os2) = face.table_data(Tag::new(b"OS/2")) {
            tables.insert(*b"OS/2", os2_table(os2.as_bytes(), &new_map));
        }
        tables.insert(
            *b"post",
            post_table(face.table_data(Tag::new(b"post")).map(|d| d.as_bytes())),
        );
        if let Some(gasp) = face.table_data(Tag::new(b"gasp")) {
            tables.insert(*b"gasp", gasp.as_bytes().to_vec());
        }
        if self.layout {
            // Best effort again: a table that cannot be read or rebuilt is left out.
            let gsub = gsub_table(&face, &self.ligatures, &new_id).ok().flatten();
            let gpos = gpos_table(&face, &self.kept, &new_id).ok().flatten();
            if (gsub.is_some() || gpos.is_some())
                && let Some(gdef) = gdef_table(&face, &self.kept, &new_id).ok().flatten()
            {
                tables.insert(*b"GDEF", gdef);
            }
            tables.extend(gsub.map(|t| (*b"GSUB", t)));
            tables.extend(gpos.map(|t| (*b"GPOS", t)));
        }
        let data = write_sfnt(flavor, &tables).ok_or(SubsetError::TooLarge("sfnt"))?;
        Ok(Subset {
            data,
            remapper,
            missing: self.missing,
        })
    }
}

fn plan(
    font: &[u8],
    glyphs: &[u16],
    chars: BTreeSet<char>,
    layout: bool,
) -> Result<GlyphPlan, SubsetError> {
    let face = FontRef::new(font)?;
    if face.table_data(CFF2).is_some() {
        return Err(SubsetError::Unsupported("CFF2 outlines"));
    }
    let num_glyphs = face.maxp()?.num_glyphs();
    let mut kept: BTreeSet<u16> = BTreeSet::from([0]);
    for &g in glyphs {
        if g >= num_glyphs {
            return Err(SubsetError::GlyphOutOfRange(g));
        }
        kept.insert(g);
    }

    let (char_map, missing) = map_chars(&face, &chars, num_glyphs)?;
    kept.extend(char_map.values().copied());
    // Layout tables are best effort: a malformed GSUB/GPOS costs ligatures or kerning,
    // never the font.
    let ligatures = if layout {
        ligatures(&face, &mut kept).unwrap_or_default()
    } else {
        vec![]
    };

    // Sorted insertion gives new ids in the original order, which keeps the output
    // deterministic and the cmap runs of consecutive glyphs long.
    let mut remapper = subsetter::GlyphRemapper::new();
    for &g in &kept {
        remapper.remap(g);
    }
    Ok(GlyphPlan {
        kept,
        char_map,
        missing,
        ligatures,
        remapper,
        layout,
    })
}

/// Maps characters to original glyph ids through the font's best Unicode subtable.
fn map_chars(
    face: &FontRef,
    chars: &BTreeSet<char>,
    num_glyphs: u16,
) -> Result<(BTreeMap<u32, u16>, Vec<char>), SubsetError> {
    let cmap = face.cmap()?;
    let (_, record, subtable) = cmap.best_subtable().ok_or(SubsetError::NoUnicodeCmap)?;
    // A Macintosh subtable is indexed by Mac Roman bytes, not code points.
    if record.platform_id() == PlatformId::Macintosh {
        return Err(SubsetError::NoUnicodeCmap);
    }
    let symbol = record.platform_id() == PlatformId::Windows && record.encoding_id() == 0;
    let lookup = |c: u32| -> Option<u16> {
        let g = subtable.map_codepoint(c)?.to_u32();
        u16::try_from(g).ok().filter(|&g| g != 0 && g < num_glyphs)
    };
    let mut map = BTreeMap::new();
    let mut missing = Vec::new();
    for &c in chars {
        let c32 = u32::from(c);
        // Symbol fonts put their glyphs at U+F000 + byte; the subset maps the plain code
        // point so the text needs no private-use characters.
        let g = lookup(c32).or_else(|| {
            (symbol && c32 <= 0xFF)
                .then(|| lookup(0xF000 + c32))
                .flatten()
        });
        match g {
            Some(g) => {
                map.insert(c32, g);
            }
            None => missing.push(c),
        }
    }
    Ok((map, missing))
}

// ---------------------------------------------------------------------------------------------
// GSUB `liga`, GPOS `kern` and the GDEF glyph classes their lookup flags rely on.
//
// Lookups are kept one for one and in order, restricted to the kept glyphs, so a shaper
// applies them to the subset exactly as to the original font.

/// Lookup flag bits still meaningful in the subset: ignore bases/ligatures/marks work from
/// the kept GDEF glyph classes; mark attachment types and mark filtering sets are not kept.
const KEPT_FLAGS: u16 = 0x000F;

/// One ligature: the components after the first glyph, and the ligature glyph.
type Ligature = (Vec<u16>, u16);

/// The kept ligatures of one `liga` lookup, by first glyph, in the font's priority order.
#[derive(Debug, Clone)]
struct LigatureLookup {
    flag: u16,
    sets: BTreeMap<u16, Vec<Ligature>>,
}

/// A serialised lookup: flag and subtables.
struct BuiltLookup {
    flag: u16,
    subtables: Vec<Vec<u8>>,
}

/// Collects the `liga` ligatures whose components are all kept, lookup by lookup, and adds
/// their ligature glyphs to `kept` so later lookups (and kerning) see them.
fn ligatures(face: &FontRef, kept: &mut BTreeSet<u16>) -> Result<Vec<LigatureLookup>, ReadError> {
    let gsub = face.gsub()?;
    let lookups = gsub.lookup_list()?.lookups();
    let mut out = Vec::new();
    for index in feature_lookups(&gsub.feature_list()?, LIGA)? {
        let lookup = lookups.get(usize::from(index))?;
        let SubstitutionSubtables::Ligature(subtables) = lookup.subtables()? else {
            continue;
        };
        let mut sets: BTreeMap<u16, Vec<Ligature>> = BTreeMap::new();
        // Appending subtable after subtable keeps the first-match order of the original.
        for subtable in subtables.iter() {
            let LigatureSubst::Format1(subtable) = subtable? else {
                continue;
            };
            let coverage = subtable.coverage()?;
            let ligature_sets = subtable.ligature_sets();
            for &first in kept.iter() {
                let Some(i) = coverage.get(GlyphId16::new(first)) else {
                    continue;
                };
                for lig in ligature_sets.get(i as usize)?.ligatures().iter() {
                    let lig = lig?;
                    let rest: Vec<u16> = lig
                        .component_glyph_ids()
                        .iter()
                        .map(|g| g.get().to_u16())
                        .collect();
                    if rest.iter().all(|g| kept.contains(g)) {
                        sets.entry(first)
                            .or_default()
                            .push((rest, lig.ligature_glyph().to_u16()));
                    }
                }
            }
        }
        kept.extend(sets.values().flatten().map(|(_, lig)| *lig));
        if !sets.is_empty() {
            out.push(LigatureLookup {
                flag: lookup.lookup_flag().to_bits() & KEPT_FLAGS,
                sets,
            });
        }
    }
    Ok(out)
}

/// Indices of the lookups of every `feature` record, whatever the script, in lookup order
/// (the order shapers apply them in).
fn feature_lookups(features: &FeatureList, feature: Tag) -> Result<BTreeSet<u16>, ReadError> {
    let mut out = BTreeSet::new();
    for record in features
        .feature_records()
        .iter()
        .filter(|r| r.feature_tag() == feature)
    {
        out.extend(
            record
                .feature(features.offset_data())?
                .lookup_list_indices()
                .iter()
                .map(|i| i.get()),
        );
    }
    Ok(out)
}

/// Script tags of a layout table, so the rebuilt feature is found for each; DFLT always.
fn script_tags(scripts: Result<ScriptList, ReadError>) -> BTreeSet<[u8; 4]> {
    let mut tags = BTreeSet::from([*b"DFLT"]);
    if let Ok(scripts) = scripts {
        tags.extend(
            scripts
                .script_records()
                .iter()
                .map(|r| r.script_tag().to_be_bytes()),
        );
    }
    tags
}

/// Stands for "does not fit a 16-bit offset or count": the table is then left out.
const TOO_BIG: ReadError = ReadError::OutOfBounds;

fn u16_of(n: usize) -> Result<u16, ReadError> {
    u16::try_from(n).map_err(|_| TOO_BIG)
}

fn gsub_table(
    face: &FontRef,
    lookups: &[LigatureLookup],
    new_id: &impl Fn(u16) -> u16,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut built = Vec::new();
    for lookup in lookups {
        let mut sets = Vec::new();
        for (&first, ligs) in &lookup.sets {
            // LigatureSet: count, offsets to the Ligature tables, the tables.
            let mut set = Writer::default();
            let mut body = Writer::default();
            set.u16(u16_of(ligs.len())?);
            let header = 2 + 2 * ligs.len();
            for (rest, lig) in ligs {
                set.u16(u16_of(header + body.0.len())?);
                body.u16(new_id(*lig));
                body.u16(u16_of(rest.len() + 1)?);
                rest.iter().for_each(|&g| body.u16(new_id(g)));
            }
            set.0.extend(body.0);
            sets.push((new_id(first), set.0));
        }
        built.push(BuiltLookup {
            flag: lookup.flag,
            subtables: first_glyph_subtables(&[], sets)?,
        });
    }
    let scripts = script_tags(face.gsub().and_then(|t| t.script_list()));
    layout_table(&scripts, LIGA, 7, 4, &built)
}

fn gpos_table(
    face: &FontRef,
    kept: &BTreeSet<u16>,
    new_id: &impl Fn(u16) -> u16,
) -> Result<Option<Vec<u8>>, ReadError> {
    let gpos = face.gpos()?;
    let lookups = gpos.lookup_list()?.lookups();
    let mut built = Vec::new();
    for index in feature_lookups(&gpos.feature_list()?, KERN)? {
        let lookup = lookups.get(usize::from(index))?;
        let PositionSubtables::Pair(subtables) = lookup.subtables()? else {
            continue;
        };
        let mut out = Vec::new();
        for subtable in subtables.iter() {
            match subtable? {
                PairPos::Format1(t) => out.extend(pair_pos1(&t, kept, new_id)?),
                PairPos::Format2(t) => out.extend(pair_pos2(&t, kept, new_id)?),
                _ => {}
            }
        }
        if !out.is_empty() {
            built.push(BuiltLookup {
                flag: lookup.lookup_flag().to_bits() & KEPT_FLAGS,
                subtables: out,
            });
        }
    }
    let scripts = script_tags(gpos.script_list());
    layout_table(&scripts, KERN, 9, 2, &built)
}

/// PairPos format 1 (glyph pairs) restricted to kept glyphs. Only the first glyph's x advance
/// is kept: that is what kerning uses. Records with a zero value stay, since a matching
/// record ends the search through the lookup's subtables.
fn pair_pos1(
    t: &PairPosFormat1,
    kept: &BTreeSet<u16>,
    new_id: &impl Fn(u16) -> u16,
) -> Result<Vec<Vec<u8>>, ReadError> {
    let coverage = t.coverage()?;
    let pair_sets = t.pair_sets();
    let mut sets = Vec::new();
    for &first in kept {
        let Some(i) = coverage.get(GlyphId16::new(first)) else {
            continue;
        };
        let mut records = Vec::new();
        for record in pair_sets.get(i as usize)?.pair_value_records().iter() {
            let record = record?;
            let second = record.second_glyph().to_u16();
            if kept.contains(&second) {
                records.push((
                    new_id(second),
                    record.value_record1().x_advance().unwrap_or(0),
                ));
            }
        }
        if records.is_empty() {
            continue;
        }
        // PairSet: count, then (second glyph, x advance) records sorted by glyph.
        let mut set = Writer::default();
        set.u16(u16_of(records.len())?);
        for (g, dx) in records {
            set.u16(g);
            set.i16(dx);
        }
        sets.push((new_id(first), set.0));
    }
    // valueFormat1 = XAdvance, valueFormat2 = none.
    first_glyph_subtables(&[0x0004, 0], sets)
}

/// PairPos format 2 (class pairs) restricted to kept glyphs, with the classes still in use
/// renumbered densely (class 0, the implicit class, stays 0).
fn pair_pos2(
    t: &PairPosFormat2,
    kept: &BTreeSet<u16>,
    new_id: &impl Fn(u16) -> u16,
) -> Result<Option<Vec<u8>>, ReadError> {
    let coverage = t.coverage()?;
    let (class_def1, class_def2) = (t.class_def1()?, t.class_def2()?);
    let firsts: Vec<(u16, u32)> = kept
        .iter()
        .filter(|&&g| coverage.get(GlyphId16::new(g)).is_some())
        .map(|&g| (g, class_def1.get(GlyphId16::new(g))))
        .collect();
    if firsts.is_empty() {
        return Ok(None);
    }
    let seconds: Vec<(u16, u32)> = kept
        .iter()
        .map(|&g| (g, class_def2.get(GlyphId16::new(g))))
        .collect();
    let (old1, entries1) = dense_classes(&firsts, new_id)?;
    let (old2, entries2) = dense_classes(&seconds, new_id)?;
    let records = t.class_value_records();
    let mut w = Writer::default();
    let matrix = 2 * old1.len() * old2.len();
    let coverage_at = 16 + matrix;
    let class1_at = coverage_at + 4 + 2 * firsts.len();
    let class2_at = class1_at + 4 + 6 * ranges(&entries1).len();
    for v in [
        2,
        u16_of(coverage_at)?,
        0x0004,
        0,
        u16_of(class1_at)?,
        u16_of(class2_at)?,
    ] {
        w.u16(v);
    }
    w.u16(u16_of(old1.len())?);
    w.u16(u16_of(old2.len())?);
    for &c1 in &old1 {
        for &c2 in &old2 {
            // Out-of-range classes only occur in broken fonts; they become "no adjustment".
            let dx = records
                .get(c1, c2)
                .and_then(|[v, _]| v.x_advance())
                .unwrap_or(0);
            w.i16(dx);
        }
    }
    w.u16(1);
    w.u16(u16_of(firsts.len())?);
    firsts.iter().for_each(|&(g, _)| w.u16(new_id(g)));
    w.0.extend(class_def(&entries1)?);
    w.0.extend(class_def(&entries2)?);
    Ok(Some(w.0))
}

/// Renumbers the classes of `(old glyph, class)` densely from 1, class 0 staying 0. Returns
/// the old class of each new class (index 0 included) and the `(new glyph, new class)`
/// entries with a nonzero class, in glyph order.
fn dense_classes(
    glyphs: &[(u16, u32)],
    new_id: &impl Fn(u16) -> u16,
) -> Result<DenseClasses, ReadError> {
    let used: BTreeSet<u32> = glyphs.iter().map(|&(_, c)| c).filter(|&c| c != 0).collect();
    let mut old = vec![0u16];
    let mut new_class = BTreeMap::new();
    for c in used {
        new_class.insert(c, u16_of(old.len())?);
        old.push(u16::try_from(c).map_err(|_| TOO_BIG)?);
    }
    let entries = glyphs
        .iter()
        .filter_map(|&(g, c)| Some((new_id(g), *new_class.get(&c)?)))
        .collect();
    Ok((old, entries))
}

/// Old class per new class, and `(new glyph, new class)` entries.
type DenseClasses = (Vec<u16>, Vec<(u16, u16)>);

/// Runs of consecutive glyphs with the same class.
fn ranges(entries: &[(u16, u16)]) -> Vec<&[(u16, u16)]> {
    entries
        .chunk_by(|a, b| a.0.checked_add(1) == Some(b.0) && a.1 == b.1)
        .collect()
}

/// ClassDef format 2 from `(glyph, class)` entries sorted by glyph.
fn class_def(entries: &[(u16, u16)]) -> Result<Vec<u8>, ReadError> {
    let ranges = ranges(entries);
    let mut w = Writer::default();
    w.u16(2);
    w.u16(u16_of(ranges.len())?);
    for range in ranges {
        w.u16(range[0].0);
        w.u16(range[range.len() - 1].0);
        w.u16(range[0].1);
    }
    Ok(w.0)
}

/// GDEF 1.0 with only the glyph class definitions, which lookup flags such as IgnoreMarks
/// (and HarfBuzz's mark handling) read.
fn gdef_table(
    face: &FontRef,
    kept: &BTreeSet<u16>,
    new_id: &impl Fn(u16) -> u16,
) -> Result<Option<Vec<u8>>, ReadError> {
    let Some(classes) = face.gdef()?.glyph_class_def() else {
        return Ok(None);
    };
    let classes = classes?;
    let mut entries = Vec::new();
    for &g in kept {
        let class = classes.get(GlyphId16::new(g));
        if class != 0 {
            entries.push((new_id(g), u16::try_from(class).map_err(|_| TOO_BIG)?));
        }
    }
    let mut w = Writer::default();
    w.u32(0x0001_0000);
    [12, 0, 0, 0].into_iter().for_each(|v| w.u16(v));
    w.0.extend(class_def(&entries)?);
    Ok(Some(w.0))
}

/// Serialises `(first glyph, set)` entries, sorted by glyph, as format-1 subtables shared by
/// PairPos and LigatureSubst: format, coverage offset, `extra` fields, set count, set offsets,
/// sets, coverage. Starts a new subtable whenever a 16-bit offset would overflow; the
/// coverages stay disjoint, so the split changes nothing for a shaper.
fn first_glyph_subtables(
    extra: &[u16],
    entries: Vec<(u16, Vec<u8>)>,
) -> Result<Vec<Vec<u8>>, ReadError> {
    let fixed = 6 + 2 * extra.len();
    let mut chunks: Vec<Vec<(u16, Vec<u8>)>> = vec![vec![]];
    let mut size = fixed;
    for (glyph, set) in entries {
        // Each entry adds a set offset and a coverage glyph besides the set itself.
        let grown = size + 4 + set.len();
        if grown + 4 > usize::from(u16::MAX) {
            if fixed + 4 + set.len() + 4 > usize::from(u16::MAX) {
                return Err(TOO_BIG);
            }
            chunks.push(vec![]);
            size = fixed;
        }
        size += 4 + set.len();
        chunks.last_mut().ok_or(TOO_BIG)?.push((glyph, set));
    }
    let mut out = Vec::new();
    for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
        let header = fixed + 2 * chunk.len();
        let sets_len: usize = chunk.iter().map(|(_, s)| s.len()).sum();
        let mut w = Writer::default();
        w.u16(1);
        w.u16(u16_of(header + sets_len)?);
        extra.iter().for_each(|&v| w.u16(v));
        w.u16(u16_of(chunk.len())?);
        let mut offset = header;
        for (_, set) in &chunk {
            w.u16(u16_of(offset)?);
            offset += set.len();
        }
        chunk.iter().for_each(|(_, set)| w.0.extend(set));
        // Coverage format 1: the sorted first glyphs.
        w.u16(1);
        w.u16(u16_of(chunk.len())?);
        chunk.iter().for_each(|(g, _)| w.u16(*g));
        out.push(w.0);
    }
    Ok(out)
}

/// Builds a GSUB/GPOS 1.0 table where every script's default language system has the single
/// feature `feature`, made of `lookups` (subtables of type `inner_type`). Subtables are
/// reached through Extension subtables (type `ext_type`) and their 32-bit offsets, so the
/// amount of data never overflows a 16-bit offset. `None` when there is nothing to write.
fn layout_table(
    scripts: &BTreeSet<[u8; 4]>,
    feature: Tag,
    ext_type: u16,
    inner_type: u16,
    lookups: &[BuiltLookup],
) -> Result<Option<Vec<u8>>, ReadError> {
    if lookups.is_empty() {
        return Ok(None);
    }
    let mut w = Writer::default();
    let script_list = 10usize;
    let feature_list = script_list + 2 + 6 * scripts.len() + 12;
    let lookup_list = feature_list + 2 + 6 + 4 + 2 * lookups.len();
    w.u32(0x0001_0000);
    for offset in [script_list, feature_list, lookup_list] {
        w.u16(u16_of(offset)?);
    }

    // ScriptList: every record points at one shared Script whose default LangSys holds
    // feature 0 and nothing else.
    w.u16(u16_of(scripts.len())?);
    let script = u16_of(2 + 6 * scripts.len())?;
    for tag in scripts {
        w.0.extend(tag);
        w.u16(script);
    }
    [4, 0, 0, 0xFFFF, 1, 0].into_iter().for_each(|v| w.u16(v));

    // FeatureList: one feature listing every lookup.
    w.u16(1);
    w.0.extend(feature.to_be_bytes());
    w.u16(8);
    w.u16(0);
    w.u16(u16_of(lookups.len())?);
    for i in 0..lookups.len() {
        w.u16(u16_of(i)?);
    }

    // LookupList, each Lookup followed by its Extension subtables, then the real subtables.
    let lookup_lens: Vec<usize> = lookups.iter().map(|l| 6 + 10 * l.subtables.len()).collect();
    let mut data_at = lookup_list + 2 + 2 * lookups.len() + lookup_lens.iter().sum::<usize>();
    w.u16(u16_of(lookups.len())?);
    let mut at = 2 + 2 * lookups.len();
    for len in &lookup_lens {
        w.u16(u16_of(at)?);
        at += len;
    }
    for lookup in lookups {
        let count = lookup.subtables.len();
        w.u16(ext_type);
        w.u16(lookup.flag);
        w.u16(u16_of(count)?);
        for i in 0..count {
            w.u16(u16_of(6 + 2 * count + 8 * i)?);
        }
        for subtable in &lookup.subtables {
            let ext_start = w.0.len();
            w.u16(1);
            w.u16(inner_type);
            w.u32(u32::try_from(data_at - ext_start).map_err(|_| TOO_BIG)?);
            data_at += subtable.len();
        }
    }
    lookups
        .iter()
        .flat_map(|l| &l.subtables)
        .for_each(|s| w.0.extend(s));
    Ok(Some(w.0))
}

// ---------------------------------------------------------------------------------------------
// cmap, OS/2, post.

/// `cmap` with a format 4 subtable for the BMP (platform 0/3 and 3/1) and, when a character
/// lies beyond it, a format 12 subtable for all characters (platform 0/4 and 3/10).
fn cmap_table(map: &BTreeMap<u32, u16>) -> Result<Vec<u8>, SubsetError> {
    let format4 = cmap_format4(map).ok_or(SubsetError::TooLarge("cmap format 4"))?;
    let format12 = map.keys().any(|&c| c > 0xFFFF).then(|| cmap_format12(map));
    let records: &[(u16, u16, bool)] = if format12.is_some() {
        &[(0, 3, false), (0, 4, true), (3, 1, false), (3, 10, true)]
    } else {
        &[(0, 3, false), (3, 1, false)]
    };
    let mut w = Writer::default();
    w.u16(0);
    w.u16(records.len() as u16);
    let offset4 = 4 + 8 * records.len();
    let offset12 = offset4 + format4.len();
    for &(platform, encoding, wide) in records {
        w.u16(platform);
        w.u16(encoding);
        w.u32(if wide { offset12 } else { offset4 } as u32);
    }
    w.0.extend(format4);
    if let Some(format12) = format12 {
        w.0.extend(format12);
    }
    Ok(w.0)
}

/// Format 4: one segment per run of consecutive code points, coded with a delta when the
/// glyph ids are consecutive too, else through the glyph id array.
fn cmap_format4(map: &BTreeMap<u32, u16>) -> Option<Vec<u8>> {
    let bmp: Vec<(u16, u16)> = map
        .iter()
        .filter(|&(&c, _)| c < 0xFFFF)
        .map(|(&c, &g)| (c as u16, g))
        .collect();
    let mut runs: Vec<&[(u16, u16)]> = bmp
        .chunk_by(|a, b| a.0.checked_add(1) == Some(b.0))
        .collect();
    // The required last segment maps U+FFFF to .notdef.
    let last = [(0xFFFF_u16, 0_u16)];
    runs.push(&last);
    let seg_count = runs.len();
    let mut ends = Writer::default();
    let mut starts = Writer::default();
    let mut deltas = Writer::default();
    let mut range_offsets = Writer::default();
    let mut glyph_array = Writer::default();
    for (i, run) in runs.iter().enumerate() {
        let (start, first_gid) = run[0];
        ends.u16(run[run.len() - 1].0);
        starts.u16(start);
        let consecutive = run.windows(2).all(|w| w[0].1.wrapping_add(1) == w[1].1);
        if consecutive {
            deltas.u16(first_gid.wrapping_sub(start));
            range_offsets.u16(0);
        } else {
            // Offset from this idRangeOffset entry to the run's first glyph array entry.
            deltas.u16(0);
            range_offsets.u16(u16::try_from(2 * (seg_count - i) + glyph_array.0.len()).ok()?);
            run.iter().for_each(|&(_, g)| glyph_array.u16(g));
        }
    }
    let length = 16 + 8 * seg_count + glyph_array.0.len();
    let entry_selector = seg_count.ilog2();
    let search_range = 2 * (1usize << entry_selector);
    let mut w = Writer::default();
    w.u16(4);
    w.u16(u16::try_from(length).ok()?);
    w.u16(0); // language
    w.u16(u16::try_from(2 * seg_count).ok()?);
    w.u16(search_range as u16);
    w.u16(entry_selector as u16);
    w.u16((2 * seg_count - search_range) as u16);
    w.0.extend(ends.0);
    w.u16(0); // reservedPad
    for part in [starts, deltas, range_offsets, glyph_array] {
        w.0.extend(part.0);
    }
    Some(w.0)
}

/// Format 12: groups of consecutive code points mapped to consecutive glyph ids.
fn cmap_format12(map: &BTreeMap<u32, u16>) -> Vec<u8> {
    let entries: Vec<(u32, u16)> = map.iter().map(|(&c, &g)| (c, g)).collect();
    let groups: Vec<&[(u32, u16)]> = entries
        .chunk_by(|a, b| a.0 + 1 == b.0 && a.1.checked_add(1) == Some(b.1))
        .collect();
    let mut w = Writer::default();
    w.u16(12);
    w.u16(0);
    w.u32((16 + 12 * groups.len()) as u32);
    w.u32(0); // language
    w.u32(groups.len() as u32);
    for group in groups {
        w.u32(group[0].0);
        w.u32(group[group.len() - 1].0);
        w.u32(u32::from(group[0].1));
    }
    w.0
}

/// The original `OS/2` with usFirstCharIndex/usLastCharIndex narrowed to the kept characters.
fn os2_table(original: &[u8], map: &BTreeMap<u32, u16>) -> Vec<u8> {
    let mut os2 = original.to_vec();
    if let (Some(first), Some(last), Some(fields)) = (
        map.keys().next(),
        map.keys().next_back(),
        os2.get_mut(64..68),
    ) {
        let clamp = |c: u32| u16::try_from(c).unwrap_or(0xFFFF).to_be_bytes();
        fields[..2].copy_from_slice(&clamp(*first));
        fields[2..].copy_from_slice(&clamp(*last));
    }
    os2
}

/// Big-endian byte writer.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u16(&mut self, v: u16) {
        self.0.extend(v.to_be_bytes());
    }
    fn i16(&mut self, v: i16) {
        self.0.extend(v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend(v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::font::sfnt::checksum;
    use read_fonts::FontRead;
    use read_fonts::types::GlyphId;

    const GARAMOND: &[u8] = include_bytes!("../../fonts/eb-garamond/EBGaramond-Regular.ttf");
    const MONO: &[u8] = include_bytes!("../../fonts/noto-sans-mono/NotoSansMono-Regular.ttf");
    /// Not in the repository: the CFF test runs only where Debian's fonts-linuxlibertine is.
    const CFF_PATH: &str = "/usr/share/fonts/opentype/linux-libertine/LinLibertine_R.otf";
    /// A typical article's character set.
    const ARTICLE: &str =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()-–—‘’“”…/%&é";

    fn glyph(font: &[u8], c: char) -> Option<u16> {
        let cmap = FontRef::new(font).ok()?.cmap().ok()?;
        let (_, _, subtable) = cmap.best_subtable()?;
        subtable
            .map_codepoint(c)
            .map(|g| g.to_u32() as u16)
            .filter(|&g| g != 0)
    }

    fn advance(font: &[u8], g: u16) -> u16 {
        FontRef::new(font)
            .unwrap()
            .hmtx()
            .unwrap()
            .advance(GlyphId::new(g.into()))
            .unwrap()
    }

    /// Every char of `chars` the original has is mapped in the subset, to the glyph
    /// `new_glyph_id` names, with the original advance.
    fn assert_faithful(original: &[u8], subset: &Subset, chars: &str) {
        for c in chars.chars() {
            let Some(old) = glyph(original, c) else {
                continue;
            };
            let new = glyph(&subset.data, c).unwrap_or_else(|| panic!("{c:?} not mapped"));
            assert_eq!(subset.new_glyph_id(old), Some(new), "{c:?}");
            assert_eq!(
                advance(&subset.data, new),
                advance(original, old),
                "advance of {c:?}"
            );
        }
    }

    fn cmap_formats(font: &[u8]) -> Vec<(u16, u16, u16)> {
        let face = FontRef::new(font).unwrap();
        let cmap = face.cmap().unwrap();
        cmap.encoding_records()
            .iter()
            .map(|r| {
                (
                    r.platform_id() as u16,
                    r.encoding_id(),
                    r.subtable(cmap.offset_data()).unwrap().format(),
                )
            })
            .collect()
    }

    /// Kerning of the pair as a shaper applies the `kern` lookups (first matching subtable
    /// of each lookup, lookups added up).
    fn kern(font: &[u8], a: u16, b: u16) -> i32 {
        let face = FontRef::new(font).unwrap();
        let Ok(gpos) = face.gpos() else { return 0 };
        let lookups = gpos.lookup_list().unwrap().lookups();
        let (a, b) = (GlyphId16::new(a), GlyphId16::new(b));
        let mut total = 0;
        for index in feature_lookups(&gpos.feature_list().unwrap(), KERN).unwrap() {
            let PositionSubtables::Pair(subtables) =
                lookups.get(index.into()).unwrap().subtables().unwrap()
            else {
                continue;
            };
            for subtable in subtables.iter().map(Result::unwrap) {
                let value = match &subtable {
                    PairPos::Format1(t) => t.coverage().unwrap().get(a).and_then(|i| {
                        let set = t.pair_sets().get(i as usize).unwrap();
                        set.find_pair_value_record(b)
                            .map(|r| r.value_record1().x_advance())
                    }),
                    PairPos::Format2(t) => t.coverage().unwrap().get(a).map(|_| {
                        let c1 = t.class_def1().unwrap().get(a) as u16;
                        let c2 = t.class_def2().unwrap().get(b) as u16;
                        t.class_value_records()
                            .get(c1, c2)
                            .and_then(|[v, _]| v.x_advance())
                    }),
                    _ => None,
                };
                if let Some(dx) = value {
                    total += i32::from(dx.unwrap_or(0));
                    break;
                }
            }
        }
        total
    }

    #[test]
    fn article_subsets_are_small_and_faithful() {
        for font in [GARAMOND, MONO] {
            let subset = subset_for_chars(font, ARTICLE.chars()).unwrap();
            assert!(
                subset.data.len() * 10 < font.len(),
                "{} bytes",
                subset.data.len()
            );
            assert_faithful(font, &subset, ARTICLE);
            assert!(subset.missing_chars().is_empty());
            assert_eq!(cmap_formats(&subset.data), [(0, 3, 4), (3, 1, 4)]);
            assert_eq!(&subset.data[..4], &[0, 1, 0, 0]);
        }
    }

    #[test]
    fn non_bmp_chars_get_a_format_12_cmap() {
        let chars = "Flag 🇦🇧";
        let subset = subset_for_chars(GARAMOND, chars.chars()).unwrap();
        assert_faithful(GARAMOND, &subset, chars);
        assert!(glyph(&subset.data, '🇦').is_some());
        assert_eq!(
            cmap_formats(&subset.data),
            [(0, 3, 4), (0, 4, 12), (3, 1, 4), (3, 10, 12)]
        );
    }

    #[test]
    fn cmap_round_trips_scattered_mappings() {
        // Runs with and without consecutive glyph ids, a lone char, BMP edge and beyond.
        let mut map = BTreeMap::new();
        for (i, c) in (0x41..0x60).enumerate() {
            map.insert(c, 10 + i as u16);
        }
        for (i, c) in (0x100..0x140).enumerate() {
            map.insert(c, 500 - 3 * i as u16);
        }
        map.extend([
            (0x20AC, 7),
            (0xFFFD, 1),
            (0x1F600, 2),
            (0x1F601, 3),
            (0x10FFFF, 4),
        ]);
        let table = cmap_table(&map).unwrap();
        let cmap = read_fonts::tables::cmap::Cmap::read(table.as_slice().into()).unwrap();
        for record in cmap.encoding_records() {
            let subtable = record.subtable(cmap.offset_data()).unwrap();
            let wide = subtable.format() == 12;
            for (&c, &g) in &map {
                if wide || c <= 0xFFFF {
                    assert_eq!(
                        subtable.map_codepoint(c).map(|g| g.to_u32()),
                        Some(u32::from(g))
                    );
                }
            }
            assert_eq!(
                subtable
                    .map_codepoint(0x42_u32 + 0x1000)
                    .map(|g| g.to_u32())
                    .unwrap_or(0),
                0
            );
        }
    }

    #[test]
    fn missing_chars_are_reported() {
        let subset = subset_for_chars(GARAMOND, "a中b".chars()).unwrap();
        assert_eq!(subset.missing_chars(), ['中']);
        assert_faithful(GARAMOND, &subset, "ab");
    }

    #[test]
    fn output_is_deterministic() {
        let a = subset_for_chars(GARAMOND, ARTICLE.chars()).unwrap();
        let b = subset_for_chars(GARAMOND, ARTICLE.chars().rev()).unwrap();
        assert_eq!(a.data, b.data);
    }

    #[test]
    fn fonts_stored_without_glyph_names_give_the_same_subsets() {
        let stored = crate::font::sfnt::without_glyph_names(GARAMOND).expect("named glyphs");
        assert!(stored.len() < GARAMOND.len());
        for text in [ARTICLE, "office AVATAR Type"] {
            let a = subset_for_chars(GARAMOND, text.chars()).unwrap();
            let b = subset_for_chars(&stored, text.chars()).unwrap();
            assert_eq!(a.data, b.data);
        }
        // A font already without names is left as it is.
        assert!(crate::font::sfnt::without_glyph_names(&stored).is_none());
    }

    #[test]
    fn checksums_are_valid() {
        let subset = subset_for_chars(GARAMOND, ARTICLE.chars()).unwrap();
        let data = &subset.data;
        assert_eq!(checksum(data), 0xB1B0_AFBA);
        let count = u16::from_be_bytes([data[4], data[5]]) as usize;
        for i in 0..count {
            let record = &data[12 + 16 * i..28 + 16 * i];
            let word = |at: usize| u32::from_be_bytes(record[at..at + 4].try_into().unwrap());
            let (offset, length) = (word(8) as usize, word(12) as usize);
            assert_eq!(offset % 4, 0);
            let mut table = data[offset..offset + length].to_vec();
            if &record[..4] == b"head" {
                table[8..12].fill(0);
            }
            assert_eq!(
                checksum(&table),
                word(4),
                "{:?}",
                std::str::from_utf8(&record[..4])
            );
        }
    }

    #[test]
    fn ligatures_and_kerning_survive() {
        let subset = subset_for_chars(GARAMOND, "office AVATAR Type".chars()).unwrap();
        let g = |c| glyph(GARAMOND, c).unwrap();
        let n = |c| subset.new_glyph_id(g(c)).unwrap();
        // The ligature glyph is kept and reachable from f + i through the rebuilt GSUB.
        let mut kept = BTreeSet::from([g('f'), g('i')]);
        let old = ligatures(&FontRef::new(GARAMOND).unwrap(), &mut kept).unwrap();
        let (_, old_fi) = old[0].sets[&g('f')]
            .iter()
            .find(|(rest, _)| rest == &[g('i')])
            .unwrap()
            .clone();
        let mut kept = BTreeSet::from([n('f'), n('i')]);
        let new = ligatures(&FontRef::new(&subset.data).unwrap(), &mut kept).unwrap();
        let (_, new_fi) = new[0].sets[&n('f')]
            .iter()
            .find(|(rest, _)| rest == &[n('i')])
            .unwrap()
            .clone();
        assert_eq!(subset.new_glyph_id(old_fi), Some(new_fi));
        // Kerning values are those of the original font.
        let mut kerned = 0;
        for (a, b) in [
            ('A', 'V'),
            ('V', 'A'),
            ('T', 'y'),
            ('T', 'A'),
            ('y', 'p'),
            ('o', 'f'),
        ] {
            let original = kern(GARAMOND, g(a), g(b));
            assert_eq!(kern(&subset.data, n(a), n(b)), original, "{a}{b}");
            kerned += usize::from(original != 0);
        }
        assert!(kerned >= 3, "test pairs should be kerned");
    }

    #[test]
    fn glyph_subset_for_pdf() {
        let a = glyph(GARAMOND, 'A').unwrap();
        let subset = subset_for_glyphs(GARAMOND, &[a, 1], "Ab".chars()).unwrap();
        assert!(subset.new_glyph_id(1).is_some());
        assert_faithful(GARAMOND, &subset, "Ab");
        let face = FontRef::new(&subset.data).unwrap();
        assert!(
            face.gsub().is_err() && face.gpos().is_err(),
            "PDF subsets carry no layout tables"
        );
        assert!(matches!(
            subset_for_glyphs(GARAMOND, &[u16::MAX], []),
            Err(SubsetError::GlyphOutOfRange(_))
        ));
    }

    #[test]
    fn cff_font_if_installed() {
        let Ok(font) = std::fs::read(CFF_PATH) else {
            eprintln!("skipped: {CFF_PATH} not installed");
            return;
        };
        let subset = subset_for_chars(&font, ARTICLE.chars()).unwrap();
        assert_eq!(&subset.data[..4], b"OTTO");
        assert!(subset.data.len() * 10 < font.len());
        assert_faithful(&font, &subset, ARTICLE);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [&[][..], b"hello", b"OTTO\0\x05\0\0\0\0\0\0", &[0xFF; 64]] {
            assert!(subset_for_chars(bad, "abc".chars()).is_err());
        }
        // Truncated fonts.
        for len in (0..GARAMOND.len()).step_by(GARAMOND.len() / 16 + 1) {
            let _ = subset_for_chars(&GARAMOND[..len], ARTICLE.chars());
        }
        // Corrupted fonts: a cheap deterministic generator flips bytes anywhere.
        let mut seed = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for font in [GARAMOND, MONO] {
            for _ in 0..40 {
                let mut data = font.to_vec();
                for _ in 0..8 {
                    let at = (next() as usize) % data.len();
                    data[at] = next() as u8;
                }
                // The directory and headers get more hits: that is where offsets live.
                for _ in 0..4 {
                    let at = (next() as usize) % 512;
                    data[at] = next() as u8;
                }
                let _ = subset_for_chars(&data, ARTICLE.chars());
                let _ = subset_for_glyphs(&data, &[1, 2, 3], "ab".chars());
            }
        }
    }
}
