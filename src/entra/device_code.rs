//! The OAuth 2.0 device authorization grant (RFC 8628) as the Microsoft
//! identity platform runs it: the device code answer, and the polling of the
//! token endpoint until the user approved, declined, or the code expired.
//!
//! [`classify_poll`] is the state machine (one answer in, one step out) and
//! [`poll`] drives it at the server's interval; both are tested against
//! canned answers on a paused clock.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::entra::token::{OAuthError, TokenAnswer};
use crate::entra::transport::{Answer, Authority, is_transient};
use crate::error::{Error, Result};
use crate::http::Cancel;
use crate::secret::Secret;
use crate::service_url::ServiceUrl;

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 section 3.2: the interval when the server names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 section 3.5: `slow_down` adds 5 seconds to the interval for good.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Network failures tolerated in a row while polling.
const MAX_TRANSIENT_FAILURES: u32 = 3;

/// What the device authorization endpoint answered.
pub struct DeviceAuthorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: Duration,
    pub interval: Duration,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"<redacted>")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

impl DeviceAuthorization {
    /// Reads the device code answer. The user code and URL are checked
    /// before they reach a terminal: the answer is not ours to trust blindly.
    ///
    /// # Errors
    /// `AUTHORITY_ERROR` for an error answer or one without the needed fields.
    pub fn parse(answer: &Answer, endpoint: &ServiceUrl) -> Result<Self> {
        if answer.status != 200 {
            return Err(refused(endpoint, answer));
        }
        let unexpected = |what: &str| Error::Authority {
            authority: endpoint.to_string(),
            status: Some(answer.status),
            reason: format!("the device code answer {what}"),
        };
        let mut value: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|_| unexpected("is not JSON"))?;
        let device_code = match value.get_mut("device_code").map(serde_json::Value::take) {
            Some(serde_json::Value::String(code)) if !code.is_empty() => Zeroizing::new(code),
            _ => return Err(unexpected("has no device_code")),
        };
        let user_code = value
            .get("user_code")
            .and_then(|v| v.as_str())
            .filter(|c| {
                (1..=32).contains(&c.len())
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
            })
            .ok_or_else(|| unexpected("has no usable user_code"))?
            .to_string();
        let verification_uri = value
            .get("verification_uri")
            .or_else(|| value.get("verification_url"))
            .and_then(|v| v.as_str())
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.as_str().len() <= 512)
            .ok_or_else(|| unexpected("has no usable verification_uri"))?
            .to_string();
        let seconds = |field: &str| {
            value.get(field).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
        };
        let expires_in = seconds("expires_in")
            .filter(|s| (1..=86_400).contains(s))
            .map(Duration::from_secs)
            .ok_or_else(|| unexpected("has no usable expires_in"))?;
        // At least a second apart, at most a minute: a server cannot make us
        // hammer it, nor stall the login.
        let interval = seconds("interval")
            .map(|s| Duration::from_secs(s.clamp(1, 60)))
            .unwrap_or(DEFAULT_INTERVAL);
        Ok(DeviceAuthorization {
            device_code,
            user_code,
            verification_uri,
            expires_in,
            interval,
        })
    }

    /// What to tell the user.
    pub fn message(&self) -> String {
        format!(
            "To sign in, open {} in a browser and enter the code {} (valid for {} min).",
            self.verification_uri,
            self.user_code,
            minutes(self.expires_in)
        )
    }
}

fn minutes(d: Duration) -> u64 {
    d.as_secs().div_ceil(60)
}

/// The error for an answer the authority gave instead of what was asked.
pub fn refused(endpoint: &ServiceUrl, answer: &Answer) -> Error {
    let reason = match OAuthError::parse(&answer.body) {
        Some(oauth) => format!("{oauth} (HTTP {})", answer.status),
        None => format!("HTTP {}", answer.status),
    };
    if answer.is_server_error() {
        return Error::ServerError {
            url: endpoint.to_string(),
            status: answer.status,
        };
    }
    Error::Authority {
        authority: endpoint.to_string(),
        status: Some(answer.status),
        reason,
    }
}

/// One step of the polling state machine.
#[derive(Debug)]
pub enum PollStep {
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: ask again after the interval plus 5 seconds, from now on.
    SlowDown,
    /// The user approved: the tokens.
    Done(TokenAnswer),
    /// `access_denied` / `authorization_declined`.
    Declined,
    /// `expired_token` / `code_expired`: the code is no longer valid.
    Expired,
    /// The server failed (5xx); try again.
    Transient(Error),
    /// Anything else ends the sign-in.
    Failed(Error),
}

/// Reads one answer of the token endpoint to a device code poll.
pub fn classify_poll(answer: &Answer, endpoint: &ServiceUrl) -> PollStep {
    if answer.status == 200 {
        return match TokenAnswer::parse(&answer.body) {
            Some(tokens) => PollStep::Done(tokens),
            None => PollStep::Failed(Error::Authority {
                authority: endpoint.to_string(),
                status: Some(200),
                reason: "the token answer has no usable access token".into(),
            }),
        };
    }
    if answer.is_server_error() {
        return PollStep::Transient(refused(endpoint, answer));
    }
    match OAuthError::parse(&answer.body).map(|e| e.error) {
        Some(e) if e == "authorization_pending" => PollStep::Pending,
        Some(e) if e == "slow_down" => PollStep::SlowDown,
        Some(e) if e == "access_denied" || e == "authorization_declined" => PollStep::Declined,
        Some(e) if e == "expired_token" || e == "code_expired" => PollStep::Expired,
        _ => PollStep::Failed(refused(endpoint, answer)),
    }
}

/// Polls `endpoint` (the token endpoint) until the sign-in ends or `deadline`
/// (the code's expiry) passes, waiting the interval before every request.
///
/// # Errors
/// `SIGN_IN_DECLINED`, `SIGN_IN_EXPIRED`, `ABORTED`, `AUTHORITY_ERROR`, or
/// the transport error that persisted over three attempts.
pub async fn poll<A: Authority>(
    authority: &A,
    endpoint: &ServiceUrl,
    client_id: &str,
    code: &DeviceAuthorization,
    deadline: Instant,
    cancel: &Cancel,
) -> Result<TokenAnswer> {
    let expired = || Error::SignInExpired {
        minutes: minutes(code.expires_in),
    };
    let mut interval = code.interval;
    let mut failures = 0;
    loop {
        if cancel.is_cancelled() {
            return Err(Error::Aborted);
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = cancel.cancelled() => return Err(Error::Aborted),
        }
        if Instant::now() >= deadline {
            return Err(expired());
        }
        let form = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", client_id),
            ("device_code", code.device_code.as_str()),
        ];
        let step = match authority.post(endpoint, &form).await {
            Ok(answer) => classify_poll(&answer, endpoint),
            Err(e) if is_transient(&e) => PollStep::Transient(e),
            Err(e) => return Err(e),
        };
        match step {
            PollStep::Done(tokens) => return Ok(tokens),
            PollStep::Pending => failures = 0,
            PollStep::SlowDown => {
                failures = 0;
                interval += SLOW_DOWN_STEP;
            }
            PollStep::Declined => {
                return Err(Error::SignInDeclined {
                    authority: endpoint.to_string(),
                });
            }
            PollStep::Expired => return Err(expired()),
            PollStep::Transient(e) => {
                failures += 1;
                if failures >= MAX_TRANSIENT_FAILURES {
                    return Err(e);
                }
            }
            PollStep::Failed(e) => return Err(e),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// One request: when, to which URL, with which form.
    pub type Call = (Instant, String, Vec<(String, String)>);

    /// An authority answering from a script, recording when and what was asked.
    #[derive(Default)]
    pub struct Scripted {
        pub answers: Mutex<VecDeque<Result<Answer>>>,
        pub calls: Mutex<Vec<Call>>,
    }

    impl Scripted {
        pub fn new(answers: Vec<Result<Answer>>) -> Self {
            Scripted {
                answers: Mutex::new(answers.into()),
                calls: Mutex::default(),
            }
        }

        pub fn call_count(&self) -> usize {
            self.calls.lock().unwrap().len()
        }

        /// Seconds after `start` of every request.
        fn times(&self, start: Instant) -> Vec<u64> {
            let calls = self.calls.lock().unwrap();
            calls
                .iter()
                .map(|(t, _, _)| (*t - start).as_secs())
                .collect()
        }
    }

    impl Authority for Scripted {
        async fn post(&self, url: &ServiceUrl, form: &[(&str, &str)]) -> Result<Answer> {
            self.calls.lock().unwrap().push((
                Instant::now(),
                url.to_string(),
                form.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ));
            self.answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("the script has an answer for every request")
        }
    }

    pub fn oauth(error: &str) -> Result<Answer> {
        Ok(Answer::new(
            400,
            format!(
                r#"{{"error":"{error}","error_description":"AADSTS70016: pending","error_codes":[70016]}}"#
            ),
        ))
    }

    pub fn tokens(access: &str, refresh: &str) -> Result<Answer> {
        Ok(Answer::new(
            200,
            format!(
                r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{access}","refresh_token":"{refresh}"}}"#
            ),
        ))
    }

    fn endpoint() -> ServiceUrl {
        ServiceUrl::parse("https://login.microsoftonline.com/t1/oauth2/v2.0/token").unwrap()
    }

    fn code(expires_in: u64, interval: u64) -> DeviceAuthorization {
        DeviceAuthorization {
            device_code: Zeroizing::new("dc-secret".into()),
            user_code: "ABCD-EFGH".into(),
            verification_uri: "https://microsoft.com/devicelogin".into(),
            expires_in: Duration::from_secs(expires_in),
            interval: Duration::from_secs(interval),
        }
    }

    async fn run(script: &Scripted, expires_in: u64, interval: u64) -> Result<TokenAnswer> {
        let code = code(expires_in, interval);
        let deadline = Instant::now() + code.expires_in;
        poll(
            script,
            &endpoint(),
            "client-1",
            &code,
            deadline,
            &Cancel::default(),
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn pending_until_approved_at_the_servers_interval() {
        let script = Scripted::new(vec![
            oauth("authorization_pending"),
            oauth("authorization_pending"),
            tokens("at", "rt"),
        ]);
        let start = Instant::now();
        let answer = run(&script, 900, 5).await.unwrap();
        assert_eq!(answer.access_token.as_str(), "at");
        assert_eq!(script.times(start), vec![5, 10, 15]);
        let calls = script.calls.lock().unwrap();
        let (_, url, form) = &calls[0];
        assert_eq!(
            url,
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
        assert_eq!(
            form,
            &vec![
                ("grant_type".to_string(), DEVICE_CODE_GRANT.to_string()),
                ("client_id".to_string(), "client-1".to_string()),
                ("device_code".to_string(), "dc-secret".to_string()),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_down_adds_five_seconds_for_good() {
        let script = Scripted::new(vec![
            oauth("authorization_pending"),
            oauth("slow_down"),
            oauth("authorization_pending"),
            tokens("at", "rt"),
        ]);
        let start = Instant::now();
        run(&script, 900, 5).await.unwrap();
        assert_eq!(script.times(start), vec![5, 10, 20, 30]);
    }

    #[tokio::test(start_paused = true)]
    async fn declined_expired_and_refused_end_the_sign_in_with_their_codes() {
        for (answer, code) in [
            (oauth("access_denied"), "SIGN_IN_DECLINED"),
            (oauth("authorization_declined"), "SIGN_IN_DECLINED"),
            (oauth("expired_token"), "SIGN_IN_EXPIRED"),
            (oauth("invalid_client"), "AUTHORITY_ERROR"),
            (oauth("bad_verification_code"), "AUTHORITY_ERROR"),
            (Ok(Answer::new(200, "{}")), "AUTHORITY_ERROR"),
            (Ok(Answer::new(404, "<html>")), "AUTHORITY_ERROR"),
            (
                Err(Error::Tls {
                    url: "x".into(),
                    reason: "y".into(),
                }),
                "TLS_ERROR",
            ),
        ] {
            let script = Scripted::new(vec![oauth("authorization_pending"), answer]);
            assert_eq!(run(&script, 900, 5).await.unwrap_err().code(), code);
            assert_eq!(script.call_count(), 2);
        }
        let refused = run(&Scripted::new(vec![oauth("invalid_client")]), 900, 5)
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("invalid_client, AADSTS70016 (HTTP 400)"),
            "{refused}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_code_expires_on_our_clock_too() {
        // A server that says "pending" for ever: no request after the code's expiry.
        let script = Scripted::new(vec![
            oauth("authorization_pending"),
            oauth("authorization_pending"),
        ]);
        let err = run(&script, 12, 5).await.unwrap_err();
        assert_eq!(err.code(), "SIGN_IN_EXPIRED");
        assert_eq!(script.call_count(), 2);
        assert!(err.to_string().contains("valid for 1 min"));
    }

    #[tokio::test(start_paused = true)]
    async fn server_and_network_failures_are_retried_a_few_times() {
        let net = || {
            Err(Error::Network {
                url: "x".into(),
                reason: "reset".into(),
            })
        };
        let ok = Scripted::new(vec![Ok(Answer::new(503, "")), net(), tokens("at", "rt")]);
        assert!(run(&ok, 900, 5).await.is_ok());
        let down = Scripted::new(vec![
            Ok(Answer::new(503, "")),
            Ok(Answer::new(502, "")),
            Ok(Answer::new(500, "")),
        ]);
        assert_eq!(run(&down, 900, 5).await.unwrap_err().code(), "SERVER_ERROR");
    }

    #[tokio::test(start_paused = true)]
    async fn an_abort_ends_the_wait_at_once() {
        let script = Scripted::new(vec![oauth("authorization_pending")]);
        let cancel = Cancel::default();
        let code = code(900, 5);
        let start = Instant::now();
        let endpoint = endpoint();
        let (result, ()) = tokio::join!(
            poll(
                &script,
                &endpoint,
                "c",
                &code,
                start + code.expires_in,
                &cancel
            ),
            async {
                tokio::time::sleep(Duration::from_secs(7)).await;
                cancel.cancel();
            }
        );
        assert_eq!(result.unwrap_err().code(), "ABORTED");
        assert_eq!(Instant::now() - start, Duration::from_secs(7));
        assert_eq!(script.call_count(), 1);
    }

    #[test]
    fn the_device_code_answer_is_read_and_checked() {
        let endpoint =
            ServiceUrl::parse("https://login.microsoftonline.com/t1/oauth2/v2.0/devicecode")
                .unwrap();
        let good = Answer::new(
            200,
            r#"{"user_code":"FGHJ-KLMN","device_code":"dc-secret","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":5,"message":"To sign in, use a web browser..."}"#,
        );
        let code = DeviceAuthorization::parse(&good, &endpoint).unwrap();
        assert_eq!(
            code.message(),
            "To sign in, open https://microsoft.com/devicelogin in a browser and enter the code FGHJ-KLMN (valid for 15 min)."
        );
        assert!(!format!("{code:?}").contains("dc-secret"));
        assert_eq!(code.interval, Duration::from_secs(5));

        let no_interval = Answer::new(
            200,
            r#"{"user_code":"A","device_code":"d","verification_uri":"https://x/","expires_in":"600"}"#,
        );
        assert_eq!(
            DeviceAuthorization::parse(&no_interval, &endpoint)
                .unwrap()
                .interval,
            DEFAULT_INTERVAL
        );

        for (status, body) in [
            (
                200,
                r#"{"user_code":"A\u001b[2J","device_code":"d","verification_uri":"https://x/","expires_in":600}"#,
            ),
            (
                200,
                r#"{"user_code":"A","device_code":"","verification_uri":"https://x/","expires_in":600}"#,
            ),
            (
                200,
                r#"{"user_code":"A","device_code":"d","verification_uri":"javascript:x","expires_in":600}"#,
            ),
            (
                200,
                r#"{"user_code":"A","device_code":"d","verification_uri":"https://x/","expires_in":0}"#,
            ),
            (200, "<html>"),
            (400, r#"{"error":"invalid_scope","error_codes":[70011]}"#),
        ] {
            let err =
                DeviceAuthorization::parse(&Answer::new(status, body), &endpoint).unwrap_err();
            assert_eq!(err.code(), "AUTHORITY_ERROR", "{body}");
        }
    }
}
