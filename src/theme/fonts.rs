//! Font files: the ones built into the binary and the ones a user theme points at.

use std::borrow::Cow;
use std::path::Path;

/// The fonts shipped in `fonts/`, keyed by their path below that folder, as the build
/// script stores them (see `build.rs`: glyph names left out where the licence allows).
const BUILTIN: &[(&str, &[u8])] = &[
    (
        "eb-garamond/EBGaramond-Regular.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/eb-garamond/EBGaramond-Regular.ttf"
        )),
    ),
    (
        "eb-garamond/EBGaramond-Italic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/eb-garamond/EBGaramond-Italic.ttf"
        )),
    ),
    (
        "eb-garamond/EBGaramond-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/eb-garamond/EBGaramond-Bold.ttf"
        )),
    ),
    (
        "eb-garamond/EBGaramond-BoldItalic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/eb-garamond/EBGaramond-BoldItalic.ttf"
        )),
    ),
    (
        "noto-sans-mono/NotoSansMono-Regular.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-sans-mono/NotoSansMono-Regular.ttf"
        )),
    ),
    (
        "noto-sans-mono/NotoSansMono-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-sans-mono/NotoSansMono-Bold.ttf"
        )),
    ),
    (
        "noto-serif-armenian/NotoSerifArmenian-Regular.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-serif-armenian/NotoSerifArmenian-Regular.ttf"
        )),
    ),
    (
        "noto-serif-armenian/NotoSerifArmenian-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-serif-armenian/NotoSerifArmenian-Bold.ttf"
        )),
    ),
    (
        "noto-serif/NotoSerif-Regular.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-serif/NotoSerif-Regular.ttf"
        )),
    ),
    (
        "noto-serif/NotoSerif-Italic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-serif/NotoSerif-Italic.ttf"
        )),
    ),
    (
        "noto-serif/NotoSerif-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-serif/NotoSerif-Bold.ttf"
        )),
    ),
    (
        "noto-serif/NotoSerif-BoldItalic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-serif/NotoSerif-BoldItalic.ttf"
        )),
    ),
    (
        "noto-sans/NotoSans-Regular.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-sans/NotoSans-Regular.ttf"
        )),
    ),
    (
        "noto-sans/NotoSans-Italic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-sans/NotoSans-Italic.ttf"
        )),
    ),
    (
        "noto-sans/NotoSans-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-sans/NotoSans-Bold.ttf"
        )),
    ),
    (
        "noto-sans/NotoSans-BoldItalic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/noto-sans/NotoSans-BoldItalic.ttf"
        )),
    ),
    (
        "charis-sil/CharisSIL-Regular.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/charis-sil/CharisSIL-Regular.ttf"
        )),
    ),
    (
        "charis-sil/CharisSIL-Italic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/charis-sil/CharisSIL-Italic.ttf"
        )),
    ),
    (
        "charis-sil/CharisSIL-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/charis-sil/CharisSIL-Bold.ttf"
        )),
    ),
    (
        "charis-sil/CharisSIL-BoldItalic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/charis-sil/CharisSIL-BoldItalic.ttf"
        )),
    ),
    (
        "andika/Andika-Regular.ttf",
        include_bytes!(concat!(env!("OUT_DIR"), "/fonts/andika/Andika-Regular.ttf")),
    ),
    (
        "andika/Andika-Italic.ttf",
        include_bytes!(concat!(env!("OUT_DIR"), "/fonts/andika/Andika-Italic.ttf")),
    ),
    (
        "andika/Andika-Bold.ttf",
        include_bytes!(concat!(env!("OUT_DIR"), "/fonts/andika/Andika-Bold.ttf")),
    ),
    (
        "andika/Andika-BoldItalic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/andika/Andika-BoldItalic.ttf"
        )),
    ),
    (
        "dejavu/DejaVuSans.ttf",
        include_bytes!(concat!(env!("OUT_DIR"), "/fonts/dejavu/DejaVuSans.ttf")),
    ),
    (
        "dejavu/DejaVuSans-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/dejavu/DejaVuSans-Bold.ttf"
        )),
    ),
    (
        "dejavu/DejaVuSerifCondensed.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/dejavu/DejaVuSerifCondensed.ttf"
        )),
    ),
    (
        "dejavu/DejaVuSerifCondensed-Italic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/dejavu/DejaVuSerifCondensed-Italic.ttf"
        )),
    ),
    (
        "dejavu/DejaVuSerifCondensed-Bold.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/dejavu/DejaVuSerifCondensed-Bold.ttf"
        )),
    ),
    (
        "dejavu/DejaVuSerifCondensed-BoldItalic.ttf",
        include_bytes!(concat!(
            env!("OUT_DIR"),
            "/fonts/dejavu/DejaVuSerifCondensed-BoldItalic.ttf"
        )),
    ),
];

/// A built-in font by its path, written as `../fonts/NAME` (from a built-in theme),
/// `fonts/NAME` or `builtin:NAME`.
pub fn builtin(path: &str) -> Option<&'static [u8]> {
    builtin_entry(path).map(|(_, d)| d)
}

/// The built-in font a path names, as `builtin:NAME`, which no theme folder can shadow.
pub fn builtin_path(path: &str) -> Option<String> {
    builtin_entry(path).map(|(k, _)| format!("builtin:{k}"))
}

fn builtin_entry(path: &str) -> Option<(&'static str, &'static [u8])> {
    let key = path
        .strip_prefix("builtin:")
        .or_else(|| path.strip_prefix("../fonts/"))
        .or_else(|| path.strip_prefix("fonts/"))?;
    BUILTIN.iter().find(|(k, _)| *k == key).copied()
}

/// Loads a font named by a theme: a file relative to `theme_dir` when it exists there,
/// else a built-in font of that name.
pub fn load(path: &str, theme_dir: Option<&Path>) -> Option<Cow<'static, [u8]>> {
    if let Some(dir) = theme_dir {
        let file = dir.join(path);
        if let Ok(bytes) = std::fs::read(&file) {
            return Some(Cow::Owned(bytes));
        }
    }
    builtin(path).map(Cow::Borrowed)
}
