//! The cleaned article DOM to model blocks.
//!
//! Elements the model has no place for are transparent (their content is kept, the wrapper
//! dropped); scripts, forms, tracking pixels and the like are dropped with their content.
//! Nesting beyond [`MAX_DEPTH`] is flattened to text so hostile pages cannot overflow the stack.

use dom_query::NodeRef;

use super::url::{best_candidate, has_scheme, is_web_url, parse_srcset, resolve};
use crate::model::{
    Align, Block, Figure, Image, Inline, List, ListItem, ListKind, Table, TableCell,
};

/// Element nesting walked structurally; deeper content becomes plain text.
pub const MAX_DEPTH: usize = 64;

/// Most columns a table keeps; a hostile `colspan` cannot make rows huge.
const MAX_COLUMNS: usize = 64;

/// Walks DOM nodes into blocks.
pub(super) struct Walker {
    /// Base URL for links and images (from `<base href>` or the page URL).
    pub base: Option<String>,
}

/// How an element takes part in the block structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Dropped with its content.
    Skip,
    /// Flows inside a paragraph.
    Inline,
    /// Starts and ends a block.
    Block,
}

fn kind(name: &str) -> Kind {
    match name {
        "script" | "style" | "noscript" | "template" | "head" | "title" | "meta" | "link"
        | "input" | "button" | "select" | "option" | "optgroup" | "textarea" | "datalist"
        | "output" | "progress" | "meter" | "dialog" | "canvas" | "svg" | "map" | "area"
        | "param" | "source" | "track" | "base" | "frameset" | "frame" => Kind::Skip,
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "ul" | "ol" | "menu"
        | "dl" | "dt" | "dd" | "li" | "pre" | "figure" | "figcaption" | "table" | "thead"
        | "tbody" | "tfoot" | "tr" | "td" | "th" | "caption" | "colgroup" | "col" | "hr"
        | "div" | "section" | "article" | "main" | "header" | "footer" | "aside" | "nav"
        | "address" | "center" | "details" | "summary" | "fieldset" | "legend" | "form"
        | "hgroup" | "body" | "html" | "iframe" | "video" | "audio" | "embed" | "object"
        | "listing" | "xmp" | "plaintext" => Kind::Block,
        _ => Kind::Inline,
    }
}

fn name_of(node: &NodeRef) -> String {
    node.node_name()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default()
}

fn attr(node: &NodeRef, name: &str) -> Option<String> {
    node.attr(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether any element below `node` breaks the flow of text (so `node` cannot be a span).
fn has_block_descendant(node: &NodeRef) -> bool {
    node.descendants_it().any(|d| {
        d.is_element()
            && kind(&name_of(&d)) == Kind::Block
            // Embeds become links, which fit inside a span.
            && !matches!(name_of(&d).as_str(), "iframe" | "video" | "audio" | "embed" | "object")
    })
}

/// Collapses HTML whitespace runs to one space.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c') {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

impl Walker {
    /// The blocks of `node`'s children.
    pub fn blocks(&mut self, node: &NodeRef, depth: usize) -> Vec<Block> {
        let mut out = Vec::new();
        let mut pending = Vec::new();
        self.children_into(node, depth, &mut out, &mut pending);
        flush(&mut out, &mut pending);
        out
    }

    fn children_into(
        &mut self,
        node: &NodeRef,
        depth: usize,
        out: &mut Vec<Block>,
        pending: &mut Vec<Inline>,
    ) {
        for child in node.children_it(false) {
            self.block_child(&child, depth, out, pending);
        }
    }

    fn block_child(
        &mut self,
        node: &NodeRef,
        depth: usize,
        out: &mut Vec<Block>,
        pending: &mut Vec<Inline>,
    ) {
        if node.is_text() {
            pending.push(Inline::text(collapse(&node.text())));
            return;
        }
        if !node.is_element() {
            return;
        }
        let name = name_of(node);
        if depth >= MAX_DEPTH {
            if kind(&name) != Kind::Skip {
                pending.push(Inline::text(collapse(&node.text())));
                pending.push(Inline::text(" "));
            }
            return;
        }
        match kind(&name) {
            Kind::Skip => {}
            Kind::Inline if name == "br" => {
                // Two breaks in a row separate paragraphs, as old CMS output uses them.
                if matches!(last_significant(pending), Some(Inline::LineBreak)) {
                    flush(out, pending);
                } else {
                    pending.push(Inline::LineBreak);
                }
            }
            Kind::Inline if !has_block_descendant(node) => {
                self.inline_child(node, depth, pending);
            }
            // A span or link wrapping blocks: keep the blocks, lose the wrapper.
            Kind::Inline => self.children_into(node, depth + 1, out, pending),
            Kind::Block => {
                flush(out, pending);
                self.block_element(node, &name, depth + 1, out);
            }
        }
    }

    fn block_element(&mut self, node: &NodeRef, name: &str, depth: usize, out: &mut Vec<Block>) {
        match name {
            "p" => {
                let mut pending = Vec::new();
                let mut inner = Vec::new();
                self.children_into(node, depth, &mut inner, &mut pending);
                flush(&mut inner, &mut pending);
                out.extend(inner);
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name[1..].parse().unwrap_or(2);
                let mut content = Vec::new();
                self.inlines(node, depth, &mut content);
                normalize(&mut content);
                if !content.is_empty() {
                    out.push(Block::Heading {
                        level,
                        id: String::new(),
                        content,
                    });
                }
            }
            "blockquote" => {
                let blocks = self.blocks(node, depth);
                if !blocks.is_empty() {
                    out.push(Block::Quote { blocks });
                } else if is_social_embed(node) {
                    // An embed whose text the page loads by script: keep a link to it.
                    let link = node
                        .descendants_it()
                        .filter(|d| d.is_element() && name_of(d) == "a")
                        .filter_map(|a| attr(&a, "href").and_then(|h| self.link_target(&h)))
                        .last();
                    if let Some(url) = link {
                        out.push(Block::Paragraph {
                            content: vec![Inline::Link {
                                content: vec![Inline::text(format!(
                                    "Embedded post: {}",
                                    host_of(&url)
                                ))],
                                url,
                                title: None,
                            }],
                        });
                    }
                }
            }
            "ul" | "ol" | "menu" => self.list(node, name, depth, out),
            "dl" => {
                for child in node.element_children() {
                    match name_of(&child).as_str() {
                        "dt" => {
                            let mut content = Vec::new();
                            self.inlines(&child, depth + 1, &mut content);
                            normalize(&mut content);
                            if !content.is_empty() {
                                out.push(Block::Paragraph {
                                    content: vec![Inline::Strong { content }],
                                });
                            }
                        }
                        _ => out.extend(self.blocks(&child, depth + 1)),
                    }
                }
            }
            "pre" | "listing" | "xmp" | "plaintext" => {
                let mut text = String::new();
                pre_text(node, depth, &mut text);
                let text = text
                    .strip_prefix('\n')
                    .unwrap_or(&text)
                    .trim_end()
                    .to_string();
                if !text.trim().is_empty() {
                    out.push(Block::Code {
                        language: code_language(node),
                        text,
                    });
                }
            }
            "figure" => self.figure(node, depth, out),
            "table" => self.table(node, depth, out),
            "hr" => out.push(Block::Rule),
            "iframe" | "video" | "audio" | "embed" | "object" => {
                if let Some(link) = self.embed(node, name) {
                    out.push(Block::Paragraph {
                        content: vec![link],
                    });
                }
            }
            _ => {
                let mut pending = Vec::new();
                self.children_into(node, depth, out, &mut pending);
                flush(out, &mut pending);
            }
        }
    }

    fn list(&mut self, node: &NodeRef, name: &str, depth: usize, out: &mut Vec<Block>) {
        let kind = if name == "ol" {
            let start = attr(node, "start")
                .and_then(|s| s.parse::<i64>().ok())
                .map_or(1, |s| s.max(0) as u64);
            ListKind::Ordered { start }
        } else {
            ListKind::Bullet
        };
        let mut items: Vec<ListItem> = Vec::new();
        for child in node.children_it(false) {
            if child.is_element() && name_of(&child) == "li" {
                let task = task_marker(&child);
                items.push(ListItem {
                    task,
                    blocks: self.blocks(&child, depth + 1),
                });
            } else {
                // Stray content between items (invalid markup) joins the item before it.
                let mut blocks = Vec::new();
                let mut pending = Vec::new();
                self.block_child(&child, depth + 1, &mut blocks, &mut pending);
                flush(&mut blocks, &mut pending);
                if blocks.is_empty() {
                    continue;
                }
                match items.last_mut() {
                    Some(item) => item.blocks.extend(blocks),
                    None => items.push(ListItem { task: None, blocks }),
                }
            }
        }
        items.retain(|i| !i.blocks.is_empty());
        if items.is_empty() {
            return;
        }
        let tight = items.iter().all(|i| {
            i.blocks
                .iter()
                .filter(|b| matches!(b, Block::Paragraph { .. }))
                .count()
                <= 1
        });
        out.push(Block::List(List { kind, tight, items }));
    }

    fn figure(&mut self, node: &NodeRef, depth: usize, out: &mut Vec<Block>) {
        let mut blocks = Vec::new();
        let mut pending = Vec::new();
        let mut caption = Vec::new();
        for child in node.children_it(false) {
            if child.is_element() && name_of(&child) == "figcaption" {
                let mut c = Vec::new();
                self.caption_inlines(&child, depth + 1, &mut c);
                if !c.is_empty() {
                    if !caption.is_empty() {
                        caption.push(Inline::text(" "));
                    }
                    caption.extend(c);
                }
            } else {
                self.block_child(&child, depth, &mut blocks, &mut pending);
            }
        }
        flush(&mut blocks, &mut pending);
        normalize(&mut caption);
        if !caption.is_empty() {
            match blocks.last_mut() {
                Some(Block::Figure(fig)) if fig.caption.is_empty() => fig.caption = caption,
                _ => blocks.push(Block::Paragraph { content: caption }),
            }
        }
        out.extend(blocks);
    }

    /// Caption text: a figcaption may hold paragraphs, which become line breaks.
    fn caption_inlines(&mut self, node: &NodeRef, depth: usize, out: &mut Vec<Inline>) {
        let blocks = self.blocks(node, depth);
        flatten_blocks(blocks, out);
    }

    fn table(&mut self, node: &NodeRef, depth: usize, out: &mut Vec<Block>) {
        let mut rows: Vec<(NodeRef, bool)> = Vec::new();
        let mut caption = Vec::new();
        for child in node.element_children() {
            match name_of(&child).as_str() {
                "tr" => rows.push((child, false)),
                section @ ("thead" | "tbody" | "tfoot") => {
                    for tr in child.element_children() {
                        if name_of(&tr) == "tr" {
                            rows.push((tr, section == "thead"));
                        }
                    }
                }
                "caption" => self.caption_inlines(&child, depth + 1, &mut caption),
                _ => {}
            }
        }
        let columns = rows
            .iter()
            .map(|(tr, _)| cells_of(tr).len())
            .max()
            .unwrap_or(0);
        if is_layout_table(node, columns, rows.len()) {
            // Layout tables only position content: keep it in reading order.
            for (tr, _) in &rows {
                for cell in cells_of(tr) {
                    out.extend(self.blocks(&cell, depth + 2));
                }
            }
            if !caption.is_empty() {
                out.push(Block::Paragraph { content: caption });
            }
            return;
        }
        let mut header = None;
        let mut body = Vec::new();
        let mut align = Vec::new();
        for (i, (tr, in_head)) in rows.iter().enumerate() {
            let cells = cells_of(tr);
            let all_th = !cells.is_empty() && cells.iter().all(|c| name_of(c) == "th");
            let mut row = Vec::new();
            for cell in &cells {
                let mut content = Vec::new();
                let blocks = self.blocks(cell, depth + 2);
                flatten_blocks(blocks, &mut content);
                if align.len() <= row.len() && (i == 0 || *in_head || all_th) {
                    align.resize(row.len() + 1, Align::Default);
                    align[row.len()] = cell_align(cell);
                }
                row.push(TableCell { content });
                let span = attr(cell, "colspan")
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, MAX_COLUMNS);
                for _ in 1..span {
                    row.push(TableCell::default());
                }
                if row.len() >= MAX_COLUMNS {
                    row.truncate(MAX_COLUMNS);
                    break;
                }
            }
            // Only one header row fits the model; later ones stay as body rows.
            if header.is_none() && body.is_empty() && (*in_head || all_th) {
                header = Some(row);
            } else {
                body.push(row);
            }
        }
        let width = header
            .iter()
            .chain(body.iter())
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        if width == 0 {
            return;
        }
        let fit = |row: &mut Vec<TableCell>| row.resize(width, TableCell::default());
        if let Some(h) = header.as_mut() {
            fit(h);
        }
        body.iter_mut().for_each(fit);
        align.resize(width, Align::Default);
        normalize(&mut caption);
        out.push(Block::Table(Table {
            align,
            header,
            rows: body,
            caption,
        }));
    }

    /// Inline content of `node`'s children.
    fn inlines(&mut self, node: &NodeRef, depth: usize, out: &mut Vec<Inline>) {
        for child in node.children_it(false) {
            self.inline_child(&child, depth, out);
        }
    }

    fn inline_child(&mut self, node: &NodeRef, depth: usize, out: &mut Vec<Inline>) {
        if node.is_text() {
            out.push(Inline::text(collapse(&node.text())));
            return;
        }
        if !node.is_element() {
            return;
        }
        let name = name_of(node);
        if kind(&name) == Kind::Skip {
            return;
        }
        if depth >= MAX_DEPTH {
            out.push(Inline::text(collapse(&node.text())));
            return;
        }
        let depth = depth + 1;
        let mut wrap = |this: &mut Self, f: fn(Vec<Inline>) -> Inline| {
            let mut content = Vec::new();
            this.inlines(node, depth, &mut content);
            out.push(f(content));
        };
        match name.as_str() {
            "em" | "i" | "cite" | "dfn" | "var" => {
                wrap(self, |content| Inline::Emphasis { content })
            }
            "strong" | "b" => wrap(self, |content| Inline::Strong { content }),
            "s" | "del" | "strike" => wrap(self, |content| Inline::Strikethrough { content }),
            "sup" => wrap(self, |content| Inline::Superscript { content }),
            "sub" => wrap(self, |content| Inline::Subscript { content }),
            "code" | "kbd" | "samp" | "tt" => {
                let text = collapse(&node.text());
                if !text.trim().is_empty() {
                    out.push(Inline::Code { text });
                }
            }
            "br" => out.push(Inline::LineBreak),
            "a" => {
                let mut content = Vec::new();
                self.inlines(node, depth, &mut content);
                match attr(node, "href").and_then(|h| self.link_target(&h)) {
                    Some(url) => out.push(Inline::Link {
                        url,
                        title: attr(node, "title"),
                        content,
                    }),
                    None => out.extend(content),
                }
            }
            "img" => {
                if let Some(img) = self.image(node) {
                    out.push(Inline::Image(img));
                }
            }
            "picture" => {
                if let Some(img) = node
                    .descendants_it()
                    .find(|d| d.is_element() && name_of(d) == "img")
                    .and_then(|img| self.image(&img))
                {
                    out.push(Inline::Image(img));
                }
            }
            "iframe" | "video" | "audio" | "embed" | "object" => {
                if let Some(link) = self.embed(node, &name) {
                    out.push(link);
                }
            }
            "q" => {
                out.push(Inline::text("\u{201c}"));
                self.inlines(node, depth, out);
                out.push(Inline::text("\u{201d}"));
            }
            "math" => {
                // The visible MathML text; `<annotation>` holds the TeX source, not for readers.
                let text: String = node
                    .descendants_it()
                    .filter(|d| {
                        d.is_text()
                            && !d.ancestors_it(Some(8)).any(|a| {
                                matches!(name_of(&a).as_str(), "annotation" | "annotation-xml")
                            })
                    })
                    .map(|t| t.text().to_string())
                    .collect();
                match collapse(&text).trim() {
                    "" => out.extend(attr(node, "alttext").map(Inline::text)),
                    t => out.push(Inline::text(t)),
                }
            }
            "wbr" => {}
            _ => self.inlines(node, depth, out),
        }
    }

    /// A link target the output can use: absolute, or `None` to keep only the text.
    fn link_target(&self, href: &str) -> Option<String> {
        let url = resolve(self.base.as_deref(), href)?;
        let lower = url.to_ascii_lowercase();
        let usable = is_web_url(&url)
            || ["mailto:", "ftp://", "tel:", "news:", "doi:"]
                .iter()
                .any(|s| lower.starts_with(s));
        usable.then_some(url)
    }

    /// The image an `<img>` shows, or `None` for tracking pixels and empty placeholders.
    fn image(&self, img: &NodeRef) -> Option<Image> {
        if is_tracking_pixel(img) {
            return None;
        }
        let mut candidates = Vec::new();
        for key in ["srcset", "data-srcset", "data-lazy-srcset"] {
            if let Some(s) = attr(img, key) {
                candidates.extend(parse_srcset(&s));
            }
        }
        if let Some(picture) = img.parent().filter(|p| name_of(p) == "picture") {
            for source in picture.element_children() {
                let usable_type = attr(&source, "type").is_none_or(|t| {
                    matches!(
                        t.to_ascii_lowercase().as_str(),
                        "image/jpeg" | "image/jpg" | "image/png" | "image/gif" | "image/webp"
                    )
                });
                if name_of(&source) == "source" && usable_type {
                    for key in ["srcset", "data-srcset"] {
                        if let Some(s) = attr(&source, key) {
                            candidates.extend(parse_srcset(&s));
                        }
                    }
                }
            }
        }
        candidates.retain(|c| plausible_url(&c.url));
        let lazy = [
            "data-src",
            "data-original",
            "data-lazy-src",
            "data-hi-res-src",
            "data-url",
        ]
        .iter()
        .find_map(|k| attr(img, k).filter(|u| plausible_url(u)));
        let src = attr(img, "src").filter(|s| !is_placeholder(s) && plausible_url(s));
        let chosen = best_candidate(&candidates)
            .map(|c| c.url.clone())
            .or(lazy)
            .or(src)?;
        let src = match (&self.base, has_scheme(&chosen)) {
            (Some(_), false) => resolve(self.base.as_deref(), &chosen)?,
            _ => chosen,
        };
        if is_tracker_url(&src) {
            return None;
        }
        Some(Image {
            src,
            alt: attr(img, "alt").map(|a| alt_text(&a)).unwrap_or_default(),
            title: attr(img, "title").map(|t| collapse(&t)),
        })
    }

    /// A link standing in for an embedded player: "Embedded video: title".
    fn embed(&self, node: &NodeRef, name: &str) -> Option<Inline> {
        let src = attr(node, "src")
            .or_else(|| attr(node, "data-src"))
            .or_else(|| attr(node, "data"))
            .or_else(|| {
                node.element_children()
                    .iter()
                    .filter(|c| name_of(c) == "source")
                    .find_map(|c| attr(c, "src"))
            })
            .and_then(|s| self.link_target(&s));
        let lower = src.as_deref().unwrap_or("").to_ascii_lowercase();
        let what = match name {
            "video" => "video",
            "audio" => "audio",
            _ if [
                "youtube",
                "youtu.be",
                "vimeo",
                "dailymotion",
                "twitch",
                "ted.com",
            ]
            .iter()
            .any(|s| lower.contains(s)) =>
            {
                "video"
            }
            _ if ["soundcloud", "spotify", "bandcamp"]
                .iter()
                .any(|s| lower.contains(s)) =>
            {
                "audio"
            }
            _ if lower.contains("twitter.com") || lower.contains("x.com/") => "post",
            _ => "content",
        };
        let title = attr(node, "title")
            .or_else(|| attr(node, "aria-label"))
            .map(|t| collapse(&t))
            .or_else(|| src.as_deref().map(host_of))?;
        let text = vec![Inline::text(format!("Embedded {what}: {title}"))];
        Some(match src {
            Some(url) => Inline::Link {
                url,
                title: None,
                content: text,
            },
            None => Inline::Emphasis { content: text },
        })
    }
}

fn cells_of<'a>(tr: &NodeRef<'a>) -> Vec<NodeRef<'a>> {
    tr.element_children()
        .into_iter()
        .filter(|c| matches!(name_of(c).as_str(), "td" | "th"))
        .collect()
}

fn last_significant(v: &[Inline]) -> Option<&Inline> {
    v.iter()
        .rev()
        .find(|i| !matches!(i, Inline::Text { text } if text.trim().is_empty()))
}

/// Text of a `<pre>`, verbatim, with `<br>` as newlines.
fn pre_text(node: &NodeRef, depth: usize, out: &mut String) {
    for child in node.children_it(false) {
        if child.is_text() {
            out.push_str(&child.text());
        } else if child.is_element() {
            let name = name_of(&child);
            if name == "br" {
                out.push('\n');
            } else if kind(&name) == Kind::Skip {
            } else if depth >= MAX_DEPTH {
                out.push_str(&child.text());
            } else {
                pre_text(&child, depth + 1, out);
            }
        }
    }
}

/// `language-x` / `lang-x` on the `<pre>` or its `<code>`, or `data-lang`.
fn code_language(pre: &NodeRef) -> Option<String> {
    let code = pre
        .element_children()
        .into_iter()
        .find(|c| name_of(c) == "code");
    for node in std::iter::once(*pre).chain(code) {
        if let Some(class) = node.attr("class") {
            for c in class.split_whitespace() {
                if let Some(lang) = c
                    .strip_prefix("language-")
                    .or_else(|| c.strip_prefix("lang-"))
                    .or_else(|| c.strip_prefix("highlight-source-"))
                    .filter(|l| !l.is_empty() && l.len() <= 32)
                {
                    return Some(lang.to_ascii_lowercase());
                }
            }
        }
        if let Some(lang) = attr(&node, "data-lang").or_else(|| attr(&node, "data-language")) {
            return Some(lang.to_ascii_lowercase());
        }
    }
    None
}

fn task_marker(li: &NodeRef) -> Option<bool> {
    let first = li
        .descendants_it()
        .find(|d| d.is_element() || d.is_nonempty_text())?;
    let is_checkbox = first.is_element()
        && name_of(&first) == "input"
        && attr(&first, "type").is_some_and(|t| t.eq_ignore_ascii_case("checkbox"));
    is_checkbox.then(|| first.has_attr("checked"))
}

fn is_layout_table(table: &NodeRef, columns: usize, rows: usize) -> bool {
    let role = attr(table, "role").unwrap_or_default().to_ascii_lowercase();
    if role == "presentation" || role == "none" {
        return true;
    }
    let mut paragraphs = 0;
    for d in table.descendants_it().filter(NodeRef::is_element) {
        match name_of(&d).as_str() {
            "table" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" | "figure"
            | "article" | "section" => return true,
            "p" => paragraphs += 1,
            _ => {}
        }
    }
    (columns <= 1 || rows <= 1) && paragraphs > 0 || paragraphs > 2 * rows.max(1) * columns.max(1)
}

fn cell_align(cell: &NodeRef) -> Align {
    let style = attr(cell, "style").unwrap_or_default().to_ascii_lowercase();
    let from_style = style.split(';').find_map(|decl| {
        let (k, v) = decl.split_once(':')?;
        (k.trim() == "text-align").then(|| v.trim().to_string())
    });
    match from_style
        .or_else(|| attr(cell, "align").map(|a| a.to_ascii_lowercase()))
        .as_deref()
    {
        Some("left" | "start") => Align::Left,
        Some("center" | "middle") => Align::Center,
        Some("right" | "end") => Align::Right,
        _ => Align::Default,
    }
}

fn is_tracking_pixel(img: &NodeRef) -> bool {
    let tiny = |k: &str| {
        attr(img, k).is_some_and(|v| {
            v.trim_end_matches("px")
                .trim()
                .parse::<f32>()
                .is_ok_and(|n| n <= 1.0)
        })
    };
    tiny("width") && tiny("height")
}

fn is_tracker_url(src: &str) -> bool {
    const TRACKERS: &[&str] = &[
        "doubleclick.net",
        "google-analytics.com",
        "googletagmanager.com",
        "facebook.com/tr",
        "scorecardresearch.com",
        "quantserve.com",
        "pixel.wp.com",
        "/pixel.gif",
        "/pixel.png",
        "/1x1.gif",
        "/spacer.gif",
        "/blank.gif",
        "/beacon",
        "b.gif?",
        "chartbeat.net",
        "parsely.com/plogger",
    ];
    let lower = src.to_ascii_lowercase();
    TRACKERS.iter().any(|t| lower.contains(t))
}

/// A tweet, Instagram or TikTok embed: its text (when saved) is kept as a quote.
fn is_social_embed(node: &NodeRef) -> bool {
    node.attr("class").is_some_and(|c| {
        c.split_whitespace().any(|c| {
            matches!(
                c,
                "twitter-tweet" | "twitter-video" | "instagram-media" | "tiktok-embed"
            )
        })
    })
}

/// Whether an attribute value can be an image URL at all: lazy-loading scripts store JSON
/// and templates in `data-*` attributes.
fn plausible_url(s: &str) -> bool {
    !s.is_empty()
        && (s.starts_with("data:")
            || !s.contains(|c: char| c.is_whitespace() || "{}<>\"\\`".contains(c)))
}

/// The host of a URL (`www.youtube.com`), to name an embed without a title.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host.rsplit('@').next().unwrap_or(host).to_string()
}

/// Alt text as text: some CMSs put markup in `alt`.
fn alt_text(alt: &str) -> String {
    if alt.contains('<') {
        let frag = dom_query::Document::fragment(alt);
        collapse(&frag.root().text()).trim().to_string()
    } else {
        collapse(alt).trim().to_string()
    }
}

/// A lazy-loading stand-in (tiny inline GIF/SVG, "placeholder" file) rather than the image.
fn is_placeholder(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    (lower.starts_with("data:") && src.len() < 200)
        || lower.contains("placeholder")
        || lower.contains("lazy-load")
        || lower.ends_with("/blank.gif")
}

/// Inline content of blocks, for table cells and captions: blocks joined by line breaks.
fn flatten_blocks(blocks: Vec<Block>, out: &mut Vec<Inline>) {
    for block in blocks {
        if !out.is_empty() {
            out.push(Inline::LineBreak);
        }
        match block {
            Block::Paragraph { content } | Block::Heading { content, .. } => out.extend(content),
            Block::Figure(fig) => {
                out.push(Inline::Image(fig.image));
                if !fig.caption.is_empty() {
                    out.push(Inline::LineBreak);
                    out.extend(fig.caption);
                }
            }
            Block::Code { text, .. } => out.push(Inline::Code { text }),
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                flatten_blocks(blocks, out)
            }
            Block::List(list) => {
                for item in list.items {
                    flatten_blocks(item.blocks, out);
                }
            }
            Block::Table(t) => {
                for row in t.header.into_iter().chain(t.rows) {
                    for cell in row {
                        out.extend(cell.content);
                        out.push(Inline::text(" "));
                    }
                }
            }
            Block::Rule | Block::RawHtml { .. } | Block::Article { .. } => {}
        }
    }
    normalize(out);
}

/// Ends the pending run of inline content as a paragraph (or a figure for a lone image).
fn flush(out: &mut Vec<Block>, pending: &mut Vec<Inline>) {
    let mut content = std::mem::take(pending);
    normalize(&mut content);
    if content.is_empty() {
        return;
    }
    // Images that stand alone (or with line breaks between them) are figures.
    let mut images = Vec::new();
    if collect_lone_images(&content, &mut images) && !images.is_empty() {
        out.extend(images.into_iter().map(|image| {
            Block::Figure(Figure {
                image,
                caption: Vec::new(),
            })
        }));
        return;
    }
    out.push(Block::Paragraph { content });
}

/// Whether `content` is only images (possibly linked) and line breaks; collects them.
fn collect_lone_images(content: &[Inline], images: &mut Vec<Image>) -> bool {
    content.iter().all(|i| match i {
        Inline::Image(img) => {
            images.push(img.clone());
            true
        }
        Inline::LineBreak => true,
        Inline::Text { text } => text.trim().is_empty(),
        Inline::Link { content, .. } => collect_lone_images(content, images),
        _ => false,
    })
}

/// Collapses whitespace across element boundaries, trims the ends, drops empty spans and
/// line breaks at the edges, and merges adjacent text.
pub(super) fn normalize(content: &mut Vec<Inline>) {
    let mut space_before = true;
    collapse_across(content, &mut space_before);
    prune(content);
    trim_end(content);
}

fn collapse_across(content: &mut Vec<Inline>, space_before: &mut bool) {
    let mut out: Vec<Inline> = Vec::with_capacity(content.len());
    for mut inline in content.drain(..) {
        match &mut inline {
            Inline::Text { text } => {
                if *space_before && text.starts_with(' ') {
                    text.remove(0);
                }
                if text.is_empty() {
                    continue;
                }
                *space_before = text.ends_with(' ');
                if let Some(Inline::Text { text: prev }) = out.last_mut() {
                    prev.push_str(text);
                    continue;
                }
            }
            Inline::LineBreak => {
                trim_end(&mut out);
                *space_before = true;
            }
            Inline::Code { .. } | Inline::Image(_) | Inline::FootnoteRef { .. } => {
                *space_before = false;
            }
            Inline::RawHtml { .. } => {}
            Inline::Emphasis { content }
            | Inline::Strong { content }
            | Inline::Strikethrough { content }
            | Inline::Superscript { content }
            | Inline::Subscript { content }
            | Inline::Link { content, .. } => collapse_across(content, space_before),
        }
        out.push(inline);
    }
    *content = out;
}

/// Drops empty styling spans, empty links and empty text.
fn prune(content: &mut Vec<Inline>) {
    content.retain_mut(|inline| match inline {
        Inline::Text { text } => !text.is_empty(),
        // A link left without text (an icon whose image was dropped) has nothing to show.
        Inline::Link { content, .. } => {
            prune(content);
            !content.is_empty()
        }
        Inline::Emphasis { content }
        | Inline::Strong { content }
        | Inline::Strikethrough { content }
        | Inline::Superscript { content }
        | Inline::Subscript { content } => {
            prune(content);
            !content.is_empty()
        }
        _ => true,
    });
    // Leading whitespace and breaks at the very start.
    while let Some(first) = content.first_mut() {
        match first {
            Inline::LineBreak => {
                content.remove(0);
            }
            Inline::Text { text } if text.trim_start().is_empty() => {
                content.remove(0);
            }
            Inline::Text { text } => {
                let trimmed = text.trim_start().to_string();
                *text = trimmed;
                break;
            }
            _ => break,
        }
    }
}

/// Removes trailing whitespace and line breaks, descending into the last span.
fn trim_end(content: &mut Vec<Inline>) {
    while let Some(last) = content.last_mut() {
        match last {
            Inline::LineBreak => {
                content.pop();
            }
            Inline::Text { text } => {
                let len = text.trim_end().len();
                text.truncate(len);
                if text.is_empty() {
                    content.pop();
                } else {
                    break;
                }
            }
            Inline::Emphasis { content: inner }
            | Inline::Strong { content: inner }
            | Inline::Strikethrough { content: inner }
            | Inline::Superscript { content: inner }
            | Inline::Subscript { content: inner }
            | Inline::Link { content: inner, .. } => {
                trim_end(inner);
                if inner.is_empty() {
                    content.pop();
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
}
