//! Moving tfx-cli's plaintext logins into the store: every certain one at
//! once ([`Logins::migrate_legacy`], run by the first command after an
//! upgrade and by `tfx-auth migrate`), or one when its URL is first used
//! (`Logins::get`). One rule decides both: [`crate::auth::legacy::owner_of`].

use std::path::{Path, PathBuf};

use crate::auth::legacy::Owner;
use crate::auth::logins::{LoginLock, Logins};
use crate::credential::{AuthType, Credential};
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    pub migrated: Vec<Migrated>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub service_url: String,
    pub auth_type: AuthType,
    /// The plaintext file that was deleted.
    pub from: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

impl Logins {
    /// Moves every readable tfx-cli plaintext login into the store.
    pub fn migrate_legacy(&self) -> Result<MigrationReport> {
        let mut report = MigrationReport::default();
        for file in self.legacy.all()? {
            // One rule with migration on first use (`LegacyDir::find`): only a
            // folder whose URL is certain moves; the others wait for their URL.
            let url = match &file.owner {
                Owner::Url(url) => ServiceUrl::parse(url).map_err(|e| e.to_string()),
                Owner::Origin { likely_url, .. } => {
                    ServiceUrl::parse(likely_url).map_err(|e| e.to_string())
                }
                Owner::Unknown => Err(
                    "the URL cannot be recovered from the folder name; log in again with tfx login"
                        .into(),
                ),
            };
            let url = match url {
                Ok(url) => url,
                Err(reason) => {
                    report.skipped.push(Skipped {
                        path: file.path,
                        reason,
                    });
                    continue;
                }
            };
            let credential = match self.legacy.read(&file) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    report.skipped.push(Skipped {
                        path: file.path,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            if self.store.get(url.key())?.is_some() {
                report.skipped.push(Skipped {
                    path: file.path,
                    reason: format!("tfx-auth already holds a login for {url}; the plaintext file was left in place"),
                });
                continue;
            }
            let lock = self.lock(&url)?;
            self.move_into_store(&lock, &url, &credential, &file.path)?;
            report.migrated.push(Migrated {
                service_url: url.as_str().to_string(),
                auth_type: credential.auth_type(),
                from: file.path,
            });
        }
        Ok(report)
    }

    /// Store, read back, and only then delete the plaintext file. Adopts
    /// tfx-cli's default URL and certificate choice when it was this URL.
    pub(super) fn move_into_store(
        &self,
        lock: &LoginLock,
        url: &ServiceUrl,
        credential: &Credential,
        plaintext: &Path,
    ) -> Result<()> {
        let stored = credential.to_stored();
        self.write_secret(lock, url.key(), &stored)?;
        let read_back = self.store.get(url.key())?;
        if read_back.as_deref().map(String::as_str) != Some(stored.as_str()) {
            return Err(Error::store(
                format!(
                    "the migrated login for {url} did not read back; the plaintext file was kept"
                ),
                None,
            ));
        }
        let was_tfx_default = self
            .legacy
            .cached_connection()
            .and_then(|c| ServiceUrl::parse(&c).ok())
            .is_some_and(|c| c.key() == url.key());
        let skip = was_tfx_default && self.legacy.cached_skip_cert_validation();
        let adopt_default = was_tfx_default && self.settings.default_service_url()?.is_none();
        self.settings.record_login(url, Some(skip), adopt_default)?;
        self.legacy.remove(plaintext)?;
        if was_tfx_default {
            // Carried over: tfx-cli's last-login URL and certificate flag have no login left.
            self.legacy.remove_cached_connection()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::logins::test_support::{fixture, url, write_tfx_login};
    use crate::store::SecretStore;
    use std::fs;

    #[test]
    fn a_legacy_login_moves_into_the_store_on_first_use() {
        let f = fixture();
        let plaintext =
            write_tfx_login(&f.paths.home, "https://dev.azure.com/Org", "pat:old-token");
        let cred = f
            .logins
            .get(&url("https://dev.azure.com/org"))
            .unwrap()
            .unwrap();
        assert_eq!(cred.secret(), "old-token");
        assert!(!plaintext.exists());
        assert_eq!(
            f.store
                .get("https://dev.azure.com/org")
                .unwrap()
                .unwrap()
                .as_str(),
            "pat:old-token"
        );
    }

    #[test]
    fn a_failed_store_write_keeps_the_plaintext_login() {
        let f = fixture();
        let plaintext =
            write_tfx_login(&f.paths.home, "https://dev.azure.com/Org", "pat:old-token");
        f.store.fail_next(Error::KeyringLocked {
            hint: "test",
            source: None,
        });
        // The first call (the lookup) fails; nothing is lost.
        assert_eq!(
            f.logins
                .get(&url("https://dev.azure.com/Org"))
                .unwrap_err()
                .code(),
            "KEYRING_LOCKED"
        );
        assert!(plaintext.exists());
    }

    #[test]
    fn migrate_reports_what_moved_and_a_second_run_moves_nothing() {
        let f = fixture();
        write_tfx_login(&f.paths.home, "https://dev.azure.com/Org", "pat:old-token");
        write_tfx_login(
            &f.paths.home,
            "http://127.0.0.1:18080/DefaultCollection",
            "basic:fabfiber\\peter:pw:1",
        );
        fs::create_dir_all(f.paths.home.join(".tfx/cache")).unwrap();
        fs::write(
            f.paths.home.join(".tfx/cache/.connection"),
            "http://127.0.0.1:18080/DefaultCollection",
        )
        .unwrap();
        let report = f.logins.migrate_legacy().unwrap();
        let mut moved: Vec<_> = report
            .migrated
            .iter()
            .map(|m| m.service_url.as_str())
            .collect();
        moved.sort();
        assert_eq!(
            moved,
            vec![
                "http://127.0.0.1:18080/DefaultCollection",
                "https://dev.azure.com/Org"
            ]
        );
        assert!(report.skipped.is_empty());
        assert_eq!(
            f.logins.default_service_url().unwrap().as_deref(),
            Some("http://127.0.0.1:18080/DefaultCollection")
        );
        // Carried over, so tfx-cli's cache files go too.
        assert!(!f.paths.home.join(".tfx/cache").exists());
        assert_eq!(
            f.logins.migrate_legacy().unwrap(),
            MigrationReport::default()
        );
    }

    #[test]
    fn tfx_default_url_counts_until_its_login_is_migrated() {
        let f = fixture();
        fs::create_dir_all(f.paths.home.join(".tfx/cache")).unwrap();
        fs::write(
            f.paths.home.join(".tfx/cache/.connection"),
            "https://dev.azure.com/Org",
        )
        .unwrap();
        assert_eq!(f.logins.default_service_url().unwrap(), None);
        write_tfx_login(&f.paths.home, "https://dev.azure.com/Org", "pat:old-token");
        assert_eq!(
            f.logins.default_service_url().unwrap().as_deref(),
            Some("https://dev.azure.com/Org")
        );
        f.logins.get(&url("https://dev.azure.com/Org")).unwrap();
        assert_eq!(
            f.logins.default_service_url().unwrap().as_deref(),
            Some("https://dev.azure.com/Org")
        );
    }

    #[test]
    fn ambiguous_legacy_folders_are_reported_not_guessed() {
        let f = fixture();
        let plaintext = write_tfx_login(&f.paths.home, "http://127.0.0.1:18080/x", "pat:abcdefgh");
        let report = f.logins.migrate_legacy().unwrap();
        assert!(report.migrated.is_empty());
        assert_eq!(report.skipped.len(), 1);
        assert!(plaintext.exists());
    }

    /// tfx-cli's folder for A is also B's name; only A's own URL may use it,
    /// and `cache/.connection` breaks the tie only for the URL it names.
    #[test]
    fn a_colliding_legacy_folder_never_reaches_another_host() {
        let f = fixture();
        let a = "http://127.0.0.1:18081/x";
        let b = url("http://127.0.0.11:8081/x");
        let plaintext = write_tfx_login(&f.paths.home, a, "pat:host-a-token");
        assert_eq!(f.logins.get(&b).unwrap(), None);
        assert!(!f.logins.logout(&b).unwrap());
        assert_eq!(f.logins.default_service_url().unwrap(), None);
        assert!(plaintext.exists(), "A's file stays");
        assert!(f.store.get(b.key()).unwrap().is_none());

        fs::create_dir_all(f.paths.home.join(".tfx/cache")).unwrap();
        fs::write(f.paths.home.join(".tfx/cache/.connection"), a).unwrap();
        assert_eq!(f.logins.get(&b).unwrap(), None, "the tie-breaker names A");
        assert!(plaintext.exists());
        let got = f.logins.get(&url(a)).unwrap().unwrap();
        assert_eq!(got.secret(), "host-a-token");
        assert!(!plaintext.exists());
    }

    /// A `_` in a folder name may have been `_` or `/`: same host either way.
    /// The migration of every login takes the reading tfx-cli accepts (one
    /// segment, or `/tfs/<collection>`); a URL in use takes its own folder.
    #[test]
    fn underscores_in_a_legacy_path_stay_on_their_host() {
        let f = fixture();
        write_tfx_login(
            &f.paths.home,
            "http://tfs.fabfiber.local:8080/tfs/Default_Collection",
            "pat:tfs-token",
        );
        let single = write_tfx_login(
            &f.paths.home,
            "https://dev.azure.com/my_org",
            "pat:org-token",
        );
        let report = f.logins.migrate_legacy().unwrap();
        let moved: Vec<_> = report
            .migrated
            .iter()
            .map(|m| m.service_url.as_str())
            .collect();
        assert_eq!(
            moved,
            vec![
                "http://tfs.fabfiber.local:8080/tfs/Default_Collection",
                "https://dev.azure.com/my_org"
            ]
        );
        assert!(!single.exists());

        let f = fixture();
        let plaintext = write_tfx_login(
            &f.paths.home,
            "http://tfs.fabfiber.local:8080/tfs_x/y",
            "pat:other-token",
        );
        assert_eq!(
            f.logins
                .get(&url("http://tfs.fabfiber.local:8080/tfs_x/y"))
                .unwrap()
                .unwrap()
                .secret(),
            "other-token"
        );
        assert!(!plaintext.exists());
    }

    #[cfg(unix)]
    #[test]
    fn tfx_files_of_another_user_are_never_read() {
        let f = fixture();
        let plaintext = write_tfx_login(&f.paths.home, "https://dev.azure.com/Org", "pat:planted");
        let cache = f.paths.home.join(".tfx/cache");
        fs::create_dir_all(&cache).unwrap();
        fs::write(cache.join(".connection"), "https://dev.azure.com/Org").unwrap();
        if std::os::unix::fs::chown(&plaintext, Some(65534), None).is_err() {
            // Only root can hand a file to another user; CI runs as root.
            assert_ne!(unsafe { libc::geteuid() }, 0);
            return;
        }
        std::os::unix::fs::chown(cache.join(".connection"), Some(65534), None).unwrap();
        assert_eq!(
            f.logins.get(&url("https://dev.azure.com/Org")).unwrap(),
            None
        );
        assert_eq!(f.logins.default_service_url().unwrap(), None);
        assert!(plaintext.exists());
    }
}
