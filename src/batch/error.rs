//! Why a reading list or a book manifest could not be used.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What went wrong reading a reading list or a manifest. Every variant names the file, and
/// the line when one is known, so the user can go straight to it.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A reading list (or one of its lines) is unusable.
    #[error("{}: {message}", at(path, Some(*line)))]
    List {
        /// The reading list.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A reading list names nothing to read: surely the wrong file.
    #[error("{}: the reading list names no articles", path.display())]
    EmptyList {
        /// The reading list.
        path: PathBuf,
    },
    /// The manifest is not valid TOML, has a value of the wrong type, or a key galley does
    /// not know (the message, from the TOML parser, names the key).
    #[error("{}: {message}", at(path, *line))]
    Toml {
        /// The manifest.
        path: PathBuf,
        /// 1-based line, when the parser gives one.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A key of the manifest has a value galley cannot use, or a required key is missing.
    #[error("{}: {key}: {message}", at(path, *line))]
    Key {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the value, when known (not for a missing key).
        line: Option<usize>,
        /// The key, dotted for nested tables (`output.epub`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A glob in the manifest's `inputs` matches no file.
    #[error("{}: inputs: '{pattern}' matches no files", at(path, *line))]
    NoMatch {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the pattern.
        line: Option<usize>,
        /// The pattern as written.
        pattern: String,
    },
    /// A glob in the manifest's `inputs` is malformed, or a folder it walks is unreadable.
    #[error("{}: inputs: '{pattern}': {message}", at(path, *line))]
    Pattern {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the pattern.
        line: Option<usize>,
        /// The pattern as written.
        pattern: String,
        /// What is wrong.
        message: String,
    },
}

/// `file, line N` or just `file`: the place an error points at.
fn at(path: &Path, line: Option<usize>) -> String {
    let mut s = path.display().to_string();
    if let Some(line) = line {
        // Writing to a String cannot fail.
        let _ = write!(s, ", line {line}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_error_messages_name_file_and_line() {
        let e = BatchError::Key {
            path: PathBuf::from("book.toml"),
            line: Some(4),
            key: "date".into(),
            message: "'soon' is not a date".into(),
        };
        assert_eq!(
            e.to_string(),
            "book.toml, line 4: date: 'soon' is not a date"
        );
        let e = BatchError::NoMatch {
            path: PathBuf::from("book.toml"),
            line: None,
            pattern: "a/*.md".into(),
        };
        assert_eq!(
            e.to_string(),
            "book.toml: inputs: 'a/*.md' matches no files"
        );
    }
}
