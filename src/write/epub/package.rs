//! The finishing pass over epub-builder's archive.
//!
//! epub-builder 0.8.3 gives `dc:language` and `dc:creator` the same id, stamps zip entries
//! with the current time, leaves `lang` off the navigation document and the NCX without
//! the book's uid. This pass rewrites the archive: `mimetype` first and stored, fixed
//! timestamps, fixed OPF, NCX and nav, so output is valid and byte-identical across runs.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::xhtml::escape;

/// What the pass needs to know about the book.
pub struct Fixes<'a> {
    /// BCP 47 language of the book.
    pub lang: &'a str,
    /// Book title, for the NCX.
    pub title: &'a str,
    /// The `urn:uuid:…` identifier, for the NCX.
    pub uid: &'a str,
    /// Title of the navigation document.
    pub toc_title: &'a str,
    /// Dublin Core elements epub-builder cannot write: (name, value).
    pub dc: &'a [(&'a str, String)],
    /// Entries (full archive path, bytes) that epub-builder was given empty: their bytes go
    /// in here, stored. For already-compressed images, which deflating only slows down.
    pub stored: &'a [(String, &'a [u8])],
    /// An archive (from [`deflate_apart`]) whose entries replace the placeholders of the
    /// same name, copied in compressed; empty for none.
    pub deflated: &'a [u8],
}

/// Deflate level for [`deflate_apart`]'s entries (the fonts). zlib-rs's level 2 costs two
/// thirds of the default level's time on subset fonts for about 4% more bytes (20 KB of
/// EB Garamond: 11.2 KB against 10.8 KB).
const APART_LEVEL: i64 = 2;

/// Deflates `entries` (archive path, bytes) into an archive of their own, as `finish`
/// would, so that the work can run beside the rest of the book and `finish` copy them in.
pub fn deflate_apart(entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let options =
            entry_options(CompressionMethod::Deflated).compression_level(Some(APART_LEVEL));
        out.start_file(name, options)?;
        out.write_all(data)?;
    }
    Ok(out.finish()?.into_inner())
}

/// Settings of every entry: fixed time and permissions, so output is byte-identical.
fn entry_options(method: CompressionMethod) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(stamp())
        .unix_permissions(0o644)
}

/// 1980-01-01 00:00, the earliest time a zip entry can carry.
fn stamp() -> DateTime {
    DateTime::default()
}

/// Rewrites the archive `epub` with the fixes applied.
///
/// Entries that need no change and are already compressed the way the output wants them
/// are copied as they are, compressed bytes and all: inflating and deflating the book's text
/// a second time was most of this pass's cost.
pub fn finish(epub: &[u8], fixes: &Fixes) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut archive = ZipArchive::new(Cursor::new(epub))?;
    // mimetype must be the first entry; everything else keeps its order.
    let mut order: Vec<usize> = (0..archive.len()).collect();
    order.sort_by_key(|&i| archive.name_for_index(i) != Some("mimetype"));

    let mut deflated = match fixes.deflated {
        [] => None,
        bytes => Some(ZipArchive::new(Cursor::new(bytes))?),
    };
    let mut out = ZipWriter::new(Cursor::new(Vec::with_capacity(epub.len() + 4096)));
    for i in order {
        let name = archive.name_for_index(i).unwrap_or_default().to_string();
        let method = if name == "mimetype" || is_compressed_already(&name) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let rewrite = matches!(
            name.as_str(),
            "OEBPS/content.opf" | "OEBPS/nav.xhtml" | "OEBPS/toc.ncx"
        );
        if let Some((_, data)) = fixes.stored.iter().find(|(n, _)| *n == name) {
            out.start_file(name, entry_options(CompressionMethod::Stored))?;
            out.write_all(data)?;
            continue;
        }
        if let Some(apart) = deflated.as_mut()
            && let Some(j) = apart.index_for_name(&name)
        {
            out.raw_copy_file_touch(apart.by_index_raw(j)?, stamp(), Some(0o644))?;
            continue;
        }
        let raw = archive.by_index_raw(i)?;
        if !rewrite && raw.compression() == method {
            out.raw_copy_file_touch(raw, stamp(), Some(0o644))?;
            continue;
        }
        drop(raw);
        let mut f = archive.by_index(i)?;
        let mut data = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut data)?;
        drop(f);
        let data = match name.as_str() {
            "OEBPS/content.opf" => fix_opf(&String::from_utf8_lossy(&data), fixes).into_bytes(),
            "OEBPS/nav.xhtml" => fix_nav(&String::from_utf8_lossy(&data), fixes).into_bytes(),
            "OEBPS/toc.ncx" => fix_ncx(&String::from_utf8_lossy(&data), fixes).into_bytes(),
            _ => data,
        };
        out.start_file(name, entry_options(method))?;
        out.write_all(&data)?;
    }
    Ok(out.finish()?.into_inner())
}

/// Whether an entry is an image format that is compressed already (stored, not deflated).
pub fn is_compressed_already(name: &str) -> bool {
    [".png", ".jpg", ".jpeg", ".gif"]
        .iter()
        .any(|ext| name.to_ascii_lowercase().ends_with(ext))
}

/// Drops the duplicated `epub-creator-N` ids from `dc:language`, adds the missing
/// Dublin Core elements and removes blank lines.
fn fix_opf(opf: &str, fixes: &Fixes) -> String {
    let mut out = String::with_capacity(opf.len());
    for line in opf.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if line
            .trim_start()
            .starts_with("<meta property=\"dcterms:modified\">")
        {
            for (name, value) in fixes.dc {
                out.push_str(&format!("    <dc:{name}>{}</dc:{name}>\n", escape(value)));
            }
        }
        if line
            .trim_start()
            .starts_with("<dc:language id=\"epub-creator-")
            && let (Some(start), Some(end)) = (line.find(" id=\""), line.find("\">"))
        {
            out.push_str(&line[..start]);
            out.push_str(&line[end + 1..]);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn fix_nav(nav: &str, fixes: &Fixes) -> String {
    let lang = escape(fixes.lang);
    nav.replacen(
        "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">",
        &format!(
            "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" lang=\"{lang}\" xml:lang=\"{lang}\">"
        ),
        1,
    )
    .replacen(
        "<nav epub:type = \"landmarks\">",
        "<nav epub:type=\"landmarks\" hidden=\"hidden\">",
        1,
    )
}

fn fix_ncx(ncx: &str, fixes: &Fixes) -> String {
    ncx.replacen(
        "<head>",
        &format!(
            "<head>\n    <meta name=\"dtb:uid\" content=\"{}\" />",
            escape(fixes.uid)
        ),
        1,
    )
    .replacen(
        &format!("<docTitle>\n    <text>{}</text>", escape(fixes.toc_title)),
        &format!("<docTitle>\n    <text>{}</text>", escape(fixes.title)),
        1,
    )
}
