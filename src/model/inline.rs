use serde::{Deserialize, Serialize};

/// Inline content: text and the spans that style or link it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inline {
    /// Literal text, already unescaped (curly quotes and dashes as characters).
    Text {
        /// The characters.
        text: String,
    },
    /// Emphasis, usually italic.
    Emphasis {
        /// What is emphasised.
        content: Vec<Inline>,
    },
    /// Strong importance, usually bold.
    Strong {
        /// What is strong.
        content: Vec<Inline>,
    },
    /// Struck-out text.
    Strikethrough {
        /// What is struck out.
        content: Vec<Inline>,
    },
    /// Superscript (e.g. ordinal suffixes).
    Superscript {
        /// What is raised.
        content: Vec<Inline>,
    },
    /// Subscript (e.g. chemical formulas).
    Subscript {
        /// What is lowered.
        content: Vec<Inline>,
    },
    /// Inline code, shown in the monospace face.
    Code {
        /// The code, verbatim.
        text: String,
    },
    /// A hyperlink.
    Link {
        /// Target: an absolute URL, a relative path, or `#id` inside the document.
        url: String,
        /// Optional title (tooltip).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// The linked text.
        content: Vec<Inline>,
    },
    /// An image inside running text.
    Image(Image),
    /// A reference to a footnote definition with the same label.
    FootnoteRef {
        /// The label that ties the reference to [`crate::model::Block::FootnoteDef`].
        label: String,
    },
    /// A forced line break.
    LineBreak,
    /// Raw HTML from the source, kept so writers can decide what to do with it.
    RawHtml {
        /// The markup, verbatim.
        html: String,
    },
}

impl Inline {
    /// Shorthand for a text node.
    pub fn text(s: impl Into<String>) -> Self {
        Inline::Text { text: s.into() }
    }

    /// The children of a styling span, if this is one.
    pub fn children(&self) -> Option<&[Inline]> {
        match self {
            Inline::Emphasis { content }
            | Inline::Strong { content }
            | Inline::Strikethrough { content }
            | Inline::Superscript { content }
            | Inline::Subscript { content }
            | Inline::Link { content, .. } => Some(content),
            _ => None,
        }
    }
}

/// An image reference: where it is and how to describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Location as written in the source (relative path, absolute path, URL or `data:` URI).
    pub src: String,
    /// Alternative text, shown when the image cannot be.
    pub alt: String,
    /// Optional title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The text of inline content without any styling, for titles, alt text and tables of contents.
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    push_plain(inlines, &mut out);
    out
}

fn push_plain(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text { text } | Inline::Code { text } => out.push_str(text),
            Inline::Image(img) => out.push_str(&img.alt),
            Inline::LineBreak => out.push(' '),
            Inline::FootnoteRef { .. } | Inline::RawHtml { .. } => {}
            other => {
                if let Some(children) = other.children() {
                    push_plain(children, out);
                }
            }
        }
    }
}
