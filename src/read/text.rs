//! Plain text to the document model: news articles copied out of a web page, and plain-text
//! books (Project Gutenberg and the like).
//!
//! Plain text has no markup, so everything here is a heuristic. The rules lean towards keeping
//! text as a paragraph when unsure: a missed heading costs little, a swallowed paragraph or a
//! sentence promoted to a headline costs a lot. Only clearly recognised page clutter ("Share",
//! "5 min read", …) and Project Gutenberg boilerplate are ever dropped.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::model::slug::{Slugger, slugify};
use crate::model::{Block, Document, Inline, List, ListItem, ListKind, Meta, date};

/// Nesting beyond this (quotes in quotes, lists in lists) is kept flat, so hostile input
/// cannot exhaust the stack.
const MAX_DEPTH: usize = 12;
/// How many non-blank lines at the top may hold the headline, byline and date.
const HEADER_LINES: usize = 24;

/// Reads a plain-text article or book into the model.
pub fn read(text: &str) -> Document {
    let owned;
    let text = if text.contains('\r') {
        owned = text.replace("\r\n", "\n").replace('\r', "\n");
        owned.as_str()
    } else {
        text
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let lines: Vec<Line> = text.split('\n').map(Line::new).collect();

    let mut meta = Meta::default();
    let (body, book) = match gutenberg(&lines, &mut meta) {
        Some(range) => {
            let body = &lines[range];
            (&body[skip_credits(body)..], true)
        }
        None => {
            let start = header(&lines, &mut meta);
            if lines[start..].iter().all(Line::blank) {
                // Nothing would be left for the body: the "headline" is the whole text.
                meta = Meta::default();
                (&lines[..], false)
            } else {
                (&lines[start..], false)
            }
        }
    };
    let ctx = Ctx::new(body, book);
    let items = parse(body, &ctx, 0);
    Document {
        meta,
        blocks: finish(items, &ctx, true),
    }
}

// ---------------------------------------------------------------------------------------------
// Lines

/// One source line, trimmed, with its indentation measured.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    /// Leading columns; a tab counts to the next multiple of four.
    indent: usize,
    /// Characters in `text`, cached because the heuristics compare lengths a lot.
    chars: usize,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Self {
        let mut indent = 0;
        for c in raw.chars() {
            match c {
                ' ' => indent += 1,
                '\t' => indent = (indent / 4 + 1) * 4,
                _ => break,
            }
        }
        let text = raw.trim_matches(is_blank_char);
        Line {
            text,
            indent,
            chars: text.chars().count(),
        }
    }

    fn blank(&self) -> bool {
        self.text.is_empty()
    }
}

/// Whitespace, controls and the invisible characters that make a line look empty.
fn is_blank_char(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// Collapses runs of spaces and tabs and drops control characters (invalid in XHTML);
/// other spaces (no-break, ideographic) are meaningful and stay.
fn collapse(s: &str) -> Cow<'_, str> {
    let soft = |c: char| matches!(c, ' ' | '\t' | '\x0B' | '\x0C');
    let needs = s
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b' ' && w[1] == b' ')
        || s.chars().any(char::is_control);
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.chars() {
        if soft(c) {
            pending = true;
        } else if !c.is_control() {
            if pending && !out.is_empty() {
                out.push(' ');
            }
            pending = false;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn first_word_len(s: &str) -> usize {
    s.split_whitespace().next().map_or(0, |w| w.chars().count())
}

fn starts_lowercase(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_lowercase)
}

fn starts_with_quote(s: &str) -> bool {
    s.starts_with(['"', '\'', '“', '‘', '«', '„', '‚', '»', '「', '『'])
}

/// Whether `key` is one of the `|`-separated entries of a word table.
///
/// Found by searching for `key` and checking that a separator or an end stands on each
/// side: splitting the table at every `|` for each line looked at was most of the time
/// spent reading a short article's header.
fn in_list(list: &str, key: &str) -> bool {
    if key.is_empty() || key.contains('|') {
        // Entries never hold a separator; an empty one lies between two in a row.
        return key.is_empty() && list.split('|').any(str::is_empty);
    }
    let bytes = list.as_bytes();
    list.match_indices(key).any(|(at, _)| {
        let end = at + key.len();
        (at == 0 || bytes[at - 1] == b'|') && (end == bytes.len() || bytes[end] == b'|')
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

// ---------------------------------------------------------------------------------------------
// Project Gutenberg

/// Finds the `*** START OF … ***` / `*** END OF … ***` markers, reads the header fields into
/// `meta` and returns the line range of the book itself.
fn gutenberg(lines: &[Line], meta: &mut Meta) -> Option<std::ops::Range<usize>> {
    let start = lines.iter().position(|l| pg_marker(l.text, "START"))?;
    let mut end = lines[start + 1..]
        .iter()
        .position(|l| pg_marker(l.text, "END"))
        .map_or(lines.len(), |e| start + 1 + e);
    pg_fields(&lines[..start], meta);

    // "End of the Project Gutenberg EBook of …" sits just above the END marker in older files.
    let mut i = end;
    while i > start + 1 && lines[i - 1].blank() {
        i -= 1;
    }
    let mut para = i;
    while para > start + 1 && !lines[para - 1].blank() {
        para -= 1;
    }
    if para < i {
        let t = lines[para].text;
        if t.len() < 300
            && strip_prefix_ci(t, "end of").is_some()
            && t.to_ascii_lowercase().contains("project gutenberg")
        {
            end = para;
        }
    }
    Some(start + 1..end)
}

fn pg_marker(text: &str, which: &str) -> bool {
    if !text.starts_with('*') || text.len() > 300 {
        return false;
    }
    let up = text.to_ascii_uppercase();
    up.contains("PROJECT GUTENBERG")
        && (up.contains(&format!("{which} OF THE")) || up.contains(&format!("{which} OF THIS")))
}

fn pg_fields(header: &[Line], meta: &mut Meta) {
    let mut i = 0;
    while i < header.len() {
        let t = header[i].text;
        let field = |name: &str| {
            strip_prefix_ci(t, name)
                .and_then(|r| r.strip_prefix(':'))
                .map(str::trim)
        };
        if let Some(title) = field("Title") {
            let mut cont = Vec::new();
            while i + 1 < header.len() && !header[i + 1].blank() && header[i + 1].indent > 0 {
                i += 1;
                cont.push(header[i].text);
            }
            set_pg_title(meta, title, &cont);
        } else if let Some(a) = field("Author").or_else(|| field("Authors")) {
            let names = split_names(a);
            meta.authors = if names.is_empty() {
                vec![collapse(a).into_owned()]
            } else {
                names
            };
        } else if let Some(lang) = field("Language") {
            meta.language = language_tag(lang).map(str::to_string);
        }
        if meta.identifier.is_none()
            && let Some(pos) = t.to_ascii_lowercase().find("ebook #")
        {
            let digits: String = t[pos + 7..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !digits.is_empty() {
                meta.identifier = Some(format!("https://www.gutenberg.org/ebooks/{digits}"));
            }
        }
        i += 1;
    }
    // Very old files have no fields, only "The Project Gutenberg EBook of Title, by Author".
    if meta.title.is_none() {
        for l in header.iter().take(10) {
            let lower = l.text.to_ascii_lowercase();
            let Some(pos) = lower.find("project gutenberg ebook of ").map(|p| p + 27) else {
                continue;
            };
            let rest = l.text[pos..].trim();
            match rest.rfind(", by ") {
                Some(by) => {
                    meta.title = Some(rest[..by].trim().to_string());
                    if meta.authors.is_empty() {
                        meta.authors = split_names(&rest[by + 5..]);
                    }
                }
                None => meta.title = Some(rest.to_string()),
            }
            break;
        }
    }
}

/// `Title: News from Nowhere` / `       or An Epoch of Rest`: an "or …" continuation is the
/// subtitle; any other continuation is the title wrapped onto two lines.
fn set_pg_title(meta: &mut Meta, first: &str, cont: &[&str]) {
    let first = collapse(first).into_owned();
    let Some(head) = cont.first() else {
        meta.title = Some(first);
        return;
    };
    let rest = collapse(&cont.join(" ")).into_owned();
    let alt = strip_prefix_ci(head, "or ").is_some() || strip_prefix_ci(head, "or,").is_some();
    if alt || first.ends_with([':', ';']) {
        meta.title = Some(first.trim_end_matches([':', ';', ',']).to_string());
        meta.subtitle = Some(rest);
    } else {
        meta.title = Some(format!("{first} {rest}"));
    }
}

/// Skips the producers' credits ("Produced by …") right after the START marker.
fn skip_credits(body: &[Line]) -> usize {
    const CREDITS: &str = concat!(
        "produced by|transcribed from|transcribed by|e-text prepared by",
        "|etext prepared by|this etext was prepared by|this ebook was produced by",
        "|this e-text was prepared by|prepared by",
    );
    let mut i = 0;
    for round in 0..2 {
        let Some(first) = body[i..].iter().position(|l| !l.blank()).map(|p| p + i) else {
            return i;
        };
        let t = body[first].text;
        let lower = t.to_ascii_lowercase();
        let is_credit = if round == 0 {
            CREDITS.split('|').any(|c| lower.starts_with(c))
        } else {
            lower.contains("distributed proofread") || lower.contains("pgdp.net")
        };
        if !is_credit {
            return i;
        }
        let end = body[first..]
            .iter()
            .position(Line::blank)
            .map_or(body.len(), |p| p + first);
        // A credit is a line or two; a long paragraph here is the book itself.
        if end - first > 4 {
            return i;
        }
        i = end;
    }
    i
}

fn language_tag(name: &str) -> Option<&'static str> {
    const LANGS: &str = concat!(
        "english:en|french:fr|german:de|spanish:es|italian:it|dutch:nl",
        "|portuguese:pt|finnish:fi|swedish:sv|danish:da|norwegian:no|latin:la",
        "|greek:el|russian:ru|polish:pl|czech:cs|hungarian:hu|esperanto:eo",
        "|chinese:zh|japanese:ja|tagalog:tl|catalan:ca|welsh:cy|irish:ga",
        "|icelandic:is|hebrew:he|arabic:ar|armenian:hy",
    );
    let key = name
        .split([',', ';', ' '])
        .next()?
        .trim()
        .to_ascii_lowercase();
    LANGS
        .split('|')
        .filter_map(|e| e.split_once(':'))
        .find(|(n, _)| *n == key)
        .map(|(_, tag)| tag)
}

// ---------------------------------------------------------------------------------------------
// Article header: kicker, headline, dek, byline, date

/// Reads the header lines of an article into `meta` and returns the index of the first body line.
fn header(lines: &[Line], meta: &mut Meta) -> usize {
    let top: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.blank())
        .map(|(i, _)| i)
        .take(HEADER_LINES)
        .collect();
    let mut state = HeaderState::default();
    // A date or byline may come first; then kicker and headline, or the headline alone.
    let mut pos = state.absorb(lines, &top, 0, meta);
    if let Some(&first) = top.get(pos) {
        let after_first = state.absorb_clutter(lines, &top, pos + 1, meta);
        let l0 = lines[first];
        let second = top.get(after_first).map(|&i| lines[i]);
        if let Some(l1) = second
            && kicker_like(l0.text)
            && title_like(l1.text)
            && l1.chars > l0.chars
            && standalone(lines, top[after_first])
        {
            meta.kicker = Some(clean_kicker(l0.text));
            meta.title = Some(clean_title(l1.text));
            pos = after_first + 1;
        } else if title_like(l0.text) && standalone(lines, first) {
            meta.title = Some(clean_title(l0.text));
            pos += 1;
        }
    }
    // Then dek, byline, date and clutter in any order, until a line that is none of them.
    loop {
        pos = state.absorb(lines, &top, pos, meta);
        let Some(&i) = top.get(pos) else { break };
        let t = lines[i].text;
        if meta.title.is_some()
            && meta.subtitle.is_none()
            && meta.authors.is_empty()
            && dek_like(t)
            && byline_follows(lines, &top, pos + 1)
        {
            meta.subtitle = Some(collapse(t).into_owned());
            pos += 1;
        } else {
            break;
        }
    }
    match top.get(pos) {
        Some(&i) => i,
        // Every line looked at was header; the body starts after the last of them.
        None => top.last().map_or(lines.len(), |&i| i + 1),
    }
}

#[derive(Default)]
struct HeaderState {
    /// The date came from an "Updated" line, so a "Published" one may replace it.
    dated_by_update: bool,
}

impl HeaderState {
    /// Consumes clutter and a leading source URL.
    fn absorb_clutter(
        &mut self,
        lines: &[Line],
        top: &[usize],
        mut pos: usize,
        meta: &mut Meta,
    ) -> usize {
        while let Some(&i) = top.get(pos) {
            let t = lines[i].text;
            if is_clutter_line(t) {
                pos += 1;
            } else if meta.source_url.is_none() && is_url(t) {
                meta.source_url = Some(t.to_string());
                pos += 1;
            } else {
                break;
            }
        }
        pos
    }

    /// Consumes clutter, byline, date and role lines, recording what they say.
    fn absorb(&mut self, lines: &[Line], top: &[usize], mut pos: usize, meta: &mut Meta) -> usize {
        loop {
            pos = self.absorb_clutter(lines, top, pos, meta);
            let Some(&i) = top.get(pos) else {
                return pos;
            };
            let t = lines[i].text;
            if let Some(m) = meta_line(t) {
                if meta.authors.is_empty() && !m.authors.is_empty() {
                    meta.authors = m.authors;
                }
                if let Some((d, updated)) = m.date
                    && (meta.date.is_none() || (self.dated_by_update && !updated))
                {
                    meta.date = Some(d);
                    self.dated_by_update = updated;
                }
                if meta.publisher.is_none() {
                    meta.publisher = m.publisher;
                }
                if meta.kicker.is_none() {
                    meta.kicker = m.section;
                }
            } else {
                // "Staff Writer" under the byline belongs to it; anything else ends the header.
                let role = !meta.authors.is_empty() && is_role(t) && words(t) <= 6;
                if !role {
                    return pos;
                }
            }
            pos += 1;
        }
    }
}

/// Whether a byline comes next, looking past date and clutter lines.
fn byline_follows(lines: &[Line], top: &[usize], from: usize) -> bool {
    for &i in top.iter().skip(from) {
        let t = lines[i].text;
        if is_clutter_line(t) {
            continue;
        }
        match meta_line(t) {
            Some(m) if !m.authors.is_empty() => return true,
            Some(m) if m.date.is_some() => continue,
            _ => return false,
        }
    }
    false
}

/// A headline stands on its own line: it is not the first line of a hard-wrapped paragraph.
fn standalone(lines: &[Line], i: usize) -> bool {
    let Some(next) = lines.get(i + 1).filter(|l| !l.blank()) else {
        return true;
    };
    if meta_line(next.text).is_some() || is_clutter_line(next.text) {
        return true;
    }
    // Had the break been a soft wrap, the next word would not have fitted on this line.
    let width = next.chars.max(60);
    lines[i].chars + 1 + first_word_len(next.text) <= width
}

fn title_like(t: &str) -> bool {
    // A closing quote after a full stop ends a sentence just the same.
    let end = t.trim_end_matches(['"', '”', '’', '\'', '»', ')']);
    t.chars().count() <= 160
        && words(t) <= 30
        && !starts_lowercase(t)
        && (!end.ends_with(['.', ',', ';', ':']) || end.ends_with("..."))
        && list_marker(t).is_none()
        && !is_quote(t)
        && !is_rule(t)
        && !is_url(t)
        && chapter(t).is_none()
        && !is_matter(t)
        && meta_line(t).is_none()
}

fn kicker_like(t: &str) -> bool {
    let n = t.chars().count();
    let w = words(t);
    let caps = !t.chars().any(char::is_lowercase);
    // Three-word lines are headlines as often as labels ("Brexit chaos deepens"); only a
    // title-cased or all-capitals one is taken for a label.
    let label = w <= 2 || (caps && w <= 5) || (w == 3 && title_line(t)) || section(t).is_some();
    n <= 40
        && label
        && !t.ends_with(['.', ','])
        && !starts_lowercase(t)
        && !starts_with_quote(t)
        && meta_line(t).is_none()
        && chapter(t).is_none()
        && !is_url(t)
}

/// A Markdown-style `# Title` loses its hashes.
fn clean_title(t: &str) -> String {
    collapse(atx_heading(t).map_or(t, |(_, text)| text)).into_owned()
}

/// `## Text` → level 2 and the text.
fn atx_heading(t: &str) -> Option<(u8, &str)> {
    let hashes = t.bytes().take_while(|&b| b == b'#').count();
    let rest = t[hashes..]
        .strip_prefix(' ')?
        .trim()
        .trim_end_matches('#')
        .trim();
    ((1..=6).contains(&hashes) && !rest.is_empty()).then_some((hashes as u8, rest))
}

fn clean_kicker(t: &str) -> String {
    collapse(t.trim_end_matches([':', '|', '/', '-', '—', '–']).trim()).into_owned()
}

fn dek_like(t: &str) -> bool {
    words(t) >= 4 && t.chars().count() <= 400 && !starts_lowercase(t) && list_marker(t).is_none()
}

fn is_url(t: &str) -> bool {
    (t.starts_with("http://") || t.starts_with("https://")) && !t.contains(char::is_whitespace)
}

/// What a byline/date/section line says.
#[derive(Debug, Default)]
struct MetaLine {
    authors: Vec<String>,
    /// ISO date and whether it was marked "Updated".
    date: Option<(String, bool)>,
    publisher: Option<String>,
    section: Option<String>,
}

/// Reads a line made only of byline, date, agency, section and clutter parts
/// (`By Jane Doe | Reuters`, `March 5, 2024 · 5 min read`); `None` if any part is something else.
fn meta_line(t: &str) -> Option<MetaLine> {
    if t.chars().count() > 200 {
        return None;
    }
    let mut m = MetaLine::default();
    let mut any = false;
    for seg in split_segments(t) {
        let seg = seg.trim();
        if seg.is_empty() {
            continue;
        }
        if m.authors.is_empty()
            && let Some(b) = byline(seg)
        {
            m.authors = b.authors;
            if m.date.is_none() {
                m.date = b.date;
            }
            if m.publisher.is_none() {
                m.publisher = b.publisher;
            }
            any = true;
        } else if let Some(d) = date_line(seg) {
            m.date.get_or_insert(d);
            any = true;
        } else if is_clutter_segment(seg) {
            any = true;
        } else if let Some(a) = agency(seg) {
            m.publisher.get_or_insert(a);
        } else if let Some(s) = section(seg) {
            m.section.get_or_insert(s);
        } else if m.authors.is_empty() || !is_role(seg) {
            // A role ("Staff Writer") is only expected after the names.
            return None;
        }
    }
    any.then_some(m)
}

fn split_segments(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        let cut = ["|", "•", "·", " — ", " – ", " - ", "\t"]
            .iter()
            .filter_map(|sep| rest.find(sep).map(|p| (p, sep.len())))
            .min();
        match cut {
            Some((p, len)) => {
                out.push(&rest[..p]);
                rest = &rest[p + len..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

struct Byline {
    authors: Vec<String>,
    date: Option<(String, bool)>,
    publisher: Option<String>,
}

/// `By Jane Doe`, `Words by A, B and C`, `By Jane Doe, Staff Writer`, `by Jane Doe in Kyiv`,
/// `By Jane Doe, March 5, 2024`, `By Reuters`.
fn byline(seg: &str) -> Option<Byline> {
    const PREFIXES: &str = concat!(
        "words and pictures by|words by|written by|story by|text by|reporting by",
        "|reported by|by",
    );
    let rest = PREFIXES.split('|').find_map(|p| {
        let r = strip_prefix_ci(seg, p)?;
        r.starts_with([' ', ':', '\u{a0}']).then_some(r)
    })?;
    let rest = rest.trim_start_matches([' ', ':', '\u{a0}']).trim();
    if rest.is_empty() {
        return None;
    }
    if let Some(a) = agency(rest) {
        return Some(Byline {
            authors: Vec::new(),
            date: None,
            publisher: Some(a),
        });
    }
    let (names, date) = split_trailing_date(rest);
    let authors = split_names(names);
    (!authors.is_empty()).then_some(Byline {
        authors,
        date,
        publisher: None,
    })
}

/// `Jane Doe, March 5, 2024` → the names part and the date.
fn split_trailing_date(s: &str) -> (&str, Option<(String, bool)>) {
    for (p, _) in s.match_indices([',', ' ']) {
        let (head, tail) = (&s[..p], s[p + 1..].trim());
        let tail = strip_prefix_ci(tail, "on ").unwrap_or(tail);
        if head.trim().is_empty() {
            continue;
        }
        if let Some(d) = date_line(tail) {
            return (head.trim(), Some(d));
        }
    }
    (s, None)
}

/// Splits a list of names ("A", "A and B", "A, B and C", "A & B"), dropping roles, agencies
/// and places; empty when the first part is not a name, so sentences are not taken for bylines.
fn split_names(s: &str) -> Vec<String> {
    const AND: &[&str] = &[
        " and ", " & ", " AND ", " with ", " et ", " und ", " y ", " e ",
    ];
    let s = drop_asides(s);
    let s = s.as_ref();
    let has_and = AND.iter().any(|sep| s.contains(sep));
    let parts: Vec<&str> = s.split([',', ';']).collect();
    // Without "and", commas separate a name from its role or place, not names from each other.
    let parts = if has_and { &parts[..] } else { &parts[..1] };
    let mut out = Vec::new();
    let mut first = true;
    for part in parts {
        let mut pieces = vec![*part];
        for sep in AND {
            pieces = pieces.iter().flat_map(|p| p.split(sep)).collect();
        }
        for piece in pieces {
            let piece = piece.trim();
            // A closing full stop goes, but not the one of "Jr." or an initial.
            let last = piece.rsplit(' ').next().unwrap_or(piece);
            let piece = if last.len() > 3
                || last.contains(char::is_lowercase)
                    && last.len() > 2
                    && !matches!(last, "Jr." | "Sr.")
            {
                piece.strip_suffix('.').unwrap_or(piece)
            } else {
                piece
            };
            if piece.is_empty() {
                continue;
            }
            let name = strip_place(piece);
            let is_first = std::mem::replace(&mut first, false);
            if is_role(name) || agency(name).is_some() {
                continue;
            }
            if valid_name(name) && (is_first || words(name) >= 2) {
                out.push(collapse(name).into_owned());
            } else if is_first {
                return Vec::new();
            }
        }
    }
    out
}

/// Drops parenthetical asides that are not part of a name: `Jane Doe (with John Roe)`,
/// `(avec …)`; a capitalised one such as a middle name stays.
fn drop_asides(s: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut rest = s;
    let mut changed = false;
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')').map(|c| c + open) else {
            break;
        };
        let inner = rest[open + 1..close].trim();
        if starts_lowercase(inner) || inner.is_empty() {
            out.push_str(rest[..open].trim_end());
            changed = true;
        } else {
            out.push_str(&rest[..=close]);
        }
        rest = &rest[close + 1..];
    }
    if !changed {
        return Cow::Borrowed(s);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `Jane Doe in Kyiv` / `Jane Doe for The Guardian` → `Jane Doe`.
fn strip_place(s: &str) -> &str {
    for sep in [" in ", " for ", " at ", " from "] {
        if let Some(p) = s.find(sep) {
            let head = s[..p].trim();
            if valid_name(head) {
                return head;
            }
        }
    }
    s
}

fn valid_name(s: &str) -> bool {
    const PARTICLES: &str = concat!(
        "de|da|di|do|dos|das|du|del|della|der|den|van|von|la|le|ter|ten|bin|ibn",
        "|al|el|y|zu|af|av|o'",
    );
    let ws: Vec<&str> = s.split_whitespace().collect();
    if ws.is_empty() || ws.len() > 6 || s.chars().count() > 60 {
        return false;
    }
    ws.iter().enumerate().all(|(i, w)| {
        let Some(c) = w.trim_start_matches('(').chars().next() else {
            return false;
        };
        let chars_ok = w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-' | '‐' | '(' | ')'));
        let capital = c.is_uppercase() || (c.is_alphabetic() && !c.is_lowercase());
        let particle = i > 0 && in_list(PARTICLES, &w.to_lowercase());
        chars_ok && (capital || particle)
    })
}

fn is_role(s: &str) -> bool {
    const ROLES: &str = concat!(
        "writer|writers|reporter|reporters|correspondent|correspondents|editor",
        "|editors|columnist|columnists|contributor|contributors|contributing",
        "|critic|producer|analyst|chief|bureau|journalist|photographer|staff",
        "|intern|desk|team|senior|deputy|newsroom|researcher|special",
    );
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(|w| in_list(ROLES, &w.to_lowercase()))
}

fn agency(s: &str) -> Option<String> {
    const AGENCIES: &str = concat!(
        "reuters|ap|associated press|the associated press|afp",
        "|agence france-presse|agence france presse|bloomberg|bloomberg news|pa",
        "|pa media|press association|the press association|dpa|upi|xinhua|efe",
        "|ansa|kyodo|kyodo news|yonhap|tass|aap|the canadian press|canadian press",
        "|pti|ians|anadolu|anadolu agency|cnn|bbc news",
    );
    let t = s.trim().trim_matches(['(', ')', '.']);
    let lower = t.to_lowercase();
    in_list(AGENCIES, &lower).then(|| t.to_string())
}

fn section(s: &str) -> Option<String> {
    const SECTIONS: &str = concat!(
        "opinion|analysis|comment|commentary|editorial|column|review|reviews",
        "|perspective|essay|guest essay|op-ed|interview|feature|features",
        "|explainer|obituary|letters|news|world|politics|business|science",
        "|technology|tech|sport|sports|culture|books|arts|travel|health|climate",
        "|environment|long read|the long read|exclusive|investigation",
        "|first person",
    );
    let t = s.trim();
    let lower = t.to_lowercase();
    in_list(SECTIONS, &lower).then(|| t.to_string())
}

/// Page furniture that is never part of an article.
fn is_clutter_line(t: &str) -> bool {
    t.chars().count() <= 80
        && split_segments(t)
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .all(is_clutter_segment)
}

fn is_clutter_segment(s: &str) -> bool {
    const EXACT: &str = concat!(
        "share|share this|share this article|share this story|share article",
        "|share on facebook|share on twitter|share on x|share on linkedin",
        "|share on whatsapp|share via email|share via e-mail|tweet|email|e-mail",
        "|print|save|save article|save for later|saved|bookmark|copy link",
        "|link copied|gift article|gift this article|give this article|listen",
        "|listen to this article|listen to article|listen to this story|follow",
        "|subscribe|sign up|comments|view comments|show comments|advertisement",
        "|skip advertisement|sponsored|read more|continue reading|toggle caption",
        "|hide caption|enlarge this image|skip to content|skip to main content",
        "|story continues below advertisement|continue reading the main story",
        "|scroll to continue with content|supported by|add to myft|facebook",
        "|twitter|linkedin|whatsapp",
    );
    let lower = s
        .trim()
        .trim_end_matches(['.', ':', '…'])
        .trim()
        .to_lowercase();
    if in_list(EXACT, &lower) {
        return true;
    }
    // "5 min read", "5-minute read", "Reading time: 4 minutes", "Listen (3 min)",
    // "12 comments", "2 hours ago".
    let mut ws: Vec<&str> = Vec::new();
    for w in lower.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ':' | ',' | '·')) {
        let digits = w.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && digits < w.len() && !w[digits..].starts_with(':') {
            ws.push(&w[..digits]);
            ws.push(w[digits..].trim_start_matches('-'));
        } else if !w.is_empty() {
            ws.push(w);
        }
    }
    let num = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit() || b == b':');
    let unit = |w: &str| {
        matches!(
            w,
            "min" | "mins" | "minute" | "minutes" | "m" | "hr" | "hrs" | "hour" | "hours"
        )
    };
    let ago_unit = |w: &str| unit(w) || matches!(w, "day" | "days" | "second" | "seconds");
    match ws.as_slice() {
        [n, u, "read" | "listen" | "reading"] => num(n) && unit(u),
        [n, "comments" | "comment" | "shares"] => num(n),
        [n, u, "ago"] => num(n) && ago_unit(u),
        ["reading", "time", n] | ["listen", n] => num(n),
        ["reading", "time", n, u] | ["listen", n, u] => num(n) && unit(u),
        _ => false,
    }
}

/// Clutter that turns up between paragraphs of a copied article, not only at the top.
fn is_body_clutter(t: &str) -> bool {
    const BODY: &str = concat!(
        "advertisement|skip advertisement|story continues below advertisement",
        "|continue reading the main story|scroll to continue with content",
        "|advertisement - scroll to continue",
    );
    t.len() < 60 && in_list(BODY, &t.trim_end_matches('.').to_lowercase())
}

/// A line that is only a date, possibly with a time and a "Published"/"Updated" label:
/// the ISO date and whether it was an update.
fn date_line(t: &str) -> Option<(String, bool)> {
    const LABELS: &str = concat!(
        "first published on|first published|originally published on",
        "|originally published|last updated on|last updated|last modified",
        "|published on|published|updated on|updated|posted on|posted|modified",
        "|dated|date|on",
    );
    let t = t.trim();
    if t.chars().count() > 80 {
        return None;
    }
    let mut rest = t;
    let mut updated = false;
    for label in LABELS.split('|') {
        if let Some(r) = strip_prefix_ci(rest, label)
            && (r.is_empty() || r.starts_with([' ', ':']))
        {
            updated = label.contains("updated") || label.contains("modified");
            rest = r.trim_start_matches([' ', ':']).trim();
            break;
        }
    }
    if rest.is_empty() {
        return None;
    }
    // ISO forms carry their own time and zone.
    // (A bare year is more often a title, "1984", than a dateline.)
    if rest.len() > 4
        && rest
            .as_bytes()
            .get(..4)
            .is_some_and(|y| y.iter().all(u8::is_ascii_digit))
        && let Some(d) = date::normalize(rest)
    {
        return Some((d, updated));
    }
    // Otherwise every word must be part of a date or a time, so a sentence that merely
    // mentions "March 2024" is never taken for a date line.
    let mut kept = Vec::new();
    let mut year = false;
    for token in rest.split(|c: char| c.is_whitespace() || c == ',') {
        let tok = token.trim_matches(|c: char| matches!(c, '.' | '(' | ')' | '|'));
        if tok.is_empty() {
            continue;
        }
        let lower = tok.to_lowercase();
        if is_month(&lower) {
            kept.push(tok);
        } else if let Some(n) = day_or_year(&lower) {
            year |= n >= 1000;
            kept.push(tok.trim_end_matches(char::is_alphabetic));
        } else if !(is_weekday(&lower)
            || is_time(&lower)
            || is_zone(tok)
            || matches!(
                lower.as_str(),
                "at" | "on"
                    | "of"
                    | "the"
                    | "-"
                    | "—"
                    | "–"
                    | "/"
                    | "·"
                    | "•"
                    | "am"
                    | "pm"
                    | "a.m"
                    | "p.m"
            ))
        {
            return None;
        }
    }
    if !year {
        return None;
    }
    date::normalize(&kept.join(" ")).map(|d| (d, updated))
}

fn is_month(w: &str) -> bool {
    const MONTHS: &str = concat!(
        "january|february|march|april|may|june|july|august|september|october",
        "|november|december",
    );
    let w = w.trim_end_matches('.');
    w.len() >= 3
        && MONTHS.split('|').any(|m| m.starts_with(w))
        && (w.len() == 3 || w == "sept" || in_list(MONTHS, w))
}

fn is_weekday(w: &str) -> bool {
    const DAYS: &str = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";
    let w = w.trim_end_matches('.');
    in_list(DAYS, w)
        || matches!(
            w,
            "mon" | "tue" | "tues" | "wed" | "thu" | "thur" | "thurs" | "fri" | "sat" | "sun"
        )
}

/// `5`, `05`, `5th`, `2024`.
fn day_or_year(w: &str) -> Option<u32> {
    let digits = w.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
    let suffix = &w[digits.len()..];
    if digits.is_empty()
        || digits.len() > 4
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !matches!(suffix, "" | "st" | "nd" | "rd" | "th")
    {
        return None;
    }
    digits.parse().ok()
}

/// `10:32`, `10.32am`, `10am`, `22:05:10`.
fn is_time(w: &str) -> bool {
    let core = w
        .trim_end_matches("a.m")
        .trim_end_matches("p.m")
        .trim_end_matches("am")
        .trim_end_matches("pm");
    let had_suffix = core.len() != w.len();
    let parts: Vec<&str> = core.split([':', '.']).collect();
    let digits = |p: &str| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [h] => had_suffix && digits(h),
        [h, m] | [h, m, _] => digits(h) && m.len() == 2 && digits(m),
        _ => false,
    }
}

fn is_zone(w: &str) -> bool {
    const ZONES: &str = concat!(
        "GMT|UTC|BST|CET|CEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|ET|PT|CT|MT|IST|JST",
        "|KST|AEST|AEDT|AWST|NZST|NZDT|HKT|SGT|MSK|WET|WEST|EET|EEST|Z",
    );
    let base = w.split(['+', '-']).next().unwrap_or(w);
    in_list(ZONES, base)
        || (w.starts_with(['+', '-']) && w[1..].chars().all(|c| c.is_ascii_digit() || c == ':'))
}

// ---------------------------------------------------------------------------------------------
// Body

/// Document-wide measurements the block heuristics need.
struct Ctx {
    /// The column the text was hard-wrapped at, if it was.
    wrap: Option<usize>,
    /// The usual indentation of a line; more than this is an indented block.
    base_indent: usize,
    /// A Project Gutenberg book: no article heuristics (subheads, page clutter).
    book: bool,
}

impl Ctx {
    fn new(lines: &[Line], book: bool) -> Ctx {
        // Counting sorts keep this linear on huge inputs.
        let mut widths = vec![0usize; 201];
        let mut indents = [0usize; 65];
        let mut n = 0;
        for (i, l) in lines.iter().enumerate() {
            if l.blank() {
                continue;
            }
            indents[l.indent.min(64)] += 1;
            if lines.get(i + 1).is_some_and(|next| !next.blank()) {
                widths[l.chars.min(200)] += 1;
                n += 1;
            }
        }
        let wrap = (n >= 8).then(|| {
            let target = n * 95 / 100;
            let mut seen = 0;
            widths
                .iter()
                .position(|&c| {
                    seen += c;
                    seen > target
                })
                .unwrap_or(200)
        });
        let base_indent = indents
            .iter()
            .enumerate()
            .max_by_key(|&(i, &c)| (c, std::cmp::Reverse(i)))
            .map_or(0, |(i, _)| i);
        Ctx {
            wrap: wrap.filter(|&w| w < 200),
            base_indent,
            book,
        }
    }
}

/// Blocks before headings are resolved: those need to see their neighbours.
#[derive(Debug)]
enum Item<'a> {
    Para {
        lines: Vec<Line<'a>>,
        breaks: bool,
    },
    Heading {
        kind: Kind,
        text: String,
        /// A chapter label with no title yet ("CHAPTER I"), which the next line may supply.
        label_only: bool,
    },
    Block(Block),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `CHAPTER I`, `Book Two`, `PART III`.
    Keyword,
    /// `IV.`, `12`.
    Numeral,
    /// Front and back matter: `PREFACE`, `CONTENTS`, `APPENDIX`.
    Matter,
    /// A short all-capitals line standing alone.
    Caps,
    /// A line underlined with `===` (1) or `---` (2).
    Underlined(u8),
    /// An article subhead, decided after parsing.
    Sub,
}

fn parse<'a>(lines: &[Line<'a>], ctx: &Ctx, depth: usize) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    let n = lines.len();
    let mut i = 0;
    // The blank line ending the current group; found once per group to stay linear.
    let mut group_end = 0;
    while i < n {
        let l = lines[i];
        if l.blank() {
            i += 1;
            continue;
        }
        let at_start = i == 0 || lines[i - 1].blank();
        if at_start || i >= group_end {
            group_end = lines[i..].iter().position(Line::blank).map_or(n, |p| p + i);
        }

        if depth < MAX_DEPTH && is_quote(l.text) {
            let (inner, next) = quote_lines(lines, i);
            let blocks = finish(parse(&inner, ctx, depth + 1), ctx, false);
            if !blocks.is_empty() {
                items.push(Item::Block(Block::Quote { blocks }));
            }
            i = next;
            continue;
        }
        if at_start && depth == 0 && group_end == i + 2 && is_underline(lines[i + 1].text, l.chars)
        {
            let level = if lines[i + 1].text.starts_with('=') {
                1
            } else {
                2
            };
            items.push(Item::Heading {
                kind: Kind::Underlined(level),
                text: heading_text(l.text),
                label_only: false,
            });
            i += 2;
            continue;
        }
        if is_rule(l.text) {
            items.push(Item::Block(Block::Rule));
            i += 1;
            continue;
        }
        let after_colon = i > 0 && lines[i - 1].text.ends_with(':');
        if (at_start || after_colon) && list_marker(l.text).is_some() {
            let (block, next) = parse_list(lines, i, ctx.wrap, depth);
            items.push(Item::Block(block));
            i = next;
            continue;
        }
        if at_start && depth == 0 {
            if group_end == i + 1 && !ctx.book && is_body_clutter(l.text) {
                i += 1;
                continue;
            }
            if let Some((item, used)) = heading(lines, i, group_end) {
                items.push(item);
                i += used;
                continue;
            }
        }

        // A paragraph: up to the blank line, or to a quote, rule or announced list inside it.
        let mut j = i + 1;
        while j < group_end {
            let t = lines[j].text;
            if is_quote(t)
                || is_rule(t)
                || (lines[j - 1].text.ends_with(':') && list_marker(t).is_some())
            {
                break;
            }
            j += 1;
        }
        let para = &lines[i..j];
        items.push(Item::Para {
            breaks: keep_breaks(para, ctx),
            lines: para.to_vec(),
        });
        i = j;
    }
    items
}

/// A heading at the start of a paragraph group, if the group is one: a lone heading line, or a
/// chapter line with its title on the next line, or a chapter line opening the chapter's text;
/// with the number of lines it takes.
fn heading<'a>(lines: &[Line<'a>], i: usize, group_end: usize) -> Option<(Item<'a>, usize)> {
    let t = lines[i].text;
    let lone = group_end == i + 1;
    if let Some(ch) = chapter(t) {
        if ch.label_only && group_end == i + 2 && title_line(lines[i + 1].text) {
            let item = Item::Heading {
                kind: ch.kind,
                text: merge_title(t, lines[i + 1].text),
                label_only: false,
            };
            return Some((item, 2));
        }
        // A keyword line may sit directly on its text; a bare numeral must stand alone.
        if lone || ch.kind == Kind::Keyword {
            let item = Item::Heading {
                kind: ch.kind,
                text: if ch.label_only {
                    label_text(t)
                } else {
                    heading_text(t)
                },
                label_only: ch.label_only,
            };
            return Some((item, 1));
        }
        return None;
    }
    if !lone {
        return None;
    }
    let (kind, text) = if let Some((level, text)) = atx_heading(t) {
        (Kind::Underlined(level), text)
    } else if is_matter(t) {
        (Kind::Matter, t)
    } else if caps_heading(t) {
        (Kind::Caps, t)
    } else {
        return None;
    };
    let item = Item::Heading {
        kind,
        text: heading_text(text),
        label_only: false,
    };
    Some((item, 1))
}

struct Chapter {
    kind: Kind,
    label_only: bool,
}

/// `CHAPTER I`, `Chapter 2. The Title`, `Chapter One`, `BOOK II`, `PART THE FIRST`, `IV.`,
/// `IV. THE TITLE`, `12`.
fn chapter(t: &str) -> Option<Chapter> {
    const KEYWORDS: &str = concat!(
        "chapter|book|part|volume|act|scene|canto|stave|section|episode|adventure",
        "|letter|lecture|essay|story",
    );
    if t.len() > 200 {
        return None;
    }
    let first = t.split_whitespace().next()?;
    let bare = first.trim_end_matches(['.', ':']);
    let lower = bare.to_lowercase();
    if in_list(KEYWORDS, &lower) && !starts_lowercase(bare) {
        let rest = t[first.len()..].trim_start();
        let end = numeral_end(rest)?;
        let after = rest[end..]
            .trim_start_matches(['.', ':', '-', '—', '–', ' '])
            .trim();
        if after.is_empty() {
            return Some(Chapter {
                kind: Kind::Keyword,
                label_only: true,
            });
        }
        let title_ok = after.chars().count() <= 100
            && (!starts_lowercase(after))
            && !after.ends_with([',', ';']);
        return title_ok.then_some(Chapter {
            kind: Kind::Keyword,
            label_only: false,
        });
    }
    // Bare numerals: upper-case Roman (no single C, D, L or M, which are more often letters)
    // or up to three digits.
    let roman_ok = roman(bare).is_some()
        && bare.chars().all(|c| c.is_ascii_uppercase())
        && !matches!(bare, "C" | "D" | "L" | "M");
    let digits_ok = bare.len() <= 3 && !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_digit());
    if !(roman_ok || digits_ok) {
        return None;
    }
    let rest = t[first.len()..].trim();
    if rest.is_empty() {
        return Some(Chapter {
            kind: Kind::Numeral,
            label_only: true,
        });
    }
    // `IV. THE TITLE` — the numeral must end with a period and the rest must read as a title.
    (roman_ok && first.ends_with('.') && title_line(rest)).then_some(Chapter {
        kind: Kind::Numeral,
        label_only: false,
    })
}

/// Byte length of the numeral at the start of `s`: Roman, digits, number words
/// (`Twenty-One`), ordinals (`the First`).
fn numeral_end(s: &str) -> Option<usize> {
    let mut it = s.split_whitespace();
    let w = it.next()?;
    let clean = w.trim_end_matches(['.', ':', ',']);
    let start = s.find(w)?;
    if clean.eq_ignore_ascii_case("the") {
        let next = it.next()?;
        let nclean = next.trim_end_matches(['.', ':', ',']);
        if !is_ordinal(&nclean.to_lowercase()) {
            return None;
        }
        let pos = s[start + w.len()..].find(next)? + start + w.len();
        return Some(pos + nclean.len());
    }
    let lower = clean.to_lowercase();
    let upper_or_lower_roman = clean == clean.to_uppercase() || clean == lower;
    let ok = (roman(&clean.to_uppercase()).is_some() && upper_or_lower_roman)
        || (!clean.is_empty() && clean.len() <= 4 && clean.bytes().all(|b| b.is_ascii_digit()))
        || lower.split('-').all(is_number_word)
        || is_ordinal(&lower);
    ok.then_some(start + clean.len())
}

fn is_number_word(w: &str) -> bool {
    const WORDS: &str = concat!(
        "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen",
        "|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty",
        "|forty|fifty|sixty|seventy|eighty|ninety|hundred",
    );
    in_list(WORDS, w)
}

fn is_ordinal(w: &str) -> bool {
    const ORD: &str = concat!(
        "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth",
        "|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth",
        "|eighteenth|nineteenth|twentieth|last|final",
    );
    in_list(ORD, w)
}

/// The value of a canonical Roman numeral (upper case) from 1 to 399.
fn roman(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 12 {
        return None;
    }
    let val = |c: char| match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        _ => None,
    };
    let digits: Vec<u32> = s.chars().map(val).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, &d) in digits.iter().enumerate() {
        if digits.get(i + 1).is_some_and(|&next| next > d) {
            total -= d as i64;
        } else {
            total += d as i64;
        }
    }
    let total = u32::try_from(total).ok().filter(|t| (1..400).contains(t))?;
    // Only the canonical spelling, so "IIII" or "VX" are not numerals.
    (to_roman(total) == s).then_some(total)
}

fn to_roman(mut n: u32) -> String {
    const TABLE: &[(u32, &str)] = &[
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for &(v, s) in TABLE {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

/// A short line that reads as a chapter title: all capitals or title case.
fn title_line(t: &str) -> bool {
    const SMALL: &str = concat!(
        "a|an|the|and|or|but|nor|of|in|on|at|to|for|by|with|from|into|as|vs|via",
        "|de|la|le|du|von|van|is",
    );
    let n = t.chars().count();
    if n == 0
        || n > 80
        || words(t) > 14
        || starts_lowercase(t)
        || starts_with_quote(t)
        || t.ends_with([',', ';', ':'])
        || list_marker(t).is_some()
        || chapter(t).is_some()
    {
        return false;
    }
    if !t.chars().any(char::is_lowercase) {
        return t.chars().any(char::is_uppercase);
    }
    let significant: Vec<&str> = t
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty() && !in_list(SMALL, &w.to_lowercase()))
        .collect();
    let capital = significant.iter().filter(|w| !starts_lowercase(w)).count();
    !significant.is_empty() && capital * 4 >= significant.len() * 3
}

fn is_matter(t: &str) -> bool {
    const MATTER: &str = concat!(
        "preface|introduction|contents|table of contents|appendix|epilogue",
        "|prologue|foreword|afterword|notes|footnotes|endnotes|glossary|index",
        "|acknowledgments|acknowledgements|dedication|postscript|conclusion",
        "|bibliography|author's note|author’s note|translator's note",
        "|translator’s note|list of illustrations|illustrations",
    );
    !starts_lowercase(t)
        && t.len() < 40
        && in_list(MATTER, &t.trim_end_matches(['.', ':']).to_lowercase())
}

fn caps_heading(t: &str) -> bool {
    if t.len() > 240 || t.chars().count() > 60 || words(t) > 10 || t.ends_with([',', ';']) {
        return false;
    }
    let mut upper = 0;
    for c in t.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            upper += 1;
        } else if !(c.is_alphanumeric() || " '’-–—,.:;&!?()\"“”".contains(c)) {
            return false;
        }
    }
    // A run of two capitals, so codes like `2018-12-21T12:55Z` are not words in capitals.
    let word = t
        .chars()
        .zip(t.chars().skip(1))
        .any(|(a, b)| a.is_uppercase() && b.is_uppercase());
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let bare = t.trim_end_matches(['.', '!']);
    word && upper > digits && !matches!(bare, "THE END" | "FINIS" | "END")
}

/// An article subhead: a short line without closing punctuation, between paragraphs.
fn subhead_like(t: &str) -> bool {
    let w = words(t);
    (2..=12).contains(&w)
        && t.chars().count() <= 80
        && !starts_lowercase(t)
        && !starts_with_quote(t)
        && !t.ends_with(['.', ',', ';', ':', '”', '"', '’', '\'', ')', '…'])
        && list_marker(t).is_none()
}

fn heading_text(t: &str) -> String {
    collapse(t.trim_end_matches(':').trim()).into_owned()
}

fn label_text(t: &str) -> String {
    collapse(t.trim_end_matches(['.', ':']).trim()).into_owned()
}

/// `CHAPTER I.` + `THE TITLE.` → `CHAPTER I: THE TITLE`, the form Gutenberg files use on one line.
fn merge_title(label: &str, title: &str) -> String {
    let label = label.trim_end_matches(['.', ':', '-', '—', '–', ' ']);
    let title = title.trim();
    let title = title
        .strip_suffix('.')
        .filter(|t| !t.ends_with('.'))
        .unwrap_or(title);
    collapse(&format!("{label}: {title}")).into_owned()
}

fn is_underline(t: &str, above: usize) -> bool {
    let n = t.chars().count();
    n >= 3
        && n * 2 >= above
        && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'))
        && above <= 80
}

/// A line of only ornament characters: `***`, `* * *`, `---`, `#`, `◆`, `⁂`.
fn is_rule(t: &str) -> bool {
    const ORNAMENTS: &str = "*-_=~#◆◇•·⁂❧☙✻✱✽❦§○●◊♦⸻—–";
    !t.is_empty()
        && t.len() < 200
        && t.chars().all(|c| c == ' ' || ORNAMENTS.contains(c))
        && t.chars().any(|c| c != ' ')
}

fn is_quote(t: &str) -> bool {
    t.starts_with('>')
}

/// The quoted lines from `i` on with one `>` removed, and where the quote ends.
fn quote_lines<'a>(lines: &[Line<'a>], i: usize) -> (Vec<Line<'a>>, usize) {
    let mut inner = Vec::new();
    let mut j = i;
    while j < lines.len() {
        let l = lines[j];
        if is_quote(l.text) {
            let rest = &l.text[1..];
            inner.push(Line::new(rest.strip_prefix(' ').unwrap_or(rest)));
            j += 1;
        } else if l.blank() {
            let k = lines[j..]
                .iter()
                .position(|l| !l.blank())
                .map_or(lines.len(), |p| p + j);
            if k < lines.len() && is_quote(lines[k].text) {
                inner.extend(std::iter::repeat_n(Line::new(""), k - j));
                j = k;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    (inner, j)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Bullet,
    Ordered(u64),
}

/// `- item`, `* item`, `• item`, `1. item`, `1) item` → the marker and the item text.
fn list_marker(t: &str) -> Option<(Marker, &str)> {
    let mut chars = t.char_indices();
    let (_, c) = chars.next()?;
    let (marker, rest) = if matches!(c, '-' | '*' | '+' | '•' | '◦' | '▪' | '‣' | '·') {
        (Marker::Bullet, &t[c.len_utf8()..])
    } else {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let rest = t[digits..].strip_prefix(['.', ')'])?;
        (Marker::Ordered(t[..digits].parse().ok()?), rest)
    };
    if !rest.starts_with([' ', '\t']) || is_rule(t) {
        return None;
    }
    let content = rest.trim();
    (!content.is_empty()).then_some((marker, content))
}

struct Entry<'a> {
    indent: usize,
    marker: Marker,
    lines: Vec<&'a str>,
    blank_before: bool,
}

/// A list starting at line `i`, and the index after it.
fn parse_list(lines: &[Line], i: usize, wrap: Option<usize>, depth: usize) -> (Block, usize) {
    let ordered = |m: Marker| matches!(m, Marker::Ordered(_));
    let base = lines[i].indent;
    let family = list_marker(lines[i].text).map(|(m, _)| ordered(m));
    let mut entries: Vec<Entry> = Vec::new();
    let mut j = i;
    let mut blank = false;
    while j < lines.len() {
        let l = lines[j];
        if l.blank() {
            let k = lines[j..]
                .iter()
                .position(|l| !l.blank())
                .map_or(lines.len(), |p| p + j);
            let continues = lines.get(k).is_some_and(|next| {
                next.indent >= base
                    && list_marker(next.text)
                        .is_some_and(|(m, _)| next.indent > base + 1 || Some(ordered(m)) == family)
            });
            if !continues {
                break;
            }
            blank = true;
            j = k;
            continue;
        }
        match list_marker(l.text) {
            Some((m, content))
                if l.indent > base + 1 || (l.indent + 1 >= base && Some(ordered(m)) == family) =>
            {
                entries.push(Entry {
                    indent: l.indent,
                    marker: m,
                    lines: vec![content],
                    blank_before: std::mem::take(&mut blank),
                });
            }
            // An item wrapped onto the next line: indented under it, or a hard-wrapped text
            // whose previous line was full. An unindented line after a short item is new text.
            None if !blank
                && !is_quote(l.text)
                && !is_rule(l.text)
                && (l.indent > base
                    || wrap
                        .is_some_and(|w| lines[j - 1].chars + 1 + first_word_len(l.text) > w)) =>
            {
                match entries.last_mut() {
                    Some(e) => e.lines.push(l.text),
                    None => break,
                }
            }
            _ => break,
        }
        j += 1;
    }
    if entries.is_empty() {
        // Unreachable given the caller's check, but never loop without progress.
        let para = Block::Paragraph {
            content: vec![Inline::text(collapse(lines[i].text))],
        };
        return (para, i + 1);
    }
    (Block::List(build_list(&entries, depth)), j)
}

fn build_list(entries: &[Entry], depth: usize) -> List {
    let base = entries[0].indent;
    let kind = match entries[0].marker {
        Marker::Bullet => ListKind::Bullet,
        Marker::Ordered(start) => ListKind::Ordered { start },
    };
    let tight = !entries.iter().skip(1).any(|e| e.blank_before);
    let mut items: Vec<ListItem> = Vec::new();
    let mut k = 0;
    while k < entries.len() {
        let e = &entries[k];
        let mut blocks = vec![Block::Paragraph {
            content: vec![Inline::text(join_plain(&e.lines))],
        }];
        k += 1;
        let nested_end = entries[k..]
            .iter()
            .position(|c| c.indent <= base + 1)
            .map_or(entries.len(), |p| p + k);
        if nested_end > k {
            if depth + 1 < MAX_DEPTH {
                blocks.push(Block::List(build_list(&entries[k..nested_end], depth + 1)));
            } else {
                // Too deep: keep the text, flattened into this item.
                for c in &entries[k..nested_end] {
                    blocks.push(Block::Paragraph {
                        content: vec![Inline::text(join_plain(&c.lines))],
                    });
                }
            }
            k = nested_end;
        }
        items.push(ListItem { task: None, blocks });
    }
    List { kind, tight, items }
}

/// Whether a multi-line paragraph keeps its line breaks (verse, addresses, tables of contents,
/// indented blocks) instead of being re-flowed as hard-wrapped prose.
fn keep_breaks(lines: &[Line], ctx: &Ctx) -> bool {
    if lines.len() < 2 {
        return false;
    }
    if lines.iter().all(|l| l.indent >= ctx.base_indent + 2) {
        return true;
    }
    let Some(wrap) = ctx.wrap else {
        return false;
    };
    // A greedy wrap breaks only where the next word does not fit; a break before a word that
    // would have fitted was made on purpose.
    let hard = lines
        .windows(2)
        // A line nearly as long as the wrap width is prose wrapped a little early by hand.
        .filter(|p| {
            p[0].chars + 1 + first_word_len(p[1].text) <= wrap && p[0].chars * 4 <= wrap * 3
        })
        .count();
    hard * 2 >= lines.len() - 1
}

/// Joins hard-wrapped lines with single spaces; a line ending in a word-hyphen or a dash
/// joins without one ("after-" + "lecture", "to--" + "day").
fn join_plain(lines: &[&str]) -> String {
    let mut out = String::new();
    for l in lines {
        let l = collapse(l);
        if l.is_empty() {
            continue;
        }
        if !out.is_empty() && !joins_tight(&out) {
            out.push(' ');
        }
        out.push_str(&l);
    }
    out
}

fn joins_tight(prev: &str) -> bool {
    let mut rev = prev.chars().rev();
    match rev.next() {
        Some('-') => match rev.next() {
            Some(c) if c.is_alphabetic() => true,
            Some('-') => rev.next().is_some_and(char::is_alphanumeric),
            _ => false,
        },
        Some('—') => rev.next().is_some_and(|c| !c.is_whitespace()),
        _ => false,
    }
}

fn para_inlines(lines: &[Line], breaks: bool) -> Vec<Inline> {
    if !breaks {
        let texts: Vec<&str> = lines.iter().map(|l| l.text).collect();
        return underscore_emphasis(&join_plain(&texts));
    }
    let mut out = Vec::with_capacity(lines.len() * 2);
    for l in lines {
        if !out.is_empty() {
            out.push(Inline::LineBreak);
        }
        out.extend(underscore_emphasis(&collapse(l.text)));
    }
    out
}

/// Plain-text convention for italics (Project Gutenberg, e-mail): `_words_` becomes emphasis.
/// An underscore opens only at a word start and closes only at a word end, so `snake_case`
/// and stray underscores stay as they are.
fn underscore_emphasis(text: &str) -> Vec<Inline> {
    // Most paragraphs have no underscore at all: spare them the per-character tables.
    if !text.contains('_') {
        return vec![Inline::text(text)];
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_open = |i: usize| {
        chars[i].1 == '_'
            && (i == 0 || !chars[i - 1].1.is_alphanumeric() && chars[i - 1].1 != '_')
            && chars
                .get(i + 1)
                .is_some_and(|&(_, c)| !c.is_whitespace() && c != '_')
    };
    let is_close = |i: usize| {
        chars[i].1 == '_'
            && i > 0
            && !chars[i - 1].1.is_whitespace()
            && chars[i - 1].1 != '_'
            && chars
                .get(i + 1)
                .is_none_or(|&(_, c)| !c.is_alphanumeric() && c != '_')
    };
    // next_close[i]: first closing underscore at or after i, so matching stays linear.
    let mut next_close = vec![None; chars.len() + 1];
    for i in (0..chars.len()).rev() {
        next_close[i] = if is_close(i) {
            Some(i)
        } else {
            next_close[i + 1]
        };
    }
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    while i < chars.len() {
        if is_open(i)
            && let Some(j) = next_close[i + 1]
        {
            let (start, inner_start, inner_end) = (chars[i].0, chars[i].0 + 1, chars[j].0);
            if start > plain_from {
                out.push(Inline::text(&text[plain_from..start]));
            }
            out.push(Inline::Emphasis {
                content: vec![Inline::text(&text[inner_start..inner_end])],
            });
            plain_from = inner_end + 1;
            i = j + 1;
            continue;
        }
        i += 1;
    }
    if plain_from < text.len() || out.is_empty() {
        out.push(Inline::text(&text[plain_from..]));
    }
    out
}

/// Resolves what needs neighbours (chapter titles on their own line, subheads, tables of
/// contents, lone numbers), assigns levels and ids, and produces the blocks.
fn finish(mut items: Vec<Item>, ctx: &Ctx, top: bool) -> Vec<Block> {
    // Lone numbers are chapters only when there are several; one is more likely a page number.
    let numbers = items
        .iter()
        .filter(|it| matches!(it, Item::Heading { kind: Kind::Numeral, text, .. } if text.bytes().all(|b| b.is_ascii_digit())))
        .count();
    if numbers < 2 {
        for it in &mut items {
            if let Item::Heading {
                kind: Kind::Numeral,
                text,
                ..
            } = it
                && text.bytes().all(|b| b.is_ascii_digit())
            {
                let t = std::mem::take(text);
                *it = Item::Block(Block::Paragraph {
                    content: vec![Inline::text(t)],
                });
            }
        }
    }

    // `CHAPTER I` then, after a blank line, `THE TITLE`.
    let mut merged: Vec<Item> = Vec::with_capacity(items.len());
    let mut it = items.into_iter().peekable();
    while let Some(item) = it.next() {
        if let Item::Heading {
            kind: kind @ (Kind::Keyword | Kind::Numeral),
            text,
            label_only: true,
        } = &item
        {
            let title = match it.peek() {
                Some(Item::Para { lines, .. }) if lines.len() == 1 && title_line(lines[0].text) => {
                    Some(lines[0].text.to_string())
                }
                Some(Item::Heading {
                    kind: Kind::Caps,
                    text,
                    ..
                }) => Some(text.clone()),
                _ => None,
            };
            if let Some(title) = title {
                it.next();
                merged.push(Item::Heading {
                    kind: *kind,
                    text: merge_title(text, &title),
                    label_only: false,
                });
                continue;
            }
        }
        merged.push(item);
    }
    let mut items = merged;

    let chapters = items.iter().any(|it| {
        matches!(
            it,
            Item::Heading {
                kind: Kind::Keyword | Kind::Numeral,
                ..
            }
        )
    });
    // Subheads belong to articles, and never to quoted text.
    if top && !ctx.book && !chapters {
        mark_subheads(&mut items);
    }
    demote_contents(&mut items);
    demote_caps_runs(&mut items);

    let mut ids = Ids::default();
    let mut seen_chapter = false;
    let mut seen_keyword = false;
    let mut blocks = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Para { lines, breaks } => {
                let content = para_inlines(&lines, breaks);
                if !content.is_empty() {
                    blocks.push(Block::Paragraph { content });
                }
            }
            Item::Block(b) => blocks.push(b),
            Item::Heading { kind, text, .. } => {
                let level = match kind {
                    Kind::Keyword => {
                        seen_chapter = true;
                        seen_keyword = true;
                        1
                    }
                    Kind::Numeral => {
                        seen_chapter = true;
                        if seen_keyword { 2 } else { 1 }
                    }
                    Kind::Matter => 1,
                    Kind::Caps | Kind::Sub => {
                        if seen_chapter {
                            2
                        } else {
                            1
                        }
                    }
                    Kind::Underlined(l) => l,
                };
                let id = ids.next(&text);
                blocks.push(Block::Heading {
                    level,
                    id,
                    content: vec![Inline::text(text)],
                });
            }
        }
    }
    blocks
}

/// Heading ids through [`Slugger`], remembering the next free suffix per base so a book with
/// thousands of identical headings stays linear.
#[derive(Default)]
struct Ids {
    slugger: Slugger,
    next: HashMap<String, usize>,
}

impl Ids {
    fn next(&mut self, text: &str) -> String {
        let base = slugify(text);
        let n = self.next.entry(base.clone()).or_insert(1);
        let wanted = if *n == 1 { base } else { format!("{base}-{n}") };
        *n += 1;
        self.slugger.unique(&wanted)
    }
}

/// Single-line paragraphs that look like subheads become headings, when an article has at
/// least two of them (one odd short line is more likely a caption or an aside).
fn mark_subheads(items: &mut [Item]) {
    let candidate = |items: &[Item], k: usize| {
        let Item::Para { lines, .. } = &items[k] else {
            return false;
        };
        if lines.len() != 1 || !subhead_like(lines[0].text) {
            return false;
        }
        let prev_ok = k > 0 && matches!(items[k - 1], Item::Para { .. });
        let next_ok = match items.get(k + 1) {
            Some(Item::Para { lines: next, .. }) => {
                let len: usize = next.iter().map(|l| l.chars).sum();
                len >= 80 && len >= 2 * lines[0].chars
            }
            _ => false,
        };
        prev_ok && next_ok
    };
    let found: Vec<usize> = (0..items.len()).filter(|&k| candidate(items, k)).collect();
    if found.len() < 2 {
        return;
    }
    for k in found {
        if let Item::Para { lines, .. } = &items[k] {
            let text = heading_text(lines[0].text);
            items[k] = Item::Heading {
                kind: Kind::Sub,
                text,
                label_only: false,
            };
        }
    }
}

/// Three or more all-capitals lines in a row with nothing between them are a title page or a
/// list, not a stack of nested headings: they become one paragraph, line by line.
fn demote_caps_runs(items: &mut Vec<Item>) {
    fn is_caps(it: &Item) -> bool {
        matches!(
            it,
            Item::Heading {
                kind: Kind::Caps,
                ..
            }
        )
    }
    fn flush<'a>(run: &mut Vec<Item<'a>>, items: &mut Vec<Item<'a>>) {
        if run.len() < 3 {
            items.append(run);
            return;
        }
        let mut content = Vec::new();
        for it in run.drain(..) {
            if let Item::Heading { text, .. } = it {
                if !content.is_empty() {
                    content.push(Inline::LineBreak);
                }
                content.push(Inline::text(text));
            }
        }
        items.push(Item::Block(Block::Paragraph { content }));
    }
    if !items.windows(3).any(|w| w.iter().all(is_caps)) {
        return;
    }
    let old = std::mem::take(items);
    let mut run = Vec::new();
    for it in old {
        if is_caps(&it) {
            run.push(it);
        } else {
            flush(&mut run, items);
            items.push(it);
        }
    }
    flush(&mut run, items);
}

/// A table of contents made of lone lines looks like a run of headings; when those headings
/// recur later in the book, the run was the contents and becomes one paragraph.
fn demote_contents(items: &mut Vec<Item>) {
    let key = |text: &str| slugify(text);
    let label_key = |text: &str| text.split(':').next().map(slugify);
    let mut last: HashMap<String, usize> = HashMap::new();
    for (k, it) in items.iter().enumerate() {
        if let Item::Heading { text, .. } = it {
            last.insert(key(text), k);
            if let Some(l) = label_key(text) {
                last.insert(l, k);
            }
        }
    }
    let mut demote = vec![false; items.len()];
    let mut k = 0;
    while k < items.len() {
        if !matches!(items[k], Item::Heading { .. }) {
            k += 1;
            continue;
        }
        let end = items[k..]
            .iter()
            .position(|it| !matches!(it, Item::Heading { .. }))
            .map_or(items.len(), |p| p + k);
        if end - k >= 2 {
            let recurs: Vec<usize> = (k..end)
                .filter(|&h| {
                    let Item::Heading { text, .. } = &items[h] else {
                        return false;
                    };
                    last.get(&key(text)).is_some_and(|&at| at > h)
                })
                .collect();
            if recurs.len() >= 2 {
                for h in recurs {
                    demote[h] = true;
                }
            }
        }
        k = end;
    }
    if !demote.contains(&true) {
        return;
    }
    let old = std::mem::take(items);
    let mut pending: Vec<Inline> = Vec::new();
    for (it, d) in old.into_iter().zip(demote) {
        if d {
            if let Item::Heading { text, .. } = it {
                if !pending.is_empty() {
                    pending.push(Inline::LineBreak);
                }
                pending.push(Inline::text(text));
            }
            continue;
        }
        if !pending.is_empty() {
            items.push(Item::Block(Block::Paragraph {
                content: std::mem::take(&mut pending),
            }));
        }
        items.push(it);
    }
    if !pending.is_empty() {
        items.push(Item::Block(Block::Paragraph { content: pending }));
    }
}

#[cfg(test)]
mod emphasis_tests {
    use super::*;

    #[test]
    fn underscores_mark_italics_only_around_words() {
        let got =
            underscore_emphasis("_First printed_ in the Commonweal, not snake_case or _ alone_");
        assert_eq!(
            got,
            vec![
                Inline::Emphasis {
                    content: vec![Inline::text("First printed")]
                },
                Inline::text(" in the Commonweal, not snake_case or _ alone_"),
            ]
        );
        assert_eq!(underscore_emphasis("plain"), vec![Inline::text("plain")]);
        assert_eq!(underscore_emphasis(""), vec![Inline::text("")]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_tables_match_whole_entries_only() {
        let list = "share|share this|print|e-mail";
        for (key, hit) in [
            ("share", true),
            ("share this", true),
            ("print", true),
            ("e-mail", true),
            ("mail", false),
            ("hare", false),
            ("share t", false),
            ("this|print", false),
            ("", false),
            ("print|", false),
        ] {
            assert_eq!(in_list(list, key), hit, "{key:?}");
            assert_eq!(list.split('|').any(|e| e == key), hit, "{key:?}");
        }
        assert!(in_list("a||b", ""));
    }

    fn p(text: &str) -> Block {
        Block::Paragraph {
            content: vec![Inline::text(text)],
        }
    }

    fn lines_p(lines: &[&str]) -> Block {
        let mut content = Vec::new();
        for l in lines {
            if !content.is_empty() {
                content.push(Inline::LineBreak);
            }
            content.push(Inline::text(*l));
        }
        Block::Paragraph { content }
    }

    fn h(level: u8, id: &str, text: &str) -> Block {
        Block::Heading {
            level,
            id: id.to_string(),
            content: vec![Inline::text(text)],
        }
    }

    fn list(kind: ListKind, tight: bool, items: &[&str]) -> Block {
        Block::List(List {
            kind,
            tight,
            items: items
                .iter()
                .map(|t| ListItem {
                    task: None,
                    blocks: vec![p(t)],
                })
                .collect(),
        })
    }

    fn meta(f: impl FnOnce(&mut Meta)) -> Meta {
        let mut m = Meta::default();
        f(&mut m);
        m
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn news_with_kicker_headline_dek_byline_date() {
        let doc = read(
            "SCIENCE\n\n\
             Astronomers find water ice in a crater near the Martian equator\n\n\
             The discovery could reshape plans for the first crewed missions to the red planet.\n\n\
             By Jane Doe and John Smith\n\
             March 5, 2024\n\
             5 min read\n\
             Share\n\n\
             Astronomers said on Tuesday that they had found large deposits of water ice under a crater close to the equator.\n\n\
             “This changes the calculus for landing sites,” said Dr. Ana Pérez, who was not involved.\n\n\
             What happens next\n\n\
             The team plans to return to the site with ground-penetrating radar next year, and NASA wants a map by 2026.\n\n\
             Advertisement\n\n\
             Other scientists urged caution — the signal could also come from salts — but agreed it was intriguing.\n\n\
             Why it matters\n\n\
             Water is heavy to launch and essential for drinking, growing food and making rocket fuel, so this matters.\n",
        );
        assert_eq!(
            doc.meta,
            meta(|m| {
                m.kicker = Some("SCIENCE".into());
                m.title =
                    Some("Astronomers find water ice in a crater near the Martian equator".into());
                m.subtitle = Some(
                    "The discovery could reshape plans for the first crewed missions to the red planet."
                        .into(),
                );
                m.authors = strings(&["Jane Doe", "John Smith"]);
                m.date = Some("2024-03-05".into());
            })
        );
        assert_eq!(
            doc.blocks,
            vec![
                p(
                    "Astronomers said on Tuesday that they had found large deposits of water ice under a crater close to the equator."
                ),
                p(
                    "“This changes the calculus for landing sites,” said Dr. Ana Pérez, who was not involved."
                ),
                h(1, "what-happens-next", "What happens next"),
                p(
                    "The team plans to return to the site with ground-penetrating radar next year, and NASA wants a map by 2026."
                ),
                p(
                    "Other scientists urged caution — the signal could also come from salts — but agreed it was intriguing."
                ),
                h(1, "why-it-matters", "Why it matters"),
                p(
                    "Water is heavy to launch and essential for drinking, growing food and making rocket fuel, so this matters."
                ),
            ]
        );
    }

    #[test]
    fn news_without_kicker_agency_and_role() {
        let doc = read(
            "Global markets tumble as oil prices surge past $100\n\
             By Maria Garcia, Staff Writer | Reuters\n\
             Updated 2024-03-05T10:32:00Z\n\
             \n\
             LONDON (Reuters) - Global stock markets fell sharply on Tuesday as oil prices surged past $100.\n\
             \n\
             The FTSE 100 closed down 2.1%, while the S&P 500 lost 1.8% in early trading.\n",
        );
        assert_eq!(
            doc.meta,
            meta(|m| {
                m.title = Some("Global markets tumble as oil prices surge past $100".into());
                m.authors = strings(&["Maria Garcia"]);
                m.date = Some("2024-03-05T10:32:00Z".into());
                m.publisher = Some("Reuters".into());
            })
        );
        assert_eq!(
            doc.blocks,
            vec![
                p(
                    "LONDON (Reuters) - Global stock markets fell sharply on Tuesday as oil prices surged past $100."
                ),
                p("The FTSE 100 closed down 2.1%, while the S&P 500 lost 1.8% in early trading."),
            ]
        );
    }

    #[test]
    fn opinion_piece_with_list_and_rule() {
        let doc = read(
            "Why we should all be walking more\n\n\
             By Jane Doe | Opinion\n\
             Published 5 March 2024 10:32 GMT\n\n\
             Walking is the most underrated form of exercise. It costs nothing and needs no gym.\n\n\
             Yet most of us walk less than 4,000 steps a day. Here is what the research says:\n\
             - Walking 7,000 steps a day cuts mortality risk.\n\
             - Brisk walking improves mood within ten minutes.\n\
             - Walking meetings make people more creative.\n\n\
             * * *\n\n\
             So put on your shoes.   Your future self will thank you.\n",
        );
        assert_eq!(
            doc.meta,
            meta(|m| {
                m.title = Some("Why we should all be walking more".into());
                m.authors = strings(&["Jane Doe"]);
                m.date = Some("2024-03-05".into());
                m.kicker = Some("Opinion".into());
            })
        );
        assert_eq!(
            doc.blocks,
            vec![
                p(
                    "Walking is the most underrated form of exercise. It costs nothing and needs no gym."
                ),
                p(
                    "Yet most of us walk less than 4,000 steps a day. Here is what the research says:"
                ),
                list(
                    ListKind::Bullet,
                    true,
                    &[
                        "Walking 7,000 steps a day cuts mortality risk.",
                        "Brisk walking improves mood within ten minutes.",
                        "Walking meetings make people more creative.",
                    ]
                ),
                Block::Rule,
                p("So put on your shoes. Your future self will thank you."),
            ]
        );
    }

    #[test]
    fn article_without_header_lines() {
        let text = "It was the kind of morning that made you forget the city had ever been anything but quiet, and I walked down to the harbour before anyone else was awake.\n\n\
                    The boats were still tied up. A gull watched me from a bollard, unimpressed.\n\n\
                    I stayed until the first ferry came in.\n";
        let doc = read(text);
        assert_eq!(doc.meta, Meta::default());
        assert_eq!(
            doc.blocks,
            vec![
                p(
                    "It was the kind of morning that made you forget the city had ever been anything but quiet, and I walked down to the harbour before anyone else was awake."
                ),
                p("The boats were still tied up. A gull watched me from a bollard, unimpressed."),
                p("I stayed until the first ferry came in."),
            ]
        );
        // A hard-wrapped opening paragraph is not a headline either.
        let doc = read(
            "The Time Traveller (for so it will be convenient to speak of him) was\n\
             expounding a recondite matter to us. His grey eyes shone and twinkled.\n",
        );
        assert_eq!(doc.meta.title, None);
        assert_eq!(doc.blocks.len(), 1);
    }

    #[test]
    fn headline_and_byline_without_blank_lines_and_hard_wrapped_body() {
        let doc = read(
            "A Modest Proposal\n\
             by Jonathan Swift\n\
             \n\
             It is a melancholy object to those, who walk through this great town, or\n\
             travel in the country, when they see the streets, the roads, and cabbin-\n\
             doors crowded with beggars of the female sex, followed by three, four, or\n\
             six children, all in rags, and importuning every passenger for an alms.\n\
             \n\
             I think it is agreed by all parties, that this prodigious number of\n\
             children in the arms, or on the backs, or at the heels of their mothers,\n\
             is in the present deplorable state of the kingdom, a very great\n\
             additional grievance.\n",
        );
        assert_eq!(doc.meta.title.as_deref(), Some("A Modest Proposal"));
        assert_eq!(doc.meta.authors, strings(&["Jonathan Swift"]));
        assert_eq!(
            doc.blocks,
            vec![
                p(
                    "It is a melancholy object to those, who walk through this great town, or travel in the country, when they see the streets, the roads, and cabbin-doors crowded with beggars of the female sex, followed by three, four, or six children, all in rags, and importuning every passenger for an alms."
                ),
                p(
                    "I think it is agreed by all parties, that this prodigious number of children in the arms, or on the backs, or at the heels of their mothers, is in the present deplorable state of the kingdom, a very great additional grievance."
                ),
            ]
        );
    }

    const BOOK: &str = "\u{FEFF}The Project Gutenberg EBook of The Sample Book, by Ann Author\r\n\
        \r\n\
        This eBook is for the use of anyone anywhere at no cost.\r\n\
        \r\n\
        Title: The Sample Book\r\n\
        \x20      or, A Tale of Two Chapters\r\n\
        \r\n\
        Author: Ann Author\r\n\
        \r\n\
        Release Date: May 8, 2007 [EBook #12345]\r\n\
        \r\n\
        Language: English\r\n\
        \r\n\
        *** START OF THIS PROJECT GUTENBERG EBOOK THE SAMPLE BOOK ***\r\n\
        \r\n\
        Produced by Some Volunteer\r\n\
        \r\n\
        CONTENTS\r\n\
        \r\n\
        CHAPTER I. The Arrival\r\n\
        \r\n\
        CHAPTER II. The Departure\r\n\
        \r\n\
        \r\n\
        CHAPTER I.\r\n\
        \r\n\
        The Arrival\r\n\
        \r\n\
        It was late when we arrived at the inn, and the landlord, a stout man\r\n\
        with a red face, showed us to our rooms without a word.\r\n\
        \r\n\
        \x20  \"Sing, O Muse, of the wrath of the landlord,\r\n\
        \x20  Who would not serve us supper after nine.\"\r\n\
        \r\n\
        THE NEXT MORNING\r\n\
        \r\n\
        We rose early--too early, as it proved--and went down to breakfast.\r\n\
        \r\n\
        CHAPTER II. The Departure\r\n\
        \r\n\
        We left at noon.\r\n\
        \r\n\
        End of the Project Gutenberg EBook of The Sample Book, by Ann Author\r\n\
        \r\n\
        *** END OF THIS PROJECT GUTENBERG EBOOK THE SAMPLE BOOK ***\r\n\
        \r\n\
        Section 1. General Terms of Use and Redistributing Project Gutenberg-tm\r\n";

    #[test]
    fn gutenberg_book_with_chapters() {
        let doc = read(BOOK);
        assert_eq!(
            doc.meta,
            meta(|m| {
                m.title = Some("The Sample Book".into());
                m.subtitle = Some("or, A Tale of Two Chapters".into());
                m.authors = strings(&["Ann Author"]);
                m.language = Some("en".into());
                m.identifier = Some("https://www.gutenberg.org/ebooks/12345".into());
            })
        );
        assert_eq!(
            doc.blocks,
            vec![
                h(1, "contents", "CONTENTS"),
                lines_p(&["CHAPTER I. The Arrival", "CHAPTER II. The Departure"]),
                h(1, "chapter-i-the-arrival", "CHAPTER I: The Arrival"),
                p(
                    "It was late when we arrived at the inn, and the landlord, a stout man with a red face, showed us to our rooms without a word."
                ),
                lines_p(&[
                    "\"Sing, O Muse, of the wrath of the landlord,",
                    "Who would not serve us supper after nine.\"",
                ]),
                h(2, "the-next-morning", "THE NEXT MORNING"),
                p("We rose early--too early, as it proved--and went down to breakfast."),
                h(1, "chapter-ii-the-departure", "CHAPTER II. The Departure"),
                p("We left at noon."),
            ]
        );
    }

    #[test]
    fn chapter_forms() {
        let doc = read(
            "Chapter One\n\nText one.\n\nBOOK II\n\nText two.\n\nPART THE FIRST\n\nText three.\n\n\
             IV.\n\nTHE CAVE.\n\nText four.\n\nChapter 5 - Homecoming\n\nText five.\n\n\
             CHAPTER VI\nText six follows directly on the heading line.\n",
        );
        let headings: Vec<(u8, String)> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading { level, content, .. } => {
                    Some((*level, crate::model::plain_text(content)))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            headings,
            vec![
                (1, "Chapter One".to_string()),
                (1, "BOOK II".to_string()),
                (1, "PART THE FIRST".to_string()),
                (2, "IV: THE CAVE".to_string()),
                (1, "Chapter 5 - Homecoming".to_string()),
                (1, "CHAPTER VI".to_string()),
            ]
        );
        assert_eq!(
            doc.blocks.last(),
            Some(&p("Text six follows directly on the heading line."))
        );
        // Sentences that start like chapters are not headings.
        let doc = read("Chapter 5 of the report was never published.\n\nPart of it leaked.\n");
        assert!(
            doc.blocks
                .iter()
                .all(|b| matches!(b, Block::Paragraph { .. }))
        );
    }

    #[test]
    fn lists_rules_and_quotes() {
        let doc = read(
            "Some intro paragraph that is long enough to be a body paragraph of an article.\n\n\
             1. First step\n\
             2) Second step,\n\
             \x20  wrapped onto two lines\n\
             3. Third step\n\n\
             ---\n\n\
             • apples\n\n\
             • pears\n\
             \x20 - green ones\n\
             \x20 - red ones\n\n\
             ◆\n\n\
             > To be, or not to be,\n\
             > that is the question.\n\
             >\n\
             > Whether ’tis nobler in the mind to suffer\n\n\
             #\n\n\
             12 June was a Tuesday.\n",
        );
        let nested = Block::List(List {
            kind: ListKind::Bullet,
            tight: false,
            items: vec![
                ListItem {
                    task: None,
                    blocks: vec![p("apples")],
                },
                ListItem {
                    task: None,
                    blocks: vec![
                        p("pears"),
                        list(ListKind::Bullet, true, &["green ones", "red ones"]),
                    ],
                },
            ],
        });
        assert_eq!(
            doc.blocks,
            vec![
                p("Some intro paragraph that is long enough to be a body paragraph of an article."),
                list(
                    ListKind::Ordered { start: 1 },
                    true,
                    &[
                        "First step",
                        "Second step, wrapped onto two lines",
                        "Third step"
                    ]
                ),
                Block::Rule,
                nested,
                Block::Rule,
                Block::Quote {
                    blocks: vec![
                        p("To be, or not to be, that is the question."),
                        p("Whether ’tis nobler in the mind to suffer"),
                    ]
                },
                Block::Rule,
                p("12 June was a Tuesday."),
            ]
        );
    }

    #[test]
    fn header_variants() {
        let m =
            read("World\nUkraine war: what we know on day 500\nBy Jane Doe\n\nBody text.\n").meta;
        assert_eq!(m.kicker.as_deref(), Some("World"));
        assert_eq!(
            m.title.as_deref(),
            Some("Ukraine war: what we know on day 500")
        );
        assert_eq!(m.authors, strings(&["Jane Doe"]));
        // A short headline with a dek is not a kicker and a title.
        let m = read(
            "Brexit chaos deepens\n\nMay faces fresh revolt as ministers quit over the deal\n\n\
             By John Smith, Political Correspondent\n\nBody text.\n",
        )
        .meta;
        assert_eq!(m.kicker, None);
        assert_eq!(m.title.as_deref(), Some("Brexit chaos deepens"));
        assert_eq!(
            m.subtitle.as_deref(),
            Some("May faces fresh revolt as ministers quit over the deal")
        );
        assert_eq!(m.authors, strings(&["John Smith"]));
        // Without a byline a dek stays in the body.
        let doc = read(
            "Scientists find water on Mars\n\nThe discovery could change everything\n\nBody text.\n",
        );
        assert_eq!(doc.meta.subtitle, None);
        assert_eq!(doc.blocks.len(), 2);
        // Date first, then the headline; a quoted first paragraph is not a headline.
        let m = read("March 5, 2024\n\nThe headline comes after the date\n\nBody.\n").meta;
        assert_eq!(m.date.as_deref(), Some("2024-03-05"));
        assert_eq!(
            m.title.as_deref(),
            Some("The headline comes after the date")
        );
        let doc =
            read("Climate crisis\n\n“We are running out of time,” the UN chief said.”\n\nBody.\n");
        assert_eq!(doc.meta.kicker, None);
        assert_eq!(doc.meta.title.as_deref(), Some("Climate crisis"));
        // A source URL pasted at the top, and a Markdown-style title.
        let doc = read(
            "https://example.com/news/1\n# A Markdown Title\n\nIntro.\n\n## Part two\n\nMore.\n",
        );
        assert_eq!(
            doc.meta.source_url.as_deref(),
            Some("https://example.com/news/1")
        );
        assert_eq!(doc.meta.title.as_deref(), Some("A Markdown Title"));
        assert_eq!(
            doc.blocks,
            vec![p("Intro."), h(2, "part-two", "Part two"), p("More.")]
        );
        // A first line ending in a full stop is text.
        let doc = read("Hello.\n\nBody text.\n");
        assert_eq!(doc.meta, Meta::default());
        assert_eq!(doc.blocks, vec![p("Hello."), p("Body text.")]);
    }

    #[test]
    fn list_ends_at_unindented_text() {
        let doc = read("Steps:\n- one\n- two\nThis concludes the list.\n");
        assert_eq!(
            doc.blocks,
            vec![
                p("Steps:"),
                list(ListKind::Bullet, true, &["one", "two"]),
                p("This concludes the list."),
            ]
        );
    }

    #[test]
    fn bylines() {
        let authors = |line: &str| meta_line(line).map(|m| m.authors).unwrap_or_default();
        assert_eq!(authors("By Jane Doe"), strings(&["Jane Doe"]));
        assert_eq!(authors("by Jane Doe"), strings(&["Jane Doe"]));
        assert_eq!(authors("BY JANE DOE"), strings(&["JANE DOE"]));
        assert_eq!(authors("Words by Jane Doe"), strings(&["Jane Doe"]));
        assert_eq!(authors("By: Jane Doe"), strings(&["Jane Doe"]));
        assert_eq!(
            authors("By Ann Lee, Bo Chen and Cy Diaz"),
            strings(&["Ann Lee", "Bo Chen", "Cy Diaz"])
        );
        assert_eq!(
            authors("By Ann Lee & Bo Chen"),
            strings(&["Ann Lee", "Bo Chen"])
        );
        assert_eq!(authors("By Jane Doe, Staff Writer"), strings(&["Jane Doe"]));
        assert_eq!(authors("By Jane Doe, Washington"), strings(&["Jane Doe"]));
        assert_eq!(
            authors("By Jane Doe in Kyiv and John Smith in London"),
            strings(&["Jane Doe", "John Smith"])
        );
        assert_eq!(
            authors("By Ludwig van Beethoven and J.K. Rowling"),
            strings(&["Ludwig van Beethoven", "J.K. Rowling"])
        );
        let m = meta_line("By Jane Doe, March 5, 2024").expect("byline with date");
        assert_eq!(m.authors, strings(&["Jane Doe"]));
        assert_eq!(m.date, Some(("2024-03-05".into(), false)));
        let m = meta_line("By Reuters").expect("agency byline");
        assert!(m.authors.is_empty());
        assert_eq!(m.publisher.as_deref(), Some("Reuters"));
        // Sentences that start with "By" are not bylines.
        assert!(meta_line("By the time we arrived, the shop had closed.").is_none());
        assert!(meta_line("By 2030 the city will need twice as many buses").is_none());
        assert!(meta_line("by and large, people agreed").is_none());
    }

    #[test]
    fn dates_and_clutter() {
        let d = |s: &str| date_line(s).map(|(d, _)| d);
        assert_eq!(d("March 5, 2024").as_deref(), Some("2024-03-05"));
        assert_eq!(
            d("Published 5 March 2024 10:32 GMT").as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(
            d("Updated: Tue 5 Mar 2024 at 10.32am EST").as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(d("2024-03-05").as_deref(), Some("2024-03-05"));
        assert_eq!(d("Mon, March 4th, 2024").as_deref(), Some("2024-03-04"));
        assert_eq!(
            date_line("Updated March 6, 2024").map(|(_, u)| u),
            Some(true)
        );
        assert_eq!(d("In March 2024 the council voted"), None);
        assert_eq!(d("Published by Penguin"), None);
        for c in [
            "5 min read",
            "Share",
            "Listen to this article",
            "12 comments",
            "3 hours ago",
            "Share | Tweet | Email",
            "Reading time: 4 minutes",
            "5-minute read",
            "Listen (3 min)",
        ] {
            assert!(is_clutter_line(c), "{c}");
        }
        for c in [
            "Share your thoughts below.",
            "Listen carefully",
            "5 minutes later, it rained",
        ] {
            assert!(!is_clutter_line(c), "{c}");
        }
        // Updated dates yield to the published one.
        let doc =
            read("Headline here\nUpdated March 6, 2024\nPublished March 5, 2024\n\nBody text.\n");
        assert_eq!(doc.meta.date.as_deref(), Some("2024-03-05"));
    }

    #[test]
    fn text_is_kept_exactly() {
        let doc = read(
            "“Curly” ‘quotes’ — and \"straight\" 'ones' -- kept;\tno  double   spaces.\n\u{a0}\n",
        );
        assert_eq!(
            doc.blocks,
            vec![p(
                "“Curly” ‘quotes’ — and \"straight\" 'ones' -- kept; no double spaces."
            )]
        );
    }

    #[test]
    fn never_panics_never_empty() {
        let cases = [
            String::new(),
            " \n\t\n\u{a0}\n\u{200B}".to_string(),
            "Title only".to_string(),
            "By Jane Doe".to_string(),
            "x".repeat(100_000),
            "> ".repeat(10_000),
            "- \n* \n1. \n>\n#\n===\n---\nCHAPTER\nI.\n".to_string(),
            "\r\r\n\n\r".to_string(),
            "\u{0}\u{1}\n\u{1b}\n\u{7f}x\u{1b}[0m".to_string(),
            "é\u{301}\u{FEFF}\u{0}".to_string(),
            (0..3000)
                .map(|i| format!("{}- x\n", " ".repeat(i % 50)))
                .collect(),
        ];
        for text in &cases {
            let doc = read(text);
            let json = serde_json::to_string(&doc).expect("serialises");
            assert!(!json.contains(r#""text":"""#), "{json}");
            assert!(!json.contains(r#""content":[]"#), "{json}");
        }
        assert_eq!(read("").blocks, vec![]);
        // A lone short line is kept as text, not swallowed into the title.
        assert_eq!(read("Title only").blocks, vec![p("Title only")]);
        assert_eq!(read("Title only").meta, Meta::default());
    }

    #[test]
    fn large_input_is_read_whole() {
        // Speed is measured by the benches; this checks nothing is lost on a big book.
        let text: String = (0..100_000)
            .map(|i| format!("CHAPTER {}\n\nSome text for paragraph {i}.\n\n", i % 50))
            .collect();
        let doc = read(&text);
        assert_eq!(doc.blocks.len(), 200_000);
    }

    /// Eyeball with `cargo test gutenberg_corpus -- --nocapture`.
    #[test]
    fn gutenberg_corpus() {
        let rel = "shared/corpus/books/gutenberg/3261-news-from-nowhere/3261.txt";
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let found = [root.join(rel), std::path::Path::new("/work").join(rel)]
            .into_iter()
            .find(|p| p.exists());
        let Some(bytes) = found.and_then(|p| std::fs::read(p).ok()) else {
            eprintln!("corpus absent, skipping");
            return;
        };
        let text = crate::read::decode::decode(&bytes).expect("decodes").text;
        let doc = read(&text);
        let headings: Vec<String> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading { level, content, .. } => {
                    Some(format!("{level} {}", crate::model::plain_text(content)))
                }
                _ => None,
            })
            .collect();
        println!(
            "{}\n{}",
            serde_json::to_string_pretty(&doc.meta).expect("json"),
            headings.join("\n")
        );
        assert_eq!(doc.meta.title.as_deref(), Some("News from Nowhere"));
        assert_eq!(doc.meta.authors, strings(&["William Morris"]));
        assert_eq!(doc.meta.language.as_deref(), Some("en"));
        assert_eq!(headings.len(), 33);
        assert_eq!(headings[0], "1 CHAPTER I: DISCUSSION AND BED");
        assert_eq!(
            headings[31],
            "1 CHAPTER XXXII: THE FEAST'S BEGINNING--THE END"
        );
        assert_eq!(headings[32], "1 FOOTNOTES");
        let json = serde_json::to_string(&doc).expect("json");
        assert!(!json.contains("PROJECT GUTENBERG LICENSE") && !json.contains("Produced by"));
        assert!(json.contains("a vision rather than a dream."));
    }
}
