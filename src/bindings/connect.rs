//! The napi layer of validation and login: one `connectionData` request, and
//! login = validate, then store. Conversion only.

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::options::options_from_js;
use super::{
    CredentialData, StorageInfo, core_promise, credential_from_js, http_clients, logins,
    storage_to_js,
};
use crate::auth::validate_and_store::LoginOutcome;
use crate::credential::Credential as CoreCredential;
use crate::error::Result as CoreResult;
use crate::http::ConnectOptions as CoreOptions;
use crate::service_url::ServiceUrl;
use crate::validate::ConnectionInfo as CoreConnection;

#[napi(object)]
pub struct AuthenticatedUser {
    pub id: String,
    pub display_name: Option<String>,
    /// The account or unique name (`peter@fabfiber.com`, `FABFIBER\\peter`).
    pub unique_name: Option<String>,
}

/// What the server said about the connection.
#[napi(object)]
pub struct ConnectionInfo {
    /// The URL as typed (no trailing slash).
    pub service_url: String,
    pub normalized_url: String,
    pub authenticated_user: AuthenticatedUser,
    pub instance_id: Option<String>,
    pub deployment_id: Option<String>,
    #[napi(ts_type = "'hosted' | 'onPremises' | 'unknown'")]
    pub deployment_type: String,
    /// Warnings also printed on stderr (for example credentials over plain http).
    pub warnings: Vec<String>,
}

impl From<CoreConnection> for ConnectionInfo {
    fn from(c: CoreConnection) -> Self {
        ConnectionInfo {
            service_url: c.service_url,
            normalized_url: c.normalized_url,
            authenticated_user: AuthenticatedUser {
                id: c.user.id,
                display_name: c.user.display_name,
                unique_name: c.user.unique_name,
            },
            instance_id: c.instance_id,
            deployment_id: c.deployment_id,
            deployment_type: c.deployment_type.as_str().into(),
            warnings: c.warnings,
        }
    }
}

#[napi(object)]
pub struct LoginResult {
    pub connection: ConnectionInfo,
    pub storage: StorageInfo,
}

/// Prints the connection's warnings (on the JS thread) and converts the outcome.
pub(super) fn login_result(outcome: LoginOutcome) -> napi::Result<LoginResult> {
    print_warnings(&outcome.connection);
    Ok(LoginResult {
        storage: storage_to_js(&outcome.storage),
        connection: outcome.connection.into(),
    })
}

fn print_warnings(connection: &CoreConnection) {
    for warning in &connection.warnings {
        eprintln!("{warning}");
    }
}

/// The arguments `validateConnection` and `login` share, converted (errors
/// reject the promise with their code).
fn arguments(
    service_url: &str,
    credential: CredentialData,
    options: CoreResult<CoreOptions>,
) -> CoreResult<(ServiceUrl, CoreCredential, CoreOptions)> {
    let options = options?;
    let url = ServiceUrl::parse(service_url)?;
    Ok((url, credential_from_js(credential)?, options))
}

/// Checks a credential against the server with one request
/// (`GET {serviceUrl}/_apis/connectionData`). Stores nothing.
/// Rejects with a coded error telling the failure apart.
#[napi(
    ts_args_type = "serviceUrl: string, credential: Credential, options?: ConnectOptions",
    ts_return_type = "Promise<ConnectionInfo>"
)]
pub fn validate_connection<'env>(
    env: &'env Env,
    service_url: String,
    credential: CredentialData,
    options: Option<Object>,
) -> napi::Result<PromiseRaw<'env, ConnectionInfo>> {
    let (options, cancel) = options_from_js(env, options)?;
    core_promise(
        env,
        async move {
            let (url, credential, options) = arguments(&service_url, credential, options)?;
            crate::auth::validate_and_store::validate(
                http_clients(),
                &url,
                &credential,
                &options,
                super::resolve::source_env().entra_hosts.as_deref(),
                &cancel,
            )
            .await
        },
        |connection: CoreConnection| {
            print_warnings(&connection);
            Ok(ConnectionInfo::from(connection))
        },
    )
}

/// Validates the credential, and only if the server accepted it stores it,
/// makes the URL the default and keeps `skipCertValidation` for this URL alone.
/// On failure nothing is written and an earlier login is untouched.
#[napi(
    ts_args_type = "serviceUrl: string, credential: Credential, options?: ConnectOptions",
    ts_return_type = "Promise<LoginResult>"
)]
pub fn login<'env>(
    env: &'env Env,
    service_url: String,
    credential: CredentialData,
    options: Option<Object>,
) -> napi::Result<PromiseRaw<'env, LoginResult>> {
    let (options, cancel) = options_from_js(env, options)?;
    core_promise(
        env,
        async move {
            let (url, credential, options) = arguments(&service_url, credential, options)?;
            let logins = logins()?;
            crate::auth::validate_and_store::login(
                logins,
                http_clients(),
                &url,
                &credential,
                &options,
                super::resolve::source_env().entra_hosts.as_deref(),
                &cancel,
            )
            .await
        },
        login_result,
    )
}
