//! Link targets: which are internal, which are absolute, and resolving relative ones.

/// What a link in the model points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `#id` inside the document.
    Fragment(&'a str),
    /// An absolute URL with a scheme writers can keep (http, https, mailto, ftp, tel).
    Absolute(String),
    /// Nothing usable: a relative link without a base, or a scheme like `javascript:`.
    Unusable,
}

/// Classifies `url`, resolving relative links against `base` (the article's source URL) when given.
pub fn classify<'a>(url: &'a str, base: Option<&str>) -> Target<'a> {
    let url = url.trim();
    if let Some(frag) = url.strip_prefix('#') {
        return Target::Fragment(frag);
    }
    if let Some(scheme) = scheme_of(url) {
        return match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" | "mailto" | "ftp" | "tel" => Target::Absolute(sanitize(url)),
            _ => Target::Unusable,
        };
    }
    match base.and_then(|b| resolve(b, url)) {
        Some(abs) => Target::Absolute(sanitize(&abs)),
        None => Target::Unusable,
    }
}

fn scheme_of(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    (chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Percent-encodes characters that are never valid in a URL (spaces, controls, `"`, `<`, `>`),
/// and brackets outside the host, where only IPv6 literals may use them.
fn sanitize(url: &str) -> String {
    let host_end = url.find("://").map(|i| i + 3).map_or(0, |h| {
        h + url[h..].find(['/', '?', '#']).unwrap_or(url.len() - h)
    });
    let mut out = String::with_capacity(url.len());
    for (i, c) in url.char_indices() {
        match c {
            ' ' | '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' => {
                out.push_str(&format!("%{:02X}", c as u32))
            }
            '[' | ']' if i >= host_end => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_control() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Resolves `rel` against the absolute http(s) URL `base` (RFC 3986, section 5.2).
pub fn resolve(base: &str, rel: &str) -> Option<String> {
    let scheme = scheme_of(base)?;
    let after_scheme = &base[scheme.len() + 1..];
    let authority_part = after_scheme.strip_prefix("//")?;
    let auth_end = authority_part
        .find(['/', '?', '#'])
        .unwrap_or(authority_part.len());
    let authority = &authority_part[..auth_end];
    let base_path = authority_part[auth_end..]
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    if rel.starts_with("//") {
        return Some(format!("{scheme}:{rel}"));
    }
    let (rel_path, suffix) = match rel.find(['?', '#']) {
        Some(i) => (&rel[..i], &rel[i..]),
        None => (rel, ""),
    };
    let path = if rel_path.is_empty() {
        base_path.to_string()
    } else if rel_path.starts_with('/') {
        rel_path.to_string()
    } else {
        let dir = base_path.rfind('/').map_or("/", |i| &base_path[..=i]);
        format!("{dir}{rel_path}")
    };
    Some(format!(
        "{scheme}://{authority}{}{suffix}",
        remove_dot_segments(&path)
    ))
}

fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            s => out.push(s),
        }
        if i == segments.len() - 1 && matches!(*seg, "." | "..") {
            out.push("");
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_and_resolves() {
        let base = Some("https://example.com/blog/2024/post.html");
        assert_eq!(classify("#intro", base), Target::Fragment("intro"));
        assert_eq!(
            classify("../about", base),
            Target::Absolute("https://example.com/blog/about".into())
        );
        assert_eq!(
            classify("/x?y=1#z", base),
            Target::Absolute("https://example.com/x?y=1#z".into())
        );
        assert_eq!(classify("javascript:alert(1)", base), Target::Unusable);
        assert_eq!(classify("other.md", None), Target::Unusable);
        assert_eq!(
            classify("https://a.b/c d", None),
            Target::Absolute("https://a.b/c%20d".into())
        );
        assert_eq!(
            classify("https://[::1]/q?x=[a]", None),
            Target::Absolute("https://[::1]/q?x=%5Ba%5D".into())
        );
    }
}
