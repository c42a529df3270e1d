//! Writing output files safely: never half-written, never over an input.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output path is one of the inputs.
    #[error("{0}: refusing to overwrite an input file")]
    WouldOverwriteInput(PathBuf),
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
/// so a failure leaves no partial file. Refuses paths that name any of `inputs`.
pub fn write_atomic(path: &Path, bytes: &[u8], inputs: &[PathBuf]) -> Result<(), OutputError> {
    if inputs.iter().any(|i| same_file(i, path)) {
        return Err(OutputError::WouldOverwriteInput(path.to_path_buf()));
    }
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
