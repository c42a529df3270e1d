//! The EPUB stylesheet, generated from the theme.
//!
//! Text sizes are relative (em, %) and body text colour and background are left to the
//! reading system, so readers keep control of size, margins and night mode. No CSS
//! custom properties: Kindle and older Adobe engines ignore them.

use std::fmt::Write as _;

use crate::theme::{BlockAlign, FaceStyle, ParagraphStyle, Theme};

/// A font file embedded in the EPUB, for an `@font-face` rule.
pub struct EmbeddedFace {
    /// CSS family name.
    pub family: String,
    /// Which face.
    pub style: FaceStyle,
    /// Path inside the EPUB, relative to the stylesheet.
    pub href: String,
}

/// `"Name", "Fallback", generic`: the family if embedded, then the embedded fallback families.
fn family_list(name: &str, generic: &str, embedded: bool, fallbacks: &[&str]) -> String {
    let mut list: Vec<String> = Vec::new();
    if embedded {
        list.push(format!("\"{name}\""));
    }
    list.extend(fallbacks.iter().map(|f| format!("\"{f}\"")));
    list.push(generic.to_string());
    list.join(", ")
}

/// The whole stylesheet.
pub fn stylesheet(theme: &Theme, faces: &[EmbeddedFace]) -> String {
    let mut css = String::new();
    for f in faces {
        let _ = writeln!(
            css,
            "@font-face {{ font-family: \"{}\"; font-style: {}; font-weight: {}; src: url(\"{}\"); }}",
            f.family,
            if f.style.is_italic() {
                "italic"
            } else {
                "normal"
            },
            if f.style.is_bold() { "bold" } else { "normal" },
            f.href
        );
    }
    let has = |fam: &str| faces.iter().any(|f| f.family == fam);
    let body = &theme.fonts.body;
    let heading = theme.heading_family();
    let mono = &theme.fonts.mono;
    let fallbacks: Vec<&str> = theme
        .fonts
        .fallbacks
        .iter()
        .map(|f| f.family.as_str())
        .filter(|f| has(f))
        .collect();
    let body_fonts = family_list(&body.family, &body.generic, has(&body.family), &fallbacks);
    let heading_fonts = family_list(
        &heading.family,
        &heading.generic,
        has(&heading.family),
        &fallbacks,
    );
    let mono_fonts = family_list(&mono.family, &mono.generic, has(&mono.family), &fallbacks);
    let t = &theme.text;
    let h = &theme.headings;
    let c = &theme.colors;
    let (p_margin, p_indent) = match t.paragraph {
        ParagraphStyle::Indent => ("0".to_string(), format!("{}em", t.indent)),
        ParagraphStyle::Space => (format!("0 0 {}em", t.leading * 0.6), "0".to_string()),
    };
    let align = if t.justify { "justify" } else { "left" };
    let hyphens = if t.hyphenate { "auto" } else { "manual" };
    let h_align = match h.align {
        BlockAlign::Left => "left",
        BlockAlign::Center => "center",
    };
    let _ = write!(
        css,
        r#"
body {{ font-family: {body_fonts}; line-height: {lead}; widows: 2; orphans: 2; }}
p {{ margin: {p_margin}; text-indent: {p_indent}; text-align: {align}; -webkit-hyphens: {hyphens}; -epub-hyphens: {hyphens}; hyphens: {hyphens}; }}
h1 + p, h2 + p, h3 + p, h4 + p, h5 + p, h6 + p, hr + p, figure + p, table + p, pre + p,
blockquote + p, ul + p, ol + p, .titleblock + p, blockquote p:first-child, li p, aside p {{ text-indent: 0; }}
h1, h2, h3, h4, h5, h6 {{ font-family: {heading_fonts}; font-weight: {h_weight}; font-variant: {h_variant}; color: {h_color};
  text-align: {h_align}; line-height: 1.2; margin: {h_before}em 0 {h_after}em 0; text-indent: 0;
  -webkit-hyphens: manual; -epub-hyphens: manual; hyphens: manual; page-break-after: avoid; break-after: avoid; page-break-inside: avoid; }}
h1 {{ font-size: {s1}em; }} h2 {{ font-size: {s2}em; }} h3 {{ font-size: {s3}em; }}
h4 {{ font-size: {s4}em; }} h5 {{ font-size: {s5}em; }} h6 {{ font-size: {s6}em; }}
a {{ color: {link}; text-decoration: none; }}
em {{ font-style: italic; }} strong {{ font-weight: bold; }}
del {{ text-decoration: line-through; }}
sup, sub {{ font-size: 70%; line-height: 0; }}
code {{ font-family: {mono_fonts}; font-size: 0.85em; -webkit-hyphens: none; -epub-hyphens: none; hyphens: none; }}
pre {{ font-family: {mono_fonts}; font-size: 0.8em; line-height: 1.35; white-space: pre-wrap; word-wrap: break-word;
  text-align: left; margin: 1em 0; padding: 0.5em 0 0.5em 0.8em; border-left: 0.2em solid {rule}; page-break-inside: auto; }}
pre code {{ font-size: 1em; }}
blockquote {{ margin: 1em 1.5em; }}
blockquote p {{ text-indent: 0; margin: 0 0 0.5em 0; }}
ul, ol {{ margin: 0.6em 0 0.6em 1.4em; padding: 0 0 0 0.4em; }}
li {{ margin: 0.15em 0; }}
ul.loose > li, ol.loose > li {{ margin: 0.5em 0; }}
li > p {{ margin: 0 0 0.4em 0; text-align: left; }}
ul.tasks {{ list-style-type: none; margin-left: 0.4em; }}
.check {{ font-family: sans-serif; }}
hr {{ border: 0; border-top: 1px solid {rule}; width: 30%; margin: 1.5em auto; }}
figure {{ margin: 1.2em 0; text-align: center; page-break-inside: avoid; break-inside: avoid; }}
figure img {{ max-width: 100%; height: auto; }}
img.inline {{ max-height: 1.2em; vertical-align: middle; }}
figcaption {{ font-size: 0.85em; font-style: italic; text-align: center; margin-top: 0.4em; text-indent: 0; }}
.missing-image {{ font-style: italic; text-indent: 0; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
caption {{ font-style: italic; margin-bottom: 0.3em; }}
th, td {{ border-bottom: 1px solid {rule}; padding: 0.25em 0.6em 0.25em 0; text-align: left; vertical-align: top; }}
th {{ font-weight: bold; border-bottom-width: 2px; }}
th.center, td.center {{ text-align: center; }} th.right, td.right {{ text-align: right; }}
sup a.noteref {{ text-decoration: none; }}
aside.footnote {{ font-size: 0.85em; margin: 0.6em 0; }}
aside.footnote p {{ text-indent: 0; text-align: left; margin: 0 0 0.3em 0; }}
.footnotes {{ margin-top: 2em; border-top: 1px solid {rule}; padding-top: 0.5em; }}
.titleblock {{ margin: 2em 0 2.5em 0; text-align: {h_align}; }}
.titleblock .kicker {{ font-size: 0.8em; letter-spacing: 0.12em; text-transform: uppercase; color: {accent}; margin: 0 0 0.6em 0; text-indent: 0; text-align: {h_align}; }}
.titleblock h1.title {{ font-size: 2em; line-height: 1.15; margin: 0 0 0.4em 0; }}
.titleblock .subtitle {{ font-size: 1.15em; font-style: italic; margin: 0 0 1em 0; text-indent: 0; text-align: {h_align}; }}
.titleblock .byline {{ font-variant: small-caps; letter-spacing: 0.04em; margin: 0 0 0.2em 0; text-indent: 0; text-align: {h_align}; }}
.titleblock .date, .titleblock .source {{ font-size: 0.85em; margin: 0; text-indent: 0; text-align: {h_align}; }}
.titleblock .source a {{ word-wrap: break-word; }}
.titleblock hr {{ margin: 1.2em 0 0 0; width: 4em; border-top: 2px solid {accent}; }}
.cover {{ margin: 0; padding: 0; text-align: center; }}
.cover img {{ height: 100%; max-width: 100%; }}
nav ol {{ list-style-type: none; margin-left: 0; }}
nav ol ol {{ margin-left: 1.2em; }}
"#,
        lead = t.leading,
        h_weight = if h.bold { "bold" } else { "normal" },
        h_variant = if h.small_caps { "small-caps" } else { "normal" },
        h_color = c.heading,
        h_before = h.space_before,
        h_after = h.space_after,
        s1 = h.sizes[0],
        s2 = h.sizes[1],
        s3 = h.sizes[2],
        s4 = h.sizes[3],
        s5 = h.sizes[4],
        s6 = h.sizes[5],
        link = c.link,
        rule = c.rule,
        accent = c.accent,
    );
    if !theme.epub.css.trim().is_empty() {
        css.push_str("\n/* theme epub.css */\n");
        css.push_str(theme.epub.css.trim());
        css.push('\n');
    }
    css
}
