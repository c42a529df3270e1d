//! Section numbers (1, 1.1, 1.1.1) for themes that number headings; both writers use the
//! same numbers.

use std::collections::HashMap;

use super::Block;

/// Deepest level numbered, counted from the document's top heading level.
pub const MAX_DEPTH: usize = 3;

/// Numbers for the headings among `blocks` (top-level blocks only), by heading id.
/// Levels are counted from the shallowest heading present and restart at each article of a
/// book; headings more than
/// [`MAX_DEPTH`] levels down stay unnumbered. A skipped level counts as 1 (h2 → h4 gives 1.1.1).
pub fn section_numbers(blocks: &[Block]) -> HashMap<String, String> {
    // `None` marks the start of an article of a book: numbering starts again.
    let levels: Vec<Option<(u8, &str)>> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, id, .. } => Some(Some((*level, id.as_str()))),
            Block::Article { .. } => Some(None),
            _ => None,
        })
        .collect();
    let Some(top) = levels.iter().flatten().map(|l| l.0).min() else {
        return HashMap::new();
    };
    let mut counters = [0u32; MAX_DEPTH];
    let mut out = HashMap::new();
    for item in levels {
        let Some((level, id)) = item else {
            counters = [0; MAX_DEPTH];
            continue;
        };
        let depth = usize::from(level - top);
        if depth >= MAX_DEPTH {
            continue;
        }
        counters[depth] += 1;
        for c in &mut counters[depth + 1..] {
            *c = 0;
        }
        let label = counters[..=depth]
            .iter()
            .map(|c| c.max(&1).to_string())
            .collect::<Vec<_>>()
            .join(".");
        out.insert(id.to_string(), label);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Inline;

    fn h(level: u8, id: &str) -> Block {
        Block::Heading {
            level,
            id: id.into(),
            content: vec![Inline::text(id)],
        }
    }

    #[test]
    fn numbers_nest_and_restart() {
        let blocks = vec![
            h(2, "a"),
            h(3, "a1"),
            h(3, "a2"),
            h(5, "deep"),
            h(2, "b"),
            h(4, "b-skip"),
            h(3, "b1"),
        ];
        let n = section_numbers(&blocks);
        assert_eq!(n["a"], "1");
        assert_eq!(n["a1"], "1.1");
        assert_eq!(n["a2"], "1.2");
        assert!(!n.contains_key("deep"));
        assert_eq!(n["b"], "2");
        assert_eq!(n["b-skip"], "2.1.1");
        assert_eq!(n["b1"], "2.1");
    }
}
