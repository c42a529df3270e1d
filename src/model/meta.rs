use serde::{Deserialize, Serialize};

/// What describes an article: everything a title page or OPF metadata needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// Headline or book title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Standfirst, dek or subtitle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Authors in byline order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Publication date, ISO 8601 (`YYYY-MM-DD` or a full timestamp); see [`super::date`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// BCP 47 language tag, e.g. `en` or `pt-BR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Publisher or site name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Short summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the article was published (URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// When the article was fetched from the web, ISO 8601 (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrieved: Option<String>,
    /// Cover image location, as written in the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    /// Tags or keywords.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Copyright or licence statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// A stable identifier (URN, ISBN, DOI or URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// Kicker: the small section label above a news headline ("SCIENCE", "Opinion").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kicker: Option<String>,
}

impl Meta {
    /// The authors joined for a byline: "A", "A and B", "A, B and C".
    pub fn byline(&self) -> Option<String> {
        match self.authors.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            [init @ .., last] => Some(format!("{} and {}", init.join(", "), last)),
        }
    }

    /// The title block's retrieval line, "Retrieved 5 March 2024", when the article was fetched.
    pub fn retrieved_label(&self) -> Option<String> {
        let d = self.retrieved.as_deref().filter(|d| !d.trim().is_empty())?;
        Some(format!("Retrieved {}", super::date::display(d)))
    }
}

/// A BCP 47-shaped language tag (`en`, `pt-BR`, `zh-Hant-TW`), normalised (`en_US` → `en-US`),
/// or `None` when the text cannot be one.
pub fn language_tag(s: &str) -> Option<String> {
    let tag = s.trim().replace('_', "-");
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    ok.then_some(tag)
}
