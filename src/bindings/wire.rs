//! The napi layer of the wire form (`credential::wire`): the `Authorization`
//! header a credential takes for a URL. Conversion only.

use napi::Env;
use napi_derive::napi;

use super::{CredentialData, credential_from_js, throw};
use crate::credential::Service;
use crate::service_url::ServiceUrl;

/// What the header is for, beyond its URL.
#[napi(object, object_to_js = false)]
pub struct AuthorizationOptions {
    /// The request comes from a `tfx extension` command: it talks to the
    /// Marketplace whatever its URL says.
    pub extension_command: Option<bool>,
}

/// The `Authorization` header value `credential` takes for `serviceUrl`: Basic
/// `OAuth:<token>` for a PAT, Basic for a user name and password; an Entra
/// access token as `Bearer` for Azure DevOps and as Basic `OAuth:<token>` for
/// the Marketplace (`marketplace.visualstudio.com`, or any `tfx extension`
/// command). Throws `INVALID_URL` or `INVALID_CREDENTIAL`.
#[napi(ts_args_type = "serviceUrl: string, credential: Credential, options?: AuthorizationOptions")]
pub fn authorization_header(
    env: Env,
    service_url: String,
    credential: CredentialData,
    options: Option<AuthorizationOptions>,
) -> napi::Result<String> {
    let url = ServiceUrl::parse(&service_url).map_err(|e| throw(&env, e))?;
    let credential = credential_from_js(credential).map_err(|e| throw(&env, e))?;
    let extension = options.and_then(|o| o.extension_command).unwrap_or(false);
    let service = Service::for_command(&url, extension);
    Ok(credential.authorization_header(service).to_string())
}
