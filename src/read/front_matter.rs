//! Front matter: the YAML (`---`) or TOML (`+++`) block at the very top of a Markdown file,
//! as Jekyll, Hugo, Zola and most static-site generators write it, mapped to [`Meta`].

use crate::model::{Meta, date, language_tag};

/// How a front-matter block is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Between `---` lines (closed by `---` or `...`).
    Yaml,
    /// Between `+++` lines.
    Toml,
}

impl Format {
    /// Human name used in error messages: `"YAML"` or `"TOML"`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
        }
    }
}

/// A front-matter block cut from the top of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontMatter<'a> {
    /// YAML or TOML.
    pub format: Format,
    /// The text between the delimiter lines.
    pub text: &'a str,
    /// 1-based line number, in the whole file, of the first line of `text`.
    pub first_line: usize,
    /// Everything after the closing delimiter line.
    pub body: &'a str,
}

/// Front matter that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: malformed {format} front matter: {message}")]
pub struct FrontMatterError {
    /// 1-based line in the whole source file.
    pub line: usize,
    /// `"YAML"` or `"TOML"`.
    pub format: &'static str,
    /// What the parser said, without its own (block-relative) position.
    pub message: String,
}

/// Cuts a front-matter block from the top of `source`, if there is a closed one.
///
/// Like pulldown-cmark (and unlike a bare `---` thematic break), the line after the opening
/// delimiter must not be blank; an immediately closed block (`---` then `---`) is the empty
/// front matter Jekyll uses. An unclosed block is not front matter.
pub fn split(source: &str) -> Option<FrontMatter<'_>> {
    let start = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = &source[start..];
    let (first, mut pos) = next_line(rest, 0)?;
    let format = match first.trim_end() {
        "---" => Format::Yaml,
        "+++" => Format::Toml,
        _ => return None,
    };
    let text_start = pos;
    let mut first_content_line = true;
    while let Some((line, next)) = next_line(rest, pos) {
        if is_closer(line, format) {
            return Some(FrontMatter {
                format,
                text: &rest[text_start..pos],
                first_line: 2,
                body: &rest[next..],
            });
        }
        if first_content_line && line.trim().is_empty() {
            return None;
        }
        first_content_line = false;
        pos = next;
    }
    None
}

/// Reads a pandoc title block (`% Title`, `% Author; Author`, `% Date` lines at the very top;
/// continuation lines start with a space) and returns its metadata and the rest of the source.
pub fn pandoc_title_block(source: &str) -> Option<(Meta, &str)> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    if !source.starts_with('%') {
        return None;
    }
    let mut fields: Vec<String> = Vec::new();
    let mut pos = 0;
    while let Some((line, next)) = next_line(source, pos) {
        if let Some(field) = line.strip_prefix('%') {
            if fields.len() == 3 {
                break;
            }
            fields.push(field.trim().to_string());
        } else if line.starts_with([' ', '\t']) && !line.trim().is_empty() && !fields.is_empty() {
            if let Some(last) = fields.last_mut() {
                last.push(if last.is_empty() { '\0' } else { ' ' });
                last.push_str(line.trim());
            }
        } else {
            break;
        }
        pos = next;
    }
    let text = |i: usize| {
        fields
            .get(i)
            .map(|f| f.trim_matches('\0').replace('\0', " "))
            .filter(|f| !f.is_empty())
    };
    let authors = fields
        .get(1)
        .map(|a| {
            // Authors on continuation lines are separate people, like `;`.
            a.split([';', '\0'])
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let meta = Meta {
        title: text(0),
        authors,
        date: text(2).and_then(|d| date::normalize(&d)),
        ..Meta::default()
    };
    Some((meta, &source[pos..]))
}

/// Parses a front-matter block into metadata.
///
/// `Ok(None)` means the block is not metadata after all (YAML that is a plain scalar or a
/// list, e.g. a thematic break, a line of text and a setext underline), so the caller should
/// read the whole file as Markdown.
pub fn parse(fm: &FrontMatter<'_>) -> Result<Option<Meta>, FrontMatterError> {
    let value = match fm.format {
        Format::Yaml => parse_yaml(fm)?,
        Format::Toml => parse_toml(fm)?,
    };
    match value {
        Value::Map(entries) => Ok(Some(to_meta(&entries))),
        Value::Null => Ok(Some(Meta::default())),
        _ => Ok(None),
    }
}

/// Returns the line starting at `pos` (without its terminator) and where the next one starts.
fn next_line(s: &str, pos: usize) -> Option<(&str, usize)> {
    if pos >= s.len() {
        return None;
    }
    let rest = &s[pos..];
    match rest.find('\n') {
        Some(i) => Some((rest[..i].trim_end_matches('\r'), pos + i + 1)),
        None => Some((rest, s.len())),
    }
}

fn is_closer(line: &str, format: Format) -> bool {
    let line = line.trim_end_matches([' ', '\t', '\r']);
    match format {
        Format::Yaml => line == "---" || line == "...",
        Format::Toml => line == "+++",
    }
}

/// Front-matter data after parsing, independent of the syntax it came from.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Scalar(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

// Front matter is a few dozen keys; these limits only stop hostile input (YAML bombs,
// absurd nesting) long before they cost noticeable time or memory.
const MAX_DEPTH: usize = 32;

fn parse_yaml(fm: &FrontMatter<'_>) -> Result<Value, FrontMatterError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_events: 200_000,
            max_nodes: 100_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_documents: 1,
            max_total_scalar_bytes: 8 << 20,
            max_recorded_anchor_events: 100_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
        },
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        with_snippet: false,
    };
    if fm.text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    }) {
        return Ok(Value::Null);
    }
    match serde_saphyr::from_str_with_options::<serde_json::Value>(fm.text, options) {
        Ok(v) => Ok(from_json(v)),
        Err(err) => {
            let err = err.without_snippet();
            let rel = err
                .location()
                .map(|l| l.line())
                .filter(|&l| l > 0)
                .unwrap_or(1);
            let rel = usize::try_from(rel).unwrap_or(1);
            Err(FrontMatterError {
                line: fm.first_line + rel - 1,
                format: Format::Yaml.name(),
                message: strip_location(&err.to_string()),
            })
        }
    }
}

/// Drops the parser's own "at line X column Y" suffix: its numbers count from the start of
/// the block, not the file, and would contradict the line we report.
fn strip_location(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or("").trim();
    let cut = [" at line ", " at position ", " (line "]
        .iter()
        .filter_map(|pat| first.find(pat))
        .min()
        .unwrap_or(first.len());
    let out = first[..cut].trim_end_matches([',', ':', ' ']).to_string();
    if out.is_empty() {
        first.to_string()
    } else {
        out
    }
}

fn from_json(v: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Scalar(b.to_string()),
        J::Number(n) => Value::Scalar(n.to_string()),
        J::String(s) => Value::Scalar(s),
        J::Array(items) => Value::List(items.into_iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
    }
}

fn parse_toml(fm: &FrontMatter<'_>) -> Result<Value, FrontMatterError> {
    if let Some(offset) = too_deep_toml(fm.text) {
        return Err(FrontMatterError {
            line: fm.first_line + line_of(fm.text, offset),
            format: Format::Toml.name(),
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    match fm.text.parse::<toml::Table>() {
        Ok(table) => Ok(from_toml(toml::Value::Table(table))),
        Err(err) => Err(FrontMatterError {
            line: fm.first_line + err.span().map_or(0, |s| line_of(fm.text, s.start)),
            format: Format::Toml.name(),
            message: err.message().trim().to_string(),
        }),
    }
}

/// 0-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Offset of the first bracket past [`MAX_DEPTH`] levels of arrays or inline tables, if any,
/// so that hostile nesting never reaches the (recursive) TOML parser. Strings and comments
/// are skipped so their brackets do not count.
fn too_deep_toml(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = bytes.get(i..i + 3) == Some(&[q, q, q][..]);
                if triple {
                    i += 3;
                    while i < bytes.len() && bytes.get(i..i + 3) != Some(&[q, q, q][..]) {
                        i += if q == b'"' && bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 2;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                        i += if q == b'"' && bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn from_toml(v: toml::Value) -> Value {
    use toml::Value as T;
    match v {
        T::String(s) => Value::Scalar(s),
        T::Integer(n) => Value::Scalar(n.to_string()),
        T::Float(f) => Value::Scalar(f.to_string()),
        T::Boolean(b) => Value::Scalar(b.to_string()),
        T::Datetime(d) => Value::Scalar(d.to_string()),
        T::Array(items) => Value::List(items.into_iter().map(from_toml).collect()),
        T::Table(t) => Value::Map(t.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
    }
}

/// Keys compared case-insensitively, with `-` and `_` the same (`canonical-url`).
fn norm_key(key: &str) -> String {
    key.trim()
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

struct Keys<'a> {
    entries: Vec<(String, &'a Value)>,
}

impl<'a> Keys<'a> {
    fn new(map: &'a [(String, Value)]) -> Self {
        Keys {
            entries: map.iter().map(|(k, v)| (norm_key(k), v)).collect(),
        }
    }

    /// Values of the given keys, in the order of `names` (the preferred spelling first).
    fn values<'k>(&'k self, names: &'k [&'k str]) -> impl Iterator<Item = &'a Value> + 'k {
        names.iter().flat_map(move |name| {
            self.entries
                .iter()
                .filter(move |(k, _)| k == name)
                .map(|(_, v)| *v)
        })
    }

    fn text(&self, names: &[&str]) -> Option<String> {
        self.values(names).find_map(scalar_text)
    }
}

/// A single piece of text: a scalar, or the first usable item of a list.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Scalar(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::List(items) => items.iter().find_map(scalar_text),
        Value::Null | Value::Map(_) => None,
    }
}

/// The text of a field inside a map (`{name: …}`, `{src: …}`), trying `fields` in order.
fn map_field(v: &Value, fields: &[&str]) -> Option<String> {
    match v {
        Value::Map(entries) => {
            let keys = Keys::new(entries);
            keys.text(fields)
        }
        _ => None,
    }
}

fn to_meta(map: &[(String, Value)]) -> Meta {
    let keys = Keys::new(map);
    let mut meta = Meta {
        title: keys.text(&["title"]),
        subtitle: keys.text(&["subtitle"]),
        authors: authors(&keys),
        description: keys.text(&["description", "summary", "excerpt", "abstract"]),
        publisher: keys.text(&["publisher", "site", "site_name"]),
        rights: keys.text(&["rights", "copyright", "license", "licence"]),
        identifier: keys.text(&["identifier", "isbn", "doi", "uuid"]),
        kicker: keys.text(&["kicker", "section", "category"]),
        ..Meta::default()
    };
    meta.date = keys
        .values(&[
            "date",
            "published",
            "pubdate",
            "publishdate",
            "publish_date",
            "date_published",
        ])
        .filter_map(scalar_text)
        .find_map(|d| date::normalize(&d))
        .or_else(|| {
            // Permalinks like `2016/04/19/MIR` carry the date when no key does.
            keys.values(&["path", "permalink", "slug", "url"])
                .filter_map(scalar_text)
                .find_map(|p| date_in_path(&p))
        });
    meta.language = keys
        .values(&["lang", "language", "locale", "languagecode"])
        .filter_map(scalar_text)
        .find_map(|l| language_tag(&l));
    meta.source_url = keys
        .values(&[
            "source",
            "source_url",
            "canonical_url",
            "canonical",
            "url",
            "link",
            "original_url",
            "permalink",
        ])
        .filter_map(scalar_text)
        .find(|u| is_web_url(u));
    meta.cover = keys
        .values(&["cover", "cover_image", "image", "featured_image", "images"])
        .find_map(cover);
    meta.tags = tags(&keys);
    // Some themes put the display date in `description` ("October 13, 2019"); as a summary it
    // only repeats the date.
    if let (Some(desc), Some(d)) = (&meta.description, &meta.date)
        && desc.split_whitespace().count() <= 4
        && date::normalize(desc).is_some_and(|nd| d.starts_with(&nd))
    {
        meta.description = None;
    }
    meta
}

fn authors(keys: &Keys<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(value) = keys
        .values(&["authors", "author", "by", "creator", "creators"])
        .find(|v| !matches!(v, Value::Null))
    else {
        return out;
    };
    let mut push = |name: &str| {
        let name = name.trim();
        if !name.is_empty() && !out.iter().any(|a| a == name) {
            out.push(name.to_string());
        }
    };
    match value {
        // One string may hold several people ("A and B"); a comma may not ("Doe, Jane").
        Value::Scalar(s) => split_names(s).for_each(&mut push),
        Value::List(items) => {
            for item in items {
                match item {
                    Value::Scalar(s) => push(s),
                    map @ Value::Map(_) => {
                        if let Some(n) = map_field(map, &["name", "display_name", "title"]) {
                            push(&n);
                        }
                    }
                    _ => {}
                }
            }
        }
        map @ Value::Map(_) => {
            if let Some(n) = map_field(map, &["name", "display_name", "title"]) {
                push(&n);
            }
        }
        Value::Null => {}
    }
    out
}

fn split_names(s: &str) -> impl Iterator<Item = &str> {
    s.split(';')
        .flat_map(|part| part.split(" and "))
        .flat_map(|part| part.split(" & "))
}

fn cover(v: &Value) -> Option<String> {
    match v {
        Value::Scalar(_) => scalar_text(v),
        Value::Map(_) => map_field(v, &["src", "url", "path", "image", "file"]),
        Value::List(items) => items.iter().find_map(cover),
        Value::Null => None,
    }
}

fn tags(keys: &Keys<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |tag: &str| {
        let tag = tag.trim();
        if !tag.is_empty() && !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.to_string());
        }
    };
    for value in keys.values(&["tags", "keywords", "categories"]) {
        match value {
            Value::Scalar(s) => s.split(',').for_each(&mut push),
            Value::List(items) => items.iter().filter_map(scalar_text).for_each(|t| push(&t)),
            _ => {}
        }
    }
    out
}

fn is_web_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && s.len() > lower.find("//").map_or(0, |i| i + 2)
        && !s.chars().any(char::is_whitespace)
}

/// `YYYY/MM/DD` or `YYYY-MM-DD` inside a path or URL.
fn date_in_path(path: &str) -> Option<String> {
    let b = path.as_bytes();
    for i in 0..b.len().saturating_sub(9) {
        let window = &b[i..i + 10];
        let sep = window[4];
        let digits = |r: std::ops::Range<usize>| window[r].iter().all(u8::is_ascii_digit);
        let boundary_before = i == 0 || !b[i - 1].is_ascii_digit();
        let boundary_after = b.get(i + 10).is_none_or(|c| !c.is_ascii_digit());
        if (sep == b'/' || sep == b'-')
            && window[7] == sep
            && digits(0..4)
            && digits(5..7)
            && digits(8..10)
            && boundary_before
            && boundary_after
        {
            let s = std::str::from_utf8(window).ok()?;
            if let Some(d) = date::normalize(&s.replace('/', "-")) {
                return Some(d);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(src: &str) -> Meta {
        let fm = split(src).expect("front matter");
        parse(&fm).expect("parses").expect("is a map")
    }

    #[test]
    fn splits_only_closed_blocks_at_the_top() {
        assert!(split("---\ntitle: x\n").is_none());
        assert!(split("---\n\ntitle: x\n---\n").is_none());
        assert!(split("text\n---\ntitle: x\n---\n").is_none());
        let fm = split("---\r\ntitle: x\r\n...\r\nbody").expect("closed");
        assert_eq!(fm.body, "body");
        assert_eq!(fm.format, Format::Yaml);
        let empty = split("---\n---\n# Hi\n").expect("empty block");
        assert_eq!(empty.text, "");
        assert_eq!(parse(&empty), Ok(Some(Meta::default())));
        let toml = split("\u{feff}+++\ntitle = \"x\"\n+++\nrest").expect("toml");
        assert_eq!(toml.format, Format::Toml);
        assert_eq!(toml.body, "rest");
    }

    #[test]
    fn yaml_spellings() {
        let m = meta(
            "---\nTitle: A Title\nSubTitle: Sub\nauthors:\n  - name: Ann Lee\n  - Bob\n\
             date: 2015-10-26 12:00:00 -0700\nLanguage: en_US\nexcerpt: Short.\n\
             image: {src: cover.jpg}\ncategories: [one, Two]\nkeywords: two, three\n\
             site: Blog\ncopyright: CC-BY\ndoi: 10.1000/x\nurl: /relative\n\
             canonical-url: https://example.com/a\nsection: Science\nunknown: [1, 2]\n---\n",
        );
        assert_eq!(m.title.as_deref(), Some("A Title"));
        assert_eq!(m.subtitle.as_deref(), Some("Sub"));
        assert_eq!(m.authors, ["Ann Lee", "Bob"]);
        assert_eq!(m.date.as_deref(), Some("2015-10-26T12:00:00-07:00"));
        assert_eq!(m.language.as_deref(), Some("en-US"));
        assert_eq!(m.description.as_deref(), Some("Short."));
        assert_eq!(m.cover.as_deref(), Some("cover.jpg"));
        assert_eq!(m.tags, ["two", "three", "one"]);
        assert_eq!(m.publisher.as_deref(), Some("Blog"));
        assert_eq!(m.rights.as_deref(), Some("CC-BY"));
        assert_eq!(m.identifier.as_deref(), Some("10.1000/x"));
        assert_eq!(m.source_url.as_deref(), Some("https://example.com/a"));
        assert_eq!(m.kicker.as_deref(), Some("Science"));
    }

    #[test]
    fn yaml_other_spellings() {
        let m = meta(
            "---\ntitle: 'T'\nauthor: Matteo Collina and Joyee Cheung\ndate: 'March 5, 2024'\n\
             lang: fr\nsummary: S\ncover:\n  image: c.png\ntags: a, b\nlicense: MIT\n\
             isbn: 978-3-16-148410-0\nlink: http://x.org/p\ncategory: News\n---\n",
        );
        assert_eq!(m.authors, ["Matteo Collina", "Joyee Cheung"]);
        assert_eq!(m.date.as_deref(), Some("2024-03-05"));
        assert_eq!(m.language.as_deref(), Some("fr"));
        assert_eq!(m.description.as_deref(), Some("S"));
        assert_eq!(m.cover.as_deref(), Some("c.png"));
        assert_eq!(m.tags, ["a", "b"]);
        assert_eq!(m.rights.as_deref(), Some("MIT"));
        assert_eq!(m.identifier.as_deref(), Some("978-3-16-148410-0"));
        assert_eq!(m.source_url.as_deref(), Some("http://x.org/p"));
        assert_eq!(m.kicker.as_deref(), Some("News"));
        let go = meta("---\ntitle: T\nby:\n- Russ Cox, for the Go team\ndate: 2022-11-10\n---\n");
        assert_eq!(go.authors, ["Russ Cox, for the Go team"]);
        assert_eq!(go.date.as_deref(), Some("2022-11-10"));
        let bad_date = meta("---\ndate: someday\nauthor: {name: Solo}\n---\n");
        assert_eq!(bad_date.date, None);
        assert_eq!(bad_date.authors, ["Solo"]);
    }

    #[test]
    fn toml_spellings_and_native_dates() {
        let m = meta(
            "+++\ntitle = \"T\"\nauthors = [\"A, B\"]\ndate = 2024-01-02T03:04:05Z\n\
             path = \"2016/04/19/MIR\"\n[extra]\nteam = \"x\"\n+++\n",
        );
        assert_eq!(m.title.as_deref(), Some("T"));
        assert_eq!(m.authors, ["A, B"]);
        assert_eq!(m.date.as_deref(), Some("2024-01-02T03:04:05Z"));
        let zola = meta("+++\npath = \"inside-rust/2022/08/08/report\"\n+++\n");
        assert_eq!(zola.date.as_deref(), Some("2022-08-08"));
        let local = meta("+++\ndate = 2024-05-06\n+++\n");
        assert_eq!(local.date.as_deref(), Some("2024-05-06"));
    }

    #[test]
    fn errors_carry_file_lines() {
        let fm = split("---\ntitle: ok\nauthor: [unclosed\ndate: 2024\n---\n").expect("fm");
        let err = parse(&fm).expect_err("malformed");
        assert_eq!(err.format, "YAML");
        assert_eq!(err.line, 4, "{err}");
        let fm = split("+++\ntitle = \"ok\"\nauthors = [\"a\"\ndate = = 1\n+++\n").expect("fm");
        let err = parse(&fm).expect_err("malformed");
        assert_eq!(err.format, "TOML");
        assert_eq!(err.line, 4, "{err}");
        let fm = split("---\ntitle: a\n\n\nlist:\n  - x\n - y\n---\n").expect("fm");
        assert_eq!(parse(&fm).expect_err("bad indent").line, 7);
        let deep = format!("+++\nt = 1\nx = {}\n+++\n", "[".repeat(10_000));
        let err = parse(&split(&deep).expect("fm")).expect_err("too deep");
        assert_eq!(err.line, 3);
    }

    #[test]
    fn yaml_bombs_and_non_maps() {
        let mut bomb = String::from("---\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        bomb.push_str("---\n");
        let fm = split(&bomb).expect("fm");
        assert!(parse(&fm).is_err());
        let text = split("---\nJust a line of text\n---\n").expect("fm");
        assert_eq!(parse(&text), Ok(None));
        let deep = format!("---\nx: {}\n---\n", "[".repeat(5000));
        assert!(parse(&split(&deep).expect("fm")).is_err());
    }

    #[test]
    fn pandoc_title_blocks() {
        let (m, rest) =
            pandoc_title_block("% My title\n  continued\n% A One; B Two\n% July 17, 2006\n\nText")
                .expect("block");
        assert_eq!(m.title.as_deref(), Some("My title continued"));
        assert_eq!(m.authors, ["A One", "B Two"]);
        assert_eq!(m.date.as_deref(), Some("2006-07-17"));
        assert_eq!(rest, "\nText");
        let (m, _) = pandoc_title_block("%\n% Author\n").expect("block");
        assert_eq!((m.title, m.authors), (None, vec!["Author".to_string()]));
        assert!(pandoc_title_block("Text\n% not a block").is_none());
    }

    #[test]
    fn date_only_description_is_dropped() {
        let m = meta("---\ndate: \"2019-10-13\"\ndescription: \"October 13, 2019\"\n---\n");
        assert_eq!(m.description, None);
        let m =
            meta("---\ndate: 2019-10-13\ndescription: Released on October 13, 2019 at last\n---\n");
        assert!(m.description.is_some());
    }

    #[test]
    fn helpers() {
        assert_eq!(
            date_in_path("blog/2016-04-19-mir").as_deref(),
            Some("2016-04-19")
        );
        assert_eq!(date_in_path("12016/04/199"), None);
        assert_eq!(language_tag("zh-Hant-TW").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(language_tag("English"), None);
        assert_eq!(language_tag("en us"), None);
        assert!(is_web_url("HTTPS://a.b/c"));
        assert!(!is_web_url("https://"));
        assert!(!is_web_url("/a/b"));
        assert_eq!(strip_location("bad thing at line 3 column 4"), "bad thing");
    }
}
