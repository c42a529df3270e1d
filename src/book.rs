//! Batches and books: reading many inputs in parallel, naming many outputs without
//! collisions, describing a book, and the summary table a batch ends with.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::bundle;
use crate::model::{Document, Meta};
use crate::read::Source;

/// Applies `read` to every input on all cores; results keep the inputs' order, so a
/// parallel run gives the same book as a serial one.
pub fn read_many<T, R, F>(inputs: &[T], read: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync + Send,
{
    inputs.par_iter().map(read).collect()
}

/// Makes output paths unique within one batch: a second `post.epub` becomes `post-2.epub`,
/// and so on. Paths already distinct are left alone.
pub fn unique_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut taken: HashSet<PathBuf> = HashSet::new();
    paths
        .into_iter()
        .map(|p| {
            if taken.insert(p.clone()) {
                return p;
            }
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ext = p
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default();
            let mut n = 2;
            loop {
                let candidate = p.with_file_name(format!("{stem}-{n}{ext}"));
                if taken.insert(candidate.clone()) {
                    return candidate;
                }
                n += 1;
            }
        })
        .collect()
}

/// A book's description from what the user gave and what the articles say: the given
/// title, else one made from the output file's name; the given authors, else the articles'
/// own when there are at most three of them; the given language, else the first article's.
pub fn book_meta(given: &Meta, output: &Path, articles: &[&Document]) -> Meta {
    let mut meta = given.clone();
    if meta.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        meta.title = Some(title_from_file(output));
    }
    if meta.authors.is_empty() {
        let mut all: Vec<String> = Vec::new();
        for a in articles.iter().flat_map(|d| &d.meta.authors) {
            if !all.contains(a) {
                all.push(a.clone());
            }
        }
        if all.len() <= 3 {
            meta.authors = all;
        }
    }
    if meta.language.is_none() {
        meta.language = articles.iter().find_map(|d| d.meta.language.clone());
    }
    meta
}

/// "weekend-reading.epub" → "Weekend reading".
fn title_from_file(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().replace(['-', '_'], " "))
        .unwrap_or_default();
    let stem = stem.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = stem.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Collected articles".into(),
    }
}

/// The book as one source, ready for the writers.
pub fn book_source(meta: Meta, name: &str, articles: Vec<Source>) -> Source {
    // Each article's images were made absolute by the bundler; they may come from that
    // article's own folder and site, as when it is converted alone.
    let mut image_dirs: Vec<PathBuf> = Vec::new();
    for a in &articles {
        if let Some(root) = a
            .base_dir
            .as_deref()
            .and_then(crate::assets::confine::article_root)
            && !image_dirs.contains(&root)
        {
            image_dirs.push(root);
        }
        image_dirs.extend(a.image_dirs.iter().cloned());
    }
    let document = bundle::bundle(meta, articles);
    Source {
        name: name.to_string(),
        path: None,
        base_dir: None,
        image_dirs,
        encoding: "UTF-8",
        url: None,
        document,
    }
}

/// How one input of a batch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Converted (or, in a book, included).
    Ok,
    /// Failed, with the reason.
    Failed(String),
}

/// One line of the summary table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The input, as the user named it (or the article's title).
    pub name: String,
    /// What happened.
    pub status: Status,
    /// Pages of its PDF, when one was written for it alone.
    pub pages: Option<usize>,
    /// Warnings it raised.
    pub warnings: usize,
}

/// The summary table printed at the end of a batch.
pub fn summary(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(7, 60);
    let mut out = format!(
        "{:<width$}  {:<6}  {:>5}  {:>8}\n",
        "article", "status", "pages", "warnings"
    );
    for r in rows {
        let name: String = if r.name.chars().count() > width {
            let cut: String = r.name.chars().take(width - 1).collect();
            format!("{cut}…")
        } else {
            r.name.clone()
        };
        let status = match r.status {
            Status::Ok => "ok",
            Status::Failed(_) => "FAILED",
        };
        let pages = r.pages.map_or("-".to_string(), |p| p.to_string());
        out.push_str(&format!(
            "{name:<width$}  {status:<6}  {pages:>5}  {:>8}\n",
            r.warnings
        ));
    }
    for r in rows {
        if let Status::Failed(why) = &r.status {
            out.push_str(&format!("{}: {why}\n", r.name));
        }
    }
    let failed = rows
        .iter()
        .filter(|r| matches!(r.status, Status::Failed(_)))
        .count();
    out.push_str(&format!(
        "{} of {} succeeded\n",
        rows.len() - failed,
        rows.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collisions_get_numbers() {
        let got = unique_paths(vec![
            PathBuf::from("out/post.epub"),
            PathBuf::from("out/post.epub"),
            PathBuf::from("out/other.epub"),
            PathBuf::from("out/post.epub"),
        ]);
        let want: Vec<PathBuf> = [
            "out/post.epub",
            "out/post-2.epub",
            "out/other.epub",
            "out/post-3.epub",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn titles_from_file_names() {
        assert_eq!(
            title_from_file(Path::new("x/weekend-reading.epub")),
            "Weekend reading"
        );
        assert_eq!(title_from_file(Path::new("")), "Collected articles");
    }

    #[test]
    fn summary_names_failures() {
        let rows = vec![
            Row {
                name: "a.md".into(),
                status: Status::Ok,
                pages: Some(3),
                warnings: 0,
            },
            Row {
                name: "broken.html".into(),
                status: Status::Failed("no article found".into()),
                pages: None,
                warnings: 0,
            },
        ];
        let s = summary(&rows);
        assert!(
            s.contains("FAILED") && s.contains("broken.html: no article found"),
            "{s}"
        );
        assert!(s.contains("1 of 2 succeeded"));
    }
}
