//! The interactive sign-in, in two steps so the caller can show the code in
//! between: [`start`] discovers the tenant and asks for a device code;
//! [`complete`] waits for the user's approval, then validates the access
//! token against Azure DevOps and stores the login like any other.

use tokio::time::Instant;

use crate::credential::Credential;
use crate::credential::entra::claims;
use crate::entra::device_code::{self, DeviceAuthorization};
use crate::entra::discovery::discover_tenant;
use crate::entra::transport::{Authority, HttpAuthority};
use crate::entra::{EntraConfig, SCOPE, authority_url, unix_now};
use crate::error::Result;
use crate::http::{Cancel, ConnectOptions, HttpClients};
use crate::login::{LoginOutcome, login};
use crate::logins::Logins;
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
}

/// The `oauth2/v2.0/<name>` endpoint of an authority.
pub fn endpoint(authority: &ServiceUrl, name: &str) -> ServiceUrl {
    ServiceUrl::parse(authority.join(&format!("oauth2/v2.0/{name}")).as_str())
        .expect("an authority URL with an endpoint path stays a valid URL")
}

/// Finds the tenant (unless one was given) and asks for a device code.
///
/// # Errors
/// Transport errors reaching the organisation or the authority,
/// `AUTHORITY_ERROR` when the authority refuses, `ABORTED`.
pub async fn start(
    clients: &HttpClients,
    url: ServiceUrl,
    config: &EntraConfig,
    options: ConnectOptions,
    cancel: &Cancel,
) -> Result<PendingSignIn> {
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
    })
}

/// Waits for the user's approval, then logs in with the access token:
/// validated against the organisation, stored with its refresh token, made
/// the default. Nothing is stored when any step fails.
///
/// # Errors
/// `SIGN_IN_DECLINED`, `SIGN_IN_EXPIRED`, `ABORTED`, `AUTHORITY_ERROR`, and
/// every error of a login (the organisation may still reject the account).
pub async fn complete(
    logins: &Logins,
    clients: &HttpClients,
    pending: PendingSignIn,
    cancel: &Cancel,
) -> Result<LoginOutcome> {
    let http = HttpAuthority::new(clients, &pending.options, cancel);
    let token_endpoint = endpoint(&pending.authority, "token");
    let answer = device_code::poll(
        &http,
        &token_endpoint,
        &pending.client_id,
        &pending.code,
        pending.deadline,
        cancel,
    )
    .await?;
    // Renew against the tenant that issued the token ("organizations" is only
    // where a sign-in starts).
    let (tenant, authority) = match claims(&answer.access_token).and_then(|c| c.tenant) {
        Some(tid) if tid != pending.tenant => {
            let authority = authority_url(&pending.instance, &tid);
            (tid, authority)
        }
        _ => (pending.tenant.clone(), pending.authority.clone()),
    };
    let token = answer.into_signed_in(
        unix_now(),
        authority.as_str().to_string(),
        tenant,
        pending.client_id.clone(),
    )?;
    let credential = Credential::Entra(token);
    login(
        logins,
        clients,
        &pending.url,
        &credential,
        &pending.options,
        cancel,
    )
    .await
}
