//! The document model as XHTML 5 content for EPUB 3.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::{Align, Block, Figure, Inline, List, ListKind, Table, TableCell, plain_text};
use crate::write::links::{self, Target};
use crate::write::raw_html;

/// Escapes text for XML content and attributes, dropping characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A complete XHTML content document around `body`.
pub fn document(title: &str, lang: &str, body_class: Option<&str>, body: &str) -> String {
    let class = body_class
        .map(|c| format!(" class=\"{c}\""))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n\
<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" lang=\"{lang}\" xml:lang=\"{lang}\">\n\
<head>\n<meta charset=\"utf-8\"/>\n<title>{title}</title>\n\
<link rel=\"stylesheet\" type=\"text/css\" href=\"stylesheet.css\"/>\n</head>\n\
<body{class}>\n{body}</body>\n</html>\n",
        lang = escape(lang),
        title = escape(title),
    )
}

/// Where things live across the book's files, for cross-file links.
pub struct Context<'a> {
    /// Heading id → file that holds it.
    pub ids: &'a HashMap<String, String>,
    /// Footnote label → (number, file holding the note).
    pub notes: &'a HashMap<String, (usize, String)>,
    /// Image src → file name inside the EPUB (missing images are absent).
    pub images: &'a HashMap<String, String>,
    /// Article URL, for resolving relative links.
    pub base_url: Option<&'a str>,
    /// Heading level that maps to `<h1>` (to `<h2>` in a book, under the article title).
    pub top_level: u8,
    /// 1 for an article; 2 in a book, whose article titles are the `<h1>`s.
    pub heading_offset: u8,
    /// Heading id → section number, when the theme numbers headings.
    pub numbers: &'a HashMap<String, String>,
    /// Mark every other table body row with `class="stripe"` (the theme shades them).
    pub stripes: bool,
}

/// Renders blocks of one file; keeps per-file state such as footnote back-references.
pub struct Renderer<'a> {
    ctx: &'a Context<'a>,
    file: String,
    /// Footnote labels referenced in this file, first reference first.
    pub refs_seen: HashMap<String, usize>,
    /// Links that had to be dropped (relative without base, unknown fragment).
    pub dropped_links: Vec<String>,
}

impl<'a> Renderer<'a> {
    /// A renderer for the content file named `file`.
    pub fn new(ctx: &'a Context<'a>, file: &str) -> Self {
        Renderer {
            ctx,
            file: file.to_string(),
            refs_seen: HashMap::new(),
            dropped_links: Vec::new(),
        }
    }

    fn href_to(&self, file: &str, id: &str) -> String {
        if file == self.file {
            format!("#{id}")
        } else {
            format!("{file}#{id}")
        }
    }

    /// Appends the XHTML of a file's top-level `blocks`, giving the paragraph at index
    /// `drop_cap` (see [`super::dropcap`]) its drop cap.
    pub fn top_blocks(&mut self, blocks: &[Block], drop_cap: Option<usize>, out: &mut String) {
        for (i, b) in blocks.iter().enumerate() {
            match b {
                Block::Paragraph { content } if Some(i) == drop_cap => {
                    self.drop_cap_paragraph(content, out)
                }
                _ => self.block(b, out),
            }
        }
    }

    /// A paragraph whose initial is wrapped for the drop cap, with no space between the span
    /// and the rest of the word.
    fn drop_cap_paragraph(&mut self, content: &[Inline], out: &mut String) {
        let split = match content.split_first() {
            Some((Inline::Text { text }, rest)) => {
                super::dropcap::split_initial(text).map(|(cap, tail)| (cap, tail, rest))
            }
            _ => None,
        };
        match split {
            Some((cap, tail, rest)) => {
                let _ = write!(
                    out,
                    "<p class=\"first\"><span class=\"dropcap\">{}</span>{}",
                    escape(cap),
                    escape(tail)
                );
                self.inlines(rest, out);
                out.push_str("</p>\n");
            }
            None => self.paragraph(content, out),
        }
    }

    fn paragraph(&mut self, content: &[Inline], out: &mut String) {
        if content.is_empty() {
            return;
        }
        out.push_str("<p>");
        self.inlines(content, out);
        out.push_str("</p>\n");
    }

    /// Appends the XHTML of `blocks` (footnote definitions are skipped: see [`Self::footnote`]).
    pub fn blocks(&mut self, blocks: &[Block], out: &mut String) {
        for b in blocks {
            self.block(b, out);
        }
    }

    fn block(&mut self, block: &Block, out: &mut String) {
        match block {
            Block::Heading { level, id, content } => {
                let h = level
                    .saturating_sub(self.ctx.top_level)
                    .saturating_add(self.ctx.heading_offset)
                    .clamp(1, 6);
                let _ = write!(out, "<h{h} id=\"{}\">", escape(id));
                if let Some(n) = self.ctx.numbers.get(id) {
                    let _ = write!(out, "<span class=\"secnum\">{}</span> ", escape(n));
                }
                self.inlines(content, out);
                let _ = writeln!(out, "</h{h}>");
            }
            Block::Paragraph { content } => self.paragraph(content, out),
            Block::Quote { blocks } => {
                out.push_str("<blockquote>\n");
                self.blocks(blocks, out);
                out.push_str("</blockquote>\n");
            }
            Block::List(list) => self.list(list, out),
            Block::Code { language, text } => {
                match language {
                    Some(lang) => {
                        let class: String = lang
                            .chars()
                            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '+'))
                            .collect();
                        let _ = write!(out, "<pre><code class=\"language-{class}\">");
                    }
                    None => out.push_str("<pre><code>"),
                }
                out.push_str(&escape(text));
                out.push_str("</code></pre>\n");
            }
            Block::Figure(fig) => self.figure(fig, out),
            Block::Table(table) => self.table(table, out),
            Block::Rule => out.push_str("<hr/>\n"),
            Block::FootnoteDef { .. } | Block::Article { .. } => {}
            Block::RawHtml { html } => {
                let text = raw_html::text_of(html);
                if !text.is_empty() {
                    let _ = writeln!(out, "<p class=\"raw\">{}</p>", escape(&text));
                }
            }
        }
    }

    fn list(&mut self, list: &List, out: &mut String) {
        let tag = match list.kind {
            ListKind::Bullet => "ul",
            ListKind::Ordered { .. } => "ol",
        };
        let tasks = list.items.iter().any(|i| i.task.is_some());
        let mut classes = Vec::new();
        if !list.tight {
            classes.push("loose");
        }
        if tasks {
            classes.push("tasks");
        }
        let class = if classes.is_empty() {
            String::new()
        } else {
            format!(" class=\"{}\"", classes.join(" "))
        };
        match list.kind {
            ListKind::Ordered { start } if start != 1 => {
                let _ = writeln!(out, "<{tag}{class} start=\"{start}\">");
            }
            _ => {
                let _ = writeln!(out, "<{tag}{class}>");
            }
        }
        for item in &list.items {
            out.push_str("<li>");
            if let Some(done) = item.task {
                out.push_str(if done {
                    "<span class=\"check\">☑</span> "
                } else {
                    "<span class=\"check\">☐</span> "
                });
            }
            // Tight items hold bare paragraphs: render their text without <p>.
            if list.tight {
                for (i, b) in item.blocks.iter().enumerate() {
                    match b {
                        Block::Paragraph { content } => {
                            if i > 0 {
                                out.push_str("<br/>");
                            }
                            self.inlines(content, out);
                        }
                        other => {
                            out.push('\n');
                            self.block(other, out);
                        }
                    }
                }
            } else {
                out.push('\n');
                self.blocks(&item.blocks, out);
            }
            out.push_str("</li>\n");
        }
        let _ = writeln!(out, "</{tag}>");
    }

    fn figure(&mut self, fig: &Figure, out: &mut String) {
        match self.ctx.images.get(&fig.image.src) {
            Some(file) => {
                out.push_str("<figure>\n");
                let _ = write!(
                    out,
                    "<img src=\"{}\" alt=\"{}\"/>",
                    escape(file),
                    escape(&fig.image.alt)
                );
                if !fig.caption.is_empty() {
                    out.push_str("\n<figcaption>");
                    self.inlines(&fig.caption, out);
                    out.push_str("</figcaption>");
                }
                out.push_str("\n</figure>\n");
            }
            None => {
                out.push_str("<p class=\"missing-image\">");
                if fig.image.alt.trim().is_empty() {
                    out.push_str("[image]");
                } else {
                    let _ = write!(out, "[{}]", escape(&fig.image.alt));
                }
                if !fig.caption.is_empty() {
                    out.push(' ');
                    self.inlines(&fig.caption, out);
                }
                out.push_str("</p>\n");
            }
        }
    }

    fn table(&mut self, table: &Table, out: &mut String) {
        out.push_str("<table>\n");
        if !table.caption.is_empty() {
            out.push_str("<caption>");
            self.inlines(&table.caption, out);
            out.push_str("</caption>\n");
        }
        if let Some(header) = &table.header {
            out.push_str("<thead>");
            self.row("th", "", header, &table.align, out);
            out.push_str("</thead>\n");
        }
        if !table.rows.is_empty() {
            out.push_str("<tbody>\n");
            for (i, row) in table.rows.iter().enumerate() {
                // A class, not `:nth-child`, which Kindle ignores.
                let class = if self.ctx.stripes && i % 2 == 1 {
                    " class=\"stripe\""
                } else {
                    ""
                };
                self.row("td", class, row, &table.align, out);
                out.push('\n');
            }
            out.push_str("</tbody>\n");
        }
        out.push_str("</table>\n");
    }

    fn row(
        &mut self,
        tag: &str,
        tr_class: &str,
        cells: &[TableCell],
        align: &[Align],
        out: &mut String,
    ) {
        let _ = write!(out, "<tr{tr_class}>");
        for (i, cell) in cells.iter().enumerate() {
            let class = match align.get(i).copied().unwrap_or_default() {
                Align::Center => " class=\"center\"",
                Align::Right => " class=\"right\"",
                Align::Left | Align::Default => "",
            };
            let _ = write!(out, "<{tag}{class}>");
            self.inlines(&cell.content, out);
            let _ = write!(out, "</{tag}>");
        }
        out.push_str("</tr>");
    }

    /// Appends the XHTML of inline content.
    pub fn inlines(&mut self, inlines: &[Inline], out: &mut String) {
        for inline in inlines {
            self.inline(inline, out);
        }
    }

    fn wrap(&mut self, tag: &str, content: &[Inline], out: &mut String) {
        let _ = write!(out, "<{tag}>");
        self.inlines(content, out);
        let _ = write!(out, "</{tag}>");
    }

    fn inline(&mut self, inline: &Inline, out: &mut String) {
        match inline {
            Inline::Text { text } => out.push_str(&escape(text)),
            Inline::Emphasis { content } => self.wrap("em", content, out),
            Inline::Strong { content } => self.wrap("strong", content, out),
            Inline::Strikethrough { content } => self.wrap("del", content, out),
            Inline::Superscript { content } => self.wrap("sup", content, out),
            Inline::Subscript { content } => self.wrap("sub", content, out),
            Inline::Code { text } => {
                let _ = write!(out, "<code>{}</code>", escape(text));
            }
            Inline::Link {
                url,
                title,
                content,
            } => {
                let href = match links::classify(url, self.ctx.base_url) {
                    Target::Fragment(id) => self.ctx.ids.get(id).map(|file| self.href_to(file, id)),
                    Target::Absolute(abs) => Some(abs),
                    Target::Unusable => None,
                };
                match href {
                    Some(href) => {
                        let _ = write!(out, "<a href=\"{}\"", escape(&href));
                        if let Some(t) = title.as_deref().filter(|t| !t.is_empty()) {
                            let _ = write!(out, " title=\"{}\"", escape(t));
                        }
                        out.push('>');
                        self.inlines(content, out);
                        out.push_str("</a>");
                    }
                    None => {
                        self.dropped_links.push(url.clone());
                        self.inlines(content, out);
                    }
                }
            }
            Inline::Image(img) => match self.ctx.images.get(&img.src) {
                Some(file) => {
                    let _ = write!(
                        out,
                        "<img class=\"inline\" src=\"{}\" alt=\"{}\"/>",
                        escape(file),
                        escape(&img.alt)
                    );
                }
                None if !img.alt.trim().is_empty() => {
                    let _ = write!(
                        out,
                        "<span class=\"missing-image\">[{}]</span>",
                        escape(&img.alt)
                    );
                }
                None => {}
            },
            Inline::FootnoteRef { label } => match self.ctx.notes.get(label) {
                Some((n, file)) => {
                    let seen = self.refs_seen.entry(label.clone()).or_insert(0);
                    *seen += 1;
                    let id = if *seen == 1 {
                        format!("fnref_{n}")
                    } else {
                        format!("fnref_{n}_{seen}")
                    };
                    let href = self.href_to(file, &format!("fn_{n}"));
                    let _ = write!(
                        out,
                        "<sup><a epub:type=\"noteref\" role=\"doc-noteref\" class=\"noteref\" id=\"{id}\" href=\"{}\">{n}</a></sup>",
                        escape(&href)
                    );
                }
                None => {
                    let _ = write!(out, "<sup>[{}]</sup>", escape(label));
                }
            },
            Inline::LineBreak => out.push_str("<br/>"),
            Inline::RawHtml { html } => {
                if raw_html::is_line_break(html) {
                    out.push_str("<br/>");
                }
            }
        }
    }

    /// Appends a footnote as a pop-up `aside`, its back-link leading the first paragraph.
    pub fn footnote(&mut self, n: usize, blocks: &[Block], out: &mut String) {
        let _ = writeln!(
            out,
            "<aside epub:type=\"footnote\" role=\"doc-footnote\" class=\"footnote\" id=\"fn_{n}\">"
        );
        let backlink = if self
            .ctx
            .notes
            .values()
            .any(|(m, f)| *m == n && *f == self.file)
        {
            format!("<a href=\"#fnref_{n}\" role=\"doc-backlink\" class=\"backlink\">{n}.</a> ")
        } else {
            format!("<span class=\"backlink\">{n}.</span> ")
        };
        match blocks.split_first() {
            Some((Block::Paragraph { content }, rest)) => {
                out.push_str("<p>");
                out.push_str(&backlink);
                self.inlines(content, out);
                out.push_str("</p>\n");
                self.blocks(rest, out);
            }
            _ => {
                let _ = writeln!(out, "<p>{backlink}</p>");
                self.blocks(blocks, out);
            }
        }
        out.push_str("</aside>\n");
    }
}

/// Plain text of a heading, for the table of contents.
pub fn heading_text(content: &[Inline]) -> String {
    let t = plain_text(content);
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        "Untitled section".into()
    } else {
        t
    }
}
