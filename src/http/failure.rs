//! What went wrong when no complete answer arrived (timeout, TLS, proxy,
//! network), told apart from typed facts: reqwest's `is_timeout` /
//! `is_connect`, and rustls and io errors found in the source chain. And the
//! one capped read of an answer's body.

use std::error::Error as StdError;

use zeroize::Zeroizing;

use super::{ConnectOptions, MAX_REDIRECTS, Transport};
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// A body read up to a cap.
pub struct Capped {
    /// Wiped on drop: an answer may hold tokens.
    pub body: Zeroizing<Vec<u8>>,
    /// The body was longer than the cap and was cut there.
    pub truncated: bool,
}

/// Reads `response`'s body, at most `cap` bytes. The buffer is sized up front
/// from the announced length, so growing it leaves no partial copies behind.
///
/// # Errors
/// What `fail` makes of a transport failure while reading.
pub async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
    fail: impl Fn(&reqwest::Error) -> Error,
) -> Result<Capped> {
    let expected = response.content_length().unwrap_or(16 * 1024) as usize;
    let mut body = Zeroizing::new(Vec::with_capacity(expected.min(cap)));
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
        if body.len() + chunk.len() > cap {
            return Ok(Capped {
                body,
                truncated: true,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Capped {
        body,
        truncated: false,
    })
}

/// Classifies a failure before a complete response arrived.
pub fn transport_error(
    url: &ServiceUrl,
    err: &reqwest::Error,
    transport: &Transport,
    options: &ConnectOptions,
) -> Error {
    let proxy_in_use = transport.proxy.is_some();
    let shown = url.to_string();
    if err.is_timeout() {
        return Error::Timeout {
            url: shown,
            millis: options.timeout().as_millis(),
        };
    }
    if let Some(tls) = find_cause::<rustls::Error>(err) {
        return Error::Tls {
            url: shown,
            reason: super::tls::describe_failure(tls, options, transport.extra_ca_file.as_deref()),
        };
    }
    if err.is_redirect() {
        return Error::NotAzureDevOps {
            url: shown,
            status: None,
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        };
    }
    let io_kind = find_cause::<std::io::Error>(err).map(std::io::Error::kind);
    if proxy_in_use && err.is_connect() {
        return Error::Proxy {
            url: shown,
            status: None,
            reason: "the proxy refused the connection or the tunnel".into(),
        };
    }
    use std::io::ErrorKind as K;
    let reason = match io_kind {
        Some(K::ConnectionRefused) => "connection refused".to_string(),
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) => {
            "the connection was closed before the response was complete".to_string()
        }
        _ if err.is_connect() => "cannot connect (host name not found or unreachable)".to_string(),
        _ if err.is_body() || err.is_decode() => {
            "the connection was closed before the response was complete".to_string()
        }
        _ => "the request failed".to_string(),
    };
    Error::Network { url: shown, reason }
}

/// The first cause of type `T` in the source chain. hyper-rustls wraps
/// tokio-rustls's `io::Error` in another `io::Error`, whose `source()` skips
/// the inner one, so an io::Error's inner error is searched as well.
fn find_cause<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    if let Some(found) = err.downcast_ref::<T>() {
        return Some(found);
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        && let Some(found) = find_cause::<T>(inner)
    {
        return Some(found);
    }
    err.source().and_then(find_cause::<T>)
}
