//! The sfnt container (TrueType/OpenType): tables by tag in, a font file out.
//!
//! Standalone (only `std`), because the build script uses it too: the fonts built into
//! the binary are stored with their glyph names left out (see [`without_glyph_names`]).

use std::collections::BTreeMap;

/// Tables by tag; byte order of the tags is the order the table directory needs.
pub type Tables = BTreeMap<[u8; 4], Vec<u8>>;

/// Reads a font's table directory: its flavour tag and its tables by tag.
pub fn read_sfnt(data: &[u8]) -> Option<([u8; 4], Tables)> {
    let u16_at = |at: usize| Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?));
    let flavor: [u8; 4] = data.get(..4)?.try_into().ok()?;
    let mut tables = BTreeMap::new();
    for i in 0..usize::from(u16_at(4)?) {
        let record = 12 + 16 * i;
        let tag: [u8; 4] = data.get(record..record + 4)?.try_into().ok()?;
        let offset = u32_at(record + 8)? as usize;
        let length = u32_at(record + 12)? as usize;
        tables.insert(tag, data.get(offset..offset.checked_add(length)?)?.to_vec());
    }
    Some((flavor, tables))
}

/// Writes an sfnt: sorted table directory, 4-byte aligned tables, table checksums and
/// head.checkSumAdjustment.
pub fn write_sfnt(flavor: [u8; 4], tables: &Tables) -> Option<Vec<u8>> {
    let count = u16::try_from(tables.len()).ok()?;
    let entry_selector = count.checked_ilog2()? as u16;
    let search_range = 16 * (1u16 << entry_selector);
    let mut w: Vec<u8> = Vec::new();
    w.extend(flavor);
    for v in [
        count,
        search_range,
        entry_selector,
        count * 16 - search_range,
    ] {
        w.extend(v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, table) in tables {
        let mut table = table.as_slice();
        let zeroed;
        if tag == b"head" {
            // checkSumAdjustment counts as zero in the head checksum.
            let mut copy = table.to_vec();
            copy.get_mut(8..12)?.fill(0);
            zeroed = copy;
            table = &zeroed;
            head_at = Some(offset + 8);
        }
        w.extend(tag);
        w.extend(checksum(table).to_be_bytes());
        w.extend(u32::try_from(offset).ok()?.to_be_bytes());
        w.extend(u32::try_from(table.len()).ok()?.to_be_bytes());
        offset += table.len().next_multiple_of(4);
    }
    for (tag, table) in tables {
        let start = w.len();
        w.extend(table);
        if tag == b"head" {
            w[start + 8..start + 12].fill(0);
        }
        w.resize(w.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBA_u32.wrapping_sub(checksum(&w));
        w[at..at + 4].copy_from_slice(&adjustment.to_be_bytes());
    }
    Some(w)
}

/// Sum of big-endian u32 words, the last one zero-padded.
pub fn checksum(data: &[u8]) -> u32 {
    // Whole words first: summing through a padded copy of every word took a third of
    // the time of writing an article's subset font.
    let words = data.chunks_exact(4);
    let rest = words.remainder();
    let sum = words.fold(0u32, |sum, w| {
        sum.wrapping_add(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    });
    let mut last = [0u8; 4];
    last[..rest.len()].copy_from_slice(rest);
    sum.wrapping_add(u32::from_be_bytes(last))
}

/// `post` version 3.0: the original's 32-byte header (italic angle, underline, fixed pitch)
/// without glyph names, which would otherwise need remapping.
pub fn post_table(original: Option<&[u8]>) -> Vec<u8> {
    let mut post = vec![0u8; 32];
    if let Some(header) = original.and_then(|p| p.get(..32)) {
        post.copy_from_slice(header);
    }
    post[..4].copy_from_slice(&0x0003_0000_u32.to_be_bytes());
    post
}

/// `font` with its `post` table cut to version 3.0 (no glyph names), or `None` if it is
/// not a single sfnt font with a longer `post` table.
///
/// Every subset galley writes has a version 3.0 `post` table anyway, but the subsetter
/// reads and rebuilds the names of the original's before galley replaces the table: a
/// tenth of a millisecond per face in a conversion, for nothing. The fonts built into
/// the binary are stored this way, which gives the same subsets.
pub fn without_glyph_names(font: &[u8]) -> Option<Vec<u8>> {
    let (flavor, mut tables) = read_sfnt(font)?;
    if !matches!(&flavor, [0, 1, 0, 0] | b"true" | b"OTTO") {
        return None;
    }
    let post = tables.get(b"post")?;
    if post.len() <= 32 {
        return None;
    }
    let short = post_table(Some(post));
    tables.insert(*b"post", short);
    write_sfnt(flavor, &tables)
}
