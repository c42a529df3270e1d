//! The drop cap: which paragraph gets one and which characters it enlarges.
//!
//! The initial is wrapped in a `<span class="dropcap">` rather than styled with
//! `::first-letter`, which Kindle ignores; span and word touch, so text extraction and search
//! still read the whole word.

use crate::model::{Block, Inline};

/// Opening punctuation that joins the letter in the drop cap (“Tide → the span holds “T).
fn is_opening(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '„' | '‚' | '«' | '‹' | '»' | '(' | '[' | '¿' | '¡'
    )
}

/// Combining marks that belong to the letter before them.
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Splits `text` into the drop cap (leading opening punctuation, one letter or digit and its
/// combining marks) and the rest; `None` when the text does not start that way.
pub fn split_initial(text: &str) -> Option<(&str, &str)> {
    let mut chars = text.char_indices().skip_while(|(_, c)| is_opening(*c));
    let (_, letter) = chars.next()?;
    if !letter.is_alphanumeric() {
        return None;
    }
    let end = chars
        .find(|(_, c)| !is_combining(*c))
        .map_or(text.len(), |(i, _)| i);
    Some(text.split_at(end))
}

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
