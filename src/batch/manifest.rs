//! Book manifests (`galley build book.toml`): a TOML file naming a book's metadata, its
//! outputs and its articles in order.
//!
//! Every path in a manifest is relative to the manifest's folder, so a book folder can be
//! moved or built from anywhere. Loading checks everything it can (files exist, globs match,
//! dates and languages parse) so that a mistake is reported with its line before any
//! article is fetched or typeset.
//!
//! An `inputs` entry is one of: `@FILE`, a reading list (see [`super::list`]) read in
//! place; a glob (`articles/*.md`), its files sorted by path; an `http(s)` address; or a
//! file. A `.txt` file whose every entry is a web address is taken as a reading list too,
//! since that is what read-later apps export; any other `.txt` is a plain-text article.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::BatchError;
use super::input::{self, InputRef};
use super::list;
use crate::convert::OutputFormat;
use crate::layout::paper::PaperSize;
use crate::model::{date, language_tag};

/// A loaded manifest: every value checked, every path joined to the manifest's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest file itself, as given to [`load`].
    pub path: PathBuf,
    /// The book's title.
    pub title: String,
    /// Its subtitle.
    pub subtitle: Option<String>,
    /// Its authors or editors, in order (`authors = [...]` or `author = "..."`).
    pub authors: Vec<String>,
    /// BCP 47 language tag, normalised (`en_US` → `en-US`).
    pub language: Option<String>,
    /// Publication date, ISO 8601.
    pub date: Option<String>,
    /// Cover image (an existing file).
    pub cover: Option<PathBuf>,
    /// Theme, when the manifest chooses one.
    pub theme: Option<ThemeRef>,
    /// Heading levels in the table of contents (1–6), when the manifest sets it.
    pub toc_depth: Option<u8>,
    /// PDF: each article starts on a right-hand page.
    pub recto: bool,
    /// PDF paper size, overriding the theme's.
    pub paper: Option<PaperSize>,
    /// Files to write, each with its format; at least one, EPUB first when both.
    pub outputs: Vec<(PathBuf, OutputFormat)>,
    /// The articles in book order: globs and reading lists expanded in place, each source
    /// once, at its first place.
    pub inputs: Vec<InputRef>,
}

/// A theme as a manifest names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThemeRef {
    /// A built-in or user theme name (`classic`), for [`crate::theme::Theme::load`].
    Name(String),
    /// A theme file, joined to the manifest's folder (load it with
    /// [`crate::theme::load::load_origin`] and [`crate::theme::source::Origin::File`]).
    Path(PathBuf),
}

/// The manifest as written, before checking. Spans give the line of each value for errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    title: Option<Spanned<String>>,
    subtitle: Option<String>,
    authors: Option<Spanned<Vec<String>>>,
    author: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    cover: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
    toc_depth: Option<Spanned<i64>>,
    recto: Option<bool>,
    paper: Option<Spanned<String>>,
    inputs: Option<Spanned<Vec<Spanned<String>>>>,
    output: Option<RawOutput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    epub: Option<Spanned<String>>,
    pdf: Option<Spanned<String>>,
}

/// Loads and checks a manifest.
pub fn load(path: &Path) -> Result<Manifest, BatchError> {
    let src = std::fs::read_to_string(path).map_err(|source| BatchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // A BOM is what some editors on Windows save; TOML does not allow it.
    let src = src.strip_prefix('\u{feff}').unwrap_or(&src);
    let toml_error = |line: Option<usize>, message: String| BatchError::Toml {
        path: path.to_path_buf(),
        line,
        message,
    };
    let doc = DeTable::parse(src).map_err(|e| {
        toml_error(
            e.span().map(|s| line_of(src, s.start)),
            one_line(e.message()),
        )
    })?;
    misplaced_inputs(path, src, doc.get_ref())?;
    let raw: Raw = toml::from_str(src).map_err(|e| {
        let line = e.span().map(|s| line_of(src, s.start));
        let mut message = one_line(e.message());
        // The parser names an unknown key but not the key of a value of the wrong type.
        if let Some(key) = e.span().and_then(|s| key_at(doc.get_ref(), s.start, ""))
            && !message.contains(&format!("`{key}`"))
        {
            message = format!("{key}: {message}");
        }
        toml_error(line, message)
    })?;
    Loader {
        path,
        dir: path.parent().unwrap_or(Path::new("")),
        src,
    }
    .check(raw)
}

/// What checking needs: the manifest's name, folder and text (for line numbers).
struct Loader<'a> {
    path: &'a Path,
    dir: &'a Path,
    src: &'a str,
}

impl Loader<'_> {
    fn key_error(&self, key: &str, span: Option<Range<usize>>, message: String) -> BatchError {
        BatchError::Key {
            path: self.path.to_path_buf(),
            line: span.map(|s| line_of(self.src, s.start)),
            key: key.to_string(),
            message,
        }
    }

    fn check(&self, raw: Raw) -> Result<Manifest, BatchError> {
        let title = raw.title.ok_or_else(|| {
            self.key_error("title", None, "missing: the book needs a title".into())
        })?;
        if title.get_ref().trim().is_empty() {
            return Err(self.key_error("title", Some(title.span()), "is empty".into()));
        }
        let authors = match (raw.authors, raw.author) {
            (Some(_), Some(one)) => {
                return Err(self.key_error(
                    "author",
                    Some(one.span()),
                    "give either author or authors, not both".into(),
                ));
            }
            (Some(many), None) => many.into_inner(),
            (None, Some(one)) => vec![one.into_inner()],
            (None, None) => Vec::new(),
        };
        let language = raw
            .language
            .map(|l| {
                language_tag(l.get_ref()).ok_or_else(|| {
                    self.key_error(
                        "language",
                        Some(l.span()),
                        format!(
                            "'{}' is not a BCP 47 language tag (e.g. en, fr, pt-BR)",
                            l.get_ref()
                        ),
                    )
                })
            })
            .transpose()?;
        let date = raw
            .date
            .map(|d| {
                date::normalize(d.get_ref()).ok_or_else(|| {
                    self.key_error(
                        "date",
                        Some(d.span()),
                        format!("'{}' is not a date (use YYYY-MM-DD)", d.get_ref()),
                    )
                })
            })
            .transpose()?;
        let cover = raw
            .cover
            .map(|c| {
                let file = self.dir.join(c.get_ref());
                if file.is_file() {
                    Ok(file)
                } else {
                    Err(self.key_error(
                        "cover",
                        Some(c.span()),
                        format!("no such file '{}'", file.display()),
                    ))
                }
            })
            .transpose()?;
        let theme = raw.theme.map(|t| self.theme(t)).transpose()?;
        let toc_depth = raw
            .toc_depth
            .map(|d| {
                u8::try_from(*d.get_ref())
                    .ok()
                    .filter(|n| (1..=6).contains(n))
                    .ok_or_else(|| {
                        self.key_error(
                            "toc_depth",
                            Some(d.span()),
                            format!("{} is not a heading level from 1 to 6", d.get_ref()),
                        )
                    })
            })
            .transpose()?;
        let paper = raw
            .paper
            .map(|p| {
                PaperSize::parse(p.get_ref())
                    .map_err(|e| self.key_error("paper", Some(p.span()), e.to_string()))
            })
            .transpose()?;
        let outputs = self.outputs(raw.output)?;
        let inputs = self.inputs(raw.inputs)?;
        Ok(Manifest {
            path: self.path.to_path_buf(),
            title: title.into_inner().trim().to_string(),
            subtitle: raw.subtitle,
            authors,
            language,
            date,
            cover,
            theme,
            toc_depth,
            recto: raw.recto.unwrap_or(false),
            paper,
            outputs,
            inputs,
        })
    }

    /// A theme name stays a name; anything shaped like a path (the same test as
    /// `--theme`'s, see [`crate::theme::source::Sources::resolve`]) is joined to the
    /// manifest's folder and must exist.
    fn theme(&self, t: Spanned<String>) -> Result<ThemeRef, BatchError> {
        let name = t.get_ref().trim();
        let file = self.dir.join(name);
        let looks_like_path = name.contains(['/', '\\']) || name.ends_with(".toml");
        if looks_like_path || file.is_file() {
            if !file.is_file() {
                return Err(self.key_error(
                    "theme",
                    Some(t.span()),
                    format!("no such theme file '{}'", file.display()),
                ));
            }
            return Ok(ThemeRef::Path(file));
        }
        if name.is_empty() {
            return Err(self.key_error("theme", Some(t.span()), "is empty".into()));
        }
        Ok(ThemeRef::Name(name.to_string()))
    }

    fn outputs(
        &self,
        output: Option<RawOutput>,
    ) -> Result<Vec<(PathBuf, OutputFormat)>, BatchError> {
        let missing = || {
            self.key_error(
                "output",
                None,
                "missing: add an [output] table with epub = \"book.epub\" and/or pdf = \"book.pdf\""
                    .into(),
            )
        };
        let output = output.ok_or_else(missing)?;
        let mut outputs: Vec<(PathBuf, OutputFormat)> = Vec::new();
        for (key, value, format) in [
            ("output.epub", output.epub, OutputFormat::Epub),
            ("output.pdf", output.pdf, OutputFormat::Pdf),
        ] {
            let Some(value) = value else { continue };
            let name = value.get_ref().trim();
            if name.is_empty() {
                return Err(self.key_error(key, Some(value.span()), "is empty".into()));
            }
            let file = self.dir.join(name);
            // `pdf = "book.epub"` is a slip, and would write a PDF under an EPUB's name.
            if let Some(implied) = OutputFormat::from_path(&file)
                && implied != format
            {
                return Err(self.key_error(
                    key,
                    Some(value.span()),
                    format!(
                        "'{name}' names a .{} file; use the .{} extension",
                        implied.extension(),
                        format.extension()
                    ),
                ));
            }
            if outputs.iter().any(|(f, _)| *f == file) {
                return Err(self.key_error(
                    key,
                    Some(value.span()),
                    "the EPUB and the PDF cannot be the same file".into(),
                ));
            }
            outputs.push((file, format));
        }
        if outputs.is_empty() {
            return Err(missing());
        }
        Ok(outputs)
    }

    fn inputs(
        &self,
        inputs: Option<Spanned<Vec<Spanned<String>>>>,
    ) -> Result<Vec<InputRef>, BatchError> {
        let inputs = inputs.ok_or_else(|| {
            self.key_error(
                "inputs",
                None,
                "missing: list the articles, e.g. inputs = [\"articles/*.md\"]".into(),
            )
        })?;
        if inputs.get_ref().is_empty() {
            return Err(self.key_error(
                "inputs",
                Some(inputs.span()),
                "is empty: list at least one article".into(),
            ));
        }
        let mut out = Vec::new();
        for entry in inputs.into_inner() {
            out.extend(self.entry(&entry)?);
        }
        Ok(input::dedup(out))
    }

    /// One `inputs` entry: a reading list (`@file`, or a `.txt` file of web addresses), a
    /// glob, a web address or a file.
    fn entry(&self, entry: &Spanned<String>) -> Result<Vec<InputRef>, BatchError> {
        let raw = entry.get_ref().trim();
        let line = Some(line_of(self.src, entry.span().start));
        if let Some(name) = raw.strip_prefix('@') {
            let file = self.dir.join(name.trim());
            if !file.is_file() {
                return Err(self.key_error(
                    "inputs",
                    Some(entry.span()),
                    format!("no such reading list '{}'", file.display()),
                ));
            }
            return list::read_list(&file);
        }
        // A file whose name has glob characters is still just that file.
        if raw.contains(['*', '?', '[']) && !self.dir.join(raw).exists() {
            return self.glob(raw, line);
        }
        let input = input::checked(raw, Some(self.dir))
            .map_err(|message| self.key_error("inputs", Some(entry.span()), message))?;
        if let InputRef::Path(file) = &input
            && file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
            && list::is_url_list(file)
        {
            return list::read_list(file);
        }
        Ok(vec![input])
    }

    /// The files a glob matches, sorted by path so a book's order does not depend on the
    /// file system. `*` does not cross folders (`**` does) and hidden files need a literal
    /// dot, so `*.md` skips editor backups like `.#draft.md`.
    fn glob(&self, pattern: &str, line: Option<usize>) -> Result<Vec<InputRef>, BatchError> {
        let pattern_error = |message: String| BatchError::Pattern {
            path: self.path.to_path_buf(),
            line,
            pattern: pattern.to_string(),
            message,
        };
        let full = if Path::new(pattern).is_absolute() || self.dir.as_os_str().is_empty() {
            pattern.to_string()
        } else {
            // The folder's own name may hold `[` or `*`: escape it so only the pattern globs.
            let dir = self
                .dir
                .to_str()
                .ok_or_else(|| pattern_error("the manifest's folder name is not UTF-8".into()))?;
            format!("{}/{pattern}", glob::Pattern::escape(dir))
        };
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let paths = glob::glob_with(&full, options).map_err(|e| pattern_error(e.to_string()))?;
        let mut files = Vec::new();
        for path in paths {
            let path = path.map_err(|e| pattern_error(e.to_string()))?;
            if path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(BatchError::NoMatch {
                path: self.path.to_path_buf(),
                line,
                pattern: pattern.to_string(),
            });
        }
        files.sort();
        Ok(files.into_iter().map(InputRef::Path).collect())
    }
}

/// TOML puts an `inputs` written below `[output]` into that table: an easy slip, which
/// deserves a better message than "unknown field".
fn misplaced_inputs(path: &Path, src: &str, doc: &DeTable) -> Result<(), BatchError> {
    let misplaced = doc.iter().find_map(|(k, v)| match v.get_ref() {
        DeValue::Table(t) if k.get_ref() == "output" => t
            .iter()
            .find(|(k, _)| k.get_ref() == "inputs")
            .map(|(k, _)| k.span()),
        _ => None,
    });
    match misplaced {
        None => Ok(()),
        Some(span) => Err(BatchError::Key {
            path: path.to_path_buf(),
            line: Some(line_of(src, span.start)),
            key: "output.inputs".into(),
            message: "inputs belongs at the top of the manifest: in TOML every key below \
                      [output] is part of that table, so move inputs above it"
                .into(),
        }),
    }
}

/// The dotted key whose name or value holds byte offset `at`, innermost first.
fn key_at(table: &DeTable, at: usize, prefix: &str) -> Option<String> {
    for (k, v) in table.iter() {
        let name = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        if let DeValue::Table(t) = v.get_ref()
            && let Some(inner) = key_at(t, at, &name)
        {
            return Some(inner);
        }
        if k.span().contains(&at) || v.span().contains(&at) {
            return Some(name);
        }
    }
    None
}

/// 1-based line of a byte offset.
fn line_of(src: &str, at: usize) -> usize {
    src.as_bytes()[..at.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The TOML parser's multi-line message on one line.
fn one_line(s: &str) -> String {
    s.trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A commented manifest for `galley init`: every key explained. It loads once the files it
/// names exist (`articles/*.md` must match something).
pub fn example() -> &'static str {
    include_str!("example.toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A book folder with a few articles and the manifest `src` as `book.toml`.
    fn book(src: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("articles/deep")).unwrap();
        for name in ["b.md", "a.md", "c.md", ".hidden.md", "deep/d.md"] {
            fs::write(d.join("articles").join(name), "# Article").unwrap();
        }
        let manifest = d.join("book.toml");
        fs::write(&manifest, src).unwrap();
        (dir, manifest)
    }

    fn path(p: PathBuf) -> InputRef {
        InputRef::Path(p)
    }

    const MINIMAL: &str =
        "title = \"T\"\ninputs = [\"articles/a.md\"]\n[output]\nepub = \"t.epub\"\n";

    #[test]
    fn batch_manifest_minimal_resolves_relative_to_manifest() {
        let (dir, manifest) = book(MINIMAL);
        let m = load(&manifest).unwrap();
        assert_eq!(m.title, "T");
        assert_eq!(m.inputs, vec![path(dir.path().join("articles/a.md"))]);
        assert_eq!(
            m.outputs,
            vec![(dir.path().join("t.epub"), OutputFormat::Epub)]
        );
        assert!(!m.recto);
        assert_eq!(m.theme, None);
    }

    #[test]
    fn batch_manifest_full() {
        let (dir, manifest) = book(
            "title = \"Weekend Reading\"\n\
             subtitle = \"Long reads\"\n\
             author = \"Ann\"\n\
             language = \"en_GB\"\n\
             date = \"2026-11-28\"\n\
             cover = \"cover.jpg\"\n\
             theme = \"themes/mine.toml\"\n\
             toc_depth = 2\n\
             recto = true\n\
             paper = \"a5\"\n\
             inputs = [\"articles/c.md\", \"https://example.org/story#x\", \"articles/*.md\"]\n\
             [output]\n\
             epub = \"out/w.epub\"\n\
             pdf = \"out/w.pdf\"\n",
        );
        let d = dir.path();
        fs::write(d.join("cover.jpg"), b"jpeg").unwrap();
        fs::create_dir(d.join("themes")).unwrap();
        fs::write(d.join("themes/mine.toml"), "").unwrap();
        let m = load(&manifest).unwrap();
        assert_eq!(m.subtitle.as_deref(), Some("Long reads"));
        assert_eq!(m.authors, vec!["Ann".to_string()]);
        assert_eq!(m.language.as_deref(), Some("en-GB"));
        assert_eq!(m.date.as_deref(), Some("2026-11-28"));
        assert_eq!(m.cover, Some(d.join("cover.jpg")));
        assert_eq!(m.theme, Some(ThemeRef::Path(d.join("themes/mine.toml"))));
        assert_eq!(m.toc_depth, Some(2));
        assert!(m.recto);
        assert_eq!(m.paper, PaperSize::parse("a5").ok());
        assert_eq!(
            m.outputs,
            vec![
                (d.join("out/w.epub"), OutputFormat::Epub),
                (d.join("out/w.pdf"), OutputFormat::Pdf)
            ]
        );
        // c.md stays first; the glob adds the rest sorted, without c.md again, without
        // hidden files, and without crossing into deep/.
        assert_eq!(
            m.inputs,
            vec![
                path(d.join("articles/c.md")),
                InputRef::Url("https://example.org/story#x".into()),
                path(d.join("articles/a.md")),
                path(d.join("articles/b.md")),
            ]
        );
    }

    #[test]
    fn batch_manifest_theme_name_stays_a_name() {
        let (_dir, manifest) = book(&format!("theme = \"modern\"\n{MINIMAL}"));
        assert_eq!(
            load(&manifest).unwrap().theme,
            Some(ThemeRef::Name("modern".into()))
        );
    }

    #[test]
    fn batch_manifest_globs_sorted_and_recursive() {
        let (dir, manifest) =
            book("title = \"T\"\ninputs = [\"articles/**/*.md\"]\n[output]\npdf = \"t.pdf\"\n");
        let d = dir.path();
        assert_eq!(
            load(&manifest).unwrap().inputs,
            vec![
                path(d.join("articles/a.md")),
                path(d.join("articles/b.md")),
                path(d.join("articles/c.md")),
                path(d.join("articles/deep/d.md")),
            ]
        );
    }

    #[test]
    fn batch_manifest_glob_matching_nothing_names_pattern() {
        let (_dir, manifest) = book(
            "title = \"T\"\ninputs = [\n  \"articles/a.md\",\n  \"drafts/*.md\",\n]\n[output]\nepub = \"t.epub\"\n",
        );
        let err = load(&manifest).unwrap_err();
        match &err {
            BatchError::NoMatch {
                path,
                line,
                pattern,
            } => {
                assert_eq!(path, &manifest);
                assert_eq!(*line, Some(4));
                assert_eq!(pattern, "drafts/*.md");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("'drafts/*.md' matches no files"));
    }

    #[test]
    fn batch_manifest_glob_in_folder_with_brackets() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("[draft] book");
        fs::create_dir(&d).unwrap();
        fs::write(d.join("x.md"), "# X").unwrap();
        let manifest = d.join("book.toml");
        fs::write(
            &manifest,
            "title = \"T\"\ninputs = [\"*.md\"]\n[output]\nepub = \"t.epub\"\n",
        )
        .unwrap();
        assert_eq!(load(&manifest).unwrap().inputs, vec![path(d.join("x.md"))]);
    }

    #[test]
    fn batch_manifest_unknown_key_names_key_file_and_line() {
        let (_dir, manifest) = book(&format!("titel = \"T\"\n{MINIMAL}"));
        let err = load(&manifest).unwrap_err();
        assert!(
            matches!(err, BatchError::Toml { line: Some(1), .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("book.toml, line 1"), "{msg}");
        assert!(msg.contains("titel"), "{msg}");

        let (_dir, manifest) = book(&format!("{MINIMAL}webp = \"t.webp\"\n"));
        let msg = load(&manifest).unwrap_err().to_string();
        assert!(msg.contains("line 5") && msg.contains("webp"), "{msg}");
        assert!(!msg.contains("inputs"), "{msg}");
    }

    #[test]
    fn batch_manifest_wrong_type_names_key() {
        let (_dir, manifest) = book(&format!("recto = \"yes\"\n{MINIMAL}"));
        let msg = load(&manifest).unwrap_err().to_string();
        assert!(msg.contains("line 1: recto: "), "{msg}");
        let (_dir, manifest) =
            book("title = \"T\"\ninputs = [\"articles/a.md\"]\n[output]\nepub = 3\n");
        let msg = load(&manifest).unwrap_err().to_string();
        assert!(msg.contains("line 4: output.epub: "), "{msg}");
    }

    #[test]
    fn batch_manifest_inputs_below_output_explained() {
        let (_dir, manifest) =
            book("title = \"T\"\n[output]\nepub = \"t.epub\"\ninputs = [\"articles/a.md\"]\n");
        let err = load(&manifest).unwrap_err();
        assert!(
            matches!(&err, BatchError::Key { key, line: Some(4), .. } if key == "output.inputs"),
            "{err:?}"
        );
        assert!(err.to_string().contains("move inputs above"));
    }

    #[test]
    fn batch_manifest_bad_values_name_key_and_line() {
        for (line, key, want) in [
            ("date = \"someday\"", "date", "not a date"),
            ("language = \"english please\"", "language", "BCP 47"),
            ("toc_depth = 9", "toc_depth", "1 to 6"),
            ("paper = \"napkin\"", "paper", "napkin"),
            ("cover = \"nope.jpg\"", "cover", "no such file"),
            ("theme = \"nope.toml\"", "theme", "no such theme file"),
        ] {
            let (_dir, manifest) = book(&format!("{line}\n{MINIMAL}"));
            let err = load(&manifest).unwrap_err();
            assert!(
                matches!(&err, BatchError::Key { key: k, line: Some(1), .. } if k == key),
                "{line}: {err:?}"
            );
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn batch_manifest_missing_and_wrong_inputs_and_outputs() {
        let cases = [
            (
                "inputs = [\"articles/a.md\"]\n[output]\nepub = \"t.epub\"\n",
                "title",
            ),
            ("title = \"T\"\n[output]\nepub = \"t.epub\"\n", "inputs"),
            (
                "title = \"T\"\ninputs = []\n[output]\nepub = \"t.epub\"\n",
                "inputs",
            ),
            ("title = \"T\"\ninputs = [\"articles/a.md\"]\n", "output"),
            (
                "title = \"T\"\ninputs = [\"articles/a.md\"]\n[output]\n",
                "output",
            ),
            (
                "title = \"T\"\ninputs = [\"articles/a.md\"]\n[output]\npdf = \"t.epub\"\n",
                "output.pdf",
            ),
            (
                "title = \"T\"\ninputs = [\"nope.md\"]\n[output]\nepub = \"t.epub\"\n",
                "inputs",
            ),
            (
                "title = \"T\"\nauthor = \"A\"\nauthors = [\"B\"]\ninputs = [\"articles/a.md\"]\n[output]\nepub = \"t.epub\"\n",
                "author",
            ),
        ];
        for (src, key) in cases {
            let (_dir, manifest) = book(src);
            let err = load(&manifest).unwrap_err();
            assert!(
                matches!(&err, BatchError::Key { key: k, .. } if k == key),
                "{src}: {err:?}"
            );
        }
    }

    #[test]
    fn batch_manifest_lists_expanded_in_place() {
        let (dir, manifest) = book(
            "title = \"T\"\n\
             inputs = [\"articles/a.md\", \"@lists/saved.txt\", \"links.txt\", \"notes.txt\", \"articles/b.md\"]\n\
             [output]\nepub = \"t.epub\"\n",
        );
        let d = dir.path();
        fs::create_dir(d.join("lists")).unwrap();
        fs::write(d.join("lists/x.md"), "# X").unwrap();
        // Paths in a list are relative to the list; a.md again is dropped.
        fs::write(
            d.join("lists/saved.txt"),
            "https://x.org/1\nx.md\n../articles/c.md\n",
        )
        .unwrap();
        // A .txt of addresses is a reading list; a .txt of prose is an article.
        fs::write(d.join("links.txt"), "# to read\nhttps://x.org/2\n").unwrap();
        fs::write(d.join("notes.txt"), "Some plain-text notes.\n").unwrap();
        let m = load(&manifest).unwrap();
        assert_eq!(
            m.inputs,
            vec![
                path(d.join("articles/a.md")),
                InputRef::Url("https://x.org/1".into()),
                path(d.join("lists/x.md")),
                path(d.join("lists/../articles/c.md")),
                InputRef::Url("https://x.org/2".into()),
                path(d.join("notes.txt")),
                path(d.join("articles/b.md")),
            ]
        );
    }

    #[test]
    fn batch_manifest_missing_list_names_manifest_line() {
        let (_dir, manifest) =
            book("title = \"T\"\ninputs = [\"@nope.txt\"]\n[output]\nepub = \"t.epub\"\n");
        let err = load(&manifest).unwrap_err();
        assert!(
            matches!(&err, BatchError::Key { line: Some(2), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("no such reading list"));
    }

    #[test]
    fn batch_manifest_syntax_error_has_line() {
        let (_dir, manifest) = book("title = \"T\"\ninputs = [\"a.md\"\n[output]\n");
        assert!(matches!(
            load(&manifest),
            Err(BatchError::Toml { line: Some(_), .. })
        ));
    }

    #[test]
    fn batch_manifest_example_parses() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("articles")).unwrap();
        fs::write(d.join("articles/one.md"), "# One").unwrap();
        let manifest = d.join("book.toml");
        fs::write(&manifest, example()).unwrap();
        let m = load(&manifest).unwrap();
        assert_eq!(m.title, "Weekend Reading");
        assert_eq!(m.theme, Some(ThemeRef::Name("classic".into())));
        assert_eq!(m.inputs, vec![path(d.join("articles/one.md"))]);
        assert_eq!(m.outputs.len(), 2);
        // Every key the manifest knows is explained in the example.
        for key in [
            "title",
            "subtitle",
            "authors",
            "author",
            "language",
            "date",
            "cover",
            "theme",
            "toc_depth",
            "recto",
            "paper",
            "inputs",
            "[output]",
            "epub",
            "pdf",
        ] {
            assert!(example().contains(key), "example does not mention {key}");
        }
    }
}
