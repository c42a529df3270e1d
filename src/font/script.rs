//! The script a character belongs to, by English name, for warnings about characters no
//! font covers (both writers word them the same way).

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
pub fn script_name(c: char) -> String {
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
