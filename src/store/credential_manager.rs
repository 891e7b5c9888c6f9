//! The OS keyring on Windows: Credential Manager, through keyring-core's
//! windows-native store.
//!
//! Each login is a generic credential whose target name is
//! `tfx-auth:<normalised URL>`, which is what `cmdkey /list` and the Credential
//! Manager window show; one enumeration lists them all. A credential blob holds
//! at most 2,560 bytes of UTF-16, less than an Entra login, so the store is
//! wrapped in [`ChunkedStore`] (its parts are `tfx-auth:<url>#part-…`).
//!
//! Persistence is `Local` ("local computer"), not the crate's default
//! `Enterprise`: an Enterprise credential roams with a roaming profile to every
//! machine the account logs on to, copying a bearer token (a PAT, an Entra
//! refresh token) to places the person who ran `tfx login` never chose. Logins
//! made here stay here and survive reboots.

use std::collections::HashMap;

use keyring_core::Entry;
use keyring_core::api::CredentialStore;

use super::native::{Naming, common_error};
use crate::error::Error;

/// Every target name we own starts with this.
pub const TARGET_PREFIX: &str = "tfx-auth:";

/// What `storageInfo().location` says.
pub const LOCATION: &str =
    "Windows Credential Manager, generic credentials tfx-auth:<url> (persistence: local computer)";

/// The `persistence` modifier of the store crate (see the module docs for why).
const PERSISTENCE: &str = "Local";

/// The target name of the credential that holds `key`.
pub fn target_name(key: &str) -> String {
    format!("{TARGET_PREFIX}{key}")
}

/// The key a target name holds; `None` when the credential is not ours.
pub fn key_of_target(target: &str) -> Option<&str> {
    target.strip_prefix(TARGET_PREFIX).filter(|k| !k.is_empty())
}

pub struct CredentialManager;

impl Naming for CredentialManager {
    fn entry(&self, store: &CredentialStore, key: &str) -> keyring_core::Result<Entry> {
        let target = target_name(key);
        let modifiers = HashMap::from([("target", target.as_str()), ("persistence", PERSISTENCE)]);
        store.build("tfx-auth", key, Some(&modifiers))
    }

    fn search(&self, store: &CredentialStore) -> keyring_core::Result<Vec<Entry>> {
        let pattern = format!("^{}", regex_escape(TARGET_PREFIX));
        store.search(&HashMap::from([("pattern", pattern.as_str())]))
    }

    fn key_of(&self, found: &Entry) -> keyring_core::Result<Option<String>> {
        let attributes = found.get_attributes()?;
        Ok(attributes
            .get("target_name")
            .and_then(|t| key_of_target(t))
            .map(str::to_string))
    }

    fn error(&self, err: keyring_core::Error) -> Error {
        match err {
            // ERROR_NO_SUCH_LOGON_SESSION: a logon without a user profile's
            // credential set (OpenSSH with key authentication, a service).
            keyring_core::Error::NoStorageAccess(cause) => Error::KeyringUnavailable {
                reason: "Windows Credential Manager is not available in this logon session (as over SSH with key authentication, or in a service); log on interactively (or over SSH with a password), or set TFX_AUTH_STORE=file".into(),
                source: Some(cause),
            },
            other => common_error("Windows Credential Manager", other),
        }
    }
}

fn regex_escape(literal: &str) -> String {
    literal
        .chars()
        .flat_map(|c| {
            let escape = !c.is_ascii_alphanumeric() && c != ':';
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Credential Manager as a [`SecretStore`](super::SecretStore), large secrets
/// split into parts.
///
/// # Errors
/// `KEYRING_UNAVAILABLE` when this logon session has no Credential Manager
/// (one enumeration finds out, so `select` can fall back to the file).
#[cfg(target_os = "windows")]
pub fn open(
    _env: &super::StoreEnv,
) -> crate::error::Result<std::sync::Arc<dyn super::SecretStore>> {
    use std::sync::Arc;

    use super::chunked::{ChunkedStore, WINDOWS_CREDENTIAL_MANAGER};
    use super::native::NativeStore;

    let store = windows_native_keyring_store::Store::new()
        .map_err(|e| common_error("Windows Credential Manager", e))?;
    CredentialManager
        .search(store.as_ref())
        .map_err(|e| CredentialManager.error(e))?;
    let native = NativeStore::new(store, CredentialManager);
    Ok(Arc::new(ChunkedStore::new(
        Arc::new(native),
        WINDOWS_CREDENTIAL_MANAGER,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_are_the_prefix_and_the_url() {
        let key = "https://dev.azure.com/fabrikam";
        assert_eq!(target_name(key), "tfx-auth:https://dev.azure.com/fabrikam");
        assert_eq!(key_of_target(&target_name(key)), Some(key));
        assert_eq!(key_of_target("git:https://dev.azure.com/fabrikam"), None);
        assert_eq!(key_of_target("tfx-auth:"), None);
        assert_eq!(regex_escape("tfx-auth:"), "tfx\\-auth:");
    }

    #[test]
    fn no_logon_session_says_how_to_get_one() {
        let err = CredentialManager.error(keyring_core::Error::NoStorageAccess(Box::new(
            std::io::Error::other("ERROR_NO_SUCH_LOGON_SESSION"),
        )));
        assert_eq!(err.code(), "KEYRING_UNAVAILABLE");
        assert!(err.to_string().contains("TFX_AUTH_STORE=file"), "{err}");
    }
}

/// The real Credential Manager API: run on Windows, and here under Wine
/// (scripts/test-windows.sh). Wine's `Cred*` calls are not safe to run
/// concurrently, and its credentials outlive a run, so every test holds one
/// lock and uses keys no earlier run used.
#[cfg(all(test, target_os = "windows"))]
mod windows_tests {
    use std::sync::{Arc, Mutex, MutexGuard};

    use keyring_core::api::CredentialStoreApi;

    use super::*;
    use crate::store::SecretStore;
    use crate::store::native::NativeStore;

    fn serial() -> MutexGuard<'static, ()> {
        static LOCK: Mutex<()> = Mutex::new(());
        LOCK.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn unique(name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("https://{name}.test/{}-{nanos:x}", std::process::id())
    }

    fn raw() -> Arc<dyn SecretStore> {
        let store = windows_native_keyring_store::Store::new().unwrap();
        Arc::new(NativeStore::new(store, CredentialManager))
    }

    fn ours(store: &dyn SecretStore, prefix: &str) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = store
            .list()
            .unwrap()
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, s)| (k, s.to_string()))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn credential_manager_follows_the_contract() {
        let _serial = serial();
        crate::store::contract::run(raw().as_ref(), &unique("raw"));
        crate::store::contract::run(
            open(&Default::default()).unwrap().as_ref(),
            &unique("chunked"),
        );
    }

    #[test]
    fn a_login_is_a_local_generic_credential_named_tfx_auth_url() {
        let _serial = serial();
        let key = unique("named");
        open(&Default::default())
            .unwrap()
            .set(&key, "pat:abc")
            .unwrap();
        let store = windows_native_keyring_store::Store::new().unwrap();
        let target = format!("tfx-auth:{key}");
        let by_target = store
            .build(
                "any",
                "any",
                Some(&HashMap::from([("target", target.as_str())])),
            )
            .unwrap();
        assert_eq!(by_target.get_password().unwrap(), "pat:abc");
        assert_eq!(by_target.get_attributes().unwrap()["persistence"], "Local");
        assert!(open(&Default::default()).unwrap().delete(&key).unwrap());
        assert!(!open(&Default::default()).unwrap().delete(&key).unwrap());
    }

    #[test]
    fn large_secrets_go_through_parts_and_leave_no_orphan() {
        let _serial = serial();
        let (store, raw) = (open(&Default::default()).unwrap(), raw());
        let key = unique("large");
        // 4 KB of UTF-16 would not fit one blob (the crate refuses over 2,560 bytes).
        let large = format!("entra:{}", "é".repeat(2048));
        store.set(&key, &large).unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap().as_str(), large);
        assert_eq!(
            ours(store.as_ref(), &key),
            vec![(key.clone(), large.clone())]
        );
        assert!(ours(raw.as_ref(), &key).len() > 2, "parts in the store");
        // Large over large, then small over large: the old parts go.
        let larger = format!("entra:{}", "x".repeat(6000));
        store.set(&key, &larger).unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap().as_str(), larger);
        store.set(&key, "pat:small").unwrap();
        assert_eq!(
            ours(raw.as_ref(), &key),
            vec![(key.clone(), "pat:small".to_string())]
        );
        assert!(store.delete(&key).unwrap());
        assert!(!store.delete(&key).unwrap());
        assert!(ours(raw.as_ref(), &key).is_empty());
    }
}
