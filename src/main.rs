//! The `galley` command line.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use galley::convert::{self, OutputFormat, Overrides, Settings};
use galley::fetch::{self, FetchOptions, Fetcher};
use galley::layout::paper::PaperSize;
use galley::limits::Limits;
use galley::read::{Format, ReadOptions, Source};
use galley::theme::source::{Origin, Sources};
use galley::theme::{self, Theme};
use galley::write::output::Output;

/// glibc's allocator spent a third of a book's PDF conversion in malloc and free across the
/// layout threads; mimalloc's per-thread heaps make that a few percent.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc reserves its first arena at the first allocation, in the runtime's set-up
/// before `main`. At the default size (1 GiB) the arena's bitmaps alone fault in some 40
/// pages, a sixth of a millisecond on a virtual machine; an article never needs more than
/// 16 MiB, and a book's later arenas grow as mimalloc reserves them. The size is set from
/// the executable's initialisers, which run before that first allocation.
#[cfg(target_os = "linux")]
mod first_arena {
    use std::ffi::{c_int, c_long};

    unsafe extern "C" {
        fn mi_option_get(option: c_int) -> c_long;
        fn mi_option_set(option: c_int, value: c_long);
    }

    /// mimalloc 3's `mi_option_arena_reserve`, whose value is in KiB.
    const ARENA_RESERVE: c_int = 23;
    /// Its default, 1 GiB: only that option has it, so a renumbered one is left alone.
    const DEFAULT_KIB: c_long = 1024 * 1024;
    /// The first arena's size in KiB.
    pub(super) const FIRST_KIB: c_long = 16 * 1024;

    /// Shrinks the first arena unless `MIMALLOC_ARENA_RESERVE` asked for a size.
    extern "C" fn shrink() {
        // SAFETY: mimalloc's option calls take no pointers and may run before its own
        // initialisation; reading an option only reads the environment.
        unsafe {
            if mi_option_get(ARENA_RESERVE) == DEFAULT_KIB {
                mi_option_set(ARENA_RESERVE, FIRST_KIB);
            }
        }
    }

    /// The arena size a conversion runs with.
    #[cfg(test)]
    pub(super) fn reserve_kib() -> c_long {
        // SAFETY: as in `shrink`.
        unsafe { mi_option_get(ARENA_RESERVE) }
    }

    #[used]
    #[unsafe(link_section = ".init_array")]
    static SHRINK: extern "C" fn() = shrink;
}

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
    /// Build a book from a manifest (see `galley init`).
    Build(BuildArgs),
    /// Write a commented example book manifest (book.toml) here.
    Init {
        /// File to write.
        #[arg(default_value = "book.toml")]
        file: PathBuf,
    },
}

/// Limits and safety options, shared by `convert` and `build`. Defaults: `Limits::default()`.
#[derive(Args, Clone, Default)]
struct SafetyArgs {
    /// Also read local images from DIR (repeatable); by default only the article's folder
    /// and its site (a few folders up) are read.
    #[arg(long = "allow-path", value_name = "DIR")]
    allow_paths: Vec<PathBuf>,
    /// Largest input file, e.g. 64M (default 64 MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_input_size: Option<u64>,
    /// Most cells (rows × columns) in one table (default 200000).
    #[arg(long, value_name = "N")]
    max_table_cells: Option<usize>,
    /// Most images loaded per article or book; the rest show their alt text (default 2000).
    #[arg(long, value_name = "N")]
    max_images: Option<usize>,
    /// Largest image file, e.g. 32M (default 32 MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_image_size: Option<u64>,
    /// Most pixels in one image, checked before decoding (default 100000000).
    #[arg(long, value_name = "N")]
    max_image_pixels: Option<u64>,
    /// Largest output file, e.g. 1G (default 1 GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_output_size: Option<u64>,
    /// Seconds allowed for one web fetch, redirects and body included (default 30).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    fetch_timeout: Option<u64>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    galley::limits::parse_size(s)
}

impl SafetyArgs {
    /// The default limits, with what the flags raise (or lower).
    fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(v) = self.max_input_size {
            l.max_input_bytes = v;
        }
        if let Some(v) = self.max_table_cells {
            l.max_table_cells = v;
        }
        if let Some(v) = self.max_images {
            l.max_images = v;
        }
        if let Some(v) = self.max_image_size {
            l.max_image_bytes = v;
        }
        if let Some(v) = self.max_image_pixels {
            l.max_image_pixels = v;
            // The side limit follows: a long strip of the allowed pixels stays allowed.
            l.max_image_side = l.max_image_side.max(u32::try_from(v).unwrap_or(u32::MAX));
        }
        if let Some(v) = self.max_output_size {
            l.max_output_bytes = v;
        }
        if let Some(v) = self.fetch_timeout {
            l.fetch_timeout = std::time::Duration::from_secs(v);
        }
        l
    }
}

#[derive(Args)]
struct BuildArgs {
    /// The book manifest (TOML).
    manifest: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    safety: SafetyArgs,
}

/// How a conversion runs, shared by `convert` and `build`.
#[derive(Args, Clone)]
struct RunArgs {
    /// In a batch or book, fail (and write no book) if any input fails.
    #[arg(long)]
    strict: bool,
    /// No network access: web addresses are errors, remote images show their alt text.
    #[arg(long)]
    offline: bool,
    /// Allow fetching from loopback, private and link-local addresses (refused by default).
    #[arg(long)]
    allow_private: bool,
    /// Convert every image to grayscale (for e-ink readers).
    #[arg(long)]
    grayscale: bool,
    /// Per-article timing and details.
    #[arg(short, long)]
    verbose: bool,
    /// Print no warnings (nor, for batches, the summary).
    #[arg(short, long)]
    quiet: bool,
}

/// `convert`'s options alone, so a manifest can start from their defaults.
#[derive(Parser)]
struct ConvertOnly {
    #[command(flatten)]
    args: ConvertArgs,
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
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// A reading list: one file or web address a line, `#` comments (also Pocket/Instapaper
    /// HTML and CSV exports).
    #[arg(long, value_name = "FILE")]
    from_list: Option<PathBuf>,
    /// One output per input (the default without -o); with -o, several inputs make one book.
    #[arg(long, visible_alias = "individual")]
    each: bool,
    /// Folder for the outputs of --each (default: next to each input).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// With --each: name outputs after the article's title instead of the input file.
    #[arg(long)]
    name_from_title: bool,
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
    #[arg(long, value_name = "NAME|PATH", default_value = theme::DEFAULT_NAME)]
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
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    safety: SafetyArgs,
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
    /// Largest input file, e.g. 64M (default 64 MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_input_size: Option<u64>,
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

/// Some inputs of a batch failed and the rest were written: exit code 3.
#[derive(Debug)]
struct Partial(String);

impl std::fmt::Display for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Partial {}

fn main() {
    // Most conversions use the default theme: it loads on the core kept awake for the
    // conversion's side jobs while the arguments are parsed (0.4 ms sooner to the cover).
    let converting = std::env::args_os().nth(1).is_some_and(|a| a == "convert");
    let early = converting.then(|| {
        let _ = galley::warm::start();
        Theme::load_beside(theme::DEFAULT_NAME)
    });
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => run_convert(*args, early),
        Command::Dump(args) => run_dump(args),
        Command::Themes => run_themes(),
        Command::Theme(ThemeCommand::New { name }) => run_theme_new(&name),
        Command::Build(args) => run_build(&args),
        Command::Init { file } => run_init(&file),
    };
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            let mut stderr = std::io::stderr();
            // Library errors already quote their cause; print each cause only once.
            let _ = writeln!(stderr, "galley: error: {}", error_text(&e));
            if e.downcast_ref::<Usage>().is_some() {
                2
            } else if e.downcast_ref::<Partial>().is_some() {
                3
            } else {
                1
            }
        }
    };
    exit_now(code)
}

/// Ends the process with `code` once the standard streams are flushed; every file and
/// thread is done by now. On Linux the C library's exit handlers are skipped: in them
/// mimalloc hands each page it used back to the kernel, one call at a time (85 calls after
/// an article's EPUB, over half a millisecond), just before the kernel frees them all.
fn exit_now(code: u8) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(target_os = "linux")]
    // SAFETY: `_exit` ends the process; nothing of ours runs after it, and all output
    // has been written and flushed above.
    unsafe {
        libc::_exit(i32::from(code))
    }
    #[cfg(not(target_os = "linux"))]
    std::process::exit(i32::from(code))
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

/// Standard input, at most one byte past `limit` (the reader then refuses it, naming the
/// limit), so an endless stream cannot exhaust memory.
fn read_stdin(limit: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(limit.saturating_add(1))
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

/// `galley convert`; `early` is the default theme, already loading.
fn run_convert(args: ConvertArgs, early: Option<theme::Loading>) -> Result<()> {
    run_with(args, BookPlan::default(), early)
}

/// A book from a manifest: what `convert`'s options cannot say.
#[derive(Default)]
struct BookPlan {
    /// The book's subtitle.
    subtitle: Option<String>,
    /// Every output, each with its own path; `Some` always makes a book.
    outputs: Option<Vec<(PathBuf, OutputFormat)>>,
}

fn run_book_job(
    args: ConvertArgs,
    subtitle: Option<String>,
    outputs: Vec<(PathBuf, OutputFormat)>,
) -> Result<()> {
    run_with(
        args,
        BookPlan {
            subtitle,
            outputs: Some(outputs),
        },
        None,
    )
}

fn run_with(args: ConvertArgs, plan: BookPlan, early: Option<theme::Loading>) -> Result<()> {
    if early.is_none() {
        // Detached: it ends by itself (see `galley::warm`).
        let _ = galley::warm::start();
    }
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
    let mut inputs = args.inputs.clone();
    if let Some(list) = &args.from_list {
        inputs.extend(read_list(list)?);
    }
    if inputs.is_empty() {
        bail!(Usage(
            "no input: name files or web addresses, `-` for standard input, or --from-list FILE"
                .into()
        ));
    }
    let stdin_count = inputs.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 0 && args.output.is_none() {
        bail!(Usage(
            "reading standard input needs -o FILE (or -o - for standard output)".into()
        ));
    }
    if stdin_count > 1 {
        bail!(Usage("standard input (-) can be given only once".into()));
    }
    if args.each && args.output.is_some() {
        bail!(Usage(
            "-o names one output; with --each, choose a folder with --out-dir".into()
        ));
    }
    let limits = args.safety.limits();
    // One file, read here while the theme loads beside: the theme is no part of reading.
    // Its result waits until the theme is in, so a bad theme is still reported first.
    let single =
        plan.outputs.is_none() && inputs.len() == 1 && !args.each && args.out_dir.is_none();
    let read_early = (single && is_local_file(&inputs[0]))
        .then(|| convert::read_input(&inputs[0], None, &read_options(&args, from, limits)));
    let theme = match early {
        Some(loading) if loading.name() == args.theme => loading.finish(),
        // Another theme was asked for; the guess, if still loading, is left to finish.
        _ => Theme::load(&args.theme),
    }
    .map_err(|e| anyhow!(Usage(e.to_string())))?;
    let overrides = Overrides {
        title: args.title.clone(),
        authors: args.authors.clone(),
        language: args.lang.clone(),
        date: args.date.clone(),
        cover: args.cover.clone(),
    };
    let fetcher = (!args.run.offline).then(|| {
        Fetcher::new(FetchOptions {
            allow_private: args.run.allow_private,
            timeout: limits.fetch_timeout,
            max_page_bytes: limits.max_page_bytes,
            max_redirects: limits.max_redirects,
            max_image_bytes: limits.max_image_bytes,
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
        grayscale: args.run.grayscale,
        limits,
        allowed_dirs: &args.safety.allow_paths,
    };
    let job = Job {
        args: &args,
        plan: &plan,
        from,
        to: to.as_deref(),
        settings: &settings,
        files: inputs
            .iter()
            .filter(|p| is_local_file(p))
            .cloned()
            .collect(),
    };
    if plan.outputs.is_some() || inputs.len() > 1 && args.output.is_some() {
        return job.book(&inputs);
    }
    if single {
        let source = match read_early {
            Some(read) => read?,
            None => job.read(&inputs[0])?,
        };
        let outputs = job.outputs_for(&inputs[0], &source)?;
        job.write_all(source, &outputs)?;
        return Ok(());
    }
    job.each(&inputs)
}

fn is_url(p: &Path) -> bool {
    p.to_str().is_some_and(fetch::is_web_url)
}

/// An input named as a file: neither standard input nor a web address.
fn is_local_file(p: &Path) -> bool {
    p.as_os_str() != "-" && !is_url(p)
}

/// How `convert`'s options read every input.
fn read_options(args: &ConvertArgs, from: Option<Format>, limits: Limits) -> ReadOptions {
    ReadOptions {
        format: from,
        no_extract: args.no_extract,
        limits,
    }
}

/// The entries of a reading list, as inputs.
fn read_list(list: &Path) -> Result<Vec<PathBuf>> {
    Ok(galley::batch::read_list(list)?
        .into_iter()
        .map(input_path)
        .collect())
}

/// An input as `convert` takes it: a path, a web address or `-`.
fn input_path(input: galley::batch::InputRef) -> PathBuf {
    match input {
        galley::batch::InputRef::Path(p) => p,
        galley::batch::InputRef::Url(u) => PathBuf::from(u),
        galley::batch::InputRef::Stdin => PathBuf::from("-"),
    }
}

/// `galley build book.toml`: the manifest's inputs as one book, in every output it names.
fn run_build(b: &BuildArgs) -> Result<()> {
    let m = galley::batch::load(&b.manifest)?;
    let mut args = ConvertOnly::try_parse_from(["galley"])
        .map_err(|e| anyhow!("cannot set up the conversion: {e}"))?
        .args;
    args.inputs = m.inputs.iter().cloned().map(input_path).collect();
    args.title = Some(m.title.clone());
    args.authors = m.authors.clone();
    args.lang = m.language.clone();
    args.date = m.date.clone();
    args.cover = m.cover.clone();
    if let Some(t) = &m.theme {
        args.theme = match t {
            galley::batch::ThemeRef::Name(n) => n.clone(),
            galley::batch::ThemeRef::Path(p) => p.display().to_string(),
        };
    }
    if let Some(d) = m.toc_depth {
        args.toc_depth = d;
    }
    args.recto = m.recto;
    args.paper = m.paper.map(|p| format!("{}ptx{}pt", p.width, p.height));
    args.run = b.run.clone();
    args.safety = b.safety.clone();
    let first = m.outputs.first().map(|(p, _)| p.clone());
    args.output = first;
    run_book_job(args, m.subtitle.clone(), m.outputs.clone())
}

/// `galley init`: a commented example manifest, never over an existing file.
fn run_init(file: &Path) -> Result<()> {
    if file.exists() {
        bail!("{}: already exists; not overwritten", file.display());
    }
    convert::save(file, galley::batch::example().as_bytes(), &[])?;
    eprintln!(
        "galley: wrote {}; edit it, then run: galley build {}",
        file.display(),
        file.display()
    );
    Ok(())
}

/// One `convert` run: its options, shared by every input.
struct Job<'a> {
    args: &'a ConvertArgs,
    plan: &'a BookPlan,
    from: Option<Format>,
    to: Option<&'a [OutputFormat]>,
    settings: &'a Settings<'a>,
    /// Input files, which no output may replace.
    files: Vec<PathBuf>,
}

impl Job<'_> {
    /// Reads (or fetches) one input.
    fn read(&self, input: &Path) -> Result<Source> {
        let read_opts = read_options(self.args, self.from, self.settings.limits);
        if let Some(u) = input.to_str().filter(|s| fetch::is_web_url(s)) {
            let now = self.settings.source_date_epoch.unwrap_or_else(unix_now);
            return Ok(convert::read_url(
                u,
                self.settings.fetcher,
                &read_opts,
                now,
            )?);
        }
        let stdin = if input.as_os_str() == "-" {
            Some(read_stdin(self.settings.limits.max_input_bytes)?)
        } else {
            None
        };
        Ok(convert::read_input(input, stdin.as_deref(), &read_opts)?)
    }

    /// Where a single input's outputs go: `-o`, else next to the input (a fetched page:
    /// in the current folder, named after its title).
    fn outputs_for(&self, input: &Path, source: &Source) -> Result<Vec<(PathBuf, OutputFormat)>> {
        let stem = if is_url(input) {
            web_output_stem(source)
        } else {
            input.to_path_buf()
        };
        output_for(&stem, self.args.output.as_deref(), self.to)
    }

    /// Renders and writes every output of one source; returns pages (of the PDF) and the
    /// number of warnings.
    fn write_all(
        &self,
        source: Source,
        outputs: &[(PathBuf, OutputFormat)],
    ) -> Result<(Option<usize>, usize)> {
        let n = outputs.len();
        let mut source = Some(source);
        let mut pages = None;
        let mut warnings = 0;
        for (i, (out, format)) in outputs.iter().enumerate() {
            // Each output but the last gets a copy; the last takes the original.
            let src = if i + 1 == n {
                source.take()
            } else {
                source.clone()
            };
            if let Some(src) = src {
                let (p, w) = write_one(
                    src,
                    *format,
                    out,
                    self.settings,
                    &self.files,
                    self.args.run.quiet,
                )?;
                pages = pages.or(p);
                warnings += w;
            }
        }
        Ok((pages, warnings))
    }

    /// A progress bar on standard error for batches; hidden with --quiet or when standard
    /// error is not a terminal.
    fn progress(&self, len: usize, what: &str) -> indicatif::ProgressBar {
        if self.args.run.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(len as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg:12} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        bar
    }

    /// Reads every input in parallel; failures carry their message.
    fn read_all(&self, inputs: &[PathBuf]) -> Vec<(String, Result<Source, String>, u128)> {
        let bar = self.progress(inputs.len(), "reading");
        let results = galley::book::read_many(inputs, |input| {
            let t = std::time::Instant::now();
            let r = self.read(input).map_err(|e| error_text(&e));
            bar.inc(1);
            (r, t.elapsed().as_millis())
        });
        bar.finish_and_clear();
        inputs
            .iter()
            .zip(results)
            .map(|(input, (source, ms))| (input.display().to_string(), source, ms))
            .collect()
    }

    /// Several inputs, one output each (`--each`).
    fn each(&self, inputs: &[PathBuf]) -> Result<()> {
        if let Some(dir) = &self.args.out_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
        }
        let read = self.read_all(inputs);
        // Names first (titles are known once read), made unique across the batch.
        let mut plans: Vec<Option<Vec<(PathBuf, OutputFormat)>>> = Vec::new();
        let mut wanted: Vec<PathBuf> = Vec::new();
        for (input, (_, source, _)) in inputs.iter().zip(&read) {
            let plan = source
                .as_ref()
                .ok()
                .map(|src| self.each_outputs(input, src));
            if let Some(Ok(outs)) = &plan {
                wanted.extend(outs.iter().map(|(p, _)| p.clone()));
            }
            plans.push(plan.transpose().ok().flatten());
        }
        let mut unique = galley::book::unique_paths(wanted).into_iter();
        let plans: Vec<Option<Vec<(PathBuf, OutputFormat)>>> = plans
            .into_iter()
            .map(|p| {
                p.map(|outs| {
                    outs.into_iter()
                        .map(|(path, f)| (unique.next().unwrap_or(path), f))
                        .collect()
                })
            })
            .collect();
        let bar = self.progress(inputs.len(), "writing");
        let work: Vec<_> = read.into_iter().zip(plans).collect();
        let rows: Vec<galley::book::Row> = {
            use rayon::prelude::*;
            work.into_par_iter()
                .map(|((name, source, read_ms), plan)| {
                    let t = std::time::Instant::now();
                    let result = match (source, plan) {
                        (Ok(src), Some(outs)) => {
                            self.write_all(src, &outs).map_err(|e| error_text(&e))
                        }
                        (Err(e), _) => Err(e),
                        (Ok(_), None) => Err("no output name".into()),
                    };
                    bar.inc(1);
                    if self.args.run.verbose {
                        eprintln!(
                            "galley: {name}: read {read_ms} ms, written in {} ms",
                            t.elapsed().as_millis()
                        );
                    }
                    match result {
                        Ok((pages, warnings)) => galley::book::Row {
                            name,
                            status: galley::book::Status::Ok,
                            pages,
                            warnings,
                        },
                        Err(e) => galley::book::Row {
                            name,
                            status: galley::book::Status::Failed(e),
                            pages: None,
                            warnings: 0,
                        },
                    }
                })
                .collect()
        };
        bar.finish_and_clear();
        self.finish(
            &rows,
            rows.iter().any(|r| r.status == galley::book::Status::Ok),
        )
    }

    /// The outputs of one input in `--each` mode.
    fn each_outputs(&self, input: &Path, source: &Source) -> Result<Vec<(PathBuf, OutputFormat)>> {
        let from_title = || {
            source
                .document
                .meta
                .title
                .as_deref()
                .map(galley::model::slug::slugify)
                .map(|s| s.trim_start_matches("s-").to_string())
                .filter(|s| !s.is_empty())
        };
        let stem: PathBuf = if is_url(input) {
            web_output_stem(source)
        } else if self.args.name_from_title
            && let Some(t) = from_title()
        {
            input.with_file_name(format!("{t}.md"))
        } else {
            input.to_path_buf()
        };
        let stem = match &self.args.out_dir {
            Some(dir) => dir.join(stem.file_name().unwrap_or(stem.as_os_str())),
            None => stem,
        };
        output_for(&stem, None, self.to)
    }

    /// Several inputs, one book (`-o` with several inputs).
    fn book(&self, inputs: &[PathBuf]) -> Result<()> {
        let Some(out) = self.args.output.as_deref() else {
            bail!(Usage("a book needs -o FILE".into()));
        };
        let read = self.read_all(inputs);
        let mut rows = Vec::new();
        let mut articles = Vec::new();
        for (name, source, ms) in read {
            if self.args.run.verbose {
                eprintln!("galley: {name}: read in {ms} ms");
            }
            match source {
                Ok(src) => {
                    rows.push(galley::book::Row {
                        name,
                        status: galley::book::Status::Ok,
                        pages: None,
                        warnings: 0,
                    });
                    articles.push(src);
                }
                Err(e) => rows.push(galley::book::Row {
                    name,
                    status: galley::book::Status::Failed(e),
                    pages: None,
                    warnings: 0,
                }),
            }
        }
        let failed = rows.len() - articles.len();
        if articles.is_empty() || (failed > 0 && self.args.run.strict) {
            return self.finish(&rows, false);
        }
        let given = galley::model::Meta {
            subtitle: self.plan.subtitle.clone(),
            title: self.args.title.clone(),
            authors: self.args.authors.clone(),
            language: self.args.lang.clone(),
            date: self.args.date.clone(),
            ..galley::model::Meta::default()
        };
        let docs: Vec<&galley::model::Document> = articles.iter().map(|s| &s.document).collect();
        let meta = galley::book::book_meta(&given, out, &docs);
        let name = out.display().to_string();
        let source = galley::book::book_source(meta, &name, articles);
        let outputs = match &self.plan.outputs {
            Some(o) => o.clone(),
            None => output_for(out, Some(out), self.to)?,
        };
        let bar = self.progress(outputs.len(), "typesetting");
        let t = std::time::Instant::now();
        let (pages, warnings) = self.write_all(source, &outputs)?;
        bar.finish_and_clear();
        if self.args.run.verbose {
            eprintln!("galley: {name}: written in {} ms", t.elapsed().as_millis());
        }
        rows.push(galley::book::Row {
            name: format!("= {name}"),
            status: galley::book::Status::Ok,
            pages,
            warnings,
        });
        self.finish(&rows, true)
    }

    /// Prints the summary and sets the exit status: 0 all well, 3 some inputs failed but
    /// output was written, 1 nothing written.
    fn finish(&self, rows: &[galley::book::Row], wrote: bool) -> Result<()> {
        if !self.args.run.quiet {
            eprint!("{}", galley::book::summary(rows));
        }
        let failed = rows
            .iter()
            .filter(|r| matches!(r.status, galley::book::Status::Failed(_)))
            .count();
        match (failed, wrote) {
            (0, _) => Ok(()),
            (_, true) => Err(anyhow!(Partial(format!(
                "{failed} of {} inputs failed",
                rows.iter().filter(|r| !r.name.starts_with("= ")).count()
            )))),
            (_, false) => bail!("{failed} input(s) failed; nothing written"),
        }
    }
}

/// An error as one line, causes included once.
fn error_text(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
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

/// Converts one source to one format and writes it (`-` for standard output); returns the
/// PDF's pages and the number of warnings.
fn write_one(
    source: Source,
    format: OutputFormat,
    out: &Path,
    settings: &Settings,
    inputs: &[PathBuf],
    quiet: bool,
) -> Result<(Option<usize>, usize)> {
    let mut warnings = Vec::new();
    // Shown before any error, which they may explain.
    let show = |warnings: &[String]| {
        if !quiet {
            for w in warnings {
                eprintln!("galley: warning: {w}");
            }
        }
    };
    if out.as_os_str() == "-" {
        let rendered = convert::render(source, format, settings, &mut warnings);
        show(&warnings);
        let rendered = rendered?;
        std::io::stdout()
            .write_all(&rendered.bytes)
            .context("<stdout>: cannot write")?;
        return Ok((rendered.pages, warnings.len()));
    }
    // Written as it is made; it takes the output's name only once complete.
    let mut file = Output::new(out, inputs);
    let rendered = convert::render_to(source, format, settings, &mut warnings, &mut file);
    show(&warnings);
    let (len, pages) = rendered?;
    file.commit()?;
    if !quiet && std::io::stderr().is_terminal() {
        eprintln!(
            "galley: wrote {} ({} KB)",
            out.display(),
            len.div_ceil(1024)
        );
    }
    Ok((pages, warnings.len()))
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
    let mut limits = Limits::default();
    if let Some(v) = args.max_input_size {
        limits.max_input_bytes = v;
    }
    let stdin = if args.input.as_os_str() == "-" {
        Some(read_stdin(limits.max_input_bytes)?)
    } else {
        None
    };
    let read_opts = galley::read::ReadOptions {
        format: from,
        no_extract: args.no_extract,
        limits,
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

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_first_arena_is_small() {
        // Fails if the option's number no longer names the arena size (whose default
        // only it has), or if the initialiser did not run.
        if std::env::var_os("MIMALLOC_ARENA_RESERVE").is_none() {
            assert_eq!(
                super::first_arena::reserve_kib(),
                super::first_arena::FIRST_KIB
            );
        }
    }
}
