//! Build script: stores the built-in fonts for embedding, and links the `galley` binary
//! as a position-dependent executable on Linux, with Rust's own lld and the code a
//! conversion runs laid out together.

use std::path::{Path, PathBuf};

#[path = "src/font/sfnt.rs"]
mod sfnt;

/// Font folders whose licence (the SIL Open Font License without Reserved Font Names)
/// lets the files built into the binary differ from the originals. Charis SIL and Andika
/// reserve their names and DejaVu's licence asks for renamed modified versions, so
/// theirs are stored unchanged.
const FREE_TO_MODIFY: &[&str] = &[
    "eb-garamond",
    "noto-sans",
    "noto-sans-mono",
    "noto-serif",
    "noto-serif-armenian",
];

/// Functions a conversion runs, in the order the linker is to lay them out; made by
/// `scripts/hot-symbols`.
const HOT_SYMBOLS: &str = "scripts/hot-symbols.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/font/sfnt.rs");
    println!("cargo:rerun-if-changed=fonts");
    store_fonts();
    println!("cargo:rerun-if-changed={HOT_SYMBOLS}");
    // A position-independent executable relocates ~36,000 pointers (700 KB of
    // .data.rel.ro) on every start: ~170 copy-on-write page faults, half a millisecond
    // of a 10 ms article conversion. Linked at a fixed address there is nothing to
    // relocate. Only the binaries: tests and proc-macros keep the defaults.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    // The 2,400 functions an article or book conversion runs lie scattered through 13 MB
    // of code; each 64 KB the kernel maps on a fault then holds a few of them. Laid out
    // together by lld (the GNU linker here cannot order functions), an article's EPUB
    // faults in 60 fewer pages of the binary, and the process ends sooner with fewer
    // pages to unmap: 7.97 → 6.95 ms, 120 runs in turns. Without Rust's lld (a rustc
    // not installed by rustup) the binary is linked as before.
    if let Some(gcc_ld) = rust_lld_dir() {
        println!("cargo:rustc-link-arg-bins=-B{}", gcc_ld.display());
        println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
        let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        let hot = Path::new(&manifest).join(HOT_SYMBOLS);
        if hot.is_file() {
            println!(
                "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
                hot.display()
            );
            // Names of functions since renamed or inlined are skipped, not errors.
            println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        }
    }
}

/// The folder holding the `ld.lld` that rustup ships with rustc, for gcc's `-B`.
fn rust_lld_dir() -> Option<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let host = std::env::var("HOST").ok()?;
    let out = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = String::from_utf8(out.stdout).ok()?;
    let dir = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/gcc-ld");
    dir.join("ld.lld").is_file().then_some(dir)
}

/// Copies `fonts/` into `OUT_DIR/fonts/` for `include_bytes!`, each font of a
/// [`FREE_TO_MODIFY`] folder without its glyph names (`sfnt::without_glyph_names`): every
/// subset galley makes drops them anyway, and leaving them out of the originals spares
/// the subsetter reading and rebuilding them in each conversion.
fn store_fonts() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    let (from, to) = (
        Path::new(&manifest).join("fonts"),
        Path::new(&out).join("fonts"),
    );
    let dirs = std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for dir in dirs.flatten() {
        let family = dir.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        let target = to.join(&family);
        std::fs::create_dir_all(&target).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        for file in files.flatten() {
            let path = file.path();
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let is_font = path.extension().is_some_and(|e| e == "ttf" || e == "otf");
            let stored = if is_font && FREE_TO_MODIFY.contains(&family.as_str()) {
                sfnt::without_glyph_names(&bytes).unwrap_or(bytes)
            } else {
                bytes
            };
            let dest = target.join(file.file_name());
            // Unchanged files are left alone, so their timestamps do not trigger rebuilds.
            if std::fs::read(&dest).ok().as_deref() != Some(stored.as_slice()) {
                std::fs::write(&dest, &stored)
                    .unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
            }
        }
    }
}
