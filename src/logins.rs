//! Logins: the chosen secret store, the non-secret settings and tfx-cli's
//! plaintext leftovers, as one thing. Every storage decision of the JavaScript
//! API lives here, so `cargo test` covers it without Node.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::credential::{AuthType, Credential, Secret};
use crate::error::{Error, Result};
use crate::legacy::LegacyDir;
use crate::service_url::ServiceUrl;
use crate::settings::Settings;
use crate::store::{self, SecretStore, StorageInfo, StoreChoice};

/// Where things live, read once from the environment.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `$XDG_CONFIG_HOME/tfx-auth` (or the platform's config folder).
    pub config_dir: PathBuf,
    /// The home folder holding tfx-cli's `.tfx`.
    pub home: PathBuf,
}

impl Paths {
    /// # Errors
    /// `STORE_ERROR` when neither a config folder nor a home folder is known.
    pub fn from_env() -> Result<Self> {
        let home = dirs::home_dir()
            .ok_or_else(|| Error::store("cannot find the home folder (set HOME)", None))?;
        let config_dir = dirs::config_dir()
            .unwrap_or_else(|| home.join(".config"))
            .join("tfx-auth");
        Ok(Paths { config_dir, home })
    }
}

/// A login as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSummary {
    pub service_url: String,
    pub key: String,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub is_default: bool,
    /// When an Entra login's access token expires (Unix seconds); it is
    /// renewed before then while the refresh token is accepted.
    pub expires_at: Option<u64>,
    /// An Entra login's tenant.
    pub tenant: Option<String>,
}

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

pub struct Logins {
    store: Arc<dyn SecretStore>,
    info: StorageInfo,
    settings: Settings,
    legacy: LegacyDir,
    /// One secret read ahead by [`Logins::prefetch`], used once by the next `get`.
    prefetched: Mutex<Option<Prefetched>>,
}

struct Prefetched {
    key: String,
    secret: Secret,
    at: Instant,
}

/// How long a read-ahead secret may wait for its `get`.
const PREFETCH_TTL: Duration = Duration::from_secs(10);

impl Logins {
    /// Chooses the store per `TFX_AUTH_STORE` and the environment.
    pub fn open(choice: StoreChoice, paths: &Paths) -> Self {
        let selected = store::select(choice, paths.config_dir.clone());
        Self::with_store(selected.store, selected.info, paths)
    }

    pub fn with_store(store: Arc<dyn SecretStore>, info: StorageInfo, paths: &Paths) -> Self {
        Logins {
            store,
            info,
            settings: Settings::new(&paths.config_dir),
            legacy: LegacyDir::new(&paths.home),
            prefetched: Mutex::new(None),
        }
    }

    /// Reads the login for `url` (or the default URL) ahead of its use, so a
    /// command can overlap the keyring round trip with its own start-up.
    /// Failures are left for the real `get` to meet and report.
    pub fn prefetch(&self, url: Option<&str>) {
        let typed = match url {
            Some(u) => Some(u.to_string()),
            None => self.settings.default_service_url().ok().flatten(),
        };
        let Some(url) = typed.and_then(|u| ServiceUrl::parse(&u).ok()) else {
            return;
        };
        if let Ok(Some(secret)) = self.store.get(url.key()) {
            *self.prefetched.lock().unwrap_or_else(|p| p.into_inner()) = Some(Prefetched {
                key: url.key().to_string(),
                secret,
                at: Instant::now(),
            });
        }
    }

    fn take_prefetched(&self, key: &str) -> Option<Secret> {
        let mut slot = self.prefetched.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(p) if p.key == key && p.at.elapsed() < PREFETCH_TTL => Some(p.secret),
            _ => None,
        }
    }

    pub fn storage_info(&self) -> &StorageInfo {
        &self.info
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The stored credential for `url`. When the store has none but tfx-cli
    /// left a plaintext login for it, that login is moved into the store first.
    pub fn get(&self, url: &ServiceUrl) -> Result<Option<Credential>> {
        let stored = match self.take_prefetched(url.key()) {
            Some(secret) => Some(secret),
            None => self.store.get(url.key())?,
        };
        if let Some(stored) = stored {
            return Credential::from_stored(&stored).map(Some).map_err(|e| {
                Error::store(
                    format!("the stored login for {url} cannot be read ({e}); log in again"),
                    None,
                )
            });
        }
        match self.legacy.find(url)? {
            Some((path, credential)) => {
                self.move_into_store(url, &credential, &path)?;
                Ok(Some(credential))
            }
            None => Ok(None),
        }
    }

    /// Stores `credential` for `url` and remembers the URL as typed.
    pub fn save(&self, url: &ServiceUrl, credential: &Credential) -> Result<()> {
        self.store.set(url.key(), &credential.to_stored())?;
        let skip = self.settings.skip_cert_validation(url)?;
        self.settings.remember(url, skip)
    }

    /// Replaces the stored secret of `url` alone (a renewed Entra token);
    /// settings stay as they are.
    pub fn replace(&self, url: &ServiceUrl, credential: &Credential) -> Result<()> {
        self.store.set(url.key(), &credential.to_stored())
    }

    /// Removes only the credential; `Ok(false)` when there was none.
    pub fn delete(&self, url: &ServiceUrl) -> Result<bool> {
        self.store.delete(url.key())
    }

    /// Removes the credential, the URL's settings and the default if it
    /// pointed there, and any plaintext tfx-cli login for it.
    pub fn logout(&self, url: &ServiceUrl) -> Result<bool> {
        let mut removed = self.store.delete(url.key())?;
        removed |= self.settings.forget(url)?;
        if let Some((path, _)) = self.legacy.find(url)? {
            self.legacy.remove(&path)?;
            removed = true;
        }
        Ok(removed)
    }

    /// Logs out of the default URL; `Ok(false)` when there is none.
    pub fn logout_default(&self) -> Result<bool> {
        match self.default_service_url()? {
            Some(url) => self.logout(&ServiceUrl::parse(&url)?),
            None => Ok(false),
        }
    }

    /// Removes every login, tfx-cli's plaintext ones included (they would
    /// otherwise come back on next use); returns how many were removed.
    pub fn logout_all(&self) -> Result<usize> {
        let mut count = 0;
        for (key, _) in self.store.list()? {
            if self.store.delete(&key)? {
                count += 1;
            }
        }
        for file in self.legacy.all()? {
            self.legacy.remove(&file.path)?;
            count += 1;
        }
        self.settings.forget_all()?;
        Ok(count)
    }

    /// The default URL: ours, else tfx-cli's last login (`~/.tfx/cache/.connection`)
    /// while its plaintext login is still waiting to be migrated.
    pub fn default_service_url(&self) -> Result<Option<String>> {
        if let Some(url) = self.settings.default_service_url()? {
            return Ok(Some(url));
        }
        let Some(cached) = self.legacy.cached_connection() else {
            return Ok(None);
        };
        let pending = ServiceUrl::parse(&cached)
            .ok()
            .map(|url| self.legacy.find(&url))
            .transpose()?
            .flatten()
            .is_some();
        Ok(pending.then_some(cached))
    }

    /// Every stored login, without secrets, sorted by URL.
    pub fn list(&self) -> Result<Vec<LoginSummary>> {
        let default_key = self
            .default_service_url()?
            .and_then(|u| ServiceUrl::parse(&u).ok())
            .map(|u| u.key().to_string());
        let mut logins = Vec::new();
        for (key, stored) in self.store.list()? {
            // An item we cannot parse is still a login; list it as what it claims.
            let credential = Credential::from_stored(&stored).ok();
            let auth_type = match &credential {
                Some(c) => c.auth_type(),
                None if stored.starts_with("basic:") => AuthType::Basic,
                None if stored.starts_with("entra:") => AuthType::Entra,
                None => AuthType::Pat,
            };
            let entra = match &credential {
                Some(Credential::Entra(token)) => Some(token),
                _ => None,
            };
            let service_url = self
                .settings
                .typed_url(&key)?
                .unwrap_or_else(|| key.clone());
            logins.push(LoginSummary {
                is_default: default_key.as_deref() == Some(key.as_str()),
                username: credential
                    .as_ref()
                    .and_then(|c| c.username().map(str::to_string)),
                expires_at: entra.and_then(|t| t.expires_at),
                tenant: entra.and_then(|t| t.tenant()),
                service_url,
                key,
                auth_type,
            });
        }
        logins.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(logins)
    }

    /// Moves every readable tfx-cli plaintext login into the store.
    pub fn migrate_legacy(&self) -> Result<MigrationReport> {
        let mut report = MigrationReport::default();
        let cached = self.legacy.cached_connection();
        for file in self.legacy.all()? {
            // The folder name loses `:`; the cached URL disambiguates it when it matches.
            let url_text = cached
                .as_ref()
                .filter(|c| {
                    crate::service_url::legacy_escape(c.trim_end_matches('/')) == file.name
                        || crate::service_url::legacy_escape(c) == file.name
                })
                .cloned()
                .or(file.url.clone());
            let Some(url) = url_text.and_then(|u| ServiceUrl::parse(&u).ok()) else {
                report.skipped.push(Skipped {
                    path: file.path,
                    reason: "the URL cannot be recovered from the folder name; log in again with tfx login".into(),
                });
                continue;
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
            self.move_into_store(&url, &credential, &file.path)?;
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
    fn move_into_store(
        &self,
        url: &ServiceUrl,
        credential: &Credential,
        plaintext: &Path,
    ) -> Result<()> {
        let stored = credential.to_stored();
        self.store.set(url.key(), &stored)?;
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
        self.settings.remember(url, skip)?;
        if was_tfx_default && self.settings.default_service_url()?.is_none() {
            self.settings.set_default(url)?;
        }
        self.legacy.remove(plaintext)
    }
}

#[cfg(test)]
impl Logins {
    /// Logins over an in-memory store, for tests of the layers above the store.
    pub(crate) fn in_memory(paths: &Paths) -> (Self, Arc<crate::store::memory::MemoryStore>) {
        let store = Arc::new(crate::store::memory::MemoryStore::default());
        let info = StorageInfo {
            backend: crate::store::Backend::Memory,
            persistent: false,
            location: "memory".into(),
            reason: "test".into(),
            warning: None,
        };
        (Self::with_store(store.clone(), info, paths), store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use std::fs;

    struct Fixture {
        _dir: tempfile::TempDir,
        paths: Paths,
        store: Arc<MemoryStore>,
        logins: Logins,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().join("config").join("tfx-auth"),
            home: dir.path().join("home"),
        };
        let (logins, store) = Logins::in_memory(&paths);
        Fixture {
            _dir: dir,
            paths,
            store,
            logins,
        }
    }

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    fn write_tfx_login(home: &Path, typed: &str, stored: &str) -> PathBuf {
        let dir = home
            .join(".tfx")
            .join(crate::service_url::legacy_escape(typed));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(".allusers"), stored).unwrap();
        dir.join(".allusers")
    }

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
        f.store.fail_next(Error::KeyringLocked { source: None });
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
    fn logout_all_removes_plaintext_logins_too() {
        let f = fixture();
        f.logins
            .save(
                &url("https://dev.azure.com/a"),
                &Credential::pat("tok-123456").unwrap(),
            )
            .unwrap();
        let plaintext = write_tfx_login(&f.paths.home, "https://dev.azure.com/b", "pat:old-token");
        assert_eq!(f.logins.logout_all().unwrap(), 2);
        assert!(!plaintext.exists());
        assert!(f.logins.list().unwrap().is_empty());
    }

    #[test]
    fn a_prefetched_login_serves_one_get_of_its_url() {
        let f = fixture();
        let a = url("https://dev.azure.com/Org");
        f.logins
            .save(&a, &Credential::pat("tok-123456").unwrap())
            .unwrap();
        f.logins.settings().set_default(&a).unwrap();
        f.logins.prefetch(None);
        // The store failing now proves the next get is served from the read-ahead...
        f.store.fail_next(Error::KeyringLocked { source: None });
        assert_eq!(f.logins.get(&a).unwrap().unwrap().secret(), "tok-123456");
        // ...once: the failure is still queued for the next real store call.
        assert_eq!(f.logins.get(&a).unwrap_err().code(), "KEYRING_LOCKED");
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

    #[test]
    fn list_never_holds_secrets_and_marks_the_default() {
        let f = fixture();
        let a = url("https://dev.azure.com/Org");
        let b = url("http://tfs:8080/tfs/DefaultCollection");
        f.logins
            .save(&a, &Credential::pat("tok-123456").unwrap())
            .unwrap();
        f.logins
            .save(
                &b,
                &Credential::basic("fabfiber\\peter", "pw-123456").unwrap(),
            )
            .unwrap();
        f.logins.settings().set_default(&a).unwrap();
        let list = f.logins.list().unwrap();
        assert_eq!(list.len(), 2);
        let shown = format!("{list:?}");
        assert!(!shown.contains("tok-123456") && !shown.contains("pw-123456"));
        let org = list
            .iter()
            .find(|l| l.key == "https://dev.azure.com/org")
            .unwrap();
        assert_eq!(org.service_url, "https://dev.azure.com/Org");
        assert!(org.is_default);
        let tfs = list
            .iter()
            .find(|l| l.auth_type == AuthType::Basic)
            .unwrap();
        assert_eq!(tfs.username.as_deref(), Some("fabfiber\\peter"));
    }

    #[test]
    fn logout_removes_credential_settings_and_default() {
        let f = fixture();
        let a = url("https://dev.azure.com/Org");
        f.logins
            .save(&a, &Credential::pat("tok-123456").unwrap())
            .unwrap();
        f.logins
            .settings()
            .set_skip_cert_validation(&a, true)
            .unwrap();
        f.logins.settings().set_default(&a).unwrap();
        assert!(f.logins.logout(&a).unwrap());
        assert!(f.logins.get(&a).unwrap().is_none());
        assert!(!f.logins.settings().skip_cert_validation(&a).unwrap());
        assert_eq!(f.logins.default_service_url().unwrap(), None);
        assert!(!f.logins.logout(&a).unwrap());
        assert!(!f.logins.logout_default().unwrap());
    }
}
