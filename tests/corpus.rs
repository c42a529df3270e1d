//! Real inputs from ../shared/corpus: conformance examples never panic, real posts give valid EPUBs.

mod common;

use std::path::{Path, PathBuf};

use galley::assets::Assets;
use galley::theme::Theme;
use galley::write::epub::{self, EpubOptions};

fn examples(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("read examples");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json.as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["markdown"].as_str().map(str::to_string))
        .collect()
}

/// Every CommonMark and GFM example reads and writes an EPUB without panicking.
#[test]
fn commonmark_and_gfm_examples_convert() {
    let Some(dir) = common::corpus("commonmark") else {
        return;
    };
    let theme = Theme::default_theme().expect("theme");
    let mut files = vec![dir.join("spec.json")];
    let mut gfm: Vec<PathBuf> = std::fs::read_dir(dir.join("gfm"))
        .expect("gfm")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    gfm.sort();
    files.extend(gfm);
    // A fixed cover keeps 1,300 conversions from drawing 1,300 covers; covers are tested elsewhere.
    let cover = galley::assets::load_image(
        &common::sample("images/tide-curve.png").to_string_lossy(),
        None,
    )
    .expect("sample image");
    let mut count = 0;
    for file in &files {
        for md in examples(file) {
            let doc = match galley::read::markdown::read(&md) {
                Ok(d) => d,
                Err(_) => continue, // malformed front matter is a clean error, not a panic
            };
            let mut warnings = Vec::new();
            let assets = Assets::load(&doc, None, "example", &mut warnings);
            let opts = EpubOptions {
                toc_depth: 3,
                cover: Some(cover.clone()),
                ..Default::default()
            };
            epub::write(&doc, &assets, &theme, &opts, &mut warnings)
                .unwrap_or_else(|e| panic!("{}: {e}\n{md}", file.display()));
            count += 1;
        }
    }
    assert!(count >= 652 + 673, "only {count} examples ran");
}

fn convert_all(inputs: &[(PathBuf, Option<&str>)], out_dir: &Path) -> Vec<PathBuf> {
    let mut outs = Vec::new();
    for (i, (input, from)) in inputs.iter().enumerate() {
        let out = out_dir.join(format!("{i:02}.epub"));
        common::convert(input, *from, &out);
        outs.push(out);
    }
    outs
}

/// Every real blog post, pandoc's test suite and a Gutenberg book give EPUBCheck-clean books.
#[test]
fn real_posts_give_valid_epubs() {
    let mut inputs = common::corpus_posts();
    if inputs.is_empty() {
        return;
    }
    if let Some(p) = common::corpus("pandoc/test/markdown-reader-more.txt") {
        inputs.push((p, Some("markdown")));
    }
    // Long lines and URLs with characters EPUBCheck rejects unless escaped.
    if let Some(dir) = common::corpus("nontext/long-lines") {
        inputs.extend(common::md_files(dir).into_iter().map(|p| (p, None)));
    }
    if let Some(dir) = common::corpus("books/gutenberg/3261-news-from-nowhere") {
        for e in std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok()) {
            if e.path().extension().is_some_and(|x| x == "txt") {
                inputs.push((e.path(), None));
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let outs = convert_all(&inputs, dir.path());
    if let Some(jar) = common::epubcheck_jar() {
        let fails = common::epubcheck_all(&jar, &outs);
        let names: Vec<String> = fails
            .iter()
            .map(|f| {
                let idx: usize = Path::new(f.split(':').next().unwrap_or(""))
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                format!("{} → {f}", inputs[idx].0.display())
            })
            .collect();
        assert!(
            fails.is_empty(),
            "{} of {} failed EPUBCheck:\n{}",
            fails.len(),
            outs.len(),
            names.join("\n")
        );
    }
}
