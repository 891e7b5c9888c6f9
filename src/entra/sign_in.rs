//! The start of the interactive sign-in: [`start`] discovers the tenant and
//! asks for a device code, so the caller can show it. Waiting for approval and
//! storing the login is policy: `crate::auth::sign_in::complete`.

use tokio::time::Instant;

use crate::entra::device_code::DeviceAuthorization;
use crate::entra::discovery::discover_tenant;
use crate::entra::hosts::check_entra_destination;
use crate::entra::transport::{Authority, HttpAuthority};
use crate::entra::{EntraConfig, SCOPE, unix_now};
use crate::error::Result;
use crate::http::{Cancel, ConnectOptions, HttpClients};
use crate::service_url::ServiceUrl;

/// A sign-in waiting for the user. (No `Debug`: its options may hold a
/// proxy URL with a password.)
pub struct PendingSignIn {
    pub url: ServiceUrl,
    pub instance: ServiceUrl,
    pub authority: ServiceUrl,
    pub tenant: String,
    pub client_id: String,
    pub code: DeviceAuthorization,
    /// When the code expires, on the monotonic clock (polling stops there).
    pub deadline: Instant,
    /// The same moment in Unix seconds, for display.
    pub expires_at: u64,
    pub options: ConnectOptions,
    /// `TFX_AUTH_ENTRA_HOSTS`, checked again when the login is stored.
    pub entra_hosts: Option<String>,
}

/// The `oauth2/v2.0/<name>` endpoint of an authority.
pub fn endpoint(authority: &ServiceUrl, name: &str) -> ServiceUrl {
    ServiceUrl::parse(authority.join(&format!("oauth2/v2.0/{name}")).as_str())
        .expect("an authority URL with an endpoint path stays a valid URL")
}

/// Finds the tenant (unless one was given) and asks for a device code; first
/// of all, refuses a URL the Entra host rule does not allow (`entra_hosts` is
/// `TFX_AUTH_ENTRA_HOSTS`), before the organisation or the authority hears
/// of it.
///
/// # Errors
/// `ENTRA_HOST_NOT_ALLOWED`, transport errors reaching the organisation or
/// the authority, `AUTHORITY_ERROR` when the authority refuses, `ABORTED`.
pub async fn start(
    clients: &HttpClients,
    url: ServiceUrl,
    config: &EntraConfig,
    options: ConnectOptions,
    entra_hosts: Option<String>,
    cancel: &Cancel,
) -> Result<PendingSignIn> {
    check_entra_destination(&url, entra_hosts.as_deref(), options.skip_cert_validation)?;
    let discovered = if config.wants_discovery() {
        discover_tenant(clients, &url, &options, cancel).await?
    } else {
        None
    };
    let tenant = config.tenant(discovered.as_deref());
    let authority = config.authority(&tenant);
    let http = HttpAuthority::new(clients, &options, cancel);
    let devicecode = endpoint(&authority, "devicecode");
    let form = [("client_id", config.client_id.as_str()), ("scope", SCOPE)];
    let answer = http.post(&devicecode, &form).await?;
    let code = DeviceAuthorization::parse(&answer, &devicecode)?;
    Ok(PendingSignIn {
        deadline: Instant::now() + code.expires_in,
        expires_at: unix_now() + code.expires_in.as_secs(),
        instance: config.instance().clone(),
        client_id: config.client_id.clone(),
        url,
        authority,
        tenant,
        code,
        options,
        entra_hosts,
    })
}
