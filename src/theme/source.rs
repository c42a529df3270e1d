//! Where themes come from: a path, the user's themes folder, or the built-ins.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use super::BUILTIN;

/// Where one theme file lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A theme embedded in the binary: its name and TOML source.
    Builtin(&'static str, &'static str),
    /// A theme file on disk.
    File(PathBuf),
}

impl Origin {
    /// The name errors use for this theme: its path, or `built-in theme 'NAME'`.
    pub fn label(&self) -> String {
        match self {
            Origin::Builtin(name, _) => format!("built-in theme '{name}'"),
            Origin::File(path) => path.display().to_string(),
        }
    }

    /// The folder that relative paths in this theme start from (`None` for built-ins).
    pub fn dir(&self) -> Option<PathBuf> {
        match self {
            Origin::Builtin(..) => None,
            Origin::File(path) => Some(
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            ),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The places themes are looked up: the user's themes folder (if any) and the built-ins.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The user's themes folder; it need not exist.
    pub user_dir: Option<PathBuf>,
}

/// The user's themes folder as the environment gives it: `$GALLEY_CONFIG_DIR/themes`, else
/// `$XDG_CONFIG_HOME/galley/themes`, else `$HOME/.config/galley/themes` (on Windows
/// `%APPDATA%\galley\themes`). `var` reads one environment variable.
pub fn user_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    // Empty variables count as unset, as the XDG spec asks; so do relative XDG paths.
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("GALLEY_CONFIG_DIR") {
        return Some(dir.join("themes"));
    }
    if cfg!(windows) {
        return set("APPDATA").map(|d| d.join("galley").join("themes"));
    }
    if let Some(dir) = set("XDG_CONFIG_HOME").filter(|d| d.is_absolute()) {
        return Some(dir.join("galley").join("themes"));
    }
    set("HOME").map(|h| h.join(".config").join("galley").join("themes"))
}

/// The user's themes folder for messages, or a note that there is none.
pub fn user_dir_display() -> String {
    match Sources::from_env().user_dir {
        Some(d) => d.display().to_string(),
        None => "(no user themes folder: set GALLEY_CONFIG_DIR)".to_string(),
    }
}

/// Whether a theme reference is meant as a path rather than a name.
fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.contains('\\') || name.ends_with(".toml")
}

impl Sources {
    /// The sources the process environment points at.
    pub fn from_env() -> Sources {
        Sources {
            user_dir: user_dir_from(|name| std::env::var_os(name)),
        }
    }

    /// Finds a theme. In order: a path (it contains `/` or `\`, ends in `.toml`, or names an
    /// existing file) relative to `base` (the folder of the theme that refers to it, or the
    /// current folder); then `NAME.toml` in the user's folder; then a built-in. `skip` is a
    /// user file that must not resolve to itself, so that a user's `classic.toml` can say
    /// `extends = "classic"` and mean the built-in.
    pub fn resolve(&self, name: &str, base: Option<&Path>, skip: Option<&Path>) -> Option<Origin> {
        let as_path = match base {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        };
        if looks_like_path(name) || as_path.is_file() {
            return Some(Origin::File(as_path));
        }
        if let Some(user) = self.user_file(name)
            && !skip.is_some_and(|s| same_file(s, &user))
        {
            return Some(Origin::File(user));
        }
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, src)| Origin::Builtin(n, src))
    }

    /// `NAME.toml` in the user's folder, when it exists.
    fn user_file(&self, name: &str) -> Option<PathBuf> {
        let file = self.user_dir.as_ref()?.join(format!("{name}.toml"));
        file.is_file().then_some(file)
    }

    /// The user's theme files as (name, path), sorted by name.
    pub fn user_themes(&self) -> Vec<(String, PathBuf)> {
        let Some(dir) = &self.user_dir else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
            .collect();
        out.sort();
        out
    }
}

/// Whether two paths name the same file (falling back to comparing them as written).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn user_dir_order() {
        let all = [
            ("GALLEY_CONFIG_DIR", "/g"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
            ("APPDATA", "/a"),
        ];
        assert_eq!(user_dir_from(env(&all)), Some(PathBuf::from("/g/themes")));
        if cfg!(windows) {
            return;
        }
        assert_eq!(
            user_dir_from(env(&all[1..])),
            Some(PathBuf::from("/x/galley/themes"))
        );
        let relative_xdg = [("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")];
        assert_eq!(
            user_dir_from(env(&relative_xdg)),
            Some(PathBuf::from("/h/.config/galley/themes"))
        );
        let empty = [("GALLEY_CONFIG_DIR", ""), ("HOME", "/h")];
        assert_eq!(
            user_dir_from(env(&empty)),
            Some(PathBuf::from("/h/.config/galley/themes"))
        );
        assert_eq!(user_dir_from(env(&[])), None);
    }

    #[test]
    fn resolution_order() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("classic.toml"), "").expect("write");
        std::fs::write(tmp.path().join("mine.toml"), "").expect("write");
        let s = Sources {
            user_dir: Some(tmp.path().to_path_buf()),
        };
        let user_classic = tmp.path().join("classic.toml");
        assert_eq!(
            s.resolve("classic", None, None),
            Some(Origin::File(user_classic.clone()))
        );
        // A user theme extending the built-in it shadows gets the built-in.
        assert!(matches!(
            s.resolve("classic", None, Some(&user_classic)),
            Some(Origin::Builtin("classic", _))
        ));
        assert_eq!(
            s.resolve("mine", None, None),
            Some(Origin::File(tmp.path().join("mine.toml")))
        );
        assert_eq!(
            s.resolve("x.toml", Some(Path::new("/t")), None),
            Some(Origin::File(PathBuf::from("/t/x.toml")))
        );
        assert_eq!(s.resolve("nothing", None, None), None);
        let names: Vec<String> = s.user_themes().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["classic", "mine"]);
    }
}
