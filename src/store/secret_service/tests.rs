//! The Secret Service store against a real gnome-keyring (scripts/with-keyring.sh).

use super::*;

/// Runs against the real Secret Service when the test launcher started one.
#[test]
fn keyring_store_follows_the_contract() {
    if std::env::var_os("TFX_TEST_KEYRING_PASSWORD").is_none() {
        eprintln!("no test keyring (run through scripts/with-keyring.sh); covered by `npm test`");
        return;
    }
    let store = SecretServiceStore::open(&Default::default())
        .expect("the test launcher started a Secret Service");
    let prefix = format!("https://contract.test/{}", std::process::id());
    super::super::contract::run(&store, &prefix);
}

/// The split-and-join of large secrets against a real store's search.
#[test]
fn large_secrets_split_into_parts_on_the_real_keyring() {
    use crate::store::chunked::{ChunkedStore, Encoding, Limit};
    if std::env::var_os("TFX_TEST_KEYRING_PASSWORD").is_none() {
        return;
    }
    let store: Arc<dyn SecretStore> =
        Arc::new(SecretServiceStore::open(&Default::default()).unwrap());
    let limit = Limit {
        max_bytes: 256,
        encoding: Encoding::Utf16,
    };
    let chunked = ChunkedStore::new(Arc::clone(&store), limit);
    let key = format!("https://chunks.test/{}", std::process::id());
    let secret = format!("entra:{}", "x".repeat(2000));
    chunked.set(&key, &secret).unwrap();
    assert_eq!(chunked.get(&key).unwrap().unwrap().as_str(), secret);
    let ours = |items: Vec<(String, Secret)>| -> Vec<(String, String)> {
        items
            .into_iter()
            .filter(|(k, _)| k.starts_with(&key))
            .map(|(k, s)| (k, s.to_string()))
            .collect()
    };
    assert_eq!(
        ours(chunked.list().unwrap()),
        vec![(key.clone(), secret.clone())]
    );
    assert_eq!(
        ours(store.list().unwrap()).len(),
        1 + 2006usize.div_ceil(128)
    );
    assert!(chunked.delete(&key).unwrap());
    assert!(ours(store.list().unwrap()).is_empty());
}

/// Two stores stand for two processes: what one writes, the other reads at
/// once, though it remembers the item it read before and had listed it.
#[test]
fn a_login_another_process_changes_is_read_as_it_is_now() {
    if std::env::var_os("TFX_TEST_KEYRING_PASSWORD").is_none() {
        return;
    }
    let (ours, theirs) = (
        SecretServiceStore::open(&Default::default()).unwrap(),
        SecretServiceStore::open(&Default::default()).unwrap(),
    );
    let key = format!("https://fresh.test/{}", std::process::id());
    let read = |store: &SecretServiceStore| store.get(&key).unwrap().map(|s| s.to_string());
    ours.set(&key, "pat:one").unwrap();
    assert_eq!(read(&ours).as_deref(), Some("pat:one"));
    theirs.set(&key, "pat:two").unwrap();
    assert_eq!(
        read(&ours).as_deref(),
        Some("pat:two"),
        "replaced elsewhere"
    );
    assert!(theirs.delete(&key).unwrap());
    assert_eq!(read(&ours), None, "logged out elsewhere");
    theirs.set(&key, "pat:three").unwrap();
    assert_eq!(
        read(&ours).as_deref(),
        Some("pat:three"),
        "a new item elsewhere"
    );
    assert_eq!(
        ours.get_now(&key).unwrap().unwrap().unwrap().as_str(),
        "pat:three"
    );
    // Listed secrets serve one read each, and a write of this store drops them.
    assert!(ours.list().unwrap().iter().any(|(k, _)| *k == key));
    ours.set(&key, "pat:four").unwrap();
    assert_eq!(read(&ours).as_deref(), Some("pat:four"));
    assert!(ours.delete(&key).unwrap());
    assert_eq!(read(&ours), None);
    assert!(ours.get_now(&key).is_none(), "nothing stored: left to get");
}
