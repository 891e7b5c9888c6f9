//! Managed identity: an access token straight from the machine's identity
//! endpoint, no secret at all. App Service, Functions and Container Apps set
//! `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` (API 2019-08-01); VMs and AKS
//! have IMDS (`http://169.254.169.254`, or `AZURE_POD_IDENTITY_AUTHORITY_HOST`
//! as in @azure/identity), retried with backoff on 404 (an identity not
//! assigned yet), 429 and 5xx, as Azure's guidance asks.

use std::time::Duration;

use url::Url;
use zeroize::Zeroizing;

use crate::credential::EntraToken;
use crate::entra::RESOURCE;
use crate::entra::hosts::check_identity_endpoint;
use crate::entra::identity_http::{IdentityHttp, IdentityRequest, shown};
use crate::entra::transport::Answer;
use crate::error::{Error, Result};

pub const DEFAULT_IMDS_HOST: &str = "http://169.254.169.254";
/// Retries after the first IMDS request, waiting 0.5 s, 1 s, 2 s.
pub const IMDS_RETRIES: u32 = 3;
pub const IMDS_FIRST_WAIT: Duration = Duration::from_millis(500);

const ADVICE: &str = "Check that the machine has a managed identity assigned (and AZURE_CLIENT_ID names a user-assigned one it has) with access to the organisation";

/// Where the identity comes from.
pub enum Endpoint<'a> {
    AppService { endpoint: &'a str, header: &'a str },
    Imds { host: Option<&'a str> },
}

/// The access token of the machine's identity (`client_id`: a user-assigned one).
///
/// # Errors
/// `INVALID_URL` for an unusable endpoint, or an `IDENTITY_ENDPOINT` its
/// header may not go to (plain http off the machine); transport errors;
/// `AUTHORITY_ERROR` when the endpoint refuses.
pub async fn token<H: IdentityHttp>(
    http: &H,
    endpoint: &Endpoint<'_>,
    client_id: Option<&str>,
    now: impl Fn() -> u64,
) -> Result<EntraToken> {
    match endpoint {
        Endpoint::AppService { endpoint, header } => {
            let mut url = Url::parse(endpoint)
                .map_err(|_| Error::invalid_url("IDENTITY_ENDPOINT is not a URL"))?;
            check_identity_endpoint(&url, "IDENTITY_ENDPOINT")?;
            url.query_pairs_mut()
                .append_pair("resource", RESOURCE)
                .append_pair("api-version", "2019-08-01");
            if let Some(id) = client_id {
                url.query_pairs_mut().append_pair("client_id", id);
            }
            let headers = [("x-identity-header", *header)];
            let request = IdentityRequest {
                post: false,
                url: &url,
                headers: &headers,
            };
            let answer = http.send(request).await?;
            parse(&url, &answer, now())
        }
        Endpoint::Imds { host } => {
            let host = host.unwrap_or(DEFAULT_IMDS_HOST);
            let mut url = Url::parse(host)
                .and_then(|u| u.join("/metadata/identity/oauth2/token"))
                .map_err(|_| {
                    Error::invalid_url("AZURE_POD_IDENTITY_AUTHORITY_HOST is not a URL")
                })?;
            url.query_pairs_mut()
                .append_pair("api-version", "2018-02-01")
                .append_pair("resource", RESOURCE);
            if let Some(id) = client_id {
                url.query_pairs_mut().append_pair("client_id", id);
            }
            let headers = [("metadata", "true")];
            let mut wait = IMDS_FIRST_WAIT;
            for attempt in 0..=IMDS_RETRIES {
                let request = IdentityRequest {
                    post: false,
                    url: &url,
                    headers: &headers,
                };
                let answer = http.send(request).await?;
                let retry = matches!(answer.status, 404 | 410 | 429) || answer.status >= 500;
                if !retry || attempt == IMDS_RETRIES {
                    return parse(&url, &answer, now());
                }
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            unreachable!("the last attempt returns")
        }
    }
}

/// `{access_token, expires_on}` (seconds, a string or a number), else
/// `expires_in`; or the refusal.
fn parse(url: &Url, answer: &Answer, now: u64) -> Result<EntraToken> {
    let refused = |reason: String| Error::CiRefused {
        source_name: "managed-identity",
        endpoint: shown(url),
        status: Some(answer.status),
        reason,
        advice: ADVICE,
    };
    if answer.status != 200 {
        let code = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .filter(|e| e.len() <= 64 && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        return Err(refused(match code {
            Some(code) => format!("{code} (HTTP {})", answer.status),
            None => format!("HTTP {}", answer.status),
        }));
    }
    let mut value: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|_| refused("the answer is not JSON".into()))?;
    let access_token = match value.get_mut("access_token").map(serde_json::Value::take) {
        Some(serde_json::Value::String(t)) => Zeroizing::new(t),
        _ => return Err(refused("the answer has no access_token".into())),
    };
    let seconds = |field: &str| {
        value.get(field).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
    };
    let expires_at = seconds("expires_on")
        .or_else(|| seconds("expires_in").map(|s| now.saturating_add(s)))
        .ok_or_else(|| refused("the answer has no expires_on".into()))?;
    EntraToken::access_only(access_token.as_str(), Some(expires_at))
        .map_err(|_| refused("the answer has no usable access_token".into()))
}
