//! The napi layer of `resolveCredential`: which credential a command uses for
//! a URL and where it came from (the precedence lives in `auth::resolve`).
//! Conversion only; the environment is read once per process.

use std::sync::OnceLock;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::{CredentialData, core_promise, credential_to_js, environment, http_clients, logins};
use crate::auth::resolve::{Flags, Resolved, SourceEnv, resolve};
use crate::entra::identity_http::HttpIdentity;
use crate::entra::transport::HttpAuthority;
use crate::entra::unix_now;
use crate::http::{Cancel, ConnectOptions};
use crate::service_url::ServiceUrl;

/// The environment the credential sources read, once per process.
pub(super) fn source_env() -> &'static SourceEnv {
    static ENV: OnceLock<SourceEnv> = OnceLock::new();
    ENV.get_or_init(|| SourceEnv::read(|name| environment().get_os(name)))
}

/// A command's credential flags (tfx's `--token`, `--username`, `--password`).
#[napi(object, object_to_js = false)]
pub struct CredentialFlags {
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `--skip-cert-validation`: no Entra token goes to the URL then.
    pub skip_cert_validation: Option<bool>,
}

/// A credential and where it came from.
#[napi(object)]
pub struct ResolvedCredential {
    #[napi(ts_type = "Credential")]
    pub credential: CredentialData,
    /// `'flags'`, the environment variable's name (`AZURE_DEVOPS_EXT_PAT`,
    /// `TFX_ENTRA_TOKEN`, `SYSTEM_ACCESSTOKEN`), a CI source
    /// (`'service-principal'`, `'workload-identity'`, `'azure-pipelines'`,
    /// `'github-actions'`, `'managed-identity'`), `'stored'` or `'azure-cli'`.
    pub source: String,
}

/// The credential a command uses for `serviceUrl`, and where it came from:
/// the flags (`--username` with `--password`, else `--token`), then the CI
/// source `TFX_AUTH_CREDENTIAL` names, then `AZURE_DEVOPS_EXT_PAT`,
/// `TFX_ENTRA_TOKEN`, `SYSTEM_ACCESSTOKEN`, then a service principal or
/// workload identity whose `AZURE_*` variables are all set (one exchange per
/// process, kept in memory until 5 minutes before expiry), then the stored login (renewed or migrated first), then the Azure CLI (only for
/// Azure DevOps over https and the hosts in `TFX_AUTH_ENTRA_HOSTS`).
/// Entra tokens (`TFX_ENTRA_TOKEN`, an Entra login, the Azure CLI's) count
/// only for Azure DevOps Services over verified https and the hosts in
/// `TFX_AUTH_ENTRA_HOSTS`, never with certificate checks skipped (the flag or
/// the URL's setting); `SYSTEM_ACCESSTOKEN` only inside the collection
/// `SYSTEM_COLLECTIONURI` names.
/// Resolves to `null` when none has one (tfx then prompts). Without a URL only
/// the flags and the environment count. Rejects with `CI_CREDENTIAL_MISSING` or
/// `AUTHORITY_ERROR` when a CI source fails (no fall-back), with `AZURE_CLI_ERROR` when
/// `az` is on PATH but gives no token.
#[napi(ts_return_type = "Promise<ResolvedCredential | null>")]
pub fn resolve_credential<'env>(
    env: &'env Env,
    service_url: Option<String>,
    flags: Option<CredentialFlags>,
) -> napi::Result<PromiseRaw<'env, Option<ResolvedCredential>>> {
    let flags = flags.map_or_else(Flags::default, |f| Flags {
        token: f.token,
        username: f.username,
        password: f.password,
        skip_cert_validation: f.skip_cert_validation == Some(true),
    });
    core_promise(
        env,
        async move {
            let url = service_url.as_deref().map(ServiceUrl::parse).transpose()?;
            let cancel = Cancel::default();
            let options = ConnectOptions::default();
            let authority = HttpAuthority::new(http_clients(), &options, &cancel);
            let identity = HttpIdentity::new(http_clients(), &options, &cancel);
            resolve(
                logins,
                &authority,
                &identity,
                url.as_ref(),
                &flags,
                source_env(),
                unix_now(),
            )
            .await
        },
        |resolved: Option<Resolved>| {
            Ok(resolved.map(|r| ResolvedCredential {
                credential: credential_to_js(&r.credential),
                source: r.source.as_str().to_string(),
            }))
        },
    )
}

/// The CI credential source in effect, for display (`tfx-auth status`).
#[napi(object)]
pub struct CiCredentialSource {
    /// `'service-principal'`, `'workload-identity'`, `'azure-pipelines'`,
    /// `'github-actions'` or `'managed-identity'`: what `resolveCredential`
    /// reports as `source`.
    pub source: String,
    /// Which identity from which variables, e.g. "service principal {client
    /// id} from AZURE_CLIENT_SECRET" (never a secret).
    pub description: String,
    /// Named by `TFX_AUTH_CREDENTIAL` (ahead of the other environment
    /// variables), else found by its complete variables (after them).
    pub named: bool,
}

/// The CI source the environment sets up (`TFX_AUTH_CREDENTIAL`, or a
/// service principal's or workload identity's variables all set), or `null`;
/// nothing is asked of anyone. It is used only for URLs the Entra host rule
/// allows. Throws `CI_CREDENTIAL_MISSING` when the named source lacks
/// variables, `INVALID_ARGUMENT` for an unknown `TFX_AUTH_CREDENTIAL`.
#[napi]
pub fn ci_credential_source(env: Env) -> napi::Result<Option<CiCredentialSource>> {
    match crate::auth::ci::choose(&source_env().ci) {
        Ok(found) => Ok(found.map(|s| CiCredentialSource {
            source: s.kind.name().to_string(),
            description: s.description(),
            named: s.named,
        })),
        Err(err) => Err(super::throw(&env, err)),
    }
}
