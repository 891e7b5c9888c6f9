//! Silent renewal: the credential a command uses, with an Entra access token
//! renewed shortly before it expires and the (possibly rotated) refresh token
//! stored again. A refresh token the authority no longer accepts means the
//! user must sign in again (`REAUTH_REQUIRED`); the stored login stays, so
//! `tfx-auth status` can say so. The refresh grant itself is
//! [`crate::entra::refresh`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::auth::logins::Logins;
use crate::credential::Credential;
use crate::entra::refresh::{RefreshError, refresh};
use crate::entra::transport::Authority;
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// [`current_credential`]'s answer when the stored credential is at hand
/// ([`Logins::get_now`]) and needs no renewal; `None`: call `current_credential`.
pub fn current_now(logins: &Logins, url: &ServiceUrl, now: u64) -> Option<Result<Credential>> {
    match logins.get_now(url)? {
        Ok(Credential::Entra(token)) if token.needs_refresh(now) => None,
        other => Some(other),
    }
}

/// One lock per login, so concurrent callers in this process renew once.
fn lock_for(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    Arc::clone(locks.entry(key.to_string()).or_default())
}

/// The stored credential for `url`, an Entra one renewed first when it
/// expires within five minutes. `now` is Unix seconds.
///
/// A renewal holds the login's lock (in this process and across processes)
/// from its read to its write: a second caller waits and then finds the
/// renewed token instead of spending a refresh token that an authority which
/// rotates strictly has just revoked. The renewed token is written only if the
/// stored login is still the one read (a logout or new login meanwhile wins).
///
/// # Errors
/// Store errors; `REAUTH_REQUIRED` when the token must be renewed and the
/// authority refuses the refresh token (or there is none); the transport error
/// when the authority cannot be reached and the access token has expired
/// (before it expires, the current one is used).
pub async fn current_credential<A: Authority>(
    logins: &Logins,
    authority: &A,
    url: &ServiceUrl,
    now: u64,
) -> Result<Option<Credential>> {
    current_credential_if(logins, authority, url, now, true).await
}

/// [`current_credential`], but a stored Entra login counts only when
/// `entra_may_go` (the Entra host rule, `crate::entra::hosts`, allows the
/// URL): otherwise it is neither renewed nor returned (`Ok(None)`).
///
/// # Errors
/// As [`current_credential`].
pub async fn current_credential_if<A: Authority>(
    logins: &Logins,
    authority: &A,
    url: &ServiceUrl,
    now: u64,
    entra_may_go: bool,
) -> Result<Option<Credential>> {
    let seen = match tokio::task::block_in_place(|| logins.get(url))? {
        Some(Credential::Entra(_)) if !entra_may_go => return Ok(None),
        Some(Credential::Entra(token)) if token.needs_refresh(now) => token.access_token,
        other => return Ok(other),
    };
    let in_process = lock_for(url.key());
    let _renewing = in_process.lock().await;
    let lock = tokio::task::block_in_place(|| logins.lock(url))?;
    let read = || tokio::task::block_in_place(|| logins.stored(&lock, url));
    let mut token = match read()? {
        Some(Credential::Entra(token)) => token,
        other => return Ok(other),
    };
    // Another task or process renewed it while this one waited: use that
    // token (a short-lived token may well be "due" again at once, but renewing
    // twice gains nothing).
    if token.access_token != seen && !token.is_expired(now) {
        return Ok(Some(Credential::Entra(token)));
    }
    // Twice at most: once more when a writer that takes no lock (an older
    // tfx-auth) rotated the refresh token while this one was using the old one.
    for attempt in 0..2 {
        if !token.needs_refresh(now) {
            return Ok(Some(Credential::Entra(token)));
        }
        let Some(grant) = token.refresh.clone() else {
            if token.is_expired(now) {
                return Err(reauth(
                    url,
                    "the access token expired and there is no refresh token",
                ));
            }
            return Ok(Some(Credential::Entra(token)));
        };
        match refresh(authority, &grant, now).await {
            Ok(renewed) => {
                let renewed = Credential::Entra(renewed);
                let read = Credential::Entra(token);
                // When the login changed meanwhile, this command still uses the
                // token it renewed; the store keeps what is there.
                tokio::task::block_in_place(|| {
                    logins.replace_if_unchanged(&lock, url, &read, &renewed)
                })?;
                return Ok(Some(renewed));
            }
            // Until it expires, the current token still opens the door.
            Err(RefreshError::Failed(err)) if token.is_expired(now) => return Err(err),
            Err(RefreshError::Failed(_)) => return Ok(Some(Credential::Entra(token))),
            Err(RefreshError::Rejected(reason)) => {
                let latest = match read()? {
                    Some(Credential::Entra(latest)) => latest,
                    _ => return Err(reauth(url, &reason)),
                };
                let rotated =
                    latest.refresh.as_ref().map(|g| &g.refresh_token) != Some(&grant.refresh_token);
                if attempt > 0 || !rotated {
                    return Err(reauth(url, &reason));
                }
                token = latest;
            }
        }
    }
    Err(reauth(url, "the refresh token was refused twice"))
}

fn reauth(url: &ServiceUrl, reason: &str) -> Error {
    Error::ReauthRequired {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::logins::test_support;
    use crate::credential::entra::{EntraToken, RefreshGrant};
    use crate::entra::SCOPE;
    use crate::entra::device_code::tests::{Scripted, oauth, tokens};
    use crate::entra::transport::Answer;
    use crate::store::SecretStore;
    use zeroize::Zeroizing;

    /// The policy layer's fixture with an Entra login stored for `url`.
    struct Fixture {
        base: test_support::Fixture,
        url: ServiceUrl,
    }

    impl std::ops::Deref for Fixture {
        type Target = test_support::Fixture;
        fn deref(&self) -> &Self::Target {
            &self.base
        }
    }

    fn fixture(expires_at: u64, refresh_token: Option<&str>) -> Fixture {
        let base = test_support::fixture();
        let url = test_support::url("https://dev.azure.com/fabfiber");
        let token = EntraToken {
            access_token: Zeroizing::new("at-1".into()),
            expires_at: Some(expires_at),
            refresh: refresh_token.map(|rt| RefreshGrant {
                refresh_token: Zeroizing::new(rt.into()),
                authority: "https://login.microsoftonline.com/t1".into(),
                tenant: "t1".into(),
                client_id: "c1".into(),
            }),
        };
        base.logins
            .replace(&url, &Credential::Entra(token))
            .unwrap();
        Fixture { base, url }
    }

    fn stored(f: &Fixture) -> EntraToken {
        match Credential::from_stored(&f.store.get(f.url.key()).unwrap().unwrap()).unwrap() {
            Credential::Entra(t) => t,
            other => panic!("{other:?}"),
        }
    }

    async fn current(f: &Fixture, script: &Scripted, now: u64) -> Result<Option<Credential>> {
        current_credential(&f.logins, script, &f.url, now).await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_fresh_token_is_used_as_stored() {
        let f = fixture(10_000, Some("rt-1"));
        let script = Scripted::new(vec![]);
        let cred = current(&f, &script, 1000).await.unwrap().unwrap();
        assert_eq!(cred.secret(), "at-1");
        assert_eq!(script.call_count(), 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_token_near_expiry_is_renewed_and_the_rotated_refresh_token_stored() {
        let f = fixture(1100, Some("rt-1"));
        let script = Scripted::new(vec![tokens("at-2", "rt-2")]);
        let cred = current(&f, &script, 1000).await.unwrap().unwrap();
        assert_eq!(cred.secret(), "at-2");
        let calls = script.calls.lock().unwrap().clone();
        assert_eq!(
            calls[0].1,
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
        let form: HashMap<_, _> = calls[0].2.iter().cloned().collect();
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "rt-1");
        assert_eq!(form["client_id"], "c1");
        assert_eq!(form["scope"], SCOPE);
        let now_stored = stored(&f);
        assert_eq!(now_stored.access_token.as_str(), "at-2");
        assert_eq!(now_stored.expires_at, Some(1000 + 3599));
        assert_eq!(now_stored.refresh.unwrap().refresh_token.as_str(), "rt-2");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_refused_refresh_token_is_reauth_required_and_the_login_stays() {
        let f = fixture(900, Some("rt-1"));
        let script = Scripted::new(vec![oauth("invalid_grant")]);
        let err = current(&f, &script, 1000).await.unwrap_err();
        assert_eq!(err.code(), "REAUTH_REQUIRED");
        assert!(
            err.to_string().contains("invalid_grant, AADSTS70016"),
            "{err}"
        );
        assert!(
            err.to_string().contains(
                "tfx login --service-url https://dev.azure.com/fabfiber --auth-type entra"
            )
        );
        assert_eq!(stored(&f).access_token.as_str(), "at-1");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_unreachable_authority_keeps_a_still_valid_token_but_not_an_expired_one() {
        let down = || {
            Err(Error::Network {
                url: "x".into(),
                reason: "refused".into(),
            })
        };
        let f = fixture(1100, Some("rt-1"));
        let cred = current(&f, &Scripted::new(vec![down()]), 1000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cred.secret(), "at-1");
        let err = current(&f, &Scripted::new(vec![down()]), 1200)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NETWORK_ERROR");
        let err = current(&f, &Scripted::new(vec![Ok(Answer::new(503, ""))]), 1200)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "SERVER_ERROR");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn without_a_refresh_token_an_expired_token_needs_a_new_sign_in() {
        let f = fixture(1100, None);
        let script = Scripted::new(vec![]);
        assert_eq!(
            current(&f, &script, 1000).await.unwrap().unwrap().secret(),
            "at-1"
        );
        assert_eq!(
            current(&f, &script, 1100).await.unwrap_err().code(),
            "REAUTH_REQUIRED"
        );
        assert_eq!(script.call_count(), 0);
    }

    /// Another process renewed first: our old refresh token is refused, the
    /// store holds a new one; that one is used instead of asking for a sign-in.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_refresh_token_rotated_by_another_process_is_picked_up() {
        struct RotateThenRefuse<'a>(&'a Fixture, Scripted);
        impl Authority for RotateThenRefuse<'_> {
            async fn post(&self, url: &ServiceUrl, form: &[(&str, &str)]) -> Result<Answer> {
                if self.1.call_count() == 0 {
                    let mut other = stored(self.0);
                    other.refresh.as_mut().unwrap().refresh_token =
                        Zeroizing::new("rt-other".into());
                    self.0
                        .logins
                        .replace(&self.0.url, &Credential::Entra(other))
                        .unwrap();
                }
                self.1.post(url, form).await
            }
        }
        let f = fixture(1100, Some("rt-1"));
        let authority = RotateThenRefuse(
            &f,
            Scripted::new(vec![oauth("invalid_grant"), tokens("at-3", "rt-3")]),
        );
        let cred = current_credential(&f.logins, &authority, &f.url, 1000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cred.secret(), "at-3");
        let calls = authority.1.calls.lock().unwrap().clone();
        let used: Vec<_> = calls
            .iter()
            .map(|c| {
                c.2.iter()
                    .find(|(k, _)| k == "refresh_token")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        assert_eq!(used, vec!["rt-1", "rt-other"]);
    }

    /// Two callers at once: the second waits for the first and uses its token.
    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_callers_renew_once() {
        struct Yielding(Scripted);
        impl Authority for Yielding {
            async fn post(&self, url: &ServiceUrl, form: &[(&str, &str)]) -> Result<Answer> {
                tokio::task::yield_now().await;
                self.0.post(url, form).await
            }
        }
        let f = fixture(1100, Some("rt-1"));
        let short_lived = Ok(Answer::new(
            200,
            r#"{"expires_in":60,"access_token":"at-2","refresh_token":"rt-2"}"#,
        ));
        let authority = Yielding(Scripted::new(vec![short_lived]));
        let (a, b) = tokio::join!(
            current_credential(&f.logins, &authority, &f.url, 1000),
            current_credential(&f.logins, &authority, &f.url, 1000),
        );
        assert_eq!(a.unwrap().unwrap().secret(), "at-2");
        assert_eq!(b.unwrap().unwrap().secret(), "at-2");
        assert_eq!(authority.0.call_count(), 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn other_credentials_and_missing_logins_pass_through() {
        let f = fixture(1100, Some("rt-1"));
        let other = ServiceUrl::parse("https://dev.azure.com/other").unwrap();
        let script = Scripted::new(vec![]);
        assert!(
            current_credential(&f.logins, &script, &other, 1000)
                .await
                .unwrap()
                .is_none()
        );
        f.logins
            .replace(&other, &Credential::pat("pat-123456").unwrap())
            .unwrap();
        let pat = current_credential(&f.logins, &script, &other, 1000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pat.secret(), "pat-123456");
    }

    /// Another process (its own `Logins` over the same store and folders)
    /// changes the login while this one is at the authority.
    struct MeanwhileAuthority<'a> {
        fixture: &'a Fixture,
        script: Scripted,
        change: fn(&Logins, &ServiceUrl),
        other: Mutex<Option<std::thread::JoinHandle<()>>>,
    }

    impl Authority for MeanwhileAuthority<'_> {
        async fn post(&self, url: &ServiceUrl, form: &[(&str, &str)]) -> Result<Answer> {
            let info = crate::store::StorageInfo {
                backend: crate::store::Backend::Memory,
                persistent: false,
                location: "memory".into(),
                reason: "test".into(),
                warning: None,
            };
            let other = Logins::with_store(self.fixture.store.clone(), info, &self.fixture.paths);
            let (target, change) = (self.fixture.url.clone(), self.change);
            let (done, finished) = std::sync::mpsc::channel();
            let handle = std::thread::spawn(move || {
                change(&other, &target);
                let _ = done.send(());
            });
            // Without the lock the change lands now, before the renewal writes.
            let _ = finished.recv_timeout(std::time::Duration::from_millis(300));
            *self.other.lock().unwrap() = Some(handle);
            self.script.post(url, form).await
        }
    }

    async fn renew_while(f: &Fixture, change: fn(&Logins, &ServiceUrl)) -> Credential {
        let authority = MeanwhileAuthority {
            fixture: f,
            script: Scripted::new(vec![tokens("at-2", "rt-2")]),
            change,
            other: Mutex::new(None),
        };
        let renewed = current_credential(&f.logins, &authority, &f.url, 1000)
            .await
            .unwrap()
            .unwrap();
        let other = authority.other.lock().unwrap().take().unwrap();
        other.join().unwrap();
        renewed
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_logout_during_a_renewal_is_not_undone() {
        let f = fixture(1100, Some("rt-1"));
        let renewed = renew_while(&f, |other, url| {
            other.logout(url).unwrap();
        })
        .await;
        assert_eq!(
            renewed.secret(),
            "at-2",
            "this command still gets its token"
        );
        assert!(f.store.get(f.url.key()).unwrap().is_none(), "logged out");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_new_login_during_a_renewal_is_kept() {
        let f = fixture(1100, Some("rt-1"));
        renew_while(&f, |other, url| {
            let pat = Credential::pat("new-pat-123").unwrap();
            other.save_login(url, &pat, Some(false), true).unwrap();
        })
        .await;
        assert_eq!(
            f.store.get(f.url.key()).unwrap().unwrap().as_str(),
            "pat:new-pat-123"
        );
    }
}
