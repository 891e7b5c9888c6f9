//! What another program (or user) may leave under `~/.tfx` in place of
//! tfx-cli's files (issue 18, item 5): a FIFO must not hang any command, a
//! link to `/dev/zero` must not be read, and a linked file or folder must not
//! re-home a login under another URL nor get the original deleted.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::auth::logins::test_support::{Fixture, fixture, url, write_tfx_login};
use crate::store::SecretStore;

const REAL: &str = "https://dev.azure.com/Real";
const EVIL: &str = "https://evil.example/o";

/// Runs `f` on its own thread; a test fails, rather than hangs, when it blocks.
fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || drop(tx.send(f())));
    rx.recv_timeout(Duration::from_secs(10))
        .expect("blocked on a planted file")
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other precondition.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn legacy_folder(f: &Fixture, url: &str) -> std::path::PathBuf {
    f.paths
        .home
        .join(".tfx")
        .join(crate::service_url::legacy_escape(url))
}

#[test]
fn a_fifo_as_tfx_clis_cache_or_login_never_blocks() {
    let f = fixture();
    let cache = f.paths.home.join(".tfx").join("cache");
    fs::create_dir_all(&cache).unwrap();
    mkfifo(&cache.join(".connection"));
    mkfifo(&cache.join(".skipCertValidation"));
    let folder = legacy_folder(&f, EVIL);
    fs::create_dir_all(&folder).unwrap();
    mkfifo(&folder.join(".allusers"));
    let (default, found, migrated, f) = within_seconds(move || {
        let default = f.logins.default_service_url().map_err(|e| e.code());
        let found = f
            .logins
            .get(&url(EVIL))
            .map(|c| c.is_some())
            .map_err(|e| e.code());
        let migrated = f
            .logins
            .migrate_legacy()
            .map(|r| (r.migrated.len(), r.skipped.len()));
        (default, found, migrated.map_err(|e| e.code()), f)
    });
    assert_eq!(default, Ok(None), "a FIFO names no URL");
    assert_eq!(found, Ok(false), "a FIFO is no login");
    assert_eq!(migrated, Ok((0, 1)), "reported, not migrated");
    assert!(!f.logins.legacy.cached_skip_cert_validation());
}

#[test]
fn a_link_to_dev_zero_is_not_read() {
    let f = fixture();
    let folder = legacy_folder(&f, EVIL);
    fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink("/dev/zero", folder.join(".allusers")).unwrap();
    let cache = f.paths.home.join(".tfx").join("cache");
    fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink("/dev/zero", cache.join(".connection")).unwrap();
    let (found, default) = within_seconds(move || {
        let found = f
            .logins
            .get(&url(EVIL))
            .map(|c| c.is_some())
            .map_err(|e| e.code());
        (found, f.logins.default_service_url().map_err(|e| e.code()))
    });
    assert_eq!(found, Ok(false));
    assert_eq!(default, Ok(None));
}

#[test]
fn a_linked_login_file_or_folder_neither_rehomes_nor_deletes_the_login() {
    for linked_folder in [false, true] {
        let f = fixture();
        let real = write_tfx_login(&f.paths.home, REAL, "pat:real-legacy-token");
        let evil = legacy_folder(&f, EVIL);
        if linked_folder {
            std::os::unix::fs::symlink(real.parent().unwrap(), &evil).unwrap();
        } else {
            fs::create_dir_all(&evil).unwrap();
            std::os::unix::fs::symlink(&real, evil.join(".allusers")).unwrap();
        }
        let what = if linked_folder { "folder" } else { "file" };
        let got = f
            .logins
            .get(&url(EVIL))
            .map(|c| c.map(|c| c.secret().to_string()));
        assert!(
            !matches!(got, Ok(Some(_))),
            "linked {what}: another URL's login is not taken for {EVIL}"
        );
        assert!(f.store.get(url(EVIL).key()).unwrap().is_none(), "{what}");
        let _ = f.logins.logout(&url(EVIL));
        let report = f.logins.migrate_legacy().unwrap();
        assert!(
            report.migrated.iter().all(|m| m.service_url == REAL),
            "{what}"
        );
        assert!(f.store.get(url(EVIL).key()).unwrap().is_none(), "{what}");
        assert_eq!(
            f.logins.get(&url(REAL)).unwrap().unwrap().secret(),
            "real-legacy-token",
            "linked {what}: the real login is still there, for its own URL"
        );
    }
}
