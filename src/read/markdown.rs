//! Markdown reader: CommonMark + GFM (tables, footnotes, strikethrough, task lists, GFM alerts),
//! smart punctuation, heading attributes, definition lists and superscript, with optional
//! YAML `---` or TOML `+++` front matter.
//!
//! pulldown-cmark's event stream is folded into the model with an explicit stack (no
//! recursion), so hostile nesting cannot overflow the stack; containers nested deeper than
//! [`MAX_BLOCK_DEPTH`] and spans deeper than [`MAX_INLINE_DEPTH`] are flattened into the
//! enclosing node, keeping their text, so writers that recurse over the model stay bounded.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use pulldown_cmark::{
    Alignment, BlockQuoteKind, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd,
};

use super::front_matter::{self, FrontMatterError};
use crate::model::slug::{Slugger, is_valid_id, slugify};
use crate::model::{
    Align, Block, Document, Figure, Image, Inline, List, ListItem, ListKind, Meta, Table,
    TableCell, plain_text,
};

/// Deepest nesting of block containers (quotes, lists, footnotes, definitions) kept as such.
pub const MAX_BLOCK_DEPTH: usize = 64;
/// Deepest nesting of inline spans (emphasis, links, …) kept as such.
pub const MAX_INLINE_DEPTH: usize = 64;

/// Why a Markdown source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MarkdownError {
    /// Front matter that does not parse; `line` is 1-based in the whole source file.
    #[error("line {line}: malformed {format} front matter: {message}")]
    FrontMatter {
        /// 1-based line in the source file.
        line: usize,
        /// `"YAML"` or `"TOML"`.
        format: &'static str,
        /// What the parser said.
        message: String,
    },
}

impl From<FrontMatterError> for MarkdownError {
    fn from(e: FrontMatterError) -> Self {
        MarkdownError::FrontMatter {
            line: e.line,
            format: e.format,
            message: e.message,
        }
    }
}

/// Reads Markdown (CommonMark + GFM) with optional YAML `---` or TOML `+++` front matter.
pub fn read(source: &str) -> Result<Document, MarkdownError> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let (mut meta, body) = match front_matter::split(source) {
        Some(fm) => match front_matter::parse(&fm)? {
            Some(meta) => (meta, fm.body),
            None => (Meta::default(), source),
        },
        None => {
            front_matter::pandoc_title_block(source).unwrap_or_else(|| (Meta::default(), source))
        }
    };
    let mut blocks = Builder::new().run(body);
    take_title(&mut meta, &mut blocks);
    assign_heading_ids(&mut blocks);
    Ok(Document { meta, blocks })
}

/// The parser options this reader uses.
///
/// Metadata blocks are left to [`front_matter`]: pulldown-cmark recognises them anywhere in
/// the document (swallowing a `---` / text / `---` run in the middle of an article) and scans
/// to the end of the input for every candidate opener, which is quadratic on hostile input.
/// Subscript stays off so that GFM's single-tilde strikethrough keeps working.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_SUPERSCRIPT
}

// ---------------------------------------------------------------------------------------------
// Event stream → model

#[derive(Debug)]
enum Container {
    Root,
    Quote(Option<BlockQuoteKind>),
    Item { task: Option<bool>, loose: bool },
    Footnote(String),
    Definition,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SpanKind {
    Emphasis,
    Strong,
    Strike,
    Sup,
    Sub,
    Link,
    /// A raw-HTML element with no model node (`<a name>`): content kept, wrapper dropped.
    Transparent,
}

#[derive(Debug)]
enum Frame {
    /// Holds blocks; inline content written straight into it (tight list items, definitions)
    /// waits in `pending` until it becomes a paragraph.
    Blocks {
        kind: Container,
        blocks: Vec<Block>,
        pending: Vec<Inline>,
    },
    List {
        start: Option<u64>,
        items: Vec<ListItem>,
        loose: bool,
    },
    Paragraph(Vec<Inline>),
    Heading {
        level: u8,
        id: String,
        /// Text that the attribute syntax took but that was meant as text (`{a, b}`).
        suffix: Option<String>,
        content: Vec<Inline>,
    },
    DefTitle(Vec<Inline>),
    Table {
        align: Vec<Align>,
        header: Option<Vec<TableCell>>,
        rows: Vec<Vec<TableCell>>,
        row: Vec<TableCell>,
    },
    Cell(Vec<Inline>),
    Code {
        language: Option<String>,
        text: String,
    },
    Html(String),
    Span {
        kind: SpanKind,
        /// Opened by an inline HTML tag (`<em>`) rather than Markdown syntax; `tag` names it.
        html_tag: Option<&'static str>,
        url: String,
        title: Option<String>,
        content: Vec<Inline>,
    },
    Image {
        src: String,
        title: Option<String>,
        alt: String,
        /// Spans and images nested inside the alt text, whose ends must not close the image.
        nested: usize,
    },
}

impl Frame {
    fn blocks(kind: Container) -> Frame {
        Frame::Blocks {
            kind,
            blocks: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn is_html_span(&self) -> bool {
        matches!(
            self,
            Frame::Span {
                html_tag: Some(_),
                ..
            }
        )
    }
}

struct Builder<'s> {
    /// The Markdown being read, for the few things events do not carry.
    source: &'s str,
    stack: Vec<Frame>,
    /// Counted containers currently open as frames.
    block_depth: usize,
    /// Containers opened past [`MAX_BLOCK_DEPTH`], whose ends are still to come.
    block_excess: usize,
    /// Span frames currently open.
    inline_depth: usize,
    /// Spans opened past [`MAX_INLINE_DEPTH`], whose ends are still to come.
    inline_excess: usize,
}

impl<'s> Builder<'s> {
    fn new() -> Self {
        Builder {
            source: "",
            stack: vec![Frame::blocks(Container::Root)],
            block_depth: 0,
            block_excess: 0,
            inline_depth: 0,
            inline_excess: 0,
        }
    }

    fn run(mut self, body: &'s str) -> Vec<Block> {
        self.source = body;
        for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
            self.event(event, range);
        }
        while self.stack.len() > 1 {
            self.pop_frame();
        }
        match self.stack.pop() {
            Some(Frame::Blocks {
                mut blocks,
                pending,
                ..
            }) => {
                flush_pending(&mut blocks, pending);
                blocks
            }
            _ => Vec::new(),
        }
    }

    fn top(&mut self) -> &mut Frame {
        if self.stack.is_empty() {
            self.stack.push(Frame::blocks(Container::Root));
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn in_image(&mut self) -> Option<&mut Frame> {
        match self.stack.last_mut() {
            Some(f @ Frame::Image { .. }) => Some(f),
            _ => None,
        }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                if let Some(Frame::Image { alt, .. }) = self.in_image() {
                    alt.push_str(&t);
                } else {
                    self.add_inline(Inline::Code {
                        text: t.to_string(),
                    });
                }
            }
            Event::Html(t) => match self.top() {
                Frame::Html(html) => html.push_str(&t),
                _ => self.inline_html(&t),
            },
            Event::InlineHtml(t) => self.inline_html(&t),
            Event::FootnoteReference(label) => {
                if self.in_image().is_none() {
                    self.add_inline(Inline::FootnoteRef {
                        label: label.to_string(),
                    });
                }
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => match self.in_image() {
                Some(Frame::Image { alt, .. }) => alt.push(' '),
                _ => self.add_inline(Inline::LineBreak),
            },
            Event::Rule => {
                self.close_html_spans();
                self.add_block(Block::Rule);
            }
            Event::TaskListMarker(done) => self.task_marker(done),
        }
    }

    fn text(&mut self, t: &str) {
        match self.top() {
            Frame::Code { text, .. } | Frame::Html(text) => text.push_str(t),
            Frame::Image { alt, .. } => alt.push_str(t),
            _ => self.add_inline(Inline::text(t)),
        }
    }

    fn task_marker(&mut self, done: bool) {
        // The marker sits in the item itself (tight) or in its first paragraph (loose); past
        // the nesting cap its item is not a frame, and the one below is someone else's.
        let frames = if self.block_excess > 0 { 0 } else { 2 };
        for frame in self.stack.iter_mut().rev().take(frames) {
            if let Frame::Blocks {
                kind: Container::Item { task, .. },
                ..
            } = frame
            {
                *task = Some(done);
                return;
            }
        }
        // The item was flattened away (nesting cap): keep the box as text.
        self.add_inline(Inline::text(if done { "[x] " } else { "[ ] " }));
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        if let Some(Frame::Image { nested, .. }) = self.in_image() {
            // Everything inside an image is alt text; only count what opens so ends match.
            *nested += 1;
            return;
        }
        match tag {
            Tag::Paragraph => {
                self.close_html_spans();
                if let Frame::Blocks {
                    kind: Container::Item { loose, .. },
                    ..
                } = self.top()
                {
                    *loose = true;
                }
                self.stack.push(Frame::Paragraph(Vec::new()));
            }
            Tag::Heading {
                level,
                id,
                classes,
                attrs,
            } => {
                self.close_html_spans();
                // `# The set {a, b}` parses as attributes `a,` (and loses `b`): with no id or
                // class among them it was text, so put the braces back from the source.
                let suffix = (id.is_none() && classes.is_empty() && !attrs.is_empty())
                    .then(|| attribute_text(self.source.get(range.clone()).unwrap_or("")))
                    .flatten();
                self.stack.push(Frame::Heading {
                    level: level as u8,
                    id: id.map(|s| s.trim().to_string()).unwrap_or_default(),
                    suffix,
                    content: Vec::new(),
                });
            }
            Tag::BlockQuote(kind) => self.open_container(Container::Quote(kind)),
            Tag::List(start) => {
                if self.enter_container(true) {
                    self.stack.push(Frame::List {
                        start,
                        items: Vec::new(),
                        loose: false,
                    });
                }
            }
            Tag::Item => self.open_container(Container::Item {
                task: None,
                loose: false,
            }),
            Tag::FootnoteDefinition(label) => {
                self.open_container(Container::Footnote(label.to_string()))
            }
            Tag::DefinitionList => {
                self.close_html_spans();
                self.flush_top_pending();
            }
            Tag::DefinitionListTitle => {
                self.close_html_spans();
                self.flush_top_pending();
                self.stack.push(Frame::DefTitle(Vec::new()));
            }
            Tag::DefinitionListDefinition => self.open_container(Container::Definition),
            Tag::CodeBlock(kind) => {
                self.close_html_spans();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => code_language(&info),
                    CodeBlockKind::Indented => None,
                };
                self.stack.push(Frame::Code {
                    language,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.close_html_spans();
                self.stack.push(Frame::Html(String::new()));
            }
            Tag::MetadataBlock(_) => self.stack.push(Frame::Code {
                language: None,
                text: String::new(),
            }),
            Tag::Table(aligns) => {
                self.close_html_spans();
                self.stack.push(Frame::Table {
                    align: aligns.iter().map(|a| align(*a)).collect(),
                    header: None,
                    rows: Vec::new(),
                    row: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Frame::Table { row, .. } = self.top() {
                    row.clear();
                }
            }
            Tag::TableCell => self.stack.push(Frame::Cell(Vec::new())),
            Tag::Emphasis => self.open_span(SpanKind::Emphasis, None, String::new(), None),
            Tag::Strong => self.open_span(SpanKind::Strong, None, String::new(), None),
            Tag::Strikethrough => self.open_span(SpanKind::Strike, None, String::new(), None),
            Tag::Superscript => self.open_span(SpanKind::Sup, None, String::new(), None),
            Tag::Subscript => self.open_span(SpanKind::Sub, None, String::new(), None),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                let url = if link_type == LinkType::Email && !dest_url.contains(':') {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                self.open_span(SpanKind::Link, None, url, non_empty(&title));
            }
            Tag::Image {
                dest_url, title, ..
            } => self.stack.push(Frame::Image {
                src: dest_url.to_string(),
                title: non_empty(&title),
                alt: String::new(),
                nested: 0,
            }),
        }
    }

    /// Whether a new container may become a frame; past the cap it is only counted, and the
    /// enclosing container's pending text is cut so flattened items stay separate paragraphs.
    fn enter_container(&mut self, counted: bool) -> bool {
        self.close_html_spans();
        if self.block_excess > 0 || (counted && self.block_depth >= MAX_BLOCK_DEPTH) {
            self.block_excess += 1;
            self.flush_top_pending();
            return false;
        }
        if counted {
            self.block_depth += 1;
        }
        true
    }

    fn open_container(&mut self, kind: Container) {
        let counted = !matches!(kind, Container::Item { .. });
        if self.enter_container(counted) {
            self.stack.push(Frame::blocks(kind));
        }
    }

    fn open_span(
        &mut self,
        kind: SpanKind,
        html_tag: Option<&'static str>,
        url: String,
        title: Option<String>,
    ) {
        if self.inline_excess > 0 || self.inline_depth >= MAX_INLINE_DEPTH {
            if html_tag.is_none() {
                self.inline_excess += 1;
            }
            return;
        }
        self.inline_depth += 1;
        self.stack.push(Frame::Span {
            kind,
            html_tag,
            url,
            title,
            content: Vec::new(),
        });
    }

    fn end(&mut self, tag: TagEnd) {
        if let Some(Frame::Image { nested, .. }) = self.in_image() {
            if *nested > 0 {
                *nested -= 1;
                return;
            }
            if tag == TagEnd::Image {
                self.pop_frame();
            }
            return;
        }
        match tag {
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link => {
                if self.inline_excess > 0 {
                    self.inline_excess -= 1;
                    return;
                }
                self.close_html_spans();
                if matches!(self.top(), Frame::Span { html_tag: None, .. }) {
                    self.pop_frame();
                }
            }
            TagEnd::Image => {}
            TagEnd::BlockQuote(_)
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionListDefinition => {
                self.close_html_spans();
                if self.block_excess > 0 {
                    self.block_excess -= 1;
                    self.flush_top_pending();
                    return;
                }
                self.close_until(|f| match f {
                    Frame::List { .. } => matches!(tag, TagEnd::List(_)),
                    Frame::Blocks { kind, .. } => match kind {
                        Container::Root => false,
                        Container::Quote(_) => matches!(tag, TagEnd::BlockQuote(_)),
                        Container::Item { .. } => tag == TagEnd::Item,
                        Container::Footnote(_) => tag == TagEnd::FootnoteDefinition,
                        Container::Definition => tag == TagEnd::DefinitionListDefinition,
                    },
                    _ => false,
                });
            }
            TagEnd::DefinitionList => {
                self.close_html_spans();
                self.flush_top_pending();
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                self.close_html_spans();
                if let Frame::Table {
                    header, rows, row, ..
                } = self.top()
                {
                    let cells = std::mem::take(row);
                    if tag == TagEnd::TableHead && header.is_none() {
                        *header = Some(cells);
                    } else {
                        rows.push(cells);
                    }
                }
            }
            TagEnd::Paragraph => self.close_leaf(|f| matches!(f, Frame::Paragraph(_))),
            TagEnd::Heading(_) => self.close_leaf(|f| matches!(f, Frame::Heading { .. })),
            TagEnd::DefinitionListTitle => self.close_leaf(|f| matches!(f, Frame::DefTitle(_))),
            TagEnd::Table => self.close_leaf(|f| matches!(f, Frame::Table { .. })),
            TagEnd::TableCell => self.close_leaf(|f| matches!(f, Frame::Cell(_))),
            TagEnd::CodeBlock | TagEnd::MetadataBlock(_) => {
                self.close_leaf(|f| matches!(f, Frame::Code { .. }))
            }
            TagEnd::HtmlBlock => self.close_leaf(|f| matches!(f, Frame::Html(_))),
        }
    }

    fn close_leaf(&mut self, is_it: impl Fn(&Frame) -> bool) {
        self.close_html_spans();
        self.close_until(is_it);
    }

    /// Pops frames up to and including the innermost one matching `is_it`, if there is one
    /// above the root; otherwise leaves the stack alone (an unmatched end is ignored).
    fn close_until(&mut self, is_it: impl Fn(&Frame) -> bool) {
        let Some(pos) = self.stack.iter().rposition(is_it) else {
            return;
        };
        if pos == 0 {
            return;
        }
        while self.stack.len() > pos {
            self.pop_frame();
        }
    }

    fn close_html_spans(&mut self) {
        while self.stack.last().is_some_and(Frame::is_html_span) {
            self.pop_frame();
        }
    }

    fn flush_top_pending(&mut self) {
        if let Frame::Blocks {
            blocks, pending, ..
        } = self.top()
        {
            let p = std::mem::take(pending);
            flush_pending(blocks, p);
        }
    }

    /// Closes the top frame and hands what it built to the frame below.
    fn pop_frame(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Blocks {
                kind,
                mut blocks,
                pending,
            } => {
                flush_pending(&mut blocks, pending);
                match kind {
                    Container::Root => {}
                    Container::Quote(alert) => {
                        self.block_depth = self.block_depth.saturating_sub(1);
                        if let Some(alert) = alert {
                            blocks.insert(0, alert_label(alert));
                        }
                        self.add_block(Block::Quote { blocks });
                    }
                    Container::Item { task, loose } => {
                        if let Frame::List {
                            items, loose: l, ..
                        } = self.top()
                        {
                            *l |= loose;
                            items.push(ListItem { task, blocks });
                        } else {
                            blocks.into_iter().for_each(|b| self.add_block(b));
                        }
                    }
                    Container::Footnote(label) => {
                        self.block_depth = self.block_depth.saturating_sub(1);
                        self.add_block(Block::FootnoteDef { label, blocks });
                    }
                    Container::Definition => {
                        self.block_depth = self.block_depth.saturating_sub(1);
                        blocks.into_iter().for_each(|b| self.add_block(b));
                    }
                }
            }
            Frame::List {
                start,
                items,
                loose,
            } => {
                self.block_depth = self.block_depth.saturating_sub(1);
                let kind = match start {
                    Some(start) => ListKind::Ordered { start },
                    None => ListKind::Bullet,
                };
                self.add_block(Block::List(List {
                    kind,
                    tight: !loose,
                    items,
                }));
            }
            Frame::Paragraph(content) => {
                if let Some(block) = paragraph(content) {
                    self.add_block(block);
                }
            }
            Frame::Heading {
                level,
                id,
                suffix,
                mut content,
            } => {
                if let Some(suffix) = suffix {
                    if !content.is_empty() {
                        push_inline(&mut content, Inline::text(" "));
                    }
                    push_inline(&mut content, Inline::text(suffix));
                }
                self.add_block(Block::Heading {
                    level: level.clamp(1, 6),
                    id,
                    content,
                });
            }
            Frame::DefTitle(content) => {
                if !content.is_empty() {
                    self.add_block(Block::Paragraph {
                        content: vec![Inline::Strong { content }],
                    });
                }
            }
            Frame::Table {
                align,
                header,
                rows,
                row,
            } => {
                let mut rows = rows;
                if !row.is_empty() {
                    rows.push(row);
                }
                self.add_block(Block::Table(table(align, header, rows)));
            }
            Frame::Cell(content) => match self.top() {
                Frame::Table { row, .. } => row.push(TableCell { content }),
                _ => content.into_iter().for_each(|i| self.add_inline(i)),
            },
            Frame::Code { language, mut text } => {
                if text.ends_with('\n') {
                    text.pop();
                }
                self.add_block(Block::Code { language, text });
            }
            Frame::Html(html) => {
                for block in html_block(html) {
                    self.add_block(block);
                }
            }
            Frame::Span {
                kind,
                url,
                title,
                content,
                ..
            } => {
                self.inline_depth = self.inline_depth.saturating_sub(1);
                let inline = match kind {
                    SpanKind::Emphasis => Inline::Emphasis { content },
                    SpanKind::Strong => Inline::Strong { content },
                    SpanKind::Strike => Inline::Strikethrough { content },
                    SpanKind::Sup => Inline::Superscript { content },
                    SpanKind::Sub => Inline::Subscript { content },
                    SpanKind::Link => Inline::Link {
                        url,
                        title,
                        content,
                    },
                    SpanKind::Transparent => {
                        content.into_iter().for_each(|i| self.add_inline(i));
                        return;
                    }
                };
                self.add_inline(inline);
            }
            Frame::Image {
                src, title, alt, ..
            } => self.add_inline(Inline::Image(Image { src, alt, title })),
        }
    }

    fn add_inline(&mut self, inline: Inline) {
        match self.top() {
            Frame::Paragraph(c)
            | Frame::Heading { content: c, .. }
            | Frame::DefTitle(c)
            | Frame::Cell(c)
            | Frame::Span { content: c, .. }
            | Frame::Blocks { pending: c, .. } => push_inline(c, inline),
            Frame::Image { alt, .. } => alt.push_str(&plain_text(&[inline])),
            Frame::Code { text, .. } | Frame::Html(text) => text.push_str(&plain_text(&[inline])),
            Frame::List { items, .. } => items.push(ListItem {
                task: None,
                blocks: vec![Block::Paragraph {
                    content: vec![inline],
                }],
            }),
            Frame::Table { row, .. } => row.push(TableCell {
                content: vec![inline],
            }),
        }
    }

    fn add_block(&mut self, block: Block) {
        match self.top() {
            Frame::Blocks {
                blocks, pending, ..
            } => {
                let p = std::mem::take(pending);
                flush_pending(blocks, p);
                blocks.push(block);
            }
            Frame::List { items, .. } => items.push(ListItem {
                task: None,
                blocks: vec![block],
            }),
            // Blocks never arrive inside inline frames from a well-formed event stream; keep
            // their text rather than lose it if one ever does.
            _ => {
                let text = block_text(&block);
                if !text.is_empty() {
                    self.add_inline(Inline::text(text));
                }
            }
        }
    }

    fn inline_html(&mut self, html: &str) {
        if self.in_image().is_some() {
            return;
        }
        let tokens = tokenize(html);
        let [token] = tokens.as_slice() else {
            if !tokens.iter().all(|t| matches!(t, Token::Comment)) {
                self.add_inline(Inline::RawHtml {
                    html: html.to_string(),
                });
            }
            return;
        };
        match token {
            Token::Comment => {}
            Token::Open { name, attrs, .. } if name == "img" => match image_from_attrs(attrs) {
                Some(img) => self.add_inline(Inline::Image(img)),
                None => self.add_inline(Inline::RawHtml {
                    html: html.to_string(),
                }),
            },
            Token::Open { name, .. } if name == "br" => self.add_inline(Inline::LineBreak),
            Token::Open {
                name,
                attrs,
                self_closing: false,
            } if html_span(name).is_some() => {
                if self.inline_excess > 0 {
                    return;
                }
                let Some((kind, tag)) = html_span(name) else {
                    return;
                };
                let href = attr(attrs, "href");
                let (kind, url) = match (kind, href) {
                    (SpanKind::Link, Some(h)) => (SpanKind::Link, h),
                    (SpanKind::Link, None) => (SpanKind::Transparent, String::new()),
                    (k, _) => (k, String::new()),
                };
                let title = attr(attrs, "title").filter(|t| !t.is_empty());
                self.open_span(kind, Some(tag), url, title);
            }
            Token::Close { name } if html_span(name).is_some() => {
                if self.inline_excess > 0 {
                    return;
                }
                let Some((_, tag)) = html_span(name) else {
                    return;
                };
                // Only spans opened by HTML in the current run of HTML spans can be closed.
                let run = self
                    .stack
                    .iter()
                    .rev()
                    .take_while(|f| f.is_html_span())
                    .position(|f| matches!(f, Frame::Span { html_tag: Some(t), .. } if *t == tag));
                if let Some(k) = run {
                    for _ in 0..=k {
                        self.pop_frame();
                    }
                }
            }
            _ => self.add_inline(Inline::RawHtml {
                html: html.to_string(),
            }),
        }
    }
}

/// The trailing `{…}` of a heading's source line(s), as written.
fn attribute_text(heading: &str) -> Option<String> {
    let first_line = heading.lines().next().unwrap_or("");
    let close = first_line.rfind('}')?;
    let open = first_line[..close].rfind('{')?;
    Some(first_line[open..=close].to_string())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn align(a: Alignment) -> Align {
    match a {
        Alignment::None => Align::Default,
        Alignment::Left => Align::Left,
        Alignment::Center => Align::Center,
        Alignment::Right => Align::Right,
    }
}

fn alert_label(kind: BlockQuoteKind) -> Block {
    let label = match kind {
        BlockQuoteKind::Note => "Note",
        BlockQuoteKind::Tip => "Tip",
        BlockQuoteKind::Important => "Important",
        BlockQuoteKind::Warning => "Warning",
        BlockQuoteKind::Caution => "Caution",
    };
    Block::Paragraph {
        content: vec![Inline::Strong {
            content: vec![Inline::text(label)],
        }],
    }
}

/// First word of a fence's info string: `rust,ignore` → `rust`, `{.python .numbers}` → `python`.
fn code_language(info: &str) -> Option<String> {
    let word = info
        .trim()
        .trim_start_matches('{')
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '}'))
        .find(|w| !w.is_empty())?;
    let word = word.trim_start_matches('.');
    (!word.is_empty()).then(|| word.to_string())
}

/// Appends an inline, merging adjacent text so writers never see split words, and folding
/// runs of spaces, tabs and newlines into one space as HTML rendering would (a typesetter
/// would otherwise set "end.  Next" with a double gap). No-break spaces are kept.
fn push_inline(content: &mut Vec<Inline>, inline: Inline) {
    let Inline::Text { text } = inline else {
        content.push(inline);
        return;
    };
    if !matches!(content.last(), Some(Inline::Text { .. })) {
        content.push(Inline::text(String::with_capacity(text.len())));
    }
    if let Some(Inline::Text { text: last }) = content.last_mut() {
        let mut after_space = last.ends_with(' ');
        for c in text.chars() {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                if !after_space {
                    last.push(' ');
                }
                after_space = true;
            } else {
                last.push(c);
                after_space = false;
            }
        }
        if last.is_empty() {
            content.pop();
        }
    }
}

fn flush_pending(blocks: &mut Vec<Block>, pending: Vec<Inline>) {
    if let Some(p) = trimmed_paragraph(pending) {
        blocks.push(p);
    }
}

/// A paragraph from collected inlines, without edge whitespace; `None` when nothing is left.
fn trimmed_paragraph(mut content: Vec<Inline>) -> Option<Block> {
    trim_inlines(&mut content);
    (!content.is_empty()).then_some(Block::Paragraph { content })
}

fn trim_inlines(content: &mut Vec<Inline>) {
    // Leading breaks and blank text go in one drain: removing them one by one from the front
    // would be quadratic on a paragraph of ten thousand `<br>`s.
    let lead = content
        .iter()
        .take_while(|i| match i {
            Inline::LineBreak => true,
            Inline::Text { text } => text.trim().is_empty(),
            _ => false,
        })
        .count();
    content.drain(..lead);
    if let Some(Inline::Text { text }) = content.first_mut() {
        let t = text.trim_start();
        if t.len() != text.len() {
            *text = t.to_string();
        }
    }
    while let Some(last) = content.last_mut() {
        match last {
            Inline::Text { text } => {
                let len = text.trim_end().len();
                if len == 0 {
                    content.pop();
                    continue;
                }
                text.truncate(len);
                break;
            }
            Inline::LineBreak => {
                content.pop();
            }
            _ => break,
        }
    }
}

/// A finished paragraph: a figure when it holds one image (optionally linked) and nothing else.
fn paragraph(content: Vec<Inline>) -> Option<Block> {
    let block = trimmed_paragraph(content)?;
    if let Block::Paragraph { content } = &block
        && let Some(image) = lone_image(content)
    {
        return Some(figure(image.clone()));
    }
    Some(block)
}

fn lone_image(content: &[Inline]) -> Option<&Image> {
    let mut significant = content.iter().filter(|i| !is_blank(i));
    let only = significant.next()?;
    if significant.next().is_some() {
        return None;
    }
    match only {
        Inline::Image(img) => Some(img),
        Inline::Link { content, .. } => match lone_image(content)? {
            img if content.iter().filter(|i| !is_blank(i)).count() == 1 => Some(img),
            _ => None,
        },
        _ => None,
    }
}

fn is_blank(i: &Inline) -> bool {
    match i {
        Inline::Text { text } => text.trim().is_empty(),
        Inline::LineBreak => true,
        _ => false,
    }
}

fn figure(image: Image) -> Block {
    let caption = image
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| vec![Inline::text(t)])
        .unwrap_or_default();
    Block::Figure(Figure { image, caption })
}

fn table(align: Vec<Align>, header: Option<Vec<TableCell>>, rows: Vec<Vec<TableCell>>) -> Table {
    let columns = align.len().max(header.as_ref().map_or(0, Vec::len)).max(1);
    let fit = |mut row: Vec<TableCell>| {
        // GFM: missing cells are empty, excess cells are ignored.
        row.resize_with(columns, TableCell::default);
        row
    };
    let mut align = align;
    align.resize(columns, Align::Default);
    Table {
        align,
        header: header.map(fit),
        rows: rows.into_iter().map(fit).collect(),
        caption: Vec::new(),
    }
}

fn block_text(block: &Block) -> String {
    match block {
        Block::Heading { content, .. } | Block::Paragraph { content } => plain_text(content),
        Block::Code { text, .. } => text.clone(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Title and heading ids

/// Index of the first level-1 heading if only a leading image (or nothing) comes before it.
fn leading_h1(blocks: &[Block]) -> Option<usize> {
    let is_h1 = |b: &Block| matches!(b, Block::Heading { level: 1, .. });
    match blocks {
        [first, ..] if is_h1(first) => Some(0),
        [first, second, ..] if is_image_block(first) && is_h1(second) => Some(1),
        _ => None,
    }
}

fn is_image_block(block: &Block) -> bool {
    match block {
        Block::Figure(_) => true,
        Block::Paragraph { content } => content.iter().all(|i| match i {
            Inline::Image(_) => true,
            Inline::Link { content, .. } => content
                .iter()
                .all(|i| matches!(i, Inline::Image(_)) || is_blank(i)),
            other => is_blank(other),
        }),
        _ => false,
    }
}

/// Moves a leading H1 into `meta.title`, or drops an H1 that repeats the front-matter title.
fn take_title(meta: &mut Meta, blocks: &mut Vec<Block>) {
    match &meta.title {
        None => {
            let Some(i) = leading_h1(blocks) else {
                return;
            };
            if let Block::Heading { content, .. } = &blocks[i] {
                let text = plain_text(content).trim().to_string();
                if !text.is_empty() {
                    meta.title = Some(text);
                    blocks.remove(i);
                }
            }
        }
        Some(title) => {
            // Posts often repeat the title as an H1 after a short preamble (a notice, a hero
            // image); any first heading that is an H1 with the same text is that repeat.
            let first_heading = blocks
                .iter()
                .position(|b| matches!(b, Block::Heading { .. }));
            if let Some(i) = first_heading
                && let Block::Heading {
                    level: 1, content, ..
                } = &blocks[i]
                && comparable(title) == comparable(&plain_text(content))
            {
                blocks.remove(i);
            }
        }
    }
}

/// Lower-case letters and digits only, for "is this the same title" comparisons.
fn comparable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Gives every heading a unique id: explicit `{#id}`s first (the first use of each valid one
/// keeps it), then slugs of the heading text for the rest.
fn assign_heading_ids(blocks: &mut [Block]) {
    let mut slugger = Slugger::default();
    // Mirrors what `slugger` has handed out: it probes `-2`, `-3`, … from the start on every
    // collision, which is quadratic for thousands of equal headings, so suffixes are found
    // here (resuming per base) and it is only asked for ids known to be free.
    let mut taken: HashSet<String> = HashSet::new();
    visit_headings(blocks, &mut |id, _| {
        if is_valid_id(id) && taken.insert(id.to_string()) {
            slugger.reserve(id);
        }
    });
    let mut owned = taken.clone();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    visit_headings(blocks, &mut |id, content| {
        if !id.is_empty() && owned.remove(id.as_str()) {
            return;
        }
        let base = if id.is_empty() {
            slugify(&plain_text(content))
        } else if is_valid_id(id) {
            id.clone()
        } else {
            slugify(id)
        };
        let n = next_suffix.entry(base.clone()).or_insert(1);
        let mut wanted = base.clone();
        while taken.contains(&wanted) {
            *n += 1;
            wanted = format!("{base}-{n}");
        }
        *id = slugger.unique(&wanted);
        taken.insert(id.clone());
    });
}

/// Calls `f` on each heading's id and content in document order (depth is bounded by the
/// reader's nesting cap, so recursion here is shallow).
fn visit_headings(blocks: &mut [Block], f: &mut dyn FnMut(&mut String, &[Inline])) {
    for block in blocks {
        match block {
            Block::Heading { id, content, .. } => f(id, content),
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                visit_headings(blocks, f)
            }
            Block::List(list) => {
                for item in &mut list.items {
                    visit_headings(&mut item.blocks, f);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A small, forgiving HTML tokenizer: enough to recognise images, figures and a few inline
// elements in raw HTML, and linear in its input.

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Text(&'a str),
    Comment,
    Open {
        name: String,
        attrs: Vec<(String, String)>,
        self_closing: bool,
    },
    Close {
        name: String,
    },
    /// Doctype, processing instruction, CDATA: never part of a figure.
    Other,
}

fn tokenize(html: &str) -> Vec<Token<'_>> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let (token, next) = if html[i..].starts_with("<!--") {
            let end = html[i + 4..].find("-->").map_or(b.len(), |e| i + 4 + e + 3);
            (Some(Token::Comment), end)
        } else if b.get(i + 1).is_some_and(|c| matches!(c, b'!' | b'?')) {
            let end = html[i..].find('>').map_or(b.len(), |e| i + e + 1);
            (Some(Token::Other), end)
        } else if b.get(i + 1) == Some(&b'/') && b.get(i + 2).is_some_and(u8::is_ascii_alphabetic) {
            match html[i..].find('>') {
                Some(e) => {
                    let name = tag_name(&html[i + 2..i + e]);
                    (Some(Token::Close { name }), i + e + 1)
                }
                // Unterminated to the end of input: the rest is text. Retrying at every later
                // `<` would rescan the same tail, quadratically.
                None => break,
            }
        } else if b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            match open_tag(html, i) {
                Some((tok, end)) => (Some(tok), end),
                // `open_tag` only fails by running out of input; see above.
                None => break,
            }
        } else {
            (None, i + 1)
        };
        match token {
            Some(tok) => {
                if text_start < i {
                    out.push(Token::Text(&html[text_start..i]));
                }
                out.push(tok);
                i = next;
                text_start = next;
            }
            None => i = next,
        }
    }
    if text_start < b.len() {
        out.push(Token::Text(&html[text_start..]));
    }
    out
}

fn tag_name(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses `<name attr=value …>` starting at `start`; `None` when it is not a complete tag.
fn open_tag(html: &str, start: usize) -> Option<(Token<'static>, usize)> {
    let b = html.as_bytes();
    let mut i = start + 1;
    let name_end = i + html[i..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':'))
        .unwrap_or(html.len() - i);
    let name = html[i..name_end].to_ascii_lowercase();
    i = name_end;
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                return Some((
                    Token::Open {
                        name,
                        attrs,
                        self_closing: false,
                    },
                    i + 1,
                ));
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some((
                    Token::Open {
                        name,
                        attrs,
                        self_closing: true,
                    },
                    i + 2,
                ));
            }
            b'/' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        if i == key_start {
            // A stray `=`: skip it rather than loop on it.
            i += 1;
            continue;
        }
        let key = html[key_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            match b.get(i)? {
                q @ (b'"' | b'\'') => {
                    let close = html[i + 1..].find(*q as char)?;
                    value = decode_entities(&html[i + 1..i + 1 + close]);
                    i += close + 2;
                }
                _ => {
                    let v_start = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = decode_entities(&html[v_start..i]);
                }
            }
        }
        attrs.push((key, value));
    }
}

fn attr(attrs: &[(String, String)], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
}

fn image_from_attrs(attrs: &[(String, String)]) -> Option<Image> {
    let src = attr(attrs, "src")
        .filter(|s| !s.is_empty())
        .or_else(|| attr(attrs, "data-src").filter(|s| !s.is_empty()))?;
    Some(Image {
        src,
        alt: attr(attrs, "alt").unwrap_or_default(),
        title: attr(attrs, "title").filter(|t| !t.is_empty()),
    })
}

/// Inline HTML elements that map onto model spans.
fn html_span(name: &str) -> Option<(SpanKind, &'static str)> {
    Some(match name {
        "em" => (SpanKind::Emphasis, "em"),
        "i" => (SpanKind::Emphasis, "i"),
        "strong" => (SpanKind::Strong, "strong"),
        "b" => (SpanKind::Strong, "b"),
        "s" => (SpanKind::Strike, "s"),
        "del" => (SpanKind::Strike, "del"),
        "strike" => (SpanKind::Strike, "strike"),
        "sup" => (SpanKind::Sup, "sup"),
        "sub" => (SpanKind::Sub, "sub"),
        "a" => (SpanKind::Link, "a"),
        _ => return None,
    })
}

/// Decodes the character references that show up in attribute values and captions.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Entity names are short; looking further would rescan long `&`-rich text.
        let decoded = rest[1..]
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .and_then(|semi| entity(&rest[1..1 + semi]).map(|c| (c, semi + 2)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "copy" => '©',
        _ => return None,
    })
}

/// An HTML block as model blocks: nothing for comments, a figure for a lone image
/// (optionally wrapped in `<figure>`/`<p>`/`<div>`/`<a>` with a `<figcaption>`), else the raw
/// HTML followed by a figure for each image inside it, so charts and photos embedded in
/// markup (often inside `<noscript>`) still reach the book.
fn html_block(html: String) -> Vec<Block> {
    let tokens = tokenize(&html);
    if tokens.iter().all(|t| match t {
        Token::Comment => true,
        Token::Text(s) => s.trim().is_empty(),
        _ => false,
    }) {
        return Vec::new();
    }
    if let Some(fig) = html_figure(&tokens) {
        return vec![Block::Figure(fig)];
    }
    let images = tokens.iter().filter_map(|t| match t {
        Token::Open { name, attrs, .. } if name == "img" => image_from_attrs(attrs),
        _ => None,
    });
    let trimmed = html.trim_end_matches(['\n', '\r']);
    std::iter::once(Block::RawHtml {
        html: trimmed.to_string(),
    })
    .chain(images.map(|image| {
        Block::Figure(Figure {
            image,
            caption: Vec::new(),
        })
    }))
    .collect()
}

fn html_figure(tokens: &[Token<'_>]) -> Option<Figure> {
    const WRAPPERS: [&str; 9] = [
        "figure", "p", "div", "a", "center", "picture", "span", "source", "br",
    ];
    let mut image = None;
    let mut caption: Option<String> = None;
    let mut in_caption = false;
    for token in tokens {
        match token {
            Token::Comment => {}
            Token::Text(t) if in_caption => {
                caption
                    .get_or_insert_default()
                    .push_str(&decode_entities(t));
            }
            Token::Text(t) if t.trim().is_empty() => {}
            Token::Open { name, .. } if name == "figcaption" => {
                in_caption = true;
                caption.get_or_insert_default();
            }
            Token::Close { name } if name == "figcaption" => in_caption = false,
            Token::Open { name, .. } | Token::Close { name } if in_caption => {
                if name == "br" || name == "p" {
                    caption.get_or_insert_default().push(' ');
                }
            }
            Token::Open { name, attrs, .. } if name == "img" => {
                if image.is_some() {
                    return None;
                }
                image = Some(image_from_attrs(attrs)?);
            }
            Token::Open { name, .. } | Token::Close { name }
                if WRAPPERS.contains(&name.as_str()) => {}
            _ => return None,
        }
    }
    let image: Image = image?;
    let caption_text = caption
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|c| !c.is_empty())
        .or_else(|| image.title.clone());
    Some(Figure {
        caption: caption_text
            .map(|c| vec![Inline::text(c)])
            .unwrap_or_default(),
        image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn doc(src: &str) -> Document {
        read(src).expect("reads")
    }

    fn blocks(src: &str) -> Vec<Block> {
        doc(src).blocks
    }

    fn text(s: &str) -> Inline {
        Inline::text(s)
    }

    fn para(content: Vec<Inline>) -> Block {
        Block::Paragraph { content }
    }

    /// The shared corpus, found from the crate root (`../shared/corpus` in the main repo).
    fn corpus() -> Option<PathBuf> {
        let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        for _ in 0..3 {
            let candidate = dir.join("shared/corpus");
            if candidate.is_dir() {
                return Some(candidate);
            }
            if !dir.pop() {
                break;
            }
        }
        None
    }

    fn corpus_or_skip(what: &str) -> Option<PathBuf> {
        let found = corpus().map(|c| c.join(what)).filter(|p| p.exists());
        if found.is_none() {
            assert!(
                std::env::var("GALLEY_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
                "corpus {what} is missing and GALLEY_REQUIRE_VALIDATORS=1"
            );
            eprintln!("skipping: corpus {what} not found");
        }
        found
    }

    #[test]
    fn yaml_front_matter() {
        let d = doc(
            "---\nTitle: Hello\nAuthors: [Ann, {name: Bob}]\ndate: 2024-03-05\n\
                     LANG: de\nsummary: S\ncover: {url: c.jpg}\ntags: a, b\nsite: Blog\n\
                     copyright: © me\nisbn: 123\nurl: https://x.org/p\ncategory: Tech\n---\n\nBody.\n",
        );
        let m = &d.meta;
        assert_eq!(m.title.as_deref(), Some("Hello"));
        assert_eq!(m.authors, ["Ann", "Bob"]);
        assert_eq!(m.date.as_deref(), Some("2024-03-05"));
        assert_eq!(m.language.as_deref(), Some("de"));
        assert_eq!(m.description.as_deref(), Some("S"));
        assert_eq!(m.cover.as_deref(), Some("c.jpg"));
        assert_eq!(m.tags, ["a", "b"]);
        assert_eq!(m.publisher.as_deref(), Some("Blog"));
        assert_eq!(m.rights.as_deref(), Some("© me"));
        assert_eq!(m.identifier.as_deref(), Some("123"));
        assert_eq!(m.source_url.as_deref(), Some("https://x.org/p"));
        assert_eq!(m.kicker.as_deref(), Some("Tech"));
        assert_eq!(d.blocks, [para(vec![text("Body.")])]);
        let d = doc(
            "---\nauthor: Solo\nlanguage: pt_BR\nexcerpt: E\nimage: i.png\n\
                     keywords: [x]\npublisher: P\nlicense: MIT\ndoi: 10.1/x\n\
                     link: /relative\ncanonical_url: http://x.org\nsection: S\n\
                     date: not a date\n---\n",
        );
        let m = &d.meta;
        assert_eq!(m.authors, ["Solo"]);
        assert_eq!(m.language.as_deref(), Some("pt-BR"));
        assert_eq!(m.description.as_deref(), Some("E"));
        assert_eq!(m.cover.as_deref(), Some("i.png"));
        assert_eq!(m.tags, ["x"]);
        assert_eq!(m.rights.as_deref(), Some("MIT"));
        assert_eq!(m.identifier.as_deref(), Some("10.1/x"));
        assert_eq!(m.source_url.as_deref(), Some("http://x.org"));
        assert_eq!(m.kicker.as_deref(), Some("S"));
        assert_eq!(m.date, None);
    }

    #[test]
    fn toml_front_matter() {
        let d = doc(
            "+++\ntitle = \"T\"\nauthors = [\"A\", \"B\"]\ndate = 2024-01-02\n\
                     [extra]\nteam = \"x\"\n+++\n# T\n\nBody\n",
        );
        assert_eq!(d.meta.title.as_deref(), Some("T"));
        assert_eq!(d.meta.authors, ["A", "B"]);
        assert_eq!(d.meta.date.as_deref(), Some("2024-01-02"));
        assert_eq!(d.blocks, [para(vec![text("Body")])]);
    }

    #[test]
    fn malformed_front_matter_reports_file_lines() {
        let err = read("---\ntitle: fine\ntags: [a, b\nauthor: x\n---\nBody\n").expect_err("bad");
        let MarkdownError::FrontMatter { line, format, .. } = &err;
        assert_eq!((*line, *format), (4, "YAML"), "{err}");
        assert!(
            err.to_string()
                .starts_with("line 4: malformed YAML front matter: ")
        );
        let err = read("+++\ntitle = \"x\"\n\nauthors = [\"a\"\ndate = 1\n+++\n").expect_err("bad");
        let MarkdownError::FrontMatter { line, format, .. } = &err;
        assert_eq!((*line, *format), (5, "TOML"), "{err}");
        let err = read("+++\ntitle = \"x\"\nbroken\n+++\n").expect_err("bad");
        let MarkdownError::FrontMatter { line, .. } = &err;
        assert_eq!(*line, 3, "{err}");
    }

    #[test]
    fn unterminated_dashes_are_markdown() {
        let b = blocks("---\ntitle: x\n\nText\n");
        assert_eq!(b[0], Block::Rule);
        assert_eq!(b.len(), 3);
        // A rule / text / rule run later in the document is never front matter.
        let b = blocks("Intro\n\n---\ntitle: x\n---\n");
        assert!(b.iter().all(|b| !matches!(b, Block::Code { .. })));
        assert!(b.contains(&Block::Rule));
    }

    #[test]
    fn first_h1_becomes_title() {
        let d = doc("\n\n# The *Title*\n\nText\n\n# Another\n");
        assert_eq!(d.meta.title.as_deref(), Some("The Title"));
        assert_eq!(d.blocks.len(), 2);
        let d = doc("![hero](h.jpg)\n\nThe Title\n=========\n\nText\n");
        assert_eq!(d.meta.title.as_deref(), Some("The Title"));
        assert!(matches!(d.blocks[0], Block::Figure(_)));
        let d = doc("Intro first.\n\n# Not a title\n");
        assert_eq!(d.meta.title, None);
        assert_eq!(d.blocks.len(), 2);
    }

    #[test]
    fn duplicate_title_is_dropped() {
        let d = doc("---\ntitle: \"Hello, World!\"\n---\n# hello world\n\nText\n");
        assert_eq!(d.meta.title.as_deref(), Some("Hello, World!"));
        assert_eq!(d.blocks, [para(vec![text("Text")])]);
        let d = doc("---\ntitle: Hello\n---\n# Something else\n");
        assert!(matches!(d.blocks[0], Block::Heading { level: 1, .. }));
        let d = doc("---\ntitle: Hello\n---\n_Notice._\n\n# Hello\n\nText\n");
        assert_eq!(d.blocks.len(), 2);
        let d = doc("---\ntitle: Hello\n---\n## Intro\n\n# Hello\n");
        assert_eq!(d.blocks.len(), 2);
    }

    #[test]
    fn pandoc_title_block() {
        let d = doc("% Title\n% A; B\n% 2006-07-17\n\n# Title\n\nText\n");
        assert_eq!(d.meta.title.as_deref(), Some("Title"));
        assert_eq!(d.meta.authors, ["A", "B"]);
        assert_eq!(d.meta.date.as_deref(), Some("2006-07-17"));
        assert_eq!(d.blocks, [para(vec![text("Text")])]);
    }

    #[test]
    fn footnotes() {
        let b = blocks("Text[^n] and[^2].\n\n[^n]: The *note*.\n\n    More.\n\n[^2]: Two.\n");
        assert_eq!(
            b[0],
            para(vec![
                text("Text"),
                Inline::FootnoteRef { label: "n".into() },
                text(" and"),
                Inline::FootnoteRef { label: "2".into() },
                text("."),
            ])
        );
        assert_eq!(
            b[1],
            Block::FootnoteDef {
                label: "n".into(),
                blocks: vec![
                    para(vec![
                        text("The "),
                        Inline::Emphasis {
                            content: vec![text("note")]
                        },
                        text("."),
                    ]),
                    para(vec![text("More.")]),
                ],
            }
        );
        assert!(matches!(&b[2], Block::FootnoteDef { label, .. } if label == "2"));
    }

    #[test]
    fn tables_with_alignment() {
        let b = blocks("| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | **2** |\n| x | y | z | w |\n");
        let Block::Table(t) = &b[0] else {
            panic!("not a table: {b:?}")
        };
        assert_eq!(
            t.align,
            [Align::Left, Align::Center, Align::Right, Align::Default]
        );
        let header = t.header.as_ref().expect("header");
        assert_eq!(header[0].content, [text("a")]);
        assert_eq!(t.rows.len(), 2);
        assert!(t.rows.iter().all(|r| r.len() == 4));
        assert_eq!(
            t.rows[0][1].content,
            [Inline::Strong {
                content: vec![text("2")]
            }]
        );
        assert!(t.rows[0][3].content.is_empty());
    }

    #[test]
    fn task_lists() {
        let b = blocks("- [ ] todo\n- [x] done\n- plain\n");
        let Block::List(list) = &b[0] else {
            panic!("{b:?}")
        };
        let tasks: Vec<_> = list.items.iter().map(|i| i.task).collect();
        assert_eq!(tasks, [Some(false), Some(true), None]);
        assert_eq!(list.items[0].blocks, [para(vec![text("todo")])]);
        let b = blocks("- [x] loose\n\n- [ ] list\n");
        let Block::List(list) = &b[0] else {
            panic!("{b:?}")
        };
        assert!(!list.tight);
        assert_eq!(list.items[0].task, Some(true));
    }

    #[test]
    fn nested_lists() {
        let b = blocks("1. one\n   - a\n   - b\n2. two\n\n   para\n");
        let Block::List(list) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(list.kind, ListKind::Ordered { start: 1 });
        assert!(!list.tight);
        assert_eq!(list.items.len(), 2);
        let Block::List(inner) = &list.items[0].blocks[1] else {
            panic!("{list:?}")
        };
        assert_eq!(inner.kind, ListKind::Bullet);
        assert!(inner.tight);
        assert_eq!(inner.items[1].blocks, [para(vec![text("b")])]);
        let b = blocks("3. three\n4. four\n");
        assert!(
            matches!(&b[0], Block::List(l) if l.kind == ListKind::Ordered { start: 3 } && l.tight)
        );
    }

    #[test]
    fn figures() {
        let b = blocks("![Alt *text*](a.png \"Caption\")\n");
        assert_eq!(
            b,
            [Block::Figure(Figure {
                image: Image {
                    src: "a.png".into(),
                    alt: "Alt text".into(),
                    title: Some("Caption".into()),
                },
                caption: vec![text("Caption")],
            })]
        );
        let b = blocks("[![alt](a.png)](big.png)\n");
        assert!(
            matches!(&b[0], Block::Figure(f) if f.image.src == "a.png" && f.caption.is_empty())
        );
        let b = blocks("Text ![alt](a.png) inline.\n");
        assert!(
            matches!(&b[0], Block::Paragraph { content } if matches!(content[1], Inline::Image(_)))
        );
        let b = blocks("<img src=\"x.jpg\" alt=\"A &amp; B\" width=300 align=right>\n");
        assert!(
            matches!(&b[0], Block::Figure(f) if f.image.src == "x.jpg" && f.image.alt == "A & B")
        );
        let b = blocks(
            "<figure>\n  <img src='y.png' alt=\"why\">\n  <figcaption>\n  Diagram\n  1.</figcaption>\n</figure>\n",
        );
        assert!(
            matches!(&b[0], Block::Figure(f) if f.image.src == "y.png" && f.caption == [text("Diagram 1.")])
        );
        let b = blocks("<a href=\"big.png\"><img src=\"small.png\" width=100%></a>\n");
        assert!(matches!(&b[0], Block::Figure(f) if f.image.src == "small.png"));
        let b = blocks("<div>\n<img src=\"a.png\">\nand text\n</div>\n");
        assert!(matches!(&b[0], Block::RawHtml { .. }));
    }

    #[test]
    fn raw_html_and_comments() {
        let b = blocks(
            "<!-- hidden -->\n\n<div class=\"x\">\n*kept*\n</div>\n\nA <!-- c --> b <span>s</span> <sup>2</sup><br>c\n",
        );
        assert_eq!(
            b[0],
            Block::RawHtml {
                html: "<div class=\"x\">\n*kept*\n</div>".into()
            }
        );
        assert_eq!(
            b[1],
            para(vec![
                text("A b "),
                Inline::RawHtml {
                    html: "<span>".into()
                },
                text("s"),
                Inline::RawHtml {
                    html: "</span>".into()
                },
                text(" "),
                Inline::Superscript {
                    content: vec![text("2")]
                },
                Inline::LineBreak,
                text("c"),
            ])
        );
        // Unclosed and mismatched inline tags never lose text.
        let b = blocks("x <em>open *md* end\n\n</b> y <a name=\"z\">anchor</a>\n");
        assert_eq!(
            plain_text(match &b[0] {
                Block::Paragraph { content } => content,
                _ => panic!(),
            }),
            "x open md end"
        );
        assert_eq!(b[1], para(vec![text("y anchor")]));
    }

    #[test]
    fn braces_in_headings_are_kept() {
        let b = blocks("## The set {a, b}\n\n## Styled {.c}\n");
        assert!(
            matches!(&b[0], Block::Heading { content, .. } if plain_text(content) == "The set {a, b}")
        );
        assert!(matches!(&b[1], Block::Heading { content, .. } if plain_text(content) == "Styled"));
    }

    #[test]
    fn heading_ids_are_unique() {
        let b = blocks(
            "## Intro\n\n## Intro\n\n## Other {#intro}\n\n## Same {#dup}\n\n## Again {#dup}\n\n## 2024\n",
        );
        let ids: Vec<&str> = b
            .iter()
            .filter_map(|b| match b {
                Block::Heading { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            ids,
            ["intro-2", "intro-3", "intro", "dup", "dup-2", "s-2024"]
        );
        let many = "## Same\n\n".repeat(2000);
        let b = blocks(&many);
        let ids: HashSet<&str> = b
            .iter()
            .filter_map(|b| match b {
                Block::Heading { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids.len(), 2000);
    }

    #[test]
    fn smart_punctuation_and_breaks() {
        let b = blocks("\"Double\" and 'single' -- en --- em...\nsoft  break\\\nhard\n");
        assert_eq!(
            b,
            [para(vec![
                text("“Double” and ‘single’ – en — em… soft break"),
                Inline::LineBreak,
                text("hard"),
            ])]
        );
        let b = blocks("It's `code` ~~gone~~ ~also~ ^up^\n");
        assert_eq!(
            b,
            [para(vec![
                text("It’s "),
                Inline::Code {
                    text: "code".into()
                },
                text(" "),
                Inline::Strikethrough {
                    content: vec![text("gone")]
                },
                text(" "),
                Inline::Strikethrough {
                    content: vec![text("also")]
                },
                text(" "),
                Inline::Superscript {
                    content: vec![text("up")]
                },
            ])]
        );
    }

    #[test]
    fn code_blocks() {
        let b = blocks(
            "```rust,ignore\nfn main() {}\n```\n\n~~~ {.python .numberLines}\nx\n~~~\n\n    indented\n\n```\n\n```\n",
        );
        assert_eq!(
            b[0],
            Block::Code {
                language: Some("rust".into()),
                text: "fn main() {}".into()
            }
        );
        assert_eq!(
            b[1],
            Block::Code {
                language: Some("python".into()),
                text: "x".into()
            }
        );
        assert_eq!(
            b[2],
            Block::Code {
                language: None,
                text: "indented".into()
            }
        );
        assert_eq!(
            b[3],
            Block::Code {
                language: None,
                text: String::new()
            }
        );
    }

    #[test]
    fn quotes_alerts_and_definition_lists() {
        let b = blocks("> [!WARNING]\n> Careful.\n\n> plain\n");
        assert_eq!(
            b[0],
            Block::Quote {
                blocks: vec![
                    para(vec![Inline::Strong {
                        content: vec![text("Warning")]
                    }]),
                    para(vec![text("Careful.")]),
                ]
            }
        );
        assert_eq!(
            b[1],
            Block::Quote {
                blocks: vec![para(vec![text("plain")])]
            }
        );
        let b = blocks("Term\n: Definition one\n: Definition two\n");
        assert_eq!(
            b,
            [
                para(vec![Inline::Strong {
                    content: vec![text("Term")]
                }]),
                para(vec![text("Definition one")]),
                para(vec![text("Definition two")]),
            ]
        );
    }

    fn max_depth(blocks: &[Block]) -> usize {
        blocks
            .iter()
            .map(|b| match b {
                Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                    1 + max_depth(blocks)
                }
                Block::List(l) => {
                    1 + l
                        .items
                        .iter()
                        .map(|i| max_depth(&i.blocks))
                        .max()
                        .unwrap_or(0)
                }
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    fn max_inline_depth(inlines: &[Inline]) -> usize {
        inlines
            .iter()
            .map(|i| i.children().map_or(0, |c| 1 + max_inline_depth(c)))
            .max()
            .unwrap_or(0)
    }

    fn all_text(blocks: &[Block], out: &mut String) {
        for b in blocks {
            match b {
                Block::Heading { content, .. } | Block::Paragraph { content } => {
                    out.push_str(&plain_text(content))
                }
                Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                    all_text(blocks, out)
                }
                Block::List(l) => l.items.iter().for_each(|i| all_text(&i.blocks, out)),
                _ => {}
            }
        }
    }

    #[test]
    fn deep_nesting_is_flattened_without_losing_text() {
        let src = format!("{}deep\n", "> ".repeat(10_000));
        let b = blocks(&src);
        assert_eq!(max_depth(&b), MAX_BLOCK_DEPTH);
        let mut t = String::new();
        all_text(&b, &mut t);
        assert_eq!(t, "deep");
        let src: String = (0..500)
            .map(|i| format!("{}- item{i}\n", "  ".repeat(i)))
            .collect();
        let b = blocks(&src);
        assert!(max_depth(&b) <= MAX_BLOCK_DEPTH);
        let mut t = String::new();
        all_text(&b, &mut t);
        for i in [0, 63, 64, 65, 499] {
            assert!(t.contains(&format!("item{i}")), "item{i} lost");
        }
        let src = format!("{}x{}", "*a ".repeat(5000), " b*".repeat(5000));
        let b = blocks(&src);
        let Block::Paragraph { content } = &b[0] else {
            panic!()
        };
        assert!(max_inline_depth(content) <= MAX_INLINE_DEPTH);
        assert_eq!(plain_text(content).matches('a').count(), 5000);
    }

    #[test]
    fn hostile_snippets_do_not_panic() {
        let cases = [
            "\0\0\0",
            "[^]: x\n[^",
            "| a |\n|---|\n| <em> |\n",
            "- <em>x\n  - y\n",
            "<sup><sub><em>x</sup>",
            "![![![a](b)](c)](d)",
            "> - > - > ```\n",
            "<img src=\"",
            "<figure><img src=a><img src=b></figure>",
            "a\n: b\n: > c\n",
            "---\n---\n",
            "+++\n+++\n",
            "\u{feff}---\ntitle: x\n---\n",
            "% \n%\n%\n%\n",
            "# {#}\n",
        ];
        for case in cases {
            let _ = read(case);
        }
    }

    fn spec_examples(path: &std::path::Path) -> Vec<String> {
        let json = std::fs::read_to_string(path).expect("readable spec");
        let value: serde_json::Value = serde_json::from_str(&json).expect("spec json");
        value
            .as_array()
            .map(|examples| {
                examples
                    .iter()
                    .filter_map(|e| e["markdown"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn commonmark_and_gfm_examples_do_not_panic() {
        let Some(dir) = corpus_or_skip("commonmark") else {
            return;
        };
        let mut files = vec![dir.join("spec.json")];
        if let Ok(entries) = std::fs::read_dir(dir.join("gfm")) {
            let mut gfm: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            gfm.sort();
            files.extend(gfm);
        }
        let mut count = 0;
        for file in files {
            for md in spec_examples(&file) {
                let result = std::panic::catch_unwind(|| read(&md));
                assert!(result.is_ok(), "panic in {}: {md:?}", file.display());
                count += 1;
            }
        }
        assert!(count > 1300, "only {count} examples");
    }

    #[test]
    fn pandoc_testsuite_reads_sensibly() {
        let Some(dir) = corpus_or_skip("pandoc/test") else {
            return;
        };
        let src = std::fs::read_to_string(dir.join("testsuite.txt")).expect("testsuite");
        let d = doc(&src);
        assert_eq!(d.meta.title.as_deref(), Some("Pandoc Test Suite"));
        assert_eq!(d.meta.authors, ["John MacFarlane", "Anonymous"]);
        assert_eq!(d.meta.date.as_deref(), Some("2006-07-17"));
        let count = |pred: &dyn Fn(&Block) -> bool| d.blocks.iter().filter(|b| pred(b)).count();
        assert!(count(&|b| matches!(b, Block::Heading { level: 1, .. })) >= 10);
        assert!(count(&|b| matches!(b, Block::FootnoteDef { .. })) >= 2);
        assert!(count(&|b| matches!(b, Block::Figure(f) if f.image.src == "lalune.jpg")) == 1);
        assert!(count(&|b| matches!(b, Block::List(_))) >= 10);
        for name in ["markdown-reader-more.txt", "tables.txt", "pipe-tables.txt"] {
            if let Ok(src) = std::fs::read_to_string(dir.join(name)) {
                let _ = read(&src);
            }
        }
    }

    #[test]
    fn corpus_articles_have_title_author_and_date() {
        let Some(dir) = corpus_or_skip("articles-md") else {
            return;
        };
        let mut stack = vec![dir];
        let mut seen = 0;
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let is_md = path
                    .extension()
                    .is_some_and(|x| x == "md" || x == "markdown");
                if !is_md || path.file_name().is_some_and(|n| n == "SOURCE.md") {
                    continue;
                }
                let src = std::fs::read_to_string(&path).expect("utf-8 article");
                let d = read(&src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(d.meta.title.is_some(), "{}: no title", path.display());
                assert!(!d.blocks.is_empty(), "{}: no body", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 20, "only {seen} articles");
    }

    #[test]
    fn pathological_files_are_fast() {
        let Some(dir) = corpus_or_skip("nontext/nested-and-pathological-md") else {
            return;
        };
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                let src = String::from_utf8_lossy(&bytes);
                let d = read(&src).expect("no front matter here");
                assert!(max_depth(&d.blocks) <= MAX_BLOCK_DEPTH);
            }
        }
    }
}
