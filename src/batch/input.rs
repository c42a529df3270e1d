//! One thing to read: a file, a web address or standard input.

use std::fmt;
use std::path::{Path, PathBuf};

/// A source named on the command line, in a reading list or in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputRef {
    /// A local file (Markdown, text or a saved web page).
    Path(PathBuf),
    /// A web page to fetch (`http://` or `https://`).
    Url(String),
    /// Standard input (`-`).
    Stdin,
}

impl InputRef {
    /// Reads one entry: `-` is standard input, an `http://` or `https://` address (scheme in
    /// any case) is a web page, anything else a path, joined to `base` when relative.
    ///
    /// Never fails: whether the file exists is for the caller to find out, where it can say
    /// which list or manifest line named it.
    pub fn parse(s: &str, base: Option<&Path>) -> InputRef {
        if s == "-" {
            InputRef::Stdin
        } else if is_web_address(s) {
            InputRef::Url(s.to_string())
        } else {
            // `join` keeps an absolute path as it is.
            InputRef::Path(base.map_or_else(|| PathBuf::from(s), |b| b.join(s)))
        }
    }
}

impl fmt::Display for InputRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputRef::Path(p) => write!(f, "{}", p.display()),
            InputRef::Url(u) => f.write_str(u),
            InputRef::Stdin => f.write_str("standard input"),
        }
    }
}

/// Whether `s` starts with `http://` or `https://`, in any case.
fn is_web_address(s: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        s.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    })
}

/// Whether `s` starts like `scheme://`: an address galley cannot fetch if not http(s).
fn has_scheme(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    })
}

/// Parses an entry of a list or manifest and checks that it can be read, so the caller can
/// report a bad one with its file and line rather than when the book is half built.
///
/// The error is a message without location; `raw` must already be trimmed.
pub(crate) fn checked(raw: &str, base: Option<&Path>) -> Result<InputRef, String> {
    if raw == "-" {
        return Err("standard input ('-') cannot be one of several articles".into());
    }
    if has_scheme(raw) && !is_web_address(raw) {
        return Err(format!(
            "'{raw}': only http:// and https:// addresses can be fetched"
        ));
    }
    let input = InputRef::parse(raw, base);
    if let InputRef::Path(path) = &input {
        if path.is_dir() {
            return Err(format!(
                "'{raw}' is a folder (name its files, e.g. '{}/*.md')",
                raw.trim_end_matches(['/', '\\'])
            ));
        }
        if !path.is_file() {
            // A bare domain is a common slip in hand-written lists.
            let hint = if raw.starts_with("www.") {
                format!(" (for a web page write https://{raw})")
            } else {
                String::new()
            };
            return Err(format!("no such file '{}'{hint}", path.display()));
        }
    }
    Ok(input)
}

/// Drops repeated entries, keeping each at its first place: a book that names an
/// introduction and then `articles/*.md` should not print the introduction twice.
pub fn dedup(inputs: Vec<InputRef>) -> Vec<InputRef> {
    let mut out: Vec<InputRef> = Vec::with_capacity(inputs.len());
    for input in inputs {
        if !out.contains(&input) {
            out.push(input);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_input_parse_kinds() {
        assert_eq!(InputRef::parse("-", None), InputRef::Stdin);
        assert_eq!(
            InputRef::parse("HTTPS://example.org/a#b", None),
            InputRef::Url("HTTPS://example.org/a#b".into())
        );
        assert_eq!(
            InputRef::parse("a/b.md", Some(Path::new("/lists"))),
            InputRef::Path(PathBuf::from("/lists/a/b.md"))
        );
        assert_eq!(
            InputRef::parse("/abs/b.md", Some(Path::new("/lists"))),
            InputRef::Path(PathBuf::from("/abs/b.md"))
        );
        assert_eq!(
            InputRef::parse("httpx.md", None),
            InputRef::Path(PathBuf::from("httpx.md"))
        );
    }

    #[test]
    fn batch_input_display() {
        assert_eq!(InputRef::parse("a.md", None).to_string(), "a.md");
        assert_eq!(
            InputRef::parse("http://x.org/", None).to_string(),
            "http://x.org/"
        );
        assert_eq!(InputRef::Stdin.to_string(), "standard input");
    }

    #[test]
    fn batch_input_checked_rejects_what_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "# A").unwrap();
        let base = Some(dir.path());
        assert!(checked("a.md", base).is_ok());
        assert!(checked("https://x.org", base).is_ok());
        assert!(checked("-", base).is_err());
        assert!(checked("ftp://x.org/a", base).unwrap_err().contains("http"));
        assert!(
            checked("missing.md", base)
                .unwrap_err()
                .contains("no such file")
        );
        assert!(
            checked("www.x.org", base)
                .unwrap_err()
                .contains("https://www.x.org")
        );
        assert!(checked(".", base).unwrap_err().contains("folder"));
    }

    #[test]
    fn batch_input_dedup_keeps_first() {
        let a = InputRef::Path(PathBuf::from("d/./a.md"));
        let b = InputRef::Url("https://x.org".into());
        let out = dedup(vec![
            a.clone(),
            b.clone(),
            InputRef::Path(PathBuf::from("d/a.md")),
        ]);
        assert_eq!(out, vec![a, b]);
    }
}
