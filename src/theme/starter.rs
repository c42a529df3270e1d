//! `galley theme new`: a commented starter theme that extends `classic`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The starter text; `{{NAME}}` stands for the theme's name.
const TEMPLATE: &str = include_str!("starter.toml");

/// Why a starter theme could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StarterError {
    /// The name would not make a plain file name.
    #[error(
        "'{0}' is not a theme name: use letters, digits, '-' and '_' (at most 64), starting with a letter or digit"
    )]
    BadName(String),
    /// A file of that name is already there; galley never overwrites it.
    #[error("{}: already exists; choose another name or remove it", .0.display())]
    Exists(PathBuf),
    /// The file could not be written.
    #[error("{path}: cannot write: {source}", path = .path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Whether `name` is a usable theme name: letters, digits, `-` and `_`, not starting with
/// `-` or `_` (a leading `-` reads as an option on the command line).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(char::is_alphanumeric)
        && chars.all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        && name.chars().count() <= 64
}

/// The starter theme's text for `name`.
pub fn text(name: &str) -> String {
    TEMPLATE.replace("{{NAME}}", name)
}

/// Writes `NAME.toml` in `dir` and returns its path; refuses to overwrite a file.
pub fn create(dir: &Path, name: &str) -> Result<PathBuf, StarterError> {
    if !valid_name(name) {
        return Err(StarterError::BadName(name.to_string()));
    }
    let path = dir.join(format!("{name}.toml"));
    // create_new: checking first and then writing would race with another writer.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StarterError::Exists(path));
        }
        Err(source) => return Err(StarterError::Io { path, source }),
    };
    file.write_all(text(name).as_bytes())
        .map_err(|source| StarterError::Io {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use toml::{Table, Value};

    use super::*;
    use crate::theme::source::Sources;
    use crate::theme::{Theme, load};

    /// Dotted paths of every key below `table`; arrays count as one key.
    fn keys(table: &Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in table {
            let key = format!("{prefix}{k}");
            match v {
                Value::Table(t) => keys(t, &format!("{key}."), out),
                _ => out.push(key),
            }
        }
    }

    /// The starter with every commented-out key and table header switched on.
    fn uncommented() -> String {
        text("x")
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(k, _)| {
                            k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn starter_loads_as_written_and_equals_classic() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = create(tmp.path(), "my-theme_2").expect("written");
        let t = load::load(&Sources::default(), &path.display().to_string()).expect("loads");
        let classic = Theme::default_theme().expect("classic");
        assert_eq!(t.name, "my-theme_2");
        assert_eq!(t.text.size, classic.text.size);
        assert_eq!(t.page.size, classic.page.size);
        assert_eq!(t.fonts.fallbacks.len(), classic.fonts.fallbacks.len());
        assert!(matches!(
            create(tmp.path(), "my-theme_2"),
            Err(StarterError::Exists(_))
        ));
    }

    /// Keys added to `classic.toml` must be offered in the starter too.
    #[test]
    fn starter_offers_every_classic_key() {
        let all: Table = toml::from_str(&uncommented()).expect("uncommented starter parses");
        let mut offered = Vec::new();
        keys(&all, "", &mut offered);
        let classic: Table =
            toml::from_str(include_str!("../../themes/classic.toml")).expect("classic");
        let mut wanted = Vec::new();
        keys(&classic, "", &mut wanted);
        let missing: Vec<&String> = wanted.iter().filter(|k| !offered.contains(k)).collect();
        assert!(
            missing.is_empty(),
            "add these keys to src/theme/starter.toml: {missing:?}"
        );
    }

    #[test]
    fn names_are_checked() {
        for good in ["a", "my-theme", "Serif_2", "ééé"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "",
            "-x",
            "_x",
            "a b",
            "a/b",
            "a.toml",
            "..",
            &"x".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            create(tmp.path(), "../evil"),
            Err(StarterError::BadName(_))
        ));
    }
}
