//! Requests to the endpoints a CI machine gets its identity from (the
//! pipeline's OIDC API, GitHub's ID token service, the managed identity
//! endpoints): a GET or an empty POST with headers, whose answer is read
//! whole and wiped. No redirect is followed (the requests carry the job
//! token or the identity header). [`IdentityHttp`] is the seam tests replace.

use std::future::Future;

use url::Url;

use crate::entra::transport::{Answer, answer_of};
use crate::error::{Error, Result};
use crate::http::{Cancel, ConnectOptions, HttpClients, transport_error};
use crate::service_url::ServiceUrl;

/// One request: `GET`, or `POST` with no body.
pub struct IdentityRequest<'a> {
    pub post: bool,
    pub url: &'a Url,
    /// Header values may be secrets; they never reach a message.
    pub headers: &'a [(&'static str, &'a str)],
}

/// Sends a request to an identity endpoint.
pub trait IdentityHttp: Sync {
    /// # Errors
    /// Transport failures (`NETWORK_ERROR`, `TIMEOUT`, `TLS_ERROR`,
    /// `PROXY_ERROR`, `ABORTED`) and a redirect (`AUTHORITY_ERROR`); every
    /// other HTTP status is an [`Answer`].
    fn send(&self, request: IdentityRequest<'_>) -> impl Future<Output = Result<Answer>> + Send;
}

/// `scheme://host[:port]/path` of an endpoint: what a message may show (the
/// query may hold anything the variable held).
pub fn shown(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// The real endpoints, over the shared HTTP clients (no redirects).
pub struct HttpIdentity<'a> {
    clients: &'a HttpClients,
    options: ConnectOptions,
    cancel: &'a Cancel,
}

impl<'a> HttpIdentity<'a> {
    /// The call's proxy, CAs and timeout apply; skipping certificate checks
    /// never does.
    pub fn new(clients: &'a HttpClients, options: &ConnectOptions, cancel: &'a Cancel) -> Self {
        HttpIdentity {
            clients,
            options: ConnectOptions {
                skip_cert_validation: false,
                ..options.clone()
            },
            cancel,
        }
    }
}

impl IdentityHttp for HttpIdentity<'_> {
    async fn send(&self, request: IdentityRequest<'_>) -> Result<Answer> {
        if self.cancel.is_cancelled() {
            return Err(Error::Aborted);
        }
        // The client is chosen by origin (proxy, trust); the request goes to the whole URL.
        let origin = ServiceUrl::parse(&request.url.origin().ascii_serialization())?;
        let transport = self.clients.for_oauth(&origin, &self.options)?;
        let fail = |e: &reqwest::Error| transport_error(&origin, e, &transport, &self.options);
        let exchange = async {
            let mut builder = if request.post {
                transport.client.post(request.url.as_str())
            } else {
                transport.client.get(request.url.as_str())
            };
            builder = builder.header(reqwest::header::ACCEPT, "application/json");
            for (name, value) in request.headers {
                let mut value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                    Error::invalid_credential(format!("the {name} header value is not usable"))
                })?;
                value.set_sensitive(true);
                builder = builder.header(*name, value);
            }
            let mut response = builder.send().await.map_err(|e| fail(&e))?;
            answer_of(&mut response, shown(request.url), fail).await
        };
        tokio::select! {
            answer = exchange => answer,
            () = self.cancel.cancelled() => Err(Error::Aborted),
        }
    }
}
