//! Heading identifiers: readable, unique, valid as XML ids and URL fragments.

use std::collections::{HashMap, HashSet};

/// Hands out unique ids for one document.
#[derive(Debug, Default)]
pub struct Slugger {
    used: HashSet<String>,
    /// Next suffix to try per base, so many equal headings stay linear.
    next: HashMap<String, usize>,
}

impl Slugger {
    /// Marks an id as taken (e.g. one written explicitly in the source).
    pub fn reserve(&mut self, id: &str) {
        self.used.insert(id.to_string());
    }

    /// A unique id derived from `text`: lower-case letters and digits joined by hyphens,
    /// starting with a letter, with `-2`, `-3`, … appended on collisions.
    pub fn slug(&mut self, text: &str) -> String {
        let base = slugify(text);
        self.unique(&base)
    }

    /// `wanted` itself if free and valid, else a unique variant.
    pub fn unique(&mut self, wanted: &str) -> String {
        let base = if is_valid_id(wanted) {
            wanted.to_string()
        } else {
            slugify(wanted)
        };
        let mut candidate = base.clone();
        let n = self.next.entry(base.clone()).or_insert(2);
        while self.used.contains(&candidate) {
            candidate = format!("{base}-{n}");
            *n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

/// Lower-cases `text` and keeps letters and digits, hyphen-separated; never empty,
/// always starting with a letter (XML ids may not start with a digit).
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
        if out.len() > 60 {
            break;
        }
    }
    if !out.chars().next().is_some_and(char::is_alphabetic) {
        out.insert_str(0, if out.is_empty() { "section" } else { "s-" });
    }
    out
}

/// Whether `id` can be used as-is: an XML NCName of the simple kind.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_valid() {
        let mut s = Slugger::default();
        assert_eq!(s.slug("Hello, World!"), "hello-world");
        assert_eq!(s.slug("Hello world"), "hello-world-2");
        assert_eq!(s.slug("2024 results"), "s-2024-results");
        assert_eq!(s.slug("!!!"), "section");
        assert_eq!(s.slug("Ünïcödé — ok"), "ünïcödé-ok");
        assert!(is_valid_id(&s.unique("1bad")));
    }
}
