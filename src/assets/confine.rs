//! Which folders an article's local images may be read from.
//!
//! A hostile Markdown file must not be able to pull pictures from elsewhere on the disk
//! (`../../../home/me/photos/id.jpg`, `/home/me/scan.png`, a symlink pointing out) into an
//! EPUB that is then shared. Local images are read only from:
//!
//! - the article's folder and below;
//! - its *site root*: static-site posts reference `../assets/x.png` or `/img/x.png`, kept in
//!   a folder beside the content (`public/`, `static/`, `assets/`). The site root is the
//!   ancestor [`SITE_ROOT_LEVELS`] folders above the article's, but the climb stops before
//!   the filesystem root, any top-level folder (`/tmp`, `/home`) and the user's home
//!   folder, so an article saved directly in `~/Downloads` reaches nothing beside it;
//! - folders the user allows with `--allow-path DIR`.
//!
//! Every check is on the canonical path (symlinks resolved), so neither `..` nor a
//! symlink inside an allowed folder can lead out of it.

use std::path::{Component, Path, PathBuf};

/// How many folders above the article's the site root may be.
pub const SITE_ROOT_LEVELS: usize = 4;

/// The folders local images may come from, canonical.
#[derive(Debug, Clone)]
pub struct Roots {
    /// `None`: anywhere (an image the user named, such as `--cover`).
    dirs: Option<Vec<PathBuf>>,
}

impl Roots {
    /// The roots for an article in `base` (the current folder when `None`), plus `allowed`.
    pub fn new(base: Option<&Path>, allowed: &[PathBuf]) -> Roots {
        let mut dirs = Vec::new();
        let base = match base {
            Some(b) => b.canonicalize().ok(),
            None => std::env::current_dir().ok(),
        };
        if let Some(base) = base {
            dirs.push(site_root(&base, home().as_deref()));
        }
        // `allowed` may name folders that do not exist (yet); those allow nothing.
        dirs.extend(allowed.iter().filter_map(|d| d.canonicalize().ok()));
        Roots { dirs: Some(dirs) }
    }

    /// No confinement: for files the user named on the command line.
    pub fn anywhere() -> Roots {
        Roots { dirs: None }
    }

    /// `Ok(Some(real))` when `path` exists within a root (`real` is its canonical path),
    /// `Ok(None)` when it does not exist, `Err(real)` when it exists outside every root.
    pub fn check(&self, path: &Path) -> Result<Option<PathBuf>, PathBuf> {
        let Ok(real) = path.canonicalize() else {
            return Ok(None);
        };
        match &self.dirs {
            None => Ok(Some(real)),
            Some(dirs) if dirs.iter().any(|d| real.starts_with(d)) => Ok(Some(real)),
            Some(_) => Err(real),
        }
    }
}

/// The folder an article in `base` may read images from: its site root (see the module
/// documentation); `None` when `base` does not exist.
pub fn article_root(base: &Path) -> Option<PathBuf> {
    let base = base.canonicalize().ok()?;
    Some(site_root(&base, home().as_deref()))
}

/// The highest ancestor of `base` (canonical) that is at most [`SITE_ROOT_LEVELS`] up and
/// still below the filesystem's top-level folders and the home folder.
pub fn site_root(base: &Path, home: Option<&Path>) -> PathBuf {
    let mut root = base.to_path_buf();
    for ancestor in base.ancestors().skip(1).take(SITE_ROOT_LEVELS) {
        let depth = ancestor
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count();
        // `home.starts_with(ancestor)`: the home folder itself or anything above it.
        if depth < 2 || home.is_some_and(|h| h.starts_with(ancestor)) {
            break;
        }
        root = ancestor.to_path_buf();
    }
    root
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .and_then(|h| h.canonicalize().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_root_climbs_a_few_levels_but_not_past_home_or_top_level() {
        let home = Path::new("/home/ann");
        assert_eq!(
            site_root(Path::new("/home/ann/blog/content/posts/2024"), Some(home)),
            Path::new("/home/ann/blog")
        );
        assert_eq!(
            site_root(Path::new("/home/ann/Downloads"), Some(home)),
            Path::new("/home/ann/Downloads")
        );
        assert_eq!(
            site_root(Path::new("/srv/a/b/c/d/e/f"), None),
            Path::new("/srv/a/b")
        );
        assert_eq!(site_root(Path::new("/tmp/x"), None), Path::new("/tmp/x"));
        assert_eq!(site_root(Path::new("/tmp"), None), Path::new("/tmp"));
    }
}
