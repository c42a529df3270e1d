//! Read any bytes (the first byte picks the format) and render them, offline, with no
//! access to local files (the source poses as a web page).

use std::sync::OnceLock;

use galley::convert::{self, OutputFormat, Overrides, Settings};
use galley::layout::ContentsMode;
use galley::layout::paper::PaperSize;
use galley::limits::Limits;
use galley::read::Format;
use galley::theme::Theme;

pub fn render(data: &[u8], format: OutputFormat) {
    static THEME: OnceLock<Theme> = OnceLock::new();
    let theme = THEME.get_or_init(|| Theme::default_theme().expect("built-in theme"));
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let input = match pick % 3 {
        0 => Format::Markdown,
        1 => Format::Text,
        _ => Format::Html,
    };
    let Ok(mut source) = galley::read::read_bytes("fuzz", text, input) else {
        return;
    };
    source.url = Some("https://example.com/fuzz".into());
    let overrides = Overrides::default();
    let settings = Settings {
        theme,
        overrides: &overrides,
        source_date_epoch: Some(0),
        toc_depth: 3,
        // A small page keeps typesetting quick.
        paper: PaperSize::parse("80x100mm").ok(),
        contents: ContentsMode::Auto,
        recto: false,
        fetcher: None,
        grayscale: false,
        limits: Limits::default(),
        allowed_dirs: &[],
    };
    let mut warnings = Vec::new();
    let _ = convert::render(source, format, &settings, &mut warnings);
}
