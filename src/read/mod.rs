//! Readers: source bytes to the document model.
//!
//! Every source is decoded to text first ([`decode`]), then handed to the reader for its
//! format. Readers only build the model; they never write output.

pub mod decode;
pub mod front_matter;
pub mod html;
pub mod markdown;
pub mod text;

use std::path::{Path, PathBuf};

use crate::limits::{LimitError, Limits};
use crate::model::{Block, Document};

/// Input formats galley reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark + GFM with optional front matter.
    Markdown,
    /// Plain text: copied news articles, Project Gutenberg books.
    Text,
    /// A saved web page: the article is extracted, navigation and clutter dropped.
    Html,
}

impl Format {
    /// The format a file name implies, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" | "mdown" | "mkd" | "mkdn" | "mdwn" | "mdtxt" | "mdtext" | "rmd" => {
                Some(Format::Markdown)
            }
            "txt" | "text" => Some(Format::Text),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            _ => None,
        }
    }

    /// Parses a `--from` value.
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "md" | "markdown" | "commonmark" | "gfm" => Some(Format::Markdown),
            "txt" | "text" | "plain" => Some(Format::Text),
            "html" | "htm" | "web" => Some(Format::Html),
            _ => None,
        }
    }
}

/// Why a source could not be read. Every variant names the source.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{name}: cannot read: {source}")]
    Io {
        /// The source as the user named it.
        name: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A directory was given where a file was expected.
    #[error("{name}: is a directory, not a file")]
    Directory {
        /// The source as the user named it.
        name: String,
    },
    /// The file is empty or only whitespace.
    #[error("{name}: is empty; there is nothing to convert")]
    Empty {
        /// The source as the user named it.
        name: String,
    },
    /// The bytes are not text.
    #[error("{name}: {source}")]
    Decode {
        /// The source as the user named it.
        name: String,
        /// Why decoding failed.
        source: decode::DecodeError,
    },
    /// The extension names no format galley reads.
    #[error(
        "{name}: unknown input format (galley reads .md/.markdown and .txt; use --from to choose)"
    )]
    UnknownFormat {
        /// The source as the user named it.
        name: String,
    },
    /// The Markdown reader failed (bad front matter).
    #[error("{name}: {source}")]
    Markdown {
        /// The source as the user named it.
        name: String,
        /// The reader's error, with its line.
        source: markdown::MarkdownError,
    },
    /// The source exceeds a limit (input size, table size).
    #[error("{name}: {source}")]
    Limit {
        /// The source as the user named it.
        name: String,
        /// Which limit, and by how much (boxed: errors stay small).
        source: Box<LimitError>,
    },
    /// The HTML reader failed (no article found, absurd nesting).
    #[error("{name}: {source}")]
    Html {
        /// The source as the user named it.
        name: String,
        /// The reader's error.
        source: html::HtmlError,
    },
}

/// How to read a source.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Format, overriding what the file name implies.
    pub format: Option<Format>,
    /// Keep a web page's whole body instead of extracting the article (`--no-extract`).
    pub no_extract: bool,
    /// Input size and table size limits.
    pub limits: Limits,
}

/// A source read into the model, with what is needed to find its images.
#[derive(Debug, Clone)]
pub struct Source {
    /// The source as the user named it (for messages).
    pub name: String,
    /// The file, when read from disk.
    pub path: Option<PathBuf>,
    /// Folder that relative image paths are resolved against.
    pub base_dir: Option<PathBuf>,
    /// Folders besides `base_dir`'s site that local images may come from (for a book: the
    /// site folder of every article in it).
    pub image_dirs: Vec<PathBuf>,
    /// The URL the source was fetched from (after redirects), for web pages read over HTTP.
    pub url: Option<String>,
    /// The charset the bytes were decoded from.
    pub encoding: &'static str,
    /// The document.
    pub document: Document,
}

/// Reads a file; `format` overrides the one its extension implies.
pub fn read_file(path: &Path, format: Option<Format>) -> Result<Source, ReadError> {
    read_file_with(
        path,
        &ReadOptions {
            format,
            ..Default::default()
        },
    )
}

/// Reads a file with all reading options.
pub fn read_file_with(path: &Path, opts: &ReadOptions) -> Result<Source, ReadError> {
    let format = opts.format;
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| ReadError::Io {
        name: name.clone(),
        source,
    })?;
    if meta.is_dir() {
        return Err(ReadError::Directory { name });
    }
    let format = format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| ReadError::UnknownFormat { name: name.clone() })?;
    check_input_size(&name, meta.len(), &opts.limits)?;
    // Read at most one byte past the limit: the file may grow (or be a device) after
    // `metadata`, and nothing past the limit is ever held in memory. Room for the size
    // `metadata` gave (and the end-of-file read) saves `take`'s reads of doubling size.
    let expected = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    let mut bytes = Vec::with_capacity(expected.min(1 << 26));
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(opts.limits.max_input_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(|source| ReadError::Io {
            name: name.clone(),
            source,
        })?;
    let base_dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .map(Path::to_path_buf);
    let mut source = read_bytes_with(&name, &bytes, format, opts)?;
    source.path = Some(path.to_path_buf());
    source.base_dir = base_dir;
    Ok(source)
}

/// Reads bytes already in memory (e.g. standard input); `name` is used in messages.
pub fn read_bytes(name: &str, bytes: &[u8], format: Format) -> Result<Source, ReadError> {
    read_bytes_with(name, bytes, format, &ReadOptions::default())
}

/// [`read_bytes`] with all reading options.
pub fn read_bytes_with(
    name: &str,
    bytes: &[u8],
    format: Format,
    opts: &ReadOptions,
) -> Result<Source, ReadError> {
    read_decoded(name, bytes, format, opts, None, None)
}

/// Refuses a source larger than the input size limit.
fn check_input_size(name: &str, len: u64, limits: &Limits) -> Result<(), ReadError> {
    if len > limits.max_input_bytes {
        return Err(ReadError::Limit {
            name: name.to_string(),
            source: Box::new(LimitError::bytes(
                "the input",
                len,
                "input size",
                limits.max_input_bytes,
                "--max-input-size",
            )),
        });
    }
    Ok(())
}

/// Refuses a document with a table larger than the table size limit. Checked on the
/// model, after reading, so every reader is covered by one rule.
fn check_tables(name: &str, blocks: &[Block], limits: &Limits) -> Result<(), ReadError> {
    // The model's nesting is bounded by the readers' depth limits, so recursion is safe.
    for block in blocks {
        match block {
            Block::Table(t) => {
                let rows = t.rows.len() + usize::from(t.header.is_some());
                let cols = t
                    .rows
                    .iter()
                    .chain(t.header.iter())
                    .map(Vec::len)
                    .max()
                    .unwrap_or(0);
                let cells = rows.saturating_mul(cols);
                if cells > limits.max_table_cells {
                    return Err(ReadError::Limit {
                        name: name.to_string(),
                        source: Box::new(LimitError::count(
                            &format!("a table of {rows} rows × {cols} columns"),
                            format!("{cells} cells"),
                            "table size",
                            format!("{} cells", limits.max_table_cells),
                            "--max-table-cells",
                        )),
                    });
                }
            }
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                check_tables(name, blocks, limits)?;
            }
            Block::List(list) => {
                for item in &list.items {
                    check_tables(name, &item.blocks, limits)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A page fetched over HTTP, as the reader needs it.
#[derive(Debug, Clone, Copy)]
pub struct WebPage<'a> {
    /// The final URL (after redirects): names the source and resolves relative links.
    pub url: &'a str,
    /// The body.
    pub bytes: &'a [u8],
    /// The `charset` of the `Content-Type` header, if any.
    pub charset: Option<&'a str>,
    /// The media type of the `Content-Type` header (`text/html`), if any.
    pub media_type: Option<&'a str>,
}

impl Format {
    /// The format a `Content-Type` media type implies; `None` for HTML and unknown types,
    /// which are read as HTML.
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        match media_type.trim().to_ascii_lowercase().as_str() {
            "text/plain" => Some(Format::Text),
            "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// Reads a fetched web page. The charset is the HTTP header's, else the BOM's or
/// `<meta charset>`'s, else a guess; the format is `--from`'s, else the media type's, else HTML.
pub fn read_web(page: &WebPage, opts: &ReadOptions) -> Result<Source, ReadError> {
    let format = opts
        .format
        .or_else(|| page.media_type.and_then(Format::from_media_type))
        .unwrap_or(Format::Html);
    let mut source = read_decoded(
        page.url,
        page.bytes,
        format,
        opts,
        page.charset,
        Some(page.url),
    )?;
    source.url = Some(page.url.to_string());
    Ok(source)
}

/// Decodes (with the header charset `http_charset`, if any) and reads; `url` is the page's
/// address for resolving relative references in HTML.
fn read_decoded(
    name: &str,
    bytes: &[u8],
    format: Format,
    opts: &ReadOptions,
    http_charset: Option<&str>,
    url: Option<&str>,
) -> Result<Source, ReadError> {
    check_input_size(name, bytes.len() as u64, &opts.limits)?;
    // A label encoding_rs does not know is no declaration; the page's own may still be.
    let http_charset =
        http_charset.filter(|c| encoding_rs::Encoding::for_label(c.trim().as_bytes()).is_some());
    let declared = match (http_charset, format) {
        (Some(c), _) => Some(c.to_string()),
        (None, Format::Html) => html::declared_charset(bytes),
        _ => None,
    };
    let decoded = decode::decode_with_hint(bytes, declared.as_deref()).map_err(|source| {
        ReadError::Decode {
            name: name.to_string(),
            source,
        }
    })?;
    if decoded.text.trim().is_empty() {
        return Err(ReadError::Empty {
            name: name.to_string(),
        });
    }
    let document = match format {
        Format::Markdown => {
            markdown::read(&decoded.text).map_err(|source| ReadError::Markdown {
                name: name.to_string(),
                source,
            })?
        }
        Format::Text => text::read(&decoded.text),
        Format::Html => {
            let options = html::HtmlOptions {
                extract: !opts.no_extract,
                url: url.map(str::to_string),
            };
            html::read(&decoded.text, &options).map_err(|source| ReadError::Html {
                name: name.to_string(),
                source,
            })?
        }
    };
    check_tables(name, &document.blocks, &opts.limits)?;
    Ok(Source {
        name: name.to_string(),
        path: None,
        base_dir: None,
        image_dirs: Vec::new(),
        url: None,
        encoding: decoded.encoding,
        document,
    })
}
