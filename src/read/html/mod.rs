//! Saved web pages to the model: Readability-style extraction (dom_smoothie), then the
//! cleaned article DOM walked into blocks, never passed on as raw HTML.
//!
//! Metadata comes from what the page declares (JSON-LD, OpenGraph, `<meta>`, `<time>`,
//! `lang`), read before extraction because extraction strips scripts and the head.

mod meta;
pub(crate) mod url;
mod walk;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

use dom_query::Document as Dom;
use dom_smoothie::{Config, Readability, ReadabilityError};

use crate::model::slug::Slugger;
use crate::model::{Block, Document, Inline, Meta, date, language_tag, plain_text};

pub use walk::MAX_DEPTH;

/// Fewest words an extracted article may have; fewer means extraction found a teaser,
/// a cookie wall or an index page, not an article.
pub const MIN_ARTICLE_WORDS: usize = 20;

/// Largest share of an extract's words that may be link text before it counts as an index
/// page rather than an article.
const MAX_LINK_PERCENT: usize = 65;

/// Most elements a page may have; beyond that extraction time grows without benefit.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// Deepest nesting accepted in the source. The HTML parser's work grows with the depth of
/// open elements at each tag, so deeper (hostile) pages are refused before parsing.
pub const MAX_SOURCE_NESTING: usize = 1024;

/// Depth beyond which the parsed tree is flattened to text before extraction, whose
/// scoring otherwise costs time proportional to depth at every node.
const MAX_DOM_DEPTH: usize = 160;

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// Extraction found no article (or only a few words of one).
    #[error(
        "no article found in the page (it may be an index page or need JavaScript); \
         use --no-extract to keep the whole page"
    )]
    NoArticle,
    /// The page body has no text at all (with extraction off).
    #[error("the page has no text in its body")]
    EmptyBody,
    /// Elements nest deeper than galley processes (parsing and extraction slow down with depth).
    #[error("the page nests elements about {found} deep (at most {max})")]
    TooDeep {
        /// Estimated nesting depth.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// The page has more elements than galley processes.
    #[error("the page has too many elements ({found}, at most {max})")]
    TooLarge {
        /// Elements in the page.
        found: usize,
        /// The limit.
        max: usize,
    },
}

/// How to read a page. The default extracts the article and knows no page URL.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// Extract the article; `false` (`--no-extract`) keeps the whole `<body>`.
    pub extract: bool,
    /// The page's URL, for resolving relative links and images.
    pub url: Option<String>,
}

impl Default for HtmlOptions {
    fn default() -> Self {
        HtmlOptions {
            extract: true,
            url: None,
        }
    }
}

/// Reads a saved web page into the model.
pub fn read(html: &str, opts: &HtmlOptions) -> Result<Document, HtmlError> {
    let found = estimate_depth(html);
    if found > MAX_SOURCE_NESTING {
        return Err(HtmlError::TooDeep {
            found,
            max: MAX_SOURCE_NESTING,
        });
    }
    let dom = Dom::from(html);
    flatten_deep(&dom, MAX_DOM_DEPTH);
    let declared = meta::declared(&dom);
    let page_url = opts
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| url::is_web_url(u));
    let base = match declared.base_href.as_deref() {
        Some(href) => url::resolve(page_url, href).filter(|b| url::has_scheme(b)),
        None => None,
    }
    .or_else(|| page_url.map(str::to_string));
    let mut walker = walk::Walker { base: base.clone() };
    let body_words = if opts.extract {
        page_text_units(&dom)
    } else {
        0
    };

    let mut link_percent = 0;
    let (mut blocks, article) = if opts.extract {
        let config = Config {
            // Classes carry code languages (`language-rust`) and tweet markers.
            keep_classes: true,
            max_elements_to_parse: MAX_ELEMENTS,
            ..Config::default()
        };
        // Without a URL the constructor cannot fail; the URL is set after it because ours is
        // already checked to be absolute http(s).
        let mut reader = Readability::with_document(dom, None, Some(config))
            .map_err(|_| HtmlError::NoArticle)?;
        reader.doc_url = page_url.map(str::to_string);
        let article = match reader.parse() {
            Ok(a) => a,
            Err(ReadabilityError::TooManyElements(found, max)) => {
                return Err(HtmlError::TooLarge { found, max });
            }
            Err(_) => return Err(HtmlError::NoArticle),
        };
        let content = Dom::fragment(article.content.clone());
        let root = content.root();
        let total = text_units(&root.text());
        let linked: usize = content
            .select("a")
            .nodes()
            .iter()
            .map(|a| text_units(&a.text()))
            .sum();
        link_percent = (linked * 100).checked_div(total).unwrap_or(0);
        let blocks = walker.blocks(&root, 0);
        (blocks, Some(article))
    } else {
        let blocks = match dom.body() {
            Some(body) => walker.blocks(&body, 0),
            None => walker.blocks(&dom.root(), 0),
        };
        (blocks, None)
    };

    let mut meta = build_meta(&declared, article.as_ref(), base.as_deref(), page_url);
    drop_title_heading(&meta, &mut blocks);
    if meta.title.is_none() {
        meta.title = declared.first_h1.clone();
    }
    let words: usize = blocks.iter().map(|b| text_units(&block_text(b))).sum();
    // Mostly link text is a list of stories (an index page), not a story.
    if opts.extract && link_percent > MAX_LINK_PERCENT {
        return Err(HtmlError::NoArticle);
    }
    // A short extract from a short page is the page; from a long page it is a stray box.
    if opts.extract
        && (words == 0 || (words < MIN_ARTICLE_WORDS && body_words >= 10 * MIN_ARTICLE_WORDS))
    {
        return Err(HtmlError::NoArticle);
    }
    if words == 0 && !blocks.iter().any(|b| matches!(b, Block::Figure(_))) {
        return Err(HtmlError::EmptyBody);
    }
    shift_headings(&mut blocks);
    assign_ids(&mut blocks, &mut Slugger::default(), 0);
    Ok(Document { meta, blocks })
}

/// A cheap upper estimate of element nesting from the raw text: open tags minus close tags,
/// ignoring void elements, elements whose end tag may be omitted, comments and script/style.
fn estimate_depth(html: &str) -> usize {
    const NO_CLOSE: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th",
        "tbody", "thead", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "rtc", "html", "head",
        "body", "image", "basefont", "bgsound", "frame", "keygen", "command",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        i += off + 1;
        let rest = &bytes[i..];
        if rest.starts_with(b"!--") {
            i += find(rest, b"-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let start = usize::from(closing);
        let len = rest[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        if len == 0 || !rest[start].is_ascii_alphabetic() {
            continue;
        }
        let name = String::from_utf8_lossy(&rest[start..start + len]).to_ascii_lowercase();
        let tag_end = find(rest, b">").unwrap_or(rest.len());
        let self_closing = tag_end > 0 && rest[tag_end - 1] == b'/';
        if closing {
            if !NO_CLOSE.contains(&name.as_str()) {
                depth = depth.saturating_sub(1);
            }
        } else if matches!(
            name.as_str(),
            "script" | "style" | "textarea" | "title" | "xmp"
        ) {
            // Raw text: skip to the matching end tag so markup inside strings is not counted.
            let close = format!("</{name}");
            i += find_ignore_case(rest, close.as_bytes()).unwrap_or(rest.len());
            continue;
        } else if !self_closing && !NO_CLOSE.contains(&name.as_str()) {
            depth += 1;
            max = max.max(depth);
        }
        i += tag_end.min(rest.len());
    }
    max
}

/// Replaces every subtree starting below `limit` levels with its text, iteratively.
fn flatten_deep(dom: &Dom, limit: usize) {
    let mut stack = vec![(dom.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= limit {
            if node.element_children().is_empty() {
                continue;
            }
            let text = node.text();
            node.set_text(text);
            continue;
        }
        for child in node.children_it(false) {
            if child.is_element() {
                stack.push((child, depth + 1));
            }
        }
    }
}

/// The charset a page declares in `<meta charset>` or `<meta http-equiv="Content-Type">`
/// within its first 1024 bytes (where browsers look), for decoding before [`read`].
pub fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos + 5;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(label) = charset_in_tag(tag) {
            // The HTML standard: a page cannot declare UTF-16 in its own bytes.
            return Some(if label.starts_with("utf-16") {
                "utf-8".to_string()
            } else {
                label
            });
        }
        from = end;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `find` for an ASCII lower-case needle, ignoring ASCII case in `hay`.
fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn charset_in_tag(tag: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = find(&tag[from..], b"charset") {
        let mut i = from + pos + 7;
        from = i;
        while tag.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if tag.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while tag
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
        {
            i += 1;
        }
        let value: Vec<u8> = tag[i..]
            .iter()
            .copied()
            .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b';' | b'/'))
            .collect();
        if let Ok(s) = String::from_utf8(value)
            && !s.is_empty()
        {
            return Some(s);
        }
    }
    None
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn build_meta(
    d: &meta::Declared,
    article: Option<&dom_smoothie::Article>,
    base: Option<&str>,
    page_url: Option<&str>,
) -> Meta {
    let publisher = d
        .meta(&["og:site_name", "application-name"])
        .or_else(|| d.ld.publisher.clone())
        .or_else(|| article.and_then(|a| non_empty(a.site_name.as_deref())));
    let title = article
        .and_then(|a| non_empty(Some(&a.title)))
        .or_else(|| d.meta(&["og:title", "twitter:title", "dc.title"]))
        .or_else(|| d.ld.headline.clone())
        .or_else(|| d.title_tag.clone())
        .map(|t| meta::strip_site_name(&t, publisher.as_deref()));

    let mut authors = d.ld.authors.clone();
    if authors.is_empty() {
        let declared = d
            .meta(&[
                "dc:creator",
                "dcterm:creator",
                "dcterms.creator",
                "dc.creator",
                "author",
                "parsely-author",
                "sailthru.author",
            ])
            .or_else(|| d.meta(&["article:author"]).filter(|a| !url::has_scheme(a)));
        let byline = declared.or_else(|| article.and_then(|a| non_empty(a.byline.as_deref())));
        authors = byline.map(|b| meta::split_byline(&b)).unwrap_or_default();
    } else {
        authors = authors.iter().flat_map(|a| meta::split_byline(a)).collect();
        authors.dedup();
    }

    let date = [
        d.ld.date_published.clone(),
        d.meta(&[
            "article:published_time",
            "datepublished",
            "date",
            "pubdate",
            "dc.date",
        ]),
        article.and_then(|a| non_empty(a.published_time.as_deref())),
        d.time_datetime.clone(),
    ]
    .into_iter()
    .flatten()
    .find_map(|s| date::normalize(&s));

    let language = [
        d.html_lang.clone(),
        article.and_then(|a| non_empty(a.lang.as_deref())),
        d.ld.language.clone(),
        d.meta(&["og:locale", "content-language", "language", "dc.language"]),
    ]
    .into_iter()
    .flatten()
    .find_map(|l| language_tag(&l));

    let description = d
        .meta(&["og:description", "description", "twitter:description"])
        .or_else(|| d.ld.description.clone());

    let cover = d
        .meta(&[
            "og:image",
            "og:image:url",
            "og:image:secure_url",
            "twitter:image",
        ])
        .or_else(|| d.ld.image.clone())
        .or_else(|| article.and_then(|a| non_empty(a.image.as_deref())))
        .and_then(|src| {
            if url::has_scheme(&src) {
                let lower = src.to_ascii_lowercase();
                (url::is_web_url(&src) || lower.starts_with("data:") || lower.starts_with("file:"))
                    .then_some(src)
            } else if base.is_some() {
                url::resolve(base, &src)
            } else {
                // A relative path in a saved page names a local file next to it.
                Some(src)
            }
        });

    let source_url = [d.canonical.clone(), d.meta(&["og:url"])]
        .into_iter()
        .flatten()
        .find_map(|u| url::resolve(base, &u).filter(|u| url::is_web_url(u)))
        .or_else(|| page_url.map(str::to_string));

    Meta {
        title,
        authors,
        date,
        language,
        publisher,
        description,
        source_url,
        cover,
        tags: d.tags.clone(),
        ..Meta::default()
    }
}

/// Removes the first heading when it repeats the title (the title block shows it already).
fn drop_title_heading(meta: &Meta, blocks: &mut Vec<Block>) {
    let Some(title) = meta.title.as_deref().map(meta::comparable) else {
        return;
    };
    let first = blocks
        .iter()
        .take(4)
        .position(|b| matches!(b, Block::Heading { .. }));
    if let Some(i) = first
        && let Block::Heading { content, .. } = &blocks[i]
        && meta::comparable(&plain_text(content)) == title
    {
        blocks.remove(i);
    }
}

/// Makes the shallowest heading level 1, since the title sits above all of them.
fn shift_headings(blocks: &mut [Block]) {
    let mut min = 6;
    visit_headings(blocks, 0, &mut |level, _, _| min = min.min(*level));
    let shift = min.saturating_sub(1);
    if shift > 0 {
        visit_headings(blocks, 0, &mut |level, _, _| *level -= shift);
    }
}

fn assign_ids(blocks: &mut [Block], slugger: &mut Slugger, depth: usize) {
    visit_headings(blocks, depth, &mut |_, id, content| {
        *id = slugger.slug(&plain_text(content));
    });
}

fn visit_headings(
    blocks: &mut [Block],
    depth: usize,
    f: &mut dyn FnMut(&mut u8, &mut String, &[Inline]),
) {
    if depth > MAX_DEPTH * 2 {
        return;
    }
    for block in blocks {
        match block {
            Block::Heading { level, id, content } => f(level, id, content),
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                visit_headings(blocks, depth + 1, f)
            }
            Block::List(list) => {
                for item in &mut list.items {
                    visit_headings(&mut item.blocks, depth + 1, f);
                }
            }
            _ => {}
        }
    }
}

/// Words in `text`, counting two CJK characters as one word since those scripts
/// do not separate words with spaces.
fn text_units(text: &str) -> usize {
    let cjk = text
        .chars()
        .filter(|c| matches!(*c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF))
        .count();
    text.split_whitespace().count() + cjk / 2
}

/// Text units in the page's body outside scripts and styles.
fn page_text_units(dom: &Dom) -> usize {
    let Some(body) = dom.body() else {
        return 0;
    };
    body.descendants_it()
        .filter(|n| n.is_text())
        .filter(|n| {
            n.parent().and_then(|p| p.node_name()).is_none_or(|name| {
                !matches!(
                    &*name.to_ascii_lowercase(),
                    "script" | "style" | "noscript" | "template"
                )
            })
        })
        .map(|n| text_units(&n.text()))
        .sum()
}

/// The visible text of a block, for word counts.
pub(crate) fn block_text(block: &Block) -> String {
    let mut out = String::new();
    push_block_text(block, &mut out, 0);
    out
}

fn push_block_text(block: &Block, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH * 2 {
        return;
    }
    let inl = |c: &[Inline], out: &mut String| {
        push_visible(c, out, 0);
        out.push('\n');
    };
    match block {
        Block::Heading { content, .. } | Block::Paragraph { content } => inl(content, out),
        Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => blocks
            .iter()
            .for_each(|b| push_block_text(b, out, depth + 1)),
        Block::List(l) => l
            .items
            .iter()
            .flat_map(|i| &i.blocks)
            .for_each(|b| push_block_text(b, out, depth + 1)),
        Block::Code { text, .. } => {
            out.push_str(text);
            out.push('\n');
        }
        Block::Figure(f) => inl(&f.caption, out),
        Block::Table(t) => {
            for cell in t.header.iter().flatten().chain(t.rows.iter().flatten()) {
                inl(&cell.content, out);
            }
            inl(&t.caption, out);
        }
        Block::Rule | Block::RawHtml { .. } | Block::Article { .. } => {}
    }
}

/// Like `plain_text`, without image alt text (which a page does not show).
fn push_visible(inlines: &[Inline], out: &mut String, depth: usize) {
    for inline in inlines {
        match inline {
            Inline::Text { text } | Inline::Code { text } => out.push_str(text),
            Inline::LineBreak => out.push(' '),
            other => {
                if let Some(children) = other.children()
                    && depth < MAX_DEPTH * 2
                {
                    push_visible(children, out, depth + 1);
                }
            }
        }
    }
}
