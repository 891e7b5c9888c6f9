//! Login: validate first, store only on success (the earlier login stays whole on any failure);
//! and validation alone, under the same rule for where a caller's Entra token may go.

use crate::auth::logins::Logins;
use crate::credential::Credential;
use crate::entra::hosts;
use crate::error::Result;
use crate::http::{Cancel, ConnectOptions, HttpClients};
use crate::service_url::ServiceUrl;
use crate::store::StorageInfo;
use crate::validate::ConnectionInfo;

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub connection: ConnectionInfo,
    pub storage: StorageInfo,
}

/// Validates `credential` against `url`; only when the server accepted it,
/// stores it, keeps the certificate choice for this URL alone and makes the
/// URL the default. On any failure nothing is written and an earlier login
/// for the URL is untouched. An Entra login is refused, before any request,
/// for a URL the Entra host rule does not allow (`entra_hosts` is
/// `TFX_AUTH_ENTRA_HOSTS`): it could be neither sent nor renewed there.
///
/// # Errors
/// `ENTRA_HOST_NOT_ALLOWED`, and every error of validation and the store.
pub async fn login(
    logins: &Logins,
    clients: &HttpClients,
    url: &ServiceUrl,
    credential: &Credential,
    options: &ConnectOptions,
    entra_hosts: Option<&str>,
    cancel: &Cancel,
) -> Result<LoginOutcome> {
    let connection = validate(clients, url, credential, options, entra_hosts, cancel).await?;
    // Store calls are short and blocking (D-Bus or a locked file).
    tokio::task::block_in_place(|| {
        logins.save_login(url, credential, Some(options.skip_cert_validation), true)
    })?;
    Ok(LoginOutcome {
        connection,
        storage: logins.storage_info().clone(),
    })
}

/// One request proving `credential` works for `url` ([`crate::validate`]).
/// An Entra token, whoever gave it, is sent only where the Entra host rule
/// allows (`entra_hosts` is `TFX_AUTH_ENTRA_HOSTS`): otherwise refused before
/// any request.
///
/// # Errors
/// `ENTRA_HOST_NOT_ALLOWED`, and every error of validation.
pub async fn validate(
    clients: &HttpClients,
    url: &ServiceUrl,
    credential: &Credential,
    options: &ConnectOptions,
    entra_hosts: Option<&str>,
    cancel: &Cancel,
) -> Result<ConnectionInfo> {
    if let Credential::Entra(_) = credential {
        hosts::check_entra_destination(url, entra_hosts, options.skip_cert_validation)?;
    }
    crate::validate::validate(clients, url, credential, options, cancel).await
}
