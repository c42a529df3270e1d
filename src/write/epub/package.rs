//! The finishing pass over epub-builder's archive.
//!
//! epub-builder 0.8.3 gives `dc:language` and `dc:creator` the same id, stamps zip entries
//! with the current time, leaves `lang` off the navigation document and the NCX without
//! the book's uid. This pass rewrites the archive: `mimetype` first and stored, fixed
//! timestamps, fixed OPF, NCX and nav, so output is valid and byte-identical across runs.

use std::fs::File;
use std::io::{Cursor, Read, Write};

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::xhtml::escape;
use crate::write::spill::Spill;

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
}

/// Deflate level for [`pack_apart`]'s entries (the fonts). zlib-rs's level 2 costs two
/// thirds of the default level's time on subset fonts for about 4% more bytes (20 KB of
/// EB Garamond: 11.2 KB against 10.8 KB).
const APART_LEVEL: i64 = 2;

/// Entries for [`pack_apart`] that come to less than this in all are stored, not deflated:
/// the subset faces of a Latin-script article or book (28 KB for a news article, 59 KB
/// for the generated 100,000-word book). Deflating them took their thread 0.75 ms of CPU,
/// a zlib stream's 390 KB of tables faulted in afresh, and the writer often waited for
/// it: news article → EPUB 8.33 → 7.44 ms with a busy core beside it, 5.34 → 5.20 ms on
/// an idle host, for 13 KB more. Larger sets (scripts with many glyphs, many faces) are
/// still deflated.
const STORE_APART_BELOW: usize = 64 << 10;

/// Room kept in the archive for each late entry (see [`Pass::start`]).
const LATE_ROOM: usize = 256 << 10;

/// Rewritten documents shorter than this are stored rather than deflated.
const STORE_BELOW: usize = 2048;

/// Packs `entries` (archive path, bytes) into an archive of their own, deflated unless
/// small (see [`STORE_APART_BELOW`]), so that the work can run beside the rest of the book
/// and [`Pass::add_packed`] copy them in as they are.
pub fn pack_apart(entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ZipError> {
    let total: usize = entries.iter().map(|(_, data)| data.len()).sum();
    let options = if total < STORE_APART_BELOW {
        entry_options(CompressionMethod::Stored)
    } else {
        entry_options(CompressionMethod::Deflated).compression_level(Some(APART_LEVEL))
    };
    let room = total + entries.len() * 128 + 64;
    let mut out = ZipWriter::new(Cursor::new(Vec::with_capacity(room)));
    for (name, data) in entries {
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

/// The finishing pass, begun before the side jobs are done: [`Pass::start`] rewrites every
/// entry whose bytes are at hand, the late ones (fonts, a drawn cover) are added as their
/// jobs finish, and [`Pass::end`] closes the archive. Late entries go last: only
/// `mimetype` has a place in an EPUB's order, and the rest of the pass then overlaps
/// the drawing instead of waiting for it.
pub struct Pass<'f> {
    out: ZipWriter<Spill<'f>>,
    /// Late entries not added yet.
    late: Vec<String>,
}

impl<'f> Pass<'f> {
    /// Rewrites the archive `epub` with the fixes applied, leaving out the placeholders
    /// named in `late`, whose bytes come through [`Pass::add_packed`] or
    /// [`Pass::add_stored`]. The result goes to `file` (an empty file) if given, large
    /// pieces as they come (see [`Spill`]), or else stays in memory.
    ///
    /// Entries that need no change and are already compressed the way the output wants
    /// them are copied as they are, compressed bytes and all: inflating and deflating the
    /// book's text a second time was most of this pass's cost.
    pub fn start(
        epub: &[u8],
        fixes: &Fixes,
        late: Vec<String>,
        file: Option<&'f File>,
    ) -> Result<Pass<'f>, ZipError> {
        let mut archive = ZipArchive::new(Cursor::new(epub))?;
        // mimetype must be the first entry; everything else keeps its order.
        let mut order: Vec<usize> = (0..archive.len()).collect();
        order.sort_by_key(|&i| archive.name_for_index(i) != Some("mimetype"));

        // Room for the late entries too: a drawn cover is 100-200 KB, and growing the
        // archive past it would copy all of it into fresh pages. Room not written to is
        // never touched, so it costs nothing.
        let room = epub.len() + 4096 + late.len() * LATE_ROOM;
        let mut out = ZipWriter::new(Spill::new(file, room));
        for i in order {
            let name = archive.name_for_index(i).unwrap_or_default().to_string();
            if late.contains(&name) {
                continue;
            }
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
            // A short rewritten document (an article's OPF, nav or NCX) is stored: setting
            // up a deflate stream (zeroing some 390 KB of tables) costs more than the
            // kilobyte or so it would save. A book's are deflated.
            let method = if rewrite && data.len() < STORE_BELOW {
                CompressionMethod::Stored
            } else {
                method
            };
            out.start_file(name, entry_options(method))?;
            out.write_all(&data)?;
        }
        Ok(Pass { out, late })
    }

    /// Copies in, compressed or stored as they are, the late entries of `archive` (made
    /// by [`pack_apart`]).
    pub fn add_packed(&mut self, archive: &[u8]) -> Result<(), ZipError> {
        let mut apart = ZipArchive::new(Cursor::new(archive))?;
        for j in 0..apart.len() {
            let entry = apart.by_index_raw(j)?;
            if self.take(entry.name()) {
                self.out.raw_copy_file_touch(entry, stamp(), Some(0o644))?;
            }
        }
        Ok(())
    }

    /// Sends the archive so far to its file, if it has one: the fonts are in, and only
    /// the cover is still to come, which then need not wait for the rest to be written.
    pub fn send(&mut self) -> Result<(), ZipError> {
        Ok(self.out.flush()?)
    }

    /// Adds the late entry `name`, stored (for images, which are compressed already);
    /// its bytes are the `pieces` one after another, as a drawn cover's coded bands come.
    pub fn add_stored<'a>(
        &mut self,
        name: &str,
        pieces: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), ZipError> {
        if self.take(name) {
            self.out
                .start_file(name, entry_options(CompressionMethod::Stored))?;
            for piece in pieces {
                self.out.write_all(piece)?;
            }
        }
        Ok(())
    }

    /// Whether `name` is a late entry still to add, and if so marks it added.
    fn take(&mut self, name: &str) -> bool {
        let at = self.late.iter().position(|n| n == name);
        at.map(|i| self.late.swap_remove(i)).is_some()
    }

    /// Closes the archive and returns its length and, when it was not written to a
    /// file, its bytes; an error if a late entry never came, since the package document
    /// lists it.
    pub fn end(self) -> Result<(u64, Vec<u8>), ZipError> {
        if !self.late.is_empty() {
            return Err(ZipError::FileNotFound);
        }
        let sink = self.out.finish()?;
        let len = sink.len();
        Ok((len, sink.finish()?))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive of `entries` (name, bytes), deflated, as epub-builder would leave it.
    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            out.start_file(*name, SimpleFileOptions::default())
                .expect("start");
            out.write_all(data).expect("write");
        }
        out.finish().expect("finish").into_inner()
    }

    fn names_and_bytes(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut a = ZipArchive::new(Cursor::new(zip)).expect("archive");
        (0..a.len())
            .map(|i| {
                let mut f = a.by_index(i).expect("entry");
                let mut data = Vec::new();
                f.read_to_end(&mut data).expect("read");
                (f.name().to_string(), data)
            })
            .collect()
    }

    fn fixes() -> Fixes<'static> {
        Fixes {
            lang: "en",
            title: "T",
            uid: "urn:uuid:0",
            toc_title: "Contents",
            dc: &[],
            stored: &[],
        }
    }

    #[test]
    fn late_entries_replace_their_placeholders_at_the_end() {
        let book = archive(&[
            ("OEBPS/fonts/a.ttf", b""),
            ("OEBPS/text.xhtml", b"<p>text</p>"),
            ("mimetype", b"application/epub+zip"),
            ("OEBPS/images/cover.png", b""),
        ]);
        let late = vec![
            "OEBPS/fonts/a.ttf".to_string(),
            "OEBPS/images/cover.png".to_string(),
        ];
        // A cover large enough for its pieces to go straight to a file.
        let big = vec![b'#'; 40 << 10];
        let run = |file: Option<&File>| {
            let mut pass = Pass::start(&book, &fixes(), late.clone(), file).expect("start");
            let fonts =
                pack_apart(&[("OEBPS/fonts/a.ttf".into(), b"font bytes".to_vec())]).expect("fonts");
            pass.add_packed(&fonts).expect("fonts in");
            pass.send().expect("sent");
            // In pieces, as a drawn cover's coded bands come.
            let pieces: [&[u8]; 4] = [b"png", b" ", b"bytes", &big];
            pass.add_stored("OEBPS/images/cover.png", pieces)
                .expect("cover in");
            pass.end().expect("end")
        };
        let (len, done) = run(None);
        assert_eq!(len, done.len() as u64);
        // Written to a file instead, the archive is the same, byte for byte.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("book.epub");
        let file = File::create(&path).expect("create");
        let (file_len, kept) = run(Some(&file));
        assert!(kept.is_empty());
        assert_eq!(file_len, len);
        assert_eq!(std::fs::read(&path).expect("read"), done);
        let entries = names_and_bytes(&done);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "mimetype",
                "OEBPS/text.xhtml",
                "OEBPS/fonts/a.ttf",
                "OEBPS/images/cover.png"
            ]
        );
        assert_eq!(entries[2].1, b"font bytes");
        assert_eq!(entries[3].1, [&b"png bytes"[..], &big].concat());
        let mut a = ZipArchive::new(Cursor::new(&done[..])).expect("archive");
        let cover = a.by_name("OEBPS/images/cover.png").expect("cover");
        assert_eq!(cover.compression(), CompressionMethod::Stored);
    }

    #[test]
    fn an_articles_fonts_are_stored_and_a_books_deflated() {
        let method = |archive: &[u8]| {
            let mut a = ZipArchive::new(Cursor::new(archive)).expect("archive");
            a.by_index(0).expect("entry").compression()
        };
        let small = vec![("OEBPS/fonts/a.ttf".to_string(), vec![7u8; 20 << 10])];
        assert_eq!(
            method(&pack_apart(&small).expect("small")),
            CompressionMethod::Stored
        );
        let large = vec![
            ("OEBPS/fonts/a.ttf".to_string(), vec![7u8; 40 << 10]),
            ("OEBPS/fonts/b.ttf".to_string(), vec![9u8; 40 << 10]),
        ];
        let packed = pack_apart(&large).expect("large");
        assert_eq!(method(&packed), CompressionMethod::Deflated);
        let entries = names_and_bytes(&packed);
        assert_eq!(entries[1].1, large[1].1);
    }

    #[test]
    fn short_rewritten_documents_are_stored_and_long_ones_deflated() {
        let long_nav = format!("<nav>{}</nav>", "<li>entry</li>".repeat(400));
        let book = archive(&[
            ("mimetype", b"application/epub+zip"),
            ("OEBPS/content.opf", b"<package/>"),
            ("OEBPS/nav.xhtml", long_nav.as_bytes()),
        ]);
        let (_, done) = Pass::start(&book, &fixes(), Vec::new(), None)
            .expect("start")
            .end()
            .expect("end");
        let mut a = ZipArchive::new(Cursor::new(&done[..])).expect("archive");
        let method = |a: &mut ZipArchive<Cursor<&[u8]>>, name: &str| {
            a.by_name(name).expect("entry").compression()
        };
        assert_eq!(
            method(&mut a, "OEBPS/content.opf"),
            CompressionMethod::Stored
        );
        assert_eq!(
            method(&mut a, "OEBPS/nav.xhtml"),
            CompressionMethod::Deflated
        );
        let entries = names_and_bytes(&done);
        assert_eq!(entries[2].1, long_nav.as_bytes());
    }

    #[test]
    fn a_late_entry_that_never_comes_is_an_error() {
        let book = archive(&[("mimetype", b"application/epub+zip"), ("OEBPS/a.png", b"")]);
        let pass = Pass::start(&book, &fixes(), vec!["OEBPS/a.png".into()], None).expect("start");
        assert!(pass.end().is_err());
        // Entries that were not announced as late are not taken in.
        let mut pass = Pass::start(&book, &fixes(), Vec::new(), None).expect("start");
        pass.add_stored("OEBPS/b.png", [&b"x"[..]])
            .expect("ignored");
        let names: Vec<String> = names_and_bytes(&pass.end().expect("end").1)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["mimetype", "OEBPS/a.png"]);
    }
}
