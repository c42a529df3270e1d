//! Hostile input: limits, decompression bombs, path traversal, scripts in web pages, unsafe
//! outputs, and the pathological corpus files. Every case must end in a clean refusal or
//! a clean conversion, quickly, never a panic.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::galley;

/// Runs `galley convert ARGS` offline and returns its output and how long it took.
fn convert(args: &[&std::ffi::OsStr]) -> (Output, Duration) {
    let t = Instant::now();
    let out = galley()
        .arg("convert")
        .arg("--offline")
        .args(args)
        .output()
        .expect("run galley");
    (out, t.elapsed())
}

fn os(s: &(impl AsRef<std::ffi::OsStr> + ?Sized)) -> &std::ffi::OsStr {
    s.as_ref()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A clean failure: exit 1 with a message, never a panic (101) or a signal.
fn assert_clean_failure(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(o));
    assert!(!stderr(o).contains("panicked"), "{what}: {}", stderr(o));
}

fn assert_success(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: {}", stderr(o));
}

/// Every XHTML file of an EPUB, concatenated.
fn epub_xhtml(epub: &Path) -> String {
    let f = fs::File::open(epub).expect("open epub");
    let mut z = zip::ZipArchive::new(f).expect("zip");
    let mut all = String::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).expect("entry");
        if e.name().ends_with(".xhtml") {
            e.read_to_string(&mut all).expect("utf-8 entry");
        }
    }
    all
}

fn epub_names(epub: &Path) -> Vec<String> {
    let f = fs::File::open(epub).expect("open epub");
    let z = zip::ZipArchive::new(f).expect("zip");
    z.file_names().map(str::to_string).collect()
}

/// A PNG `width`×`height`, 1-bit gray, every pixel zero, deflated: a few hundred KB that
/// decode to `width × height` bytes. Written row by row, never held whole in memory.
fn png_bomb(path: &Path, width: u32, height: u32) {
    fn chunk(out: &mut impl Write, kind: &[u8; 4], data: &[u8]) {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.write_all(&(data.len() as u32).to_be_bytes())
            .expect("w");
        out.write_all(kind).expect("w");
        out.write_all(data).expect("w");
        out.write_all(&crc.sum().to_be_bytes()).expect("w");
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1-bit gray, deflate, no filter, no interlace
    let row = vec![0u8; 1 + (width as usize).div_ceil(8)];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..height {
        z.write_all(&row).expect("deflate");
    }
    let idat = z.finish().expect("deflate");
    let mut f = std::io::BufWriter::new(fs::File::create(path).expect("create png"));
    f.write_all(b"\x89PNG\r\n\x1a\n").expect("w");
    chunk(&mut f, b"IHDR", &ihdr);
    chunk(&mut f, b"IDAT", &idat);
    chunk(&mut f, b"IEND", &[]);
    f.flush().expect("flush");
}

/// A small valid PNG.
fn small_png(path: &Path) {
    let img = image::RgbImage::from_pixel(4, 3, image::Rgb([200, 30, 30]));
    img.save(path).expect("save png");
}

#[test]
fn png_bombs_are_refused_before_decoding() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    png_bomb(&d.join("wide.png"), 30_000, 30_000);
    png_bomb(&d.join("many.png"), 15_000, 15_000);
    assert!(fs::metadata(d.join("wide.png")).expect("png").len() < 2_000_000);
    fs::write(
        d.join("post.md"),
        "# Bombs\n\n![the wide one](wide.png)\n\n![the big one](many.png)\n",
    )
    .expect("write post");
    for ext in ["epub", "pdf"] {
        let out = d.join(format!("post.{ext}"));
        let (o, took) = convert(&[os(&d.join("post.md")), os("-o"), os(&out)]);
        assert_success(&o, "bomb post");
        let err = stderr(&o);
        assert!(
            err.contains("30000×30000") && err.contains("image side limit"),
            "{err}"
        );
        assert!(
            err.contains("15000×15000") && err.contains("--max-image-pixels"),
            "{err}"
        );
        assert!(took < Duration::from_secs(20), "took {took:?}");
    }
    assert!(
        !epub_names(&d.join("post.epub"))
            .iter()
            .any(|n| n.ends_with(".png") && !n.contains("cover")),
        "a bomb was embedded"
    );
}

#[test]
fn images_outside_the_article_folder_are_refused_unless_allowed() {
    let outside = tempfile::tempdir().expect("tempdir");
    let secret = outside.path().join("secret.png");
    small_png(&secret);
    let tmp = tempfile::tempdir().expect("tempdir");
    let article = tmp.path().join("post");
    fs::create_dir(&article).expect("mkdir");
    small_png(&article.join("ok.png"));
    let rel = pathdiff(&secret, &article);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, article.join("link.png")).expect("symlink");
    let md = format!(
        "# Trip\n\n![fine](ok.png)\n\n![climb]({})\n\n![absolute]({})\n\n![url](file://{})\n\n\
         ![link](link.png)\n",
        rel.display(),
        secret.display(),
        secret.display()
    );
    let input = article.join("post.md");
    fs::write(&input, md).expect("write post");
    let out = tmp.path().join("out.epub");
    let (o, _) = convert(&[os(&input), os("-o"), os(&out)]);
    assert_success(&o, "traversal post");
    let err = stderr(&o);
    assert!(!err.contains("'ok.png'"), "the article's own image: {err}");
    for src in ["climb", "absolute", "url", "link"] {
        assert!(
            err.contains(&format!("({src})")) && err.contains("--allow-path"),
            "{src} was not refused: {err}"
        );
    }
    let pngs = |epub: &Path| {
        epub_names(epub)
            .iter()
            .filter(|n| n.ends_with(".png") && !n.contains("cover"))
            .count()
    };
    assert_eq!(pngs(&out), 1, "only ok.png");

    let (o, _) = convert(&[
        os(&input),
        os("-o"),
        os(&out),
        os("--allow-path"),
        os(outside.path()),
    ]);
    assert_success(&o, "allowed");
    assert!(!stderr(&o).contains("--allow-path"), "{}", stderr(&o));
}

/// `to` relative to `from` (both absolute): `../../x/secret.png`.
fn pathdiff(to: &Path, from: &Path) -> PathBuf {
    let mut up = PathBuf::new();
    for _ in from.components().skip(1) {
        up.push("..");
    }
    up.join(to.strip_prefix("/").expect("absolute"))
}

#[test]
fn scripts_handlers_and_unsafe_urls_never_reach_the_epub() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let page = tmp.path().join("page.html");
    let para = "This paragraph is long enough to be the article that a reader extracts from the \
                page, with several sentences of ordinary prose about nothing in particular.";
    fs::write(
        &page,
        format!(
            "<html><head><title>Hostile</title><script>alert('head')</script></head>\
             <body onload=\"alert('body')\"><article><h1>Hostile</h1><p>{para}</p>\
             <p><a href=\"javascript:alert(1)\">js link</a> and \
             <a href=\"JaVaScRiPt&#58;alert(2)\">obfuscated</a> and \
             <a href=\"data:text/html,&lt;script&gt;alert(3)&lt;/script&gt;\">data link</a> \
             and <a href=\"vbscript:msgbox(4)\">vb</a> and <span onclick=\"alert(5)\">click</span>\
             and <a href=\"https://example.com/\" onmouseover=\"alert(6)\">fine</a>.</p>\
             <img src=x onerror=\"alert(7)\" alt=\"broken\">\
             <img src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==\" alt=\"fake\">\
             <p>{para}</p><script>alert('body script')</script>\
             <iframe src=\"javascript:alert(9)\"></iframe>\
             <p>&lt;script&gt;alert(10)&lt;/script&gt; stays text.</p>\
             <svg><script>alert(11)</script></svg></article></body></html>"
        ),
    )
    .expect("write page");
    let md = tmp.path().join("post.md");
    fs::write(
        &md,
        "# Hostile\n\n[js](javascript:alert(1)) [data](data:text/html,<script>alert(2)</script>)\n\n\
         <script>alert(3)</script>\n\n<a href=\"javascript:alert(4)\" onclick=\"alert(5)\">x</a>\n\n\
         <img src=\"x\" onerror=\"alert(6)\">\n",
    )
    .expect("write md");
    for (input, extra) in [(&page, None), (&page, Some("--no-extract")), (&md, None)] {
        let out = tmp.path().join("out.epub");
        let mut args = vec![os(input), os("-o"), os(&out)];
        if let Some(e) = extra {
            args.push(os(e));
        }
        let (o, _) = convert(&args);
        assert_success(&o, &input.display().to_string());
        let xhtml = epub_xhtml(&out).to_ascii_lowercase();
        for bad in [
            "<script",
            "javascript:",
            "vbscript:",
            "data:text",
            "onerror",
            "onclick",
            "onload",
            "onmouseover",
            "<iframe",
        ] {
            assert!(
                !xhtml.contains(bad),
                "{bad} reached the EPUB from {}:\n{xhtml}",
                input.display()
            );
        }
    }
}

#[test]
fn input_size_limit_names_itself_and_can_be_raised() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("big.md");
    fs::write(&input, "# Big\n\n".to_string() + &"word ".repeat(1000)).expect("write");
    let out = tmp.path().join("big.epub");
    let (o, _) = convert(&[
        os(&input),
        os("-o"),
        os(&out),
        os("--max-input-size"),
        os("2K"),
    ]);
    assert_clean_failure(&o, "over the input limit");
    let err = stderr(&o);
    assert!(
        err.contains("input size limit")
            && err.contains("--max-input-size")
            && err.contains("big.md"),
        "{err}"
    );
    assert!(!out.exists());
    let (o, _) = convert(&[
        os(&input),
        os("-o"),
        os(&out),
        os("--max-input-size"),
        os("1M"),
    ]);
    assert_success(&o, "raised");
}

#[test]
fn standard_input_is_bounded_too() {
    let mut child = galley()
        .args([
            "convert",
            "--offline",
            "-",
            "-o",
            "-",
            "--max-input-size",
            "4K",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    // More than the limit; galley stops reading at the limit, so the write may fail.
    let _ = stdin.write_all(&b"text ".repeat(10_000));
    drop(stdin);
    let o = child.wait_with_output().expect("wait");
    assert_clean_failure(&o, "stdin over the limit");
    assert!(stderr(&o).contains("input size limit"), "{}", stderr(&o));
}

#[test]
fn huge_tables_fail_cleanly_and_quickly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("table.md");
    let mut md = String::from(
        "# Table\n\n| a | b | c | d | e | f | g | h |\n|---|---|---|---|---|---|---|---|\n",
    );
    for i in 0..30_000 {
        md.push_str(&format!("| {i} | b | c | d | e | f | g | h |\n"));
    }
    fs::write(&input, md).expect("write");
    let out = tmp.path().join("table.epub");
    let (o, took) = convert(&[os(&input), os("-o"), os(&out)]);
    assert_clean_failure(&o, "huge table");
    let err = stderr(&o);
    assert!(
        err.contains("table size limit")
            && err.contains("--max-table-cells")
            && err.contains("30001 rows"),
        "{err}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn image_count_and_output_size_limits_name_themselves() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    for i in 0..3 {
        let img = image::RgbImage::from_pixel(4, 4, image::Rgb([i * 80, 10, 10]));
        img.save(d.join(format!("{i}.png"))).expect("save");
    }
    let input = d.join("post.md");
    fs::write(
        &input,
        "# Pictures\n\n![a](0.png)\n\n![b](1.png)\n\n![c](2.png)\n",
    )
    .expect("write");
    let out = d.join("post.epub");
    let (o, _) = convert(&[os(&input), os("-o"), os(&out), os("--max-images"), os("2")]);
    assert_success(&o, "image count");
    let err = stderr(&o);
    assert!(
        err.contains("image count limit of 2") && err.contains("--max-images"),
        "{err}"
    );

    fs::remove_file(&out).expect("remove");
    let (o, _) = convert(&[
        os(&input),
        os("-o"),
        os(&out),
        os("--max-output-size"),
        os("1K"),
    ]);
    assert_clean_failure(&o, "output size");
    let err = stderr(&o);
    assert!(
        err.contains("output size limit") && err.contains("--max-output-size"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written past the output limit");
}

#[cfg(unix)]
#[test]
fn outputs_never_go_through_symlinks_and_reruns_replace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let input = d.join("post.md");
    fs::write(&input, "# Post\n\nSome text.\n").expect("write");
    let precious = d.join("precious.txt");
    fs::write(&precious, "keep me").expect("write");
    let link = d.join("post.epub");
    std::os::unix::fs::symlink(&precious, &link).expect("symlink");
    let (o, _) = convert(&[os(&input)]);
    assert_clean_failure(&o, "symlinked default output");
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    let (o, _) = convert(&[os(&input), os("-o"), os(&link)]);
    assert_clean_failure(&o, "symlinked named output");
    assert_eq!(fs::read_to_string(&precious).expect("read"), "keep me");
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );

    fs::remove_file(&link).expect("remove link");
    for _ in 0..2 {
        let (o, _) = convert(&[os(&input)]);
        assert_success(&o, "re-run replaces its own output");
    }
    let (o, _) = convert(&[os(&input), os("-o"), os(&input), os("--to"), os("epub")]);
    assert_clean_failure(&o, "output over the input");
    assert!(stderr(&o).contains("input file"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&input).expect("read"),
        "# Post\n\nSome text.\n"
    );
    let leftovers: Vec<_> = fs::read_dir(d)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn inputs_galley_cannot_read_fail_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let png = tmp.path().join("picture.png");
    small_png(&png);
    let json = tmp.path().join("data.json");
    fs::write(&json, "{\"a\": 1}").expect("write");
    let bin = tmp.path().join("binary.md");
    fs::write(
        &bin,
        [0u8, 159, 146, 150, 0, 0, 255, 254, 0, 1, 2, 3].repeat(100),
    )
    .expect("write");
    let empty = tmp.path().join("empty.md");
    fs::write(&empty, "").expect("write");
    for input in [&png, &json, &empty] {
        let out = tmp.path().join("x.epub");
        let (o, _) = convert(&[os(input), os("-o"), os(&out)]);
        assert_clean_failure(&o, &input.display().to_string());
        let name = input
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(stderr(&o).contains(&name), "{}", stderr(&o));
    }
    // Binary bytes with a text extension: converted as best it can, or refused; not a crash.
    let (o, _) = convert(&[os(&bin), os("-o"), os(&tmp.path().join("b.pdf"))]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
}

/// The pathological corpus files convert (or fail cleanly) to both formats, quickly.
#[test]
fn pathological_corpus_files_convert_or_fail_cleanly() {
    let Some(dir) =
        common::corpus("nontext/nested-and-pathological-md/generated-from-cmark-gfm-patterns")
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    for name in [
        "deeply-nested-lists.md",
        "nested-block-quotes.md",
        "u0000-in-input.md",
        "nested-brackets.md",
        "many-link-openers-no-closers.md",
    ] {
        for ext in ["epub", "pdf"] {
            let out = tmp.path().join(format!("out.{ext}"));
            let (o, took) = convert(&[os(&dir.join(name)), os("-o"), os(&out), os("-q")]);
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{name}: {}",
                stderr(&o)
            );
            assert!(
                took < Duration::from_secs(30),
                "{name} to {ext} took {took:?}"
            );
        }
    }
}

/// Found by the read→PDF fuzz target: a page whose `<title>` held the whole article's
/// markup. A title or heading of a thousand words goes into every running head, which was
/// shortened a word at a time, re-setting the whole text each time (25 s in a release build).
#[test]
fn thousand_word_titles_and_headings_are_set_quickly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let words: Vec<&str> = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur"]
        .iter()
        .copied()
        .cycle()
        .take(1300)
        .collect();
    let words = words.join(" ");
    for (name, md) in [
        ("title.md", format!("---\ntitle: {words}\n---\n\nIntro.\n")),
        (
            "heading.md",
            format!("---\ntitle: Short\n---\n\nIntro.\n\n## {words}\n\nBody.\n"),
        ),
    ] {
        let input = tmp.path().join(name);
        fs::write(&input, md).expect("write");
        let out = tmp.path().join("out.pdf");
        let (o, took) = convert(&[os(&input), os("-o"), os(&out), os("-q")]);
        assert_success(&o, name);
        assert!(took < Duration::from_secs(20), "{name} took {took:?}");
        assert!(fs::metadata(&out).map(|m| m.len() > 0).unwrap_or(false));
    }
}

/// Found by the read→PDF fuzz target: an HTML block in Markdown whose tag is never closed
/// and ends in a multi-byte character (the PDF keeps the text of raw HTML; slicing it
/// panicked), and an `&` followed by multi-byte text.
#[test]
fn unclosed_raw_html_before_multibyte_text_converts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("raw.md");
    fs::write(&input, "# Codes\n\nText.\n\n<div ¢\n\n<p>&¢¢¢¢¢¢;</p>\n").expect("write");
    for ext in ["pdf", "epub"] {
        let out = tmp.path().join(format!("raw.{ext}"));
        let (o, _) = convert(&[os(&input), os("-o"), os(&out), os("-q")]);
        assert_success(&o, ext);
    }
}

mod round_trip {
    //! The model survives `dump --json`: serialising and deserialising gives it back.

    use galley::model::Document;
    use galley::read::{Format, read_bytes};
    use proptest::prelude::*;

    /// Markdown made of pieces that reach most of the model: headings, lists (nested,
    /// ordered, tasks), quotes, code, tables, footnotes, links, images, emphasis, HTML,
    /// front matter, and arbitrary text between them.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("# Heading\n".to_string()),
            Just("## Sub *heading*\n".to_string()),
            Just("- item\n  - nested\n    1. ordered\n".to_string()),
            Just("- [ ] task\n- [x] done\n".to_string()),
            Just("> quote\n> > deeper\n".to_string()),
            Just("```rust\nfn main() {}\n```\n".to_string()),
            Just("| a | b |\n|:-|-:|\n| 1 | 2 |\n".to_string()),
            Just("Text[^n].\n\n[^n]: The note.\n".to_string()),
            Just("[link](https://example.com \"t\") ![img](x.png \"cap\")\n".to_string()),
            Just("**strong** _em_ ~~del~~ `code` <kbd>k</kbd>\n".to_string()),
            Just("<div>raw</div>\n".to_string()),
            Just("---\n".to_string()),
            Just("\n".to_string()),
            "[a-zA-Z0-9 *_`>#\\-\\[\\]()!|\u{e9}\u{4e2d}\u{202e}]{0,40}\n",
        ]
    }

    fn round_trips(doc: &Document) {
        let json = serde_json::to_string_pretty(doc).expect("serialise");
        let back: Document = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(&back, doc, "{json}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn markdown_models_round_trip(parts in prop::collection::vec(fragment(), 1..12),
                                      front in any::<bool>()) {
            let mut md = String::new();
            if front {
                md.push_str("---\ntitle: \"T\"\nauthor: [A, B]\ndate: 2024-01-02\ntags: [x]\n---\n");
            }
            md.push_str(&parts.concat());
            if let Ok(src) = read_bytes("p.md", md.as_bytes(), Format::Markdown) {
                round_trips(&src.document);
            }
        }

        #[test]
        fn text_and_html_models_round_trip(parts in prop::collection::vec(fragment(), 1..8)) {
            let body = parts.concat();
            if let Ok(src) = read_bytes("p.txt", body.as_bytes(), Format::Text) {
                round_trips(&src.document);
            }
            let html = format!("<html><body><article>{}</article></body></html>", body.replace('\n', "<br>"));
            if let Ok(src) = read_bytes("p.html", html.as_bytes(), Format::Html) {
                round_trips(&src.document);
            }
        }
    }
}
