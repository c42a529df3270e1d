//! Many inputs: one book (EPUB and PDF) from real posts, saved pages and a text article;
//! batches with a broken input; reproducible and parallel-equals-serial output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

/// 30 real posts, four saved web pages and a plain-text article, in a fixed order.
fn book_inputs() -> Option<Vec<PathBuf>> {
    let posts: Vec<PathBuf> = common::corpus_posts()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .take(30)
        .collect();
    let pages = common::corpus("readability")?;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&pages)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("source.html").is_file())
        .collect();
    dirs.sort();
    let mut inputs = posts;
    inputs.extend(dirs.iter().take(4).map(|d| d.join("source.html")));
    inputs.push(common::sample("harbour-news.txt"));
    Some(inputs)
}

fn run(args: &[&str], inputs: &[PathBuf], extra: &[&Path]) -> Output {
    common::galley()
        .arg("convert")
        .args(inputs)
        .args(args)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run galley")
}

fn titles(inputs: &[PathBuf]) -> Vec<String> {
    inputs
        .iter()
        .map(|p| {
            let s = galley::read::read_file(p, None).expect("read");
            s.document.meta.title.unwrap_or_default()
        })
        .collect()
}

#[test]
fn a_book_of_posts_pages_and_a_text_article() {
    let Some(inputs) = book_inputs() else { return };
    assert!(inputs.len() >= 20, "{} inputs", inputs.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let epub = dir.path().join("weekend.epub");
    let r = run(
        &[
            "--offline",
            "-q",
            "--title",
            "Weekend Reading",
            "--to",
            "epub,pdf",
            "-o",
        ],
        &inputs,
        &[&epub],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let pdf = dir.path().join("weekend.pdf");
    assert!(epub.is_file() && pdf.is_file());

    // The EPUB's contents list every article by its real title.
    let file = std::fs::File::open(&epub).expect("epub");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut nav = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("OEBPS/nav.xhtml").expect("nav"), &mut nav)
        .expect("nav text");
    for t in titles(&inputs) {
        let escaped = t
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let shown = escaped.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(nav.contains(&shown), "'{shown}' missing from the contents");
    }
    if let Some(jar) = common::epubcheck_jar() {
        let fails = common::epubcheck_all(&jar, std::slice::from_ref(&epub));
        assert!(fails.is_empty(), "{}", fails.join("\n"));
    }

    // The PDF: outline book → article → section, each article on a new page.
    let doc = lopdf::Document::load(&pdf).expect("pdf");
    let outline = outline_titles(&doc);
    assert_eq!(
        outline.len(),
        inputs.len(),
        "one top-level bookmark per article"
    );
    let pages = doc.get_pages();
    let page_ids: Vec<_> = pages.values().copied().collect();
    let mut starts = Vec::new();
    for (_, dest_page) in &outline {
        let idx = page_ids.iter().position(|p| Some(*p) == *dest_page);
        starts.push(idx.expect("bookmark points at a page"));
    }
    for w in starts.windows(2) {
        assert!(w[0] < w[1], "articles share a page: {starts:?}");
    }
    if let Some(qpdf) = common::pdf_tool("qpdf") {
        let out = std::process::Command::new(qpdf)
            .arg("--check")
            .arg(&pdf)
            .output()
            .expect("qpdf");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Top-level bookmarks: (title, page object it points at).
fn outline_titles(doc: &lopdf::Document) -> Vec<(String, Option<lopdf::ObjectId>)> {
    let mut out = Vec::new();
    let Ok(catalog) = doc.catalog() else {
        return out;
    };
    let Ok(outlines) = catalog
        .get(b"Outlines")
        .and_then(|o| o.as_reference())
        .and_then(|r| doc.get_dictionary(r))
    else {
        return out;
    };
    let mut next = outlines.get(b"First").and_then(|o| o.as_reference()).ok();
    while let Some(id) = next {
        let Ok(item) = doc.get_dictionary(id) else {
            break;
        };
        let title = item
            .get(b"Title")
            .ok()
            .and_then(|t| t.as_str().ok())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let page = item
            .get(b"Dest")
            .and_then(|d| d.as_array())
            .ok()
            .and_then(|a| a.first())
            .and_then(|p| p.as_reference().ok());
        out.push((title, page));
        next = item.get(b"Next").and_then(|o| o.as_reference()).ok();
    }
    out
}

#[test]
fn a_broken_input_fails_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.md");
    std::fs::write(&broken, b"\x00\x01\x02binary\x00junk").expect("write");
    let good = [
        common::sample("tide-clock.md"),
        common::sample("field-guide.md"),
    ];
    let inputs = vec![good[0].clone(), broken.clone(), good[1].clone()];
    let out_dir = dir.path().join("out");

    // One output each: the good ones are written, the summary names the broken one.
    let r = run(&["--each", "--out-dir"], &inputs, &[&out_dir]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{stderr}");
    assert!(out_dir.join("tide-clock.epub").is_file());
    assert!(out_dir.join("field-guide.epub").is_file());
    assert!(!out_dir.join("broken.epub").exists());
    assert!(
        stderr.contains("broken.md") && stderr.contains("FAILED"),
        "{stderr}"
    );

    // One book: written from the good ones; with --strict, not at all.
    let book = dir.path().join("book.epub");
    let r = run(&["-o"], &inputs, &[&book]);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(book.is_file());
    let strict = dir.path().join("strict.epub");
    let r = run(&["--strict", "-o"], &inputs, &[&strict]);
    assert_eq!(r.status.code(), Some(1));
    assert!(!strict.exists());
}

#[test]
fn batches_are_reproducible_and_parallel_equals_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = vec![
        common::sample("tide-clock.md"),
        common::sample("field-guide.md"),
        common::sample("harbour-news.txt"),
    ];
    let mut books = Vec::new();
    for (i, threads) in ["1", "4", "4"].iter().enumerate() {
        // Same file name in each run: the book's title comes from it.
        let run_dir = dir.path().join(format!("run-{i}"));
        std::fs::create_dir_all(&run_dir).expect("dir");
        let out = run_dir.join("book.pdf");
        let r = common::galley()
            .arg("convert")
            .args(&inputs)
            .args(["-q", "--to", "epub,pdf", "-o"])
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("run");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        books.push((
            std::fs::read(&out).expect("pdf"),
            std::fs::read(out.with_extension("epub")).expect("epub"),
        ));
    }
    assert!(
        books[0] == books[1],
        "a serial run differs from a parallel one"
    );
    assert!(books[1] == books[2], "two runs differ");

    // --each: names collide across folders and are made unique, never overwritten.
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for d in [&a, &b] {
        std::fs::create_dir_all(d).expect("dir");
        std::fs::copy(common::sample("field-guide.md"), d.join("post.md")).expect("copy");
    }
    let out_dir = dir.path().join("each");
    let r = run(
        &["-q", "--each", "--out-dir"],
        &[a.join("post.md"), b.join("post.md")],
        &[&out_dir],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(out_dir.join("post.epub").is_file() && out_dir.join("post-2.epub").is_file());
}

/// `galley init` writes a manifest that `galley build` turns into a book; reading lists
/// feed `convert`.
#[test]
fn manifests_and_reading_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("articles")).expect("dir");
    for s in ["tide-clock.md", "field-guide.md"] {
        std::fs::copy(common::sample(s), d.join("articles").join(s)).expect("copy");
    }
    let r = common::galley()
        .current_dir(d)
        .arg("init")
        .output()
        .expect("init");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let again = common::galley()
        .current_dir(d)
        .arg("init")
        .output()
        .expect("init");
    assert_eq!(again.status.code(), Some(1), "init must not overwrite");
    let r = common::galley()
        .current_dir(d)
        .args(["build", "book.toml", "-q"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("build");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let epub = d.join("weekend-reading.epub");
    assert!(epub.is_file() && d.join("weekend-reading.pdf").is_file());
    if let Some(jar) = common::epubcheck_jar() {
        let fails = common::epubcheck_all(&jar, &[epub]);
        assert!(fails.is_empty(), "{}", fails.join("\n"));
    }

    std::fs::write(
        d.join("list.txt"),
        "# saved this week\narticles/tide-clock.md\n\narticles/field-guide.md  # the guide\n",
    )
    .expect("list");
    let r = common::galley()
        .current_dir(d)
        .args([
            "convert",
            "--from-list",
            "list.txt",
            "-q",
            "-o",
            "list.epub",
        ])
        .output()
        .expect("convert");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(d.join("list.epub").is_file());
}
