//! Writing output files safely: never half-written, never over an input, never through
//! a symbolic link.
//!
//! An output is written to a new temporary file in the same folder (created exclusively,
//! so a link planted at its name is never followed) and renamed over the destination.
//! An existing regular file at the destination is replaced, so re-running a conversion
//! updates its output; a symbolic link there is refused rather than replaced or written
//! through, and so is any path naming one of the inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output path is one of the inputs.
    #[error("{0}: refusing to overwrite an input file")]
    WouldOverwriteInput(PathBuf),
    /// The output path is a symbolic link.
    #[error(
        "{0}: is a symbolic link; galley does not write through or replace links \
         (name the file it points to, or remove the link)"
    )]
    Symlink(PathBuf),
    /// Creating, writing or renaming failed.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename,
/// so a failure leaves no partial file. Refuses paths that name any of `inputs` and
/// paths that are symbolic links.
pub fn write_atomic(path: &Path, bytes: &[u8], inputs: &[PathBuf]) -> Result<(), OutputError> {
    let mut out = Output::new(path, inputs);
    out.write_all(bytes)?;
    out.commit()
}

/// An output file that appears under its name only once complete. Its bytes go to a
/// temporary file in the same folder, created on first use, which [`Output::commit`]
/// moves over the destination; dropped uncommitted (an error on the way), the temporary
/// file is removed and nothing is left.
///
/// A writer that streams (the EPUB) opens it while other work still runs, so creating the
/// file and writing most of it no longer wait at the end of the conversion.
pub struct Output<'a> {
    path: &'a Path,
    inputs: &'a [PathBuf],
    /// The temporary file and its name, once created.
    temp: Option<(PathBuf, std::fs::File)>,
}

impl<'a> Output<'a> {
    /// An output for `path`, refusing (when first used) paths that name any of `inputs`
    /// and paths that are symbolic links. Nothing is created yet.
    pub fn new(path: &'a Path, inputs: &'a [PathBuf]) -> Output<'a> {
        Output {
            path,
            inputs,
            temp: None,
        }
    }

    /// The temporary file, created at the first call after the destination is checked.
    pub fn file(&mut self) -> Result<&std::fs::File, OutputError> {
        let temp = match self.temp.take() {
            Some(temp) => temp,
            None => self.create()?,
        };
        Ok(&self.temp.insert(temp).1)
    }

    /// Appends `bytes` to the temporary file.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.path;
        let mut file = self.file()?;
        file.write_all(bytes)
            .map_err(|source| out_error(path, source))
    }

    /// Checks the destination and creates the temporary file beside it.
    fn create(&self) -> Result<(PathBuf, std::fs::File), OutputError> {
        let path = self.path;
        if self.inputs.iter().any(|i| same_file(i, path)) {
            return Err(OutputError::WouldOverwriteInput(path.to_path_buf()));
        }
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(OutputError::Symlink(path.to_path_buf()));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        create_temp(&dir, &name).map_err(|source| out_error(path, source))
    }

    /// Moves the finished file over the destination (an empty file if nothing was
    /// written). No fsync: the rename already keeps a partial file from ever showing
    /// under the output's name, and an output is cheap to make again after a power cut,
    /// while the flush to disk cost about 0.4 ms of an article's 8 ms.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let (tmp, file) = match self.temp.take() {
            Some(temp) => temp,
            None => self.create()?,
        };
        drop(file);
        let result = replace(&tmp, self.path);
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(|source| out_error(self.path, source))
    }
}

impl Drop for Output<'_> {
    fn drop(&mut self) {
        if let Some((tmp, file)) = self.temp.take() {
            drop(file);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// An I/O error on the output at `path`.
fn out_error(path: &Path, source: std::io::Error) -> OutputError {
    OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Moves `tmp` to `path`, atomically replacing a regular file there.
///
/// On Linux an existing file is swapped with `tmp` (`renameat2` with `RENAME_EXCHANGE`)
/// and the old one, now under the temporary name, removed. A plain rename over an existing
/// file makes ext4 write the new file's data out first (its `auto_da_alloc` guard for
/// programs that skip fsync): 0.3–0.6 ms, most of the cost of saving an article's EPUB,
/// for a safety that galley's outputs, cheap to make again, do not need.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
        && exchange(tmp, path).is_ok()
    {
        // Only the old output is left at `tmp`; were it to stay, it is a hidden
        // temporary file, not a broken output.
        let _ = std::fs::remove_file(tmp);
        return Ok(());
    }
    std::fs::rename(tmp, path)
}

/// Swaps the files at `a` and `b`, both of which must exist.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call, and
    // renameat2 reads nothing else of ours.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A new temporary file in `dir`, created exclusively (`O_EXCL`): if anything, even a
/// dangling symbolic link, already has the name, another name is tried, so nothing
/// planted there is ever written through.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU32, Ordering};
    // Parallel writers in one process (batches) need distinct names too.
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut last = None;
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_files_but_refuses_links_and_inputs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out.epub");
        write_atomic(&out, b"one", &[]).expect("first write");
        write_atomic(&out, b"two", &[]).expect("re-run replaces");
        assert_eq!(std::fs::read(&out).expect("read"), b"two");

        let input = tmp.path().join("in.md");
        std::fs::write(&input, "# hi").expect("write input");
        assert!(matches!(
            write_atomic(&input, b"x", std::slice::from_ref(&input)),
            Err(OutputError::WouldOverwriteInput(_))
        ));

        #[cfg(unix)]
        {
            let target = tmp.path().join("precious.txt");
            std::fs::write(&target, "keep").expect("write target");
            let link = tmp.path().join("link.epub");
            std::os::unix::fs::symlink(&target, &link).expect("symlink");
            assert!(matches!(
                write_atomic(&link, b"x", &[]),
                Err(OutputError::Symlink(_))
            ));
            assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep");
        }
    }

    #[test]
    fn an_output_dropped_unfinished_leaves_the_old_one_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("book.epub");
        write_atomic(&out, b"old", &[]).expect("first write");
        {
            let mut output = Output::new(&out, &[]);
            output
                .file()
                .expect("temporary file")
                .write_all(b"half")
                .expect("write");
            // Dropped without a commit, as when a conversion fails half-way.
        }
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["book.epub"]);
        assert_eq!(std::fs::read(&out).expect("read"), b"old");
        // Committed untouched, an output is an empty file.
        Output::new(&out, &[]).commit().expect("commit");
        assert_eq!(std::fs::read(&out).expect("read"), b"");
    }

    #[test]
    fn replacing_leaves_only_the_output() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("book.epub");
        for text in ["first", "second", "third"] {
            write_atomic(&out, text.as_bytes(), &[]).expect("write");
            assert_eq!(std::fs::read_to_string(&out).expect("read"), text);
        }
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["book.epub"]);
        // A folder in the way is an error, not swapped out of its place.
        let dir = tmp.path().join("taken.epub");
        std::fs::create_dir(&dir).expect("mkdir");
        assert!(write_atomic(&dir, b"x", &[]).is_err());
        assert!(dir.is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_a_temporary_name_is_not_followed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("precious.txt");
        std::fs::write(&target, "keep").expect("write target");
        // Plant links at the next few temporary names this process could pick.
        let n = {
            let (p, _) = create_temp(tmp.path(), "probe").expect("probe");
            let s = p.to_string_lossy().into_owned();
            let n: u32 = s
                .trim_end_matches(".tmp")
                .rsplit('.')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("counter");
            n
        };
        for k in n + 1..n + 8 {
            let name = format!(".out.epub.{}.{k}.tmp", std::process::id());
            let _ = std::os::unix::fs::symlink(&target, tmp.path().join(name));
        }
        write_atomic(&tmp.path().join("out.epub"), b"new", &[]).expect("write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep");
    }
}
