//! The command line end to end: samples, reproducibility, errors, hostile inputs.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use common::{galley, sample};

fn epub_entry(epub: &Path, name: &str) -> String {
    let f = fs::File::open(epub).expect("open epub");
    let mut z = zip::ZipArchive::new(f).expect("zip");
    let mut e = z.by_name(name).unwrap_or_else(|_| panic!("{name} missing"));
    let mut s = String::new();
    e.read_to_string(&mut s).expect("utf-8 entry");
    s
}

fn epub_names(epub: &Path) -> Vec<(String, u64)> {
    let f = fs::File::open(epub).expect("open epub");
    let mut z = zip::ZipArchive::new(f).expect("zip");
    (0..z.len())
        .map(|i| {
            let e = z.by_index(i).expect("entry");
            (e.name().to_string(), e.size())
        })
        .collect()
}

fn convert(input: &Path, out: &Path) -> std::process::Output {
    galley()
        .arg("convert")
        .arg(input)
        .arg("-o")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .expect("run galley")
}

#[test]
fn samples_convert_to_valid_epubs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outs = Vec::new();
    for name in [
        "tide-clock.md",
        "harbour-news.txt",
        "night-trains.txt",
        "field-guide.md",
    ] {
        let out = dir.path().join(format!("{name}.epub"));
        let r = convert(&sample(name), &out);
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(out.exists());
        outs.push(out);
    }
    if let Some(jar) = common::epubcheck_jar() {
        let fails = common::epubcheck_all(&jar, &outs);
        assert!(fails.is_empty(), "{}", fails.join("\n"));
    }
}

#[test]
fn epub_content_is_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tide.epub");
    let r = convert(&sample("tide-clock.md"), &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let names = epub_names(&out);
    assert_eq!(names[0].0, "mimetype", "mimetype must come first");
    let opf = epub_entry(&out, "OEBPS/content.opf");
    for needle in [
        "<dc:title>Reading the Tide Clock</dc:title>",
        "<dc:creator id=\"epub-creator-0\">Mara Lindqvist</dc:creator>",
        "<dc:language>en</dc:language>",
        "<dc:date>2025-06-14</dc:date>",
        "<dc:subject>tides</dc:subject>",
        "<dc:description>",
        "properties=\"cover-image\"",
        "media-type=\"image/png\"",
        "media-type=\"font/ttf\"",
    ] {
        assert!(opf.contains(needle), "OPF lacks {needle}:\n{opf}");
    }
    let text = epub_entry(&out, "OEBPS/text-001.xhtml");
    assert!(text.contains("lang=\"en\" xml:lang=\"en\""));
    assert!(text.contains("<p class=\"kicker\">Science</p>"));
    assert!(text.contains("<h1 class=\"title\">Reading the Tide Clock</h1>"));
    assert!(text.contains("By Mara Lindqvist"));
    assert!(text.contains("epub:type=\"noteref\""));
    assert!(text.contains("<aside epub:type=\"footnote\""));
    assert!(text.contains("<figure>") && text.contains("<figcaption>"));
    // The title is not repeated as a section, the body has the sections.
    let all: String = names
        .iter()
        .filter(|(n, _)| n.starts_with("OEBPS/text-"))
        .map(|(n, _)| epub_entry(&out, n))
        .collect();
    assert!(all.contains("Why fifty minutes?"));
    assert!(all.contains("<table>") && all.contains("class=\"right\""));
    assert!(all.contains("class=\"language-python\""));
    assert!(all.contains("☑") && all.contains("☐"));
    assert!(
        all.contains("“") && all.contains("—"),
        "smart punctuation kept"
    );
    let nav = epub_entry(&out, "OEBPS/nav.xhtml");
    assert!(nav.contains("Why fifty minutes?") && nav.contains("lang=\"en\""));
    // Fonts are subset: a short article must not carry whole font files.
    for (name, size) in names.iter().filter(|(n, _)| n.ends_with(".ttf")) {
        assert!(*size < 120_000, "{name} is {size} bytes: not subset");
    }
}

#[test]
fn output_is_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["tide-clock.md", "harbour-news.txt"] {
        let a = dir.path().join("a.epub");
        let b = dir.path().join("b.epub");
        for out in [&a, &b] {
            let r = galley()
                .arg("convert")
                .arg(sample(name))
                .arg("-o")
                .arg(out)
                .env_remove("SOURCE_DATE_EPOCH")
                .output()
                .expect("run");
            assert!(r.status.success());
        }
        assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap(), "{name}");
    }
}

#[test]
fn default_output_goes_next_to_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("story.txt");
    fs::copy(sample("harbour-news.txt"), &input).unwrap();
    let r = galley().arg("convert").arg(&input).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(dir.path().join("story.epub").exists());
}

#[test]
fn never_overwrites_an_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("post.md");
    fs::copy(sample("tide-clock.md"), &input).unwrap();
    let before = fs::read(&input).unwrap();
    let r = galley()
        .args(["convert", "--to", "epub", "-o"])
        .arg(&input)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("overwrite"));
    assert_eq!(fs::read(&input).unwrap(), before);
}

/// Runs a conversion expected to fail and checks the message names the file and no output appears.
fn assert_fails_cleanly(input: &Path, needle: &str) {
    let dir = input.parent().unwrap();
    let out = dir.join("out.epub");
    let r = galley()
        .arg("convert")
        .arg(input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    let fname = input.file_name().unwrap().to_string_lossy();
    assert!(err.contains(&*fname), "error does not name the file: {err}");
    assert!(
        err.to_lowercase().contains(needle),
        "expected '{needle}' in: {err}"
    );
    let leftovers: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("out"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("photo.txt");
    fs::write(&bin, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01").unwrap();
    assert_fails_cleanly(&bin, "binary");
    let nul = dir.path().join("nul.md");
    fs::write(&nul, b"# Title\n\nsome\0text\0with\0nuls\0").unwrap();
    assert_fails_cleanly(&nul, "binary");
    let empty = dir.path().join("empty.md");
    fs::write(&empty, b"").unwrap();
    assert_fails_cleanly(&empty, "empty");
    let sub = dir.path().join("folder.md");
    fs::create_dir(&sub).unwrap();
    assert_fails_cleanly(&sub, "directory");
    let missing = dir.path().join("missing.md");
    assert_fails_cleanly(&missing, "cannot read");
    let docx = dir.path().join("report.docx");
    fs::write(&docx, b"hello").unwrap();
    assert_fails_cleanly(&docx, "unknown input format");
    let bad = dir.path().join("bad-front.md");
    fs::write(
        &bad,
        "---\ntitle: \"unclosed\nauthor: [a, b\n---\n\nBody text.\n",
    )
    .unwrap();
    assert_fails_cleanly(&bad, "line");
}

#[test]
fn latin1_text_is_decoded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("latin1.txt");
    // "Café society" headline and body in ISO-8859-1.
    let mut bytes = b"Caf\xe9 society returns to the old town\n\nBy Ren\xe9e Dubois\n\n".to_vec();
    bytes.extend_from_slice(b"The caf\xe9s on the square reopened on Monday, na\xefve as ever about the weather, and their terraces were full by noon with people who had missed them.\n");
    fs::write(&input, bytes).unwrap();
    let r = galley()
        .args(["dump", "--json"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let json: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        json["meta"]["title"],
        "Café society returns to the old town"
    );
    assert_eq!(json["meta"]["authors"][0], "Renée Dubois");
    let out = dir.path().join("latin1.epub");
    assert!(convert(&input, &out).status.success());
}

#[test]
fn plain_text_news_header_is_understood() {
    let r = galley()
        .args(["dump", "--json"])
        .arg(sample("harbour-news.txt"))
        .output()
        .unwrap();
    assert!(r.status.success());
    let json: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let m = &json["meta"];
    assert_eq!(m["kicker"], "Local News");
    assert_eq!(
        m["title"],
        "Ferry service to Skarholm restored after three-day storm closure"
    );
    assert_eq!(
        m["subtitle"],
        "Residents stranded on the island welcome the first crossing since Tuesday"
    );
    assert_eq!(
        m["authors"],
        serde_json::json!(["Jonas Ekberg", "Lina Haugen"])
    );
    assert_eq!(m["date"], "2025-06-18");
    let blocks = json["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 6, "six paragraphs");
    let first = blocks[0]["content"][0]["text"].as_str().unwrap();
    assert!(
        first.starts_with("The first ferry") && first.contains("carrying fresh bread"),
        "hard wraps joined: {first}"
    );
    assert!(
        blocks[1]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with('“')
    );
}

#[test]
fn markdown_front_matter_and_title() {
    let r = galley()
        .args(["dump", "--json"])
        .arg(sample("field-guide.md"))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let m = &json["meta"];
    assert_eq!(m["title"], "A Field Guide to Urban Lichens");
    assert_eq!(
        m["authors"],
        serde_json::json!(["Tomas Reyes", "Ada Okafor"])
    );
    assert_eq!(m["language"], "en-GB");
    assert_eq!(m["date"], "2025-04-02");
    assert_eq!(m["publisher"], "Galley Samples");
    // The H1 repeating the title is not kept in the body.
    let first = &json["blocks"][0];
    assert_eq!(first["type"], "paragraph");
}

#[test]
fn overrides_and_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("o.epub");
    let input = fs::read(sample("harbour-news.txt")).unwrap();
    let mut child = galley()
        .args([
            "convert",
            "-",
            "--from",
            "text",
            "--title",
            "Better Title",
            "--author",
            "A. Writer",
            "--lang",
            "nb",
            "--date",
            "2024-01-02",
            "-o",
        ])
        .arg(&out)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &input).unwrap();
    drop(child.stdin.take());
    let r = child.wait_with_output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let opf = epub_entry(&out, "OEBPS/content.opf");
    assert!(opf.contains("<dc:title>Better Title</dc:title>"));
    assert!(opf.contains(">A. Writer</dc:creator>"));
    assert!(opf.contains("<dc:language>nb</dc:language>"));
    assert!(opf.contains("<dc:date>2024-01-02</dc:date>"));
}

#[test]
fn usage_errors_exit_2() {
    let r = galley().arg("convert").output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let r = galley()
        .args(["convert", "x.md", "--to", "docx"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let r = galley()
        .args(["convert", "x.md", "--theme", "no-such-theme"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let r = galley().args(["convert", "-"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn missing_image_is_a_warning_with_alt_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("pics.md");
    fs::write(
        &input,
        "# Pictures\n\nBefore.\n\n![A heron on one leg](nowhere/heron.jpg)\n\nAfter.\n",
    )
    .unwrap();
    let out = dir.path().join("pics.epub");
    let r = convert(&input, &out);
    assert!(r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("heron.jpg") && err.contains("warning"),
        "{err}"
    );
    let text = epub_entry(&out, "OEBPS/text-001.xhtml");
    assert!(text.contains("A heron on one leg"));
    if let Some(jar) = common::epubcheck_jar() {
        common::epubcheck(&jar, &out).unwrap();
    }
}

#[test]
fn themes_are_listed() {
    let r = galley().arg("themes").output().unwrap();
    assert!(r.status.success());
    assert!(String::from_utf8_lossy(&r.stdout).contains("classic"));
}

#[test]
fn a_given_cover_keeps_the_full_cover_size_and_a_larger_one_is_brought_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cover_of = |w: u32, h: u32| {
        let img =
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x / 7) as u8, (y / 11) as u8, 90]));
        let path = dir.path().join(format!("cover-{w}x{h}.png"));
        img.save(&path).expect("write cover");
        path
    };
    for ((w, h), want) in [((1600, 2560), (1600, 2560)), ((2600, 4160), (1600, 2560))] {
        let cover = cover_of(w, h);
        let out = dir.path().join(format!("with-{w}.epub"));
        let r = galley()
            .arg("convert")
            .arg(sample("harbour-news.txt"))
            .arg("--cover")
            .arg(&cover)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("run galley");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let f = fs::File::open(&out).expect("open epub");
        let mut z = zip::ZipArchive::new(f).expect("zip");
        let name = (0..z.len())
            .filter_map(|i| z.by_index(i).ok().map(|e| e.name().to_string()))
            .find(|n| n.contains("cover") && n.ends_with(".png"))
            .expect("cover image in the book");
        let mut bytes = Vec::new();
        z.by_name(&name)
            .expect("cover")
            .read_to_end(&mut bytes)
            .expect("read");
        let img = image::load_from_memory(&bytes).expect("cover decodes");
        assert_eq!((img.width(), img.height()), want, "{w}×{h} cover");
    }
}
