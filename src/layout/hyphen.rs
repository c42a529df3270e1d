//! Where words may be hyphenated, from `hypher`'s Liang patterns.
//!
//! Only the languages compiled into `hypher` (its Cargo features) are available;
//! other languages are simply not hyphenated.

use std::collections::HashMap;

/// Fewest letters kept before a hyphen.
const LEFT_MIN: usize = 2;
/// Fewest letters carried to the next line.
const RIGHT_MIN: usize = 3;
/// Shorter words are never hyphenated.
const MIN_LETTERS: usize = 5;

/// The patterns for a BCP 47 tag (`de-CH`, `pt_BR`, `nb`), if compiled in.
pub fn language(tag: &str) -> Option<hypher::Lang> {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let code: Option<[u8; 2]> = primary.as_bytes().try_into().ok();
    code.and_then(hypher::Lang::from_iso).or_else(|| {
        // Three-letter and private English tags still read as English.
        if primary.starts_with("en") {
            hypher::Lang::from_iso(*b"en")
        } else {
            None
        }
    })
}

/// Byte offsets in `word` before which a hyphen may be inserted, ascending.
///
/// Leading and trailing punctuation (quotes, commas) is ignored, and letters on
/// either side of an apostrophe or hyphen are treated as separate words. Nothing is
/// returned for words with digits, URLs, e-mail addresses and paths, all-caps
/// acronyms, words with capitals inside (`iPhone`, `McDonald`), words shorter than
/// five letters, or languages without patterns.
pub fn hyphenation_points(word: &str, lang: &str) -> Vec<usize> {
    let mut points = Vec::new();
    let Some(lang) = language(lang) else {
        return points;
    };
    // Punctuation around a word is fine; inside it, it marks a URL, address or path.
    let core = word.trim_matches(|c: char| !c.is_alphanumeric());
    if word.chars().any(char::is_numeric)
        || core.contains(['@', '/', '\\', '_', '.', ':', '=', '#', '&', '?', '%', '~'])
    {
        return points;
    }
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let has_lower = letters.iter().any(|c| c.is_lowercase());
    let has_upper = letters.iter().any(|c| c.is_uppercase());
    if letters.len() >= 2 && has_upper && !has_lower {
        return points;
    }
    let (left, right) = lang.bounds();
    let (left, right) = (left.max(LEFT_MIN), right.max(RIGHT_MIN));
    for (start, segment) in letter_segments(word) {
        let count = segment.chars().filter(|c| c.is_alphabetic()).count();
        if count < MIN_LETTERS || segment.chars().skip(1).any(char::is_uppercase) {
            continue;
        }
        let mut offset = start;
        let mut syllables = hypher::hyphenate_bounded(segment, lang, left, right).peekable();
        while let Some(syllable) = syllables.next() {
            offset += syllable.len();
            if syllables.peek().is_some() {
                points.push(offset);
            }
        }
    }
    points
}

/// [`hyphenation_points`] remembered per word: prose repeats its words, and the pattern
/// search was a sizeable share of setting a book.
#[derive(Default)]
pub(crate) struct HyphenCache {
    lang: String,
    points: HashMap<String, Vec<usize>>,
}

impl HyphenCache {
    /// The hyphenation points of `word` in `lang` (see [`hyphenation_points`]).
    pub(crate) fn points(&mut self, word: &str, lang: &str) -> Vec<usize> {
        if self.lang != lang {
            self.points.clear();
            self.lang = lang.to_string();
        }
        if let Some(p) = self.points.get(word) {
            return p.clone();
        }
        let p = hyphenation_points(word, lang);
        self.points.insert(word.to_string(), p.clone());
        p
    }
}

/// Maximal runs of letters (with their combining marks), with byte offsets.
fn letter_segments(word: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in word.char_indices() {
        let in_word = c.is_alphabetic() || (start.is_some() && is_mark(c));
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &word[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &word[s..]));
    }
    out
}

/// Combining marks commonly written after letters (decomposed accents).
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(word: &str, lang: &str) -> String {
        let mut out = String::new();
        let mut last = 0;
        for p in hyphenation_points(word, lang) {
            out.push_str(&word[last..p]);
            out.push('-');
            last = p;
        }
        out.push_str(&word[last..]);
        out
    }

    #[test]
    fn languages() {
        assert_eq!(split("hyphenation", "en"), "hy-phen-ation");
        assert_eq!(split("hyphenation", "en-GB"), "hy-phen-ation");
        assert_eq!(split("hyphenation", "eng"), "hy-phen-ation");
        assert_eq!(split("Silbentrennung", "de"), "Sil-ben-tren-nung");
        assert_eq!(split("Silbentrennung", "de-AT"), "Sil-ben-tren-nung");
        // Unknown or uncompiled languages: no hyphens, not English ones.
        assert_eq!(split("hyphenation", "xx"), "hyphenation");
        assert_eq!(split("hyphenation", ""), "hyphenation");
    }

    #[test]
    fn refusals() {
        for word in [
            "NASA",
            "UNESCO's",
            "3rd-party",
            "https://example.com",
            "www.example.com",
            "someone@example.com",
            "path/to/hyphenation",
            "iPhone",
            "JavaScript",
            "word",
            "four",
        ] {
            assert_eq!(
                hyphenation_points(word, "en"),
                Vec::<usize>::new(),
                "{word}"
            );
        }
    }

    #[test]
    fn punctuation_and_bounds() {
        assert_eq!(split("“Hyphenation,”", "en"), "“Hy-phen-ation,”");
        assert_eq!(split("hyphenation.", "en"), "hy-phen-ation.");
        assert_eq!(split("(representation)", "en"), "(rep-re-sen-ta-tion)");
        // Each side of an apostrophe or hyphen separately.
        assert_eq!(split("l’ordinateur", "fr"), "l’or-di-na-teur");
        assert_eq!(split("well-considered", "en"), "well-con-sid-ered");
        for word in ["hyphenation", "Silbentrennung", "encyclopedia", "übermäßig"] {
            for p in hyphenation_points(word, "de") {
                let before = word[..p].chars().filter(|c| c.is_alphabetic()).count();
                let after = word[p..].chars().filter(|c| c.is_alphabetic()).count();
                assert!(before >= LEFT_MIN && after >= RIGHT_MIN, "{word} at {p}");
            }
        }
        // Non-ASCII letters keep byte offsets on char boundaries.
        for p in hyphenation_points("Ökonomisierung", "de") {
            assert!("Ökonomisierung".is_char_boundary(p));
        }
        assert_eq!(split("Ökonomisierung", "de"), "Öko-no-mi-sie-rung");
        assert_eq!(split("переносы", "ru"), "пе-ре-носы");
    }
}
