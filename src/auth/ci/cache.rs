//! One exchange per process: a CI source's token kept in memory until five
//! minutes before it expires, concurrent callers waiting for the one exchange
//! under way. Nothing is written anywhere (a CI machine keeps nothing).

use std::sync::OnceLock;

use crate::auth::ci::CiSource;
use crate::credential::EntraToken;
use crate::entra::identity_http::IdentityHttp;
use crate::entra::transport::Authority;
use crate::error::Result;

/// The token of a source, kept in memory until five minutes before it
/// expires. Concurrent callers wait for the one exchange under way; a
/// failure is not kept (the next call asks again).
#[derive(Default)]
pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<(String, EntraToken)>>,
}

impl TokenCache {
    /// # Errors
    /// What `exchange` returns.
    pub async fn get<F>(&self, key: &str, now: impl Fn() -> u64, exchange: F) -> Result<EntraToken>
    where
        F: Future<Output = Result<EntraToken>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((cached_key, token)) = slot.as_ref()
            && cached_key == key
            && !token.needs_refresh(now())
        {
            return Ok(token.clone());
        }
        let token = exchange.await?;
        *slot = Some((key.to_string(), token.clone()));
        Ok(token)
    }
}

/// The process's one cache (a command, or a Node script, runs in one process).
pub fn process_cache() -> &'static TokenCache {
    static CACHE: OnceLock<TokenCache> = OnceLock::new();
    CACHE.get_or_init(TokenCache::default)
}

/// The source's current token: from `cache`, else one exchange.
///
/// # Errors
/// As [`CiSource::exchange`].
pub async fn current_token<A: Authority, H: IdentityHttp>(
    source: &CiSource,
    cache: &TokenCache,
    authority: &A,
    http: &H,
    now: impl Fn() -> u64 + Copy,
) -> Result<EntraToken> {
    cache
        .get(
            &source.cache_key(),
            now,
            source.exchange(authority, http, now),
        )
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::error::Error;

    #[tokio::test(flavor = "multi_thread")]
    async fn one_exchange_for_concurrent_callers_kept_until_five_minutes_before_expiry() {
        let cache = TokenCache::default();
        let exchanges = AtomicUsize::new(0);
        let exchange = |expires_at: u64| {
            let exchanges = &exchanges;
            async move {
                exchanges.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                EntraToken::access_only(format!("at-{expires_at}"), Some(expires_at))
            }
        };
        let (a, b, c) = tokio::join!(
            cache.get("k", || 1000, exchange(5000)),
            cache.get("k", || 1000, exchange(5000)),
            cache.get("k", || 1000, exchange(5000)),
        );
        assert_eq!(exchanges.load(Ordering::SeqCst), 1);
        assert!(
            [a.unwrap(), b.unwrap(), c.unwrap()]
                .iter()
                .all(|t| t.access_token.as_str() == "at-5000")
        );
        // Reused until 5 minutes before expiry, renewed from then on.
        assert_eq!(
            cache
                .get("k", || 4699, exchange(9000))
                .await
                .unwrap()
                .access_token
                .as_str(),
            "at-5000"
        );
        assert_eq!(
            cache
                .get("k", || 4700, exchange(9000))
                .await
                .unwrap()
                .access_token
                .as_str(),
            "at-9000"
        );
        assert_eq!(exchanges.load(Ordering::SeqCst), 2);
        // A failure is not kept; another source's key is another exchange.
        let failing = async { Err(Error::invalid_credential("x")) };
        assert!(cache.get("other", || 4700, failing).await.is_err());
        assert_eq!(
            cache
                .get("other", || 4700, exchange(9999))
                .await
                .unwrap()
                .access_token
                .as_str(),
            "at-9999"
        );
    }
}
