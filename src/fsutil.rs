//! Private files that several processes update: one JSON document per file,
//! replaced atomically (write a temporary file, fsync, rename) while holding an
//! advisory lock on a sidecar `.lock` file, so concurrent writers never lose
//! each other's changes and readers never see a partial file.
//!
//! A folder or file that another local user can write, or owns, is never
//! trusted: settings decide where certificate checks are skipped, so whoever
//! can write them can turn the checks off for your URL.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Serialize, de::DeserializeOwned};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Creates `dir` (and parents) with mode 0700 where it does not exist yet,
/// and checks an existing one like [`check_private_dir`].
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    check_private_dir(dir)
}

/// An existing folder must be the user's own; one that others may write or
/// read is tightened to 0700. Missing is fine (it is created 0700 when needed).
///
/// # Errors
/// `STORE_ERROR` naming the fix when another user owns it.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("cannot inspect {}", dir.display()), e)),
    };
    check_owner(dir, &meta)?;
    tighten(dir, &meta, 0o700)
}

/// Whether the current user owns what `meta` describes (always on non-Unix,
/// where folders under the profile are private by their ACLs).
pub fn owned_by_current_user(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        meta.uid() == unsafe { libc::geteuid() }
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

fn check_owner(path: &Path, meta: &fs::Metadata) -> Result<()> {
    if owned_by_current_user(meta) {
        return Ok(());
    }
    Err(foreign(path))
}

fn foreign(path: &Path) -> Error {
    Error::store(
        format!(
            "{} belongs to another user, who could change your logins or turn certificate checks off; remove it (as that user or root) and log in again",
            path.display()
        ),
        None,
    )
}

/// An error from the system (EACCES), not one [`read_regular_file`] made.
fn is_os_error(e: &std::io::Error) -> bool {
    e.raw_os_error().is_some()
}

/// Removes group and other permission bits beyond `mode` (Unix).
fn tighten(path: &Path, meta: &fs::Metadata, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 & !mode != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(format!("cannot make {} private", path.display()), e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta, mode);
    Ok(())
}

/// Reads a small file the user keeps (settings, tfx-cli's files under
/// `~/.tfx`), trusting nothing about the path: the last component is opened
/// without following a link and without blocking (a FIFO would wait for a
/// writer forever), and what was opened must be a regular file of the
/// current user's, of at most `max_bytes`; only then is it read (at most
/// `max_bytes`, so `/dev/zero` cannot get in through a race either).
/// `Ok(None)`: there is no such file (or a folder on the way is missing).
///
/// Windows: `FILE_FLAG_OPEN_REPARSE_POINT` opens a link itself, which is then
/// refused as no regular file; named pipes live outside the file system, and
/// the profile's ACLs stand in for the owner check.
///
/// # Errors
/// `InvalidInput` for a link, FIFO, device or folder; `PermissionDenied` for
/// another user's file; `InvalidData` when larger than `max_bytes`; and the
/// read's own errors.
pub fn read_regular_file(
    path: &Path,
    max_bytes: u64,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    use std::io::Error as IoError;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(None);
        }
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(IoError::new(
                ErrorKind::InvalidInput,
                "a symbolic link, not a file",
            ));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(IoError::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if !owned_by_current_user(&meta) {
        return Err(IoError::new(
            ErrorKind::PermissionDenied,
            "it belongs to another user",
        ));
    }
    let too_big = || {
        IoError::new(
            ErrorKind::InvalidData,
            format!("larger than {max_bytes} bytes"),
        )
    };
    if meta.len() > max_bytes {
        return Err(too_big());
    }
    let mut raw = Zeroizing::new(Vec::new());
    file.take(max_bytes + 1).read_to_end(&mut raw)?;
    if raw.len() as u64 > max_bytes {
        return Err(too_big());
    }
    Ok(Some(raw))
}

/// The most a JSON document may hold: the file store keeps every login in one
/// (an Entra login is ~5 KiB, at most ~40 KiB), so this is thousands of them.
/// Devices and FIFOs are refused by type; this stops a huge regular file.
pub const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a JSON document; a missing file reads as `T::default()`.
/// The raw bytes are wiped after parsing because they may hold secrets.
///
/// # Errors
/// `STORE_ERROR` for unreadable or invalid JSON, and for a file or folder
/// that belongs to another user.
pub fn read_json<T: DeserializeOwned + Default>(path: &Path) -> Result<T> {
    if let Some(dir) = path.parent() {
        check_private_dir(dir)?;
    }
    let raw = match read_regular_file(path, MAX_JSON_BYTES) {
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok(T::default()),
        Err(e) if e.kind() == ErrorKind::PermissionDenied && !is_os_error(&e) => {
            return Err(foreign(path));
        }
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    if let Ok(meta) = fs::symlink_metadata(path) {
        tighten(path, &meta, 0o600)?;
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // serde_json's message names a line and column, never the content.
    serde_json::from_slice(&raw).map_err(|e| {
        Error::store(
            format!(
                "{} is not valid JSON ({e}); fix or remove it",
                path.display()
            ),
            None,
        )
    })
}

/// Read-modify-write of a JSON document under an exclusive lock.
/// `change` returns its answer and whether the document must be written.
pub fn update_json<T, R>(path: &Path, change: impl FnOnce(&mut T) -> Result<(R, bool)>) -> Result<R>
where
    T: DeserializeOwned + Serialize + Default,
{
    let _lock = lock_exclusive(&lock_path(path))?;
    let mut doc: T = read_json(path)?;
    let (answer, changed) = change(&mut doc)?;
    if changed {
        write_atomically(path, &doc)?;
    }
    Ok(answer)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Holds an exclusive advisory lock until dropped.
pub struct LockGuard(File);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.0);
    }
}

/// Takes an exclusive advisory lock on `path` (created 0600, in a private
/// folder), waiting for another holder; released when the guard drops or the
/// holding process dies.
pub fn lock_exclusive(path: &Path) -> Result<LockGuard> {
    if let Some(dir) = path.parent() {
        ensure_private_dir(dir)?;
    }
    let mut options = private_options();
    options.read(true).write(true).create(true).truncate(false);
    // A link or FIFO planted in its place is refused, not followed or waited on.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    let file = options
        .open(path)
        .and_then(|f| match f.metadata()?.is_file() {
            true => Ok(f),
            false => Err(std::io::Error::new(
                ErrorKind::InvalidInput,
                "not a regular file",
            )),
        })
        .map_err(|e| Error::io(format!("cannot open lock file {}", path.display()), e))?;
    FileExt::lock_exclusive(&file)
        .map_err(|e| Error::io(format!("cannot lock {}", path.display()), e))?;
    Ok(LockGuard(file))
}

fn private_options() -> OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn write_atomically<T: Serialize>(path: &Path, doc: &T) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let bytes = Zeroizing::new(serde_json::to_vec_pretty(doc).map_err(|e| {
        Error::store(
            "cannot encode JSON",
            Some(Box::new(e) as crate::error::Cause),
        )
    })?);
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("cannot write in {}", dir.display()), e))?;
    let written = tmp
        .write_all(&bytes)
        .and_then(|()| tmp.write_all(b"\n"))
        .and_then(|()| tmp.as_file().sync_all());
    written.map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn concurrent_updates_are_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("doc.json");
        std::thread::scope(|s| {
            for i in 0..16 {
                let path = &path;
                s.spawn(move || {
                    update_json(path, |doc: &mut BTreeMap<String, u32>| {
                        doc.insert(format!("k{i}"), i);
                        Ok(((), true))
                    })
                    .unwrap();
                });
            }
        });
        let doc: BTreeMap<String, u32> = read_json(&path).unwrap();
        assert_eq!(doc.len(), 16);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("tfx-auth");
        let path = sub.join("doc.json");
        update_json(&path, |doc: &mut BTreeMap<String, u32>| {
            doc.insert("a".into(), 1);
            Ok(((), true))
        })
        .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&sub), 0o700);
    }

    /// Whoever can write the settings can turn certificate checks off.
    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_write_is_tightened_and_one_they_own_refused() {
        use std::os::unix::fs::{PermissionsExt, chown};
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("tfx-auth");
        let path = sub.join("doc.json");
        fs::create_dir_all(&sub).unwrap();
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(&path, r#"{"a":1}"#).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let doc: BTreeMap<String, u32> = read_json(&path).unwrap();
        assert_eq!(doc["a"], 1);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&sub), mode(&path)), (0o700, 0o600));

        if chown(&path, Some(65534), None).is_err() {
            // Only root can hand a file to another user; CI runs as root.
            assert_ne!(unsafe { libc::geteuid() }, 0);
            return;
        }
        let err = read_json::<BTreeMap<String, u32>>(&path).unwrap_err();
        assert_eq!(err.code(), "STORE_ERROR");
        assert!(err.to_string().contains("belongs to another user"), "{err}");
        chown(&path, Some(0), None).unwrap();
        chown(&sub, Some(65534), None).unwrap();
        for err in [
            read_json::<BTreeMap<String, u32>>(&path).unwrap_err(),
            update_json(&path, |_: &mut BTreeMap<String, u32>| Ok(((), true))).unwrap_err(),
        ] {
            assert_eq!(err.code(), "STORE_ERROR");
        }
    }

    /// Settings, and every file under `~/.tfx`, are read through this one helper.
    #[cfg(unix)]
    #[test]
    fn only_a_small_regular_file_of_ours_is_read_and_nothing_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        fs::write(p("file"), b"{}").unwrap();
        fs::write(p("big"), vec![b' '; 65]).unwrap();
        std::os::unix::fs::symlink(p("file"), p("link")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", p("zero")).unwrap();
        let fifo = std::ffi::CString::new(p("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let read = |name: &str| match read_regular_file(&d.join(name), 64) {
                Ok(Some(raw)) => Ok(raw.to_vec()),
                Ok(None) => Err(None),
                Err(e) => Err(Some(e.kind())),
            };
            let kinds: Vec<_> = ["file", "missing", "big", "link", "zero", "fifo", "."]
                .into_iter()
                .map(read)
                .collect();
            let json = read_json::<BTreeMap<String, u32>>(&d.join("fifo")).map_err(|e| e.code());
            tx.send((kinds, json)).unwrap();
        });
        let (kinds, json) = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a FIFO blocked the read");
        let refused = Err(Some(ErrorKind::InvalidInput));
        assert_eq!(
            kinds,
            [
                Ok(b"{}".to_vec()),
                Err(None),
                Err(Some(ErrorKind::InvalidData)),
                refused.clone(),
                refused.clone(),
                refused.clone(),
                refused,
            ]
        );
        assert_eq!(json, Err("STORE_ERROR"));
    }

    #[test]
    fn corrupt_json_is_a_store_error_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        fs::write(&path, "{not json").unwrap();
        let err = update_json(&path, |doc: &mut BTreeMap<String, u32>| {
            doc.clear();
            Ok(((), true))
        })
        .unwrap_err();
        assert_eq!(err.code(), "STORE_ERROR");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{not json");
    }
}
