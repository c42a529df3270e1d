//! The initial of a paragraph, as a drop cap shows it: any opening punctuation, one letter
//! or digit and its combining marks. Both writers use it, so they enlarge the same characters.

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
