//! User themes end to end: the themes folder, `extends`, `galley themes`, `galley theme new`.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{galley, sample};

/// `galley` with its user themes folder at `config/themes`.
fn galley_with(config: &Path) -> Command {
    let mut cmd = galley();
    cmd.env("GALLEY_CONFIG_DIR", config)
        .env("SOURCE_DATE_EPOCH", "1750000000");
    cmd
}

fn themes_dir(config: &Path) -> PathBuf {
    let dir = config.join("themes");
    fs::create_dir_all(&dir).expect("themes folder");
    dir
}

fn ok(r: &Output) {
    assert!(
        r.status.success(),
        "exit {:?}: {}",
        r.status.code(),
        String::from_utf8_lossy(&r.stderr)
    );
}

fn mono_font() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/noto-sans-mono/NotoSansMono-Regular.ttf")
}

/// The EPUB's stylesheet(s), concatenated.
fn epub_css(epub: &Path) -> String {
    let mut z = zip::ZipArchive::new(fs::File::open(epub).expect("open epub")).expect("zip");
    let mut css = String::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).expect("entry");
        if e.name().ends_with(".css") {
            e.read_to_string(&mut css).expect("utf-8 css");
        }
    }
    css
}

/// The first page's MediaBox width and height in points.
fn page_size(pdf: &Path) -> (f32, f32) {
    let doc = lopdf::Document::load(pdf).expect("parse pdf");
    let (_, page) = doc.get_pages().into_iter().next().expect("a page");
    let media: Vec<f32> = doc
        .get_dictionary(page)
        .and_then(|d| d.get(b"MediaBox"))
        .and_then(|m| m.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_float().ok()).collect())
        .expect("media box");
    (media[2] - media[0], media[3] - media[1])
}

/// A user theme with its own font and page takes effect in both outputs.
#[test]
fn user_theme_with_own_font_changes_epub_and_pdf() {
    let config = tempfile::tempdir().expect("tempdir");
    let themes = themes_dir(config.path());
    fs::copy(mono_font(), themes.join("MyBody.ttf")).expect("copy font");
    fs::write(
        themes.join("mine.toml"),
        "extends = \"classic\"\n\
         [fonts.body]\nfamily = \"Galley Test Body\"\ngeneric = \"monospace\"\nregular = \"MyBody.ttf\"\n\
         [page]\nsize = \"a4\"\nmargin_outer = 30.0\n",
    )
    .expect("write theme");
    let out = tempfile::tempdir().expect("tempdir");
    let pdf = out.path().join("tide.pdf");
    let r = galley_with(config.path())
        .arg("convert")
        .arg(sample("tide-clock.md"))
        .args(["--to", "epub,pdf", "--theme", "mine", "-q", "-o"])
        .arg(&pdf)
        .output()
        .expect("run galley");
    ok(&r);
    let css = epub_css(&out.path().join("tide.epub"));
    assert!(
        css.contains("@font-face { font-family: \"Galley Test Body\""),
        "{css}"
    );
    let (w, h) = page_size(&pdf);
    assert!(
        (w - 595.3).abs() < 1.0 && (h - 841.9).abs() < 1.0,
        "{w}x{h}"
    );
    // Classic itself stays A5 (an empty themes folder: no user theme may shadow it).
    let classic = out.path().join("classic.pdf");
    let empty = tempfile::tempdir().expect("tempdir");
    let r = galley_with(empty.path())
        .arg("convert")
        .arg(sample("tide-clock.md"))
        .args(["-q", "-o"])
        .arg(&classic)
        .output()
        .expect("run galley");
    ok(&r);
    let (w, _) = page_size(&classic);
    assert!((w - 419.5).abs() < 1.0, "{w}");
}

#[test]
fn themes_lists_user_themes_with_their_origin() {
    let config = tempfile::tempdir().expect("tempdir");
    let themes = themes_dir(config.path());
    fs::write(
        themes.join("wide.toml"),
        "extends = \"classic\"\ndescription = \"Wide margins\"\n[page]\nmargin_outer = 30.0\n",
    )
    .expect("write");
    fs::write(themes.join("classic.toml"), "extends = \"classic\"\n").expect("write");
    fs::write(
        themes.join("broken.toml"),
        "extends = \"classic\"\n[text]\nsise = 3\n",
    )
    .expect("write");
    let r = galley_with(config.path())
        .arg("themes")
        .output()
        .expect("run");
    ok(&r);
    let out = String::from_utf8_lossy(&r.stdout);
    let line = |name: &str, origin: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")) && l.contains(origin))
            .unwrap_or_else(|| panic!("no {name} from {origin}:\n{out}"))
            .to_string()
    };
    let wide = themes.join("wide.toml").display().to_string();
    assert!(line("wide", &wide).contains("Wide margins"));
    assert!(line("classic", "built-in").contains("shadowed"));
    let user_classic = themes.join("classic.toml").display().to_string();
    assert!(line("classic", &user_classic).contains("shadows built-in"));
    let broken = line("broken", "broken.toml");
    assert!(
        broken.contains("error") && broken.contains("text.sise"),
        "{broken}"
    );
    // Without GALLEY_CONFIG_DIR the XDG folder is used.
    if !cfg!(windows) {
        let r = galley()
            .env_remove("GALLEY_CONFIG_DIR")
            .env("XDG_CONFIG_HOME", config.path())
            .arg("themes")
            .output()
            .expect("run");
        ok(&r);
        assert!(
            !String::from_utf8_lossy(&r.stdout).contains("wide"),
            "XDG folder is config/galley/themes, not config/themes"
        );
        let xdg_themes = config.path().join("galley/themes");
        fs::create_dir_all(&xdg_themes).expect("mkdir");
        fs::copy(themes.join("wide.toml"), xdg_themes.join("wide.toml")).expect("copy");
        let r = galley()
            .env_remove("GALLEY_CONFIG_DIR")
            .env("XDG_CONFIG_HOME", config.path())
            .arg("themes")
            .output()
            .expect("run");
        assert!(String::from_utf8_lossy(&r.stdout).contains("Wide margins"));
    }
}

#[test]
fn theme_errors_name_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let theme = dir.path().join("typo.toml");
    fs::write(&theme, "extends = \"classic\"\n[text]\nsise = 11\n").expect("write");
    let r = galley_with(dir.path())
        .arg("convert")
        .arg(sample("tide-clock.md"))
        .arg("-o")
        .arg(dir.path().join("x.epub"))
        .arg("--theme")
        .arg(&theme)
        .output()
        .expect("run");
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains(&theme.display().to_string()) && err.contains("text.sise"),
        "{err}"
    );
    assert!(!dir.path().join("x.epub").exists());
}

#[test]
fn theme_new_writes_a_starter_that_converts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = tempfile::tempdir().expect("tempdir");
    let new = |name: &str| {
        galley_with(config.path())
            .current_dir(dir.path())
            .args(["theme", "new", name])
            .output()
            .expect("run")
    };
    let r = new("my-look");
    ok(&r);
    let path = dir.path().join("my-look.toml");
    let text = fs::read_to_string(&path).expect("starter written");
    assert!(text.contains("extends = \"classic\"") && text.contains("name = \"my-look\""));
    assert!(String::from_utf8_lossy(&r.stdout).contains("--theme ./my-look.toml"));
    let r = galley_with(config.path())
        .current_dir(dir.path())
        .arg("convert")
        .arg(sample("field-guide.md"))
        .args([
            "--to",
            "epub,pdf",
            "-q",
            "-o",
            "out",
            "--theme",
            "./my-look.toml",
        ])
        .output()
        .expect("run");
    ok(&r);
    assert!(dir.path().join("out.epub").exists() && dir.path().join("out.pdf").exists());
    // Never over an existing file; names are checked.
    fs::write(&path, "mine").expect("write");
    let r = new("my-look");
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("already exists"));
    assert_eq!(fs::read_to_string(&path).expect("read"), "mine");
    assert_eq!(new("../escape").status.code(), Some(1));
    assert!(!dir.path().join("../escape.toml").exists());
}

/// Every key of the built-in themes has a row in `themes/README.md`, in its table's section.
#[test]
fn readme_documents_every_key() {
    fn leaves(table: &toml::Table, path: &str, out: &mut Vec<(String, String)>) {
        for (k, v) in table {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match v {
                toml::Value::Table(t) => leaves(t, &sub, out),
                toml::Value::Array(a) if a.iter().all(toml::Value::is_table) && !a.is_empty() => {
                    for t in a.iter().filter_map(toml::Value::as_table) {
                        leaves(t, &sub, out);
                    }
                }
                _ => out.push((path.to_string(), k.clone())),
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let readme = fs::read_to_string(root.join("README.md")).expect("themes/README.md");
    let sections: Vec<&str> = readme.split("\n### ").skip(1).collect();
    let mut missing = Vec::new();
    for entry in fs::read_dir(&root).expect("themes folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let table: toml::Table =
            toml::from_str(&fs::read_to_string(&path).expect("read")).expect("theme parses");
        let mut keys = Vec::new();
        leaves(&table, "", &mut keys);
        for (table, key) in keys {
            let heading = if table.is_empty() {
                "Top level".to_string()
            } else {
                format!("[{table}]")
            };
            let documented = sections.iter().any(|s| {
                s.lines().next().is_some_and(|h| h.contains(&heading))
                    && s.contains(&format!("| `{key}` |"))
            });
            if !documented {
                missing.push(format!("{table}.{key}"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "document these keys in themes/README.md: {missing:?}"
    );
}
