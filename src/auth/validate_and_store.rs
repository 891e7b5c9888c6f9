//! Login: validate first, store only on success (the earlier login stays whole on any failure).

use crate::auth::logins::Logins;
use crate::credential::Credential;
use crate::entra::hosts;
use crate::error::Result;
use crate::http::{Cancel, ConnectOptions, HttpClients};
use crate::service_url::ServiceUrl;
use crate::store::StorageInfo;
use crate::validate::{ConnectionInfo, validate};

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
    if let Credential::Entra(_) = credential {
        hosts::check_entra_destination(url, entra_hosts, options.skip_cert_validation)?;
    }
    let connection = validate(clients, url, credential, options, cancel).await?;
    // Store calls are short and blocking (D-Bus or a locked file).
    tokio::task::block_in_place(|| {
        logins.save_login(url, credential, Some(options.skip_cert_validation), true)
    })?;
    Ok(LoginOutcome {
        connection,
        storage: logins.storage_info().clone(),
    })
}
