//! Every resource limit galley applies to untrusted input, in one place.
//!
//! Inputs come from strangers and the web, so each resource a hostile input could exhaust
//! has a cap: what is read, what is decoded, what is fetched and what is written. The
//! defaults are far above any real article or book; the command line raises them
//! (`--max-input-size`, `--max-images`, …). A limit that is hit is an error (or, for a
//! single image, a warning) naming the limit and the flag that raises it. `SECURITY.md`
//! lists them all.
//!
//! Nesting depth is not here as a value to raise: nesting past the readers' depth is
//! flattened (kept as text), never an error, so there is nothing for a user to unlock.

use std::time::Duration;

/// One MiB, for messages and defaults.
pub const MIB: u64 = 1024 * 1024;

/// Nesting of lists, quotes and inline spans the Markdown reader keeps; deeper content
/// is flattened into its parent, so pathological nesting cannot overflow the stack.
pub const MAX_MARKDOWN_DEPTH: usize = crate::read::markdown::MAX_BLOCK_DEPTH;
/// Nesting of HTML elements the HTML reader keeps; deeper elements are flattened.
pub const MAX_HTML_DEPTH: usize = crate::read::html::MAX_DEPTH;

/// Resource limits for one run. `Limits::default()` is what galley uses unless told
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file (or standard input) read, in bytes (`--max-input-size`).
    pub max_input_bytes: u64,
    /// Most cells (rows × columns) one table may have (`--max-table-cells`).
    pub max_table_cells: usize,
    /// Largest image file read, fetched or embedded as `data:`, in bytes
    /// (`--max-image-size`).
    pub max_image_bytes: u64,
    /// Largest image width or height, read from the header before decoding.
    pub max_image_side: u32,
    /// Most pixels (width × height) of one image, read from the header before decoding
    /// (`--max-image-pixels`).
    pub max_image_pixels: u64,
    /// Most distinct images loaded per document (`--max-images`); the rest show their
    /// alt text.
    pub max_images: usize,
    /// Largest output file written, in bytes (`--max-output-size`).
    pub max_output_bytes: u64,
    /// Time allowed for one whole fetch, redirects and body included (`--fetch-timeout`).
    pub fetch_timeout: Duration,
    /// Largest web page fetched, after decompression.
    pub max_page_bytes: u64,
    /// Redirects followed before a fetch fails.
    pub max_redirects: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * MIB,
            max_table_cells: 200_000,
            max_image_bytes: 32 * MIB,
            max_image_side: crate::assets::MAX_DIMENSION,
            max_image_pixels: crate::assets::MAX_PIXELS,
            max_images: 2000,
            max_output_bytes: 1024 * MIB,
            fetch_timeout: Duration::from_secs(30),
            max_page_bytes: 32 * MIB,
            max_redirects: 5,
        }
    }
}

/// A limit was exceeded. The message names the limit, its value and the flag raising it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {actual}, over the {limit} limit of {max} (raise it with {flag})")]
pub struct LimitError {
    /// What was measured ("the input", "the output", "a table").
    pub what: String,
    /// The measured value, formatted.
    pub actual: String,
    /// The limit's name ("input size").
    pub limit: &'static str,
    /// The limit's value, formatted.
    pub max: String,
    /// The command-line flag that raises it.
    pub flag: &'static str,
}

impl LimitError {
    /// A byte-size limit: sizes are shown in MiB (or bytes when small).
    pub fn bytes(
        what: &str,
        actual: u64,
        limit: &'static str,
        max: u64,
        flag: &'static str,
    ) -> Self {
        LimitError {
            what: what.to_string(),
            actual: human_bytes(actual),
            limit,
            max: human_bytes(max),
            flag,
        }
    }

    /// A count limit.
    pub fn count(
        what: &str,
        actual: impl std::fmt::Display,
        limit: &'static str,
        max: impl std::fmt::Display,
        flag: &'static str,
    ) -> Self {
        LimitError {
            what: what.to_string(),
            actual: actual.to_string(),
            limit,
            max: max.to_string(),
            flag,
        }
    }
}

/// `n` bytes for people: `12.5 MiB`, or `512 bytes` below a KiB.
pub fn human_bytes(n: u64) -> String {
    if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

/// Parses a size given on the command line: a number with an optional unit (`64M`,
/// `64MiB`, `2G`, `500k`, `1048576`); units are binary (K = 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 64M, 2G, 500K)"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => MIB as f64,
        "g" | "gb" | "gib" => (1024 * MIB) as f64,
        _ => return Err(format!("'{s}': unknown size unit (use K, M or G)")),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("'{s}' is not a usable size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("64M"), Ok(64 * MIB));
        assert_eq!(parse_size("2GiB"), Ok(2048 * MIB));
        assert_eq!(parse_size("500k"), Ok(512_000));
        assert_eq!(parse_size("1048576"), Ok(MIB));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("5X").is_err());
    }

    #[test]
    fn messages_name_limit_and_flag() {
        let e = LimitError::bytes(
            "post.md",
            70 * MIB,
            "input size",
            64 * MIB,
            "--max-input-size",
        );
        let text = e.to_string();
        assert!(text.contains("input size limit of 64.0 MiB"), "{text}");
        assert!(text.contains("--max-input-size"), "{text}");
    }
}
