//! The document model: plain data shared by every reader and every writer.
//!
//! Readers build a [`Document`]; writers consume it. Nothing here knows about
//! Markdown, HTML, EPUB or PDF, so each side can be tested on its own
//! (`galley dump --json` prints this model).

mod block;
pub mod date;
pub mod initial;
mod inline;
mod meta;
pub mod numbering;
pub mod slug;

pub use block::{Align, Block, Figure, List, ListItem, ListKind, Table, TableCell};
pub use inline::{Image, Inline, plain_text};
pub use meta::{Meta, language_tag};

use serde::{Deserialize, Serialize};

/// One article: its metadata and its body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Title, authors, date and the rest of what describes the article.
    pub meta: Meta,
    /// The body, in reading order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// Every image referenced anywhere in the body, in reading order.
    pub fn images(&self) -> Vec<&Image> {
        let mut out = Vec::new();
        for block in &self.blocks {
            block.visit_images(&mut |img| out.push(img));
        }
        out
    }
}
