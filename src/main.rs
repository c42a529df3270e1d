//! The `galley` command line.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use galley::convert::{self, OutputFormat, Overrides, Settings};
use galley::fetch::{self, FetchOptions, Fetcher};
use galley::layout::paper::PaperSize;
use galley::read::{Format, Source};
use galley::theme::source::{Origin, Sources};
use galley::theme::{self, Theme};

/// Turn articles into e-books and print: Markdown, plain-text news articles and books in, EPUB 3 and typeset PDF out.
#[derive(Parser)]
#[command(name = "galley", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  galley convert post.md                 writes post.epub next to post.md\n  galley convert https://example.com/story   fetches the article, writes <title>.epub\n  galley convert story.txt -o story.epub --title \"A Better Title\"\n  galley convert post.md -o post.pdf --paper a4   typeset for print\n  galley convert post.md --to epub,pdf        writes post.epub and post.pdf\n  cat post.md | galley convert - -o post.epub\n  galley dump --json post.md             prints the document model\n  galley themes                          lists the themes\n  galley theme new mine                  writes mine.toml, a starter theme to edit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert articles to EPUB and/or PDF.
    Convert(Box<ConvertArgs>),
    /// Print the document model that an input is read into.
    Dump(DumpArgs),
    /// List the available themes: built-in and the user's own.
    Themes,
    /// Make and manage theme files.
    #[command(subcommand)]
    Theme(ThemeCommand),
}

#[derive(Subcommand)]
enum ThemeCommand {
    /// Write NAME.toml here: a commented starter theme that extends `classic`.
    New {
        /// The theme's name (letters, digits, '-', '_').
        name: String,
    },
}

#[derive(Args)]
struct ConvertArgs {
    /// Input files (.md, .markdown, .txt, .html) or web addresses (http://, https://); `-` reads standard input (Markdown unless --from says otherwise).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output file; its extension (.epub, .pdf) picks the format. Default: the input's name with .epub, next to the input.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format(s): epub, pdf, or both as `epub,pdf` (written next to each other).
    #[arg(long, value_name = "FORMAT")]
    to: Option<String>,
    /// Paper size for PDF, overriding the theme's: a4, a5, letter, 6x9, or WxH with units (150x220mm).
    #[arg(long, value_name = "SIZE")]
    paper: Option<String>,
    /// Input format, overriding the file extension: markdown, text or html.
    #[arg(long, value_name = "FORMAT")]
    from: Option<String>,
    /// For web pages: keep the whole page body instead of extracting the article.
    #[arg(long)]
    no_extract: bool,
    /// Theme: a name (see `galley themes`: built-in or in your themes folder) or a path to a .toml file.
    #[arg(long, value_name = "NAME|PATH", default_value = "classic")]
    theme: String,
    /// Title, replacing the one found in the source.
    #[arg(long)]
    title: Option<String>,
    /// Author, replacing those found in the source; repeat for several.
    #[arg(long = "author", value_name = "NAME")]
    authors: Vec<String>,
    /// Language as a BCP 47 tag (en, fr, pt-BR), replacing the source's.
    #[arg(long, value_name = "TAG")]
    lang: Option<String>,
    /// Publication date (YYYY-MM-DD), replacing the source's.
    #[arg(long)]
    date: Option<String>,
    /// Cover image (PNG, JPEG, GIF or WebP); without one, galley draws a typographic cover.
    #[arg(long, value_name = "FILE")]
    cover: Option<PathBuf>,
    /// Heading levels listed in the table of contents.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=6))]
    toc_depth: u8,
    /// Contents list in the PDF: auto (long documents with three or more sections),
    /// always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    contents: String,
    /// In a book's PDF, start every article on a right-hand page.
    #[arg(long)]
    recto: bool,
    /// No network access: web address inputs are errors, remote images show their alt text.
    #[arg(long)]
    offline: bool,
    /// Allow fetching from loopback, private and link-local addresses (refused by default).
    #[arg(long)]
    allow_private: bool,
    /// Convert every image to grayscale (for e-ink readers).
    #[arg(long)]
    grayscale: bool,
    /// Print no warnings.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
struct DumpArgs {
    /// Print the model as JSON (the only format for now; accepted for clarity).
    #[arg(long)]
    json: bool,
    /// Input format, overriding the file extension: markdown, text or html.
    #[arg(long, value_name = "FORMAT")]
    from: Option<String>,
    /// For web pages: keep the whole page body instead of extracting the article.
    #[arg(long)]
    no_extract: bool,
    /// The input file, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    input: PathBuf,
}

/// A usage error: exit code 2, like clap's own.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => run_convert(*args),
        Command::Dump(args) => run_dump(args),
        Command::Themes => run_themes(),
        Command::Theme(ThemeCommand::New { name }) => run_theme_new(&name),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut stderr = std::io::stderr();
            // Library errors already quote their cause; print each cause only once.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            let _ = writeln!(stderr, "galley: error: {msg}");
            if e.downcast_ref::<Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn parse_from(from: Option<&str>) -> Result<Option<Format>> {
    from.map(|f| {
        Format::from_name(f).ok_or_else(|| {
            anyhow!(Usage(format!(
                "--from '{f}': unknown input format (markdown, text, html)"
            )))
        })
    })
    .transpose()
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("<stdin>: cannot read")?;
    Ok(buf)
}

fn source_date_epoch() -> Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<i64>().map(Some).map_err(|_| {
            anyhow!(Usage(format!(
                "SOURCE_DATE_EPOCH='{v}' is not a number of seconds"
            )))
        }),
        _ => Ok(None),
    }
}

fn run_convert(args: ConvertArgs) -> Result<()> {
    let from = parse_from(args.from.as_deref())?;
    let to = args
        .to
        .as_deref()
        .map(|t| {
            OutputFormat::parse_list(t).ok_or_else(|| {
                anyhow!(Usage(format!(
                    "--to '{t}': unknown output format (galley writes epub, pdf, or epub,pdf)"
                )))
            })
        })
        .transpose()?;
    let paper = args
        .paper
        .as_deref()
        .map(|p| PaperSize::parse(p).map_err(|e| anyhow!(Usage(format!("--paper: {e}")))))
        .transpose()?;
    if args.inputs.len() > 1 && args.output.is_some() {
        bail!(Usage(
            "combining several inputs into one book is not supported yet; omit -o to convert each input on its own".into()
        ));
    }
    let stdin_count = args.inputs.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 0 && args.output.is_none() {
        bail!(Usage(
            "reading standard input needs -o FILE (or -o - for standard output)".into()
        ));
    }
    if stdin_count > 1 {
        bail!(Usage("standard input (-) can be given only once".into()));
    }
    let theme = Theme::load(&args.theme).map_err(|e| anyhow!(Usage(e.to_string())))?;
    let overrides = Overrides {
        title: args.title.clone(),
        authors: args.authors.clone(),
        language: args.lang.clone(),
        date: args.date.clone(),
        cover: args.cover.clone(),
    };
    let fetcher = (!args.offline).then(|| {
        Fetcher::new(FetchOptions {
            allow_private: args.allow_private,
            ..FetchOptions::default()
        })
    });
    let source_date_epoch = source_date_epoch()?;
    let settings = Settings {
        theme: &theme,
        overrides: &overrides,
        source_date_epoch,
        toc_depth: args.toc_depth,
        recto: args.recto,
        contents: match args.contents.as_str() {
            "always" => galley::layout::ContentsMode::Always,
            "never" => galley::layout::ContentsMode::Never,
            _ => galley::layout::ContentsMode::Auto,
        },
        paper,
        fetcher: fetcher.as_ref(),
        grayscale: args.grayscale,
    };
    let inputs: Vec<PathBuf> = args
        .inputs
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let mut failures = 0;
    for input in &args.inputs {
        let is_stdin = input.as_os_str() == "-";
        let url = input.to_str().filter(|s| fetch::is_web_url(s));
        // A web page's output is named after its title, known only once it is read.
        let outputs = match url {
            Some(_) => None,
            None => Some(output_for(input, args.output.as_deref(), to.as_deref())?),
        };
        let result = (|| -> Result<()> {
            let stdin = if is_stdin { Some(read_stdin()?) } else { None };
            let read_opts = galley::read::ReadOptions {
                format: from,
                no_extract: args.no_extract,
            };
            let source = match url {
                Some(u) => {
                    let now = source_date_epoch.unwrap_or_else(unix_now);
                    convert::read_url(u, settings.fetcher, &read_opts, now)?
                }
                None => convert::read_input(input, stdin.as_deref(), &read_opts)?,
            };
            let outputs = match outputs {
                Some(o) => o,
                None => output_for(
                    &web_output_stem(&source),
                    args.output.as_deref(),
                    to.as_deref(),
                )?,
            };
            let n = outputs.len();
            let mut source = Some(source);
            for (i, (out, format)) in outputs.iter().enumerate() {
                // Each output but the last gets a copy; the last takes the original.
                let src = if i + 1 == n {
                    source.take()
                } else {
                    source.clone()
                };
                if let Some(src) = src {
                    write_one(src, *format, out, &settings, &inputs, args.quiet)?;
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            if args.inputs.len() == 1 {
                return Err(e);
            }
            eprintln!("galley: error: {e:#}");
            failures += 1;
        }
    }
    if failures > 0 {
        bail!("{failures} of {} inputs failed", args.inputs.len());
    }
    Ok(())
}

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Default output path (without extension) for a fetched page, in the current folder:
/// a slug of its title, else of the URL's last path segment, else `article`.
fn web_output_stem(source: &Source) -> PathBuf {
    // Heading ids may not start with a digit; file names may.
    fn slugify(text: &str) -> String {
        let s = galley::model::slug::slugify(text);
        match s.strip_prefix("s-") {
            Some(rest) if rest.starts_with(|c: char| c.is_numeric()) => rest.to_string(),
            _ => s,
        }
    }
    let from_title = source
        .document
        .meta
        .title
        .as_deref()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .map(slugify);
    let from_url = || {
        let url = source.url.as_deref().unwrap_or(&source.name);
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let after_host = path.splitn(4, '/').nth(3).unwrap_or("");
        let last = after_host
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let last = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
        let decoded = galley::assets::percent_decode(last);
        decoded
            .chars()
            .any(char::is_alphanumeric)
            .then(|| slugify(&decoded))
    };
    let stem = from_title
        .or_else(from_url)
        .unwrap_or_else(|| "article".into());
    PathBuf::from(format!("{stem}.html"))
}

/// Converts one source to one format and writes it (`-` for standard output).
fn write_one(
    source: Source,
    format: OutputFormat,
    out: &Path,
    settings: &Settings,
    inputs: &[PathBuf],
    quiet: bool,
) -> Result<()> {
    let mut warnings = Vec::new();
    let bytes = convert::render(source, format, settings, &mut warnings)?;
    if !quiet {
        for w in &warnings {
            eprintln!("galley: warning: {w}");
        }
    }
    if out.as_os_str() == "-" {
        std::io::stdout()
            .write_all(&bytes)
            .context("<stdout>: cannot write")?;
    } else {
        convert::save(out, &bytes, inputs)?;
        if !quiet && std::io::stderr().is_terminal() {
            eprintln!(
                "galley: wrote {} ({} KB)",
                out.display(),
                bytes.len().div_ceil(1024)
            );
        }
    }
    Ok(())
}

/// Where one input's outputs go and in which formats.
fn output_for(
    input: &Path,
    output: Option<&Path>,
    to: Option<&[OutputFormat]>,
) -> Result<Vec<(PathBuf, OutputFormat)>> {
    match output {
        Some(out) if out.as_os_str() == "-" => match to {
            Some([one]) => Ok(vec![(out.to_path_buf(), *one)]),
            Some(_) => bail!(Usage(
                "standard output (-o -) takes one format; give --to epub or --to pdf".into()
            )),
            None => Ok(vec![(out.to_path_buf(), OutputFormat::Epub)]),
        },
        Some(out) => {
            let formats: Vec<OutputFormat> = match (to, OutputFormat::from_path(out)) {
                (Some(t), _) => t.to_vec(),
                (None, Some(f)) => vec![f],
                (None, None) => bail!(Usage(format!(
                    "{}: cannot tell the output format from the name; use --to epub or --to pdf",
                    out.display()
                ))),
            };
            if let [one] = formats.as_slice() {
                return Ok(vec![(out.to_path_buf(), *one)]);
            }
            // Several formats: one file each, next to each other, named after -o.
            let stem = if OutputFormat::from_path(out).is_some() {
                out.with_extension("")
            } else {
                out.to_path_buf()
            };
            Ok(formats
                .into_iter()
                .map(|f| {
                    let mut name = stem.clone().into_os_string();
                    name.push(".");
                    name.push(f.extension());
                    (PathBuf::from(name), f)
                })
                .collect())
        }
        None => {
            let formats = to.map_or_else(|| vec![OutputFormat::Epub], <[_]>::to_vec);
            Ok(formats
                .into_iter()
                .map(|f| (input.with_extension(f.extension()), f))
                .collect())
        }
    }
}

fn run_dump(args: DumpArgs) -> Result<()> {
    let from = parse_from(args.from.as_deref())?;
    let stdin = if args.input.as_os_str() == "-" {
        Some(read_stdin()?)
    } else {
        None
    };
    let read_opts = galley::read::ReadOptions {
        format: from,
        no_extract: args.no_extract,
    };
    let source = convert::read_input(&args.input, stdin.as_deref(), &read_opts)?;
    let json =
        serde_json::to_string_pretty(&source.document).context("cannot serialise the model")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").context("<stdout>: cannot write")?;
    Ok(())
}

fn run_themes() -> Result<()> {
    let sources = Sources::from_env();
    let rows: Vec<[String; 3]> = theme::load::list(&sources)
        .into_iter()
        .map(|l| {
            let from = match (&l.origin, l.shadowing) {
                (Origin::Builtin(..), false) => "built-in".to_string(),
                (Origin::Builtin(..), true) => "built-in (shadowed)".to_string(),
                (Origin::File(p), false) => p.display().to_string(),
                (Origin::File(p), true) => format!("{} (shadows built-in)", p.display()),
            };
            let about = match l.theme {
                Ok(t) => t.description,
                // One line per theme, even for a multi-line error.
                Err(e) => format!("error: {}", e.to_string().replace('\n', " ")),
            };
            [l.name, from, about]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1) = (width(0), width(1));
    let mut out = std::io::stdout().lock();
    for [name, from, about] in &rows {
        writeln!(out, "{name:<w0$}  {from:<w1$}  {about}")?;
    }
    match &sources.user_dir {
        Some(dir) => writeln!(out, "\nYour themes folder: {}", dir.display())?,
        None => writeln!(
            out,
            "\nNo themes folder: set GALLEY_CONFIG_DIR (themes go in its themes/ folder)"
        )?,
    }
    Ok(())
}

fn run_theme_new(name: &str) -> Result<()> {
    // Written as ./NAME.toml: that is also how --theme must be given it, as a path.
    let path = theme::starter::create(Path::new("."), name)?;
    println!("galley: wrote {}", path.display());
    println!("Uncomment and change what you want, then use it:");
    println!("  galley convert post.md --theme {}", path.display());
    if let Some(dir) = Sources::from_env().user_dir {
        println!(
            "or move it to {} to use it anywhere as --theme {name}",
            dir.display()
        );
    }
    Ok(())
}
