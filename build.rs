//! Build script: links the `galley` binary as a position-dependent executable on Linux,
//! with Rust's own lld and the code a conversion runs laid out together.

use std::path::{Path, PathBuf};

/// Functions a conversion runs, in the order the linker is to lay them out; made by
/// `scripts/hot-symbols`.
const HOT_SYMBOLS: &str = "scripts/hot-symbols.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
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
