//! PDF output checked with the usual tools: `qpdf --check`, `pdffonts` (every font embedded,
//! subset, with a ToUnicode map), `pdftotext` (every word of the source comes back, in order)
//! and the outline (one bookmark per heading).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use galley::model::{Block, Document, Inline, plain_text};
use galley::read::{self, Format};

fn tool(name: &str, args: &[&str], pdf: &Path) -> (bool, String) {
    let out = Command::new(name)
        .args(args)
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Marks inline code in expected text: words touching it are optional.
const CODE: char = '\u{E000}';

/// Expected words: (word, optional). Words with inline code in them are optional, as
/// pdftotext may read monospace runs with wide gaps out of order.
fn expected_words(text: &str) -> Vec<(String, bool)> {
    let joined = text.replace(['-', '\u{2010}', '\u{ad}'], "");
    joined
        .split(|c: char| !(c.is_alphanumeric() || c == CODE))
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            let optional = w.contains(CODE);
            let clean: String = w.chars().filter(|&c| c != CODE).collect();
            (!clean.is_empty()).then(|| (clean.to_lowercase(), optional))
        })
        .collect()
}

/// Words as the check compares them: lower case, hyphens dropped (so words hyphenated
/// at a line end and compounds compare equal), split at everything but letters and digits.
fn words(text: &str) -> Vec<String> {
    let joined = text
        .replace("-\n", "")
        .replace(['-', '\u{2010}', '\u{ad}'], "");
    joined
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Text of blocks in reading order: `prose` in order, `cells` (tables) only as a bag,
/// footnote bodies separately.
#[derive(Default)]
struct Expected {
    prose: String,
    /// One entry per footnote: notes are set in reference order, not source order.
    notes: Vec<String>,
    cells: String,
}

fn collect(blocks: &[Block], e: &mut Expected, in_note: bool) {
    for b in blocks {
        let push = |e: &mut Expected, s: &str| {
            let t = if in_note {
                e.notes.last_mut().unwrap_or(&mut e.prose)
            } else {
                &mut e.prose
            };
            t.push_str(s);
            t.push('\n');
        };
        match b {
            Block::Heading { content, .. } | Block::Paragraph { content } => {
                push(e, &inline_text(content))
            }
            Block::Quote { blocks } => collect(blocks, e, in_note),
            Block::List(l) => l.items.iter().for_each(|i| collect(&i.blocks, e, in_note)),
            Block::Figure(f) => push(e, &inline_text(&f.caption)),
            // Tables wider than six columns are broken down to syllables on a small page.
            Block::Table(t) if t.align.len() > 6 => {}
            Block::Table(t) => {
                for c in t.header.iter().flatten().chain(t.rows.iter().flatten()) {
                    e.cells.push_str(&inline_text(&c.content));
                    e.cells.push('\n');
                }
                e.cells.push_str(&inline_text(&t.caption));
            }
            Block::FootnoteDef { blocks, .. } => {
                e.notes.push(String::new());
                collect(blocks, e, true);
            }
            Block::Article { meta, .. } => push(e, meta.title.as_deref().unwrap_or_default()),
            Block::Code { .. } | Block::Rule | Block::RawHtml { .. } => {}
        }
    }
}

/// Plain text without images' alt text (shown only when an image cannot be) and without
/// inline code (monospace runs whose gaps pdftotext may read out of order).
fn inline_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for i in inlines {
        match i {
            Inline::Image(_) => out.push(' '),
            Inline::Code { text } => {
                out.push(CODE);
                out.push_str(text);
                out.push(CODE);
            }
            Inline::Text { text } => out.push_str(text),
            Inline::LineBreak => out.push(' '),
            other => {
                if let Some(c) = other.children() {
                    out.push_str(&inline_text(c));
                }
            }
        }
    }
    out
}

fn count_headings(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Heading { content, .. } => usize::from(!plain_text(content).trim().is_empty()),
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => count_headings(blocks),
            Block::List(l) => l.items.iter().map(|i| count_headings(&i.blocks)).sum(),
            _ => 0,
        })
        .sum()
}

fn expected_outline(doc: &Document) -> usize {
    let title = doc.meta.title.clone().unwrap_or_default();
    let dropped = match doc.blocks.first() {
        Some(Block::Heading { content, .. }) => {
            usize::from(!title.trim().is_empty() && plain_text(content).trim() == title.trim())
        }
        _ => 0,
    };
    count_headings(&doc.blocks) - dropped
}

/// `want` appears in `got` in order; a PDF word may carry a footnote number on its end.
fn missing_in_order(want: &[(String, bool)], got: &[String]) -> Option<String> {
    let mut j = 0;
    let mut misses = Vec::new();
    for (i, (w, optional)) in want.iter().enumerate() {
        // A word may carry a footnote number, or be split inside where it was too long
        // for its line (an emergency break in a URL or identifier).
        let matches = |k: usize| {
            let g = &got[k];
            g == w
                || (g.starts_with(w.as_str()) && g[w.len()..].chars().all(|c| c.is_ascii_digit()))
                || (w.starts_with(g.as_str()) && {
                    let mut joined = g.clone();
                    got[k + 1..].iter().take(4).any(|n| {
                        joined.push_str(n);
                        joined == *w
                    })
                })
        };
        // The first word must be confirmed by what follows: "the" is everywhere.
        let near = (j..(j + 40).min(got.len()))
            .find(|&k| matches(k) && (i > 0 || confirmed(want, i, got, k)));
        if let Some(k) = near {
            j = k + 1;
            continue;
        }
        // pdftotext may read a line with wide gaps out of order: a word just behind counts.
        if *optional || (j.saturating_sub(40)..j).any(&matches) {
            continue;
        }
        // Further on (past code blocks, running heads, notes), confirmed by what follows.
        match (j..got.len()).find(|&k| matches(k) && confirmed(want, i, got, k)) {
            Some(k) if i == 0 || k < j + 800 => j = k + 1,
            // Read a little earlier than expected (pdftotext's order): resynchronise.
            _ if let Some(k) =
                (j.saturating_sub(400)..j).find(|&k| matches(k) && confirmed(want, i, got, k)) =>
            {
                j = k + 1
            }
            _ => {
                let from = i.saturating_sub(5);
                let before: Vec<&str> = want[from..i].iter().map(|w| w.0.as_str()).collect();
                let around = got[j.saturating_sub(8)..(j + 8).min(got.len())].join(" ");
                misses.push(format!(
                    "word '{w}' (after: {}) not found in order; the PDF has here: {around}",
                    before.join(" ")
                ));
            }
        }
    }
    // Loosely: a stray word or two that pdftotext reads elsewhere is tolerated.
    (misses.len() > 2 + want.len() / 500).then(|| misses.join("\n"))
}

/// The next four required words after `want[i]` follow `got[k]` closely.
fn confirmed(want: &[(String, bool)], i: usize, got: &[String], k: usize) -> bool {
    let mut at = k + 1;
    for (w, _) in want[i + 1..].iter().filter(|w| !w.1).take(4) {
        match (at..(at + 40).min(got.len())).find(|&m| got[m].starts_with(w.as_str())) {
            Some(m) => at = m + 1,
            None => return false,
        }
    }
    true
}

fn outline_count(pdf: &Path) -> Result<usize, String> {
    let doc = lopdf::Document::load(pdf).map_err(|e| e.to_string())?;
    let catalog = doc.catalog().map_err(|e| e.to_string())?;
    let Ok(outlines) = catalog.get(b"Outlines") else {
        return Ok(0);
    };
    let root = outlines.as_reference().map_err(|e| e.to_string())?;
    fn walk(doc: &lopdf::Document, parent: lopdf::ObjectId, depth: usize) -> usize {
        if depth > 64 {
            return 0;
        }
        let Ok(dict) = doc.get_dictionary(parent) else {
            return 0;
        };
        let mut next = dict.get(b"First").and_then(|o| o.as_reference()).ok();
        let mut n = 0;
        while let Some(id) = next {
            n += 1 + walk(doc, id, depth + 1);
            next = doc
                .get_dictionary(id)
                .and_then(|d| d.get(b"Next"))
                .and_then(|o| o.as_reference())
                .ok();
        }
        n
    }
    Ok(walk(&doc, root, 0))
}

/// Runs every check on one converted file; returns what failed.
fn check(input: &Path, from: Option<Format>, pdf: &Path) -> Vec<String> {
    let mut fails = Vec::new();
    let name = input.display();
    let (ok, out) = tool("qpdf", &["--check"], pdf);
    if !ok || !out.contains("No syntax or stream encoding errors") {
        fails.push(format!("{name}: qpdf --check:\n{out}"));
    }
    let (ok, out) = tool("pdffonts", &[], pdf);
    let rows: Vec<&str> = out.lines().skip(2).collect();
    if !ok || rows.is_empty() {
        fails.push(format!(
            "{name}: pdffonts failed or listed no fonts:\n{out}"
        ));
    }
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type encoding emb sub uni object-id: the three flags come before "N 0".
        let n = cols.len();
        if n < 6 || cols[n - 5..n - 2] != ["yes", "yes", "yes"] {
            fails.push(format!("{name}: font not embedded/subset/unicode: {row}"));
        }
    }
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("run pdftotext");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let got = words(&text);
    let source = read::read_file(input, from).expect("read source");
    let doc = source.document;
    let mut e = Expected::default();
    collect(&doc.blocks, &mut e, false);
    if let Some(m) = missing_in_order(&expected_words(&e.prose), &got) {
        fails.push(format!("{name}: pdftotext: {m}"));
    }
    for note in &e.notes {
        if let Some(m) = missing_in_order(&expected_words(note), &got) {
            fails.push(format!("{name}: pdftotext, footnote: {m}"));
        }
    }
    let mut bag = got.clone();
    bag.sort();
    for (w, _) in expected_words(&e.cells) {
        // Long tokens in narrow columns are broken inside: their start must be there.
        let head: String = w.chars().take(3).collect();
        if bag.binary_search(&w).is_err() && !got.iter().any(|g| g.starts_with(&head)) {
            fails.push(format!("{name}: table word '{w}' missing"));
            break;
        }
    }
    match outline_count(pdf) {
        Ok(n) if n == expected_outline(&doc) => {}
        Ok(n) => fails.push(format!(
            "{name}: outline has {n} entries, the document {} headings",
            expected_outline(&doc)
        )),
        Err(err) => fails.push(format!("{name}: cannot read outline: {err}")),
    }
    fails
}

fn tools_present() -> bool {
    ["qpdf", "pdffonts", "pdftotext"]
        .iter()
        .all(|t| common::pdf_tool(t).is_some())
}

fn run(inputs: &[(PathBuf, Option<&str>)]) {
    run_themed(inputs, None);
}

fn run_themed(inputs: &[(PathBuf, Option<&str>)], theme: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut fails = Vec::new();
    for (i, (input, from)) in inputs.iter().enumerate() {
        let out = dir.path().join(format!("{i:03}.pdf"));
        match theme {
            None => common::convert(input, *from, &out),
            Some(t) => {
                let r = common::galley()
                    .arg("convert")
                    .arg(input)
                    .args(["-q", "--theme", t, "-o"])
                    .arg(&out)
                    .output()
                    .expect("run galley");
                assert!(
                    r.status.success(),
                    "{t}: {}",
                    String::from_utf8_lossy(&r.stderr)
                );
            }
        }
        let format = from.and_then(Format::from_name);
        fails.extend(check(input, format, &out));
    }
    assert!(
        fails.is_empty(),
        "{} problem(s):\n{}",
        fails.len(),
        fails.join("\n")
    );
}

/// The repository's samples, each read by its extension.
fn sample_inputs() -> Vec<(PathBuf, Option<&'static str>)> {
    ["tide-clock.md", "field-guide.md", "harbour-news.txt"]
        .iter()
        .map(|s| (common::sample(s), None))
        .collect()
}

#[test]
fn samples_give_valid_pdfs() {
    if !tools_present() {
        return;
    }
    let inputs = sample_inputs();
    run(&inputs);
}

/// Every built-in theme gives valid PDFs with every word of the samples, in order (two
/// columns included).
#[test]
fn every_theme_gives_valid_pdfs() {
    if !tools_present() {
        return;
    }
    let inputs = sample_inputs();
    for theme in galley::theme::builtin_names() {
        run_themed(&inputs, Some(theme));
    }
}

/// Latin, Greek, Cyrillic and Armenian in one article: every theme has a face for every
/// character (no warning) and pdftotext gives each script back.
#[test]
fn mixed_scripts_render_in_every_theme() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("scripts.md");
    let lines = [
        "Harbour notes: “quays” — and *tides*.",
        "Ἡ θάλασσα καὶ ὁ λιμήν: **Ωκεανός** στο λιμάνι.",
        "Приливы и отливы — *Мурманск* и Архангельск.",
        "Ծովը և նավահանգիստը — **Երևան** և Գյումրի։",
    ];
    std::fs::write(&src, format!("# Scripts\n\n{}\n", lines.join("\n\n"))).expect("write");
    for theme in galley::theme::builtin_names() {
        let out = dir.path().join(format!("{theme}.pdf"));
        let r = common::galley()
            .arg("convert")
            .arg(&src)
            .args(["--theme", theme, "-o"])
            .arg(&out)
            .output()
            .expect("run galley");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(r.status.success(), "{theme}: {stderr}");
        assert!(!stderr.contains("no font"), "{theme}: {stderr}");
        let Some(pdftotext) = common::pdf_tool("pdftotext") else {
            continue;
        };
        let text = Command::new(pdftotext)
            .args(["-enc", "UTF-8"])
            .arg(&out)
            .arg("-")
            .output()
            .expect("pdftotext");
        let text = String::from_utf8_lossy(&text.stdout);
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for line in lines {
            let plain = line.replace(['*'], "");
            for word in plain.split_whitespace() {
                assert!(
                    flat.contains(word),
                    "{theme}: '{word}' missing from\n{flat}"
                );
            }
        }
    }
}

#[test]
fn corpus_gives_valid_pdfs() {
    if !tools_present() {
        return;
    }
    let inputs = common::corpus_posts();
    if inputs.is_empty() {
        return;
    }
    run(&inputs);
}

/// `--to epub,pdf` writes both files next to each other; `--paper` changes the page size.
#[test]
fn both_formats_and_paper_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tide.pdf");
    let r = common::galley()
        .arg("convert")
        .arg(common::sample("tide-clock.md"))
        .args(["--to", "epub,pdf", "--paper", "letter", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(dir.path().join("tide.epub").exists());
    let pdf = std::fs::read(&out).expect("pdf written");
    assert!(pdf.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&pdf).expect("parse");
    let (_, page) = doc.get_pages().into_iter().next().expect("a page");
    let media = doc
        .get_dictionary(page)
        .and_then(|d| d.get(b"MediaBox"))
        .and_then(|m| m.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_float().ok())
                .collect::<Vec<_>>()
        })
        .expect("media box");
    assert!(
        (media[2] - 612.0).abs() < 0.5 && (media[3] - 792.0).abs() < 0.5,
        "{media:?}"
    );
    let bad = common::galley()
        .arg("convert")
        .arg(common::sample("tide-clock.md"))
        .args(["--paper", "huge", "-o"])
        .arg(dir.path().join("x.pdf"))
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
}

/// The same input gives the same bytes.
#[test]
fn output_is_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.pdf");
    let b = dir.path().join("b.pdf");
    common::convert(&common::sample("field-guide.md"), None, &a);
    common::convert(&common::sample("field-guide.md"), None, &b);
    assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
}

/// `--contents always` prints a contents list whose entries are links into the document.
#[test]
fn contents_list_links_to_its_headings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tide.pdf");
    let r = common::galley()
        .arg("convert")
        .arg(common::sample("tide-clock.md"))
        .args(["--contents", "always", "-q", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let doc = lopdf::Document::load(&out).expect("parse");
    let (_, first) = doc.get_pages().into_iter().next().expect("a page");
    let annots = doc
        .get_dictionary(first)
        .and_then(|d| d.get(b"Annots"))
        .and_then(|a| a.as_array())
        .map(|a| a.len())
        .unwrap_or(0);
    // One link per heading of the sample (four sections).
    assert!(annots >= 4, "{annots} annotations on the contents page");
    if let Some(pdftotext) = common::pdf_tool("pdftotext") {
        // pdftotext writes tide.txt next to the PDF.
        let (ok, msg) = tool(
            pdftotext.to_str().expect("path"),
            &["-f", "1", "-l", "1"],
            &out,
        );
        assert!(ok, "{msg}");
        let text = std::fs::read_to_string(out.with_extension("txt")).expect("text");
        assert!(text.contains("Contents"), "{text}");
        assert!(text.contains("Why fifty minutes?"), "{text}");
    }
}
