//! A [`SecretStore`] over a keyring-core credential store: the part the Windows
//! Credential Manager and the macOS Keychain share. A [`Naming`] says how a key
//! becomes a platform item and back, and what a platform error means; the rest
//! (not-found as `Ok(None)`, deleting twice, one search for `list`) is here once.
//!
//! These calls have no timeout, unlike the Secret Service's: they are local
//! library calls, not messages to a daemon that may stop answering, and a macOS
//! access prompt must be able to wait for the person in front of it.

use std::sync::{Arc, Mutex, MutexGuard};

use keyring_core::Entry;
use keyring_core::api::CredentialStore;
use zeroize::Zeroizing;

use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// How one platform names our items and reads its own errors.
pub trait Naming: Send + Sync {
    /// The entry that holds the secret under `key`.
    fn entry(&self, store: &CredentialStore, key: &str) -> keyring_core::Result<Entry>;
    /// Every item that may be ours, found by one search.
    fn search(&self, store: &CredentialStore) -> keyring_core::Result<Vec<Entry>>;
    /// The key a found item holds; `None` for an item that is not ours.
    fn key_of(&self, found: &Entry) -> keyring_core::Result<Option<String>>;
    /// What a platform error (anything but "no such item") means for the caller.
    fn error(&self, err: keyring_core::Error) -> Error;
}

pub struct NativeStore<N: Naming> {
    store: Arc<CredentialStore>,
    naming: N,
    /// One call at a time: the Windows store does not keep calls on one item
    /// from several threads in order (its docs), and Wine's is not thread-safe.
    serial: Mutex<()>,
}

impl<N: Naming> NativeStore<N> {
    pub fn new(store: Arc<CredentialStore>, naming: N) -> Self {
        NativeStore {
            store,
            naming,
            serial: Mutex::new(()),
        }
    }

    fn serial(&self) -> MutexGuard<'_, ()> {
        self.serial.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn entry(&self, key: &str) -> Result<Entry> {
        self.naming
            .entry(self.store.as_ref(), key)
            .map_err(|e| self.naming.error(e))
    }
}

impl<N: Naming> SecretStore for NativeStore<N> {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        let _serial = self.serial();
        match self.entry(key)?.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.naming.error(e)),
        }
    }

    fn set(&self, key: &str, secret: &str) -> Result<()> {
        let _serial = self.serial();
        self.entry(key)?
            .set_password(secret)
            .map_err(|e| self.naming.error(e))
    }

    fn delete(&self, key: &str) -> Result<bool> {
        let _serial = self.serial();
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.naming.error(e)),
        }
    }

    fn list(&self) -> Result<Vec<(String, Secret)>> {
        let _serial = self.serial();
        let found = self
            .naming
            .search(self.store.as_ref())
            .map_err(|e| self.naming.error(e))?;
        let mut logins = Vec::with_capacity(found.len());
        for entry in found {
            let key = match self.naming.key_of(&entry) {
                Ok(Some(key)) => key,
                Ok(None) | Err(keyring_core::Error::NoEntry) => continue,
                Err(e) => return Err(self.naming.error(e)),
            };
            match entry.get_password() {
                Ok(secret) => logins.push((key, Zeroizing::new(secret))),
                // Deleted between the search and the read.
                Err(keyring_core::Error::NoEntry) => {}
                Err(e) => return Err(self.naming.error(e)),
            }
        }
        Ok(logins)
    }
}

/// The errors every platform shares; `what` names the platform store.
pub fn common_error(what: &str, err: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
    match err {
        K::BadEncoding(mut bytes) => {
            zeroize::Zeroize::zeroize(&mut bytes);
            Error::store(
                format!(
                    "an item for tfx-auth in the {what} is not UTF-8 text; log out with `tfx-auth logout <url>` and log in again"
                ),
                None,
            )
        }
        K::NoStorageAccess(cause) | K::PlatformFailure(cause) => Error::KeyringUnavailable {
            reason: format!("the {what} call failed ({cause})"),
            source: Some(cause),
        },
        other => Error::store(format!("{what} error ({other})"), None),
    }
}
