//! What a page declares about itself: `<meta>`, OpenGraph, JSON-LD, `<time>`, `lang`.
//!
//! Read from the full page before extraction, which removes scripts (and with them JSON-LD).

use std::collections::HashMap;

use dom_query::Document as Dom;
use serde_json::Value;

/// Largest JSON-LD block parsed; bigger ones are page state, not metadata.
const MAX_JSON_LD: usize = 1 << 20;

/// Declared metadata, raw (not yet normalised).
#[derive(Debug, Default)]
pub(super) struct Declared {
    pub html_lang: Option<String>,
    /// `<meta name|property>` lower-cased → first non-empty content.
    pub metas: HashMap<String, String>,
    /// All `article:tag` values, in order.
    pub tags: Vec<String>,
    pub title_tag: Option<String>,
    pub canonical: Option<String>,
    pub base_href: Option<String>,
    pub time_datetime: Option<String>,
    pub first_h1: Option<String>,
    pub ld: JsonLd,
}

/// The article fields of a page's JSON-LD.
#[derive(Debug, Default)]
pub(super) struct JsonLd {
    pub headline: Option<String>,
    pub authors: Vec<String>,
    pub date_published: Option<String>,
    pub publisher: Option<String>,
    pub language: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
}

impl Declared {
    /// The first of `keys` present among the `<meta>` tags.
    pub fn meta(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.metas.get(*k).cloned())
    }
}

fn clean(s: &str) -> Option<String> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty()).then_some(s)
}

/// Collects what the page declares.
pub(super) fn declared(dom: &Dom) -> Declared {
    let mut d = Declared {
        html_lang: dom
            .select("html")
            .nodes()
            .first()
            .and_then(|h| h.attr("lang").or_else(|| h.attr("xml:lang")))
            .and_then(|l| clean(&l)),
        ..Declared::default()
    };
    for node in dom.select("meta").nodes() {
        let Some(content) = node.attr("content").and_then(|c| clean(&c)) else {
            continue;
        };
        // `property` may hold several space-separated names (RDFa).
        let keys = [
            node.attr("property"),
            node.attr("name"),
            node.attr("itemprop"),
        ];
        for key in keys.iter().flatten() {
            for k in key.split_whitespace() {
                let k = k.to_ascii_lowercase();
                if k == "article:tag" {
                    d.tags.push(content.clone());
                }
                d.metas.entry(k).or_insert_with(|| content.clone());
            }
        }
    }
    d.title_tag = dom
        .select("head title")
        .nodes()
        .first()
        .or(dom.select("title").nodes().first())
        .and_then(|t| clean(&t.text()));
    for link in dom.select("link[rel]").nodes() {
        let rel = link.attr("rel").unwrap_or_default().to_ascii_lowercase();
        if rel.split_whitespace().any(|r| r == "canonical") {
            d.canonical = link.attr("href").and_then(|h| clean(&h));
            break;
        }
    }
    d.base_href = dom
        .select("base[href]")
        .nodes()
        .first()
        .and_then(|b| b.attr("href"))
        .and_then(|h| clean(&h));
    d.time_datetime = dom
        .select("time[datetime]")
        .nodes()
        .iter()
        .find_map(|t| t.attr("datetime").and_then(|v| clean(&v)));
    d.first_h1 = dom
        .select("h1")
        .nodes()
        .first()
        .and_then(|h| clean(&h.text()));
    for script in dom.select("script[type]").nodes() {
        let ty = script.attr("type").unwrap_or_default().to_ascii_lowercase();
        if ty.trim() != "application/ld+json" {
            continue;
        }
        let text = script.text();
        if text.len() > MAX_JSON_LD {
            continue;
        }
        // CMSs often wrap JSON-LD in CDATA markers or leave trailing semicolons.
        let body = text
            .trim()
            .trim_start_matches("//<![CDATA[")
            .trim_end_matches("//]]>")
            .trim()
            .trim_end_matches(';');
        if let Ok(value) = serde_json::from_str::<Value>(body)
            && let Some(article) = find_article(&value, 0)
        {
            d.ld = json_ld(article);
            break;
        }
    }
    d
}

fn is_article_type(v: &Value) -> bool {
    let matches = |t: &str| {
        t.ends_with("Article")
            || matches!(
                t,
                "BlogPosting" | "Report" | "LiveBlogPosting" | "SocialMediaPosting" | "Review"
            )
    };
    match v.get("@type") {
        Some(Value::String(t)) => matches(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    }
}

/// The first article-typed object, searching arrays and `@graph` (bounded depth).
fn find_article(v: &Value, depth: usize) -> Option<&Value> {
    if depth > 8 {
        return None;
    }
    match v {
        Value::Array(items) => items.iter().find_map(|i| find_article(i, depth + 1)),
        Value::Object(map) => {
            if is_article_type(v) {
                return Some(v);
            }
            map.get("@graph")
                .or_else(|| map.get("mainEntity"))
                .and_then(|g| find_article(g, depth + 1))
        }
        _ => None,
    }
}

fn string_or_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => clean(s),
        Value::Object(m) => m.get("name").and_then(Value::as_str).and_then(clean),
        _ => None,
    }
}

fn json_ld(v: &Value) -> JsonLd {
    let str_field = |k: &str| v.get(k).and_then(Value::as_str).and_then(clean);
    let authors = match v.get("author").or_else(|| v.get("creator")) {
        Some(Value::Array(list)) => list.iter().filter_map(string_or_name).collect(),
        Some(one) => string_or_name(one).into_iter().collect(),
        None => Vec::new(),
    };
    let image = match v.get("image") {
        Some(Value::String(s)) => clean(s),
        Some(Value::Object(m)) => m.get("url").and_then(Value::as_str).and_then(clean),
        Some(Value::Array(list)) => list.iter().find_map(|i| match i {
            Value::String(s) => clean(s),
            Value::Object(m) => m.get("url").and_then(Value::as_str).and_then(clean),
            _ => None,
        }),
        _ => None,
    };
    JsonLd {
        headline: str_field("headline").or_else(|| str_field("name")),
        authors,
        date_published: str_field("datePublished").or_else(|| str_field("dateCreated")),
        publisher: v.get("publisher").and_then(string_or_name),
        language: str_field("inLanguage"),
        description: str_field("description"),
        image,
    }
}

/// Authors from a byline: "By A and B", "A, B & C", "A | Site" → `["A", "B"]`.
pub(super) fn split_byline(byline: &str) -> Vec<String> {
    let mut s = byline.split(['|', '\n']).next().unwrap_or("").trim();
    // Credits for other roles follow the author's name: "Written by A Edited by B".
    let lower = s.to_lowercase();
    if lower.is_char_boundary(s.len())
        && let Some(cut) = [
            " edited by ",
            " photographs by ",
            " illustrations by ",
            " updated ",
        ]
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        && s.is_char_boundary(cut)
    {
        s = s[..cut].trim();
    }
    for prefix in [
        "by ",
        "by:",
        "written by ",
        "posted by ",
        "story by ",
        "von ",
        "par ",
    ] {
        if let Some(head) = s.get(..prefix.len())
            && head.eq_ignore_ascii_case(prefix)
        {
            s = s[prefix.len()..].trim();
        }
    }
    let mut out: Vec<String> = Vec::new();
    for part in s.split([',', ';', '&']) {
        for name in part.split(" and ") {
            let Some(name) = clean(name) else { continue };
            let lower = name.to_lowercase();
            // Widgets and dates that byline heuristics pick up ("Follow Author", "Updated 5 May").
            let looks_like_name = name.chars().count() <= 80
                && !name.contains("://")
                && !name.contains(|c: char| c.is_ascii_digit() || c == ':' || c == '@')
                && name.chars().any(char::is_alphabetic)
                && !["follow", "updated", "last updated", "published", "share"]
                    .iter()
                    .any(|w| lower.starts_with(w))
                && !is_credential(&name);
            if looks_like_name && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Degrees and suffixes that follow a name after a comma ("Jane Roe, MD").
fn is_credential(s: &str) -> bool {
    let letters: String = s.chars().filter(|c| c.is_alphabetic()).collect();
    (!s.contains(' ')
        && letters.len() <= 4
        && letters.chars().filter(|c| c.is_uppercase()).count() >= 2)
        || matches!(letters.as_str(), "Jr" | "Sr" | "PhD" | "II" | "III")
}

/// `title` without a trailing (or leading) " | Site" part naming the site.
pub(super) fn strip_site_name(title: &str, site: Option<&str>) -> String {
    let title = title.trim();
    let Some(site) = site.map(comparable).filter(|s| !s.is_empty()) else {
        return title.to_string();
    };
    for sep in [" | ", " - ", " – ", " — ", " :: ", " · ", " » ", " / "] {
        if let Some((head, tail)) = title.rsplit_once(sep)
            && comparable(tail) == site
            && !head.trim().is_empty()
        {
            return head.trim().to_string();
        }
        if let Some((head, tail)) = title.split_once(sep)
            && comparable(head) == site
            && !tail.trim().is_empty()
        {
            return tail.trim().to_string();
        }
    }
    title.to_string()
}

/// Lower-case letters and digits only, for "is this the same text" comparisons.
pub(super) fn comparable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
