//! Warnings for characters no face of the theme has, one per script, so a reader learns
//! which kind of font to add rather than reading a list of code points.

use std::collections::{BTreeMap, BTreeSet};

use crate::font::script::script_name;

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
