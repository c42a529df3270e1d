use serde::{Deserialize, Serialize};

use super::inline::{Image, Inline};

/// Block-level content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A section heading; `level` 1 is the highest below the document title.
    Heading {
        /// 1–6.
        level: u8,
        /// Unique within the document, usable as a link target.
        id: String,
        /// The heading text.
        content: Vec<Inline>,
    },
    /// A paragraph of running text.
    Paragraph {
        /// The text.
        content: Vec<Inline>,
    },
    /// A block quotation.
    Quote {
        /// What is quoted.
        blocks: Vec<Block>,
    },
    /// A bulleted, numbered or task list.
    List(List),
    /// Preformatted code.
    Code {
        /// Language tag from the source (e.g. `rust`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// The code, verbatim, without a trailing newline.
        text: String,
    },
    /// A stand-alone image with an optional caption.
    Figure(Figure),
    /// A table.
    Table(Table),
    /// A thematic break (scene change).
    Rule,
    /// The text of a footnote, referenced by [`Inline::FootnoteRef`] with the same label.
    FootnoteDef {
        /// The label that ties references to this note.
        label: String,
        /// The note's content.
        blocks: Vec<Block>,
    },
    /// Raw HTML from the source, kept so writers can decide what to do with it.
    RawHtml {
        /// The markup, verbatim.
        html: String,
    },
    /// The start of one article in a book of several: its own title block follows, and
    /// the blocks up to the next `Article` are its body. Readers never produce it; the
    /// bundler does.
    Article {
        /// Unique within the book, usable as a link target.
        id: String,
        /// The article's title, authors, date, source and the rest.
        meta: Box<super::Meta>,
    },
}

/// A list and its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List {
    /// Bullets or numbers.
    pub kind: ListKind,
    /// Tight lists have no space between items.
    pub tight: bool,
    /// The items, in order.
    pub items: Vec<ListItem>,
}

/// Whether a list is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListKind {
    /// Bulleted.
    Bullet,
    /// Numbered, starting at `start`.
    Ordered {
        /// The first number.
        start: u64,
    },
}

/// One list item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListItem {
    /// `Some(done)` for a task-list item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<bool>,
    /// The item's content (paragraphs, nested lists, …).
    pub blocks: Vec<Block>,
}

/// A stand-alone image with its caption.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The image.
    pub image: Image,
    /// Caption shown below the image; empty for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caption: Vec<Inline>,
}

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    /// Not specified: writers use their default.
    #[default]
    Default,
    /// Flush left.
    Left,
    /// Centred.
    Center,
    /// Flush right.
    Right,
}

/// A table: an optional header row and body rows of inline cells.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// One entry per column.
    pub align: Vec<Align>,
    /// Header row, if the table has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Vec<TableCell>>,
    /// Body rows.
    pub rows: Vec<Vec<TableCell>>,
    /// Caption, empty for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caption: Vec<Inline>,
}

/// One table cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableCell {
    /// The cell's text.
    pub content: Vec<Inline>,
}

impl Block {
    /// Calls `f` on every image inside this block, in reading order.
    pub fn visit_images<'a>(&'a self, f: &mut dyn FnMut(&'a Image)) {
        match self {
            Block::Heading { content, .. } | Block::Paragraph { content } => {
                visit_inline_images(content, f)
            }
            Block::Quote { blocks } | Block::FootnoteDef { blocks, .. } => {
                blocks.iter().for_each(|b| b.visit_images(f))
            }
            Block::List(list) => list
                .items
                .iter()
                .flat_map(|i| &i.blocks)
                .for_each(|b| b.visit_images(f)),
            Block::Figure(fig) => {
                f(&fig.image);
                visit_inline_images(&fig.caption, f);
            }
            Block::Table(t) => {
                for cell in t.header.iter().flatten().chain(t.rows.iter().flatten()) {
                    visit_inline_images(&cell.content, f);
                }
            }
            Block::Code { .. } | Block::Rule | Block::RawHtml { .. } | Block::Article { .. } => {}
        }
    }
}

fn visit_inline_images<'a>(inlines: &'a [Inline], f: &mut dyn FnMut(&'a Image)) {
    for inline in inlines {
        match inline {
            Inline::Image(img) => f(img),
            other => {
                if let Some(children) = other.children() {
                    visit_inline_images(children, f);
                }
            }
        }
    }
}
