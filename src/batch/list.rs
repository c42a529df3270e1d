//! Reading lists (`--from-list FILE`, `@FILE` in a manifest): what read-later apps export.
//!
//! Three shapes are understood, told apart by extension and then by content:
//! - plain text: one address or path per line; `#` starts a comment at the start of a line
//!   or after whitespace (so `https://x.org/a#part` keeps its fragment), blank lines are
//!   skipped;
//! - an HTML export (Pocket, Instapaper, browser bookmarks): every `http(s)` link, in order;
//! - a CSV export whose header has a `url` column (Instapaper, Pocket, Omnivore, Raindrop).
//!
//! Paths are relative to the list's folder. Each entry is kept once, at its first place.

use std::path::Path;

use dom_query::Document as Dom;

use super::error::BatchError;
use super::input::{self, InputRef};

/// What a reading list file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    Html,
    Csv,
}

/// Reads a reading list; every path entry must name an existing file.
pub fn read_list(path: &Path) -> Result<Vec<InputRef>, BatchError> {
    let bytes = std::fs::read(path).map_err(|source| BatchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = decode(path, &bytes)?;
    let base = path.parent();
    let inputs = match shape(path, text) {
        Shape::Html => html_links(text),
        Shape::Text => checked_all(path, base, text_entries(text))?,
        Shape::Csv => checked_all(path, base, csv_entries(path, text)?)?,
    };
    if inputs.is_empty() {
        return Err(BatchError::EmptyList {
            path: path.to_path_buf(),
        });
    }
    Ok(input::dedup(inputs))
}

/// Whether a `.txt` file named as a manifest input is a reading list rather than a plain-text
/// article: every entry is a web address (the shape read-later apps export), and there is
/// at least one. An article made only of bare addresses would be no article at all.
pub(crate) fn is_url_list(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let Ok(text) = decode(path, &bytes) else {
        return false;
    };
    let entries = text_entries(text);
    !entries.is_empty()
        && entries
            .iter()
            .all(|(_, e)| matches!(InputRef::parse(e, None), InputRef::Url(_)) && !e.contains(' '))
}

/// The text of a list: UTF-8, with any byte-order mark dropped.
fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, BatchError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        BatchError::List {
            path: path.to_path_buf(),
            line,
            message: "not UTF-8 text (save the list as UTF-8)".into(),
        }
    })
}

fn shape(path: &Path, text: &str) -> Shape {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => return Shape::Html,
        Some("csv") => return Shape::Csv,
        _ => {}
    }
    // Exports are often saved without the right extension; their first line gives them
    // away, and no address or path starts with '<'.
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(l) if l.starts_with('<') => Shape::Html,
        Some(l) if l.contains(',') && csv_header_url(&split_csv_line(l)).is_some() => Shape::Csv,
        _ => Shape::Text,
    }
}

/// Turns (line, entry) pairs into inputs, reporting the first bad one with its line.
fn checked_all(
    path: &Path,
    base: Option<&Path>,
    entries: Vec<(usize, String)>,
) -> Result<Vec<InputRef>, BatchError> {
    entries
        .into_iter()
        .map(|(line, raw)| {
            input::checked(&raw, base).map_err(|message| BatchError::List {
                path: path.to_path_buf(),
                line,
                message,
            })
        })
        .collect()
}

/// The entries of a plain-text list with their 1-based lines.
fn text_entries(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let entry = strip_comment(line).trim();
            (!entry.is_empty()).then(|| (i + 1, entry.to_string()))
        })
        .collect()
}

/// A line without its comment. `#` starts one only at the start of the line or after
/// whitespace: in an address it begins the fragment, which must be kept.
fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return &line[..i];
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// Every `http(s)` link of an HTML export, in document order. Other links (folders,
/// `javascript:`, in-page anchors) are the export's own navigation, not articles.
fn html_links(text: &str) -> Vec<InputRef> {
    let dom = Dom::from(text);
    dom.select("a[href]")
        .nodes()
        .iter()
        .filter_map(|a| a.attr("href"))
        .map(|href| href.trim().to_string())
        .filter_map(|href| match InputRef::parse(&href, None) {
            url @ InputRef::Url(_) => Some(url),
            _ => None,
        })
        .collect()
}

/// The `url` column of each CSV row, with the line the row starts on.
fn csv_entries(path: &Path, text: &str) -> Result<Vec<(usize, String)>, BatchError> {
    let list_error = |line: usize, message: String| BatchError::List {
        path: path.to_path_buf(),
        line,
        message,
    };
    let rows =
        csv_rows(text).map_err(|line| list_error(line, "a quoted field is never closed".into()))?;
    let mut rows = rows
        .into_iter()
        .filter(|(_, fields)| !(fields.len() == 1 && fields[0].trim().is_empty()));
    let Some((header_line, header)) = rows.next() else {
        return Ok(Vec::new());
    };
    let column = csv_header_url(&header)
        .ok_or_else(|| list_error(header_line, "the CSV header has no 'url' column".into()))?;
    rows.map(
        |(line, fields)| match fields.get(column).map(|f| f.trim()) {
            Some(url) if !url.is_empty() => Ok((line, url.to_string())),
            _ => Err(list_error(line, "this row has no url".into())),
        },
    )
    .collect()
}

/// The index of the `url` column of a CSV header, in any case.
fn csv_header_url(header: &[String]) -> Option<usize> {
    header
        .iter()
        .position(|h| h.trim().trim_matches('"').eq_ignore_ascii_case("url"))
}

/// The fields of one CSV line, for sniffing a header.
fn split_csv_line(line: &str) -> Vec<String> {
    csv_rows(line)
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .map(|(_, fields)| fields)
        .unwrap_or_default()
}

/// Splits CSV text (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks)
/// into rows, each with the 1-based line it starts on. Fails with the line of a quoted field
/// that is never closed.
fn csv_rows(text: &str) -> Result<Vec<(usize, Vec<String>)>, usize> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut row_line = 1;
    let mut quoted = false;
    let mut quote_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                quote_line = line;
            }
            ',' => fields.push(std::mem::take(&mut field)),
            // CRLF line ends: the '\n' ends the row.
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                rows.push((row_line, std::mem::take(&mut fields)));
                line += 1;
                row_line = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(quote_line);
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        rows.push((row_line, fields));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn url(u: &str) -> InputRef {
        InputRef::Url(u.into())
    }

    #[test]
    fn batch_list_comments_keep_url_fragments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "# A").unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(
            &list,
            "\u{feff}# saved this week\r\n\
             https://x.org/story#part-2\r\n\
             \r\n\
             https://x.org/b   # the long one\r\n\
             \t# indented comment\n\
             a.md #local copy\n\
             https://x.org/c#\n",
        )
        .unwrap();
        let got = read_list(&list).unwrap();
        assert_eq!(
            got,
            vec![
                url("https://x.org/story#part-2"),
                url("https://x.org/b"),
                InputRef::Path(dir.path().join("a.md")),
                url("https://x.org/c#"),
            ]
        );
    }

    #[test]
    fn batch_list_paths_relative_to_list_folder_and_errors_name_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.md"), "# A").unwrap();
        let list = dir.path().join("sub/list.txt");
        std::fs::write(&list, "a.md\n\nmissing.md\n").unwrap();
        let err = read_list(&list).unwrap_err();
        match &err {
            BatchError::List { path, line, .. } => {
                assert_eq!(path, &list);
                assert_eq!(*line, 3);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("list.txt, line 3: no such file"));
    }

    #[test]
    fn batch_list_empty_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, "# nothing yet\n\n").unwrap();
        assert!(matches!(
            read_list(&list),
            Err(BatchError::EmptyList { .. })
        ));
    }

    #[test]
    fn batch_list_duplicates_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, "https://x.org/a\nhttps://x.org/b\nhttps://x.org/a\n").unwrap();
        assert_eq!(
            read_list(&list).unwrap(),
            vec![url("https://x.org/a"), url("https://x.org/b")]
        );
    }

    #[test]
    fn batch_list_pocket_html_export() {
        let dir = tempfile::tempdir().unwrap();
        // Saved without an .html extension: sniffed from its first line.
        let list = dir.path().join("ril_export");
        std::fs::write(
            &list,
            r##"<!DOCTYPE html>
<html><head><title>Pocket Export</title></head><body>
<h1>Unread</h1>
<ul>
<li><a href="https://x.org/one?a=1&amp;b=2" time_added="1700000000" tags="">One</a></li>
<li><a href="#top">Top</a></li>
<li><a href="http://y.org/two#frag" time_added="1700000001">Two</a></li>
</ul>
<h1>Read Archive</h1><ul><li><a href="javascript:void(0)">x</a></li></ul>
</body></html>"##,
        )
        .unwrap();
        assert_eq!(
            read_list(&list).unwrap(),
            vec![
                url("https://x.org/one?a=1&b=2"),
                url("http://y.org/two#frag")
            ]
        );
    }

    #[test]
    fn batch_list_csv_exports() {
        let dir = tempfile::tempdir().unwrap();
        // Instapaper: URL first, quoted titles with commas, quotes and a line break.
        let insta = dir.path().join("instapaper-export.csv");
        std::fs::write(
            &insta,
            "URL,Title,Selection,Folder,Timestamp\r\n\
             https://x.org/a,\"A, \"\"quoted\"\" title\",,Unread,1700000000\r\n\
             https://x.org/b#f,\"Two\r\nlines\",,Archive,1700000001\r\n",
        )
        .unwrap();
        assert_eq!(
            read_list(&insta).unwrap(),
            vec![url("https://x.org/a"), url("https://x.org/b#f")]
        );
        // Pocket: url second; sniffed without the .csv extension.
        let pocket = dir.path().join("part_000000");
        std::fs::write(
            &pocket,
            "title,url,time_added,tags,status\n\"One\",https://y.org/1,1,,unread\n\n",
        )
        .unwrap();
        assert_eq!(read_list(&pocket).unwrap(), vec![url("https://y.org/1")]);
    }

    #[test]
    fn batch_list_csv_errors_name_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("x.csv");
        std::fs::write(&csv, "title,link\nA,https://x.org\n").unwrap();
        let err = read_list(&csv).unwrap_err();
        assert!(matches!(err, BatchError::List { line: 1, .. }), "{err:?}");
        assert!(err.to_string().contains("'url' column"));

        std::fs::write(&csv, "url,title\n\"https://x.org,A\nftp://y.org/z,B\n").unwrap();
        let err = read_list(&csv).unwrap_err();
        assert!(matches!(err, BatchError::List { line: 2, .. }), "{err:?}");

        std::fs::write(&csv, "title,url\nA,https://x.org\nB,ftp://y.org/z\n").unwrap();
        let err = read_list(&csv).unwrap_err();
        assert!(matches!(err, BatchError::List { line: 3, .. }), "{err:?}");
        assert!(err.to_string().contains("http"));
    }

    #[test]
    fn batch_list_missing_file_names_it() {
        let err = read_list(Path::new("/nonexistent/list.txt")).unwrap_err();
        assert!(
            matches!(&err, BatchError::Io { path, .. } if path == &PathBuf::from("/nonexistent/list.txt"))
        );
        assert!(err.to_string().starts_with("/nonexistent/list.txt: "));
    }

    #[test]
    fn batch_list_not_utf8_names_line() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, b"https://x.org\nhttps://y.org/\xff\n").unwrap();
        assert!(matches!(
            read_list(&list),
            Err(BatchError::List { line: 2, .. })
        ));
    }
}
