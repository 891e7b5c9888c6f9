//! Heads another program may plant in the keyring (issue 18, item 9): each
//! is `STORE_ERROR` at the cost of a few store calls, and the largest real
//! login still fits the bounds.

use super::*;

/// Counts the calls that reach the inner store.
struct Counting {
    inner: MemoryStore,
    calls: std::sync::atomic::AtomicUsize,
}

impl SecretStore for Counting {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key)
    }
    fn set(&self, key: &str, secret: &str) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.set(key, secret)
    }
    fn delete(&self, key: &str) -> Result<bool> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key)
    }
    fn list(&self) -> Result<Vec<(String, Secret)>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.list()
    }
}

#[test]
fn a_planted_head_is_a_store_error_and_costs_a_few_calls() {
    let key = "https://dev.azure.com/o";
    let max = usize::MAX;
    for planted in [
        format!("{HEAD}g:1:{max}"),
        format!("{HEAD}g:{max}:{max}"),
        format!(
            "{HEAD}g:{}:{MAX_JOINED_BYTES}",
            WINDOWS_CREDENTIAL_MANAGER.max_parts() + 1
        ),
        format!("{HEAD}g:2:{}", MAX_JOINED_BYTES + 1),
    ] {
        let inner = Arc::new(Counting {
            inner: MemoryStore::default(),
            calls: Default::default(),
        });
        let chunked = ChunkedStore::new(inner.clone(), WINDOWS_CREDENTIAL_MANAGER);
        inner.inner.set(key, &planted).unwrap();
        let calls = || inner.calls.swap(0, Ordering::SeqCst);
        assert_eq!(
            chunked.get(key).unwrap_err().code(),
            "STORE_ERROR",
            "{planted}"
        );
        assert!(calls() <= 2, "{planted}: get");
        assert_eq!(
            chunked.list().unwrap().len(),
            1,
            "{planted}: listed, to be removable"
        );
        calls();
        assert!(chunked.delete(key).unwrap(), "{planted}");
        assert!(
            calls() <= 2,
            "{planted}: delete reads the head and removes the key"
        );
        assert_eq!(chunked.get(key).unwrap(), None);
        // A new login over a planted head replaces it without a loop over its "parts".
        inner.inner.set(key, &planted).unwrap();
        calls();
        chunked.set(key, &entra_like(3000)).unwrap();
        let parts = split(&entra_like(3000), WINDOWS_CREDENTIAL_MANAGER).len();
        assert!(calls() <= parts + 2, "{planted}: set");
        assert_eq!(
            chunked.get(key).unwrap().unwrap().as_str(),
            entra_like(3000)
        );
    }
}

#[test]
fn the_largest_real_login_fits_the_bounds_and_a_larger_one_is_refused() {
    // Two tokens at the secret limit and an authority at the URL limit.
    let token = "t".repeat(MAX_SECRET_LEN);
    let authority = format!(
        "https://{}",
        "a".repeat(crate::service_url::MAX_URL_LEN - 8)
    );
    let login = format!(
        r#"entra:{{"v":1,"accessToken":"{token}","refreshToken":"{token}","authority":"{authority}","tenant":"72f988bf-86f1-41af-91ab-2d7cd011db47","clientId":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","expiresAt":4102444800}}"#
    );
    for limit in [SMALL, WINDOWS_CREDENTIAL_MANAGER] {
        let (_, chunked) = store(limit);
        chunked.set("k", &login).unwrap();
        assert_eq!(chunked.get("k").unwrap().unwrap().as_str(), login);
        let too_big = "x".repeat(MAX_JOINED_BYTES + 1);
        assert_eq!(
            chunked.set("k", &too_big).unwrap_err().code(),
            "STORE_ERROR"
        );
        assert_eq!(chunked.get("k").unwrap().unwrap().as_str(), login, "kept");
    }
    // The most parts: ASCII in UTF-16 (1 byte in 2), 3-byte characters in UTF-8 (63 of 64).
    for (limit, c) in [(WINDOWS_CREDENTIAL_MANAGER, 'a'), (SMALL, '€')] {
        let text: String = std::iter::repeat_n(c, MAX_JOINED_BYTES / c.len_utf8()).collect();
        let (_, chunked) = store(limit);
        chunked.set("k", &text).unwrap();
        assert_eq!(chunked.get("k").unwrap().unwrap().as_str(), text);
    }
}
