//! The drop cap: which paragraph gets one and which characters it enlarges.
//!
//! The initial is wrapped in a `<span class="dropcap">` rather than styled with
//! `::first-letter`, which Kindle ignores; span and word touch, so text extraction and search
//! still read the whole word.

use crate::model::{Block, Inline};

pub use crate::model::initial::split_initial;

/// The drop cap text of a paragraph, when its content starts with plain text that has one.
pub fn initial(content: &[Inline]) -> Option<&str> {
    match content.first()? {
        Inline::Text { text } => split_initial(text).map(|(cap, _)| cap),
        _ => None,
    }
}

/// Index of the paragraph that gets the drop cap: the first top-level paragraph of the body,
/// if it starts with a letter.
pub fn paragraph_index(blocks: &[Block]) -> Option<usize> {
    let i = blocks
        .iter()
        .position(|b| matches!(b, Block::Paragraph { content } if !content.is_empty()))?;
    match &blocks[i] {
        Block::Paragraph { content } => initial(content).map(|_| i),
        _ => None,
    }
}

/// Indices of the paragraphs that get drop caps: the first of the body, or in a book the
/// first of each article.
pub fn paragraph_indices(blocks: &[Block]) -> Vec<usize> {
    let starts: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, Block::Article { .. }))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return paragraph_index(blocks).into_iter().collect();
    }
    starts
        .iter()
        .enumerate()
        .filter_map(|(k, &s)| {
            let end = starts.get(k + 1).copied().unwrap_or(blocks.len());
            paragraph_index(&blocks[s + 1..end]).map(|i| s + 1 + i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_opening_punctuation_and_marks() {
        assert_eq!(split_initial("Stand on"), Some(("S", "tand on")));
        assert_eq!(split_initial("“Tide”"), Some(("“T", "ide”")));
        assert_eq!(split_initial("\"A\""), Some(("\"A", "\"")));
        assert_eq!(split_initial("e\u{301}té"), Some(("e\u{301}", "té")));
        assert_eq!(split_initial("… and"), None);
        assert_eq!(split_initial(""), None);
        assert_eq!(split_initial("Ժ"), Some(("Ժ", "")));
    }
}
