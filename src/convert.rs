//! One conversion from start to finish: read, apply overrides, load images, write.

use std::path::{Path, PathBuf};

use crate::assets::{self, Assets, ImageOptions, process};
use crate::fetch::{FetchError, Fetcher};
use crate::layout::paper::PaperSize;
use crate::layout::{self, LayoutError, LayoutOptions};
use crate::limits::{LimitError, Limits};
use crate::model::{Document, date};
use crate::read::{self, Format, ReadError, Source, WebPage};
use crate::theme::Theme;
use crate::write::epub::{self, EpubError, EpubOptions};
use crate::write::output::{self, Output, OutputError};
use crate::write::pdf::{self, PdfError, PdfInfo};

/// Output formats galley writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// EPUB 3.
    Epub,
    /// Typeset PDF for print.
    Pdf,
}

impl OutputFormat {
    /// The format a file name implies, if any.
    pub fn from_path(path: &Path) -> Option<OutputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        OutputFormat::from_name(&ext)
    }

    /// Parses a `--to` value.
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        match name.to_ascii_lowercase().as_str() {
            "epub" | "epub3" => Some(OutputFormat::Epub),
            "pdf" => Some(OutputFormat::Pdf),
            _ => None,
        }
    }

    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Epub => "epub",
            OutputFormat::Pdf => "pdf",
        }
    }

    /// Parses a `--to` list such as `epub,pdf` (duplicates removed, order kept).
    pub fn parse_list(list: &str) -> Option<Vec<OutputFormat>> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let f = OutputFormat::from_name(name)?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

/// Metadata given on the command line; each field replaces what the source says.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--title`.
    pub title: Option<String>,
    /// `--author`, repeatable.
    pub authors: Vec<String>,
    /// `--lang`.
    pub language: Option<String>,
    /// `--date`.
    pub date: Option<String>,
    /// `--cover`.
    pub cover: Option<PathBuf>,
}

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// Reading the source failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Fetching a web page failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// An override was unusable.
    #[error("{0}")]
    BadOption(String),
    /// Writing the EPUB failed.
    #[error("{name}: {source}")]
    Epub {
        /// The source being converted.
        name: String,
        /// What went wrong.
        source: EpubError,
    },
    /// Typesetting for PDF failed.
    #[error("{name}: {source}")]
    Layout {
        /// The source being converted.
        name: String,
        /// What went wrong.
        source: LayoutError,
    },
    /// Writing the PDF failed.
    #[error("{name}: {source}")]
    Pdf {
        /// The source being converted.
        name: String,
        /// What went wrong.
        source: PdfError,
    },
    /// The output file could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The output would exceed a limit.
    #[error("{name}: {source}")]
    Limit {
        /// The source being converted.
        name: String,
        /// Which limit, and by how much (boxed: errors stay small).
        source: Box<LimitError>,
    },
}

/// Applies command-line metadata to a document.
pub fn apply_overrides(doc: &mut Document, o: &Overrides) -> Result<(), ConvertError> {
    if let Some(t) = &o.title {
        doc.meta.title = Some(t.clone());
    }
    if !o.authors.is_empty() {
        doc.meta.authors = o.authors.clone();
    }
    if let Some(l) = &o.language {
        let tag = epub::valid_language(l).ok_or_else(|| {
            ConvertError::BadOption(format!(
                "--lang '{l}' is not a BCP 47 language tag (e.g. en, fr, pt-BR)"
            ))
        })?;
        doc.meta.language = Some(tag);
    }
    if let Some(d) = &o.date {
        let iso = date::normalize(d).ok_or_else(|| {
            ConvertError::BadOption(format!("--date '{d}' is not a date (use YYYY-MM-DD)"))
        })?;
        doc.meta.date = Some(iso);
    }
    Ok(())
}

/// Everything one conversion needs besides the source.
pub struct Settings<'a> {
    /// The theme.
    pub theme: &'a Theme,
    /// Metadata overrides.
    pub overrides: &'a Overrides,
    /// `SOURCE_DATE_EPOCH`, if set.
    pub source_date_epoch: Option<i64>,
    /// Contents depth.
    pub toc_depth: u8,
    /// Paper size for PDF, overriding the theme's (`--paper`).
    pub paper: Option<PaperSize>,
    /// Whether the PDF gets a contents list.
    pub contents: layout::ContentsMode,
    /// In a book's PDF, start every article on a right-hand page.
    pub recto: bool,
    /// Client for remote images; `None` is offline (`--offline`).
    pub fetcher: Option<&'a Fetcher>,
    /// Convert every image to grayscale (`--grayscale`).
    pub grayscale: bool,
    /// Resource limits.
    pub limits: Limits,
    /// Folders besides each article's own that its local images may come from
    /// (`--allow-path`).
    pub allowed_dirs: &'a [PathBuf],
}

/// Reads a source from a path (or standard input for `-` with its bytes given).
pub fn read_input(
    path: &Path,
    stdin: Option<&[u8]>,
    opts: &read::ReadOptions,
) -> Result<Source, ReadError> {
    match stdin {
        Some(bytes) => {
            let format = opts.format.unwrap_or(Format::Markdown);
            let mut s = read::read_bytes_with("<stdin>", bytes, format, opts)?;
            s.base_dir = std::env::current_dir().ok();
            Ok(s)
        }
        None => read::read_file_with(path, opts),
    }
}

/// Fetches a web page (`fetcher` `None` means offline: an error) and reads it. The page's
/// final URL resolves its links and images; `retrieved` (Unix seconds, e.g. from
/// `SOURCE_DATE_EPOCH`) becomes the retrieval date shown on the title block.
pub fn read_url(
    url: &str,
    fetcher: Option<&Fetcher>,
    opts: &read::ReadOptions,
    retrieved: i64,
) -> Result<Source, ConvertError> {
    let fetcher = fetcher.ok_or_else(|| FetchError::Offline {
        url: url.to_string(),
    })?;
    let page = fetcher.page(url)?;
    let charset = page.charset();
    let media_type = page.media_type();
    let web = WebPage {
        url: &page.url,
        bytes: &page.body,
        charset: charset.as_deref(),
        media_type: media_type.as_deref(),
    };
    let mut source = read::read_web(&web, opts)?;
    let meta = &mut source.document.meta;
    if meta.source_url.is_none() {
        meta.source_url = Some(page.url.clone());
    }
    let day = date::DateTime {
        time: None,
        ..date::DateTime::from_unix(retrieved)
    };
    meta.retrieved = Some(day.to_iso());
    Ok(source)
}

/// A written output: its bytes, and its page count for PDF.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The file's contents.
    pub bytes: Vec<u8>,
    /// Pages, for a PDF.
    pub pages: Option<usize>,
}

/// Converts a read source and returns the output; warnings are appended to `warnings`.
pub fn render(
    source: Source,
    format: OutputFormat,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Rendered, ConvertError> {
    render_into(source, format, settings, warnings, None).map(|(_, rendered)| rendered)
}

/// [`render`] into `out`, left for the caller to commit once it is complete; the length
/// written and the page count for PDF. An EPUB is written as it is made (see
/// [`epub::write_to`]), a PDF once finished.
pub fn render_to(
    source: Source,
    format: OutputFormat,
    settings: &Settings,
    warnings: &mut Vec<String>,
    out: &mut Output,
) -> Result<(u64, Option<usize>), ConvertError> {
    let (len, rendered) = render_into(source, format, settings, warnings, Some(out))?;
    if matches!(format, OutputFormat::Pdf) {
        // A PDF is made whole, then written.
        out.write_all(&rendered.bytes)?;
    }
    Ok((len, rendered.pages))
}

/// [`render`], with the output's length; an EPUB goes into `out` if given (its bytes then
/// come back empty).
fn render_into(
    mut source: Source,
    format: OutputFormat,
    settings: &Settings,
    warnings: &mut Vec<String>,
    out: Option<&mut Output>,
) -> Result<(u64, Rendered), ConvertError> {
    apply_overrides(&mut source.document, settings.overrides)?;
    let doc = &source.document;
    let max_side = match format {
        OutputFormat::Epub => process::EPUB_MAX_SIDE,
        OutputFormat::Pdf => process::PDF_MAX_SIDE,
    };
    let image_opts = ImageOptions {
        fetcher: settings.fetcher,
        no_local_files: source.url.is_some(),
        max_side: Some(max_side),
        grayscale: settings.grayscale,
        limits: settings.limits,
        allowed_dirs: settings.allowed_dirs,
    };
    let mut allowed_dirs = settings.allowed_dirs.to_vec();
    allowed_dirs.extend(source.image_dirs.iter().cloned());
    let image_opts = ImageOptions {
        allowed_dirs: &allowed_dirs,
        ..image_opts
    };
    let assets = Assets::load_with(
        doc,
        source.base_dir.as_deref(),
        &source.name,
        &image_opts,
        warnings,
    );
    // A cover fills the screen: it keeps the size galley draws its own at.
    let cover_side = match format {
        OutputFormat::Epub => process::EPUB_COVER_MAX_SIDE,
        OutputFormat::Pdf => max_side,
    };
    let cover = match &settings.overrides.cover {
        Some(path) => Some(
            assets::load_image(&path.to_string_lossy(), None)
                .and_then(|a| process::adjust(a, Some(cover_side), settings.grayscale))
                .map_err(|why| {
                    ConvertError::BadOption(format!("--cover {}: image {why}", path.display()))
                })?,
        ),
        None => None,
    };
    // Writers do not know the source's name; their warnings get it here.
    let mut writer_warnings = Vec::new();
    let warnings_out = warnings;
    let warnings = &mut writer_warnings;
    let result = match format {
        OutputFormat::Epub => {
            let opts = EpubOptions {
                modified: settings.source_date_epoch,
                cover,
                toc_depth: settings.toc_depth,
            };
            let written = match out {
                Some(out) => epub::write_to(doc, &assets, settings.theme, &opts, warnings, out)
                    .map(|len| (len, Vec::new())),
                None => epub::write(doc, &assets, settings.theme, &opts, warnings)
                    .map(|bytes| (bytes.len() as u64, bytes)),
            };
            written
                .map(|(len, bytes)| (len, Rendered { bytes, pages: None }))
                .map_err(|e| match e {
                    EpubError::Output(e) => ConvertError::Output(e),
                    e => ConvertError::Epub {
                        name: source.name.clone(),
                        source: e,
                    },
                })
        }
        OutputFormat::Pdf => {
            let _ = cover;
            // The layout ends the waking: it sets an article's second half on the core
            // kept awake (see `layout::flow`), or has nothing for it.
            render_pdf(doc, &assets, &source.name, settings, warnings)
                .map(|rendered| (rendered.bytes.len() as u64, rendered))
        }
    };
    warnings_out.extend(
        writer_warnings
            .into_iter()
            .map(|w| format!("{}: {w}", source.name)),
    );
    let (len, rendered) = result?;
    check_output_size(&source.name, len, &settings.limits)?;
    Ok((len, rendered))
}

/// Refuses an output of `len` bytes if larger than the output size limit, before it is
/// saved under its name.
pub fn check_output_size(name: &str, len: u64, limits: &Limits) -> Result<(), ConvertError> {
    if len > limits.max_output_bytes {
        return Err(ConvertError::Limit {
            name: name.to_string(),
            source: Box::new(LimitError::bytes(
                "the output",
                len,
                "output size",
                limits.max_output_bytes,
                "--max-output-size",
            )),
        });
    }
    Ok(())
}

/// Typesets and writes one document as PDF.
fn render_pdf(
    doc: &Document,
    assets: &Assets,
    name: &str,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Rendered, ConvertError> {
    let opts = LayoutOptions {
        paper: settings.paper,
        contents: settings.contents,
        toc_depth: settings.toc_depth,
        recto: settings.recto,
    };
    let laid = layout::typeset(doc, assets, settings.theme, &opts, warnings).map_err(|e| {
        ConvertError::Layout {
            name: name.to_string(),
            source: e,
        }
    })?;
    let meta = &doc.meta;
    let title = meta
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("Untitled");
    let language = meta
        .language
        .as_deref()
        .and_then(crate::model::language_tag)
        .unwrap_or_else(|| "en".to_string());
    let info = PdfInfo {
        title,
        authors: &meta.authors,
        subject: meta.description.as_deref(),
        keywords: &meta.tags,
        language: &language,
        created: date::stamp(settings.source_date_epoch, doc.meta.date.as_deref()),
    };
    let pages = laid.pages.len();
    pdf::write_pdf(laid, assets.items(), &info, warnings)
        .map(|bytes| Rendered {
            bytes,
            pages: Some(pages),
        })
        .map_err(|e| ConvertError::Pdf {
            name: name.to_string(),
            source: e,
        })
}

/// Writes the output safely (temporary file, then rename; never over an input).
pub fn save(path: &Path, bytes: &[u8], inputs: &[PathBuf]) -> Result<(), ConvertError> {
    Ok(output::write_atomic(path, bytes, inputs)?)
}
