//! The probe's encrypted Secret Service session and the reads made on it
//! directly (not through keyring-core): one search and one `GetSecret` for a
//! login, one search and every item's attributes and secret at once for the
//! list. Run on a current-thread runtime by the calling thread, so a reply is
//! read from the socket by the thread waiting for it.

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
    ss: SecretService<'static>,
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
            ss,
            timeout,
        })
    }

    /// Runs `op` on the session, on this thread; `KEYRING_UNAVAILABLE` when
    /// the Secret Service does not answer within the timeout.
    pub(super) fn run<'p, T>(
        &'p self,
        op: impl AsyncFnOnce(&'p SecretService<'static>) -> T,
    ) -> Result<T> {
        let answer = self
            .runtime
            .block_on(async { tokio::time::timeout(self.timeout, op(&self.ss)).await });
        answer.map_err(|_| Error::KeyringUnavailable {
            reason: format!(
                "the Secret Service did not answer within {} ms",
                self.timeout.as_millis()
            ),
            source: None,
        })
    }
}

/// Reads the secret when a search finds exactly one unlocked item for
/// `key`. A locked match is `KEYRING_LOCKED` at once: keyring-core's read
/// would ask the service to unlock it, which pops up a prompt. `Ok(None)`
/// leaves the answer to the checked path: no item (a collection may hide
/// the items of a locked collection, and only the probe tells that from
/// "not logged in"), duplicates, a failed call, or a secret that is not
/// UTF-8, each reported there as before.
pub(super) fn quick_read(probe: &Probe, key: &str) -> Result<Option<Secret>> {
    let attributes = HashMap::from([("service", SERVICE), ("username", key)]);
    let read = probe.run(async |ss| {
        let found = ss.search_items(attributes).await.ok()?;
        if !found.locked.is_empty() {
            return Some(Err(()));
        }
        let [item] = found.unlocked.as_slice() else {
            return None;
        };
        Some(Ok(item.get_secret().await))
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
