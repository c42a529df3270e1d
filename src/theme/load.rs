//! Loading a theme: reading each file of its `extends` chain, merging them, checking the result.
//!
//! The code works on TOML tables, not on the theme structs, so new style keys need no change
//! here. Font paths are made absolute (or `builtin:`) per file before merging, so each stays
//! relative to the file that wrote it.

use std::borrow::Cow;
use std::path::PathBuf;

use toml::{Table, Value};

use super::source::{Origin, Sources, same_file};
use super::{FaceStyle, Theme, ThemeError, fonts};

/// Most files an `extends` chain may have; more is surely a mistake.
const MAX_CHAIN: usize = 8;

/// One file of a chain, parsed, with its font paths resolved.
struct Layer {
    origin: Origin,
    src: Cow<'static, str>,
    table: Table,
}

/// Loads a theme by path, user theme name or built-in name (see [`Sources::resolve`]).
pub fn load(sources: &Sources, name: &str) -> Result<Theme, ThemeError> {
    let origin = sources
        .resolve(name, None, None)
        .ok_or_else(|| ThemeError::Unknown(name.to_string()))?;
    load_origin(sources, &origin)
}

/// Loads a built-in theme by name, ignoring user themes that shadow it.
pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
    let (name, src) = super::BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ThemeError::Unknown(name.to_string()))?;
    load_origin(&Sources::default(), &Origin::Builtin(name, src))
}

/// Loads the theme at `origin`, following its `extends` chain.
///
/// Each file is merged over its parent and the result checked before the next file goes on
/// top, so an error is reported against the first file that causes it.
pub fn load_origin(sources: &Sources, origin: &Origin) -> Result<Theme, ThemeError> {
    let chain = read_chain(sources, origin)?;
    let mut merged = Table::new();
    let mut theme = None;
    for layer in &chain {
        merge(&mut merged, layer.table.clone());
        theme = Some(build(&merged, layer)?);
    }
    theme.ok_or_else(|| ThemeError::Unknown(origin.label()))
}

/// The files from `origin` up its `extends` chain, root first.
fn read_chain(sources: &Sources, origin: &Origin) -> Result<Vec<Layer>, ThemeError> {
    let mut chain: Vec<Layer> = Vec::new();
    let mut next = origin.clone();
    loop {
        if chain.iter().any(|l| same_origin(&l.origin, &next)) {
            let mut names: Vec<String> = chain.iter().map(|l| l.origin.label()).collect();
            names.push(next.label());
            return Err(ThemeError::Chain {
                origin: chain
                    .last()
                    .map_or_else(|| next.label(), |l| l.origin.label()),
                message: format!("themes extend each other in a loop: {}", names.join(" → ")),
            });
        }
        if chain.len() == MAX_CHAIN {
            return Err(ThemeError::Chain {
                origin: origin.label(),
                message: format!("more than {MAX_CHAIN} themes in the extends chain"),
            });
        }
        let (layer, parent) = read_layer(next)?;
        let base = layer.origin.dir();
        let this_file = match &layer.origin {
            Origin::File(p) => Some(p.clone()),
            Origin::Builtin(..) => None,
        };
        chain.push(layer);
        let Some(target) = parent else { break };
        next = sources
            .resolve(&target, base.as_deref(), this_file.as_deref())
            .ok_or_else(|| ThemeError::UnknownParent {
                origin: chain.last().map_or_else(String::new, |l| l.origin.label()),
                target,
            })?;
    }
    chain.reverse();
    Ok(chain)
}

fn same_origin(a: &Origin, b: &Origin) -> bool {
    match (a, b) {
        (Origin::Builtin(x, _), Origin::Builtin(y, _)) => x == y,
        (Origin::File(x), Origin::File(y)) => same_file(x, y),
        _ => false,
    }
}

/// Reads and parses one theme file; returns it with the `extends` target it names.
fn read_layer(origin: Origin) -> Result<(Layer, Option<String>), ThemeError> {
    let src: Cow<'static, str> = match &origin {
        Origin::Builtin(_, src) => Cow::Borrowed(src),
        Origin::File(path) => {
            Cow::Owned(
                std::fs::read_to_string(path).map_err(|source| ThemeError::Io {
                    path: path.clone(),
                    source,
                })?,
            )
        }
    };
    let invalid = |message: String| ThemeError::Invalid {
        origin: origin.label(),
        message,
    };
    let mut table: Table = toml::from_str(&src).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let (line, col) = line_col(&src, s.start);
                format!("line {line}, column {col}: ")
            })
            .unwrap_or_default();
        invalid(format!("{at}{}", one_line(e.message())))
    })?;
    let parent = match table.remove("extends") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err(invalid(format!(
                "{}extends must be a string: a theme name or a path",
                line_prefix(&src, &["extends"])
            )));
        }
    };
    // A theme is called by its file name unless it says otherwise; a child never inherits
    // its parent's name.
    if let Origin::File(path) = &origin
        && !table.contains_key("name")
        && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
    {
        table.insert("name".into(), Value::String(stem.to_string()));
    }
    if let Some(fonts) = table.get_mut("fonts") {
        resolve_fonts(fonts, "fonts", &origin)?;
    }
    Ok((Layer { origin, src, table }, parent))
}

/// Rewrites every face path below `value` (a `fonts` table) so it no longer depends on the
/// theme file's folder: an absolute path when the file exists next to the theme, else the
/// built-in font's `builtin:` name.
fn resolve_fonts(value: &mut Value, key: &str, origin: &Origin) -> Result<(), ThemeError> {
    match value {
        Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                let key = format!("{key}.{k}");
                match v {
                    Value::String(path) if FaceStyle::ALL.iter().any(|s| s.key() == k) => {
                        *path = resolve_font(path, &key, origin)?;
                    }
                    _ => resolve_fonts(v, &key, origin)?,
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                resolve_fonts(v, &format!("{key}[{i}]"), origin)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn resolve_font(path: &str, key: &str, origin: &Origin) -> Result<String, ThemeError> {
    if let Some(dir) = origin.dir() {
        let file = dir.join(path);
        if file.is_file() {
            let abs = std::path::absolute(&file).unwrap_or(file);
            // A folder name that is not UTF-8 cannot go back into TOML; the path stays
            // relative, which still works when this file is the theme's last one.
            return Ok(abs
                .to_str()
                .map_or_else(|| path.to_string(), str::to_string));
        }
    }
    fonts::builtin_path(path).ok_or_else(|| ThemeError::MissingFont {
        origin: origin.label(),
        key: key.to_string(),
        path: path.to_string(),
    })
}

/// Merges `child` into `base`: tables merge key by key, the child's value wins everywhere
/// else (arrays are replaced whole, so `fallbacks` and `sizes` never mix two themes).
pub fn merge(base: &mut Table, child: Table) {
    for (key, value) in child {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(c)) => merge(b, c),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Turns the merged tables so far into a checked theme; errors name `layer`'s file.
fn build(merged: &Table, layer: &Layer) -> Result<Theme, ThemeError> {
    let origin = layer.origin.label();
    let mut theme: Theme = merged.clone().try_into().map_err(|e| ThemeError::Invalid {
        origin: origin.clone(),
        message: describe(&e, &layer.src),
    })?;
    theme.dir = layer.origin.dir();
    theme.validate(&origin)
}

/// A deserialisation error as one line: the line (when the key is in `src`), the dotted key
/// and what is wrong with it.
fn describe(e: &toml::de::Error, src: &str) -> String {
    // The error's keys are public only through its Display, as a last line "in `a.b`".
    let shown = e.to_string();
    let mut keys: Vec<String> = shown
        .trim_end()
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("in `")?.strip_suffix('`'))
        .map(|k| k.split('.').map(str::to_string).collect())
        .unwrap_or_default();
    let message = one_line(e.message());
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, rest)) = rest.split_once('`')
    {
        keys.push(field.to_string());
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        return format!(
            "{}unknown key `{}`{rest}",
            line_prefix(src, &key_refs),
            keys.join(".")
        );
    }
    if keys.is_empty() {
        return message;
    }
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    format!(
        "{}`{}`: {message}",
        line_prefix(src, &key_refs),
        keys.join(".")
    )
}

/// `line N: ` for the deepest part of a dotted key that `src` writes, or nothing.
fn line_prefix(src: &str, keys: &[&str]) -> String {
    key_offset(src, keys)
        .map(|at| format!("line {}: ", line_col(src, at).0))
        .unwrap_or_default()
}

fn key_offset(src: &str, keys: &[&str]) -> Option<usize> {
    let doc = toml::de::DeTable::parse(src).ok()?;
    let mut table = doc.get_ref();
    let mut found = None;
    for key in keys {
        let (k, v) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        found = Some(k.span().start);
        match v.get_ref() {
            toml::de::DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found
}

/// 1-based line and column of a byte offset.
fn line_col(src: &str, at: usize) -> (usize, usize) {
    let before = &src.as_bytes()[..at.min(src.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

fn one_line(s: &str) -> String {
    s.trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One theme found by [`list`]: its name, where it lives and whether it loads.
#[derive(Debug)]
pub struct Listed {
    /// The name `--theme` takes.
    pub name: String,
    /// The built-in or the user's file.
    pub origin: Origin,
    /// For a built-in: a user theme of the same name hides it. For a user theme: it hides a
    /// built-in.
    pub shadowing: bool,
    /// The loaded theme, or why it does not load.
    pub theme: Result<Theme, ThemeError>,
}

/// Every theme: the built-ins, then the user's, each loaded (a broken one carries its error).
pub fn list(sources: &Sources) -> Vec<Listed> {
    let user = sources.user_themes();
    let builtins = super::builtin_names();
    let mut out: Vec<Listed> = super::BUILTIN
        .iter()
        .map(|(name, src)| {
            let origin = Origin::Builtin(name, src);
            Listed {
                name: name.to_string(),
                theme: load_origin(sources, &origin),
                shadowing: user.iter().any(|(n, _)| n == name),
                origin,
            }
        })
        .collect();
    out.extend(user.into_iter().map(|(name, path): (String, PathBuf)| {
        let origin = Origin::File(path);
        Listed {
            shadowing: builtins.contains(&name.as_str()),
            theme: load_origin(sources, &origin),
            name,
            origin,
        }
    }));
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn sources(dir: &Path) -> Sources {
        Sources {
            user_dir: Some(dir.to_path_buf()),
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write theme");
        p
    }

    fn mono_font() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/noto-sans-mono/NotoSansMono-Regular.ttf")
    }

    #[test]
    fn child_overrides_one_key_and_inherits_the_rest() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(
            tmp.path(),
            "big.toml",
            "extends = \"classic\"\n[text]\nsize = 13.5\n[headings]\nsizes = [2.0, 1.0, 1.0, 1.0, 1.0, 1.0]\n",
        );
        let classic = builtin("classic").expect("classic");
        let t = load(&sources(tmp.path()), "big").expect("big loads");
        assert_eq!(t.name, "big", "name defaults to the file stem");
        assert_eq!(t.description, classic.description, "description inherits");
        assert_eq!(t.text.size, 13.5);
        assert_eq!(t.text.leading, classic.text.leading);
        assert_eq!(t.colors.link, classic.colors.link);
        assert_eq!(t.fonts.fallbacks.len(), classic.fonts.fallbacks.len());
        assert_eq!(t.headings.sizes, [2.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        // The parent's built-in fonts still load from the child's folder.
        for (_, fam) in t.families() {
            assert!(t.face_data(fam, FaceStyle::Regular).is_some());
        }
    }

    #[test]
    fn merge_replaces_arrays_and_merges_tables() {
        let mut base: Table = toml::from_str("a = [1, 2]\n[t]\nx = 1\ny = 2\n").expect("base");
        let child: Table = toml::from_str("a = [3]\n[t]\ny = 5\n").expect("child");
        merge(&mut base, child);
        let want: Table = toml::from_str("a = [3]\n[t]\nx = 1\ny = 5\n").expect("want");
        assert_eq!(base, want);
    }

    #[test]
    fn chains_and_relative_extends() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let sub = tmp.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        write(
            &sub,
            "base.toml",
            "extends = \"classic\"\ndescription = \"Base\"\n[page]\nsize = \"a4\"\n",
        );
        let child = write(
            tmp.path(),
            "child.toml",
            "extends = \"sub/base.toml\"\n[text]\njustify = false\n",
        );
        let t = load(&Sources::default(), &child.display().to_string()).expect("chain loads");
        assert_eq!(t.name, "child");
        assert_eq!(t.description, "Base");
        assert_eq!(t.page.size, "a4");
        assert!(!t.text.justify);
    }

    #[test]
    fn font_paths_stay_relative_to_the_file_that_wrote_them() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fonts = tmp.path().join("fonts");
        std::fs::create_dir(&fonts).expect("mkdir");
        std::fs::copy(mono_font(), fonts.join("MyBody.ttf")).expect("copy font");
        write(
            tmp.path(),
            "parent.toml",
            "extends = \"classic\"\n[fonts.body]\nfamily = \"My Body\"\nregular = \"fonts/MyBody.ttf\"\n",
        );
        // The child lives elsewhere: the parent's font must still be found next to the parent.
        let other = tempfile::tempdir().expect("tempdir");
        let parent = tmp.path().join("parent.toml");
        let child = write(
            other.path(),
            "child.toml",
            &format!("extends = {:?}\n", parent.display().to_string()),
        );
        let t = load(&Sources::default(), &child.display().to_string()).expect("loads");
        assert_eq!(t.fonts.body.family, "My Body");
        let data = t
            .face_data(&t.fonts.body, FaceStyle::Regular)
            .expect("font found");
        assert_eq!(
            data.len() as u64,
            mono_font().metadata().expect("size").len()
        );
        // A font that is nowhere names the key and the file that wrote it.
        write(
            tmp.path(),
            "broken.toml",
            "extends = \"classic\"\n[fonts.mono]\nbold = \"Nope.ttf\"\n",
        );
        let err = load(&sources(tmp.path()), "broken").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ThemeError::MissingFont { .. }), "{msg}");
        assert!(
            msg.contains("broken.toml") && msg.contains("fonts.mono.bold"),
            "{msg}"
        );
    }

    #[test]
    fn cycles_and_unknown_parents_are_errors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(tmp.path(), "a.toml", "extends = \"b\"\n");
        write(tmp.path(), "b.toml", "extends = \"a\"\n");
        let err = load(&sources(tmp.path()), "a").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ThemeError::Chain { .. }), "{msg}");
        assert!(
            msg.contains("loop") && msg.contains("a.toml") && msg.contains("b.toml"),
            "{msg}"
        );
        write(tmp.path(), "self.toml", "extends = \"self.toml\"\n");
        assert!(matches!(
            load(&sources(tmp.path()), "self"),
            Err(ThemeError::Chain { .. })
        ));
        write(tmp.path(), "orphan.toml", "extends = \"no-such\"\n");
        let msg = load(&sources(tmp.path()), "orphan")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("orphan.toml") && msg.contains("no-such"),
            "{msg}"
        );
    }

    #[test]
    fn a_user_theme_may_shadow_and_extend_a_builtin() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(
            tmp.path(),
            "classic.toml",
            "extends = \"classic\"\n[page]\nsize = \"letter\"\n",
        );
        let t = load(&sources(tmp.path()), "classic").expect("loads");
        assert_eq!(t.page.size, "letter");
        let listed = list(&sources(tmp.path()));
        let classic: Vec<_> = listed.iter().filter(|l| l.name == "classic").collect();
        // The built-in and the user's file, both marked.
        assert_eq!(classic.len(), 2);
        assert!(classic.iter().all(|l| l.shadowing));
        assert!(
            listed
                .iter()
                .filter(|l| l.name != "classic")
                .all(|l| !l.shadowing)
        );
        assert!(listed.iter().all(|l| l.theme.is_ok()));
    }

    #[test]
    fn errors_name_the_file_the_key_and_the_line() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write(
            tmp.path(),
            "typo.toml",
            "extends = \"classic\"\n\n[text]\nsise = 11\n",
        );
        let msg = load(&sources(tmp.path()), "typo").unwrap_err().to_string();
        assert!(
            msg.contains("typo.toml") && msg.contains("text.sise") && msg.contains("line 4"),
            "{msg}"
        );
        // A typo in the parent names the parent, not the child that extends it.
        write(tmp.path(), "kid.toml", "extends = \"typo\"\n");
        let msg = load(&sources(tmp.path()), "kid").unwrap_err().to_string();
        assert!(
            msg.contains("typo.toml") && msg.contains("text.sise"),
            "{msg}"
        );
        write(
            tmp.path(),
            "wrong.toml",
            "extends = \"classic\"\n[text]\nsize = \"big\"\n",
        );
        let msg = load(&sources(tmp.path()), "wrong").unwrap_err().to_string();
        assert!(
            msg.contains("wrong.toml") && msg.contains("text.size") && msg.contains("line 3"),
            "{msg}"
        );
        write(
            tmp.path(),
            "colour.toml",
            "extends = \"classic\"\n[colors]\nlink = \"blue\"\n",
        );
        let msg = load(&sources(tmp.path()), "colour")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("colour.toml") && msg.contains("colors.link"),
            "{msg}"
        );
        write(tmp.path(), "syntax.toml", "extends = \"classic\"\n[text\n");
        let msg = load(&sources(tmp.path()), "syntax")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("syntax.toml") && msg.contains("line 2"),
            "{msg}"
        );
    }
}
