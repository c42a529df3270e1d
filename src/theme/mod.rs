//! Themes: one TOML file decides how an article looks in every output.
//!
//! Built-in themes live in `themes/` and are embedded in the binary; users add their own in
//! a themes folder or give a path (see [`source`]). A theme may `extends` another and override
//! only what it changes (see [`load`]).

pub mod check;
pub mod fonts;
pub mod load;
pub mod source;
pub mod starter;

use std::borrow::Cow;
use std::path::PathBuf;

use serde::Deserialize;

use crate::beside::Handed;

/// The theme used unless another is asked for.
pub const DEFAULT_NAME: &str = "classic";

/// The built-in themes: name and TOML source.
const BUILTIN: &[(&str, &str)] = &[
    ("classic", include_str!("../../themes/classic.toml")),
    ("modern", include_str!("../../themes/modern.toml")),
    ("newspaper", include_str!("../../themes/newspaper.toml")),
    ("large-print", include_str!("../../themes/large-print.toml")),
];

/// Why a theme could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// Neither a built-in name nor a readable file.
    #[error("unknown theme '{0}' (built-in themes: {list}; user themes: NAME.toml in {dir}; or give a path to a .toml file)", list = builtin_names().join(", "), dir = source::user_dir_display())]
    Unknown(String),
    /// `extends` names a theme that does not exist.
    #[error("{origin}: extends = \"{target}\": unknown theme (built-in themes: {list}; user themes in {dir}; or a path relative to this file)", list = builtin_names().join(", "), dir = source::user_dir_display())]
    UnknownParent {
        /// The theme file that says `extends`.
        origin: String,
        /// The name or path it gives.
        target: String,
    },
    /// Themes extend each other in a loop, or the chain is too long.
    #[error("{origin}: extends: {message}")]
    Chain {
        /// The theme file whose `extends` closes the loop or goes too deep.
        origin: String,
        /// The chain, as `a → b → a`.
        message: String,
    },
    /// The theme file could not be read.
    #[error("{path}: cannot read theme: {source}")]
    Io {
        /// The theme file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The TOML does not parse or names unknown keys or bad values.
    #[error("{origin}: {message}")]
    Invalid {
        /// The theme file or built-in name.
        origin: String,
        /// The parser's message, with line and key.
        message: String,
    },
    /// A font file named by the theme is missing.
    #[error("{origin}: font file '{path}' (key {key}) not found")]
    MissingFont {
        /// The theme file or built-in name.
        origin: String,
        /// The theme key that names the font.
        key: String,
        /// The path as written.
        path: String,
    },
}

/// A complete theme.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// Short name, as given to `--theme`.
    pub name: String,
    /// One line for `galley themes`.
    pub description: String,
    /// Font families per role.
    pub fonts: Fonts,
    /// Body text.
    pub text: TextStyle,
    /// Section headings.
    pub headings: HeadingStyle,
    /// Colours, as `#rrggbb`.
    pub colors: Colors,
    /// PDF page geometry, columns, running heads and feet.
    pub page: PageStyle,
    /// The title block: kicker, title, subtitle, byline, date, source.
    #[serde(default)]
    pub title: TitleStyle,
    /// Block quotes.
    #[serde(default)]
    pub quote: QuoteStyle,
    /// Code blocks and inline code.
    #[serde(default)]
    pub code: CodeStyle,
    /// Tables.
    #[serde(default)]
    pub table: TableStyle,
    /// Figures and their captions.
    #[serde(default)]
    pub figure: FigureStyle,
    /// EPUB-only settings.
    #[serde(default)]
    pub epub: EpubStyle,
    /// Folder of the theme file, for relative font paths; `None` for built-ins.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

/// Font families by role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fonts {
    /// Running text.
    pub body: FontFamily,
    /// Headings; the body family when absent.
    #[serde(default)]
    pub heading: Option<FontFamily>,
    /// Code.
    pub mono: FontFamily,
    /// Families tried, in order, for characters the others lack.
    #[serde(default)]
    pub fallbacks: Vec<FontFamily>,
}

/// One family: a name and up to four faces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FontFamily {
    /// Family name, as CSS and PDF font names show it.
    pub family: String,
    /// CSS generic family to fall back to: `serif`, `sans-serif` or `monospace`.
    pub generic: String,
    /// Upright regular face (required).
    pub regular: String,
    /// Italic face.
    #[serde(default)]
    pub italic: Option<String>,
    /// Bold face.
    #[serde(default)]
    pub bold: Option<String>,
    /// Bold italic face.
    #[serde(default)]
    pub bold_italic: Option<String>,
}

/// Which face of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaceStyle {
    /// Upright, normal weight.
    Regular,
    /// Italic, normal weight.
    Italic,
    /// Upright, bold.
    Bold,
    /// Italic, bold.
    BoldItalic,
}

impl FaceStyle {
    /// All four, in a fixed order.
    pub const ALL: [FaceStyle; 4] = [
        FaceStyle::Regular,
        FaceStyle::Italic,
        FaceStyle::Bold,
        FaceStyle::BoldItalic,
    ];

    /// Whether this face is bold.
    pub fn is_bold(self) -> bool {
        matches!(self, FaceStyle::Bold | FaceStyle::BoldItalic)
    }

    /// Whether this face is italic.
    pub fn is_italic(self) -> bool {
        matches!(self, FaceStyle::Italic | FaceStyle::BoldItalic)
    }

    /// Styles to use, best first, when a family lacks this one: weight matters more than
    /// slant, and the regular face comes last.
    pub fn preference(self) -> &'static [FaceStyle] {
        match self {
            FaceStyle::Regular => &[FaceStyle::Regular],
            FaceStyle::Italic => &[FaceStyle::Italic, FaceStyle::Regular],
            FaceStyle::Bold => &[FaceStyle::Bold, FaceStyle::Regular],
            FaceStyle::BoldItalic => &[
                FaceStyle::BoldItalic,
                FaceStyle::Bold,
                FaceStyle::Italic,
                FaceStyle::Regular,
            ],
        }
    }

    /// Short name used in file names and keys.
    pub fn key(self) -> &'static str {
        match self {
            FaceStyle::Regular => "regular",
            FaceStyle::Italic => "italic",
            FaceStyle::Bold => "bold",
            FaceStyle::BoldItalic => "bold_italic",
        }
    }
}

impl FontFamily {
    /// The path of one face, if the family has it.
    pub fn face(&self, style: FaceStyle) -> Option<&str> {
        match style {
            FaceStyle::Regular => Some(&self.regular),
            FaceStyle::Italic => self.italic.as_deref(),
            FaceStyle::Bold => self.bold.as_deref(),
            FaceStyle::BoldItalic => self.bold_italic.as_deref(),
        }
    }
}

/// How paragraphs are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParagraphStyle {
    /// First-line indent, no space between (books).
    Indent,
    /// Space between, no indent (web, manuals).
    Space,
}

/// Horizontal alignment of headings and title blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockAlign {
    /// Flush left.
    Left,
    /// Centred.
    Center,
}

/// Body text settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextStyle {
    /// Size in points (PDF); EPUB text keeps the reader's chosen size.
    pub size: f32,
    /// Line height as a multiple of the size.
    pub leading: f32,
    /// Indented or spaced paragraphs.
    pub paragraph: ParagraphStyle,
    /// First-line indent in em.
    pub indent: f32,
    /// Justified (true) or ragged right.
    pub justify: bool,
    /// Hyphenate words to even out lines.
    pub hyphenate: bool,
    /// Lines a drop cap on the first paragraph spans (0: no drop cap; at most 5).
    #[serde(default)]
    pub drop_cap: u8,
}

/// Heading settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadingStyle {
    /// Sizes in em for levels 1–6.
    pub sizes: [f32; 6],
    /// Bold (true) or the regular weight.
    pub bold: bool,
    /// Set in small capitals.
    #[serde(default)]
    pub small_caps: bool,
    /// Left or centred.
    pub align: BlockAlign,
    /// Space above a heading, in em.
    pub space_before: f32,
    /// Space below a heading, in em.
    pub space_after: f32,
    /// Number sections (1, 1.1, 1.1.1) in both outputs.
    #[serde(default)]
    pub numbered: bool,
}

/// Theme colours as `#rrggbb` strings (checked when the theme loads).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colors {
    /// Running text.
    pub text: String,
    /// Page background.
    pub background: String,
    /// Headings.
    pub heading: String,
    /// Links.
    pub link: String,
    /// Rules and borders.
    pub rule: String,
    /// Kickers, drop caps and other accents.
    pub accent: String,
    /// Generated cover background.
    pub cover_background: String,
    /// Generated cover text.
    pub cover_text: String,
}

/// PDF page geometry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageStyle {
    /// Paper: `a4`, `a5`, `letter`, `6x9` or `WxH` with units.
    pub size: String,
    /// Top margin in mm.
    pub margin_top: f32,
    /// Bottom margin in mm.
    pub margin_bottom: f32,
    /// Inner (binding side) margin in mm.
    pub margin_inner: f32,
    /// Outer margin in mm.
    pub margin_outer: f32,
    /// Text columns: 1 or 2 (the title block spans both).
    #[serde(default = "one")]
    pub columns: u8,
    /// Space between columns in mm.
    #[serde(default = "default_gutter")]
    pub gutter: f32,
    /// Running head on left-hand (even) pages; placeholders `{title}`, `{section}`,
    /// `{author}`, `{page}`; empty for none.
    #[serde(default = "default_header_verso")]
    pub header_verso: String,
    /// Running head on right-hand (odd) pages.
    #[serde(default = "default_header_recto")]
    pub header_recto: String,
    /// Foot line on left-hand pages.
    #[serde(default = "default_footer")]
    pub footer_verso: String,
    /// Foot line on right-hand pages.
    #[serde(default = "default_footer")]
    pub footer_recto: String,
    /// Where heads and feet sit: `center`, `outside` (away from the spine) or `inside`.
    #[serde(default)]
    pub header_align: EdgeAlign,
    /// A thin rule under the running head.
    #[serde(default)]
    pub header_rule: bool,
}

fn one() -> u8 {
    1
}

fn default_gutter() -> f32 {
    6.0
}

fn default_header_verso() -> String {
    "{title}".into()
}

fn default_header_recto() -> String {
    "{section}".into()
}

fn default_footer() -> String {
    "{page}".into()
}

/// Placement of running heads and feet across a spread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeAlign {
    /// Centred on the text block.
    #[default]
    Center,
    /// At the outer edge: left on left-hand pages, right on right-hand pages.
    Outside,
    /// At the spine side.
    Inside,
}

/// How a rule is drawn under the title block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStyle {
    /// No rule.
    None,
    /// A short accent rule.
    #[default]
    Short,
    /// A rule across the whole measure.
    Full,
}

/// The title block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TitleStyle {
    /// Left or centred.
    pub align: BlockAlign,
    /// Title size in em of the body size.
    pub size: f32,
    /// Title in bold.
    pub bold: bool,
    /// Kicker in letter-spaced capitals (else italic).
    pub kicker_caps: bool,
    /// The rule below the block.
    pub rule: RuleStyle,
}

impl Default for TitleStyle {
    fn default() -> Self {
        TitleStyle {
            align: BlockAlign::Left,
            size: 2.2,
            bold: false,
            kicker_caps: true,
            rule: RuleStyle::Short,
        }
    }
}

/// Block quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuoteStyle {
    /// Indent on both sides, in em.
    pub indent: f32,
    /// A vertical rule in the left margin of the quote.
    pub rule: bool,
    /// Set in italic.
    pub italic: bool,
    /// Text size in em.
    pub size: f32,
}

impl Default for QuoteStyle {
    fn default() -> Self {
        QuoteStyle {
            indent: 1.2,
            rule: true,
            italic: false,
            size: 1.0,
        }
    }
}

/// Code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodeStyle {
    /// Code block text size in em.
    pub size: f32,
    /// Code block background, `#rrggbb` or `none`.
    pub background: String,
}

impl Default for CodeStyle {
    fn default() -> Self {
        CodeStyle {
            size: 0.82,
            background: "#f4f1ea".into(),
        }
    }
}

/// Tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TableStyle {
    /// Text size in em.
    pub size: f32,
    /// Shade every other body row with this colour (`#rrggbb`), or `none`.
    pub stripes: String,
}

impl Default for TableStyle {
    fn default() -> Self {
        TableStyle {
            size: 0.88,
            stripes: "none".into(),
        }
    }
}

/// Figures.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FigureStyle {
    /// Caption size in em.
    pub caption_size: f32,
    /// Captions in italic.
    pub caption_italic: bool,
    /// Caption alignment.
    pub caption_align: BlockAlign,
}

impl Default for FigureStyle {
    fn default() -> Self {
        FigureStyle {
            caption_size: 0.9,
            caption_italic: true,
            caption_align: BlockAlign::Center,
        }
    }
}

/// EPUB-only settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpubStyle {
    /// Extra CSS appended after the generated stylesheet.
    #[serde(default)]
    pub css: String,
}

/// Names of the built-in themes.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// A theme being loaded beside other work (see [`Theme::load_beside`]).
pub struct Loading {
    name: String,
    job: Handed<'static, Result<Theme, ThemeError>>,
}

impl Loading {
    /// The name or path being loaded.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The theme, or why it could not be loaded, as [`Theme::load`] gives them.
    pub fn finish(self) -> Result<Theme, ThemeError> {
        self.job.finish()
    }
}

impl Theme {
    /// A theme by path, user theme name or built-in name, with its `extends` chain resolved
    /// (see [`source::Sources::resolve`] for the order).
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        load::load(&source::Sources::from_env(), name_or_path)
    }

    /// Starts loading `name_or_path` as [`Theme::load`] does, on the thread keeping the
    /// other core awake when it is free (see [`crate::warm`]), else when it is asked for.
    pub fn load_beside(name_or_path: &str) -> Loading {
        let name = name_or_path.to_string();
        let asked = name.clone();
        Loading {
            name,
            job: Handed::or_later(move || Theme::load(&asked)),
        }
    }

    /// The default theme: the built-in `classic`, whatever the user's folder holds.
    pub fn default_theme() -> Result<Theme, ThemeError> {
        load::builtin(DEFAULT_NAME)
    }

    /// Parses and checks one complete theme's TOML (no `extends`); `origin` names it in errors.
    pub fn parse(src: &str, origin: &str, dir: Option<PathBuf>) -> Result<Theme, ThemeError> {
        let mut theme: Theme = toml::from_str(src).map_err(|e| ThemeError::Invalid {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        theme.dir = dir;
        theme.validate(origin)
    }

    /// Checks values that TOML types cannot (colours, ranges, font files); `origin` names the
    /// theme in errors. New value checks belong here: every way of loading a theme runs it.
    pub fn validate(self, origin: &str) -> Result<Theme, ThemeError> {
        let theme = self;
        let invalid = |message: String| ThemeError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let c = &theme.colors;
        for (key, value) in [
            ("colors.text", &c.text),
            ("colors.background", &c.background),
            ("colors.heading", &c.heading),
            ("colors.link", &c.link),
            ("colors.rule", &c.rule),
            ("colors.accent", &c.accent),
            ("colors.cover_background", &c.cover_background),
            ("colors.cover_text", &c.cover_text),
        ] {
            if parse_color(value).is_none() {
                return Err(invalid(format!(
                    "{key} = \"{value}\" is not a colour (expected #rrggbb)"
                )));
            }
        }
        if !(4.0..=72.0).contains(&theme.text.size) {
            return Err(invalid(format!(
                "text.size = {} is out of range (4–72 pt)",
                theme.text.size
            )));
        }
        if !(0.8..=4.0).contains(&theme.text.leading) {
            return Err(invalid(format!(
                "text.leading = {} is out of range (0.8–4)",
                theme.text.leading
            )));
        }
        check::check(&theme).map_err(invalid)?;
        for (role, fam) in theme.families() {
            for style in FaceStyle::ALL {
                if let Some(path) = fam.face(style)
                    && fonts::load(path, theme.dir.as_deref()).is_none()
                {
                    return Err(ThemeError::MissingFont {
                        origin: origin.to_string(),
                        key: format!("fonts.{role}.{}", style.key()),
                        path: path.to_string(),
                    });
                }
            }
        }
        Ok(theme)
    }

    /// Every family with its role name.
    pub fn families(&self) -> Vec<(String, &FontFamily)> {
        let mut out = vec![("body".to_string(), &self.fonts.body)];
        if let Some(h) = &self.fonts.heading {
            out.push(("heading".to_string(), h));
        }
        out.push(("mono".to_string(), &self.fonts.mono));
        for (i, f) in self.fonts.fallbacks.iter().enumerate() {
            out.push((format!("fallbacks[{i}]"), f));
        }
        out
    }

    /// The heading family (the body family unless the theme names one).
    pub fn heading_family(&self) -> &FontFamily {
        self.fonts.heading.as_ref().unwrap_or(&self.fonts.body)
    }

    /// The bytes of one face of a family; `None` when the family lacks that face.
    pub fn face_data(&self, family: &FontFamily, style: FaceStyle) -> Option<Cow<'static, [u8]>> {
        fonts::load(family.face(style)?, self.dir.as_deref())
    }
}

/// `#rrggbb` (or `#rgb`) to RGB bytes.
pub fn parse_color(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    let digits: Vec<u8> = hex
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    match digits.as_slice() {
        [r, g, b] => Some([r * 17, g * 17, b * 17]),
        [r1, r2, g1, g2, b1, b2] => Some([r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_theme_loaded_beside_is_the_theme_loaded_here() {
        let _ = crate::warm::start();
        let beside = Theme::load_beside("classic");
        assert_eq!(beside.name(), "classic");
        let here = Theme::load("classic").expect("classic loads");
        let beside = beside.finish().expect("classic loads beside");
        assert_eq!(format!("{beside:?}"), format!("{here:?}"));
        let missing = Theme::load_beside("no-such-theme-anywhere").finish();
        let expected = Theme::load("no-such-theme-anywhere");
        assert_eq!(
            missing.map(|_| ()).map_err(|e| e.to_string()),
            expected.map(|_| ()).map_err(|e| e.to_string())
        );
        crate::warm::done();
    }

    #[test]
    fn builtins_load_with_fonts() {
        for name in builtin_names() {
            let t = load::builtin(name).expect(name);
            for (_, fam) in t.families() {
                assert!(t.face_data(fam, FaceStyle::Regular).is_some());
            }
        }
    }

    #[test]
    fn bad_values_name_the_key() {
        let src = include_str!("../../themes/classic.toml").replace("#1f4e79", "blue");
        let err = Theme::parse(&src, "t.toml", None).unwrap_err().to_string();
        assert!(err.contains("colors.link"), "{err}");
        let src = format!(
            "{}\n[extra]\nx = 1\n",
            include_str!("../../themes/classic.toml")
        );
        let err = Theme::parse(&src, "t.toml", None).unwrap_err().to_string();
        assert!(err.contains("t.toml") && err.contains("extra"), "{err}");
        assert!(matches!(
            Theme::load("no-such-theme"),
            Err(ThemeError::Unknown(_))
        ));
    }

    #[test]
    fn colors_parse() {
        assert_eq!(parse_color("#fff"), Some([255, 255, 255]));
        assert_eq!(parse_color("#1f4e79"), Some([0x1f, 0x4e, 0x79]));
        assert_eq!(parse_color("1f4e79"), None);
    }
}
