//! EPUB 3 writer: XHTML content, navigation, stylesheet and fonts from the theme.
//!
//! epub-builder assembles the package; [`package::Pass`] then repairs what it gets
//! wrong and makes the archive reproducible.

pub mod css;
pub mod dropcap;
pub mod fonts;
pub mod package;
pub mod scripts;
pub mod split;
pub mod usage;
pub mod xhtml;

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::thread::Scope;

use epub_builder::{EpubBuilder, EpubContent, EpubVersion, ReferenceType, TocElement, ZipLibrary};

use crate::assets::{Asset, Assets};
use crate::beside::Handed;
use crate::model::{Block, Document};
use crate::model::{date, numbering, plain_text};
use crate::theme::check::optional_color;
use crate::theme::{RuleStyle, Theme};
use crate::write::cover::{CoverError, CoverSpec, DrawnCover, check_fonts};
use crate::write::output::{Output, OutputError};
use xhtml::{Context, Renderer, escape};

/// Why an EPUB could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EpubError {
    /// epub-builder refused the content.
    #[error("EPUB assembly failed: {0}")]
    Builder(#[from] epub_builder::Error),
    /// The archive could not be rewritten.
    #[error("EPUB packaging failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// The generated cover failed after its fonts were accepted, too late to leave it out.
    #[error("could not draw the cover: {0}")]
    Cover(#[from] CoverError),
    /// The output file could not be created or written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Choices that are not part of the document or theme.
#[derive(Debug, Default, Clone)]
pub struct EpubOptions {
    /// Modification time as Unix seconds (from `SOURCE_DATE_EPOCH`); otherwise derived from
    /// the article's date so output stays reproducible.
    pub modified: Option<i64>,
    /// A cover image to use instead of the article's own or a generated one.
    pub cover: Option<Asset>,
    /// Headings deeper than this (relative to the top level) are left out of the contents.
    pub toc_depth: u8,
}

/// A BCP 47 tag as EPUB metadata accepts it, or `None`.
pub use crate::model::language_tag as valid_language;

/// The book's unique identifier: from the explicit identifier, else the source URL,
/// else the content, so the same input always gets the same id.
fn book_uuid(doc: &Document) -> uuid::Uuid {
    if let Some(id) = doc
        .meta
        .identifier
        .as_deref()
        .or(doc.meta.source_url.as_deref())
    {
        return uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, id.as_bytes());
    }
    let json = serde_json::to_vec(doc).unwrap_or_default();
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &json)
}

/// Writes `doc` as an EPUB 3 and returns the archive's bytes.
pub fn write(
    doc: &Document,
    assets: &Assets,
    theme: &Theme,
    opts: &EpubOptions,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>, EpubError> {
    // Drawing a generated cover and subsetting the fonts cost about as much as the rest
    // of the book and need nothing from it, so they run on threads of their own meanwhile.
    std::thread::scope(|scope| write_in(scope, doc, assets, theme, opts, warnings, None))
        .map(|(_, bytes)| bytes)
}

/// [`write`] straight into `out`, which is opened once the archive's first entries are
/// ready (the cover still being drawn meanwhile) and left for the caller to commit; the
/// number of bytes written.
pub fn write_to(
    doc: &Document,
    assets: &Assets,
    theme: &Theme,
    opts: &EpubOptions,
    warnings: &mut Vec<String>,
    out: &mut Output,
) -> Result<u64, EpubError> {
    std::thread::scope(|scope| write_in(scope, doc, assets, theme, opts, warnings, Some(out)))
        .map(|(len, _)| len)
}

/// [`write`], with `scope` for the threads of the cover and the fonts; into `out` if
/// given (the bytes then come back empty), else into memory. Returns the archive's
/// length and bytes.
fn write_in<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    doc: &'env Document,
    assets: &'env Assets,
    theme: &'env Theme,
    opts: &'env EpubOptions,
    warnings: &mut Vec<String>,
    out: Option<&mut Output>,
) -> Result<(u64, Vec<u8>), EpubError> {
    let meta = &doc.meta;
    let lang = match meta.language.as_deref() {
        Some(l) => valid_language(l).unwrap_or_else(|| {
            warnings.push(format!("language '{l}' is not a BCP 47 tag; using 'en'"));
            "en".into()
        }),
        None => "en".into(),
    };
    let title = meta
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "Untitled".into());
    // Cover: given, the article's own, or generated (started now, finished last).
    let given_cover = opts
        .cover
        .as_ref()
        .or_else(|| {
            meta.cover
                .as_ref()
                .and_then(|c| assets.get(c))
                .map(|(_, a)| a)
        })
        .filter(|a| a.media_type != "image/svg+xml");
    // Once drawn, the cover comes over `shared` too, so that this thread can code half of
    // its PNG while the drawing thread codes the other half.
    let (share, shared) = sync_channel::<Arc<DrawnCover>>(1);
    let drawing = match given_cover {
        Some(_) => None,
        // Fonts that do not parse are known now, before the book commits to a cover page;
        // past that check drawing does not fail on its inputs.
        None => CoverInputs::new(doc, &title, theme).map(|inputs| {
            check_fonts(&inputs.spec()).map(|()| {
                Handed::start(scope, "cover", move || {
                    let drawn = Arc::new(DrawnCover::draw(&inputs.spec())?);
                    // Nobody may be waiting to help; then this thread codes it all.
                    let _ = share.try_send(Arc::clone(&drawn));
                    drawn.help();
                    Ok::<_, CoverError>(drawn)
                })
            })
        }),
    };
    let uid = book_uuid(doc);
    let toc_title = "Contents";

    let mut b = EpubBuilder::new(ZipLibrary::new()?)?;
    b.epub_version(EpubVersion::V30);
    b.metadata("title", title.as_str())?;
    b.metadata("lang", lang.as_str())?;
    b.metadata("generator", "galley")?;
    b.metadata("toc_name", toc_title)?;
    for a in &meta.authors {
        b.metadata("author", a.as_str())?;
    }
    if let Some(d) = &meta.description {
        b.metadata("description", d.as_str())?;
    }
    for t in &meta.tags {
        b.metadata("subject", t.as_str())?;
    }
    if let Some(r) = &meta.rights {
        b.set_license(r.as_str());
    }
    b.set_uuid(uid);
    let modified = date::stamp(opts.modified, meta.date.as_deref());
    b.set_modified_date(chrono::DateTime::from_timestamp(modified, 0).unwrap_or_default());
    // epub-builder has no setters for these; the finishing pass adds them to the OPF.
    let mut dc: Vec<(&str, String)> = Vec::new();
    if let Some(d) = meta.date.as_deref().and_then(date::normalize) {
        dc.push(("date", d));
    }
    if let Some(p) = &meta.publisher {
        dc.push(("publisher", p.clone()));
    }
    if let Some(s) = &meta.source_url {
        dc.push(("source", s.clone()));
    }
    if let Some(id) = &meta.identifier {
        dc.push(("identifier", id.clone()));
    }

    // Section numbers come from the same blocks the PDF numbers, so both outputs agree.
    let numbers = if theme.headings.numbered {
        numbering::section_numbers(body_after_title(&doc.blocks, &title))
    } else {
        HashMap::new()
    };
    // A book of several articles: each gets its own file(s), title block and drop cap.
    let book = doc
        .blocks
        .iter()
        .any(|b| matches!(b, Block::Article { .. }));
    let drop_caps: Vec<usize> = if theme.text.drop_cap > 0 {
        dropcap::paragraph_indices(&doc.blocks)
    } else {
        Vec::new()
    };
    let initials: String = drop_caps
        .iter()
        .filter_map(|&i| match &doc.blocks[i] {
            Block::Paragraph { content } => dropcap::initial(content),
            _ => None,
        })
        .collect();

    // Fonts and stylesheet.
    let byline = meta
        .byline()
        .map(|by| format!("{}{by}", byline_prefix(&lang)));
    let date_display = meta.date.as_deref().map(date::display);
    let retrieved = meta.retrieved_label();
    let source_line = source_line(doc);
    let usage = usage::Usage::of(
        doc,
        theme,
        &usage::Extras {
            title: &title,
            byline: byline.as_deref(),
            date: date_display.as_deref(),
            source: source_line.as_deref(),
            retrieved: retrieved.as_deref(),
            numbers: &numbers,
            drop_cap: (!initials.is_empty()).then_some(initials.as_str()),
        },
    );
    // Subsetting the fonts (and deflating a large set) needs nothing else from the book:
    // epub-builder gets placeholders and the finishing pass copies the packed entries in.
    let planned = fonts::plan(theme, &usage, warnings);
    let mut faces: Vec<css::EmbeddedFace> = Vec::with_capacity(planned.len());
    for p in &planned {
        b.add_resource(&p.face.href, &[][..], "font/ttf")?;
        faces.push(p.face.clone());
    }
    // Handed over when the awake thread is free (the book has its own cover); when it is
    // drawing the cover, a thread of their own would only take turns with this one or
    // with the drawing, so this thread subsets them once its own part is done.
    let fonts_packed = Handed::or_later(move || {
        let mut notes = Vec::new();
        let entries: Vec<(String, Vec<u8>)> = planned
            .into_iter()
            .map(|p| (format!("OEBPS/{}", p.face.href), p.subset(&mut notes)))
            .collect();
        package::pack_apart(&entries).map(|archive| (archive, notes))
    });
    b.stylesheet(css::stylesheet(theme, &faces).as_bytes())?;

    // Images, each distinct file once.
    let mut image_files: HashMap<String, String> = HashMap::new();
    let mut written: HashMap<usize, String> = HashMap::new();
    for img in doc.images() {
        if let Some((i, asset)) = assets.get(&img.src) {
            let name = written
                .entry(i)
                .or_insert_with(|| format!("images/img-{:03}.{}", i + 1, asset.ext));
            image_files.insert(img.src.clone(), name.clone());
        }
    }
    let mut names: Vec<(&usize, &String)> = written.iter().collect();
    names.sort();
    // Already-compressed images go in as empty placeholders and their bytes only into the
    // finished archive, stored: epub-builder would deflate them for nothing and the
    // finishing pass inflate them again.
    let mut stored: Vec<(String, &[u8])> = Vec::new();
    for (i, name) in names {
        let asset = &assets.items()[*i];
        if package::is_compressed_already(name) {
            b.add_resource(name, &[][..], asset.media_type)?;
            stored.push((format!("OEBPS/{name}"), asset.data.as_slice()));
        } else {
            b.add_resource(name, asset.data.as_slice(), asset.media_type)?;
        }
    }

    let drawing = match drawing {
        Some(Err(e)) => {
            warnings.push(format!("could not draw a cover ({e}); the book has none"));
            None
        }
        other => other.and_then(Result::ok),
    };
    let cover_href = match (given_cover, &drawing) {
        (Some(c), _) => {
            let href = format!("images/cover.{}", c.ext);
            if package::is_compressed_already(&href) {
                b.add_cover_image(&href, &[][..], c.media_type)?;
                stored.push((format!("OEBPS/{href}"), c.data.as_slice()));
            } else {
                b.add_cover_image(&href, c.data.as_slice(), c.media_type)?;
            }
            Some(href)
        }
        // Still being drawn: a placeholder like other compressed images, its bytes going
        // into the finished archive.
        (None, Some(_)) => {
            b.add_cover_image(DRAWN_COVER, &[][..], "image/png")?;
            Some(DRAWN_COVER.to_string())
        }
        (None, None) => None,
    };
    if let Some(href) = cover_href {
        let body = format!(
            "<div class=\"cover\"><img src=\"{}\" alt=\"{}\"/></div>\n",
            href,
            escape(&title)
        );
        let page = xhtml::document(&title, &lang, Some("cover"), &body);
        b.add_content(
            EpubContent::new("cover.xhtml", page.as_bytes()).reftype(ReferenceType::Cover),
        )?;
    }

    // Body: split into files, then resolve where ids and notes live.
    let top = split::top_level(doc);
    let parts = split::split(doc, top);
    let mut ids = HashMap::new();
    for p in &parts {
        split::collect_ids(&doc.blocks[p.start..p.end], &p.file, &mut ids);
    }
    let (notes, notes_in_part) = place_notes(doc, &parts);
    let stripes = matches!(optional_color(&theme.table.stripes), Some(Some(_)));
    let defs = {
        let mut v = Vec::new();
        split::collect_notes(&doc.blocks, &mut v);
        v.into_iter().collect::<HashMap<_, _>>()
    };
    let max_depth = opts.toc_depth.max(1);
    let mut dropped = 0;
    if book {
        // The book's own title page, before the first article.
        let ctx = Context {
            ids: &ids,
            notes: &notes,
            images: &image_files,
            base_url: meta.source_url.as_deref(),
            top_level: top,
            heading_offset: 2,
            numbers: &numbers,
            stripes,
        };
        let mut r = Renderer::new(&ctx, "title.xhtml");
        let mut body = String::new();
        title_block(meta, &title, None, &lang, theme, &mut r, &mut body);
        let page = xhtml::document(&title, &lang, None, &body);
        b.add_content(
            EpubContent::new("title.xhtml", page.as_bytes())
                .title(title.as_str())
                .reftype(ReferenceType::TitlePage),
        )?;
    }
    // Relative links resolve against the web address of the article they are in.
    let mut article_meta: Option<&crate::model::Meta> = None;
    for (pi, part) in parts.iter().enumerate() {
        let blocks = &doc.blocks[part.start..part.end];
        if let Some(Block::Article { meta: m, .. }) = blocks.first() {
            article_meta = Some(m);
        }
        let ctx = Context {
            ids: &ids,
            notes: &notes,
            images: &image_files,
            base_url: article_meta.map_or(meta.source_url.as_deref(), |m| m.source_url.as_deref()),
            top_level: top,
            heading_offset: if book { 2 } else { 1 },
            numbers: &numbers,
            stripes,
        };
        let mut r = Renderer::new(&ctx, &part.file);
        let mut body = String::new();
        match blocks.first() {
            Some(Block::Article { id, meta: m }) => {
                let t = article_title(m);
                title_block(m, &t, Some(id), &lang, theme, &mut r, &mut body);
            }
            _ if pi == 0 && !book => {
                title_block(meta, &title, None, &lang, theme, &mut r, &mut body);
            }
            _ => {}
        }
        let cap = drop_caps
            .iter()
            .find(|i| (part.start..part.end).contains(i))
            .map(|i| i - part.start);
        r.top_blocks(blocks, cap, &mut body);
        if !notes_in_part[pi].is_empty() {
            body.push_str(
                "<section class=\"footnotes\" epub:type=\"footnotes\" role=\"doc-endnotes\">\n",
            );
            for label in &notes_in_part[pi] {
                if let (Some((n, _)), Some(content)) = (notes.get(label), defs.get(label.as_str()))
                {
                    r.footnote(*n, content, &mut body);
                }
            }
            body.push_str("</section>\n");
        }
        dropped += r.dropped_links.len();
        let (doc_title, toc) = toc_entries(
            blocks,
            &part.file,
            top,
            max_depth,
            pi == 0 && !book,
            book,
            &title,
            &numbers,
        );
        let page = xhtml::document(doc_title.as_deref().unwrap_or(&title), &lang, None, &body);
        let mut content = EpubContent::new(part.file.as_str(), page.as_bytes());
        if let Some((text, level)) = toc.first().map(|(_, t, l)| (t.clone(), *l)) {
            content = content.title(text).level(level);
            for (href, text, level) in toc.into_iter().skip(1) {
                content = content.child(TocElement::new(href, text).level(level));
            }
        }
        if pi == 0 {
            content = content.reftype(ReferenceType::Text);
        }
        b.add_content(content)?;
    }
    if dropped > 0 {
        warnings.push(format!(
            "{dropped} link(s) pointed outside the book without a source URL to resolve them; kept as plain text"
        ));
    }

    let mut raw = Vec::new();
    b.generate(&mut raw)?;
    // The side jobs' entries are added last, as each job finishes; the rest of the pass
    // runs meanwhile.
    let cover_entry = format!("OEBPS/{DRAWN_COVER}");
    let mut late: Vec<String> = faces.iter().map(|f| format!("OEBPS/{}", f.href)).collect();
    if drawing.is_some() {
        late.push(cover_entry.clone());
    }
    let uid_urn = uid.urn().to_string();
    let fixes = package::Fixes {
        lang: &lang,
        title: &title,
        uid: &uid_urn,
        toc_title,
        dc: &dc,
        stored: &stored,
    };
    // Opened here rather than at the end: creating the file and sending it the first
    // entries then overlap the drawing.
    let file = out.map(Output::file).transpose()?;
    let mut pass = package::Pass::start(&raw, &fixes, late, file)?;
    let (packed, font_notes) = fonts_packed.finish()?;
    warnings.extend(font_notes);
    pass.add_packed(&packed)?;
    pass.send()?;
    if let Some(drawing) = drawing {
        // Nothing comes if drawing failed (the error comes from `finish`), and without a
        // thread of its own the job only runs in `finish`, so there is nothing to wait for.
        if drawing.on_thread()
            && let Ok(drawn) = shared.recv()
        {
            drawn.help();
        }
        let png = drawing.finish()?.pieces()?;
        pass.add_stored(&cover_entry, png.slices())?;
    }
    Ok(pass.end()?)
}

/// Footnote label → (number, file holding the note).
type NotePlaces = HashMap<String, (usize, String)>;

/// Numbers footnotes by first reference and puts each at the end of the file that first
/// cites it; unreferenced notes go at the end of the book.
fn place_notes(doc: &Document, parts: &[split::Part]) -> (NotePlaces, Vec<Vec<String>>) {
    let mut defs = Vec::new();
    split::collect_notes(&doc.blocks, &mut defs);
    let defs: HashMap<&str, &[Block]> = defs.into_iter().collect();
    let mut placed: NotePlaces = HashMap::new();
    let mut per_part: Vec<Vec<String>> = vec![Vec::new(); parts.len()];
    let mut next = 1;
    let mut place = |label: String,
                     pi: usize,
                     placed: &mut HashMap<String, (usize, String)>,
                     per_part: &mut Vec<Vec<String>>| {
        let mut queue = VecDeque::from([label]);
        while let Some(l) = queue.pop_front() {
            if placed.contains_key(&l) {
                continue;
            }
            let Some(content) = defs.get(l.as_str()) else {
                continue;
            };
            placed.insert(l.clone(), (next, parts[pi].file.clone()));
            next += 1;
            per_part[pi].push(l);
            let mut inner = Vec::new();
            split::note_refs(content, &mut inner);
            queue.extend(inner);
        }
    };
    for (pi, p) in parts.iter().enumerate() {
        let mut refs = Vec::new();
        split::note_refs(&doc.blocks[p.start..p.end], &mut refs);
        for l in refs {
            place(l, pi, &mut placed, &mut per_part);
        }
    }
    let mut all = Vec::new();
    split::collect_notes(&doc.blocks, &mut all);
    let last = parts.len().saturating_sub(1);
    for (label, _) in all {
        place(label.to_string(), last, &mut placed, &mut per_part);
    }
    (placed, per_part)
}

/// Table-of-contents entries of one file: (href, text, level), the first being the file's own.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn toc_entries(
    blocks: &[Block],
    file: &str,
    top: u8,
    max_depth: u8,
    first: bool,
    book: bool,
    book_title: &str,
    numbers: &HashMap<String, String>,
) -> (Option<String>, Vec<(String, String, i32)>) {
    let mut entries = Vec::new();
    if first && !matches!(blocks.first(), Some(Block::Heading { level, .. }) if *level == top) {
        entries.push((file.to_string(), book_title.to_string(), 1));
    }
    // In a book, sections nest under their article's title.
    let below = if book { 2 } else { 1 };
    for b in blocks {
        if let Block::Article { meta, .. } = b {
            entries.push((file.to_string(), article_title(meta), 1));
        }
        if let Block::Heading { level, id, content } = b {
            let rel = i32::from(level.saturating_sub(top)) + below;
            if rel <= i32::from(max_depth) {
                let href = if entries.is_empty() {
                    file.to_string()
                } else {
                    format!("{file}#{id}")
                };
                let text = xhtml::heading_text(content);
                let text = match numbers.get(id) {
                    Some(n) => format!("{n} {text}"),
                    None => text,
                };
                entries.push((href, text, rel));
            }
        }
    }
    let doc_title = entries.first().map(|(_, t, _)| t.clone());
    (doc_title, entries)
}

/// The body blocks the PDF sets: without a first heading that repeats the title, which the
/// title block already shows.
fn body_after_title<'a>(blocks: &'a [Block], title: &str) -> &'a [Block] {
    match blocks.first() {
        Some(Block::Heading { content, .. }) if plain_text(content).trim() == title.trim() => {
            &blocks[1..]
        }
        _ => blocks,
    }
}

/// "By " before English bylines.
fn byline_prefix(lang: &str) -> &'static str {
    if lang.starts_with("en") { "By " } else { "" }
}

/// The source URL as the title block shows it, when it is a web address.
fn shown_url(meta: &crate::model::Meta) -> Option<(&str, &str)> {
    let u = meta
        .source_url
        .as_deref()
        .filter(|u| u.starts_with("http"))?;
    let shown = u
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    Some((u, shown))
}

/// The title block's publisher and source line as text, for the font subsets.
fn source_line(doc: &Document) -> Option<String> {
    let parts: Vec<&str> = [
        doc.meta.publisher.as_deref(),
        shown_url(&doc.meta).map(|(_, s)| s),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// An article's (or book's) title, "Untitled" when it has none.
fn article_title(meta: &crate::model::Meta) -> String {
    meta.title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "Untitled".into())
}

fn title_block(
    m: &crate::model::Meta,
    title: &str,
    id: Option<&str>,
    lang: &str,
    theme: &Theme,
    r: &mut Renderer,
    out: &mut String,
) {
    match id {
        Some(id) => {
            let _ = writeln!(out, "<header class=\"titleblock\" id=\"{}\">", escape(id));
        }
        None => out.push_str("<header class=\"titleblock\">\n"),
    }
    if let Some(k) = m.kicker.as_deref().filter(|k| !k.trim().is_empty()) {
        let _ = writeln!(out, "<p class=\"kicker\">{}</p>", escape(k));
    }
    let _ = writeln!(out, "<h1 class=\"title\">{}</h1>", escape(title));
    if let Some(s) = m.subtitle.as_deref().filter(|s| !s.trim().is_empty()) {
        let _ = writeln!(out, "<p class=\"subtitle\">{}</p>", escape(s));
    }
    if let Some(by) = m.byline() {
        let prefix = byline_prefix(lang);
        let _ = writeln!(out, "<p class=\"byline\">{prefix}{}</p>", escape(&by));
    }
    if let Some(d) = &m.date {
        let display = date::display(d);
        match date::normalize(d) {
            Some(iso) => {
                let _ = writeln!(
                    out,
                    "<p class=\"date\"><time datetime=\"{}\">{}</time></p>",
                    escape(&iso),
                    escape(&display)
                );
            }
            None => {
                let _ = writeln!(out, "<p class=\"date\">{}</p>", escape(&display));
            }
        }
    }
    let source = shown_url(m);
    if m.publisher.is_some() || source.is_some() {
        out.push_str("<p class=\"source\">");
        if let Some(p) = &m.publisher {
            out.push_str(&escape(p));
            if source.is_some() {
                out.push_str(" · ");
            }
        }
        if let Some((u, shown)) = source {
            let inline = [crate::model::Inline::Link {
                url: u.to_string(),
                title: None,
                content: vec![crate::model::Inline::text(shown)],
            }];
            r.inlines(&inline, out);
        }
        out.push_str("</p>\n");
    }
    if let (Some(label), Some(d)) = (m.retrieved_label(), m.retrieved.as_deref()) {
        match date::normalize(d) {
            Some(iso) => {
                let _ = writeln!(
                    out,
                    "<p class=\"source\">Retrieved <time datetime=\"{}\">{}</time></p>",
                    escape(&iso),
                    escape(&date::display(d))
                );
            }
            None => {
                let _ = writeln!(out, "<p class=\"source\">{}</p>", escape(&label));
            }
        }
    }
    if theme.title.rule != RuleStyle::None {
        out.push_str("<hr/>\n");
    }
    out.push_str("</header>\n");
}

/// Where a generated cover goes in the content folder.
const DRAWN_COVER: &str = "images/cover.png";

/// What a generated cover is drawn from: the theme's parts resolved and copied, so that
/// it can move to the cover's thread.
struct CoverInputs {
    kicker: Option<String>,
    subtitle: Option<String>,
    authors: Vec<String>,
    title: String,
    date: Option<String>,
    background: [u8; 3],
    foreground: [u8; 3],
    accent: [u8; 3],
    title_font: Cow<'static, [u8]>,
    text_font: Cow<'static, [u8]>,
}

impl CoverInputs {
    /// The cover of `doc` in `theme`'s fonts and colours; `None` when the theme lacks them.
    /// Owns what it needs, so that the drawing can be handed to a thread already running.
    fn new(doc: &Document, title: &str, theme: &Theme) -> Option<Self> {
        use crate::theme::{FaceStyle, parse_color};
        let heading = theme.heading_family();
        let title_style = if theme.headings.bold {
            FaceStyle::Bold
        } else {
            FaceStyle::Regular
        };
        let title_font = theme
            .face_data(heading, title_style)
            .or_else(|| theme.face_data(heading, FaceStyle::Regular))?;
        let text_font = theme.face_data(&theme.fonts.body, FaceStyle::Regular)?;
        Some(CoverInputs {
            kicker: doc.meta.kicker.clone(),
            subtitle: doc.meta.subtitle.clone(),
            authors: doc.meta.authors.clone(),
            title: title.to_string(),
            date: doc.meta.date.as_deref().map(date::display),
            background: parse_color(&theme.colors.cover_background).unwrap_or([255, 255, 255]),
            foreground: parse_color(&theme.colors.cover_text).unwrap_or([0, 0, 0]),
            accent: parse_color(&theme.colors.accent).unwrap_or([0, 0, 0]),
            title_font,
            text_font,
        })
    }

    /// The inputs as `render_cover_png` takes them.
    fn spec(&self) -> CoverSpec<'_> {
        CoverSpec {
            kicker: self.kicker.as_deref(),
            title: &self.title,
            subtitle: self.subtitle.as_deref(),
            authors: &self.authors,
            date: self.date.as_deref(),
            background: self.background,
            foreground: self.foreground,
            accent: self.accent,
            title_font: &self.title_font,
            text_font: &self.text_font,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_days() {
        assert_eq!(valid_language("pt_BR").as_deref(), Some("pt-BR"));
        assert_eq!(valid_language("english"), None);
    }

    #[test]
    fn generated_cover_is_in_the_book_and_stable() {
        use std::io::Read as _;
        let doc = crate::read::markdown::read(
            "---\ntitle: Drawn Meanwhile\nauthor: A. Writer\n---\n\nSome text.\n",
        )
        .expect("markdown");
        let theme = Theme::default_theme().expect("theme");
        let book = || {
            let mut warnings = Vec::new();
            let bytes = write(
                &doc,
                &Assets::default(),
                &theme,
                &EpubOptions::default(),
                &mut warnings,
            )
            .expect("epub");
            assert!(warnings.is_empty(), "{warnings:?}");
            bytes
        };
        let first = book();
        assert_eq!(
            first,
            book(),
            "the cover's thread must not change the bytes"
        );
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&first)).expect("zip");
        let mut png = Vec::new();
        zip.by_name("OEBPS/images/cover.png")
            .expect("cover entry")
            .read_to_end(&mut png)
            .expect("read cover");
        let img = image::load_from_memory(&png).expect("cover decodes");
        assert_eq!((img.width(), img.height()), (1600, 2560));
    }
}
