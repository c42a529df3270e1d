//! The EPUB stylesheet, generated from the theme.
//!
//! Every theme key that affects the EPUB (see `themes/README.md`) is honoured here, within
//! rules that leave the reader in charge: text sizes are relative (em, %), body text colour,
//! background and size are left to the reading system, nothing is positioned or forced with
//! `!important`, so readers keep control of size, margins and night mode. Only CSS that
//! Kindle understands: no custom properties, flex, grid or `:nth-child` (striped rows get a
//! class in the XHTML); floats are fine.

use std::fmt::Write as _;

use crate::theme::check::optional_color;
use crate::theme::{BlockAlign, FaceStyle, ParagraphStyle, RuleStyle, Theme};

/// A font file embedded in the EPUB, for an `@font-face` rule.
#[derive(Clone)]
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

/// A number for CSS: at most three decimals, no trailing zeros, so output is stable.
fn num(v: f32) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn align(a: BlockAlign) -> &'static str {
    match a {
        BlockAlign::Left => "left",
        BlockAlign::Center => "center",
    }
}

fn weight(bold: bool) -> &'static str {
    if bold { "bold" } else { "normal" }
}

fn slant(italic: bool) -> &'static str {
    if italic { "italic" } else { "normal" }
}

/// Font-family lists per role, each with the embedded fallbacks before the generic family.
struct FamilyLists {
    body: String,
    heading: String,
    mono: String,
}

impl FamilyLists {
    fn of(theme: &Theme, faces: &[EmbeddedFace]) -> Self {
        let has = |fam: &str| faces.iter().any(|f| f.family == fam);
        let fallbacks: Vec<&str> = theme
            .fonts
            .fallbacks
            .iter()
            .map(|f| f.family.as_str())
            .filter(|f| has(f))
            .collect();
        let list = |f: &crate::theme::FontFamily| {
            family_list(&f.family, &f.generic, has(&f.family), &fallbacks)
        };
        FamilyLists {
            body: list(&theme.fonts.body),
            heading: list(theme.heading_family()),
            mono: list(&theme.fonts.mono),
        }
    }
}

/// A fill colour for code blocks or striped rows, or `None` for none. The tinted element
/// also gets the theme's text colour so it stays legible when a reader switches to night
/// mode and light text; the page itself keeps the reader's colours.
fn fill(value: &str) -> Option<&str> {
    matches!(optional_color(value), Some(Some(_))).then_some(value.trim())
}

/// The whole stylesheet.
pub fn stylesheet(theme: &Theme, faces: &[EmbeddedFace]) -> String {
    let mut css = String::new();
    for f in faces {
        let _ = writeln!(
            css,
            "@font-face {{ font-family: \"{}\"; font-style: {}; font-weight: {}; src: url(\"{}\"); }}",
            f.family,
            slant(f.style.is_italic()),
            weight(f.style.is_bold()),
            f.href
        );
    }
    let fonts = FamilyLists::of(theme, faces);
    text(&mut css, theme, &fonts);
    headings(&mut css, theme, &fonts);
    blocks(&mut css, theme, &fonts);
    title_block(&mut css, theme);
    drop_cap(&mut css, theme, &fonts);
    if !theme.epub.css.trim().is_empty() {
        css.push_str("\n/* theme epub.css */\n");
        css.push_str(theme.epub.css.trim());
        css.push('\n');
    }
    css
}

/// Body, paragraphs, inline elements, links, lists and notes.
fn text(css: &mut String, theme: &Theme, fonts: &FamilyLists) {
    let t = &theme.text;
    let (p_margin, p_indent) = match t.paragraph {
        ParagraphStyle::Indent => ("0".to_string(), format!("{}em", num(t.indent))),
        ParagraphStyle::Space => (format!("0 0 {}em 0", num(t.leading * 0.6)), "0".into()),
    };
    let p_align = if t.justify { "justify" } else { "left" };
    let hyphens = if t.hyphenate { "auto" } else { "manual" };
    let _ = write!(
        css,
        r#"
body {{ font-family: {body}; line-height: {lead}; widows: 2; orphans: 2; }}
p {{ margin: {p_margin}; text-indent: {p_indent}; text-align: {p_align}; -webkit-hyphens: {hyphens}; -epub-hyphens: {hyphens}; hyphens: {hyphens}; }}
h1 + p, h2 + p, h3 + p, h4 + p, h5 + p, h6 + p, hr + p, figure + p, table + p, pre + p,
blockquote + p, ul + p, ol + p, .titleblock + p, blockquote p:first-child, li p, aside p {{ text-indent: 0; }}
a {{ color: {link}; text-decoration: none; }}
em {{ font-style: italic; }} strong {{ font-weight: bold; }}
del {{ text-decoration: line-through; }}
sup, sub {{ font-size: 70%; line-height: 0; }}
code {{ font-family: {mono}; font-size: 0.85em; -webkit-hyphens: none; -epub-hyphens: none; hyphens: none; }}
ul, ol {{ margin: 0.6em 0 0.6em 1.4em; padding: 0 0 0 0.4em; }}
li {{ margin: 0.15em 0; }}
ul.loose > li, ol.loose > li {{ margin: 0.5em 0; }}
li > p {{ margin: 0 0 0.4em 0; text-align: left; }}
ul.tasks {{ list-style-type: none; margin-left: 0.4em; }}
hr {{ border: 0; border-top: 1px solid {rule}; width: 30%; margin: 1.5em auto; }}
sup a.noteref {{ text-decoration: none; }}
aside.footnote {{ font-size: 0.85em; margin: 0.6em 0; }}
aside.footnote p {{ text-indent: 0; text-align: left; margin: 0 0 0.3em 0; }}
.footnotes {{ margin-top: 2em; border-top: 1px solid {rule}; padding-top: 0.5em; }}
.missing-image {{ font-style: italic; text-indent: 0; }}
.cover {{ margin: 0; padding: 0; text-align: center; }}
.cover img {{ height: 100%; max-width: 100%; }}
nav ol {{ list-style-type: none; margin-left: 0; }}
nav ol ol {{ margin-left: 1.2em; }}
"#,
        body = fonts.body,
        mono = fonts.mono,
        lead = num(t.leading),
        link = theme.colors.link,
        rule = theme.colors.rule,
    );
}

/// Section headings: family, sizes, weight, small capitals, alignment, spacing, colour.
fn headings(css: &mut String, theme: &Theme, fonts: &FamilyLists) {
    let h = &theme.headings;
    // `font-style: normal` keeps a heading upright inside an italic quote, as the font
    // subsets assume.
    let _ = writeln!(
        css,
        "h1, h2, h3, h4, h5, h6 {{ font-family: {fam}; font-weight: {w}; font-style: normal; font-variant: {v}; color: {c};\n  \
         text-align: {a}; line-height: 1.2; margin: {b}em 0 {af}em 0; text-indent: 0;\n  \
         -webkit-hyphens: manual; -epub-hyphens: manual; hyphens: manual; page-break-after: avoid; break-after: avoid; page-break-inside: avoid; }}",
        fam = fonts.heading,
        w = weight(h.bold),
        v = if h.small_caps { "small-caps" } else { "normal" },
        c = theme.colors.heading,
        a = align(h.align),
        b = num(h.space_before),
        af = num(h.space_after),
    );
    for (i, size) in h.sizes.iter().enumerate() {
        let _ = writeln!(css, "h{} {{ font-size: {}em; }}", i + 1, num(*size));
    }
    if h.numbered {
        let _ = writeln!(css, ".secnum {{ font-variant: normal; }}");
    }
}

/// Quotes, code, tables and figures.
fn blocks(css: &mut String, theme: &Theme, fonts: &FamilyLists) {
    let q = &theme.quote;
    let quote_rule = if q.rule {
        format!(
            " border-left: 1px solid {}; padding-left: 0.8em;",
            theme.colors.rule
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        css,
        "blockquote {{ margin: 1em {i}em 1em {i}em; font-size: {s}em; font-style: {st};{quote_rule} }}\n\
         blockquote p {{ text-indent: 0; margin: 0 0 0.5em 0; }}",
        i = num(q.indent),
        s = num(q.size),
        st = slant(q.italic),
    );
    if q.italic {
        // Emphasis inside italic text is set upright.
        css.push_str("blockquote em { font-style: normal; }\n");
    }

    let c = &theme.code;
    let pre_fill = match fill(&c.background) {
        Some(bg) => format!(
            "background-color: {bg}; color: {}; padding: 0.5em 0.8em;",
            theme.colors.text
        ),
        None => format!(
            "border-left: 0.2em solid {}; padding: 0.5em 0 0.5em 0.8em;",
            theme.colors.rule
        ),
    };
    let _ = writeln!(
        css,
        "pre {{ font-family: {mono}; font-size: {s}em; font-style: normal; font-weight: normal; line-height: 1.35; white-space: pre-wrap; word-wrap: break-word;\n  \
         text-align: left; margin: 1em 0; {pre_fill} page-break-inside: auto; }}\n\
         pre code {{ font-size: 1em; }}",
        mono = fonts.mono,
        s = num(c.size),
    );

    let t = &theme.table;
    let rule = &theme.colors.rule;
    let _ = writeln!(
        css,
        "table {{ border-collapse: collapse; margin: 1em 0; font-size: {s}em; }}\n\
         caption {{ font-style: italic; margin-bottom: 0.3em; }}\n\
         th, td {{ border-bottom: 1px solid {rule}; padding: 0.25em 0.6em 0.25em 0; text-align: left; vertical-align: top; }}\n\
         th {{ font-weight: bold; border-bottom-width: 2px; }}\n\
         th.center, td.center {{ text-align: center; }} th.right, td.right {{ text-align: right; }}",
        s = num(t.size),
    );
    if let Some(bg) = fill(&t.stripes) {
        // Cells, not the row: some reading systems do not paint row backgrounds. The left
        // padding keeps text off the shaded edge.
        let _ = writeln!(
            css,
            "tr.stripe td {{ background-color: {bg}; color: {}; }}\n\
             th:first-child, td:first-child {{ padding-left: 0.3em; }}",
            theme.colors.text
        );
    }

    let f = &theme.figure;
    let _ = writeln!(
        css,
        "figure {{ margin: 1.2em 0; text-align: center; page-break-inside: avoid; break-inside: avoid; }}\n\
         figure img {{ max-width: 100%; height: auto; }}\n\
         img.inline {{ max-height: 1.2em; vertical-align: middle; }}\n\
         figcaption {{ font-size: {s}em; font-style: {st}; text-align: {a}; margin-top: 0.4em; text-indent: 0; }}",
        s = num(f.caption_size),
        st = slant(f.caption_italic),
        a = align(f.caption_align),
    );
    if f.caption_italic {
        css.push_str("figcaption em { font-style: normal; }\n");
    }
}

/// The title block: alignment, title size and weight, kicker style, the rule below.
fn title_block(css: &mut String, theme: &Theme) {
    let t = &theme.title;
    let c = &theme.colors;
    let a = align(t.align);
    let kicker = if t.kicker_caps {
        "letter-spacing: 0.12em; text-transform: uppercase;"
    } else {
        "font-style: italic;"
    };
    let _ = writeln!(
        css,
        ".titleblock {{ margin: 2em 0 2.5em 0; text-align: {a}; }}\n\
         .titleblock .kicker {{ font-size: 0.8em; {kicker} color: {accent}; margin: 0 0 0.6em 0; text-indent: 0; text-align: {a}; }}\n\
         .titleblock h1.title {{ font-size: {size}em; font-weight: {w}; text-align: {a}; line-height: 1.15; margin: 0 0 0.4em 0; }}\n\
         .titleblock .subtitle {{ font-size: 1.15em; font-style: italic; margin: 0 0 1em 0; text-indent: 0; text-align: {a}; }}\n\
         .titleblock .byline {{ font-variant: small-caps; letter-spacing: 0.04em; margin: 0 0 0.2em 0; text-indent: 0; text-align: {a}; }}\n\
         .titleblock .date, .titleblock .source {{ font-size: 0.85em; margin: 0; text-indent: 0; text-align: {a}; }}\n\
         .titleblock .source a {{ word-wrap: break-word; }}",
        accent = c.accent,
        size = num(t.size),
        w = weight(t.bold),
    );
    let side = match t.align {
        BlockAlign::Left => "0",
        BlockAlign::Center => "auto",
    };
    match t.rule {
        // The XHTML has no rule then.
        RuleStyle::None => {}
        RuleStyle::Short => {
            let _ = writeln!(
                css,
                ".titleblock hr {{ margin: 1.2em {side} 0 {side}; width: 4em; border-top: 0.15em solid {}; }}",
                c.accent
            );
        }
        RuleStyle::Full => {
            let _ = writeln!(
                css,
                ".titleblock hr {{ margin: 1.2em 0 0 0; width: 100%; border-top: 1px solid {}; }}",
                c.rule
            );
        }
    }
}

/// The drop cap: a floated initial about `text.drop_cap` lines tall.
fn drop_cap(css: &mut String, theme: &Theme, fonts: &FamilyLists) {
    let lines = f32::from(theme.text.drop_cap);
    if lines < 1.0 {
        return;
    }
    let lead = theme.text.leading;
    // A capital is about 0.7em tall: size it so its top meets the first line's capitals and
    // its foot the last line's baseline, and keep its box a little under `lines` lines so
    // exactly that many lines wrap around it.
    let size = ((lines - 1.0) * lead + 0.7) / 0.7;
    let line_height = ((lines * lead - 0.1) / size).max(0.5);
    let _ = writeln!(
        css,
        "p.first {{ text-indent: 0; }}\n\
         span.dropcap {{ float: left; font-family: {fam}; font-weight: {w}; font-style: normal; font-size: {s}em; line-height: {lh}; \
         margin: 0.02em 0.06em 0 0; color: {accent}; }}",
        fam = fonts.heading,
        w = weight(theme.headings.bold),
        s = num(size),
        lh = num(line_height),
        accent = theme.colors.accent,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::{builtin_names, load};

    /// Every built-in theme's stylesheet respects the reader and Kindle's CSS subset.
    #[test]
    fn stylesheets_respect_the_reader() {
        for name in builtin_names() {
            let mut theme = load::builtin(name).expect(name);
            // Exercise the optional parts too.
            theme.text.drop_cap = 3;
            theme.headings.numbered = true;
            let faces = [EmbeddedFace {
                family: theme.fonts.body.family.clone(),
                style: FaceStyle::Regular,
                href: "fonts/body-regular.ttf".into(),
            }];
            let css = stylesheet(&theme, &faces);
            for decl in css.split([';', '{', '}']) {
                let decl = decl.trim();
                if decl.starts_with("font-size") || decl.starts_with("line-height") {
                    assert!(!decl.contains("px"), "{name}: {decl}");
                }
                assert!(!decl.contains("var("), "{name}: {decl}");
                assert!(!decl.contains("--"), "{name}: {decl}");
                assert!(!decl.contains("!important"), "{name}: {decl}");
                assert!(!decl.starts_with("position"), "{name}: {decl}");
                assert!(!decl.contains("nth-child"), "{name}: {decl}");
                assert!(
                    !decl.starts_with("display: flex") && !decl.starts_with("display: grid"),
                    "{name}: {decl}"
                );
                for unit in ["vw", "vh"] {
                    assert!(
                        !decl
                            .split(|c: char| !c.is_ascii_alphanumeric() && c != '.')
                            .any(|w| w.ends_with(unit)
                                && w.starts_with(|c: char| c.is_ascii_digit())),
                        "{name}: {decl}"
                    );
                }
            }
            // Nothing fixes the body's colour, background or size.
            let body = css
                .lines()
                .find(|l| l.starts_with("body "))
                .expect("body rule");
            for prop in ["color", "background", "font-size"] {
                assert!(!body.contains(prop), "{name}: {body}");
            }
        }
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(1.4), "1.4");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.8200001), "0.82");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn theme_keys_reach_the_stylesheet() {
        let mut theme = load::builtin("classic").expect("classic");
        theme.title.rule = RuleStyle::Full;
        theme.title.kicker_caps = false;
        theme.quote.italic = true;
        theme.code.background = "none".into();
        theme.table.stripes = "#eeeeee".into();
        theme.figure.caption_align = BlockAlign::Left;
        theme.text.drop_cap = 0;
        let css = stylesheet(&theme, &[]);
        assert!(
            css.contains("width: 100%; border-top: 1px solid #8a8a8a"),
            "{css}"
        );
        assert!(
            css.contains(".kicker { font-size: 0.8em; font-style: italic;"),
            "{css}"
        );
        assert!(
            css.contains("blockquote em { font-style: normal; }"),
            "{css}"
        );
        assert!(css.contains("border-left: 0.2em solid"), "{css}");
        assert!(
            css.contains("tr.stripe td { background-color: #eeeeee;"),
            "{css}"
        );
        assert!(css.contains("text-align: left; margin-top: 0.4em"), "{css}");
        assert!(!css.contains("span.dropcap"), "{css}");
    }
}
