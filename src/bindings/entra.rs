//! The napi layer of Microsoft Entra ID sign-in: the two-step device code
//! login, Azure CLI tokens and access token facts. Conversion only.

use std::sync::{Arc, Mutex};

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::connect::{LoginResult, login_result};
use super::environment;
use super::resolve::source_env;
use super::{
    CredentialData, core_promise, credential_to_js, http_clients, logins, options_from_js,
    seconds_to_ms, throw,
};
use crate::credential::Credential as CoreCredential;
use crate::credential::entra::claims;
use crate::entra::sign_in::{self, PendingSignIn};
use crate::entra::{EntraConfig, EntraOptions as CoreEntraOptions, azure_cli, hosts};
use crate::error::Error as CoreError;
use crate::service_url::ServiceUrl;

/// Where and as which application to sign in; each falls back to its
/// environment variable, then to the default.
#[napi(object, object_to_js = false)]
pub struct EntraOptions {
    /// The sign-in host, optionally with a tenant
    /// (`TFX_AUTH_ENTRA_AUTHORITY`; default `https://login.microsoftonline.com/organizations`).
    pub authority: Option<String>,
    /// The tenant id or domain (`TFX_AUTH_ENTRA_TENANT`; default: discovered
    /// from the organisation, else `organizations`).
    pub tenant: Option<String>,
    /// The public client (application) id (`TFX_AUTH_ENTRA_CLIENT_ID`;
    /// default the Azure CLI's, `04b07795-8ddb-461a-bbee-02f9e1bf7b46`).
    pub client_id: Option<String>,
}

/// A device code sign-in waiting for the user: show `message` (or
/// `verificationUri` and `userCode`), then await `complete()`.
#[napi]
pub struct EntraSignIn {
    /// The code the user enters at `verificationUri`.
    #[napi(readonly)]
    pub user_code: String,
    /// The page where the user signs in and enters the code.
    #[napi(readonly)]
    pub verification_uri: String,
    /// One line telling the user where to go and which code to enter.
    #[napi(readonly)]
    pub message: String,
    /// When the code expires: milliseconds since the epoch, like `Date.now()`.
    #[napi(readonly)]
    pub expires_on: f64,
    /// The tenant signed in to: the given one, the organisation's, or `organizations`.
    #[napi(readonly)]
    pub tenant: String,
    pending: Arc<Mutex<Option<PendingSignIn>>>,
}

#[napi]
impl EntraSignIn {
    /// Waits for the user to approve the sign-in (polling at the server's
    /// interval), then validates the access token against the organisation
    /// and stores the login (access token, expiry, refresh token: one secret),
    /// makes the URL the default, and resolves like `login`. Rejects with
    /// `SIGN_IN_DECLINED`, `SIGN_IN_EXPIRED`, `ABORTED` (the signal) or any
    /// error of `login`; then nothing is stored. Can be awaited once.
    #[napi(
        ts_args_type = "options?: { signal?: AbortSignalLike }",
        ts_return_type = "Promise<LoginResult>"
    )]
    pub fn complete<'env>(
        &self,
        env: &'env Env,
        options: Option<Object>,
    ) -> napi::Result<PromiseRaw<'env, LoginResult>> {
        let (checked, cancel) = options_from_js(env, options)?;
        // Bad options reject without using up the sign-in.
        let pending = match checked {
            Ok(_) => self
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
            Err(_) => None,
        };
        core_promise(
            env,
            async move {
                checked?;
                let pending = pending.ok_or_else(|| {
                    CoreError::invalid_credential(
                        "this sign-in was already completed or has failed; start a new one with startEntraLogin",
                    )
                })?;
                crate::auth::sign_in::complete(logins()?, http_clients(), pending, &cancel).await
            },
            login_result,
        )
    }
}

/// Starts a Microsoft Entra ID sign-in with the device code flow: finds the
/// organisation's tenant (an unauthenticated request to the service URL,
/// unless `tenant` is given) and asks the authority for a code. Resolves to
/// an `EntraSignIn` holding the code to show; nothing is stored until its
/// `complete()` succeeds. `options` also takes `ConnectOptions` (proxy, CAs,
/// timeout per request, signal for this step).
#[napi(
    ts_args_type = "serviceUrl: string, options?: ConnectOptions & EntraOptions",
    ts_return_type = "Promise<EntraSignIn>"
)]
pub fn start_entra_login<'env>(
    env: &'env Env,
    service_url: String,
    options: Option<Object>,
) -> napi::Result<PromiseRaw<'env, EntraSignIn>> {
    let entra = match &options {
        Some(object) => unsafe { EntraOptions::from_napi_value(env.raw(), object.raw()) }?,
        None => EntraOptions {
            authority: None,
            tenant: None,
            client_id: None,
        },
    };
    let (connect, cancel) = options_from_js(env, options)?;
    core_promise(
        env,
        async move {
            let connect = connect?;
            let url = ServiceUrl::parse(&service_url)?;
            let config = EntraConfig::resolve(
                &CoreEntraOptions {
                    authority: entra.authority,
                    tenant: entra.tenant,
                    client_id: entra.client_id,
                },
                &|name| environment().get(name),
            )?;
            let hosts = source_env().entra_hosts.clone();
            sign_in::start(http_clients(), url, &config, connect, hosts, &cancel).await
        },
        |pending: PendingSignIn| {
            Ok(EntraSignIn {
                user_code: pending.code.user_code.clone(),
                verification_uri: pending.code.verification_uri.clone(),
                message: pending.code.message(),
                // The code's own expiry: always a time (clamped; the answer is checked).
                expires_on: seconds_to_ms(pending.expires_at)
                    .unwrap_or(crate::entra::MAX_JS_DATE_MS),
                tenant: pending.tenant.clone(),
                pending: Arc::new(Mutex::new(Some(pending))),
            })
        },
    )
}

/// An access token from the Azure CLI (`az account get-access-token
/// --resource 499b84ac-1321-427f-aa17-267ca6975798`, with `--tenant` when
/// `TFX_AUTH_ENTRA_TENANT` is set), or `null` when `az` is not on PATH. With a
/// `serviceUrl`, also `null` when the token may not be sent there: it is good
/// for every organisation of the tenant, so it goes only to Azure DevOps
/// Services over https (`dev.azure.com`, `*.visualstudio.com`) and to hosts
/// listed in `TFX_AUTH_ENTRA_HOSTS`, never to a URL whose certificate checks
/// are skipped. Rejects with `AZURE_CLI_ERROR` when
/// `az` fails (for example not logged in).
#[napi(ts_return_type = "Promise<Credential | null>")]
pub fn get_azure_cli_token<'env>(
    env: &'env Env,
    service_url: Option<String>,
) -> napi::Result<PromiseRaw<'env, Option<CredentialData>>> {
    core_promise(
        env,
        async move {
            let env = source_env();
            if let Some(url) = service_url {
                let url = ServiceUrl::parse(&url)?;
                let skip = logins()?.settings().skip_cert_validation(&url)?;
                if !hosts::may_receive_entra_token(&url, env.entra_hosts.as_deref(), skip) {
                    return Ok(None);
                }
            }
            let tenant = env.azure_cli_tenant.as_deref();
            let token = azure_cli::token(env.path.as_deref(), tenant).await?;
            Ok(token.map(CoreCredential::Entra))
        },
        |credential: Option<CoreCredential>| Ok(credential.as_ref().map(credential_to_js)),
    )
}

/// What an access token says about itself, read without verifying it.
#[napi(object)]
pub struct AccessTokenInfo {
    /// Its `exp` claim in milliseconds since the epoch; absent when it is not a JWT.
    pub expires_on: Option<f64>,
    /// Its `tid` claim (the tenant), when it has one.
    pub tenant: Option<String>,
}

/// Reads the expiry and tenant of an access token (a JWT) for display; the
/// token is not verified and never echoed. Throws `INVALID_CREDENTIAL` for an
/// empty token.
#[napi]
pub fn access_token_info(env: Env, access_token: String) -> napi::Result<AccessTokenInfo> {
    let token = zeroize::Zeroizing::new(access_token);
    if token.trim().is_empty() {
        return Err(throw(
            &env,
            CoreError::invalid_credential("the access token is empty"),
        ));
    }
    let found = claims(&token).unwrap_or_default();
    Ok(AccessTokenInfo {
        expires_on: found.exp.and_then(seconds_to_ms),
        tenant: found.tenant,
    })
}
