//! The end of the interactive sign-in: wait for the user's approval at the
//! authority, then log in with the access token like any other credential
//! (validated against the organisation, stored with its refresh token, made
//! the default). The start is [`crate::entra::sign_in::start`].

use crate::auth::logins::Logins;
use crate::auth::validate_and_store::{LoginOutcome, login};
use crate::credential::Credential;
use crate::credential::entra::claims;
use crate::entra::device_code;
use crate::entra::sign_in::{PendingSignIn, endpoint};
use crate::entra::transport::HttpAuthority;
use crate::entra::{authority_url, unix_now};
use crate::error::Result;
use crate::http::{Cancel, HttpClients};

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
        pending.entra_hosts.as_deref(),
        cancel,
    )
    .await
}
