//! Policy of the CI credential sources (issue 19): which one is in effect
//! (named by `TFX_AUTH_CREDENTIAL`, or a complete set of a service
//! principal's or workload identity's variables), what it needs, how it is
//! shown, and one exchange per process: the token is kept in memory until
//! five minutes before it expires, concurrent callers share one exchange, and
//! nothing is written anywhere. The wire protocols are in `crate::entra`
//! (`client_credentials`, `assertion`, `federated`, `managed_identity`); where
//! the token may go is `crate::entra::hosts`, applied by `auth::resolve`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::credential::EntraToken;
use crate::entra::assertion::ClientCertificate;
use crate::entra::client_credentials::{ClientAuth, Refusal, request_token, token_endpoint};
use crate::entra::identity_http::IdentityHttp;
use crate::entra::managed_identity::{self, Endpoint};
use crate::entra::transport::Authority;
use crate::entra::{federated, is_guid};
use crate::error::{Error, Result};
use crate::secret::Secret;

pub mod cache;
#[cfg(test)]
mod tests;

pub use cache::{TokenCache, current_token, process_cache};

pub const ENV_CREDENTIAL: &str = "TFX_AUTH_CREDENTIAL";

/// Every variable the CI sources read (the process snapshot reads them all).
pub const VARIABLES: &[&str] = crate::environment::CI_NAMES;

/// The CI variables that are set and not blank. `Debug` shows names only:
/// several are secrets.
#[derive(Clone, Default)]
pub struct CiEnv {
    values: BTreeMap<&'static str, Secret>,
}

impl fmt::Debug for CiEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

impl CiEnv {
    /// Reads [`VARIABLES`] through `text` (set, trimmed, not blank).
    pub fn read(text: impl Fn(&str) -> Option<String>) -> Self {
        CiEnv {
            values: VARIABLES
                .iter()
                .filter_map(|name| text(name).map(|v| (*name, Zeroizing::new(v))))
                .collect(),
        }
    }

    /// Whether `TFX_AUTH_CREDENTIAL` is set.
    pub fn names_a_source(&self) -> bool {
        self.values.contains_key(ENV_CREDENTIAL)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|v| v.as_str())
    }
}

/// The sources, by the names `TFX_AUTH_CREDENTIAL` takes and
/// `resolveCredential` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiKind {
    ServicePrincipal,
    WorkloadIdentity,
    AzurePipelines,
    GithubActions,
    ManagedIdentity,
}

impl CiKind {
    pub const ALL: [CiKind; 5] = [
        CiKind::ServicePrincipal,
        CiKind::WorkloadIdentity,
        CiKind::AzurePipelines,
        CiKind::GithubActions,
        CiKind::ManagedIdentity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CiKind::ServicePrincipal => "service-principal",
            CiKind::WorkloadIdentity => "workload-identity",
            CiKind::AzurePipelines => "azure-pipelines",
            CiKind::GithubActions => "github-actions",
            CiKind::ManagedIdentity => "managed-identity",
        }
    }
}

/// How the chosen source gets its token. (No `Debug`: it holds secrets.)
enum How {
    Secret {
        secret: Secret,
    },
    Certificate {
        path: PathBuf,
        send_chain: bool,
    },
    TokenFile {
        path: PathBuf,
    },
    Pipelines {
        connection: String,
        oidc_uri: String,
        job_token: Secret,
        collection: Option<String>,
    },
    Github {
        url: String,
        token: Secret,
    },
    AppService {
        endpoint: String,
        header: Secret,
    },
    Imds {
        host: Option<String>,
    },
}

/// The source in effect.
pub struct CiSource {
    pub kind: CiKind,
    /// Named by `TFX_AUTH_CREDENTIAL` (else found by its complete variables).
    pub named: bool,
    tenant: String,
    client_id: Option<String>,
    authority_host: Option<String>,
    how: How,
}

impl fmt::Debug for CiSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CiSource")
            .field("kind", &self.kind)
            .field("named", &self.named)
            .field("description", &self.description())
            .finish()
    }
}

/// The source in effect: the one `TFX_AUTH_CREDENTIAL` names (its variables
/// must all be there), else a service principal (secret before certificate,
/// as in @azure/identity) or a workload identity whose variables are all
/// set; the ambient sources (pipelines, GitHub, managed identity) only when
/// named. `Ok(None)`: none.
///
/// # Errors
/// `INVALID_ARGUMENT` for an unknown `TFX_AUTH_CREDENTIAL`;
/// `CI_CREDENTIAL_MISSING` naming every variable the named source lacks.
pub fn choose(env: &CiEnv) -> Result<Option<CiSource>> {
    let Some(named) = env.get(ENV_CREDENTIAL) else {
        let complete = |kind| build(env, kind, false).ok();
        return Ok(
            complete(CiKind::ServicePrincipal).or_else(|| complete(CiKind::WorkloadIdentity))
        );
    };
    let kind = CiKind::ALL
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(named.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = CiKind::ALL.iter().map(|k| k.name()).collect();
            Error::invalid_argument(format!(
                "{ENV_CREDENTIAL} must be one of {}",
                names.join(", ")
            ))
        })?;
    build(env, kind, true).map(Some)
}

fn build(env: &CiEnv, kind: CiKind, named: bool) -> Result<CiSource> {
    let mut missing = Vec::new();
    let mut need = |name: &'static str| match env.get(name) {
        Some(v) => v.to_string(),
        None => {
            missing.push(name);
            String::new()
        }
    };
    let (tenant_var, client_var) = match kind {
        CiKind::AzurePipelines => ("AZURESUBSCRIPTION_TENANT_ID", "AZURESUBSCRIPTION_CLIENT_ID"),
        _ => ("AZURE_TENANT_ID", "AZURE_CLIENT_ID"),
    };
    let (tenant, client_id) = match kind {
        CiKind::ManagedIdentity => (String::new(), None),
        _ => (need(tenant_var), Some(need(client_var))),
    };
    let mut hint = None;
    let how = match kind {
        CiKind::ServicePrincipal => match (
            env.get("AZURE_CLIENT_SECRET"),
            env.get("AZURE_CLIENT_CERTIFICATE_PATH"),
        ) {
            (Some(secret), _) => How::Secret {
                secret: Zeroizing::new(secret.to_string()),
            },
            (None, Some(path)) => How::Certificate {
                path: PathBuf::from(path),
                send_chain: env
                    .get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
            },
            (None, None) => {
                missing.extend(["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"]);
                hint = Some("one of AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH");
                How::Imds { host: None }
            }
        },
        CiKind::WorkloadIdentity => How::TokenFile {
            path: PathBuf::from(need("AZURE_FEDERATED_TOKEN_FILE")),
        },
        CiKind::AzurePipelines => How::Pipelines {
            connection: need("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
            oidc_uri: need("SYSTEM_OIDCREQUESTURI"),
            job_token: Zeroizing::new(need("SYSTEM_ACCESSTOKEN")),
            collection: env
                .get("SYSTEM_COLLECTIONURI")
                .or_else(|| env.get("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI"))
                .map(str::to_string)
                .or_else(|| {
                    need("SYSTEM_COLLECTIONURI");
                    None
                }),
        },
        CiKind::GithubActions => How::Github {
            url: need("ACTIONS_ID_TOKEN_REQUEST_URL"),
            token: Zeroizing::new(need("ACTIONS_ID_TOKEN_REQUEST_TOKEN")),
        },
        CiKind::ManagedIdentity => match (env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER"))
        {
            (Some(endpoint), Some(header)) => How::AppService {
                endpoint: endpoint.to_string(),
                header: Zeroizing::new(header.to_string()),
            },
            (Some(_), None) => {
                missing.push("IDENTITY_HEADER");
                How::Imds { host: None }
            }
            _ => How::Imds {
                host: env
                    .get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
                    .map(str::to_string),
            },
        },
    };
    if !missing.is_empty() {
        return Err(Error::CiCredentialMissing {
            source_name: kind.name(),
            missing,
            hint,
        });
    }
    let client_id = match kind {
        CiKind::ManagedIdentity => env.get("AZURE_CLIENT_ID").map(str::to_string),
        _ => client_id,
    };
    if let Some(id) = &client_id
        && !is_guid(id)
    {
        return Err(Error::invalid_credential(format!(
            "{} must be an application (client) id, a GUID",
            if kind == CiKind::ManagedIdentity {
                "AZURE_CLIENT_ID"
            } else {
                client_var
            }
        )));
    }
    Ok(CiSource {
        kind,
        named,
        tenant,
        client_id,
        authority_host: env.get("AZURE_AUTHORITY_HOST").map(str::to_string),
        how,
    })
}

impl CiSource {
    /// For `tfx-auth status`: which identity, from which variables (no secret).
    pub fn description(&self) -> String {
        let id = self.client_id.as_deref().unwrap_or_default();
        match &self.how {
            How::Secret { .. } => format!("service principal {id} from AZURE_CLIENT_SECRET"),
            How::Certificate { .. } => {
                format!(
                    "service principal {id} with the certificate in AZURE_CLIENT_CERTIFICATE_PATH"
                )
            }
            How::TokenFile { .. } => {
                format!("workload identity {id} from AZURE_FEDERATED_TOKEN_FILE")
            }
            How::Pipelines { connection, .. } => {
                format!("Azure Pipelines service connection {connection}")
            }
            How::Github { .. } => format!("GitHub Actions OIDC for {id}"),
            How::AppService { .. } | How::Imds { .. } => {
                let which = match &self.client_id {
                    Some(id) => format!("user-assigned managed identity {id}"),
                    None => "system-assigned managed identity".to_string(),
                };
                let from = if matches!(self.how, How::AppService { .. }) {
                    "IDENTITY_ENDPOINT"
                } else {
                    "IMDS"
                };
                format!("{which} from {from}")
            }
        }
    }

    /// What the process cache keys the token by.
    fn cache_key(&self) -> String {
        format!("{}:{}", self.kind.name(), self.description())
    }

    /// One exchange for a token (no cache; see [`current_token`]).
    ///
    /// # Errors
    /// What the protocol modules return: transport errors, `AUTHORITY_ERROR`,
    /// `INVALID_CREDENTIAL` for unusable files, `INVALID_URL`.
    pub async fn exchange<A: Authority, H: IdentityHttp>(
        &self,
        authority: &A,
        http: &H,
        now: impl Fn() -> u64,
    ) -> Result<EntraToken> {
        let client_id = self.client_id.as_deref().unwrap_or_default();
        let refusal = Refusal {
            source_name: self.kind.name(),
            advice: advice(self.kind),
        };
        let endpoint = || token_endpoint(self.authority_host.as_deref(), &self.tenant);
        let assertion = match &self.how {
            How::Secret { secret } => {
                let endpoint = endpoint()?;
                let auth = ClientAuth::Secret(secret);
                return request_token(authority, &endpoint, client_id, auth, now(), &refusal).await;
            }
            How::AppService { endpoint, header } => {
                let at = Endpoint::AppService { endpoint, header };
                return managed_identity::token(http, &at, self.client_id.as_deref(), now).await;
            }
            How::Imds { host } => {
                let at = Endpoint::Imds {
                    host: host.as_deref(),
                };
                return managed_identity::token(http, &at, self.client_id.as_deref(), now).await;
            }
            How::Certificate { path, send_chain } => {
                let certificate = tokio::task::block_in_place(|| ClientCertificate::read(path))?;
                certificate.assertion(client_id, endpoint()?.as_str(), now(), *send_chain)?
            }
            How::TokenFile { path } => {
                tokio::task::block_in_place(|| federated::read_token_file(path))?
            }
            How::Pipelines {
                connection,
                oidc_uri,
                job_token,
                collection,
            } => {
                endpoint()?;
                federated::azure_pipelines_token(
                    http,
                    oidc_uri,
                    connection,
                    job_token,
                    collection.as_deref(),
                )
                .await?
            }
            How::Github { url, token } => {
                endpoint()?;
                federated::github_actions_token(http, url, token).await?
            }
        };
        let endpoint = endpoint()?;
        request_token(
            authority,
            &endpoint,
            client_id,
            ClientAuth::Assertion(&assertion),
            now(),
            &refusal,
        )
        .await
    }
}

fn advice(kind: CiKind) -> &'static str {
    match kind {
        CiKind::ServicePrincipal => {
            "Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate (expired, or not uploaded to the app registration?)"
        }
        CiKind::WorkloadIdentity => {
            "Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the federated credential of the app registration (issuer and subject)"
        }
        CiKind::AzurePipelines => {
            "Check the service connection's federated credential (issuer and subject) and AZURESUBSCRIPTION_CLIENT_ID, AZURESUBSCRIPTION_TENANT_ID"
        }
        CiKind::GithubActions => {
            "Check the app registration's federated credential for this repository (subject) and AZURE_CLIENT_ID, AZURE_TENANT_ID"
        }
        CiKind::ManagedIdentity => "Check the managed identity and its access to the organisation",
    }
}
