//! PDF output: serialises the layout engine's pages ([`LaidOut`]) to PDF bytes.
//!
//! printpdf turns the drawing operations into content streams and builds the page tree.
//! What it cannot express, or gets wrong for print output, is done on its lopdf document:
//! - fonts are subset here and embedded as Type0/CIDFontType2 (Identity-H) with a subset
//!   tag derived from a hash and a ToUnicode CMap built from the layout's cluster text, so
//!   ligatures copy as letters; where one glyph stands for different text in different
//!   places, the odd occurrences carry an `/ActualText` span;
//! - JPEG images go in unchanged (DCTDecode), and so do the compressed pixels of PNGs
//!   without transparency (Flate with PNG predictors, palettes as `/Indexed`); other images
//!   are decoded and stored losslessly (Flate) with alpha as an `/SMask`; each asset becomes
//!   one XObject whatever its uses;
//! - links to named destinations, the nested outline, catalog entries and metadata;
//! - objects are renumbered and the trailer `/ID` is a hash of the file, so the same input
//!   gives the same bytes in any process (printpdf's ids come from a process-wide counter).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Cursor;

use chrono::{Datelike, Timelike};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use printpdf::{
    Codepoint, Color, DictItem, Line, LinePoint, Op, PaintMode, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, PdfWarnMsg, Point, Pt, Rect, TextItem, TextMatrix, XObjectId,
    XObjectTransform,
};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::assets::Asset;
use crate::beside::Handed;
use crate::font::subset::{GlyphPlan, SubsetError, plan_for_glyphs};
use crate::layout::page::{
    FaceData, GlyphRun, Item, LaidOut, LinkTarget, OutlineEntry, Page, PositionedGlyph, Rgb,
};
use crate::parallel::map_in_order;

/// Document information for the PDF.
#[derive(Debug, Clone, Copy)]
pub struct PdfInfo<'a> {
    /// Document title (`/Title`, shown in the viewer's title bar).
    pub title: &'a str,
    /// Authors, joined with commas into `/Author`.
    pub authors: &'a [String],
    /// Short description (`/Subject`).
    pub subject: Option<&'a str>,
    /// Keywords, joined with commas into `/Keywords`.
    pub keywords: &'a [String],
    /// BCP 47 language tag for the catalog's `/Lang`; empty to leave it out.
    pub language: &'a str,
    /// Creation time in Unix seconds (from `SOURCE_DATE_EPOCH` or the article date).
    pub created: i64,
}

/// Why no PDF could be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// A PDF needs at least one page.
    #[error("the document has no pages")]
    NoPages,
    /// A page is not a positive, finite size.
    #[error("page {page} has an unusable size ({width} × {height} pt)")]
    PageSize {
        /// 1-based page number.
        page: usize,
        /// Width as given.
        width: f32,
        /// Height as given.
        height: f32,
    },
    /// A glyph run refers to a face that `LaidOut::faces` does not have.
    #[error("page {page}: a glyph run uses font #{face}, but the document has {count} fonts")]
    UnknownFace {
        /// 1-based page number.
        page: usize,
        /// The face index used.
        face: usize,
        /// How many faces there are.
        count: usize,
    },
    /// A font could not be subset for embedding.
    #[error("font {name} cannot be embedded: {source}")]
    Font {
        /// The face's name.
        name: String,
        /// What went wrong.
        #[source]
        source: SubsetError,
    },
    /// The subset font could not be read back.
    #[error("font {name}: the subset font is unreadable")]
    FontReadBack {
        /// The face's name.
        name: String,
    },
    /// Assembling or writing the file failed.
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

/// Largest image width or height decoded, matching what `assets` accepts.
const MAX_IMAGE_DIMENSION: u32 = 20_000;
/// Most memory one image decode may allocate.
const MAX_IMAGE_ALLOC: u64 = 512 * 1024 * 1024;

/// Serialises laid-out pages to PDF bytes. Deterministic: same input → identical bytes.
///
/// `assets` is `Assets::items()`, which `Item::Image::asset` indexes. Images that cannot be
/// placed (unknown index, SVG, undecodable), links to unknown destinations and items with
/// non-finite coordinates are skipped with a warning.
pub fn write_pdf(
    mut doc: LaidOut,
    assets: &[Asset],
    info: &PdfInfo,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>, PdfError> {
    check_pages(&doc)?;
    // The programs' jobs take the faces with them.
    let faces = std::mem::take(&mut doc.faces);
    let (fonts, jobs) = build_fonts(&doc.pages, faces)?;
    // Building and deflating the subset programs is a good part of the work, and the
    // pages need only the glyph ids, known already: it runs beside the drawing.
    std::thread::scope(|scope| {
        let building = Handed::start(scope, "fonts", move || {
            let mut z = new_compressor();
            jobs.into_iter()
                .map(|job| Ok((job.index, job.run(&mut z)?)))
                .collect::<Result<Vec<_>, PdfError>>()
        });
        draw(doc, assets, info, warnings, &fonts, || building.finish())
    })
}

/// The rest of [`write_pdf`]: the pages drawn with `fonts`, whose programs `files` gives
/// once they are needed.
fn draw(
    mut doc: LaidOut,
    assets: &[Asset],
    info: &PdfInfo,
    warnings: &mut Vec<String>,
    fonts: &[Option<FontRes>],
    files: impl FnOnce() -> Result<Vec<(usize, FontFile)>, PdfError>,
) -> Result<Vec<u8>, PdfError> {
    // Images are prepared once, in order of first use, before pages are drawn in parallel.
    let mut used = Vec::new();
    for page in &doc.pages {
        for item in &page.items {
            if let Item::Image { asset, .. } = item
                && !used.contains(asset)
            {
                used.push(*asset);
            }
        }
    }
    let images = Images::prepare(assets, &used, warnings);
    let parallel = doc.pages.len() >= PARALLEL_FROM_PAGES;
    let drawn: Vec<(Vec<Op>, Vec<String>)> = map_mut(&mut doc.pages, parallel, |i, page| {
        let mut page_warnings = Vec::new();
        let ops = page_ops(i, page, fonts, &images, &mut page_warnings);
        // Only links and destinations are needed from here on; the glyphs would
        // otherwise sit in memory next to their operators (a third of a book's peak).
        page.items
            .retain(|it| matches!(it, Item::Dest { .. } | Item::Link { .. }));
        page.items.shrink_to_fit();
        (ops, page_warnings)
    });
    let mut page_ops_all = Vec::with_capacity(drawn.len());
    for (ops, page_warnings) in drawn {
        warnings.extend(page_warnings);
        page_ops_all.push(ops);
    }
    let opts = PdfSaveOptions {
        optimize: false,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let contents = content_streams(&doc.pages, page_ops_all, &opts, parallel, warnings);

    // The document itself, with empty pages that then get their content streams.
    let mut pdf = PdfDocument::new(info.title);
    pdf.pages = doc
        .pages
        .iter()
        .map(|page| pdf_page(page, Vec::new()))
        .collect();
    let mut pdf_warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&opts, &mut pdf_warnings);
    drop(pdf);
    warnings.extend(pdf_warnings.into_iter().map(|w| format!("PDF: {}", w.msg)));
    let page_ids: Vec<ObjectId> = lo.get_pages().into_values().collect();
    if page_ids.len() != contents.len() {
        return Err(PdfError::Write(format!(
            "printpdf made {} pages out of {}",
            page_ids.len(),
            contents.len()
        )));
    }
    for (&id, content) in page_ids.iter().zip(contents) {
        page_stream(&mut lo, id)?.set_content(content);
    }

    add_resources(&mut lo, &page_ids, fonts, files()?, &images.prepared)?;
    let dests = destinations(&doc, &page_ids, warnings);
    add_links(&mut lo, &doc, &page_ids, &dests, warnings)?;
    let outline = add_outline(&mut lo, &doc.outline, &doc, &page_ids, warnings);
    finish_catalog(&mut lo, &dests, outline, info)?;
    let info_id = lo.add_object(info_dict(info, warnings));
    lo.trailer.set("Info", info_id);
    save(lo, parallel)
}

/// Pages translated per group at once: enough to amortise a document's set-up.
const PAGES_PER_GROUP: usize = 8;

/// Documents shorter than this are written on one thread: starting the thread pool and
/// handing work across costs more than drawing, translating and compressing a few pages.
const PARALLEL_FROM_PAGES: usize = 4;

/// `f` over `items` with their indices, on all cores when `parallel`; results in order.
fn map_mut<T: Send, R: Send>(
    items: &mut [T],
    parallel: bool,
    f: impl Fn(usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    let indexed: Vec<(usize, &mut T)> = items.iter_mut().enumerate().collect();
    map_in_order(indexed, parallel, |(i, t)| f(i, t))
}

/// Each page's content stream, in page order. printpdf turns operators into bytes one
/// document at a time, which was the largest serial part of writing a book; translating
/// groups of pages as small documents on all cores gives the same bytes.
fn content_streams(
    pages: &[Page],
    ops: Vec<Vec<Op>>,
    opts: &PdfSaveOptions,
    parallel: bool,
    warnings: &mut Vec<String>,
) -> Vec<Vec<u8>> {
    let mut groups: Vec<Vec<PdfPage>> = Vec::new();
    for (page, ops) in pages.iter().zip(ops) {
        if groups.last().is_none_or(|g| g.len() == PAGES_PER_GROUP) {
            groups.push(Vec::with_capacity(PAGES_PER_GROUP));
        }
        if let Some(group) = groups.last_mut() {
            group.push(pdf_page(page, ops));
        }
    }
    let translated: Vec<(Vec<Vec<u8>>, Vec<PdfWarnMsg>)> =
        map_mut(&mut groups, parallel, |_, group| {
            let group = std::mem::take(group);
            let count = group.len();
            let mut part = PdfDocument::new("");
            part.pages = group;
            let mut part_warnings = Vec::new();
            let mut lo = part.to_lopdf_document(opts, &mut part_warnings);
            drop(part);
            let ids: Vec<ObjectId> = lo.get_pages().into_values().collect();
            let mut streams = Vec::with_capacity(count);
            for id in ids {
                let content = page_stream(&mut lo, id)
                    .map(|s| std::mem::take(&mut s.content))
                    .unwrap_or_default();
                streams.push(content);
            }
            (streams, part_warnings)
        });
    let mut out = Vec::with_capacity(pages.len());
    for (streams, part_warnings) in translated {
        out.extend(streams);
        warnings.extend(part_warnings.into_iter().map(|w| format!("PDF: {}", w.msg)));
    }
    out
}

/// A page's single content stream, as printpdf writes it.
fn page_stream(lo: &mut Document, page: ObjectId) -> Result<&mut Stream, PdfError> {
    let id = lo
        .get_dictionary(page)
        .and_then(|d| d.get(b"Contents"))
        .and_then(Object::as_reference)
        .map_err(|e| PdfError::Write(format!("page without a content stream: {e}")))?;
    lo.get_object_mut(id)
        .and_then(Object::as_stream_mut)
        .map_err(|e| PdfError::Write(format!("page content stream: {e}")))
}

/// A printpdf page the size of `page`, drawing `ops`.
fn pdf_page(page: &Page, ops: Vec<Op>) -> PdfPage {
    let size = page_box(page);
    PdfPage {
        media_box: size.clone(),
        trim_box: size.clone(),
        crop_box: size,
        ops,
    }
}

fn check_pages(doc: &LaidOut) -> Result<(), PdfError> {
    if doc.pages.is_empty() {
        return Err(PdfError::NoPages);
    }
    for (i, p) in doc.pages.iter().enumerate() {
        if !(p.width.is_finite() && p.height.is_finite() && p.width > 0.0 && p.height > 0.0) {
            return Err(PdfError::PageSize {
                page: i + 1,
                width: p.width,
                height: p.height,
            });
        }
        for item in &p.items {
            if let Item::Glyphs(run) = item
                && run.face >= doc.faces.len()
            {
                return Err(PdfError::UnknownFace {
                    page: i + 1,
                    face: run.face,
                    count: doc.faces.len(),
                });
            }
        }
    }
    Ok(())
}

fn page_box(page: &Page) -> Rect {
    Rect::from_wh(Pt(page.width), Pt(page.height))
}

// ---------------------------------------------------------------------------------------
// Fonts

/// One embedded face as the pages draw it.
struct FontRes {
    /// Resource name in the pages' `/Font` dictionary; not `F1`…`F14`, which printpdf
    /// would take for the standard 14 fonts.
    resource: String,
    /// Original glyph id → (CID in the subset, advance in 1/1000 em as written in `/W`).
    /// Looked up for every glyph drawn, hence the cheap hasher.
    glyphs: FxHashMap<u16, (u16, i64)>,
    /// Original glyph id → the text its code maps to in ToUnicode.
    text_of: FxHashMap<u16, String>,
}

/// What builds a face's subset program: the glyph ids it gives are already known (in
/// [`FontRes::glyphs`]), so it runs beside the drawing of the pages.
struct FontJob {
    index: usize,
    face: FaceData,
    plan: GlyphPlan,
}

/// A face's subset program, deflated, and what its dictionaries say about it.
struct FontFile {
    /// `/BaseFont` with its subset tag.
    base_font: String,
    program: Stream,
    cff: bool,
    metrics: FontMetrics,
}

struct FontMetrics {
    ascent: i64,
    descent: i64,
    cap_height: i64,
    bbox: [i64; 4],
    italic_angle: f32,
    flags: i64,
    stem_v: i64,
}

/// Text seen for a glyph: how often, and when first (for a deterministic tie-break).
type TextVotes = BTreeMap<String, (usize, usize)>;

/// Each face's glyphs as the pages draw them, and the jobs that build their programs.
type Fonts = (Vec<Option<FontRes>>, Vec<FontJob>);

fn build_fonts(pages: &[Page], faces: Vec<FaceData>) -> Result<Fonts, PdfError> {
    let mut used: Vec<BTreeMap<u16, TextVotes>> = vec![BTreeMap::new(); faces.len()];
    let mut seen = 0usize;
    for run in pages.iter().flat_map(|p| &p.items).filter_map(|i| match i {
        Item::Glyphs(run) => Some(run),
        _ => None,
    }) {
        let Some(face_used) = used.get_mut(run.face) else {
            continue;
        };
        for g in &run.glyphs {
            let votes = face_used.entry(g.id).or_default();
            if !g.text.is_empty() {
                seen += 1;
                // Most glyphs repeat a text already seen: no new key for those.
                match votes.get_mut(g.text.as_str()) {
                    Some(vote) => vote.0 += 1,
                    None => {
                        votes.insert(g.text.to_string(), (1, seen));
                    }
                }
            }
        }
    }

    let mut fonts = Vec::with_capacity(faces.len());
    let mut jobs = Vec::new();
    for (index, (face, glyph_votes)) in faces.into_iter().zip(used).enumerate() {
        if glyph_votes.is_empty() {
            fonts.push(None);
            continue;
        }
        // Most frequent text wins; the rest get /ActualText where they occur.
        let text_of: FxHashMap<u16, String> = glyph_votes
            .iter()
            .filter_map(|(&gid, votes)| {
                votes
                    .iter()
                    .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
                    .map(|(text, _)| (gid, text.clone()))
            })
            .collect();
        let gids: Vec<u16> = glyph_votes.keys().copied().collect();
        let read_back = || PdfError::FontReadBack {
            name: face.name.clone(),
        };
        let original = ttf_parser::Face::parse(&face.data, 0).map_err(|_| read_back())?;
        // Only characters whose own glyph is already kept go into the subset's cmap, so
        // ligature components are not embedded for nothing.
        let chars: BTreeSet<char> = text_of
            .iter()
            .filter_map(|(&gid, text)| {
                let mut it = text.chars();
                let c = it.next()?;
                let own = original.glyph_index(c)?.0 == gid;
                (it.next().is_none() && own).then_some(c)
            })
            .collect();
        let plan = plan_for_glyphs(&face.data, &gids, chars).map_err(|source| PdfError::Font {
            name: face.name.clone(),
            source,
        })?;
        // The subset keeps each glyph's advance, so the original's are the subset's.
        let upm = f64::from(original.units_per_em().max(1));
        let mut glyphs = FxHashMap::default();
        glyphs.reserve(gids.len());
        for &gid in &gids {
            let cid = plan.new_glyph_id(gid).ok_or_else(read_back)?;
            let advance = original
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0);
            glyphs.insert(gid, (cid, scale(f64::from(advance), upm)));
        }
        fonts.push(Some(FontRes {
            resource: format!("GF{index}"),
            glyphs,
            text_of,
        }));
        jobs.push(FontJob { index, face, plan });
    }
    Ok((fonts, jobs))
}

/// `v` font units in 1/1000 em, for a font of `upm` units per em.
fn scale(v: f64, upm: f64) -> i64 {
    (v * 1000.0 / upm).round() as i64
}

impl FontJob {
    /// Builds the subset, reads its metrics back and deflates it with `z`.
    fn run(self, z: &mut flate2::Compress) -> Result<FontFile, PdfError> {
        let name = self.face.name;
        let subset = self
            .plan
            .build(&self.face.data)
            .map_err(|source| PdfError::Font {
                name: name.clone(),
                source,
            })?;
        let parsed = ttf_parser::Face::parse(&subset.data, 0)
            .map_err(|_| PdfError::FontReadBack { name: name.clone() })?;
        let upm = f64::from(parsed.units_per_em().max(1));
        let italic_angle = parsed.italic_angle();
        let bbox = parsed.global_bounding_box();
        let weight = parsed.weight().to_number();
        let mut flags = 1 << 5; // non-symbolic: Latin text
        if italic_angle != 0.0 || parsed.is_italic() {
            flags |= 1 << 6;
        }
        if parsed.is_monospaced() {
            flags |= 1;
        }
        let metrics = FontMetrics {
            ascent: scale(f64::from(parsed.ascender()), upm),
            descent: scale(f64::from(parsed.descender()), upm),
            cap_height: scale(
                f64::from(parsed.capital_height().unwrap_or(parsed.ascender())),
                upm,
            ),
            bbox: [
                scale(f64::from(bbox.x_min), upm),
                scale(f64::from(bbox.y_min), upm),
                scale(f64::from(bbox.x_max), upm),
                scale(f64::from(bbox.y_max), upm),
            ],
            italic_angle,
            flags,
            // No table holds the stem width; this is the usual estimate from the weight.
            stem_v: 50 + (f64::from(weight) / 65.0).powi(2).round() as i64,
        };
        let cff = subset.data.starts_with(b"OTTO");
        let base_font = format!(
            "{}+{}",
            subset_tag(&subset.data),
            ps_name(&name, self.index)
        );
        let mut dict = Dictionary::new();
        if cff {
            dict.set("Subtype", "OpenType");
        } else {
            dict.set("Length1", subset.data.len() as i64);
        }
        let mut program = Stream::new(dict, subset.data);
        compress_stream(z, &mut program);
        Ok(FontFile {
            base_font,
            program,
            cff,
            metrics,
        })
    }
}

/// Six capital letters from a hash of the subset: stable across runs, and different
/// subsets of one face get different tags as the spec wants.
fn subset_tag(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// A PostScript name: printable ASCII without delimiters, spaces or `+`.
fn ps_name(name: &str, index: usize) -> String {
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(50)
        .collect();
    if clean.is_empty() {
        format!("Font{index}")
    } else {
        clean
    }
}

/// The Type0 font, its CIDFontType2 (or CIDFontType0 for CFF) descendant, descriptor,
/// program and ToUnicode; returns the Type0 font's id.
fn add_font(lo: &mut Document, font: &FontRes, file: FontFile) -> ObjectId {
    let name = || Object::Name(file.base_font.clone().into_bytes());
    let (subtype, file_key) = if file.cff {
        ("CIDFontType0", "FontFile3")
    } else {
        ("CIDFontType2", "FontFile2")
    };
    let program = lo.add_object(file.program);
    let m = &file.metrics;
    let descriptor = lo.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"FontDescriptor".to_vec())),
        ("FontName", name()),
        ("Flags", m.flags.into()),
        (
            "FontBBox",
            Object::Array(m.bbox.iter().map(|&v| v.into()).collect()),
        ),
        ("ItalicAngle", Object::Real(m.italic_angle)),
        ("Ascent", m.ascent.into()),
        ("Descent", m.descent.into()),
        ("CapHeight", m.cap_height.into()),
        ("StemV", m.stem_v.into()),
        (file_key, program.into()),
    ]));

    let by_cid: BTreeMap<u16, (i64, Option<&String>)> = font
        .glyphs
        .iter()
        .map(|(gid, &(cid, width))| (cid, (width, font.text_of.get(gid))))
        .collect();
    let mut cid_font = Dictionary::from_iter([
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(subtype.as_bytes().to_vec())),
        ("BaseFont", name()),
        (
            "CIDSystemInfo",
            Dictionary::from_iter([
                ("Registry", Object::string_literal("Adobe")),
                ("Ordering", Object::string_literal("Identity")),
                ("Supplement", 0.into()),
            ])
            .into(),
        ),
        ("FontDescriptor", descriptor.into()),
        ("W", widths_array(&by_cid)),
    ]);
    if !file.cff {
        cid_font.set("CIDToGIDMap", "Identity");
    }
    let cid_font = lo.add_object(cid_font);
    let to_unicode = lo.add_object(Stream::new(
        Dictionary::new(),
        to_unicode_cmap(&by_cid).into_bytes(),
    ));
    lo.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"Type0".to_vec())),
        ("BaseFont", name()),
        ("Encoding", Object::Name(b"Identity-H".to_vec())),
        ("DescendantFonts", Object::Array(vec![cid_font.into()])),
        ("ToUnicode", to_unicode.into()),
    ]))
}

/// `/W` with one `first [w1 w2 …]` group per run of consecutive CIDs.
fn widths_array(by_cid: &BTreeMap<u16, (i64, Option<&String>)>) -> Object {
    let mut out = Vec::new();
    let mut group: Vec<Object> = Vec::new();
    let mut first = 0u16;
    let mut last: Option<u16> = None;
    for (&cid, &(width, _)) in by_cid {
        if last.is_some_and(|l| u32::from(l) + 1 != u32::from(cid)) {
            out.push(i64::from(first).into());
            out.push(Object::Array(std::mem::take(&mut group)));
        }
        if group.is_empty() {
            first = cid;
        }
        group.push(width.into());
        last = Some(cid);
    }
    if !group.is_empty() {
        out.push(i64::from(first).into());
        out.push(Object::Array(group));
    }
    Object::Array(out)
}

/// A ToUnicode CMap: each code to its glyph's text, UTF-16BE; glyphs without text are left
/// out rather than mapped to something invented.
fn to_unicode_cmap(by_cid: &BTreeMap<u16, (i64, Option<&String>)>) -> String {
    let entries: Vec<(u16, &String)> = by_cid
        .iter()
        .filter_map(|(&cid, &(_, text))| text.map(|t| (cid, t)))
        .collect();
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // The spec caps each bfchar block at 100 entries.
    for chunk in entries.chunks(100) {
        s.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (cid, text) in chunk {
            let hex: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            s.push_str(&format!("<{cid:04X}> <{hex}>\n"));
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

// ---------------------------------------------------------------------------------------
// Page content

/// What the content stream currently has set, to avoid repeating operators.
#[derive(Default)]
struct GraphicsState {
    in_text: bool,
    font: Option<(usize, f32)>,
    fill: Option<Rgb>,
    stroke: Option<Rgb>,
    line_width: Option<f32>,
}

impl GraphicsState {
    fn end_text(&mut self, ops: &mut Vec<Op>) {
        if self.in_text {
            ops.push(Op::EndTextSection);
            self.in_text = false;
        }
    }

    fn fill(&mut self, ops: &mut Vec<Op>, color: Rgb) {
        if self.fill != Some(color) {
            ops.push(Op::SetFillColor { col: rgb(color) });
            self.fill = Some(color);
        }
    }
}

fn rgb(c: Rgb) -> Color {
    // Three decimals still round-trip every 8-bit value.
    let channel = |v: u8| (f32::from(v) / 255.0 * 1000.0).round() / 1000.0;
    Color::Rgb(printpdf::Rgb {
        r: channel(c[0]),
        g: channel(c[1]),
        b: channel(c[2]),
        icc_profile: None,
    })
}

/// Rounds to 1/1000 pt: far below any visible difference, and keeps the streams short.
fn r3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

fn finite(values: &[f32]) -> bool {
    values.iter().all(|v| v.is_finite())
}

fn page_ops(
    index: usize,
    page: &Page,
    fonts: &[Option<FontRes>],
    images: &Images,
    warnings: &mut Vec<String>,
) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut gs = GraphicsState::default();
    let h = page.height;
    let mut skipped = 0usize;
    for item in &page.items {
        match item {
            Item::Glyphs(run) => {
                let Some(Some(font)) = fonts.get(run.face) else {
                    continue;
                };
                if run.glyphs.is_empty() {
                    continue;
                }
                let offsets = run
                    .glyphs
                    .iter()
                    .flat_map(|g| [g.advance, g.x_offset, g.y_offset]);
                if !finite(&[run.x, run.y, run.size])
                    || run.size <= 0.0
                    || offsets.clone().any(|v| !v.is_finite())
                {
                    skipped += 1;
                    continue;
                }
                glyph_run_ops(&mut ops, &mut gs, run, font, h);
            }
            Item::Line {
                x1,
                y1,
                x2,
                y2,
                thickness,
                color,
            } => {
                if !finite(&[*x1, *y1, *x2, *y2, *thickness]) {
                    skipped += 1;
                    continue;
                }
                gs.end_text(&mut ops);
                if gs.stroke != Some(*color) {
                    ops.push(Op::SetOutlineColor { col: rgb(*color) });
                    gs.stroke = Some(*color);
                }
                let width = r3(thickness.max(0.0));
                if gs.line_width != Some(width) {
                    ops.push(Op::SetOutlineThickness { pt: Pt(width) });
                    gs.line_width = Some(width);
                }
                let point = |x: f32, y: f32| LinePoint {
                    p: Point {
                        x: Pt(r3(x)),
                        y: Pt(r3(h - y)),
                    },
                    bezier: false,
                };
                ops.push(Op::DrawLine {
                    line: Line {
                        points: vec![point(*x1, *y1), point(*x2, *y2)],
                        is_closed: false,
                    },
                });
            }
            Item::Rect {
                x,
                y,
                width,
                height,
                color,
            } => {
                if !finite(&[*x, *y, *width, *height]) {
                    skipped += 1;
                    continue;
                }
                gs.end_text(&mut ops);
                gs.fill(&mut ops, *color);
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(r3(*x)),
                        y: Pt(r3(h - y - height)),
                        width: Pt(r3(*width)),
                        height: Pt(r3(*height)),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
            Item::Image {
                asset,
                x,
                y,
                width,
                height,
            } => {
                if !finite(&[*x, *y, *width, *height]) {
                    skipped += 1;
                    continue;
                }
                // Prepared (or warned about) before the pages were drawn.
                let Some(name) = images.name(*asset) else {
                    continue;
                };
                gs.end_text(&mut ops);
                ops.push(Op::UseXobject {
                    id: XObjectId(name),
                    // The image space is the unit square: scale it to the box, then move it.
                    transform: XObjectTransform {
                        translate_x: Some(Pt(r3(*x))),
                        translate_y: Some(Pt(r3(h - y - height))),
                        scale_x: Some(r3(*width)),
                        scale_y: Some(r3(*height)),
                        no_auto_scale: true,
                        ..Default::default()
                    },
                });
            }
            // Annotations and destinations live outside the content stream.
            Item::Link { .. } | Item::Dest { .. } => {}
        }
    }
    gs.end_text(&mut ops);
    if skipped > 0 {
        warnings.push(format!(
            "PDF page {}: {skipped} item(s) with non-finite coordinates left out",
            index + 1
        ));
    }
    ops
}

/// Emits one glyph run as absolutely placed TJ arrays.
///
/// Each glyph goes where the layout put it: the TJ number before it is the distance between
/// where the viewer's pen is (after the `/W` advances and numbers so far) and where the
/// glyph belongs, so kerning, justification and letter-spacing survive and rounding never
/// accumulates along a line. A new text matrix starts wherever the baseline shifts
/// (`y_offset`, for marks); clusters whose ToUnicode text differs from the layout's text are
/// wrapped in an `/ActualText` span.
fn glyph_run_ops(
    ops: &mut Vec<Op>,
    gs: &mut GraphicsState,
    run: &GlyphRun,
    font: &FontRes,
    page_h: f32,
) {
    gs.fill(ops, run.color);
    if !gs.in_text {
        ops.push(Op::StartTextSection);
        gs.in_text = true;
    }
    if gs.font != Some((run.face, run.size)) {
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(printpdf::FontId(font.resource.clone())),
            size: Pt(run.size),
        });
        gs.font = Some((run.face, run.size));
    }

    let size = f64::from(run.size);
    let mut items: Vec<TextItem> = Vec::new();
    // Text-space origin of the current matrix (pt) and the pen relative to it (1/1000 em).
    let mut origin: Option<(f64, f32)> = None;
    let mut pen = 0.0f64;
    let mut pen_x = f64::from(run.x);

    for cluster in clusters(run) {
        let actual = needs_actual_text(cluster, font);
        if actual {
            let text: String = cluster.iter().map(|g| g.text.as_str()).collect();
            flush_text(ops, &mut items);
            ops.push(Op::BeginMarkedContentWithProperties {
                tag: "Span".into(),
                properties: DictItem::Dict {
                    map: BTreeMap::from([(
                        "ActualText".to_string(),
                        DictItem::String {
                            data: utf16_text(&text),
                            literal: false,
                        },
                    )]),
                },
            });
        }
        for g in cluster {
            let x = pen_x + f64::from(g.x_offset);
            let baseline = r3(page_h - run.y + g.y_offset);
            let (x0, _) = match origin {
                Some((x0, y0)) if y0 == baseline => (x0, y0),
                _ => {
                    flush_text(ops, &mut items);
                    let x0 = f64::from(r3(x as f32));
                    ops.push(Op::SetTextMatrix {
                        matrix: TextMatrix::Translate(Pt(x0 as f32), Pt(baseline)),
                    });
                    origin = Some((x0, baseline));
                    pen = 0.0;
                    (x0, baseline)
                }
            };
            let target = (x - x0) * 1000.0 / size;
            // TJ numbers move the pen left, hence pen − target; 1/100 000 em is plenty.
            // The pen follows the f32 actually written, so nothing drifts.
            let kern = (((pen - target) * 100.0).round() / 100.0) as f32;
            if kern != 0.0 {
                match items.last_mut() {
                    Some(TextItem::GlyphIds(glyphs)) if !glyphs.is_empty() => {
                        if let Some(last) = glyphs.last_mut() {
                            last.offset = kern;
                        }
                    }
                    _ => items.push(TextItem::Offset(kern)),
                }
                pen -= f64::from(kern);
            }
            let (cid, width) = font.glyphs.get(&g.id).copied().unwrap_or((0, 0));
            match items.last_mut() {
                Some(TextItem::GlyphIds(glyphs)) => glyphs.push(Codepoint::new(cid, 0.0)),
                _ => items.push(TextItem::GlyphIds(vec![Codepoint::new(cid, 0.0)])),
            }
            pen += width as f64;
            pen_x += f64::from(g.advance);
        }
        if actual {
            flush_text(ops, &mut items);
            ops.push(Op::EndMarkedContent);
        }
    }
    flush_text(ops, &mut items);
}

/// Whether ToUnicode would give other text for `cluster` than the layout's.
fn needs_actual_text(cluster: &[PositionedGlyph], font: &FontRes) -> bool {
    let mapped = |g: &PositionedGlyph| font.text_of.get(&g.id).map_or("", String::as_str);
    match cluster {
        [g] => mapped(g) != g.text,
        _ => !cluster
            .iter()
            .flat_map(|g| mapped(g).chars())
            .eq(cluster.iter().flat_map(|g| g.text.chars())),
    }
}

fn flush_text(ops: &mut Vec<Op>, items: &mut Vec<TextItem>) {
    if !items.is_empty() {
        ops.push(Op::ShowText {
            items: std::mem::take(items),
        });
    }
}

/// Splits a run into clusters: a glyph with text plus the empty-text glyphs after it.
fn clusters(run: &GlyphRun) -> Vec<&[PositionedGlyph]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, g) in run.glyphs.iter().enumerate() {
        if i > start && !g.text.is_empty() {
            out.push(&run.glyphs[start..i]);
            start = i;
        }
    }
    if start < run.glyphs.len() {
        out.push(&run.glyphs[start..]);
    }
    out
}

/// A PDF text string in UTF-16BE with its byte-order mark.
fn utf16_text(s: &str) -> Vec<u8> {
    let mut out = vec![0xFE, 0xFF];
    out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
    out
}

/// A PDF text string: plain bytes when ASCII (PDFDocEncoding agrees), UTF-16BE otherwise.
fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        Object::string_literal(s)
    } else {
        Object::String(utf16_text(s), StringFormat::Hexadecimal)
    }
}

// ---------------------------------------------------------------------------------------
// Images

/// An image ready to become an XObject: its stream and, for transparency, its soft mask.
struct PreparedImage {
    name: String,
    image: Stream,
    smask: Option<Stream>,
}

/// The document's images, each prepared once, in order of first use.
struct Images {
    names: HashMap<usize, String>,
    prepared: Vec<PreparedImage>,
}

impl Images {
    /// Prepares the assets `used` (indices into `assets`, in order of first use); those
    /// that cannot be drawn are left out with a warning. Decoding (or, for a PNG going in
    /// as it is, checking its data) is the slow part, so two or more images other than
    /// JPEGs, which mostly go in as they are, are prepared on all cores; the results keep
    /// their order.
    fn prepare(assets: &[Asset], used: &[usize], warnings: &mut Vec<String>) -> Images {
        let prepare_one = |&index: &usize| match assets.get(index) {
            None => Err(format!("image #{index} is not among the document's assets")),
            Some(asset) => prepare_image(asset).map_err(|why| format!("image #{index} {why}")),
        };
        let decoded = used
            .iter()
            .filter(|&&i| assets.get(i).is_some_and(|a| a.media_type != "image/jpeg"))
            .count();
        let results = map_in_order(used, decoded > 1, prepare_one);
        let mut images = Images {
            names: HashMap::new(),
            prepared: Vec::with_capacity(used.len()),
        };
        for (&index, result) in used.iter().zip(results) {
            match result {
                Ok((image, smask)) => {
                    let name = format!("GI{index}");
                    images.names.insert(index, name.clone());
                    images.prepared.push(PreparedImage { name, image, smask });
                }
                Err(why) => warnings.push(format!("PDF: {why}; left out")),
            }
        }
        images
    }

    /// The XObject name of image `index`, if it could be prepared.
    fn name(&self, index: usize) -> Option<String> {
        self.names.get(&index).cloned()
    }
}

fn image_dict(width: u32, height: u32, color_space: &str) -> Dictionary {
    Dictionary::from_iter([
        ("Type", Object::Name(b"XObject".to_vec())),
        ("Subtype", Object::Name(b"Image".to_vec())),
        ("Width", i64::from(width).into()),
        ("Height", i64::from(height).into()),
        ("ColorSpace", Object::Name(color_space.as_bytes().to_vec())),
        ("BitsPerComponent", 8.into()),
    ])
}

/// `pixels` as an image stream, Flate-compressed here, as each image is prepared on all
/// cores, rather than in the final pass: the same bytes, in two thirds of the time for a
/// post with a dozen charts. Left unfiltered if compressing does not make it smaller.
fn pixel_stream(dict: Dictionary, pixels: Vec<u8>) -> Stream {
    let mut stream = Stream::new(dict, pixels);
    let mut z = new_compressor();
    compress_stream(&mut z, &mut stream);
    stream
}

fn prepare_image(asset: &Asset) -> Result<(Stream, Option<Stream>), String> {
    let format = match asset.media_type {
        "image/jpeg" => {
            if let Some(stream) = jpeg_passthrough(&asset.data) {
                return Ok((stream, None));
            }
            image::ImageFormat::Jpeg
        }
        "image/png" => {
            if let Some(stream) = png_passthrough(&asset.data) {
                return Ok((stream, None));
            }
            image::ImageFormat::Png
        }
        "image/gif" => image::ImageFormat::Gif,
        other => return Err(format!("is {other}, which the PDF writer cannot draw")),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(&asset.data), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_DIMENSION);
    limits.max_image_height = Some(MAX_IMAGE_DIMENSION);
    limits.max_alloc = Some(MAX_IMAGE_ALLOC);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("cannot be decoded ({e})"))?;
    let (w, h) = (img.width(), img.height());
    let color = img.color();
    // Streams are left unfiltered here: the final pass Flate-compresses every stream that
    // has no filter yet.
    let (pixels, alpha, space) = if color.has_color() {
        if color.has_alpha() {
            let (rgb, alpha) = split_alpha::<4>(&img.into_rgba8().into_raw());
            (rgb, alpha, "DeviceRGB")
        } else {
            (img.into_rgb8().into_raw(), None, "DeviceRGB")
        }
    } else if color.has_alpha() {
        let (gray, alpha) = split_alpha::<2>(&img.into_luma_alpha8().into_raw());
        (gray, alpha, "DeviceGray")
    } else {
        (img.into_luma8().into_raw(), None, "DeviceGray")
    };
    let smask = alpha.map(|a| pixel_stream(image_dict(w, h, "DeviceGray"), a));
    Ok((pixel_stream(image_dict(w, h, space), pixels), smask))
}

/// Pixels of `N` channels, the last alpha, as the colour channels and, unless every pixel
/// is opaque, the alpha channel. Written as plain loops over exact sizes: collecting a
/// `flat_map` pushed byte by byte and was a sixth of the time of a PDF with a dozen charts.
fn split_alpha<const N: usize>(pixels: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let count = pixels.len() / N;
    let mut colour = vec![0; count * (N - 1)];
    for (to, from) in colour.chunks_exact_mut(N - 1).zip(pixels.chunks_exact(N)) {
        to.copy_from_slice(&from[..N - 1]);
    }
    let opaque = pixels.chunks_exact(N).all(|p| p[N - 1] == 255);
    let alpha = (!opaque).then(|| pixels.chunks_exact(N).map(|p| p[N - 1]).collect());
    (colour, alpha)
}

/// PNG data as a FlateDecode stream with PNG predictors, its compressed pixels unchanged,
/// when a PDF reader can take them as they are: not interlaced, and no transparency (an
/// alpha channel or a `tRNS` chunk would need a separate soft mask). Grey, RGB and
/// palette images qualify, at any bit depth PNG allows them. Decoding, splitting and
/// compressing again cost most of the time of a PDF with a few screenshots. The data is
/// inflated once to check it: damaged data gives `None`, and the caller's decoder says why.
fn png_passthrough(data: &[u8]) -> Option<Stream> {
    let png = png_parts(data)?;
    let (colors, space): (u8, Object) = match (png.color_type, png.depth) {
        (0, 1 | 2 | 4 | 8 | 16) => (1, Object::Name(b"DeviceGray".to_vec())),
        (2, 8 | 16) => (3, Object::Name(b"DeviceRGB".to_vec())),
        (3, 1 | 2 | 4 | 8) => {
            let palette = png.palette?;
            let entries = palette.len() / 3;
            if palette.len() % 3 != 0 || !(1..=256).contains(&entries) {
                return None;
            }
            let hival = i64::try_from(entries - 1).ok()?;
            let indexed = vec![
                Object::Name(b"Indexed".to_vec()),
                Object::Name(b"DeviceRGB".to_vec()),
                hival.into(),
                Object::String(palette, StringFormat::Hexadecimal),
            ];
            (1, Object::Array(indexed))
        }
        _ => return None,
    };
    if png.interlaced || png.transparency {
        return None;
    }
    let row_bits = u64::from(png.width) * u64::from(colors) * u64::from(png.depth);
    let expected = (row_bits.div_ceil(8) + 1) * u64::from(png.height);
    if inflated_len(&png.idat)? != expected {
        return None;
    }
    let mut dict = image_dict(png.width, png.height, "DeviceGray");
    dict.set("ColorSpace", space);
    dict.set("BitsPerComponent", i64::from(png.depth));
    dict.set("Filter", "FlateDecode");
    dict.set(
        "DecodeParms",
        Dictionary::from_iter([
            ("Predictor", Object::Integer(15)),
            ("Colors", Object::Integer(i64::from(colors))),
            ("BitsPerComponent", Object::Integer(i64::from(png.depth))),
            ("Columns", Object::Integer(i64::from(png.width))),
        ]),
    );
    Some(Stream::new(dict, png.idat).with_compression(false))
}

/// What [`png_passthrough`] needs from a PNG file.
struct PngParts {
    width: u32,
    height: u32,
    depth: u8,
    color_type: u8,
    interlaced: bool,
    transparency: bool,
    palette: Option<Vec<u8>>,
    /// The `IDAT` chunks' contents, joined: one zlib stream.
    idat: Vec<u8>,
}

/// The header, palette and joined image data of a PNG; `None` if the chunk structure or a
/// checksum is wrong.
fn png_parts(data: &[u8]) -> Option<PngParts> {
    let mut rest = data.strip_prefix(b"\x89PNG\r\n\x1a\n")?;
    let mut header = None;
    let (mut palette, mut transparency, mut idat) = (None, false, Vec::new());
    loop {
        let len = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
        let kind_and_body = rest.get(4..8 + len)?;
        let crc = u32::from_be_bytes(rest.get(8 + len..12 + len)?.try_into().ok()?);
        if crc32fast::hash(kind_and_body) != crc {
            return None;
        }
        let (kind, body) = kind_and_body.split_at(4);
        match kind {
            b"IHDR" if body.len() == 13 => {
                let width = u32::from_be_bytes(body[..4].try_into().ok()?);
                let height = u32::from_be_bytes(body[4..8].try_into().ok()?);
                // Compression and filter method 0 are the only ones defined.
                if body[10] != 0 || body[11] != 0 || width == 0 || height == 0 {
                    return None;
                }
                header = Some((width, height, body[8], body[9], body[12] != 0));
            }
            b"PLTE" => palette = Some(body.to_vec()),
            b"tRNS" => transparency = true,
            b"IDAT" => idat.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        rest = rest.get(12 + len..)?;
    }
    let (width, height, depth, color_type, interlaced) = header?;
    Some(PngParts {
        width,
        height,
        depth,
        color_type,
        interlaced,
        transparency,
        palette,
        idat,
    })
}

/// How many bytes the zlib stream `data` inflates to; `None` if it is damaged or does not
/// end. The output goes through a small buffer and is dropped.
fn inflated_len(data: &[u8]) -> Option<u64> {
    use flate2::{Decompress, FlushDecompress, Status};

    let mut z = Decompress::new(true);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let before_in = z.total_in();
        let before_out = z.total_out();
        let at = usize::try_from(z.total_in()).ok()?;
        let status = z
            .decompress(data.get(at..)?, &mut buf, FlushDecompress::None)
            .ok()?;
        match status {
            Status::StreamEnd => return Some(z.total_out()),
            _ if z.total_in() == before_in && z.total_out() == before_out => return None,
            _ => {}
        }
    }
}

/// JPEG data as a DCTDecode stream, unchanged, when a PDF reader can take it as it is:
/// 8-bit baseline or progressive Huffman with 1, 3 or 4 components.
fn jpeg_passthrough(data: &[u8]) -> Option<Stream> {
    let info = jpeg_info(data)?;
    let space = match info.components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        _ => return None,
    };
    let mut dict = image_dict(u32::from(info.width), u32::from(info.height), space);
    dict.set("Filter", "DCTDecode");
    if info.components == 4 && info.adobe {
        // Adobe applications write CMYK JPEGs inverted and flag them with an APP14 marker.
        dict.set(
            "Decode",
            Object::Array(
                [1, 0, 1, 0, 1, 0, 1, 0]
                    .into_iter()
                    .map(Object::from)
                    .collect(),
            ),
        );
    }
    Some(Stream::new(dict, data.to_vec()).with_compression(false))
}

struct JpegInfo {
    width: u16,
    height: u16,
    components: u8,
    adobe: bool,
}

/// Reads the frame header (and whether an Adobe APP14 marker precedes it).
fn jpeg_info(data: &[u8]) -> Option<JpegInfo> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    let mut adobe = false;
    loop {
        if *data.get(pos)? != 0xFF {
            return None;
        }
        let marker = *data.get(pos + 1)?;
        pos += 2;
        match marker {
            0xFF => {
                pos -= 1; // fill byte
                continue;
            }
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return None, // end of image or scan data before any frame header
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*data.get(pos)?, *data.get(pos + 1)?]));
        let segment = data.get(pos + 2..pos + len)?;
        match marker {
            0xEE if segment.starts_with(b"Adobe") => adobe = true,
            // Baseline, extended sequential and progressive Huffman frames.
            0xC0..=0xC2 => {
                let [precision, h1, h0, w1, w0, components, ..] = *segment else {
                    return None;
                };
                let height = u16::from_be_bytes([h1, h0]);
                let width = u16::from_be_bytes([w1, w0]);
                return (precision == 8 && width > 0 && height > 0).then_some(JpegInfo {
                    width,
                    height,
                    components,
                    adobe,
                });
            }
            // Lossless, arithmetic-coded and other frames: decode instead.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            _ => {}
        }
        pos += len;
    }
}

// ---------------------------------------------------------------------------------------
// Document structure

fn add_resources(
    lo: &mut Document,
    page_ids: &[ObjectId],
    fonts: &[Option<FontRes>],
    files: Vec<(usize, FontFile)>,
    images: &[PreparedImage],
) -> Result<(), PdfError> {
    let mut font_dict = Dictionary::new();
    for (index, file) in files {
        if let Some(Some(font)) = fonts.get(index) {
            let id = add_font(lo, font, file);
            font_dict.set(font.resource.clone(), id);
        }
    }
    let mut xobjects = Dictionary::new();
    for img in images {
        let mut image = img.image.clone();
        if let Some(mask) = &img.smask {
            let mask_id = lo.add_object(mask.clone());
            image.dict.set("SMask", mask_id);
        }
        let id = lo.add_object(image);
        xobjects.set(img.name.clone(), id);
    }
    // One resource dictionary for every page: printpdf's also lists empty ExtGState and
    // Shading dictionaries, which the final prune drops with it.
    let mut resources = Dictionary::new();
    if !font_dict.is_empty() {
        resources.set("Font", font_dict);
    }
    if !xobjects.is_empty() {
        resources.set("XObject", xobjects);
    }
    let resources = lo.add_object(resources);
    for &id in page_ids {
        page_dict(lo, id)?.set("Resources", resources);
    }
    Ok(())
}

fn page_dict(lo: &mut Document, id: ObjectId) -> Result<&mut Dictionary, PdfError> {
    lo.get_dictionary_mut(id)
        .map_err(|e| PdfError::Write(format!("page object: {e}")))
}

/// `[page /XYZ 0 top null]`: the top of the target at the top of the window, zoom kept.
fn xyz(page: ObjectId, top: f32) -> Object {
    Object::Array(vec![
        page.into(),
        Object::Name(b"XYZ".to_vec()),
        0.into(),
        Object::Real(r3(top)),
        Object::Null,
    ])
}

/// Named destinations by name (byte order, as the name tree needs).
fn destinations(
    doc: &LaidOut,
    page_ids: &[ObjectId],
    warnings: &mut Vec<String>,
) -> BTreeMap<Vec<u8>, Object> {
    let mut dests = BTreeMap::new();
    for (page, &id) in doc.pages.iter().zip(page_ids) {
        for item in &page.items {
            if let Item::Dest { name, y } = item {
                let top = if y.is_finite() {
                    (page.height - y).clamp(0.0, page.height)
                } else {
                    page.height
                };
                // The first wins, as with duplicate ids in HTML (and so in the EPUB).
                match dests.entry(name.as_bytes().to_vec()) {
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(xyz(id, top));
                    }
                    std::collections::btree_map::Entry::Occupied(_) => warnings.push(format!(
                        "PDF: destination '{name}' is defined twice; links go to the first"
                    )),
                }
            }
        }
    }
    dests
}

fn add_links(
    lo: &mut Document,
    doc: &LaidOut,
    page_ids: &[ObjectId],
    dests: &BTreeMap<Vec<u8>, Object>,
    warnings: &mut Vec<String>,
) -> Result<(), PdfError> {
    for (page, &page_id) in doc.pages.iter().zip(page_ids) {
        let mut annots = Vec::new();
        for item in &page.items {
            let Item::Link {
                x,
                y,
                width,
                height,
                target,
            } = item
            else {
                continue;
            };
            if !finite(&[*x, *y, *width, *height]) {
                continue;
            }
            let action = match target {
                LinkTarget::Uri(uri) => Dictionary::from_iter([
                    ("S", Object::Name(b"URI".to_vec())),
                    ("URI", Object::string_literal(ascii_uri(uri))),
                ]),
                LinkTarget::Internal(name) => {
                    if !dests.contains_key(name.as_bytes()) {
                        warnings.push(format!(
                            "PDF: link to unknown destination '{name}' left out"
                        ));
                        continue;
                    }
                    Dictionary::from_iter([
                        ("S", Object::Name(b"GoTo".to_vec())),
                        ("D", Object::string_literal(name.as_bytes().to_vec())),
                    ])
                }
            };
            let h = page.height;
            let annot = Dictionary::from_iter([
                ("Type", Object::Name(b"Annot".to_vec())),
                ("Subtype", Object::Name(b"Link".to_vec())),
                (
                    "Rect",
                    Object::Array(
                        [*x, h - y - height, x + width, h - y]
                            .into_iter()
                            .map(|v| Object::Real(r3(v)))
                            .collect(),
                    ),
                ),
                ("Border", Object::Array(vec![0.into(), 0.into(), 0.into()])),
                ("P", page_id.into()),
                ("A", action.into()),
            ]);
            annots.push(Object::Reference(lo.add_object(annot)));
        }
        let dict = page_dict(lo, page_id)?;
        if annots.is_empty() {
            dict.remove(b"Annots");
        } else {
            dict.set("Annots", annots);
        }
    }
    Ok(())
}

/// URIs must be 7-bit ASCII in PDF: percent-encode everything else.
fn ascii_uri(uri: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(uri.len());
    for &b in uri.as_bytes() {
        if b.is_ascii_graphic() {
            out.push(b);
        } else {
            out.extend(format!("%{b:02X}").bytes());
        }
    }
    out
}

/// Builds the outline tree under a new `/Outlines` root, which it returns.
fn add_outline(
    lo: &mut Document,
    entries: &[OutlineEntry],
    doc: &LaidOut,
    page_ids: &[ObjectId],
    warnings: &mut Vec<String>,
) -> Option<ObjectId> {
    if entries.is_empty() {
        return None;
    }
    let root = lo.new_object_id();
    let (first, last, visible) = outline_level(lo, root, entries, 0, doc, page_ids, warnings);
    lo.objects.insert(
        root,
        Dictionary::from_iter([
            ("Type", Object::Name(b"Outlines".to_vec())),
            ("First", first.into()),
            ("Last", last.into()),
            ("Count", visible.into()),
        ])
        .into(),
    );
    Some(root)
}

/// Writes one level of siblings under `parent`; returns first, last and how many entries
/// of this level and below are visible. Top-level entries start open, deeper ones closed,
/// so a book shows its articles and an article its sections.
fn outline_level(
    lo: &mut Document,
    parent: ObjectId,
    entries: &[OutlineEntry],
    depth: usize,
    doc: &LaidOut,
    page_ids: &[ObjectId],
    warnings: &mut Vec<String>,
) -> (ObjectId, ObjectId, i64) {
    let ids: Vec<ObjectId> = entries.iter().map(|_| lo.new_object_id()).collect();
    let mut visible = 0i64;
    for (i, entry) in entries.iter().enumerate() {
        let page = if entry.page < page_ids.len() {
            entry.page
        } else {
            warnings.push(format!(
                "PDF: outline entry '{}' points past the last page; it goes to the last page",
                entry.title
            ));
            page_ids.len() - 1
        };
        let height = doc.pages[page].height;
        let top = if entry.y.is_finite() {
            (height - entry.y).clamp(0.0, height)
        } else {
            height
        };
        let mut dict = Dictionary::from_iter([
            ("Title", text_string(&entry.title)),
            ("Parent", parent.into()),
            ("Dest", xyz(page_ids[page], top)),
        ]);
        if i > 0 {
            dict.set("Prev", ids[i - 1]);
        }
        if i + 1 < ids.len() {
            dict.set("Next", ids[i + 1]);
        }
        visible += 1;
        if !entry.children.is_empty() {
            let (first, last, below) = outline_level(
                lo,
                ids[i],
                &entry.children,
                depth + 1,
                doc,
                page_ids,
                warnings,
            );
            dict.set("First", first);
            dict.set("Last", last);
            if depth == 0 {
                dict.set("Count", below);
                visible += below;
            } else {
                dict.set("Count", -(entry.children.len() as i64));
            }
        }
        lo.objects.insert(ids[i], dict.into());
    }
    (ids[0], ids[ids.len() - 1], visible)
}

fn finish_catalog(
    lo: &mut Document,
    dests: &BTreeMap<Vec<u8>, Object>,
    outline: Option<ObjectId>,
    info: &PdfInfo,
) -> Result<(), PdfError> {
    let names = (!dests.is_empty()).then(|| {
        let flat = dests
            .iter()
            .flat_map(|(name, dest)| [Object::string_literal(name.clone()), dest.clone()])
            .collect::<Vec<_>>();
        let tree = lo.add_object(Dictionary::from_iter([("Names", Object::Array(flat))]));
        Dictionary::from_iter([("Dests", Object::Reference(tree))])
    });
    let catalog = lo
        .catalog_mut()
        .map_err(|e| PdfError::Write(format!("catalog: {e}")))?;
    catalog.remove(b"PageMode");
    if let Some(root) = outline {
        catalog.set("Outlines", root);
        // A name: printpdf writes a string here, which viewers ignore.
        catalog.set("PageMode", "UseOutlines");
    }
    if let Some(names) = names {
        catalog.set("Names", names);
    }
    if !info.language.is_empty() {
        catalog.set("Lang", text_string(info.language));
    }
    catalog.set(
        "ViewerPreferences",
        Dictionary::from_iter([("DisplayDocTitle", Object::Boolean(true))]),
    );
    Ok(())
}

fn info_dict(info: &PdfInfo, warnings: &mut Vec<String>) -> Dictionary {
    let mut dict = Dictionary::new();
    if !info.title.is_empty() {
        dict.set("Title", text_string(info.title));
    }
    if !info.authors.is_empty() {
        dict.set("Author", text_string(&info.authors.join(", ")));
    }
    if let Some(subject) = info.subject.filter(|s| !s.is_empty()) {
        dict.set("Subject", text_string(subject));
    }
    if !info.keywords.is_empty() {
        dict.set("Keywords", text_string(&info.keywords.join(", ")));
    }
    dict.set("Creator", Object::string_literal("galley"));
    dict.set("Producer", Object::string_literal("galley"));
    let date = pdf_date(info.created).unwrap_or_else(|| {
        warnings.push(format!(
            "PDF: creation time {} is out of range; using 1970-01-01",
            info.created
        ));
        "D:19700101000000Z".to_string()
    });
    dict.set("CreationDate", Object::string_literal(date.clone()));
    dict.set("ModDate", Object::string_literal(date));
    dict
}

/// `D:YYYYMMDDHHmmSSZ` in UTC, for years 1–9999.
fn pdf_date(secs: i64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp(secs, 0)?.naive_utc();
    (1..=9999).contains(&t.year()).then(|| {
        format!(
            "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    })
}

/// Prunes, renumbers and compresses, then writes the file with a trailer `/ID` hashed from
/// its own bytes (with the id zeroed), so identical documents get identical ids.
fn save(mut lo: Document, parallel: bool) -> Result<Vec<u8>, PdfError> {
    lo.version = "1.7".into();
    lo.trailer.remove(b"ID");
    super::pdf_tidy::prune_and_renumber(&mut lo);
    compress_streams(&mut lo, parallel);
    let placeholder = Object::String(vec![0; 16], StringFormat::Hexadecimal);
    lo.trailer
        .set("ID", Object::Array(vec![placeholder.clone(), placeholder]));
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    // Patch the id in place rather than writing the whole file a second time.
    let digest = Sha256::digest(&out);
    let zeros = format!("<{}>", "0".repeat(32));
    let hex: String = digest[..16].iter().map(|b| format!("{b:02X}")).collect();
    let tail_start = out.len().saturating_sub(4096);
    let mut patched = 0;
    while patched < 2 {
        let Some(at) = find_last(&out[tail_start..], zeros.as_bytes()) else {
            break;
        };
        let at = tail_start + at + 1;
        out[at..at + 32].copy_from_slice(hex.as_bytes());
        patched += 1;
    }
    if patched < 2 {
        return Err(PdfError::Write("trailer /ID not found".into()));
    }
    Ok(out)
}

/// The start of the last occurrence of `needle` in `hay`.
fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Deflate level of the PDF's streams (page contents, font subsets). lopdf's own
/// `compress` uses zlib's slowest level, which took most of the writer's time for a book
/// for a file a percent or two smaller. zlib-rs's level 4 against the default 6: the
/// 675-word sample article 10.5 against 11.9 ms and 1.4% larger, the generated
/// 100,000-word book 6% larger; levels 2-3 were larger still (12-23% on the book).
const STREAM_LEVEL: u32 = 4;

/// A compressor at [`STREAM_LEVEL`] with a zlib header, as PDF's FlateDecode wants.
fn new_compressor() -> flate2::Compress {
    flate2::Compress::new(flate2::Compression::new(STREAM_LEVEL), true)
}

/// Flate-compresses `stream` with `z` (reset first) if that makes it smaller.
fn compress_stream(z: &mut flate2::Compress, stream: &mut Stream) {
    use flate2::{FlushCompress, Status};

    z.reset();
    let mut out = Vec::with_capacity(stream.content.len() / 3 + 64);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
        let rest = stream.content.get(consumed..).unwrap_or_default();
        match z.compress_vec(rest, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => break,
            Ok(_) => out.reserve(out.capacity().max(64)),
            Err(_) => return,
        }
    }
    if out.len() + 19 < stream.content.len() {
        stream.dict.set("Filter", "FlateDecode");
        stream.set_content(out);
    }
}

/// Flate-compresses every unfiltered stream that gets smaller, in parallel.
fn compress_streams(lo: &mut Document, parallel: bool) {
    let mut streams: Vec<&mut Stream> = lo
        .objects
        .values_mut()
        .filter_map(|o| o.as_stream_mut().ok())
        .filter(|s| s.dict.get(b"Filter").is_err())
        .collect();
    // One compressor per thread, reset between streams: setting one up costs as much as
    // compressing a page of text.
    if parallel {
        streams
            .par_iter_mut()
            .for_each_init(new_compressor, |z, s| compress_stream(z, s));
    } else {
        let mut z = new_compressor();
        for s in &mut streams {
            compress_stream(&mut z, s);
        }
    }
}

#[cfg(test)]
mod split_tests {
    use super::split_alpha;

    #[test]
    fn alpha_is_split_off_and_dropped_when_opaque() {
        let rgba = [1, 2, 3, 255, 4, 5, 6, 128];
        assert_eq!(
            split_alpha::<4>(&rgba),
            (vec![1, 2, 3, 4, 5, 6], Some(vec![255, 128]))
        );
        let opaque = [7, 255, 8, 255];
        assert_eq!(split_alpha::<2>(&opaque), (vec![7, 8], None));
        assert_eq!(split_alpha::<4>(&[]), (vec![], None));
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::path::Path;
    use std::process::Command;

    use super::*;
    use crate::layout::page::FaceData;

    const REGULAR: &[u8] = include_bytes!("../../fonts/eb-garamond/EBGaramond-Regular.ttf");
    const ITALIC: &[u8] = include_bytes!("../../fonts/eb-garamond/EBGaramond-Italic.ttf");
    const A5: (f32, f32) = (419.53, 595.28);
    /// What pdftotext must give back for the first line (two runs: regular, then italic).
    const PART1: &str = "The “first” office—‘fine’ – ";
    const PART2: &str = "isn’t it?";
    const SIZE: f32 = 14.0;

    /// Naive shaping: one glyph per character, "fi" as the U+FB01 ligature glyph, and some
    /// letter-spacing and a widened space so TJ adjustments are exercised.
    fn shape(font: &[u8], text: &str) -> Vec<PositionedGlyph> {
        let face = ttf_parser::Face::parse(font, 0).expect("test font parses");
        let scale = SIZE / f32::from(face.units_per_em());
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let (glyph_char, glyph_text) = if rest.starts_with("fi") {
                ('\u{FB01}', "fi")
            } else {
                (c, &rest[..c.len_utf8()])
            };
            let gid = face.glyph_index(glyph_char).expect("glyph in test font");
            let mut advance = f32::from(face.glyph_hor_advance(gid).unwrap_or(0)) * scale;
            if c == ' ' {
                advance += 2.5; // justification
            } else if c.is_ascii_uppercase() {
                advance += 0.7; // letter-spacing
            }
            out.push(PositionedGlyph {
                id: gid.0,
                advance,
                x_offset: 0.0,
                y_offset: 0.0,
                text: glyph_text.into(),
            });
            rest = &rest[glyph_text.len()..];
        }
        out
    }

    fn width(glyphs: &[PositionedGlyph]) -> f32 {
        glyphs.iter().map(|g| g.advance).sum()
    }

    fn run(face: usize, x: f32, y: f32, glyphs: Vec<PositionedGlyph>) -> Item {
        Item::Glyphs(GlyphRun {
            face,
            size: SIZE,
            x,
            y,
            color: [0x20, 0x20, 0x20],
            glyphs,
        })
    }

    fn png() -> Vec<u8> {
        let img = image::RgbaImage::from_fn(40, 30, |x, y| {
            image::Rgba([
                (x * 6) as u8,
                (y * 8) as u8,
                160,
                if x < 20 { 255 } else { 90 },
            ])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode PNG");
        out
    }

    fn jpeg() -> Vec<u8> {
        let img = image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([200, (x * 6) as u8, (y * 8) as u8])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .expect("encode JPEG");
        out
    }

    /// A 40×30 PNG of `color` at `depth`, from `rows` (packed as PNG packs them).
    fn png_of(
        color: png::ColorType,
        depth: png::BitDepth,
        palette: Option<&[u8]>,
        trns: Option<&[u8]>,
        rows: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, 40, 30);
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p.to_vec());
        }
        if let Some(t) = trns {
            enc.set_trns(t.to_vec());
        }
        let mut w = enc.write_header().expect("PNG header");
        w.write_image_data(rows).expect("PNG data");
        w.finish().expect("PNG end");
        out
    }

    const PALETTE: [u8; 12] = [255, 255, 255, 200, 30, 30, 30, 30, 200, 20, 20, 20];

    /// A 4-bit palette PNG, one colour per quadrant, which goes into a PDF as it is.
    fn palette_png() -> Vec<u8> {
        let rows: Vec<u8> = (0..30u8)
            .flat_map(|y| (0..20u8).map(move |x| x / 10 + 2 * (y / 15)))
            .map(|i| (i << 4) | i)
            .collect();
        png_of(
            png::ColorType::Indexed,
            png::BitDepth::Four,
            Some(&PALETTE),
            None,
            &rows,
        )
    }

    fn assets() -> Vec<Asset> {
        vec![
            Asset {
                data: png(),
                media_type: "image/png",
                ext: "png",
                width: 40,
                height: 30,
            },
            Asset {
                data: palette_png(),
                media_type: "image/png",
                ext: "png",
                width: 40,
                height: 30,
            },
            Asset {
                data: jpeg(),
                media_type: "image/jpeg",
                ext: "jpg",
                width: 40,
                height: 30,
            },
        ]
    }

    /// "café" with a combining acute placed by offsets: the mark has no text of its own.
    fn cafe() -> Vec<PositionedGlyph> {
        let face = ttf_parser::Face::parse(REGULAR, 0).expect("test font parses");
        let mut glyphs = shape(REGULAR, "cafe");
        let e_advance = glyphs[3].advance;
        glyphs[3].text = "é".into();
        let acute = face.glyph_index('\u{301}').expect("combining acute");
        glyphs.push(PositionedGlyph {
            id: acute.0,
            advance: 0.0,
            x_offset: -e_advance / 2.0,
            y_offset: 1.0,
            text: Default::default(),
        });
        glyphs
    }

    fn sample() -> LaidOut {
        let part1 = shape(REGULAR, PART1);
        let part2 = shape(ITALIC, PART2);
        let x2 = 40.0 + width(&part1);
        let line_end = x2 + width(&part2);
        let page1 = Page {
            width: A5.0,
            height: A5.1,
            items: vec![
                Item::Rect {
                    x: 30.0,
                    y: 40.0,
                    width: 360.0,
                    height: 60.0,
                    color: [0xEE, 0xEE, 0xE0],
                },
                Item::Dest {
                    name: "top".into(),
                    y: 40.0,
                },
                run(0, 40.0, 80.0, part1),
                run(1, x2, 80.0, part2),
                Item::Line {
                    x1: 40.0,
                    y1: 90.0,
                    x2: line_end,
                    y2: 90.0,
                    thickness: 0.8,
                    color: [0x80, 0x10, 0x10],
                },
                Item::Image {
                    asset: 0,
                    x: 40.0,
                    y: 120.0,
                    width: 160.0,
                    height: 120.0,
                },
                Item::Image {
                    asset: 2,
                    x: 220.0,
                    y: 120.0,
                    width: 160.0,
                    height: 120.0,
                },
                Item::Image {
                    asset: 1,
                    x: 40.0,
                    y: 250.0,
                    width: 80.0,
                    height: 60.0,
                },
                run(0, 40.0, 280.0, shape(REGULAR, "Next page")),
                Item::Link {
                    x: 40.0,
                    y: 268.0,
                    width: 60.0,
                    height: 16.0,
                    target: LinkTarget::Internal("sec 2".into()),
                },
                run(1, 40.0, 310.0, shape(ITALIC, "Example")),
                Item::Link {
                    x: 40.0,
                    y: 298.0,
                    width: 50.0,
                    height: 16.0,
                    target: LinkTarget::Uri("https://example.com/ä?q=1".into()),
                },
            ],
        };
        let page2 = Page {
            width: A5.0,
            height: A5.1,
            items: vec![
                Item::Dest {
                    name: "sec 2".into(),
                    y: 60.0,
                },
                run(0, 40.0, 80.0, shape(REGULAR, "Second page")),
                run(0, 40.0, 110.0, cafe()),
                Item::Image {
                    asset: 0,
                    x: 40.0,
                    y: 140.0,
                    width: 80.0,
                    height: 60.0,
                },
            ],
        };
        LaidOut {
            pages: vec![page1, page2],
            faces: vec![
                FaceData {
                    name: "EBGaramond-Regular".into(),
                    data: Cow::Borrowed(REGULAR),
                },
                FaceData {
                    name: "EBGaramond-Italic".into(),
                    data: Cow::Borrowed(ITALIC),
                },
            ],
            outline: vec![OutlineEntry {
                title: "Article “One”".into(),
                page: 0,
                y: 40.0,
                children: vec![OutlineEntry {
                    title: "Second page".into(),
                    page: 1,
                    y: 60.0,
                    children: vec![],
                }],
            }],
        }
    }

    fn write_sample(warnings: &mut Vec<String>) -> Vec<u8> {
        let authors = ["Ann Author".to_string(), "Bob Écrivain".to_string()];
        let keywords = ["type".to_string(), "print".to_string()];
        let info = PdfInfo {
            title: "Galley “Test”",
            authors: &authors,
            subject: Some("A test"),
            keywords: &keywords,
            language: "en-GB",
            created: 1_700_000_000,
        };
        write_pdf(sample(), &assets(), &info, warnings).expect("PDF written")
    }

    /// Runs an external validator; `None` when it is not installed (a failure when
    /// `GALLEY_REQUIRE_VALIDATORS=1`).
    fn run_tool(name: &str, args: &[&str], file: &Path, after: &[&str]) -> Option<(bool, String)> {
        match Command::new(name).args(args).arg(file).args(after).output() {
            Ok(out) => Some((
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )),
            Err(e) => {
                assert!(
                    std::env::var("GALLEY_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
                    "{name} is required but cannot run: {e}"
                );
                eprintln!("skipping {name}: {e}");
                None
            }
        }
    }

    #[test]
    fn validators_accept_the_sample() {
        let mut warnings = Vec::new();
        let bytes = write_sample(&mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sample.pdf");
        std::fs::write(&path, &bytes).expect("write sample");
        if let Ok(keep) = std::env::var("GALLEY_PDF_SAMPLE") {
            std::fs::write(keep, &bytes).expect("keep sample");
        }

        if let Some((ok, out)) = run_tool("qpdf", &["--check"], &path, &[]) {
            assert!(ok && !out.to_lowercase().contains("warning"), "qpdf: {out}");
            assert!(
                out.contains("No syntax or stream encoding errors"),
                "qpdf: {out}"
            );
        }
        // The palette PNG, passed through with its predictors, shows its four colours.
        let render = dir.path().join("page");
        let render_arg = render.to_string_lossy().into_owned();
        if let Some((ok, out)) = run_tool(
            "pdftoppm",
            &["-r", "72", "-f", "1", "-l", "1", "-png"],
            &path,
            &[&render_arg],
        ) {
            assert!(ok, "pdftoppm: {out}");
            let page = image::open(dir.path().join("page-1.png"))
                .expect("rendered page")
                .to_rgb8();
            for q in 0..4u32 {
                // The image is 80×60 pt at (40, 250): each source pixel two points wide.
                let (x, y) = (40 + 2 * (10 + 20 * (q % 2)), 250 + 2 * (7 + 15 * (q / 2)));
                let got = page.get_pixel(x, y).0;
                let want = &PALETTE[3 * q as usize..3 * q as usize + 3];
                let near = got.iter().zip(want).all(|(g, w)| g.abs_diff(*w) <= 8);
                assert!(near, "quadrant {q}: {got:?}, not {want:?}");
            }
        }
        if let Some((ok, out)) = run_tool("pdffonts", &[], &path, &[]) {
            assert!(ok, "pdffonts: {out}");
            let rows: Vec<&str> = out.lines().skip(2).collect();
            assert_eq!(rows.len(), 2, "pdffonts: {out}");
            for row in rows {
                let cols: Vec<&str> = row.split_whitespace().collect();
                let name = cols[0];
                let (tag, _) = name.split_once('+').expect("subset tag");
                assert!(
                    tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()),
                    "{row}"
                );
                assert!(
                    row.contains("CID TrueType") && row.contains("Identity-H"),
                    "{row}"
                );
                // emb, sub, uni
                assert_eq!(
                    &cols[cols.len() - 5..cols.len() - 2],
                    ["yes", "yes", "yes"],
                    "{row}"
                );
            }
        }
        if let Some((ok, out)) = run_tool("pdftotext", &[], &path, &["-"]) {
            assert!(ok, "pdftotext: {out}");
            let mut lines = out.lines();
            assert_eq!(
                lines.next(),
                Some(format!("{PART1}{PART2}").as_str()),
                "{out}"
            );
            assert!(
                out.contains("Next page") && out.contains("Example"),
                "{out}"
            );
            assert!(out.contains("Second page") && out.contains("café"), "{out}");
        }
        if let Some((ok, out)) = run_tool("pdfinfo", &[], &path, &[]) {
            assert!(ok, "pdfinfo: {out}");
            assert!(out.contains("Title:           Galley “Test”"), "{out}");
            assert!(
                out.contains("Author:          Ann Author, Bob Écrivain"),
                "{out}"
            );
            assert!(out.contains("Creator:         galley"), "{out}");
            assert!(out.contains("Pages:           2"), "{out}");
            assert!(out.contains("2023"), "creation date: {out}");
        }
        assert!(bytes.len() < 80_000, "{} bytes", bytes.len());
    }

    #[test]
    fn same_input_same_bytes() {
        let a = write_sample(&mut Vec::new());
        let b = write_sample(&mut Vec::new());
        assert!(a == b, "two writes in one process differ");
        // A fresh process starts printpdf's id counter afresh: compare with one.
        if std::env::var_os("GALLEY_PDF_CHILD").is_some() {
            println!("PDF-SHA256 {:x}", Sha256::digest(&a));
            return;
        }
        let exe = std::env::current_exe().expect("test binary");
        let out = Command::new(exe)
            .args([
                "--exact",
                "write::pdf::tests::same_input_same_bytes",
                "--nocapture",
            ])
            .env("GALLEY_PDF_CHILD", "1")
            .output()
            .expect("run child test process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let expected = format!("PDF-SHA256 {:x}", Sha256::digest(&a));
        assert!(
            stdout.contains(&expected),
            "child process wrote other bytes: {stdout}"
        );
    }

    #[test]
    fn png_passthrough_takes_only_what_pdf_can_show_as_it_is() {
        use png::{BitDepth, ColorType};
        let gray: Vec<u8> = (0..1200).map(|i| (i % 251) as u8).collect();
        let rgb: Vec<u8> = (0..3600).map(|i| (i % 253) as u8).collect();
        let wide: Vec<u8> = (0..2400).map(|i| (i % 7) as u8).collect();
        let depth_of = |s: &Stream| {
            s.dict
                .get(b"BitsPerComponent")
                .and_then(Object::as_i64)
                .ok()
        };
        let colors_of = |s: &Stream| {
            s.dict
                .get(b"DecodeParms")
                .and_then(Object::as_dict)
                .and_then(|d| d.get(b"Colors"))
                .and_then(Object::as_i64)
                .ok()
        };
        let g = png_passthrough(&png_of(
            ColorType::Grayscale,
            BitDepth::Eight,
            None,
            None,
            &gray,
        ))
        .expect("grey");
        assert_eq!((depth_of(&g), colors_of(&g)), (Some(8), Some(1)));
        let c = png_passthrough(&png_of(ColorType::Rgb, BitDepth::Eight, None, None, &rgb))
            .expect("RGB");
        assert_eq!((depth_of(&c), colors_of(&c)), (Some(8), Some(3)));
        let d = png_passthrough(&png_of(
            ColorType::Grayscale,
            BitDepth::Sixteen,
            None,
            None,
            &wide,
        ))
        .expect("16-bit grey");
        assert_eq!(depth_of(&d), Some(16));
        assert!(png_passthrough(&palette_png()).is_some());

        // Transparency needs a soft mask: decoded instead.
        assert!(png_passthrough(&png()).is_none(), "RGBA");
        let rows = vec![0x01u8; 600];
        let with_trns = png_of(
            ColorType::Indexed,
            BitDepth::Four,
            Some(&PALETTE),
            Some(&[255, 0]),
            &rows,
        );
        assert!(png_passthrough(&with_trns).is_none(), "tRNS");
        // Interlaced: the header's last byte set, its checksum mended.
        let mut interlaced = png_of(ColorType::Grayscale, BitDepth::Eight, None, None, &gray);
        interlaced[28] = 1;
        let crc = crc32fast::hash(&interlaced[12..29]).to_be_bytes();
        interlaced[29..33].copy_from_slice(&crc);
        assert!(png_parts(&interlaced).is_some_and(|p| p.interlaced));
        assert!(png_passthrough(&interlaced).is_none(), "interlaced");
        // Damaged: a wrong checksum, or data that does not inflate to the image's size.
        let mut bad_crc = palette_png();
        let last = bad_crc.len() - 20;
        bad_crc[last] ^= 0xff;
        assert!(png_passthrough(&bad_crc).is_none(), "checksum");
        let short = png_of(ColorType::Grayscale, BitDepth::Eight, None, None, &gray);
        let parts = png_parts(&short).expect("parts");
        assert_eq!(inflated_len(&parts.idat), Some(30 * 41));
        assert_eq!(inflated_len(&parts.idat[..parts.idat.len() / 2]), None);
    }

    #[test]
    fn structure_is_as_designed() {
        let bytes = write_sample(&mut Vec::new());
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("%PDF-1.7"));
        assert!(text.contains("/PageMode/UseOutlines") || text.contains("/PageMode /UseOutlines"));
        let doc = Document::load_mem(&bytes).expect("lopdf reads it back");
        let catalog = doc.catalog().expect("catalog");
        assert!(catalog.get(b"Lang").is_ok() && catalog.get(b"Names").is_ok());
        // Two images, the PNG with its soft mask, each stored once though drawn thrice.
        let images: Vec<&Stream> = doc
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
            .collect();
        assert_eq!(images.len(), 4);
        let jpeg_data = jpeg();
        assert!(
            images.iter().any(|s| s.content == jpeg_data),
            "JPEG must pass through"
        );
        assert_eq!(images.iter().filter(|s| s.dict.has(b"SMask")).count(), 1);
        // The palette PNG's compressed pixels pass through, under its own palette.
        let idat = png_parts(&palette_png()).expect("parts").idat;
        let indexed = images
            .iter()
            .find(|s| s.content == idat)
            .expect("palette PNG passes through");
        assert_eq!(
            indexed
                .dict
                .get(b"BitsPerComponent")
                .and_then(Object::as_i64)
                .ok(),
            Some(4)
        );
        let space = indexed
            .dict
            .get(b"ColorSpace")
            .and_then(Object::as_array)
            .expect("indexed colour space");
        assert_eq!(space[0].as_name().ok(), Some(&b"Indexed"[..]));
        assert_eq!(space[2].as_i64().ok(), Some(3));
        assert_eq!(space[3].as_str().ok(), Some(&PALETTE[..]));
        // Content streams are compressed.
        for (_, page_id) in doc.get_pages() {
            for content in doc.get_page_contents(page_id) {
                let stream = doc
                    .get_object(content)
                    .and_then(Object::as_stream)
                    .expect("content");
                assert_eq!(
                    stream.dict.get(b"Filter").and_then(Object::as_name).ok(),
                    Some(&b"FlateDecode"[..])
                );
            }
        }
    }

    #[test]
    fn errors_and_warnings() {
        let info = PdfInfo {
            title: "",
            authors: &[],
            subject: None,
            keywords: &[],
            language: "",
            created: 0,
        };
        let mut warnings = Vec::new();
        assert!(matches!(
            write_pdf(LaidOut::default(), &[], &info, &mut warnings),
            Err(PdfError::NoPages)
        ));
        let mut doc = sample();
        doc.faces.truncate(1);
        assert!(matches!(
            write_pdf(doc.clone(), &[], &info, &mut warnings),
            Err(PdfError::UnknownFace { face: 1, .. })
        ));
        let mut doc = sample();
        doc.pages[0].items.push(Item::Link {
            x: 0.0,
            y: 0.0,
            width: 1.0,
            height: 1.0,
            target: LinkTarget::Internal("nowhere".into()),
        });
        doc.outline[0].children[0].page = 7;
        let svg = Asset {
            data: b"<svg/>".to_vec(),
            media_type: "image/svg+xml",
            ext: "svg",
            width: 0,
            height: 0,
        };
        let broken = Asset {
            data: b"\x89PNG broken".to_vec(),
            media_type: "image/png",
            ext: "png",
            width: 40,
            height: 30,
        };
        // Warned: the SVG, the broken PNG, the image with no asset, the link and the
        // outline entry to nowhere.
        write_pdf(doc, &[svg, broken], &info, &mut warnings).expect("still written");
        assert_eq!(warnings.len(), 5, "{warnings:#?}");
        assert!(warnings.iter().any(|w| w.contains("image #2 is not among")));
    }

    #[test]
    fn helpers() {
        assert_eq!(
            pdf_date(1_700_000_000).as_deref(),
            Some("D:20231114221320Z")
        );
        assert_eq!(pdf_date(i64::MAX), None);
        assert_eq!(ascii_uri("https://e.com/ä b"), b"https://e.com/%C3%A4%20b");
        assert_eq!(ps_name("EB Garamond (Italic)", 3), "EBGaramondItalic");
        assert_eq!(ps_name("€", 3), "Font3");
        let t = "x".to_string();
        let by_cid = BTreeMap::from([(3, (500, Some(&t))), (4, (250, None)), (9, (1000, None))]);
        assert_eq!(
            widths_array(&by_cid),
            Object::Array(vec![
                3.into(),
                Object::Array(vec![500.into(), 250.into()]),
                9.into(),
                Object::Array(vec![1000.into()])
            ])
        );
        assert!(to_unicode_cmap(&by_cid).contains("1 beginbfchar\n<0003> <0078>\n"));
        let info = jpeg_info(&jpeg()).expect("JPEG header");
        assert_eq!(
            (info.width, info.height, info.components, info.adobe),
            (40, 30, 3, false)
        );
        assert!(jpeg_info(b"\xFF\xD8\xFF").is_none());
    }
}
