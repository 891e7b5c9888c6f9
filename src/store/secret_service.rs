//! The OS keyring on Linux: the Secret Service (gnome-keyring, KWallet,
//! KeePassXC) through keyring-core and its zbus store.
//!
//! Items carry `service=tfx-auth` and `username=<normalised URL>`, so
//! `secret-tool lookup service tfx-auth username <url>` finds them and one
//! attribute search lists every login. Every call runs on the store's one
//! worker thread with a timeout (see `worker`) because a Secret Service that
//! stops answering must not hang the CLI; a locked collection is detected
//! before anything could ask to unlock it, since unlocking would need a GUI
//! prompt.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, TryLockError, mpsc};
use std::time::{Duration, Instant};

use keyring_core::api::CredentialStore;
use zeroize::Zeroizing;

mod session;

use session::{Probe, list_items, quick_read};

use super::SecretStore;
use super::worker::Worker;
use crate::error::{Cause, Error, Result};
use crate::secret::Secret;

/// What to do about a locked collection (the `KEYRING_LOCKED` message).
pub const UNLOCK_HINT: &str = "Unlock it (for example by logging in to the desktop session, or `gnome-keyring-daemon --unlock`) and try again.";

/// The `service` attribute of every item we own.
pub const SERVICE: &str = "tfx-auth";

pub struct SecretServiceStore {
    worker: Worker<Inner>,
    listed: Mutex<Listed>,
}

/// The secrets the last `list` read, each served once to a `get` of its key
/// within [`LISTED_TTL`]: `tfx-auth status` lists every login and then asks
/// for each one's credential. Dropped by every write of this store; a list
/// that a write overlapped keeps nothing.
#[derive(Default)]
struct Listed {
    secrets: HashMap<String, Secret>,
    at: Option<Instant>,
    writes: u64,
}

/// How long a listed secret may wait for its `get`.
const LISTED_TTL: Duration = Duration::from_secs(2);

/// The most a `get_now` may hold up its (JavaScript) thread; a slower answer
/// is dropped and asked again off that thread.
const NOW_LIMIT: Duration = Duration::from_millis(250);

struct Inner {
    /// keyring-core's store, connected on first use: a command that only
    /// reads its login never needs it (`quick_read`), and each connection
    /// costs a D-Bus handshake and a key exchange.
    store: OnceLock<Arc<CredentialStore>>,
    /// A second session, for the lock state and for reads that need no more
    /// than one search and one `GetSecret` (see `quick_read`). Encrypted
    /// like the store's own: secrets cross the bus on it.
    probe: Mutex<Probe>,
}

impl SecretServiceStore {
    /// Connects to the Secret Service on the session bus (connections kept
    /// for the life of the process; keyring-core's only once it is needed).
    ///
    /// # Errors
    /// `KEYRING_UNAVAILABLE` when there is no session bus, nothing owns
    /// `org.freedesktop.secrets`, it has no default collection, or it does not
    /// answer in time.
    pub fn open(env: &super::StoreEnv) -> Result<Self> {
        let timeout = env.keyring_timeout;
        let session_bus = env.session_bus;
        let inner = with_timeout(timeout, move || {
            let probe = Probe::connect(timeout).map_err(|e| Error::KeyringUnavailable {
                reason: no_secret_service(session_bus),
                source: Some(e),
            })?;
            // A Secret Service with no default collection (gnome-keyring started
            // but never set up, as over SSH) cannot store anything: say so now,
            // so that `select` falls back to the file instead of every call failing.
            let collection = probe.run(async |ss| ss.get_default_collection().await.map(|_| ()))?;
            if let Err(secret_service::Error::NoResult) = collection {
                return Err(Error::KeyringUnavailable {
                    reason: "the Secret Service has no default collection; create and unlock a login keyring (log in to a desktop session once, or run `gnome-keyring-daemon --replace --unlock`, type a password for a new login keyring and press Ctrl-D)".into(),
                    source: None,
                });
            }
            Ok(Inner {
                store: OnceLock::new(),
                probe: Mutex::new(probe),
            })
        })?;
        Ok(SecretServiceStore {
            worker: Worker::new(inner, read, timeout),
            listed: Mutex::default(),
        })
    }

    /// Runs `op` on the store's worker once the collection is known to be
    /// unlocked; `KEYRING_UNAVAILABLE` when the Secret Service stops answering.
    fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.worker.call(move |inner| {
            inner.ensure_unlocked()?;
            op(inner)
        })
    }
}

/// One read (`Worker::read` shares it between identical waiting reads). The
/// common case, one unlocked item, costs two D-Bus round trips (`quick_read`);
/// everything else takes the checked path: the lock probe first (two more),
/// then keyring-core's read with its duplicate handling.
fn read(inner: &Inner, key: &str) -> Result<Option<Secret>> {
    let probe = inner.probe.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(secret) = quick_read(&probe, key, probe.timeout())? {
        return Ok(Some(secret));
    }
    drop(probe);
    checked_read(inner, key)
}

/// The read of everything `quick_read` leaves: the lock probe, then
/// keyring-core's read with its duplicate handling.
fn checked_read(inner: &Inner, key: &str) -> Result<Option<Secret>> {
    inner.ensure_unlocked()?;
    match inner.entry(key)?.get_password() {
        Ok(secret) => Ok(Some(Zeroizing::new(secret))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(from_keyring(e)),
    }
}

fn with_timeout<T: Send + 'static>(
    timeout: Duration,
    op: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("tfx-auth-keyring".into())
        .spawn(move || {
            let _ = tx.send(op());
        })
        .map_err(|e| {
            Error::store(
                "cannot start a keyring worker thread",
                Some(Box::new(e) as Cause),
            )
        })?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => Err(Error::KeyringUnavailable {
            reason: format!(
                "the Secret Service did not answer within {} ms",
                timeout.as_millis()
            ),
            source: None,
        }),
    }
}

impl Inner {
    fn forget_items(&self) {
        self.probe
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget_items();
    }

    fn ensure_unlocked(&self) -> Result<()> {
        let probe = self.probe.lock().unwrap_or_else(|p| p.into_inner());
        let locked = probe.run(async |ss| {
            let collection = ss.get_default_collection().await.map_err(|e| match e {
                secret_service::Error::NoResult => Error::KeyringUnavailable {
                    reason: "the Secret Service has no default collection".into(),
                    source: Some(Box::new(e)),
                },
                other => unavailable("cannot read the default collection", other),
            })?;
            collection
                .is_locked()
                .await
                .map_err(|e| unavailable("cannot read the collection's lock state", e))
        })??;
        if locked {
            return Err(Error::KeyringLocked {
                hint: UNLOCK_HINT,
                source: None,
            });
        }
        Ok(())
    }

    fn store(&self) -> Result<&Arc<CredentialStore>> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let store: Arc<CredentialStore> =
            zbus_secret_service_keyring_store::Store::new().map_err(|e| {
                Error::KeyringUnavailable {
                    reason: format!("cannot connect to the Secret Service ({e})"),
                    source: Some(Box::new(e)),
                }
            })?;
        Ok(self.store.get_or_init(|| store))
    }

    fn entry(&self, key: &str) -> Result<keyring_core::Entry> {
        let label = format!("tfx-auth: {key}");
        let modifiers = HashMap::from([("label", label.as_str())]);
        self.store()?
            .build(SERVICE, key, Some(&modifiers))
            .map_err(from_keyring)
    }
}

impl SecretServiceStore {
    fn listed(&self) -> std::sync::MutexGuard<'_, Listed> {
        self.listed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A secret the last `list` read for `key`, once, while it is fresh.
    fn take_listed(&self, key: &str) -> Option<Secret> {
        let mut listed = self.listed();
        if listed.at.is_none_or(|at| at.elapsed() >= LISTED_TTL) {
            listed.secrets.clear();
            return None;
        }
        listed.secrets.remove(key)
    }

    fn forget_listed(&self) {
        let mut listed = self.listed();
        listed.secrets.clear();
        listed.writes += 1;
    }

    /// A `call` that writes: the listed secrets and the items read are
    /// dropped before it and after it, so a read or list running on either
    /// side of it keeps nothing stale.
    fn write<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.forget_listed();
        let written = self.call(|inner| {
            inner.forget_items();
            op(inner)
        });
        self.forget_listed();
        self.worker.context().forget_items();
        written
    }

    /// The quick read on the caller's own thread, when the keyring is not in
    /// use: no hop to the worker and back (BENCHMARKS.md). `None` leaves the
    /// read to the worker: another call is queued or running, or the caller
    /// is on a runtime that cannot block.
    fn read_here(&self, key: &str, limit: Option<Duration>) -> Option<Result<Option<Secret>>> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        if !self.worker.idle() {
            return None;
        }
        let probe = match self.worker.context().probe.try_lock() {
            Ok(probe) => probe,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let limit = limit.unwrap_or(probe.timeout());
        let read = || {
            std::panic::catch_unwind(AssertUnwindSafe(|| quick_read(&probe, key, limit)))
                .unwrap_or_else(|_| Err(Error::store("the keyring read failed", None)))
        };
        // Store calls are blocking; on tokio's threads they run in block_in_place.
        let found = match Handle::try_current().map(|h| h.runtime_flavor()) {
            Err(_) => read(),
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
            Ok(_) => return None,
        };
        Some(found)
    }
}

impl SecretStore for SecretServiceStore {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        if let Some(secret) = self.take_listed(key) {
            return Ok(Some(secret));
        }
        match self.read_here(key, None) {
            // No quick answer: the checked path, on the worker (keyring-core has no timeout).
            Some(Ok(None)) => {
                let key = key.to_string();
                self.worker.call(move |inner| checked_read(inner, &key))
            }
            Some(answer) => answer,
            None => self.worker.read(key),
        }
    }

    /// The quick read on this thread (the JavaScript thread: see
    /// `getCredential` in binding.js), within [`NOW_LIMIT`]; anything else,
    /// a keyring in use or slow, is left to `get`.
    fn get_now(&self, key: &str) -> Option<Result<Option<Secret>>> {
        if let Some(secret) = self.take_listed(key) {
            return Some(Ok(Some(secret)));
        }
        match self.read_here(key, Some(NOW_LIMIT))? {
            Ok(Some(secret)) => Some(Ok(Some(secret))),
            Err(e @ Error::KeyringLocked { .. }) => Some(Err(e)),
            Ok(None) | Err(_) => None,
        }
    }

    fn set(&self, key: &str, secret: &str) -> Result<()> {
        let key = key.to_string();
        let secret = Zeroizing::new(secret.to_string());
        self.write(move |inner| {
            let entry = inner.entry(&key)?;
            match entry.set_password(&secret) {
                Ok(()) => Ok(()),
                // Duplicates (made by other tools): replace them all with one item.
                Err(keyring_core::Error::Ambiguous(items)) => {
                    for item in items {
                        item.delete_credential().map_err(from_keyring)?;
                    }
                    entry.set_password(&secret).map_err(from_keyring)
                }
                Err(e) => Err(from_keyring(e)),
            }
        })
    }

    fn delete(&self, key: &str) -> Result<bool> {
        let key = key.to_string();
        self.write(move |inner| match inner.entry(&key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(keyring_core::Error::Ambiguous(items)) => {
                for item in items {
                    item.delete_credential().map_err(from_keyring)?;
                }
                Ok(true)
            }
            Err(e) => Err(from_keyring(e)),
        })
    }

    /// One search on the probe's session, then every item's attributes and
    /// secret asked at once: the replies come back pipelined on the one
    /// connection, instead of several round trips per item one after another.
    fn list(&self) -> Result<Vec<(String, Secret)>> {
        let writes = self.listed().writes;
        let logins = self.call(|inner| {
            let probe = inner.probe.lock().unwrap_or_else(|p| p.into_inner());
            probe.run(async |ss| list_items(ss).await)?
        })?;
        let mut listed = self.listed();
        if listed.writes == writes {
            // A key listed twice (duplicates) is left to the checked read to report.
            let mut secrets = HashMap::with_capacity(logins.len());
            for (key, secret) in &logins {
                secrets
                    .entry(key.clone())
                    .and_modify(|s: &mut Option<Secret>| *s = None)
                    .or_insert_with(|| Some(secret.clone()));
            }
            listed.secrets = secrets
                .into_iter()
                .filter_map(|(key, secret)| Some((key, secret?)))
                .collect();
            listed.at = Some(Instant::now());
        }
        Ok(logins)
    }
}

/// Why no Secret Service could be reached, in words (D-Bus's own error stays in
/// the error's `source`, out of the message).
fn no_secret_service(session_bus: bool) -> String {
    if session_bus {
        "no Secret Service (gnome-keyring, KWallet, KeePassXC) answered on the D-Bus session".into()
    } else {
        "no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set, as over SSH or in a container"
            .into()
    }
}

/// `what` failed; D-Bus's own words stay in `source`, out of the message.
fn unavailable(what: &str, err: secret_service::Error) -> Error {
    Error::KeyringUnavailable {
        reason: what.to_string(),
        source: Some(Box::new(err)),
    }
}

fn from_keyring(err: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
    match err {
        K::NoStorageAccess(cause) => Error::KeyringLocked {
            hint: UNLOCK_HINT,
            source: Some(cause),
        },
        K::PlatformFailure(cause) => Error::KeyringUnavailable {
            reason: format!("the Secret Service call failed ({cause})"),
            source: Some(cause),
        },
        K::BadEncoding(mut bytes) => {
            zeroize::Zeroize::zeroize(&mut bytes);
            Error::store(
                "a keyring item for tfx-auth is not UTF-8 text; remove it with secret-tool clear",
                None,
            )
        }
        K::Ambiguous(_) => Error::store(
            "several keyring items match this login; remove the duplicates with `secret-tool clear service tfx-auth username <url>`",
            None,
        ),
        other => Error::store(format!("keyring error ({other})"), None),
    }
}

#[cfg(test)]
mod tests;
