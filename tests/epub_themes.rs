//! One theme, two targets: the EPUB honours every theme key, stays valid under every
//! built-in theme, and embeds only the fonts the book needs.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{epubcheck_all, epubcheck_jar, galley, sample};

const THEMES: [&str; 4] = ["classic", "modern", "newspaper", "large-print"];
const SAMPLES: [&str; 3] = ["tide-clock.md", "field-guide.md", "harbour-news.txt"];

/// Converts `input` to an EPUB at `out` with `theme`; returns the run (checked for success).
fn convert(input: &Path, theme: &str, out: &Path) -> Output {
    let r = galley()
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .arg("convert")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(["--theme", theme])
        .output()
        .expect("run galley");
    assert!(
        r.status.success(),
        "{} with {theme}: {}",
        input.display(),
        String::from_utf8_lossy(&r.stderr)
    );
    r
}

/// Every entry of the EPUB: name → bytes.
fn entries(epub: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(fs::File::open(epub).expect("open epub")).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).expect("entry");
            let mut data = Vec::new();
            e.read_to_end(&mut data).expect("read entry");
            (e.name().to_string(), data)
        })
        .collect()
}

/// The concatenated text of entries whose name ends with `suffix`.
fn text_of(epub: &Path, suffix: &str) -> String {
    entries(epub)
        .into_iter()
        .filter(|(n, _)| n.ends_with(suffix))
        .map(|(_, d)| String::from_utf8(d).expect("utf-8"))
        .collect()
}

fn font_files(epub: &Path) -> Vec<String> {
    entries(epub)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.ends_with(".ttf"))
        .collect()
}

/// The declarations of the first rule whose selector is exactly `selector`.
fn rule<'a>(css: &'a str, selector: &str) -> &'a str {
    let start = css
        .find(&format!("\n{selector} {{"))
        .unwrap_or_else(|| panic!("no rule for {selector} in\n{css}"))
        + selector.len()
        + 3;
    let end = css[start..].find('}').map_or(css.len(), |e| start + e);
    &css[start..end]
}

/// A user theme file `name.toml` in a fresh folder, extending classic with `body`.
fn user_theme(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    fs::write(&path, format!("extends = \"classic\"\n{body}")).expect("write theme");
    path
}

/// An article mixing Latin, Greek, Cyrillic and Armenian.
const SCRIPTS: &str = "---\ntitle: Alphabets\nlang: en\n---\n\nLatin letters, Greek \
λόγος, Cyrillic слово and Armenian բառ in one paragraph.\n\n## Բառեր\n\nMore text.\n";

#[test]
fn every_theme_and_sample_passes_epubcheck() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut epubs = Vec::new();
    for theme in THEMES {
        for s in SAMPLES {
            let out = dir.path().join(format!("{theme}-{s}.epub"));
            convert(&sample(s), theme, &out);
            epubs.push(out);
        }
    }
    // Fallback fonts (Armenian) and the optional parts (drop cap, numbers, stripes, no rule).
    let article = dir.path().join("scripts.md");
    fs::write(&article, SCRIPTS).expect("write article");
    let out = dir.path().join("classic-scripts.epub");
    convert(&article, "classic", &out);
    epubs.push(out);
    let fancy = user_theme(
        dir.path(),
        "fancy",
        "[text]\ndrop_cap = 3\n[headings]\nnumbered = true\n[table]\nstripes = \"#eeeeee\"\n\
         [title]\nrule = \"none\"\nkicker_caps = false\n",
    );
    let out = dir.path().join("fancy-tide.epub");
    convert(
        &sample("tide-clock.md"),
        fancy.to_str().expect("utf-8 path"),
        &out,
    );
    epubs.push(out);
    let Some(jar) = epubcheck_jar() else {
        return;
    };
    let fails = epubcheck_all(&jar, &epubs);
    assert!(fails.is_empty(), "{}", fails.join("\n\n"));
}

#[test]
fn stylesheets_differ_between_themes_as_the_themes_say() {
    let dir = tempfile::tempdir().expect("tempdir");
    let css = |theme: &str| {
        let out = dir.path().join(format!("{theme}.epub"));
        convert(&sample("tide-clock.md"), theme, &out);
        text_of(&out, ".css")
    };
    let classic = css("classic");
    let p = rule(&classic, "p");
    assert!(
        p.contains("text-indent: 1.5em") && p.contains("text-align: justify"),
        "{p}"
    );
    assert!(p.contains("hyphens: auto"), "{p}");
    assert!(rule(&classic, ".titleblock hr").contains("width: 4em"));

    let modern = css("modern");
    let p = rule(&modern, "p");
    assert!(
        p.contains("margin: 0 0 0.9em 0")
            && p.contains("text-indent: 0")
            && p.contains("text-align: left"),
        "{p}"
    );
    assert!(rule(&modern, ".titleblock hr").contains("width: 100%"));
    assert!(rule(&modern, ".titleblock h1.title").contains("font-size: 2.5em; font-weight: bold"));
    assert!(rule(&modern, "tr.stripe td").contains("background-color: #f2f4f7"));
    assert!(rule(&modern, "pre").contains("background-color: #f2f4f7"));
    assert!(rule(&modern, "figcaption").contains("font-style: normal; text-align: left"));
    assert!(rule(&modern, "h1, h2, h3, h4, h5, h6").contains("\"Noto Sans\""));

    let newspaper = css("newspaper");
    assert!(rule(&newspaper, "p").contains("text-indent: 1em"));
    assert!(rule(&newspaper, "blockquote").contains("font-style: italic"));
    assert!(!rule(&newspaper, "blockquote").contains("border-left"));
    assert!(rule(&newspaper, ".titleblock h1.title").contains("font-size: 3.6em"));

    let large = css("large-print");
    let p = rule(&large, "p");
    assert!(
        p.contains("hyphens: manual") && !p.contains("hyphens: auto"),
        "{p}"
    );
    assert!(rule(&large, "pre").contains("border-left"));
    assert!(!rule(&large, "pre").contains("background"));
    assert!(!large.contains("tr.stripe"));
    // Classic opens with a drop cap; the others do not; none numbers its headings.
    assert!(classic.contains("span.dropcap"));
    for css in [&modern, &newspaper, &large] {
        assert!(!css.contains("span.dropcap"));
    }
    for css in [&classic, &modern, &newspaper, &large] {
        assert!(!css.contains(".secnum"));
    }
}

#[test]
fn drop_cap_and_numbered_headings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let theme = user_theme(
        dir.path(),
        "capped",
        "[text]\ndrop_cap = 3\n[headings]\nnumbered = true\n",
    );
    let out = dir.path().join("tide.epub");
    convert(
        &sample("tide-clock.md"),
        theme.to_str().expect("utf-8"),
        &out,
    );
    let xhtml = text_of(&out, "text-001.xhtml");
    // The span touches the rest of the word, so search and text extraction read "Stand".
    assert!(
        xhtml.contains("<p class=\"first\"><span class=\"dropcap\">S</span>tand on the quay"),
        "{xhtml}"
    );
    assert_eq!(xhtml.matches("class=\"dropcap\"").count(), 1);
    let css = text_of(&out, ".css");
    let cap = rule(&css, "span.dropcap");
    assert!(
        cap.contains("float: left") && cap.contains("color: #8b1e1e"),
        "{cap}"
    );
    assert!(cap.contains("\"EB Garamond\""), "{cap}");

    let body = text_of(&out, ".xhtml");
    assert!(
        body.contains("<span class=\"secnum\">1</span> Why fifty minutes?"),
        "{body}"
    );
    assert!(body.contains("<span class=\"secnum\">2</span> What a tide table says"));
    let nav = text_of(&out, "nav.xhtml");
    assert!(nav.contains(">1 Why fifty minutes?<"), "{nav}");
    let ncx = text_of(&out, ".ncx");
    assert!(ncx.contains("2 What a tide table says"), "{ncx}");
}

#[test]
fn fallback_fonts_only_for_scripts_the_primary_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let article = dir.path().join("scripts.md");
    fs::write(&article, SCRIPTS).expect("write");
    let out = dir.path().join("scripts.epub");
    let r = convert(&article, "classic", &out);
    let fonts = font_files(&out);
    assert!(
        fonts.iter().any(|f| f.contains("fallback1-")),
        "Armenian needs Noto Serif Armenian: {fonts:?}"
    );
    // EB Garamond has Greek and Cyrillic; Noto Serif Armenian has the Armenian.
    assert!(!fonts.iter().any(|f| f.contains("fallback2-")), "{fonts:?}");
    let css = text_of(&out, ".css");
    assert!(
        rule(&css, "body").contains("\"EB Garamond\", \"Noto Serif Armenian\", serif"),
        "{css}"
    );
    assert!(css.contains("@font-face { font-family: \"Noto Serif Armenian\""));
    // No code, no monospace face; no bold text, no bold body face.
    assert!(!fonts.iter().any(|f| f.contains("mono-")), "{fonts:?}");
    assert!(!fonts.iter().any(|f| f.contains("body-bold")), "{fonts:?}");
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!err.contains("no font in theme"), "{err}");

    // Plain Latin text needs no fallback at all.
    let out = dir.path().join("tide.epub");
    convert(&sample("harbour-news.txt"), "classic", &out);
    let fonts = font_files(&out);
    assert!(!fonts.iter().any(|f| f.contains("fallback")), "{fonts:?}");
}

#[test]
fn characters_no_font_covers_are_reported_by_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let article = dir.path().join("tibetan.md");
    fs::write(
        &article,
        "---\ntitle: Om\n---\n\nThe syllable ༀ, with ༁ and ༂, and Armenian բ.\n",
    )
    .expect("write");
    let out = dir.path().join("t.epub");
    let r = convert(&article, "modern", &out);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("no font in theme 'modern' covers 3 characters (Tibetan: ༀ༁༂)"),
        "{err}"
    );
    assert_eq!(err.matches("no font in theme").count(), 1, "{err}");
}

#[test]
fn output_is_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let theme = user_theme(
        dir.path(),
        "capped",
        "[text]\ndrop_cap = 2\n[headings]\nnumbered = true\n",
    );
    let a = dir.path().join("a.epub");
    let b = dir.path().join("b.epub");
    for out in [&a, &b] {
        convert(
            &sample("field-guide.md"),
            theme.to_str().expect("utf-8"),
            out,
        );
    }
    assert!(fs::read(&a).expect("a") == fs::read(&b).expect("b"));
}
