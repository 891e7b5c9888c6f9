//! The probe's encrypted Secret Service session and the reads made on it
//! directly (not through keyring-core): one search and one `GetSecret` for a
//! login, one search and every item's attributes and secret at once for the
//! list. Run on a current-thread runtime by the calling thread, so a reply is
//! read from the socket by the thread waiting for it. A login read once is
//! read again with its item's `GetSecret` alone (one round trip).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use secret_service::{EncryptionType, SecretService};
use zeroize::Zeroizing;

use super::{SERVICE, UNLOCK_HINT, unavailable};
use crate::error::{Cause, Error, Result};
use crate::secret::Secret;

/// The probe's session with the runtime that drives it. A current-thread
/// runtime, run by whichever thread calls (the worker): the reply is read
/// from the socket on that thread. The blocking API runs zbus on a runtime
/// of its own threads instead, one thread hop per round trip and two more
/// threads to start per process (BENCHMARKS.md, against @napi-rs/keyring).
pub(super) struct Probe {
    runtime: tokio::runtime::Runtime,
    /// Kept for the life of the process (the store is), and leaked so that
    /// an item can be made from its path (`get_item_by_path` borrows the
    /// session for its own lifetime).
    ss: &'static SecretService<'static>,
    /// The object path of the one item each key was last read from
    /// (bounded; emptied by every write of this store, see `forget_items`).
    items: RefCell<HashMap<String, String>>,
    /// How long one `run` may take: a read on the caller's thread has no
    /// worker to give up on it.
    timeout: Duration,
}

impl Probe {
    pub(super) fn connect(timeout: Duration) -> std::result::Result<Self, Cause> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let ss = runtime.block_on(SecretService::connect(EncryptionType::Dh))?;
        Ok(Probe {
            runtime,
            ss: Box::leak(Box::new(ss)),
            items: RefCell::default(),
            timeout,
        })
    }

    /// Runs `op` on the session, on this thread; `KEYRING_UNAVAILABLE` when
    /// the Secret Service does not answer within the timeout.
    pub(super) fn run<'p, T>(
        &'p self,
        op: impl AsyncFnOnce(&'p SecretService<'static>) -> T,
    ) -> Result<T> {
        self.run_within(self.timeout, op)
    }

    /// [`run`](Self::run) with a time limit of its own.
    pub(super) fn run_within<'p, T>(
        &'p self,
        limit: Duration,
        op: impl AsyncFnOnce(&'p SecretService<'static>) -> T,
    ) -> Result<T> {
        let answer = self
            .runtime
            .block_on(async { tokio::time::timeout(limit, op(self.ss)).await });
        answer.map_err(|_| Error::KeyringUnavailable {
            reason: format!(
                "the Secret Service did not answer within {} ms",
                limit.as_millis()
            ),
            source: None,
        })
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Forgets every item read: a write may have replaced or removed one.
    pub(super) fn forget_items(&self) {
        self.items.borrow_mut().clear();
    }

    fn remember_item(&self, key: &str, path: &str) {
        let mut items = self.items.borrow_mut();
        if items.len() >= MAX_ITEMS {
            items.clear();
        }
        items.insert(key.to_string(), path.to_string());
    }
}

/// How many keys' item paths a probe remembers.
const MAX_ITEMS: usize = 64;

/// The secret of the item `key` was last read from, by its path: `None` when
/// there is none, or it is gone, locked or no longer text (the search then
/// tells which). Another process's logout removes the item, and its login
/// replaces the item's secret or the item: either way this reads what is
/// stored now.
fn known_item_read(probe: &Probe, key: &str, limit: Duration) -> Option<Secret> {
    let path = probe.items.borrow().get(key).cloned()?;
    let secret = probe
        .run_within(limit, async |ss| {
            let item = ss.get_item_by_path(path.try_into().ok()?).await.ok()?;
            item.get_secret().await.ok()
        })
        .ok()
        .flatten();
    match secret.map(String::from_utf8) {
        Some(Ok(secret)) => Some(Zeroizing::new(secret)),
        Some(Err(not_text)) => {
            zeroize::Zeroize::zeroize(&mut not_text.into_bytes());
            None
        }
        None => None,
    }
}

/// Reads the secret when a search finds exactly one unlocked item for
/// `key`. A locked match is `KEYRING_LOCKED` at once: keyring-core's read
/// would ask the service to unlock it, which pops up a prompt. `Ok(None)`
/// leaves the answer to the checked path: no item (a collection may hide
/// the items of a locked collection, and only the probe tells that from
/// "not logged in"), duplicates, a failed call, or a secret that is not
/// UTF-8, each reported there as before.
pub(super) fn quick_read(probe: &Probe, key: &str, limit: Duration) -> Result<Option<Secret>> {
    if let Some(secret) = known_item_read(probe, key, limit) {
        return Ok(Some(secret));
    }
    probe.items.borrow_mut().remove(key);
    let attributes = HashMap::from([("service", SERVICE), ("username", key)]);
    let read = probe.run_within(limit, async |ss| {
        let found = ss.search_items(attributes).await.ok()?;
        if !found.locked.is_empty() {
            return Some(Err(()));
        }
        let [item] = found.unlocked.as_slice() else {
            return None;
        };
        let secret = item.get_secret().await;
        if secret.is_ok() {
            probe.remember_item(key, item.item_path.as_str());
        }
        Some(Ok(secret))
    })?;
    let secret = match read {
        None => return Ok(None),
        Some(Err(())) => {
            return Err(Error::KeyringLocked {
                hint: UNLOCK_HINT,
                source: None,
            });
        }
        Some(Ok(secret)) => secret,
    };
    match secret.map(String::from_utf8) {
        Ok(Ok(secret)) => Ok(Some(Zeroizing::new(secret))),
        Ok(Err(not_text)) => {
            zeroize::Zeroize::zeroize(&mut not_text.into_bytes());
            Ok(None)
        }
        Err(_) => Ok(None),
    }
}

/// Every item of ours with its secret (`SecretStore::list`).
pub(super) async fn list_items(ss: &SecretService<'_>) -> Result<Vec<(String, Secret)>> {
    let found = ss
        .search_items(HashMap::from([("service", SERVICE)]))
        .await
        .map_err(|e| unavailable("cannot search the keyring", e))?;
    if !found.locked.is_empty() {
        return Err(Error::KeyringLocked {
            hint: UNLOCK_HINT,
            source: None,
        });
    }
    let reads = found
        .unlocked
        .iter()
        .map(|item| async move { tokio::join!(item.get_attributes(), item.get_secret()) });
    let mut logins = Vec::with_capacity(found.unlocked.len());
    for (attributes, secret) in all(reads).await {
        let (attributes, secret) = match (attributes, secret) {
            (Ok(attributes), Ok(secret)) => (attributes, Zeroizing::new(secret)),
            (Err(e), _) | (_, Err(e)) if deleted(&e) => continue, // between the search and the read
            (Err(e), _) | (_, Err(e)) => return Err(unavailable("cannot read a keyring item", e)),
        };
        let Some(key) = attributes.get("username") else {
            continue;
        };
        let Ok(secret) = std::str::from_utf8(&secret) else {
            return Err(Error::store(
                "a keyring item for tfx-auth is not UTF-8 text; remove it with secret-tool clear",
                None,
            ));
        };
        logins.push((key.clone(), Zeroizing::new(secret.to_string())));
    }
    Ok(logins)
}

/// Whether an item's call failed because the item is gone: the D-Bus error
/// names it (zbus's error type is not ours to match on: no direct dependency).
fn deleted(err: &secret_service::Error) -> bool {
    let text = err.to_string();
    text.contains("NoSuchObject") || text.contains("UnknownObject")
}

/// Runs every future at once on this task and returns their outputs in order
/// (what `futures::future::join_all` does, for one use).
async fn all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut ready = true;
        for (future, slot) in pending.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => *slot = Some(output),
                    std::task::Poll::Pending => ready = false,
                }
            }
        }
        if ready {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    done.into_iter()
        .map(|o| o.expect("every future is ready"))
        .collect()
}
