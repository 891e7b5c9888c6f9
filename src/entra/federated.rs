//! Federated tokens: what a workload identity presents to Entra as its
//! client assertion instead of a secret. From a file (Kubernetes workload
//! identity, any projected token: `AZURE_FEDERATED_TOKEN_FILE`, read again
//! for every exchange as it rotates), from the Azure Pipelines OIDC API for a
//! service connection, or from GitHub Actions' ID token service.

use std::path::Path;

use url::Url;
use zeroize::Zeroizing;

use crate::entra::ci_files::read_small_file;
use crate::entra::hosts::{check_identity_endpoint, job_token_may_go};
use crate::entra::identity_http::{IdentityHttp, IdentityRequest, shown};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The audience Entra expects of a federated token.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";

/// The file's trimmed contents.
///
/// # Errors
/// `INVALID_CREDENTIAL` when it cannot be read or is empty.
pub fn read_token_file(path: &Path) -> Result<Secret> {
    let bytes = read_small_file(path, "AZURE_FEDERATED_TOKEN_FILE")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| {
            Error::invalid_credential("AZURE_FEDERATED_TOKEN_FILE holds no token (not text)")
        })?
        .trim();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return Err(Error::invalid_credential(
            "AZURE_FEDERATED_TOKEN_FILE holds no token (empty, or more than one word)",
        ));
    }
    Ok(Zeroizing::new(text.to_string()))
}

/// `POST {SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId={id}`
/// with the job token, answered by `{"oidcToken": …}`. The job token goes
/// only to an OIDC URI inside the pipeline's own collection
/// (`collection`, `SYSTEM_COLLECTIONURI`).
///
/// # Errors
/// `INVALID_URL` for an OIDC URI outside the collection (nothing is sent);
/// transport errors; `AUTHORITY_ERROR` when the pipeline refuses.
pub async fn azure_pipelines_token<H: IdentityHttp>(
    http: &H,
    oidc_uri: &str,
    service_connection_id: &str,
    job_token: &str,
    collection: Option<&str>,
) -> Result<Secret> {
    let mut url = Url::parse(oidc_uri)
        .map_err(|_| Error::invalid_url("SYSTEM_OIDCREQUESTURI is not a URL"))?;
    if !job_token_may_go(&url, collection) {
        return Err(Error::invalid_url(
            "SYSTEM_OIDCREQUESTURI is not inside the collection SYSTEM_COLLECTIONURI names; the job token (SYSTEM_ACCESSTOKEN) goes nowhere else",
        ));
    }
    url.query_pairs_mut()
        .append_pair("api-version", "7.1")
        .append_pair("serviceConnectionId", service_connection_id);
    let bearer = Zeroizing::new(format!("Bearer {job_token}"));
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let answer = http
        .send(IdentityRequest {
            post: true,
            url: &url,
            headers: &headers,
        })
        .await?;
    token_from(
        &url,
        answer,
        "oidcToken",
        "azure-pipelines",
        PIPELINES_ADVICE,
    )
}

const PIPELINES_ADVICE: &str = "Check that the service connection (AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) uses workload identity federation and that the pipeline may use it, and map SYSTEM_ACCESSTOKEN: $(System.AccessToken)";
const GITHUB_ADVICE: &str = "Give the job `permissions: id-token: write`";

/// `GET {ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange`
/// with the request token, answered by `{"value": …}`.
///
/// # Errors
/// `INVALID_URL` for an unusable URL, or one the request token may not go
/// to (plain http off the machine: nothing is sent); transport errors;
/// `AUTHORITY_ERROR` when GitHub refuses.
pub async fn github_actions_token<H: IdentityHttp>(
    http: &H,
    request_url: &str,
    request_token: &str,
) -> Result<Secret> {
    let mut url = Url::parse(request_url)
        .map_err(|_| Error::invalid_url("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL"))?;
    check_identity_endpoint(&url, "ACTIONS_ID_TOKEN_REQUEST_URL")?;
    url.query_pairs_mut().append_pair("audience", AUDIENCE);
    let bearer = Zeroizing::new(format!("Bearer {request_token}"));
    let headers = [("authorization", bearer.as_str())];
    let answer = http
        .send(IdentityRequest {
            post: false,
            url: &url,
            headers: &headers,
        })
        .await?;
    token_from(&url, answer, "value", "github-actions", GITHUB_ADVICE)
}

/// The token in `field` of a 200 answer, or the refusal.
fn token_from(
    url: &Url,
    answer: crate::entra::transport::Answer,
    field: &str,
    source_name: &'static str,
    advice: &'static str,
) -> Result<Secret> {
    let refused = |reason: String| Error::CiRefused {
        source_name,
        endpoint: shown(url),
        status: Some(answer.status),
        reason,
        advice,
    };
    if answer.status != 200 {
        return Err(refused(format!("HTTP {}", answer.status)));
    }
    let mut value: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|_| refused("the answer is not JSON".into()))?;
    match value.get_mut(field).map(serde_json::Value::take) {
        Some(serde_json::Value::String(token)) if !token.trim().is_empty() => {
            Ok(Zeroizing::new(token.trim().to_string()))
        }
        _ => Err(refused(format!("the answer has no {field}"))),
    }
}
