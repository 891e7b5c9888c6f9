//! Logins: the chosen secret store, the non-secret settings and tfx-cli's
//! plaintext leftovers, as one thing. Every storage decision of the JavaScript
//! API lives here, so `cargo test` covers it without Node.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::auth::legacy::LegacyDir;
use crate::auth::settings::Settings;
use crate::credential::{AuthType, Credential};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::secret::Secret;
use crate::service_url::ServiceUrl;
use crate::store::{self, SecretStore, StorageInfo, StoreEnv};

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

pub struct Logins {
    pub(super) store: Arc<dyn SecretStore>,
    info: StorageInfo,
    pub(super) settings: Settings,
    pub(super) legacy: LegacyDir,
    /// Folder of the per-login lock files (see [`Logins::lock`]).
    locks: PathBuf,
    /// One secret read ahead by [`Logins::prefetch`], used once by the next `get`.
    prefetched: Mutex<ReadAhead>,
}

/// The read-ahead slot, and how many login writes this process has made:
/// a read that began before a write is stale, and is dropped.
#[derive(Default)]
struct ReadAhead {
    entry: Option<Prefetched>,
    writes: u64,
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
    /// `warn` receives the store's warning (a fallback to the file) once, when
    /// the first secret is read or written: a command that never touches the
    /// store (its credential came from a flag or the environment) says nothing.
    pub fn open(env: &StoreEnv, paths: &Paths, warn: fn(&str)) -> Self {
        let selected = store::select(env, paths.config_dir.clone());
        let store = match selected.info.warning.clone() {
            Some(warning) => Arc::new(WarnOnFirstUse {
                inner: selected.store,
                warning,
                warned: Once::new(),
                warn,
            }) as Arc<dyn SecretStore>,
            None => selected.store,
        };
        Self::with_store(store, selected.info, paths)
    }

    pub fn with_store(store: Arc<dyn SecretStore>, info: StorageInfo, paths: &Paths) -> Self {
        Logins {
            store,
            info,
            settings: Settings::new(&paths.config_dir),
            legacy: LegacyDir::new(&paths.home),
            locks: paths.config_dir.join("locks"),
            prefetched: Mutex::default(),
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
        let writes_before = self.read_ahead().writes;
        if let Ok(Some(secret)) = self.store.get(url.key()) {
            let mut slot = self.read_ahead();
            // A save, logout or renewal meanwhile: what was read may be gone.
            if slot.writes == writes_before {
                slot.entry = Some(Prefetched {
                    key: url.key().to_string(),
                    secret,
                    at: Instant::now(),
                });
            }
        }
    }

    fn read_ahead(&self) -> std::sync::MutexGuard<'_, ReadAhead> {
        self.prefetched.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_prefetched(&self, key: &str) -> Option<Secret> {
        match self.read_ahead().entry.take() {
            Some(p) if p.key == key && p.at.elapsed() < PREFETCH_TTL => Some(p.secret),
            _ => None,
        }
    }

    /// Drops the read-ahead, after every write of a login (under its lock,
    /// which the argument proves): the next `get` reads the store again.
    fn forget_read_ahead(&self, _lock: &LoginLock) {
        let mut slot = self.read_ahead();
        slot.entry = None;
        slot.writes += 1;
    }

    /// Writes `secret` for `key` under its login's lock; drops the read-ahead.
    pub(super) fn write_secret(&self, lock: &LoginLock, key: &str, secret: &str) -> Result<()> {
        let written = self.store.set(key, secret);
        self.forget_read_ahead(lock);
        written
    }

    /// Deletes `key`'s secret under its login's lock; drops the read-ahead.
    fn delete_secret(&self, lock: &LoginLock, key: &str) -> Result<bool> {
        let deleted = self.store.delete(key);
        self.forget_read_ahead(lock);
        deleted
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
            return parse_stored(url, &stored).map(Some);
        }
        match self.legacy.find(url)? {
            Some((path, credential)) => {
                let lock = self.lock(url)?;
                self.move_into_store(&lock, url, &credential, &path)?;
                Ok(Some(credential))
            }
            None => Ok(None),
        }
    }

    /// [`get`](Self::get)'s answer when the store has the secret at hand
    /// (`SecretStore::get_now`); `None`: call `get` (off this thread). A
    /// login not in the store (it may be in tfx-cli's plaintext files) is `None`.
    pub fn get_now(&self, url: &ServiceUrl) -> Option<Result<Credential>> {
        let stored = match self.take_prefetched(url.key()) {
            Some(secret) => Ok(Some(secret)),
            None => self.store.get_now(url.key())?,
        };
        match stored {
            Ok(Some(stored)) => Some(parse_stored(url, &stored)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// What the store holds for `url`, nothing else (no read-ahead, no
    /// migration): for reads under the login's lock.
    pub fn stored(&self, _lock: &LoginLock, url: &ServiceUrl) -> Result<Option<Credential>> {
        self.store
            .get(url.key())?
            .map(|stored| parse_stored(url, &stored))
            .transpose()
    }

    /// Holds `url`'s login still against every other tfx-auth process and
    /// thread: every write of a login takes it, so a renewal that read the
    /// login before a logout or a new login can tell and keep what is there.
    pub fn lock(&self, url: &ServiceUrl) -> Result<LoginLock> {
        // One file per login; a name shared by two URLs only serialises them.
        let name: String = url
            .key()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(120)
            .collect();
        let held = fsutil::lock_exclusive(&self.locks.join(format!("{name}.lock")))?;
        Ok(LoginLock { _held: held })
    }

    /// Stores `credential` for `url` and remembers the URL as typed, keeping
    /// its certificate choice (the JavaScript `storeCredential`).
    pub fn save(&self, url: &ServiceUrl, credential: &Credential) -> Result<()> {
        self.save_login(url, credential, None, false)
    }

    /// Stores `credential` for `url` with its settings: the certificate
    /// choice (`None` keeps it) and, when asked, the URL as the default. On any
    /// failure the earlier login is left as it was: settings are written in
    /// one step after the secret, and a failed settings write puts the earlier
    /// secret back.
    pub fn save_login(
        &self,
        url: &ServiceUrl,
        credential: &Credential,
        skip_cert_validation: Option<bool>,
        make_default: bool,
    ) -> Result<()> {
        // Unreadable settings and an unusable store fail here, before the
        // secret is touched or a lock file made.
        self.settings.skip_cert_validation(url)?;
        self.store.get(url.key())?;
        let lock = self.lock(url)?;
        let previous = self.store.get(url.key())?;
        self.write_secret(&lock, url.key(), &credential.to_stored())?;
        let Err(err) = self
            .settings
            .record_login(url, skip_cert_validation, make_default)
        else {
            return Ok(());
        };
        let restored = match &previous {
            Some(secret) => self.write_secret(&lock, url.key(), secret),
            None => self.delete_secret(&lock, url.key()).map(drop),
        };
        match restored {
            Ok(()) => Err(err),
            Err(restore) => Err(Error::store(
                format!("{err}; the earlier login for {url} could not be put back ({restore})"),
                None,
            )),
        }
    }

    /// Writes a renewed credential for `url` only if the store still holds
    /// `read` (compare-and-swap under the login's lock): a logout or a new
    /// login made meanwhile wins. Returns whether it wrote.
    pub fn replace_if_unchanged(
        &self,
        lock: &LoginLock,
        url: &ServiceUrl,
        read: &Credential,
        renewed: &Credential,
    ) -> Result<bool> {
        if self.stored(lock, url)?.as_ref() != Some(read) {
            return Ok(false);
        }
        self.write_secret(lock, url.key(), &renewed.to_stored())?;
        Ok(true)
    }

    /// Removes the credential (the URL's other settings stay); the default no
    /// longer points at it. `Ok(false)` when there was none.
    pub fn delete(&self, url: &ServiceUrl) -> Result<bool> {
        let lock = self.lock(url)?;
        let removed = self.delete_secret(&lock, url.key())?;
        self.settings.clear_default_if(url)?;
        Ok(removed)
    }

    /// Removes the credential, the URL's settings and the default if it
    /// pointed there, and any plaintext tfx-cli login for it.
    pub fn logout(&self, url: &ServiceUrl) -> Result<bool> {
        let lock = self.lock(url)?;
        let mut removed = self.delete_secret(&lock, url.key())?;
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
            let deleted = match ServiceUrl::parse(&key) {
                Ok(url) => {
                    let lock = self.lock(&url)?;
                    self.delete_secret(&lock, &key)?
                }
                // Not a key of ours to lock (another tool's item): remove it as found
                // (nothing is read ahead for a key that is no URL).
                Err(_) => self.store.delete(&key)?,
            };
            if deleted {
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
}

/// A store whose first read or write first says the store's warning.
struct WarnOnFirstUse {
    inner: Arc<dyn SecretStore>,
    warning: String,
    warned: Once,
    warn: fn(&str),
}

impl WarnOnFirstUse {
    fn used(&self) -> &dyn SecretStore {
        self.warned.call_once(|| (self.warn)(&self.warning));
        self.inner.as_ref()
    }
}

impl SecretStore for WarnOnFirstUse {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.used().get(key)
    }
    fn set(&self, key: &str, secret: &str) -> Result<()> {
        self.used().set(key, secret)
    }
    fn delete(&self, key: &str) -> Result<bool> {
        self.used().delete(key)
    }
    fn list(&self) -> Result<Vec<(String, Secret)>> {
        self.used().list()
    }
    fn get_now(&self, key: &str) -> Option<Result<Option<Secret>>> {
        self.used().get_now(key)
    }
}

/// Proof that a login's lock is held ([`Logins::lock`]); released on drop.
pub struct LoginLock {
    _held: fsutil::LockGuard,
}

fn parse_stored(url: &ServiceUrl, stored: &str) -> Result<Credential> {
    Credential::from_stored(stored).map_err(|e| {
        Error::store(
            format!("the stored login for {url} cannot be read ({e}); log in again"),
            None,
        )
    })
}

#[cfg(test)]
impl Logins {
    /// Replaces the stored secret of `url` alone, as a writer that takes no
    /// lock would (another tool, an older tfx-auth).
    pub(crate) fn replace(&self, url: &ServiceUrl, credential: &Credential) -> Result<()> {
        self.store.set(url.key(), &credential.to_stored())
    }

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

/// Logins over an in-memory store in a throw-away home and config folder,
/// for the tests of the policy layer.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::store::memory::MemoryStore;
    use std::fs;
    use std::path::Path;

    pub struct Fixture {
        pub _dir: tempfile::TempDir,
        pub paths: Paths,
        pub store: Arc<MemoryStore>,
        pub logins: Logins,
    }

    pub fn fixture() -> Fixture {
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

    pub fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    /// A login as stock tfx-cli leaves it: `~/.tfx/<escaped URL>/.allusers`.
    pub fn write_tfx_login(home: &Path, typed: &str, stored: &str) -> PathBuf {
        let dir = home
            .join(".tfx")
            .join(crate::service_url::legacy_escape(typed));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(".allusers"), stored).unwrap();
        dir.join(".allusers")
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Fixture, fixture, url, write_tfx_login};
    use super::*;
    use std::fs;

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
        f.store.fail_next(Error::KeyringLocked {
            hint: "test",
            source: None,
        });
        assert_eq!(f.logins.get(&a).unwrap().unwrap().secret(), "tok-123456");
        // ...once: the failure is still queued for the next real store call.
        assert_eq!(f.logins.get(&a).unwrap_err().code(), "KEYRING_LOCKED");
    }

    #[test]
    fn every_write_of_a_login_drops_its_read_ahead() {
        let f = fixture();
        let a = url("https://dev.azure.com/Org");
        let old = Credential::pat("tok-old-123").unwrap();
        let secret = |f: &Fixture| f.logins.get(&a).unwrap().map(|c| c.secret().to_string());
        type Write = fn(&Logins, &ServiceUrl);
        let writes: [(&str, Write, Option<&str>); 5] = [
            ("logout", |l, u| assert!(l.logout(u).unwrap()), None),
            ("delete", |l, u| assert!(l.delete(u).unwrap()), None),
            (
                "logout_all",
                |l, _| assert_eq!(l.logout_all().unwrap(), 1),
                None,
            ),
            (
                "save",
                |l, u| l.save(u, &Credential::pat("tok-new-456").unwrap()).unwrap(),
                Some("tok-new-456"),
            ),
            (
                "renewal",
                |l, u| {
                    let lock = l.lock(u).unwrap();
                    let read = l.stored(&lock, u).unwrap().unwrap();
                    let new = Credential::pat("tok-new-456").unwrap();
                    assert!(l.replace_if_unchanged(&lock, u, &read, &new).unwrap());
                },
                Some("tok-new-456"),
            ),
        ];
        for (what, write, expected) in writes {
            f.logins.save(&a, &old).unwrap();
            f.logins.prefetch(Some(a.as_str()));
            write(&f.logins, &a);
            assert_eq!(secret(&f).as_deref(), expected, "after {what}");
        }
    }

    #[test]
    fn a_login_that_fails_on_its_settings_leaves_the_earlier_login_as_it_was() {
        let f = fixture();
        let a = url("https://dev.azure.com/Org");
        let pat = |t: &str| Credential::pat(t).unwrap();
        f.logins
            .save_login(&a, &pat("old-token"), Some(true), true)
            .unwrap();
        let settings_file = f.paths.config_dir.join("settings.json");
        let settings_before = fs::read(&settings_file).unwrap();

        // Settings that cannot be read: nothing is written.
        fs::write(&settings_file, "{not json").unwrap();
        let err = f
            .logins
            .save_login(&a, &pat("new-token"), Some(false), true)
            .unwrap_err();
        assert_eq!(err.code(), "STORE_ERROR");
        assert_eq!(
            f.store.get(a.key()).unwrap().unwrap().as_str(),
            "pat:old-token"
        );

        // Settings that fail only when written (after the secret): it is put back.
        fs::write(&settings_file, &settings_before).unwrap();
        let lock = f.paths.config_dir.join("settings.json.lock");
        fs::remove_file(&lock).unwrap();
        fs::create_dir_all(&lock).unwrap();
        for target in [&a, &url("https://dev.azure.com/fresh")] {
            let err = f
                .logins
                .save_login(target, &pat("new-token"), Some(false), true)
                .unwrap_err();
            assert_eq!(err.code(), "STORE_ERROR");
        }
        assert_eq!(
            f.store.get(a.key()).unwrap().unwrap().as_str(),
            "pat:old-token"
        );
        assert!(
            f.store
                .get("https://dev.azure.com/fresh")
                .unwrap()
                .is_none()
        );
        assert_eq!(fs::read(&settings_file).unwrap(), settings_before);
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
    fn deleting_the_default_login_leaves_no_default_pointing_at_nothing() {
        let f = fixture();
        let a = url("https://dev.azure.com/Org");
        f.logins
            .save_login(
                &a,
                &Credential::pat("tok-123456").unwrap(),
                Some(true),
                true,
            )
            .unwrap();
        assert!(f.logins.delete(&url("https://dev.azure.com/org/")).unwrap());
        assert_eq!(f.logins.default_service_url().unwrap(), None);
        assert!(
            f.logins.settings().skip_cert_validation(&a).unwrap(),
            "only the secret and the default go"
        );
        assert!(!f.logins.delete(&a).unwrap());
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
