//! Where secrets live. One small trait with the OS keyring, a private file and
//! an in-memory test double behind it. The store is chosen once per process
//! ([`select`]) and can always be asked what it chose and why ([`StorageInfo`]).
//!
//! Which OS keyring each platform uses is one table, [`OS_KEYRINGS`]; each
//! backend has its own module, named after it, and only those modules and the
//! table know about platforms.
//!
//! A store keeps one secret string (tfx-cli's `pat:`/`basic:` form) per key
//! (the normalised service URL); it knows nothing about credentials.

pub mod chunked;
pub mod credential_manager;
pub mod file;
pub mod keychain;
#[cfg(test)]
pub mod memory;
pub mod native;
#[cfg(target_os = "linux")]
pub mod secret_service;
#[cfg(any(target_os = "linux", test))]
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The four operations every store provides.
pub trait SecretStore: Send + Sync {
    /// The secret under `key`; `Ok(None)` when there is none.
    fn get(&self, key: &str) -> Result<Option<Secret>>;
    /// Creates or replaces the secret under `key`.
    fn set(&self, key: &str, secret: &str) -> Result<()>;
    /// Removes the secret under `key`; `Ok(false)` when there was none.
    fn delete(&self, key: &str) -> Result<bool>;
    /// Every key with its secret, found by one search.
    fn list(&self) -> Result<Vec<(String, Secret)>>;
    /// The secret under `key` when this store can find it at once, briefly
    /// blocking this thread; `None`: ask [`get`](Self::get), off this thread.
    fn get_now(&self, _key: &str) -> Option<Result<Option<Secret>>> {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Keyring,
    File,
    /// The in-memory test double.
    #[cfg(test)]
    Memory,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
            #[cfg(test)]
            Backend::Memory => "memory",
        }
    }
}

/// What store is in use, whether it survives a reboot, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageInfo {
    pub backend: Backend,
    pub persistent: bool,
    pub location: String,
    pub reason: String,
    /// Set when the choice deserves a warning (an automatic fallback).
    pub warning: Option<String>,
}

/// What the environment says about stores: the choice (`TFX_AUTH_STORE`), the
/// time one keyring call may take (`TFX_AUTH_KEYRING_TIMEOUT_MS`), and whether
/// a D-Bus session is named at all (`DBUS_SESSION_BUS_ADDRESS`, Linux).
#[derive(Debug, Clone)]
pub struct StoreEnv {
    pub choice: StoreChoice,
    pub keyring_timeout: std::time::Duration,
    pub session_bus: bool,
}

impl StoreEnv {
    /// # Errors
    /// `STORE_ERROR` for a `TFX_AUTH_STORE` that is not `keyring`, `file` or `auto`.
    pub fn read(env: &crate::environment::Environment) -> Result<Self> {
        let timeout = env
            .get("TFX_AUTH_KEYRING_TIMEOUT_MS")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_KEYRING_TIMEOUT, std::time::Duration::from_millis);
        Ok(StoreEnv {
            choice: StoreChoice::from_env_value(env.get("TFX_AUTH_STORE").as_deref())?,
            keyring_timeout: timeout,
            session_bus: env.get_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        })
    }
}

impl Default for StoreEnv {
    fn default() -> Self {
        StoreEnv {
            choice: StoreChoice::Auto,
            keyring_timeout: DEFAULT_KEYRING_TIMEOUT,
            session_bus: true,
        }
    }
}

/// Default time a single keyring call may take.
pub const DEFAULT_KEYRING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How the user asked to choose (`TFX_AUTH_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChoice {
    Auto,
    Keyring,
    File,
}

impl StoreChoice {
    /// Reads `TFX_AUTH_STORE` (`keyring`, `file`, or unset/`auto`).
    pub fn from_env_value(value: Option<&str>) -> Result<Self> {
        match value.map(str::trim) {
            None | Some("") | Some("auto") => Ok(StoreChoice::Auto),
            Some("keyring") => Ok(StoreChoice::Keyring),
            Some("file") => Ok(StoreChoice::File),
            Some(other) => Err(Error::store(
                format!("TFX_AUTH_STORE must be `keyring` or `file`, not `{other}`"),
                None,
            )),
        }
    }
}

/// The outcome of choosing a store: a store, or the reason none can be used.
pub struct Selected {
    pub store: Arc<dyn SecretStore>,
    pub info: StorageInfo,
}

/// Chooses the store once: the OS keyring when it answers ([`OS_KEYRINGS`]),
/// otherwise (unless pinned to the keyring) the private file in `config_dir`.
/// When pinned to a keyring that does not answer, the result is an
/// [`Unavailable`] store whose every call says why.
pub fn select(env: &StoreEnv, config_dir: PathBuf) -> Selected {
    let file_store = |reason: String, warning: Option<String>| {
        let store = file::FileStore::new(config_dir.join(file::FILE_NAME));
        let info = StorageInfo {
            backend: Backend::File,
            persistent: true,
            location: store.path().display().to_string(),
            reason,
            warning,
        };
        Selected {
            store: Arc::new(store),
            info,
        }
    };
    match env.choice {
        StoreChoice::File => file_store("pinned by TFX_AUTH_STORE=file".into(), None),
        StoreChoice::Keyring => match open_keyring(env, "pinned by TFX_AUTH_STORE=keyring") {
            Ok(selected) => selected,
            Err(err) => {
                let reason = format!(
                    "pinned by TFX_AUTH_STORE=keyring, but {}",
                    short_reason(&err)
                );
                Selected {
                    store: Arc::new(Unavailable {
                        reason: reason.clone(),
                    }),
                    info: StorageInfo {
                        backend: Backend::Keyring,
                        persistent: false,
                        location: "none".into(),
                        reason,
                        warning: None,
                    },
                }
            }
        },
        StoreChoice::Auto => match open_keyring(env, "the OS keyring answered") {
            Ok(selected) => selected,
            Err(err) => {
                let reason = format!("no OS keyring ({})", short_reason(&err));
                let location = config_dir.join(file::FILE_NAME);
                let warning = format!(
                    "tfx-auth: {reason}; storing credentials in {} (mode 0600). Set TFX_AUTH_STORE=file to silence this. The file keeps them from other users, not from programs running as you, root or backups; for an OS keyring see the README's \"Headless Linux, WSL, CI\".",
                    location.display()
                );
                file_store(reason, Some(warning))
            }
        },
    }
}

fn short_reason(err: &Error) -> String {
    match err {
        Error::KeyringUnavailable { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// One platform's OS keyring: how to open it and what to tell the user.
pub struct OsKeyring {
    /// Connects, or says why there is no keyring to use (`KEYRING_UNAVAILABLE`).
    pub open: fn(&StoreEnv) -> Result<Arc<dyn SecretStore>>,
    /// `storageInfo().location`.
    pub location: &'static str,
}

/// The OS keyring of each platform, tried first unless `TFX_AUTH_STORE=file`;
/// where none answers (or on a platform not listed) logins go to the file, with
/// a warning. Never kernel keyutils: it forgets everything at reboot.
pub const OS_KEYRINGS: &[OsKeyring] = &[
    #[cfg(target_os = "windows")]
    OsKeyring {
        open: credential_manager::open,
        location: credential_manager::LOCATION,
    },
    #[cfg(target_os = "macos")]
    OsKeyring {
        open: keychain::open,
        location: keychain::LOCATION,
    },
    #[cfg(target_os = "linux")]
    OsKeyring {
        open: |env| Ok(Arc::new(secret_service::SecretServiceStore::open(env)?)),
        location: "Secret Service (D-Bus org.freedesktop.secrets), attribute service=tfx-auth",
    },
];

fn open_keyring(env: &StoreEnv, reason: &str) -> Result<Selected> {
    let Some(keyring) = OS_KEYRINGS.first() else {
        return Err(Error::KeyringUnavailable {
            reason: "this build has no keyring store for this platform".into(),
            source: None,
        });
    };
    let store = (keyring.open)(env)?;
    let info = StorageInfo {
        backend: Backend::Keyring,
        persistent: true,
        location: keyring.location.into(),
        reason: reason.into(),
        warning: None,
    };
    Ok(Selected { store, info })
}

/// A store that could not be opened: every call reports why.
pub struct Unavailable {
    pub reason: String,
}

impl Unavailable {
    fn err(&self) -> Error {
        Error::KeyringUnavailable {
            reason: self.reason.clone(),
            source: None,
        }
    }
}

impl SecretStore for Unavailable {
    fn get(&self, _key: &str) -> Result<Option<Secret>> {
        Err(self.err())
    }
    fn set(&self, _key: &str, _secret: &str) -> Result<()> {
        Err(self.err())
    }
    fn delete(&self, _key: &str) -> Result<bool> {
        Err(self.err())
    }
    fn list(&self) -> Result<Vec<(String, Secret)>> {
        Err(self.err())
    }
}

#[cfg(test)]
pub(crate) mod contract {
    //! One behaviour suite run against every store.
    use super::SecretStore;

    pub fn run(store: &dyn SecretStore, prefix: &str) {
        let a = format!("{prefix}/a");
        let b = format!("{prefix}/b");
        assert!(store.get(&a).unwrap().is_none());
        store.set(&a, "pat:one").unwrap();
        store.set(&b, "basic:fabfiber\\peter:pä:ss").unwrap();
        assert_eq!(store.get(&a).unwrap().unwrap().as_str(), "pat:one");
        store.set(&a, "pat:two").unwrap();
        assert_eq!(store.get(&a).unwrap().unwrap().as_str(), "pat:two");
        let mut listed: Vec<String> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with(prefix))
            .collect();
        listed.sort();
        assert_eq!(listed, vec![a.clone(), b.clone()]);
        assert!(store.delete(&a).unwrap());
        assert!(!store.delete(&a).unwrap());
        assert!(store.get(&a).unwrap().is_none());
        assert_eq!(
            store.get(&b).unwrap().unwrap().as_str(),
            "basic:fabfiber\\peter:pä:ss"
        );
        assert!(store.delete(&b).unwrap());
    }
}
