//! Many articles, one book: read sources become one [`Document`] whose body is a run of
//! [`Block::Article`] markers, each followed by that article's blocks.
//!
//! Ids, footnote labels and local image paths are made unique across the book, so writers
//! treat the book like any document; links between bundled articles are rewritten to point
//! inside the book.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::model::{Block, Document, Inline, Meta, plain_text};
use crate::read::Source;

/// The document for a book of `sources`, in order, described by `meta` (its title,
/// authors, language…). Articles without a language take the book's.
pub fn bundle(meta: Meta, sources: Vec<Source>) -> Document {
    let prefixes: Vec<String> = (1..=sources.len()).map(|i| format!("a{i}-")).collect();
    // Where each article can be linked from: its file and its web address.
    let mut targets: HashMap<String, usize> = HashMap::new();
    for (i, s) in sources.iter().enumerate() {
        if let Some(p) = s.path.as_ref().and_then(|p| p.canonicalize().ok()) {
            targets.insert(p.to_string_lossy().into_owned(), i);
        }
        if let Some(u) = &s.document.meta.source_url {
            targets.insert(normalise_url(u), i);
        }
    }
    let mut blocks = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let Source {
            document,
            base_dir,
            url,
            ..
        } = source;
        let Document {
            meta: mut article_meta,
            blocks: mut body,
        } = document;
        if article_meta.language.is_none() {
            article_meta.language = meta.language.clone();
        }
        // The title block shows the title; a first heading repeating it goes.
        let title = article_meta.title.clone().unwrap_or_default();
        if let Some(Block::Heading { content, .. }) = body.first()
            && !title.trim().is_empty()
            && plain_text(content).trim() == title.trim()
        {
            body.remove(0);
        }
        let prefix = &prefixes[i];
        let mut ids = HashSet::new();
        collect_ids(&body, &mut ids);
        let ctx = Rewrite {
            prefix,
            ids: &ids,
            base_dir: base_dir.as_deref(),
            targets: &targets,
            prefixes: &prefixes,
            web: url.is_some(),
        };
        ctx.blocks(&mut body);
        blocks.push(Block::Article {
            id: article_id(i),
            meta: Box::new(article_meta),
        });
        blocks.extend(body);
    }
    Document { meta, blocks }
}

/// The link target of article `i` (0-based).
pub fn article_id(i: usize) -> String {
    format!("article-{}", i + 1)
}

fn normalise_url(u: &str) -> String {
    u.trim()
        .trim_end_matches('/')
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.")
        .to_string()
}

fn collect_ids(blocks: &[Block], ids: &mut HashSet<String>) {
    for b in blocks {
        match b {
            Block::Heading { id, .. } => {
                ids.insert(id.clone());
            }
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => collect_ids(blocks, ids),
            Block::List(l) => l.items.iter().for_each(|i| collect_ids(&i.blocks, ids)),
            _ => {}
        }
    }
}

struct Rewrite<'a> {
    prefix: &'a str,
    ids: &'a HashSet<String>,
    base_dir: Option<&'a Path>,
    targets: &'a HashMap<String, usize>,
    prefixes: &'a [String],
    /// The article came from the web: it may not name files on this machine.
    web: bool,
}

impl Rewrite<'_> {
    fn blocks(&self, blocks: &mut [Block]) {
        for b in blocks {
            match b {
                Block::Heading { id, content, .. } => {
                    *id = format!("{}{id}", self.prefix);
                    self.inlines(content);
                }
                Block::Paragraph { content } => self.inlines(content),
                Block::Quote { blocks } => self.blocks(blocks),
                Block::FootnoteDef { label, blocks } => {
                    *label = format!("{}{label}", self.prefix);
                    self.blocks(blocks);
                }
                Block::List(l) => l.items.iter_mut().for_each(|i| self.blocks(&mut i.blocks)),
                Block::Figure(f) => {
                    self.image(&mut f.image.src);
                    self.inlines(&mut f.caption);
                }
                Block::Table(t) => {
                    for cell in t
                        .header
                        .iter_mut()
                        .flatten()
                        .chain(t.rows.iter_mut().flatten())
                    {
                        self.inlines(&mut cell.content);
                    }
                    self.inlines(&mut t.caption);
                }
                Block::Code { .. }
                | Block::Rule
                | Block::RawHtml { .. }
                | Block::Article { .. } => {}
            }
        }
    }

    fn inlines(&self, inlines: &mut [Inline]) {
        for i in inlines {
            match i {
                Inline::Emphasis { content }
                | Inline::Strong { content }
                | Inline::Strikethrough { content }
                | Inline::Superscript { content }
                | Inline::Subscript { content } => self.inlines(content),
                Inline::Link { url, content, .. } => {
                    if let Some(new) = self.link(url) {
                        *url = new;
                    }
                    self.inlines(content);
                }
                Inline::Image(img) => self.image(&mut img.src),
                Inline::FootnoteRef { label } => *label = format!("{}{label}", self.prefix),
                Inline::Text { .. }
                | Inline::Code { .. }
                | Inline::LineBreak
                | Inline::RawHtml { .. } => {}
            }
        }
    }

    /// The link inside the book for `url`, if it points into this or another article.
    fn link(&self, url: &str) -> Option<String> {
        if let Some(frag) = url.strip_prefix('#') {
            return self
                .ids
                .contains(frag)
                .then(|| format!("#{}{frag}", self.prefix));
        }
        let (target, frag) = match url.split_once('#') {
            Some((t, f)) => (t, Some(f)),
            None => (url, None),
        };
        let article = if target.contains("://") {
            self.targets.get(&normalise_url(target)).copied()
        } else {
            let base = self.base_dir?;
            let path = base.join(crate::assets::percent_decode(target));
            let key = path.canonicalize().ok()?.to_string_lossy().into_owned();
            self.targets.get(&key).copied()
        }?;
        Some(match frag {
            Some(f) if !f.is_empty() => format!("#{}{f}", self.prefixes[article]),
            _ => format!("#{}", article_id(article)),
        })
    }

    /// Local image paths become absolute, so they resolve the same from every article.
    fn image(&self, src: &mut String) {
        if src.contains("://") && !src.starts_with("file:") || src.starts_with("data:") {
            return;
        }
        if self.web {
            // Left unresolvable, so the writers show the alt text with a warning.
            *src = format!("refused-local-file:{src}");
            return;
        }
        if let Some(base) = self.base_dir
            && let Some(path) = crate::assets::resolve_local(src, Some(base))
            && path.is_file()
        {
            *src = absolute(&path).to_string_lossy().into_owned();
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Format, read_file};

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn ids_labels_and_links_are_made_unique_and_internal() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        let a = write(
            d,
            "a.md",
            "---\ntitle: First\n---\n\n## Intro\n\nSee [the second](b.md#details), \
             [its start](./b.md), [intro](#intro) and [web](https://example.org/x).[^n]\n\n[^n]: A note.\n",
        );
        let b = write(
            d,
            "b.md",
            "# Second\n\n## Intro\n\nText.[^n]\n\n## Details\n\nMore.\n\n[^n]: Another note.\n",
        );
        let sources = vec![
            read_file(&a, Some(Format::Markdown)).expect("a"),
            read_file(&b, Some(Format::Markdown)).expect("b"),
        ];
        let meta = Meta {
            title: Some("Weekend".into()),
            ..Meta::default()
        };
        let doc = bundle(meta, sources);
        let json = serde_json::to_string(&doc).expect("json");
        assert!(json.contains("\"id\":\"article-1\"") && json.contains("\"id\":\"article-2\""));
        assert!(json.contains("\"a1-intro\"") && json.contains("\"a2-intro\""));
        assert!(json.contains("#a2-details") && json.contains("#article-2"));
        assert!(json.contains("#a1-intro"));
        assert!(json.contains("https://example.org/x"));
        assert!(json.contains("\"a1-n\"") && json.contains("\"a2-n\""));
        // b's first heading repeats its title: it is the title block now.
        let headings = doc
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::Heading { .. }))
            .count();
        assert_eq!(headings, 3);
    }
}
