//! Naming the script of characters no font covers, so a warning can say "Tibetan" rather
//! than list code points.

use std::collections::BTreeMap;

/// Unicode ranges and the script or block name shown in warnings; first match wins.
const RANGES: &[(u32, u32, &str)] = &[
    (0x0000, 0x024F, "Latin"),
    (0x0250, 0x02FF, "IPA and modifier letters"),
    (0x0300, 0x036F, "combining marks"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0700, 0x074F, "Syriac"),
    (0x0750, 0x077F, "Arabic"),
    (0x0780, 0x07BF, "Thaana"),
    (0x07C0, 0x07FF, "N'Ko"),
    (0x0800, 0x08FF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x13A0, 0x13FF, "Cherokee"),
    (0x1400, 0x167F, "Canadian Syllabics"),
    (0x1680, 0x169F, "Ogham"),
    (0x16A0, 0x16FF, "Runic"),
    (0x1780, 0x17FF, "Khmer"),
    (0x1800, 0x18AF, "Mongolian"),
    (0x1AB0, 0x1AFF, "combining marks"),
    (0x1C90, 0x1CBF, "Georgian"),
    (0x1D00, 0x1DBF, "phonetic extensions"),
    (0x1DC0, 0x1DFF, "combining marks"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x2000, 0x206F, "punctuation"),
    (0x2070, 0x209F, "superscripts and subscripts"),
    (0x20A0, 0x20CF, "currency symbols"),
    (0x20D0, 0x20FF, "combining marks"),
    (0x2100, 0x214F, "letterlike symbols"),
    (0x2150, 0x218F, "number forms"),
    (0x2190, 0x21FF, "arrows"),
    (0x2200, 0x22FF, "mathematical operators"),
    (0x2300, 0x23FF, "technical symbols"),
    (0x2400, 0x24FF, "enclosed alphanumerics"),
    (0x2500, 0x259F, "box drawing"),
    (0x25A0, 0x25FF, "geometric shapes"),
    (0x2600, 0x27BF, "symbols and dingbats"),
    (0x27C0, 0x2AFF, "mathematical symbols"),
    (0x2B00, 0x2BFF, "arrows and symbols"),
    (0x2C60, 0x2C7F, "Latin"),
    (0x2C80, 0x2CFF, "Coptic"),
    (0x2D00, 0x2D2F, "Georgian"),
    (0x2D30, 0x2D7F, "Tifinagh"),
    (0x2DE0, 0x2DFF, "Cyrillic"),
    (0x2E00, 0x2E7F, "punctuation"),
    (0x2E80, 0x2FFF, "CJK"),
    (0x3000, 0x303F, "CJK punctuation"),
    (0x3040, 0x309F, "Hiragana"),
    (0x30A0, 0x30FF, "Katakana"),
    (0x3100, 0x312F, "Bopomofo"),
    (0x3130, 0x318F, "Hangul"),
    (0x3190, 0x9FFF, "CJK"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0xA720, 0xA7FF, "Latin"),
    (0xAC00, 0xD7FF, "Hangul"),
    (0xE000, 0xF8FF, "private use"),
    (0xF900, 0xFAFF, "CJK"),
    (0xFB00, 0xFB4F, "ligatures and Hebrew"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0xFF00, 0xFFEF, "fullwidth forms"),
    (0x1F000, 0x1FAFF, "emoji and symbols"),
    (0x1D400, 0x1D7FF, "mathematical letters"),
    (0x20000, 0x3FFFF, "CJK"),
];

/// The script or block name of `c`, as shown in warnings.
pub fn script_of(c: char) -> &'static str {
    let u = c as u32;
    RANGES
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&u))
        .map_or("other", |(_, _, name)| name)
}

/// Whether `c` needs no glyph of its own: spaces, joiners, variation selectors, soft hyphens.
pub fn needs_no_glyph(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c as u32, 0x00AD | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFEFF | 0xE0100..=0xE01EF)
}

/// Most characters a warning lists before "…".
const SHOWN: usize = 8;

/// One warning per script for characters that no font in theme `theme` covers.
pub fn missing_warnings(theme: &str, missing: impl IntoIterator<Item = char>) -> Vec<String> {
    let mut by_script: BTreeMap<&str, Vec<char>> = BTreeMap::new();
    for c in missing {
        if !needs_no_glyph(c) {
            by_script.entry(script_of(c)).or_default().push(c);
        }
    }
    by_script
        .into_iter()
        .map(|(script, chars)| {
            let shown: String = chars.iter().take(SHOWN).collect();
            let more = if chars.len() > SHOWN { "…" } else { "" };
            let n = chars.len();
            let noun = if n == 1 { "character" } else { "characters" };
            format!("no font in theme '{theme}' covers {n} {noun} ({script}: {shown}{more}); reading systems will use a font of their own or show boxes")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_script() {
        let w = missing_warnings("modern", "ༀ༁༂\u{200d} ꯀ".chars());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w.iter()
                .any(|m| m.contains("covers 3 characters (Tibetan: ༀ༁༂)")),
            "{w:?}"
        );
        assert_eq!(script_of('Ա'), "Armenian");
        assert_eq!(script_of('ж'), "Cyrillic");
    }
}
