//! What writers do with raw HTML from a source: keep its text, drop its markup.
//!
//! Raw HTML cannot be trusted to be valid XHTML (or safe), so writers never copy it.

/// The readable text of an HTML fragment: tags removed, `<script>`/`<style>` content and
/// comments dropped, entities decoded, whitespace collapsed.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        // An unclosed tag runs to the end; slicing by bytes from its end could split a
        // character (found by fuzzing).
        let (inner, end) = match rest.find('>') {
            Some(e) => (&rest[1..e], e + 1),
            None => (&rest[1..], rest.len()),
        };
        let tag = inner.trim().to_ascii_lowercase();
        rest = &rest[end..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = lower
                .find(&close)
                .and_then(|i| rest[i..].find('>').map(|j| &rest[i + j + 1..]))
                .unwrap_or("");
        } else if matches!(
            name.as_str(),
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3"
        ) {
            out.push(' ');
        }
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether an inline HTML fragment is a line break (`<br>`, `<br/>`, `<br />`).
pub fn is_line_break(html: &str) -> bool {
    let t = html.trim().to_ascii_lowercase();
    t.starts_with("<br") && t[3..].trim_start_matches([' ', '/']).starts_with('>')
}

/// Decodes the common named entities and numeric character references.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Entity names are short ASCII: look for the `;` among the first bytes only.
        let semi = rest.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|semi| {
            let name = &rest[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                "hellip" => Some('…'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "copy" => Some('©'),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the read→PDF fuzz target: an unclosed tag ending in a multi-byte character,
    /// and an `&` a few bytes before one.
    #[test]
    fn unclosed_tags_and_ampersands_before_multibyte_text_do_not_panic() {
        assert_eq!(text_of("a <b¢"), "a");
        assert_eq!(text_of("x &ab¢¢¢¢¢¢ y"), "x &ab¢¢¢¢¢¢ y");
        assert_eq!(decode_entities("&¢¢¢¢¢¢;"), "&¢¢¢¢¢¢;");
        assert_eq!(decode_entities("&amp;¢"), "&¢");
    }

    #[test]
    fn keeps_text_drops_markup() {
        assert_eq!(
            text_of(
                "<div class=\"x\">Hello <b>world</b> &amp; all<script>evil()</script><!-- c --></div>"
            ),
            "Hello world & all"
        );
        assert_eq!(text_of("<style>p{}</style>"), "");
        assert!(is_line_break("<br>") && is_line_break("<BR />") && !is_line_break("<b>"));
        assert_eq!(
            decode_entities("&#8220;x&#x201D; &bogus; &"),
            "“x” &bogus; &"
        );
    }
}
