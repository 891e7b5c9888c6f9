//! The client credentials grant of a service principal (OAuth 2.0, RFC 6749
//! section 4.4) at `{authority host}/{tenant}/oauth2/v2.0/token`, for Azure
//! DevOps' `.default` scope: with its secret, or with a client assertion (a
//! JWT: signed with its certificate, or issued by a federated identity
//! provider, RFC 7523). Which source and when is policy (`crate::auth::ci`).

use crate::credential::EntraToken;
use crate::entra::RESOURCE;
use crate::entra::token::{OAuthError, TokenAnswer};
use crate::entra::transport::Authority;
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// The authority host when `AZURE_AUTHORITY_HOST` is not set.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// Azure DevOps, application permissions: no refresh token, no `offline_access`.
pub const CI_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const _: () = assert!(CI_SCOPE.len() == RESOURCE.len() + "/.default".len());

/// How the client proves who it is. (No `Debug`: both are secrets.)
pub enum ClientAuth<'a> {
    Secret(&'a str),
    Assertion(&'a str),
}

/// `{host}/{tenant}/oauth2/v2.0/token`. The host is `AZURE_AUTHORITY_HOST`
/// (another cloud, or a test's loopback authority): https, or plain http on
/// loopback only, and no path.
///
/// # Errors
/// `INVALID_URL` for an unusable host or tenant.
pub fn token_endpoint(authority_host: Option<&str>, tenant: &str) -> Result<ServiceUrl> {
    let text = authority_host.unwrap_or(DEFAULT_AUTHORITY_HOST);
    let bad = |why: &str| Error::invalid_url(format!("AZURE_AUTHORITY_HOST {why}"));
    let host = ServiceUrl::parse(text).map_err(|_| bad("is not a usable URL"))?;
    if !host.is_https() && !host.is_loopback() {
        return Err(bad("must use https"));
    }
    if !host.as_url().path().trim_matches('/').is_empty() {
        return Err(bad(
            "must be the sign-in host alone, like https://login.microsoftonline.com",
        ));
    }
    if !crate::credential::entra::is_tenant(tenant) {
        return Err(Error::invalid_url(
            "the tenant must be a tenant id (GUID) or a domain such as fabfiber.onmicrosoft.com",
        ));
    }
    ServiceUrl::parse(host.join(&format!("{tenant}/oauth2/v2.0/token")).as_str())
}

/// What to say when the authority refuses a source's exchange.
pub struct Refusal {
    pub source_name: &'static str,
    pub advice: &'static str,
}

/// Asks for an access token; `now` is Unix seconds.
///
/// # Errors
/// Transport errors; `AUTHORITY_ERROR` with the OAuth error, the AADSTS
/// number and the first line of its description when the authority refuses.
pub async fn request_token<A: Authority>(
    authority: &A,
    endpoint: &ServiceUrl,
    client_id: &str,
    auth: ClientAuth<'_>,
    now: u64,
    refusal: &Refusal,
) -> Result<EntraToken> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", CI_SCOPE),
    ];
    let secret = match auth {
        ClientAuth::Secret(secret) => {
            form.push(("client_secret", secret));
            secret
        }
        ClientAuth::Assertion(assertion) => {
            form.push(("client_assertion_type", JWT_BEARER));
            form.push(("client_assertion", assertion));
            assertion
        }
    };
    let answer = authority.post(endpoint, &form).await?;
    if answer.status == 200 {
        let unusable = || Error::CiRefused {
            source_name: refusal.source_name,
            endpoint: endpoint.to_string(),
            status: Some(200),
            reason: "the answer holds no usable access token".into(),
            advice: refusal.advice,
        };
        return TokenAnswer::parse(&answer.body)
            .ok_or_else(unusable)?
            .into_token(now, None)
            .map(|mut token| {
                token.refresh = None;
                token
            });
    }
    if answer.is_server_error() {
        return Err(Error::ServerError {
            url: endpoint.to_string(),
            status: answer.status,
        });
    }
    let reason = match OAuthError::parse(&answer.body) {
        Some(oauth) => match description(&answer.body, secret) {
            Some(text) => format!("{oauth} (HTTP {}): {text}", answer.status),
            None => format!("{oauth} (HTTP {})", answer.status),
        },
        None => format!("HTTP {}", answer.status),
    };
    Err(Error::CiRefused {
        source_name: refusal.source_name,
        endpoint: endpoint.to_string(),
        status: Some(answer.status),
        reason,
        advice: refusal.advice,
    })
}

/// The first line of the authority's `error_description` (its trace and
/// correlation ids follow on the next lines), printable, at most 300
/// characters, and never when it repeats what was sent.
pub fn description(body: &[u8], sent: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = value.get("error_description")?.as_str()?;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line: String = crate::text::printable(line).chars().take(300).collect();
    let echoes = sent.len() >= 8
        && (line.contains(sent)
            || sent
                .as_bytes()
                .windows(16)
                .any(|w| line.as_bytes().windows(16).any(|l| l == w)));
    (!echoes).then_some(line)
}
