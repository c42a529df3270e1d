use super::*;
use crate::model::{Align, Figure, ListKind};

fn body(html: &str) -> Document {
    let opts = HtmlOptions {
        extract: false,
        url: Some("https://example.com/news/story.html".into()),
    };
    read(&format!("<html><body>{html}</body></html>"), &opts).expect("page reads")
}

const WHOLE_BODY: HtmlOptions = HtmlOptions {
    extract: false,
    url: None,
};

fn para(text: &str) -> Block {
    Block::Paragraph {
        content: vec![Inline::text(text)],
    }
}

const LOREM: &str = "The committee met on Tuesday to discuss the proposal, and after a long debate \
    the members agreed that the plan should go ahead with several changes to its budget. ";

fn article_page(head: &str, article: &str) -> String {
    format!(
        "<html lang=\"en_GB\"><head>{head}</head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>\
         <div class=\"share\"><button>Share</button></div>\
         <article>{article}</article>\
         <footer><p>© Example News. All rights reserved.</p><form><input name=q></form></footer>\
         <script>var tracking = 'secret words';</script></body></html>"
    )
}

#[test]
fn walks_structure_into_the_model() {
    let doc = body(
        "<h2>Intro</h2><p>Some <em>very</em> <b>bold</b> <s>old</s> H<sub>2</sub>O x<sup>2</sup> \
         <code>let x</code><br>next</p><blockquote><p>Quoted</p></blockquote><hr>",
    );
    let Block::Heading { level, id, .. } = &doc.blocks[0] else {
        panic!("heading first: {:?}", doc.blocks)
    };
    assert_eq!((*level, id.as_str()), (1, "intro"));
    let Block::Paragraph { content } = &doc.blocks[1] else {
        panic!("paragraph")
    };
    assert_eq!(content[0], Inline::text("Some "));
    assert_eq!(
        content[1],
        Inline::Emphasis {
            content: vec![Inline::text("very")]
        }
    );
    assert!(content.contains(&Inline::Code {
        text: "let x".into()
    }));
    assert!(content.contains(&Inline::LineBreak));
    assert!(
        content
            .iter()
            .any(|i| matches!(i, Inline::Subscript { .. }))
    );
    assert!(
        content
            .iter()
            .any(|i| matches!(i, Inline::Strikethrough { .. }))
    );
    assert_eq!(
        doc.blocks[2],
        Block::Quote {
            blocks: vec![para("Quoted")]
        }
    );
    assert_eq!(doc.blocks[3], Block::Rule);
}

#[test]
fn whitespace_collapses_across_elements() {
    let doc = body("<p>\n  a  <span> b </span>\n <em> c</em>  </p>");
    assert_eq!(
        crate::model::plain_text(match &doc.blocks[0] {
            Block::Paragraph { content } => content,
            other => panic!("{other:?}"),
        }),
        "a b c"
    );
}

#[test]
fn lists_nest_and_keep_their_start() {
    let doc = body("<ol start=\"3\"><li>one<ul><li>inner</li></ul></li><li>two</li></ol>");
    let Block::List(list) = &doc.blocks[0] else {
        panic!("list")
    };
    assert_eq!(list.kind, ListKind::Ordered { start: 3 });
    assert_eq!(list.items.len(), 2);
    assert!(matches!(&list.items[0].blocks[1], Block::List(l) if l.kind == ListKind::Bullet));
}

#[test]
fn tables_keep_header_and_alignment() {
    let doc = body(
        "<table><caption>Prices</caption><thead><tr><th>Item</th><th align=right>Cost</th>\
         <th style=\"text-align: center\">Note</th></tr></thead>\
         <tbody><tr><td>Tea</td><td>2</td><td colspan=1>hot</td></tr><tr><td colspan=2>Total</td>\
         </tr></tbody></table>",
    );
    let Block::Table(t) = &doc.blocks[0] else {
        panic!("table: {:?}", doc.blocks)
    };
    assert_eq!(t.align, vec![Align::Default, Align::Right, Align::Center]);
    assert_eq!(t.header.as_ref().map(Vec::len), Some(3));
    assert_eq!(t.rows.len(), 2);
    assert!(t.rows.iter().all(|r| r.len() == 3));
    assert_eq!(t.caption, vec![Inline::text("Prices")]);
}

#[test]
fn layout_tables_are_flattened() {
    let doc = body("<table><tr><td><h2>Title</h2><p>Body text</p></td></tr></table>");
    assert!(matches!(doc.blocks[0], Block::Heading { .. }));
    assert_eq!(doc.blocks[1], para("Body text"));
}

#[test]
fn code_blocks_keep_text_and_language() {
    let doc = body(
        "<pre><code class=\"language-rust\">fn main() {\n    <span>x</span>();\n}\n</code></pre>",
    );
    assert_eq!(
        doc.blocks[0],
        Block::Code {
            language: Some("rust".into()),
            text: "fn main() {\n    x();\n}".into()
        }
    );
}

#[test]
fn figures_images_and_lazy_sources() {
    let doc = body(
        "<figure><img src=\"data:image/gif;base64,R0lGOD\" data-src=\"/img/a.jpg\" alt=\"A\">\
         <figcaption>The <em>caption</em></figcaption></figure>\
         <p><img srcset=\"s.jpg 300w, m.jpg 800w, xl.jpg 5000w\" src=\"s.jpg\"></p>\
         <picture><source type=\"image/avif\" srcset=\"p.avif\"><source srcset=\"p.webp 2x\">\
         <img src=\"p.jpg\"></picture>\
         <p>pixel<img src=\"https://t.example/p.gif\" width=1 height=1>\
         <img src=\"https://www.google-analytics.com/collect?x\"></p>",
    );
    let Block::Figure(Figure { image, caption }) = &doc.blocks[0] else {
        panic!("figure: {:?}", doc.blocks)
    };
    assert_eq!(image.src, "https://example.com/img/a.jpg");
    assert_eq!(image.alt, "A");
    assert_eq!(crate::model::plain_text(caption), "The caption");
    let srcs: Vec<&str> = doc.images().iter().map(|i| i.src.as_str()).collect();
    assert_eq!(
        srcs,
        [
            "https://example.com/img/a.jpg",
            "https://example.com/news/m.jpg",
            "https://example.com/news/p.webp"
        ]
    );
    assert_eq!(doc.blocks[3], para("pixel"));
}

#[test]
fn relative_images_stay_relative_without_a_base() {
    let doc = read(
        "<body><p><img src=\"page_files/a.png\" alt=\"x\"> and <a href=\"other.html\">a link</a> \
         <a href=\"#top\">top</a> <a href=\"javascript:void(0)\">js</a></p></body>",
        &WHOLE_BODY,
    )
    .expect("reads");
    assert_eq!(doc.images()[0].src, "page_files/a.png");
    let Block::Paragraph { content } = &doc.blocks[0] else {
        panic!()
    };
    assert!(!content.iter().any(|i| matches!(i, Inline::Link { .. })));
}

#[test]
fn links_resolve_against_base() {
    let doc = read(
        "<head><base href=\"https://base.example/dir/\"></head><body><p><a href=\"x.html\" \
         title=\"T\">x</a> <a href=\"#s\">s</a></p></body>",
        &WHOLE_BODY,
    )
    .expect("reads");
    let Block::Paragraph { content } = &doc.blocks[0] else {
        panic!()
    };
    assert_eq!(
        content[0],
        Inline::Link {
            url: "https://base.example/dir/x.html".into(),
            title: Some("T".into()),
            content: vec![Inline::text("x")]
        }
    );
    assert!(
        matches!(&content[2], Inline::Link { url, .. } if url == "https://base.example/dir/#s")
    );
}

#[test]
fn embeds_become_links_and_junk_is_dropped() {
    let doc = body(
        "<p>Watch:</p><iframe src=\"https://www.youtube.com/embed/xyz\" title=\"The talk\"></iframe>\
         <video src=\"/v.mp4\"></video><script>alert('no')</script><style>p{}</style>\
         <form><input value=\"typed\"><button>Send</button><textarea>draft</textarea></form>\
         <noscript>enable js</noscript><template><p>tpl</p></template>",
    );
    assert_eq!(doc.blocks.len(), 3, "{:?}", doc.blocks);
    assert_eq!(
        doc.blocks[1],
        Block::Paragraph {
            content: vec![Inline::Link {
                url: "https://www.youtube.com/embed/xyz".into(),
                title: None,
                content: vec![Inline::text("Embedded video: The talk")]
            }]
        }
    );
    let all: String = doc.blocks.iter().map(block_text).collect();
    for junk in ["alert", "typed", "Send", "draft", "enable", "tpl"] {
        assert!(!all.contains(junk), "{junk} leaked: {all}");
    }
    assert!(all.contains("Embedded video: example.com"));
}

#[test]
fn extracts_article_and_metadata() {
    let head = r#"<title>Budget plan approved | Example News</title>
        <meta property="og:site_name" content="Example News">
        <meta property="og:description" content="The plan goes ahead.">
        <meta property="og:image" content="https://example.com/lead.jpg">
        <link rel="canonical" href="https://example.com/2024/budget">
        <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
          {"@type":"WebSite","name":"Example"},
          {"@type":"NewsArticle","headline":"Budget plan approved",
           "author":[{"@type":"Person","name":"Ana Lima"},{"name":"Bo Chen"}],
           "datePublished":"2024-03-05T10:20:30Z"}]}</script>"#;
    let mut article = String::from("<h1>Budget plan approved</h1>");
    for i in 0..8 {
        article.push_str(&format!("<p>{LOREM} Paragraph {i}.</p>"));
    }
    article.push_str("<h2>Next steps</h2><p>More to come.</p>");
    let doc = read(
        &article_page(head, &article),
        &HtmlOptions {
            extract: true,
            url: None,
        },
    )
    .expect("article found");
    let m = &doc.meta;
    assert_eq!(m.title.as_deref(), Some("Budget plan approved"));
    assert_eq!(m.authors, ["Ana Lima", "Bo Chen"]);
    assert_eq!(m.date.as_deref(), Some("2024-03-05T10:20:30Z"));
    assert_eq!(m.language.as_deref(), Some("en-GB"));
    assert_eq!(m.publisher.as_deref(), Some("Example News"));
    assert_eq!(m.description.as_deref(), Some("The plan goes ahead."));
    assert_eq!(m.cover.as_deref(), Some("https://example.com/lead.jpg"));
    assert_eq!(
        m.source_url.as_deref(),
        Some("https://example.com/2024/budget")
    );
    // The title is not repeated as the first heading; the next one becomes level 1.
    assert!(matches!(&doc.blocks[0], Block::Paragraph { .. }));
    assert!(
        doc.blocks
            .iter()
            .any(|b| matches!(b, Block::Heading { level: 1, id, .. } if id == "next-steps"))
    );
    let all: String = doc.blocks.iter().map(block_text).collect();
    for junk in ["Home", "Share", "rights reserved", "secret"] {
        assert!(!all.contains(junk), "{junk} leaked");
    }
}

#[test]
fn metadata_from_meta_tags_and_byline() {
    let head = r#"<title>Quiet morning - The Daily</title><meta name="author" content="By Ann Smith and Joe Bloggs">
        <meta property="article:published_time" content="March 5, 2024">
        <meta property="og:site_name" content="The Daily"><meta property="og:locale" content="pt_BR">"#;
    let page = format!(
        "<html><head>{head}</head><body><article><p>{}</p></article></body></html>",
        LOREM.repeat(5)
    );
    let doc = read(
        &page,
        &HtmlOptions {
            extract: true,
            url: None,
        },
    )
    .expect("reads");
    assert_eq!(doc.meta.title.as_deref(), Some("Quiet morning"));
    assert_eq!(doc.meta.authors, ["Ann Smith", "Joe Bloggs"]);
    assert_eq!(doc.meta.date.as_deref(), Some("2024-03-05"));
    assert_eq!(doc.meta.language.as_deref(), Some("pt-BR"));
}

#[test]
fn no_article_is_an_error() {
    let mut links = String::new();
    for i in 0..300 {
        links.push_str(&format!(
            "<li><a href=\"/p{i}\">Story number {i} headline</a></li>"
        ));
    }
    let page = format!("<html><body><ul class=\"nav\">{links}</ul></body></html>");
    let opts = HtmlOptions {
        extract: true,
        url: None,
    };
    let r = read(&page, &opts);
    assert!(
        matches!(r, Err(HtmlError::NoArticle)),
        "{:?}",
        r.map(|d| d.blocks.into_iter().take(3).collect::<Vec<_>>())
    );
    assert!(matches!(
        read("<html><body><div></div></body></html>", &opts),
        Err(HtmlError::NoArticle)
    ));
    assert!(matches!(
        read("<html><body><script>x</script></body></html>", &WHOLE_BODY),
        Err(HtmlError::EmptyBody)
    ));
}

#[test]
fn no_extract_keeps_the_whole_body() {
    let doc = body("<nav><p>Menu text</p></nav><p>Short.</p>");
    assert_eq!(doc.blocks, vec![para("Menu text"), para("Short.")]);
}

#[test]
fn declared_charset_reads_both_forms() {
    assert_eq!(
        declared_charset(b"<html><head><meta charset=\"ISO-8859-1\">").as_deref(),
        Some("iso-8859-1")
    );
    assert_eq!(
        declared_charset(
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
        )
        .as_deref(),
        Some("windows-1251")
    );
    assert_eq!(
        declared_charset(b"<meta charset='utf-16le'>").as_deref(),
        Some("utf-8")
    );
    assert_eq!(declared_charset(b"<p>charset=nothing</p>"), None);
    let mut late = vec![b' '; 1100];
    late.extend_from_slice(b"<meta charset=\"koi8-r\">");
    assert_eq!(declared_charset(&late), None);
    assert_eq!(declared_charset(b"<meta charset="), None);
}

#[test]
fn hostile_nesting_is_bounded() {
    let nest = |open: &str, n: usize| {
        let mut page = String::from("<html><body>");
        for _ in 0..n {
            page.push_str(open);
        }
        page.push_str("deep text");
        page
    };
    // Deep but accepted: flattened to text below the structural limit.
    let doc = read(&nest("<div><span>", 500), &WHOLE_BODY).expect("reads");
    let all: String = doc.blocks.iter().map(block_text).collect();
    assert!(all.contains("deep text"));
    let quotes = nest("<blockquote><ul><li>", 300);
    assert!(read(&quotes, &WHOLE_BODY).is_ok());
    let extract = HtmlOptions::default();
    assert!(read(&nest("<div>", 1000), &extract).is_ok());
    // Refused before parsing, where the cost would grow with the square of the depth.
    assert!(matches!(
        read(&nest("<div>", 50_000), &extract),
        Err(HtmlError::TooDeep { .. })
    ));
    // Unclosed paragraphs and void elements do not count as nesting.
    assert!(estimate_depth(&"<p>x<br><img src=a>".repeat(5000)) <= 2);
    assert_eq!(
        estimate_depth("<script>if (a<b) { '<div><div>' }</script><div></div>"),
        1
    );
}

#[test]
fn byline_splitting() {
    assert_eq!(
        meta::split_byline("By A. Writer, B. Other & C. Third"),
        ["A. Writer", "B. Other", "C. Third"]
    );
    assert_eq!(meta::split_byline("Jane Doe | Staff"), ["Jane Doe"]);
    assert_eq!(meta::split_byline("肖春芳"), ["肖春芳"]);
    assert_eq!(
        meta::split_byline("By Brenda Goodman, MA"),
        ["Brenda Goodman"]
    );
    assert_eq!(
        meta::split_byline("Written by Rob E Edited by Betsy B"),
        ["Rob E"]
    );
    assert!(meta::split_byline("Last Updated: January 7, 2025").is_empty());
}

#[test]
fn tweets_keep_their_text_and_link() {
    let doc = body(
        "<blockquote class=\"twitter-tweet\"><p>Hello world</p>&mdash; Someone \
         <a href=\"https://twitter.com/someone/status/1\">March 1, 2024</a></blockquote>",
    );
    let Block::Quote { blocks } = &doc.blocks[0] else {
        panic!("{:?}", doc.blocks)
    };
    assert_eq!(blocks[0], para("Hello world"));
    assert!(matches!(&blocks[1], Block::Paragraph { content }
        if content.iter().any(|i| matches!(i, Inline::Link { url, .. } if url.contains("status")))));
}
