//! Requests to the identity platform: form POSTs whose answers are read whole
//! (they hold tokens, so the buffers are wiped) and classified by the caller.
//! [`Authority`] is the seam tests replace with canned answers.

use std::future::Future;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::http::{Cancel, ConnectOptions, HttpClients, read_capped, transport_error};
use crate::service_url::ServiceUrl;

/// Token answers are a few KiB; anything larger is not one.
const MAX_ANSWER: usize = 256 * 1024;

/// A complete answer from the authority.
pub struct Answer {
    pub status: u16,
    /// Wiped on drop: a token answer holds the tokens.
    pub body: Zeroizing<Vec<u8>>,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status,
            body: Zeroizing::new(body.into()),
        }
    }

    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }
}

/// Sends a form to an authority endpoint.
pub trait Authority: Sync {
    /// POSTs `form` (`application/x-www-form-urlencoded`) to `url`.
    ///
    /// # Errors
    /// Transport failures only (`NETWORK_ERROR`, `TIMEOUT`, `TLS_ERROR`,
    /// `PROXY_ERROR`, `ABORTED`); every HTTP status is an [`Answer`].
    fn post(
        &self,
        url: &ServiceUrl,
        form: &[(&str, &str)],
    ) -> impl Future<Output = Result<Answer>> + Send;
}

/// The real authority, over the shared HTTP clients.
pub struct HttpAuthority<'a> {
    clients: &'a HttpClients,
    options: ConnectOptions,
    cancel: &'a Cancel,
}

impl<'a> HttpAuthority<'a> {
    /// `options` are the call's: its proxy, CAs and timeout apply; skipping
    /// certificate checks never does (it was chosen for the Azure DevOps URL,
    /// not for the identity platform).
    pub fn new(clients: &'a HttpClients, options: &ConnectOptions, cancel: &'a Cancel) -> Self {
        let options = ConnectOptions {
            skip_cert_validation: false,
            ..options.clone()
        };
        HttpAuthority {
            clients,
            options,
            cancel,
        }
    }
}

impl Authority for HttpAuthority<'_> {
    async fn post(&self, url: &ServiceUrl, form: &[(&str, &str)]) -> Result<Answer> {
        if self.cancel.is_cancelled() {
            return Err(Error::Aborted);
        }
        let transport = self.clients.for_oauth(url, &self.options)?;
        let fail = |e: &reqwest::Error| transport_error(url, e, &transport, &self.options);
        let size: usize = form.iter().map(|(k, v)| k.len() + v.len() * 3 + 2).sum();
        let mut body = Zeroizing::new(String::with_capacity(size));
        form_urlencoded::Serializer::new(&mut *body).extend_pairs(form.iter());
        let exchange = async {
            let mut response = transport
                .client
                .post(url.as_str())
                .header(reqwest::header::ACCEPT, "application/json")
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(std::mem::take(&mut *body))
                .send()
                .await
                .map_err(|e| fail(&e))?;
            answer_of(&mut response, url.to_string(), fail).await
        };
        tokio::select! {
            answer = exchange => answer,
            () = self.cancel.cancelled() => Err(Error::Aborted),
        }
    }
}

/// The answer of an OAuth or identity endpoint (`shown`: the endpoint as
/// messages name it), read whole up to 256 KiB. A redirect is an error, never
/// followed: the request holds a device code, a refresh token, a client
/// secret or an identity header; where it pointed is not shown, it came from
/// the network.
///
/// # Errors
/// `AUTHORITY_ERROR` for a redirect or an oversized answer; what `fail` makes
/// of a transport failure.
pub async fn answer_of(
    response: &mut reqwest::Response,
    shown: String,
    fail: impl Fn(&reqwest::Error) -> Error,
) -> Result<Answer> {
    let status = response.status().as_u16();
    let refused = |reason: String| Error::Authority {
        authority: shown.clone(),
        status: Some(status),
        reason,
    };
    if response.status().is_redirection() {
        return Err(refused(format!(
            "it answered with a redirect (HTTP {status}), which sign-in and identity requests never follow"
        )));
    }
    let read = read_capped(response, MAX_ANSWER, fail).await?;
    if read.truncated {
        return Err(refused("the answer is larger than 256 KiB".into()));
    }
    Ok(Answer {
        status,
        body: read.body,
    })
}

/// Whether a failure may pass if tried again (the network, not the request).
pub fn is_transient(err: &Error) -> bool {
    matches!(
        err,
        Error::Network { .. } | Error::Timeout { .. } | Error::ServerError { .. }
    )
}
