//! The napi layer of what `getWebApi` needs from the core: the proxy tfx-auth
//! itself uses for a URL (`http::effective_proxy`), so azure-devops-node-api
//! takes the same one. Conversion only.

use napi::Env;
use napi_derive::napi;

use super::{environment, throw};
use crate::http::effective_proxy;
use crate::service_url::ServiceUrl;

/// The proxy tfx-auth uses for `serviceUrl`, from the environment
/// (`https_proxy`/`HTTPS_PROXY` or `http_proxy`/`HTTP_PROXY` by scheme, then
/// `all_proxy`/`ALL_PROXY`, any case; `NO_PROXY` obeyed), with its
/// `user:password@` if it has one; `null` for none. Throws `INVALID_URL`, or
/// `PROXY_ERROR` for an unusable proxy setting.
#[napi]
pub fn proxy_for(env: Env, service_url: String) -> napi::Result<Option<String>> {
    let url = ServiceUrl::parse(&service_url).map_err(|e| throw(&env, e))?;
    effective_proxy(&url, None, &|name| environment().get(name))
        .map(|proxy| proxy.map(|p| p.to_string()))
        .map_err(|e| throw(&env, e))
}
