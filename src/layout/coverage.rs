//! Warnings for characters no face of the theme has, one per script, so a reader learns
//! which kind of font to add rather than reading a list of code points.

use std::collections::{BTreeMap, BTreeSet};

use harfrust::Script;

/// English names of the scripts most often met, by ISO 15924 tag.
const NAMES: &[(&[u8; 4], &str)] = &[
    (b"Latn", "Latin"),
    (b"Grek", "Greek"),
    (b"Cyrl", "Cyrillic"),
    (b"Armn", "Armenian"),
    (b"Geor", "Georgian"),
    (b"Hebr", "Hebrew"),
    (b"Arab", "Arabic"),
    (b"Syrc", "Syriac"),
    (b"Thaa", "Thaana"),
    (b"Deva", "Devanagari"),
    (b"Beng", "Bengali"),
    (b"Guru", "Gurmukhi"),
    (b"Gujr", "Gujarati"),
    (b"Orya", "Oriya"),
    (b"Taml", "Tamil"),
    (b"Telu", "Telugu"),
    (b"Knda", "Kannada"),
    (b"Mlym", "Malayalam"),
    (b"Sinh", "Sinhala"),
    (b"Thai", "Thai"),
    (b"Laoo", "Lao"),
    (b"Tibt", "Tibetan"),
    (b"Mymr", "Myanmar"),
    (b"Khmr", "Khmer"),
    (b"Mong", "Mongolian"),
    (b"Ethi", "Ethiopic"),
    (b"Cher", "Cherokee"),
    (b"Hani", "Chinese (Han)"),
    (b"Hira", "Japanese (Hiragana)"),
    (b"Kana", "Japanese (Katakana)"),
    (b"Hang", "Korean (Hangul)"),
    (b"Bopo", "Bopomofo"),
    (b"Yiii", "Yi"),
    (b"Tfng", "Tifinagh"),
    (b"Nkoo", "N'Ko"),
    (b"Copt", "Coptic"),
    (b"Runr", "Runic"),
    (b"Ogam", "Ogham"),
    (b"Linb", "Linear B"),
    (b"Brai", "Braille"),
];

/// The script of `c` by name: symbols and punctuation shared by all scripts count as
/// "symbol", emoji as "emoji".
pub(crate) fn script_name(c: char) -> String {
    let cp = c as u32;
    if matches!(cp, 0x1F000..=0x1FAFF | 0x2600..=0x27BF) {
        return "emoji and pictograph".into();
    }
    let script = harfrust::unicode::script(cp);
    if script == Script::COMMON || script == Script::INHERITED || script == Script::UNKNOWN {
        return "symbol".into();
    }
    let tag = script.tag().to_be_bytes();
    NAMES.iter().find(|(t, _)| **t == tag).map_or_else(
        || String::from_utf8_lossy(&tag).into_owned(),
        |(_, n)| (*n).into(),
    )
}

/// One warning per script among `missing`, naming a few of its characters.
pub(crate) fn missing_warnings(theme: &str, missing: &BTreeSet<char>) -> Vec<String> {
    let mut by_script: BTreeMap<String, Vec<char>> = BTreeMap::new();
    for &c in missing {
        by_script.entry(script_name(c)).or_default().push(c);
    }
    by_script
        .into_iter()
        .map(|(script, chars)| {
            let shown: String = chars
                .iter()
                .take(8)
                .map(|c| format!("{c} (U+{:04X})", *c as u32))
                .collect::<Vec<_>>()
                .join(", ");
            let more = if chars.len() > 8 { ", …" } else { "" };
            format!(
                "no font in theme '{theme}' has these {script} characters, drawn as empty boxes: \
                 {shown}{more}; add a font that covers them to the theme's [[fonts.fallbacks]]"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_script() {
        let missing: BTreeSet<char> = ['ༀ', '༁', 'ក', '😀'].into_iter().collect();
        let w = missing_warnings("classic", &missing);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w.iter()
                .any(|m| m.contains("Tibetan") && m.contains("U+0F00"))
        );
        assert!(w.iter().any(|m| m.contains("Khmer")));
        assert!(w.iter().any(|m| m.contains("emoji")));
        assert_eq!(script_name('Ա'), "Armenian");
        assert_eq!(script_name('→'), "symbol");
    }
}
