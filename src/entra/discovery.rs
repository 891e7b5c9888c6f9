//! Which tenant an organisation belongs to: one unauthenticated
//! `GET {service}/_apis/connectionData`. Azure DevOps answers 401 with
//! `X-VSS-ResourceTenant: <tenant id>` and
//! `WWW-Authenticate: Bearer authorization_uri=https://login.microsoftonline.com/<tenant id>`.
//! Only the tenant is taken from the answer, never the sign-in host.

use url::Url;

use crate::credential::entra::is_tenant;
use crate::error::{Error, Result};
use crate::http::{Cancel, ConnectOptions, HttpClients};
use crate::service_url::ServiceUrl;

/// Organisations backed by Microsoft accounts report the empty GUID.
const NO_TENANT: &str = "00000000-0000-0000-0000-000000000000";

/// The organisation's tenant id, or `None` when the server does not say
/// (Azure DevOps Server, a proxy in the way, an organisation without one).
///
/// # Errors
/// Transport failures reaching the service URL (the sign-in would be
/// pointless if the organisation cannot be reached), and `ABORTED`.
pub async fn discover_tenant(
    clients: &HttpClients,
    url: &ServiceUrl,
    options: &ConnectOptions,
    cancel: &Cancel,
) -> Result<Option<String>> {
    if cancel.is_cancelled() {
        return Err(Error::Aborted);
    }
    // No redirect: the tenant comes only from the organisation's own answer.
    let transport = clients.for_oauth(url, options)?;
    let request = transport
        .client
        .get(url.join("_apis/connectionData"))
        .header(reqwest::header::ACCEPT, "application/json")
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send();
    let response = tokio::select! {
        r = request => r.map_err(|e| crate::http::transport_error(url, &e, &transport, options))?,
        () = cancel.cancelled() => return Err(Error::Aborted),
    };
    let headers = response.headers();
    let resource_tenant = headers
        .get("X-VSS-ResourceTenant")
        .and_then(|v| v.to_str().ok());
    let challenges: Vec<&str> = headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    Ok(tenant_from_headers(resource_tenant, &challenges))
}

/// The tenant named by `X-VSS-ResourceTenant`, else by a Bearer challenge's
/// `authorization_uri`.
pub fn tenant_from_headers(resource_tenant: Option<&str>, challenges: &[&str]) -> Option<String> {
    let usable = |t: &str| is_tenant(t) && !t.eq_ignore_ascii_case(NO_TENANT);
    if let Some(found) = resource_tenant
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|t| usable(t))
    {
        return Some(found.to_string());
    }
    challenges.iter().find_map(|challenge| {
        let (_, rest) = challenge.split_once("authorization_uri=")?;
        let value = rest.trim_start_matches('"').split(['"', ',', ' ']).next()?;
        let uri = Url::parse(value).ok()?;
        let tenant = uri.path_segments()?.rfind(|s| !s.is_empty())?;
        usable(tenant).then(|| tenant.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn the_tenant_comes_from_the_resource_tenant_header_first() {
        let bearer = format!("Bearer authorization_uri=https://login.microsoftonline.com/{TENANT}");
        for (header, challenges, expected) in [
            (Some(TENANT), vec![], Some(TENANT)),
            (
                Some(TENANT),
                vec!["Bearer authorization_uri=https://login.microsoftonline.com/other"],
                Some(TENANT),
            ),
            (
                None,
                vec!["Basic realm=\"x\"", bearer.as_str(), "TFS-Federated"],
                Some(TENANT),
            ),
            (
                None,
                vec![
                    "Bearer authorization_uri=\"https://login.microsoftonline.com/fabfiber.com\", error=\"x\"",
                ],
                Some("fabfiber.com"),
            ),
            (Some(NO_TENANT), vec![], None),
            (Some("not a tenant"), vec![], None),
            (
                None,
                vec!["Negotiate", "NTLM", "Basic realm=\"server\""],
                None,
            ),
            (None, vec!["Bearer authorization_uri=not-a-url"], None),
        ] {
            assert_eq!(
                tenant_from_headers(header, &challenges).as_deref(),
                expected,
                "{header:?} {challenges:?}"
            );
        }
    }
}
