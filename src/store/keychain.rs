//! The OS keyring on macOS: the user's default (login) keychain, through
//! keyring-core's apple-native store.
//!
//! Each login is a generic password with service `tfx-auth` and account the
//! normalised URL, so `security find-generic-password -s tfx-auth -a <url> -w`
//! prints it (as `secret-tool` does on Linux), and one search by service lists
//! them all. Generic passwords hold any size, so no chunking.
//!
//! The naming and the reading of Keychain status codes are plain code, tested
//! on every platform against keyring-core's sample store; only [`open`] needs
//! macOS. A locked keychain prompts for its password where there is a screen;
//! over SSH the call fails instead (`errSecInteractionNotAllowed`).

use std::collections::HashMap;

use keyring_core::Entry;
use keyring_core::api::CredentialStore;

use super::native::{Naming, common_error};
use crate::error::Error;

/// The `service` of every item we own.
pub const SERVICE: &str = "tfx-auth";

/// What `storageInfo().location` says.
pub const LOCATION: &str =
    "macOS Keychain (default keychain), generic passwords with service tfx-auth";

/// What to do about a locked keychain (the `KEYRING_LOCKED` message).
pub const UNLOCK_HINT: &str = "Unlock it with `security unlock-keychain` (over SSH the login keychain stays locked until you do) and try again.";

pub struct Keychain;

impl Naming for Keychain {
    fn entry(&self, store: &CredentialStore, key: &str) -> keyring_core::Result<Entry> {
        store.build(SERVICE, key, None)
    }

    fn search(&self, store: &CredentialStore) -> keyring_core::Result<Vec<Entry>> {
        store.search(&HashMap::from([("service", SERVICE)]))
    }

    fn key_of(&self, found: &Entry) -> keyring_core::Result<Option<String>> {
        // The search matches the service exactly on macOS but as a pattern in
        // other stores: check it again.
        Ok(found
            .get_specifiers()
            .filter(|(service, _)| service == SERVICE)
            .map(|(_, account)| account))
    }

    fn error(&self, err: keyring_core::Error) -> Error {
        use keyring_core::Error as K;
        let status = match &err {
            K::NoStorageAccess(cause) | K::PlatformFailure(cause) => os_status(cause.as_ref()),
            _ => None,
        };
        match status.map(classify) {
            Some(Status::Locked) => Error::KeyringLocked {
                hint: UNLOCK_HINT,
                source: Some(into_cause(err)),
            },
            Some(Status::Denied) => Error::KeyringUnavailable {
                reason: "access to the macOS Keychain was denied; run the command again and choose Allow (or Always Allow) when macOS asks, or set TFX_AUTH_STORE=file".into(),
                source: Some(into_cause(err)),
            },
            Some(Status::NoKeychain) => Error::KeyringUnavailable {
                reason: "there is no default keychain; create or choose one in Keychain Access (or `security default-keychain -s <keychain>`), or set TFX_AUTH_STORE=file".into(),
                source: Some(into_cause(err)),
            },
            Some(Status::Other) | None => common_error("macOS Keychain", err),
        }
    }
}

/// What a Keychain `OSStatus` means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The keychain is locked and may not prompt (no screen, e.g. over SSH).
    Locked,
    /// The person declined the prompt, or the keychain refused the password.
    Denied,
    /// No default keychain to use.
    NoKeychain,
    Other,
}

/// Reads a Security framework status code (SecBase.h).
pub fn classify(status: i32) -> Status {
    match status {
        // errSecInteractionNotAllowed: locked, and no user interaction possible.
        -25308 => Status::Locked,
        // errSecUserCanceled (Cancel in a prompt), errSecAuthFailed (Deny, or a wrong password).
        -128 | -25293 => Status::Denied,
        // errSecNoDefaultKeychain, errSecNoSuchKeychain.
        -25307 | -25294 => Status::NoKeychain,
        _ => Status::Other,
    }
}

fn into_cause(err: keyring_core::Error) -> crate::error::Cause {
    match err {
        keyring_core::Error::NoStorageAccess(cause)
        | keyring_core::Error::PlatformFailure(cause) => cause,
        other => Box::new(other),
    }
}

#[cfg(target_os = "macos")]
fn os_status(cause: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<i32> {
    cause
        .downcast_ref::<security_framework::base::Error>()
        .map(|e| e.code())
}

/// The platform error is only ever a Security framework error; elsewhere a
/// test can stand one in as an `std::io::Error` with the code as raw OS error.
#[cfg(not(target_os = "macos"))]
fn os_status(cause: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<i32> {
    cause
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::raw_os_error)
}

/// The user's keychain as a [`SecretStore`](super::SecretStore).
///
/// # Errors
/// None today: the Keychain is there for every logged-in user; a locked or
/// missing one is reported by the first call.
#[cfg(target_os = "macos")]
pub fn open(
    _env: &super::StoreEnv,
) -> crate::error::Result<std::sync::Arc<dyn super::SecretStore>> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| common_error("macOS Keychain", e))?;
    Ok(std::sync::Arc::new(super::native::NativeStore::new(
        store, Keychain,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SecretStore;
    use crate::store::native::NativeStore;

    fn sample() -> std::sync::Arc<CredentialStore> {
        keyring_core::sample::Store::new().unwrap()
    }

    #[test]
    fn keychain_naming_follows_the_contract() {
        let store = NativeStore::new(sample(), Keychain);
        crate::store::contract::run(&store, "https://dev.azure.com/keychain");
    }

    #[test]
    fn a_login_is_service_tfx_auth_account_url() {
        let raw = sample();
        let store = NativeStore::new(raw.clone(), Keychain);
        store
            .set("https://dev.azure.com/fabrikam", "pat:abc")
            .unwrap();
        let item = raw.build("tfx-auth", "https://dev.azure.com/fabrikam", None);
        assert_eq!(item.unwrap().get_password().unwrap(), "pat:abc");
    }

    #[test]
    fn listing_skips_other_services_and_keeps_only_ours() {
        let raw = sample();
        for (service, account) in [
            ("tfx-auth-old", "https://a.example"),
            ("git", "https://b.example"),
            ("tfx-auth", "https://c.example"),
        ] {
            raw.build(service, account, None)
                .unwrap()
                .set_password("pat:x")
                .unwrap();
        }
        let listed: Vec<String> = NativeStore::new(raw, Keychain)
            .list()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(listed, vec!["https://c.example".to_string()]);
    }

    #[test]
    fn keychain_statuses_map_to_codes_that_say_what_to_do() {
        let cases = [
            (-25308, "KEYRING_LOCKED", "security unlock-keychain"),
            (-128, "KEYRING_UNAVAILABLE", "choose Allow"),
            (-25293, "KEYRING_UNAVAILABLE", "choose Allow"),
            (-25307, "KEYRING_UNAVAILABLE", "default-keychain"),
            (-25291, "KEYRING_UNAVAILABLE", "macOS Keychain call failed"),
        ];
        for (status, code, says) in cases {
            let cause = || Box::new(std::io::Error::from_raw_os_error(status));
            for err in [
                keyring_core::Error::NoStorageAccess(cause()),
                keyring_core::Error::PlatformFailure(cause()),
            ] {
                let mapped = Keychain.error(err);
                assert_eq!(mapped.code(), code, "status {status}");
                if code == "KEYRING_LOCKED" {
                    // The message is this platform's; on macOS it names the command.
                    assert!(mapped.to_string().contains("locked"), "{mapped}");
                } else {
                    assert!(mapped.to_string().contains(says), "{status}: {mapped}");
                }
            }
        }
        assert_eq!(classify(-25308), Status::Locked);
    }
}

/// The real Keychain: run by the workflow's macOS job, which creates a
/// keychain, unlocks it, makes it the default and names it in
/// `TFX_TEST_KEYCHAIN` (with its password in `TFX_TEST_KEYCHAIN_PASSWORD`).
#[cfg(all(test, target_os = "macos"))]
mod macos_tests {
    use std::process::Command;

    use super::*;

    fn test_keychain() -> Option<(String, String)> {
        let keychain = std::env::var("TFX_TEST_KEYCHAIN").ok()?;
        let password = std::env::var("TFX_TEST_KEYCHAIN_PASSWORD").ok()?;
        Some((keychain, password))
    }

    fn security(args: &[&str]) -> std::process::Output {
        Command::new("security").args(args).output().unwrap()
    }

    #[test]
    fn keychain_store_follows_the_contract() {
        if test_keychain().is_none() {
            eprintln!("no test keychain (the workflow's macOS job creates one)");
            return;
        }
        let prefix = format!("https://keychain.test/{}", std::process::id());
        crate::store::contract::run(open(&Default::default()).unwrap().as_ref(), &prefix);
    }

    #[test]
    fn security_reads_what_tfx_auth_stored_and_the_other_way_round() {
        let Some((keychain, password)) = test_keychain() else {
            return;
        };
        let store = open(&Default::default()).unwrap();
        let key = format!("https://security.test/{}", std::process::id());
        store.set(&key, "pat:from-tfx-auth").unwrap();
        // Let Apple's tools read an item an unsigned test binary created, without a prompt.
        let allowed = security(&[
            "set-generic-password-partition-list",
            "-S",
            "apple-tool:,apple:,unsigned:",
            "-s",
            SERVICE,
            "-a",
            &key,
            "-k",
            &password,
            &keychain,
        ]);
        assert!(allowed.status.success(), "{allowed:?}");
        let found = security(&[
            "find-generic-password",
            "-s",
            SERVICE,
            "-a",
            &key,
            "-w",
            &keychain,
        ]);
        assert!(found.status.success(), "{found:?}");
        assert_eq!(
            String::from_utf8_lossy(&found.stdout).trim_end(),
            "pat:from-tfx-auth"
        );

        let other = format!("{key}/by-security");
        let added = security(&[
            "add-generic-password",
            "-s",
            SERVICE,
            "-a",
            &other,
            "-w",
            "pat:from-security",
            "-A",
            &keychain,
        ]);
        assert!(added.status.success(), "{added:?}");
        assert_eq!(
            store.get(&other).unwrap().unwrap().as_str(),
            "pat:from-security"
        );
        let listed: Vec<String> = store.list().unwrap().into_iter().map(|(k, _)| k).collect();
        assert!(
            listed.contains(&key) && listed.contains(&other),
            "{listed:?}"
        );
        assert!(store.delete(&key).unwrap());
        assert!(store.delete(&other).unwrap());
    }

    #[test]
    fn a_locked_keychain_is_keyring_locked() {
        let Some((keychain, password)) = test_keychain() else {
            return;
        };
        let store = open(&Default::default()).unwrap();
        let key = format!("https://locked.test/{}", std::process::id());
        assert!(security(&["lock-keychain", &keychain]).status.success());
        // No prompt can be answered on a CI runner: the call fails instead of waiting.
        let err = store.set(&key, "pat:x").unwrap_err();
        assert!(
            security(&["unlock-keychain", "-p", &password, &keychain])
                .status
                .success()
        );
        assert_eq!(err.code(), "KEYRING_LOCKED", "{err}");
        assert!(
            err.to_string().contains("security unlock-keychain"),
            "{err}"
        );
    }
}
