//! The files a CI credential names (the certificate, the federated token),
//! read with the checks of a CA file: opened without blocking (a FIFO would
//! wait for a writer forever), a regular file, at most 1 MiB, the read
//! stopped at the cap (`/dev/zero` never ends). Links are followed, as
//! Kubernetes projects its token files through them.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A certificate with its chain, or a federated token, is a few KiB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The file's bytes (wiped on drop). `variable` names where the path came from.
///
/// # Errors
/// `INVALID_CREDENTIAL` saying why the file cannot be used.
pub fn read_small_file(path: &Path, variable: &str) -> Result<Zeroizing<Vec<u8>>> {
    let failed = |why: String| {
        Error::invalid_credential(format!(
            "{variable} ({}) cannot be used: {why}",
            path.display()
        ))
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| failed(e.to_string()))?;
    let meta = file.metadata().map_err(|e| failed(e.to_string()))?;
    if !meta.is_file() {
        return Err(failed("not a regular file".into()));
    }
    let too_big = || failed(format!("larger than {} KiB", MAX_FILE_BYTES / 1024));
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}
