//! Connection validation: one `GET {service}/_apis/connectionData`, and the
//! classification of its outcome into a [`ConnectionInfo`] or one error code.
//! The same request validates a Marketplace login
//! (`https://marketplace.visualstudio.com`): the Marketplace serves
//! connectionData like every Azure DevOps service (it is what stock `tfx login`
//! sends there), and needs no publisher name, unlike vsce's `verify-pat`
//! (role assignments of one publisher). Only the wire form differs: an Entra
//! token goes to the Marketplace as Basic (`credential::wire`).
//! Classification reads typed facts only (status, content type, body shape,
//! reqwest's `is_timeout`/`is_connect`, rustls errors in the source chain).

use serde::Deserialize;

use crate::credential::{Credential, Service};
use crate::error::{Error, Result};
use crate::http::{Cancel, ConnectOptions, HttpClients, read_capped, transport_error};
use crate::service_url::ServiceUrl;

/// The identity Azure DevOps reports when it ignored the credentials.
pub const ANONYMOUS_ID: &str = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";
/// connectionData is a few KiB; anything larger is not it.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentType {
    Hosted,
    OnPremises,
    Unknown,
}

impl DeploymentType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentType::Hosted => "hosted",
            DeploymentType::OnPremises => "onPremises",
            DeploymentType::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub id: String,
    pub display_name: Option<String>,
    /// The account or unique name (`peter@fabfiber.com`, `FABFIBER\peter`).
    pub unique_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub service_url: String,
    pub normalized_url: String,
    pub user: AuthenticatedUser,
    pub instance_id: Option<String>,
    pub deployment_id: Option<String>,
    pub deployment_type: DeploymentType,
    /// One-line warnings for the user (for example credentials over plain http).
    pub warnings: Vec<String>,
}

/// What came back, as far as classification needs it.
#[derive(Debug, Clone)]
pub struct ResponseFacts {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY`] and was cut.
    pub truncated: bool,
}

/// Sends the one validation request and classifies the outcome.
pub async fn validate(
    clients: &HttpClients,
    url: &ServiceUrl,
    credential: &Credential,
    options: &ConnectOptions,
    cancel: &Cancel,
) -> Result<ConnectionInfo> {
    if cancel.is_cancelled() {
        return Err(Error::Aborted);
    }
    let transport = clients.for_url(url, options)?;
    let exchange = async {
        let mut authorization = reqwest::header::HeaderValue::from_str(
            &credential.authorization_header(Service::of(url)),
        )
        .map_err(|_| {
            Error::invalid_credential("the credential cannot be sent in an HTTP header")
        })?;
        authorization.set_sensitive(true);
        let mut response = transport
            .client
            .get(url.join("_apis/connectionData"))
            .header(reqwest::header::ACCEPT, "application/json")
            .header("X-TFS-FedAuthRedirect", "Suppress")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|e| transport_error(url, &e, &transport, options))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let fail = |e: &reqwest::Error| transport_error(url, e, &transport, options);
        let mut read = read_capped(&mut response, MAX_BODY, fail).await?;
        let (body, truncated) = (std::mem::take(&mut *read.body), read.truncated);
        Ok(ResponseFacts {
            status,
            content_type,
            body,
            truncated,
        })
    };
    let facts = tokio::select! {
        facts = exchange => facts?,
        () = cancel.cancelled() => return Err(Error::Aborted),
    };
    let mut info = classify(url, &facts)?;
    info.warnings.extend(plain_http_warning(url));
    Ok(info)
}

/// Credentials to a non-loopback host over plain http (the on-premises
/// `http://server:8080/tfs` case) still work, with a one-line warning; a proxy
/// does not help, since the proxy forwards them in the clear too.
pub fn plain_http_warning(url: &ServiceUrl) -> Option<String> {
    (!url.is_https() && !url.is_loopback()).then(|| {
        format!(
            "tfx-auth: warning: credentials are sent to {} over plain http; anyone on the network can read them. Use https where the server offers it.",
            url.host()
        )
    })
}

/// Classifies a complete response: status first, then the body.
pub fn classify(url: &ServiceUrl, facts: &ResponseFacts) -> Result<ConnectionInfo> {
    let shown = url.to_string();
    let status = facts.status;
    match status {
        401 => return Err(Error::AuthRejected { url: shown, status }),
        403 => return Err(Error::Forbidden { url: shown, status }),
        407 => {
            return Err(Error::Proxy {
                url: shown,
                status: Some(status),
                reason: "the proxy requires authentication (HTTP 407); put user:password in the proxy URL".into(),
            });
        }
        404 => {
            return Err(not_azure_devops(
                url,
                Some(status),
                "HTTP 404: no connectionData here",
            ));
        }
        203 => return Err(Error::SignInPage { url: shown, status }),
        500..=599 => return Err(Error::ServerError { url: shown, status }),
        200..=299 => {}
        other => {
            return Err(not_azure_devops(
                url,
                Some(other),
                &format!("unexpected HTTP {other}"),
            ));
        }
    }
    if looks_like_html(facts) {
        return Err(Error::SignInPage { url: shown, status });
    }
    if facts.truncated {
        return Err(not_azure_devops(
            url,
            Some(status),
            "the response is larger than 1 MiB",
        ));
    }
    let data: ConnectionData = serde_json::from_slice(&facts.body)
        .map_err(|_| not_azure_devops(url, Some(status), "the response is not JSON"))?;
    let user = data
        .authenticated_user
        .filter(|u| u.id.as_deref().is_some_and(|id| !id.is_empty()))
        .ok_or_else(|| {
            not_azure_devops(url, Some(status), "the response has no authenticatedUser")
        })?;
    let id = user.id.clone().unwrap_or_default();
    if id.eq_ignore_ascii_case(ANONYMOUS_ID) {
        return Err(Error::AnonymousUser { url: shown, status });
    }
    let deployment_type = match data
        .deployment_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("hosted") => DeploymentType::Hosted,
        Some("onpremises") => DeploymentType::OnPremises,
        _ => DeploymentType::Unknown,
    };
    // Every string the server chose is made printable here, where it enters:
    // `tfx-auth status` and tfx print them (see crate::text).
    let printable = |s: Option<String>| {
        s.map(|s| crate::text::printable(&s))
            .filter(|s| !s.is_empty())
    };
    Ok(ConnectionInfo {
        service_url: url.as_str().to_string(),
        normalized_url: url.key().to_string(),
        user: AuthenticatedUser {
            display_name: printable(
                user.custom_display_name
                    .clone()
                    .or(user.provider_display_name.clone()),
            ),
            unique_name: printable(user.account()),
            id: crate::text::printable(&id),
        },
        instance_id: printable(data.instance_id),
        deployment_id: printable(data.deployment_id),
        deployment_type,
        warnings: Vec::new(),
    })
}

fn not_azure_devops(url: &ServiceUrl, status: Option<u16>, reason: &str) -> Error {
    Error::NotAzureDevOps {
        url: url.to_string(),
        status,
        reason: reason.into(),
    }
}

fn looks_like_html(facts: &ResponseFacts) -> bool {
    let declared = facts
        .content_type
        .as_deref()
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    let first = facts.body.iter().find(|b| !b.is_ascii_whitespace());
    declared || first == Some(&b'<')
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionData {
    authenticated_user: Option<Identity>,
    instance_id: Option<String>,
    deployment_id: Option<String>,
    deployment_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    id: Option<String>,
    provider_display_name: Option<String>,
    custom_display_name: Option<String>,
    #[serde(default)]
    properties: serde_json::Map<String, serde_json::Value>,
}

impl Identity {
    /// `properties.Account.$value`, the sign-in name.
    fn account(&self) -> Option<String> {
        self.properties
            .get("Account")
            .and_then(|a| a.get("$value"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: u16, content_type: &str, body: &str) -> ResponseFacts {
        ResponseFacts {
            status,
            content_type: Some(content_type.into()),
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    const JSON: &str = "application/json; charset=utf-8";
    const OK_BODY: &str = r#"{"authenticatedUser":{"id":"6f1c3d5e-0000-4000-8000-000000000001","providerDisplayName":"Peter","properties":{"Account":{"$type":"System.String","$value":"peter@fabfiber.com"}}},"instanceId":"i-1","deploymentId":"d-1","deploymentType":"hosted"}"#;

    fn code(f: ResponseFacts) -> &'static str {
        let url = ServiceUrl::parse("https://dev.azure.com/fabfiber").unwrap();
        classify(&url, &f)
            .map(|_| "OK")
            .unwrap_or_else(|e| e.code())
    }

    #[test]
    fn every_answer_is_told_apart() {
        let anonymous = OK_BODY.replace("6f1c3d5e-0000-4000-8000-000000000001", ANONYMOUS_ID);
        for (f, expected) in [
            (facts(200, JSON, OK_BODY), "OK"),
            (facts(200, JSON, &anonymous), "ANONYMOUS_USER"),
            (
                facts(203, "text/html", "<html>Sign In</html>"),
                "SIGN_IN_PAGE",
            ),
            (
                facts(200, "text/html; charset=utf-8", "<!DOCTYPE html><html>"),
                "SIGN_IN_PAGE",
            ),
            (
                facts(200, "application/octet-stream", "  <html>"),
                "SIGN_IN_PAGE",
            ),
            (
                facts(401, JSON, r#"{"message":"TF400813"}"#),
                "AUTH_REJECTED",
            ),
            (
                facts(401, "text/html", "<html>401 - Unauthorized</html>"),
                "AUTH_REJECTED",
            ),
            (facts(403, JSON, "{}"), "FORBIDDEN"),
            (
                facts(404, "text/html", "<html>Not Found</html>"),
                "NOT_AZURE_DEVOPS",
            ),
            (facts(405, JSON, "{}"), "NOT_AZURE_DEVOPS"),
            (facts(407, "text/html", ""), "PROXY_ERROR"),
            (facts(402, JSON, "{}"), "NOT_AZURE_DEVOPS"),
            (facts(500, JSON, "{}"), "SERVER_ERROR"),
            (facts(503, "text/html", "<html>"), "SERVER_ERROR"),
            (
                facts(200, JSON, r#"{"authenticatedUser": "#),
                "NOT_AZURE_DEVOPS",
            ),
            (facts(200, JSON, "{}"), "NOT_AZURE_DEVOPS"),
            (
                facts(200, JSON, r#"{"authenticatedUser":{"id":""}}"#),
                "NOT_AZURE_DEVOPS",
            ),
            (facts(200, "text/plain", "hello"), "NOT_AZURE_DEVOPS"),
            (facts(200, JSON, "[1,2]"), "NOT_AZURE_DEVOPS"),
        ] {
            assert_eq!(
                code(f.clone()),
                expected,
                "{} {:?}",
                f.status,
                String::from_utf8_lossy(&f.body)
            );
        }
    }

    #[test]
    fn a_cut_body_is_not_azure_devops() {
        let mut f = facts(200, JSON, OK_BODY);
        f.truncated = true;
        assert_eq!(code(f), "NOT_AZURE_DEVOPS");
    }

    #[test]
    fn success_reads_the_user_and_deployment() {
        let url = ServiceUrl::parse("https://dev.azure.com/FabFiber/").unwrap();
        let info = classify(&url, &facts(200, JSON, OK_BODY)).unwrap();
        assert_eq!(info.service_url, "https://dev.azure.com/FabFiber");
        assert_eq!(info.normalized_url, "https://dev.azure.com/fabfiber");
        assert_eq!(info.user.display_name.as_deref(), Some("Peter"));
        assert_eq!(info.user.unique_name.as_deref(), Some("peter@fabfiber.com"));
        assert_eq!(info.deployment_type, DeploymentType::Hosted);
        assert_eq!(info.instance_id.as_deref(), Some("i-1"));
    }

    #[test]
    fn server_chosen_names_arrive_without_control_characters() {
        let url = ServiceUrl::parse("https://dev.azure.com/fabfiber").unwrap();
        let hostile = OK_BODY
            .replace(
                r#""Peter""#,
                r#""\u001b]0;pwned\u0007\u001b[2J\rPeter\u202e""#,
            )
            .replace("peter@fabfiber.com", r"peter\u001b[1A@fabfiber.com\u009b");
        let info = classify(&url, &facts(200, JSON, &hostile)).unwrap();
        assert_eq!(info.user.display_name.as_deref(), Some("Peter"));
        assert_eq!(info.user.unique_name.as_deref(), Some("peter@fabfiber.com"));
    }

    #[test]
    fn plain_http_warns_only_for_non_loopback_hosts() {
        for (url, warns) in [
            ("http://tfs.fabfiber.local:8080/tfs/DefaultCollection", true),
            ("https://dev.azure.com/org", false),
            ("http://127.0.0.1:8080/tfs", false),
            ("http://[::1]:8080/tfs", false),
            ("http://localhost:8080/tfs", false),
            ("http://tfs.localhost:8080/tfs", true),
        ] {
            let url = ServiceUrl::parse(url).unwrap();
            assert_eq!(plain_http_warning(&url).is_some(), warns, "{url}");
        }
    }

    #[test]
    fn errors_carry_the_status() {
        let url = ServiceUrl::parse("https://dev.azure.com/x").unwrap();
        let err = classify(&url, &facts(401, JSON, "{}")).unwrap_err();
        assert_eq!(err.http_status(), Some(401));
        assert!(err.to_string().contains("https://dev.azure.com/x"));
    }
}
