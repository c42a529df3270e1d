//! Value checks serde cannot express: colours, ranges and placeholders, each error
//! naming its key.

use super::{Theme, parse_color};

/// Placeholders allowed in running heads and feet.
pub const PLACEHOLDERS: &[&str] = &["title", "section", "author", "page"];

/// A colour key that may also be `none`: the colour, or `None` for no fill.
pub fn optional_color(s: &str) -> Option<Option<[u8; 3]>> {
    if s.trim().eq_ignore_ascii_case("none") || s.trim().is_empty() {
        Some(None)
    } else {
        parse_color(s).map(Some)
    }
}

/// Checks the values of the newer sections; `Err` carries a message naming the key.
pub fn check(theme: &Theme) -> Result<(), String> {
    let range = |key: &str, v: f32, lo: f32, hi: f32| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(format!("{key} = {v} is out of range ({lo}–{hi})"))
        }
    };
    let p = &theme.page;
    if !(1..=2).contains(&p.columns) {
        return Err(format!("page.columns = {} must be 1 or 2", p.columns));
    }
    range("page.gutter", p.gutter, 0.0, 50.0)?;
    for (key, v) in [
        ("page.margin_top", p.margin_top),
        ("page.margin_bottom", p.margin_bottom),
        ("page.margin_inner", p.margin_inner),
        ("page.margin_outer", p.margin_outer),
    ] {
        range(key, v, 0.0, 200.0)?;
    }
    for (key, v) in [
        ("page.header_verso", &p.header_verso),
        ("page.header_recto", &p.header_recto),
        ("page.footer_verso", &p.footer_verso),
        ("page.footer_recto", &p.footer_recto),
    ] {
        check_template(key, v)?;
    }
    if theme.text.drop_cap > 5 {
        return Err(format!(
            "text.drop_cap = {} is out of range (0–5 lines)",
            theme.text.drop_cap
        ));
    }
    range("text.indent", theme.text.indent, 0.0, 10.0)?;
    for (i, s) in theme.headings.sizes.iter().enumerate() {
        range(&format!("headings.sizes[{i}]"), *s, 0.5, 6.0)?;
    }
    range(
        "headings.space_before",
        theme.headings.space_before,
        0.0,
        10.0,
    )?;
    range(
        "headings.space_after",
        theme.headings.space_after,
        0.0,
        10.0,
    )?;
    range("title.size", theme.title.size, 1.0, 6.0)?;
    range("quote.indent", theme.quote.indent, 0.0, 10.0)?;
    range("quote.size", theme.quote.size, 0.5, 2.0)?;
    range("code.size", theme.code.size, 0.5, 2.0)?;
    range("table.size", theme.table.size, 0.5, 2.0)?;
    range("figure.caption_size", theme.figure.caption_size, 0.5, 2.0)?;
    for (key, v) in [
        ("code.background", &theme.code.background),
        ("table.stripes", &theme.table.stripes),
    ] {
        if optional_color(v).is_none() {
            return Err(format!(
                "{key} = \"{v}\" is not a colour (expected #rrggbb or none)"
            ));
        }
    }
    Ok(())
}

/// Every `{name}` in a running head or foot must be a known placeholder.
fn check_template(key: &str, template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("{key} = \"{template}\": unclosed '{{'"));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "{key} = \"{template}\": unknown placeholder {{{name}}} (use {})",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// Fills a running head or foot template.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_bad_placeholders() {
        assert!(check_template("page.header_recto", "{section} · {page}").is_ok());
        let e = check_template("page.header_recto", "{chapter}").unwrap_err();
        assert!(
            e.contains("page.header_recto") && e.contains("{chapter}"),
            "{e}"
        );
        assert!(check_template("k", "{title").is_err());
        assert_eq!(
            fill("{title} — {page}", &[("title", "Tide"), ("page", "3")]),
            "Tide — 3"
        );
    }

    #[test]
    fn optional_colours() {
        assert_eq!(optional_color("none"), Some(None));
        assert_eq!(optional_color("#fff"), Some(Some([255, 255, 255])));
        assert_eq!(optional_color("blue"), None);
    }
}
