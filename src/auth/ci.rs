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
use std::sync::OnceLock;

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

pub const ENV_CREDENTIAL: &str = "TFX_AUTH_CREDENTIAL";

/// Every variable the CI sources read (the Azure SDKs' names, so existing
/// pipeline settings work unchanged).
pub const VARIABLES: &[&str] = &[
    ENV_CREDENTIAL,
    "AZURE_AUTHORITY_HOST",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_FEDERATED_TOKEN_FILE",
    "SYSTEM_OIDCREQUESTURI",
    "SYSTEM_ACCESSTOKEN",
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
    "AZURESUBSCRIPTION_CLIENT_ID",
    "AZURESUBSCRIPTION_TENANT_ID",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

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

/// The token of a source, kept in memory until five minutes before it
/// expires. Concurrent callers wait for the one exchange under way; a
/// failure is not kept (the next call asks again).
#[derive(Default)]
pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<(String, EntraToken)>>,
}

impl TokenCache {
    /// # Errors
    /// What `exchange` returns.
    pub async fn get<F>(&self, key: &str, now: impl Fn() -> u64, exchange: F) -> Result<EntraToken>
    where
        F: Future<Output = Result<EntraToken>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((cached_key, token)) = slot.as_ref()
            && cached_key == key
            && !token.needs_refresh(now())
        {
            return Ok(token.clone());
        }
        let token = exchange.await?;
        *slot = Some((key.to_string(), token.clone()));
        Ok(token)
    }
}

/// The process's one cache (a command, or a Node script, runs in one process).
pub fn process_cache() -> &'static TokenCache {
    static CACHE: OnceLock<TokenCache> = OnceLock::new();
    CACHE.get_or_init(TokenCache::default)
}

/// The source's current token: from `cache`, else one exchange.
///
/// # Errors
/// As [`CiSource::exchange`].
pub async fn current_token<A: Authority, H: IdentityHttp>(
    source: &CiSource,
    cache: &TokenCache,
    authority: &A,
    http: &H,
    now: impl Fn() -> u64 + Copy,
) -> Result<EntraToken> {
    cache
        .get(
            &source.cache_key(),
            now,
            source.exchange(authority, http, now),
        )
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::entra::device_code::tests::Scripted;
    use crate::entra::identity_http::IdentityRequest;
    use crate::entra::transport::Answer;

    const T: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const C: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

    fn env(vars: &[(&str, &str)]) -> CiEnv {
        CiEnv::read(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    /// Identity endpoints answering from a script, recording what was asked.
    #[derive(Default)]
    pub struct Endpoints {
        pub answers: Mutex<Vec<Answer>>,
        pub asked: Mutex<Vec<(bool, String, Vec<(String, String)>)>>,
    }

    impl IdentityHttp for Endpoints {
        async fn send(&self, request: IdentityRequest<'_>) -> Result<Answer> {
            self.asked.lock().unwrap().push((
                request.post,
                request.url.to_string(),
                request
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ));
            Ok(self.answers.lock().unwrap().remove(0))
        }
    }

    #[test]
    fn the_process_snapshot_holds_every_ci_variable() {
        for name in VARIABLES {
            assert!(
                crate::environment::NAMES.contains(name),
                "{name} is not in environment::NAMES"
            );
        }
    }

    #[test]
    fn the_source_is_the_named_one_else_a_complete_set_else_none() {
        let sp = [
            ("AZURE_TENANT_ID", T),
            ("AZURE_CLIENT_ID", C),
            ("AZURE_CLIENT_SECRET", "s3cret"),
        ];
        let cert = [
            ("AZURE_TENANT_ID", T),
            ("AZURE_CLIENT_ID", C),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"),
        ];
        let wi = [
            ("AZURE_TENANT_ID", T),
            ("AZURE_CLIENT_ID", C),
            ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
        ];
        let both: Vec<_> = sp
            .iter()
            .chain(cert.iter())
            .chain(wi.iter())
            .copied()
            .collect();
        let ambient = [
            (
                "SYSTEM_OIDCREQUESTURI",
                "https://dev.azure.com/o/p/_apis/oidc",
            ),
            ("SYSTEM_ACCESSTOKEN", "job"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/o/"),
            ("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "sc-1"),
            ("AZURESUBSCRIPTION_CLIENT_ID", C),
            ("AZURESUBSCRIPTION_TENANT_ID", T),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://gh/x?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "rt"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"),
            ("IDENTITY_HEADER", "h"),
        ];
        let named = |name: &'static str, vars: &[(&'static str, &'static str)]| {
            let mut all = vars.to_vec();
            all.push((ENV_CREDENTIAL, name));
            env(&all)
        };
        let shown = |e: CiEnv| {
            choose(&e)
                .unwrap()
                .map(|s| (s.kind.name(), s.named, s.description()))
        };
        let cases: Vec<(CiEnv, Option<(&str, bool, String)>)> = vec![
            (
                env(&sp),
                Some((
                    "service-principal",
                    false,
                    format!("service principal {C} from AZURE_CLIENT_SECRET"),
                )),
            ),
            (
                env(&both),
                Some((
                    "service-principal",
                    false,
                    format!("service principal {C} from AZURE_CLIENT_SECRET"),
                )),
            ),
            (
                env(&cert),
                Some((
                    "service-principal",
                    false,
                    format!(
                        "service principal {C} with the certificate in AZURE_CLIENT_CERTIFICATE_PATH"
                    ),
                )),
            ),
            (
                env(&wi),
                Some((
                    "workload-identity",
                    false,
                    format!("workload identity {C} from AZURE_FEDERATED_TOKEN_FILE"),
                )),
            ),
            // The ambient sources only when named.
            (env(&ambient), None),
            (env(&sp[..2]), None),
            (
                named("azure-pipelines", &ambient),
                Some((
                    "azure-pipelines",
                    true,
                    "Azure Pipelines service connection sc-1".into(),
                )),
            ),
            (
                named(
                    "GitHub-Actions",
                    &[
                        ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh/x"),
                        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "rt"),
                        ("AZURE_CLIENT_ID", C),
                        ("AZURE_TENANT_ID", T),
                    ],
                ),
                Some((
                    "github-actions",
                    true,
                    format!("GitHub Actions OIDC for {C}"),
                )),
            ),
            (
                named("managed-identity", &ambient),
                Some((
                    "managed-identity",
                    true,
                    "system-assigned managed identity from IDENTITY_ENDPOINT".into(),
                )),
            ),
            (
                named("managed-identity", &[("AZURE_CLIENT_ID", C)]),
                Some((
                    "managed-identity",
                    true,
                    format!("user-assigned managed identity {C} from IMDS"),
                )),
            ),
            // Named wins over a complete set of another.
            (
                named("workload-identity", &both),
                Some((
                    "workload-identity",
                    true,
                    format!("workload identity {C} from AZURE_FEDERATED_TOKEN_FILE"),
                )),
            ),
        ];
        for (e, expected) in cases {
            let what = format!("{e:?}");
            assert_eq!(shown(e), expected.map(|(a, b, c)| (a, b, c)), "{what}");
        }
        // Named with variables missing: every missing one named.
        for (name, vars, missing) in [
            (
                "service-principal",
                &sp[..2],
                vec!["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"],
            ),
            (
                "workload-identity",
                &[][..],
                vec![
                    "AZURE_TENANT_ID",
                    "AZURE_CLIENT_ID",
                    "AZURE_FEDERATED_TOKEN_FILE",
                ],
            ),
            (
                "azure-pipelines",
                &ambient[..2],
                vec![
                    "AZURESUBSCRIPTION_TENANT_ID",
                    "AZURESUBSCRIPTION_CLIENT_ID",
                    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
                    "SYSTEM_COLLECTIONURI",
                ],
            ),
            (
                "github-actions",
                &sp[..],
                vec![
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                ],
            ),
            (
                "managed-identity",
                &[("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi")][..],
                vec!["IDENTITY_HEADER"],
            ),
        ] {
            let err = choose(&named(name, vars)).unwrap_err();
            assert_eq!(err.code(), "CI_CREDENTIAL_MISSING", "{name}");
            match &err {
                Error::CiCredentialMissing { missing: got, .. } => {
                    assert_eq!(got, &missing, "{name}")
                }
                other => panic!("{other:?}"),
            }
            for variable in missing {
                assert!(err.to_string().contains(variable), "{err}");
            }
        }
        let unknown = choose(&named("pat", &sp)).unwrap_err();
        assert_eq!(unknown.code(), "INVALID_ARGUMENT");
        assert!(unknown.to_string().contains("TFX_AUTH_CREDENTIAL"));
        // Nothing secret in Debug.
        let debug = format!("{:?} {:?}", env(&sp), choose(&env(&sp)).unwrap());
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    fn token_answer(token: &str, expires_in: u64) -> Answer {
        Answer::new(
            200,
            format!(
                r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{token}"}}"#
            ),
        )
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_secret_is_one_client_credentials_grant_and_a_refusal_names_the_aadsts_code_not_the_secret()
     {
        let source = choose(&env(&[
            ("AZURE_TENANT_ID", T),
            ("AZURE_CLIENT_ID", C),
            ("AZURE_CLIENT_SECRET", "s3cret-value"),
        ]))
        .unwrap()
        .unwrap();
        let authority = Scripted::new(vec![
            Ok(token_answer("at-1", 3599)),
            Ok(Answer::new(
                401,
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided s3cret-value.\r\nTrace ID: x","error_codes":[7000215]}"#,
            )),
            Ok(Answer::new(
                400,
                r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application not found.\r\nTrace ID: x","error_codes":[700016]}"#,
            )),
        ]);
        let token = source
            .exchange(&authority, &Endpoints::default(), || 1000)
            .await
            .unwrap();
        assert_eq!(
            (token.access_token.as_str(), token.expires_at),
            ("at-1", Some(4599))
        );
        let calls = authority.calls.lock().unwrap().clone();
        assert_eq!(
            calls[0].1,
            format!("https://login.microsoftonline.com/{T}/oauth2/v2.0/token")
        );
        let form: Vec<(&str, &str)> = calls[0]
            .2
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            form,
            [
                ("grant_type", "client_credentials"),
                ("client_id", C),
                ("scope", "499b84ac-1321-427f-aa17-267ca6975798/.default"),
                ("client_secret", "s3cret-value"),
            ]
        );
        let echoed = source
            .exchange(&authority, &Endpoints::default(), || 1000)
            .await
            .unwrap_err();
        assert_eq!(
            (echoed.code(), echoed.http_status()),
            ("AUTHORITY_ERROR", Some(401))
        );
        assert!(
            echoed
                .to_string()
                .contains("invalid_client, AADSTS7000215 (HTTP 401)"),
            "{echoed}"
        );
        assert!(!echoed.to_string().contains("s3cret"), "{echoed}");
        let refused = source
            .exchange(&authority, &Endpoints::default(), || 1000)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains(
                "unauthorized_client, AADSTS700016 (HTTP 400): AADSTS700016: Application not found."
            ),
            "{refused}"
        );
        assert!(!refused.to_string().contains("Trace ID"), "{refused}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn federated_sources_fetch_their_token_then_present_it_as_the_assertion() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "k8s.jwt.token\n").unwrap();
        let oidc = "https://dev.azure.com/fabfiber/p1/_apis/distributedtask/hubs/build/plans/x/jobs/y/oidctoken";
        let cases = [
            (
                vec![("AZURE_TENANT_ID", T), ("AZURE_CLIENT_ID", C), ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap())],
                None,
                "k8s.jwt.token",
            ),
            (
                vec![(ENV_CREDENTIAL, "azure-pipelines"), ("SYSTEM_OIDCREQUESTURI", oidc), ("SYSTEM_ACCESSTOKEN", "job-token"),
                    ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/fabfiber/"), ("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "sc-1"),
                    ("AZURESUBSCRIPTION_CLIENT_ID", C), ("AZURESUBSCRIPTION_TENANT_ID", T)],
                Some((true, format!("{oidc}?api-version=7.1&serviceConnectionId=sc-1"), vec![("authorization", "Bearer job-token"), ("content-type", "application/json")], r#"{"oidcToken":"ado.oidc.token"}"#)),
                "ado.oidc.token",
            ),
            (
                vec![(ENV_CREDENTIAL, "github-actions"), ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://pipelines.actions.example/id?api-version=2.0"),
                    ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request"), ("AZURE_CLIENT_ID", C), ("AZURE_TENANT_ID", T)],
                Some((false, "https://pipelines.actions.example/id?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange".to_string(), vec![("authorization", "Bearer gh-request")], r#"{"count":1,"value":"gh.oidc.token"}"#)),
                "gh.oidc.token",
            ),
        ];
        for (vars, identity, assertion) in cases {
            let source = choose(&env(&vars)).unwrap().unwrap();
            let endpoints = Endpoints::default();
            if let Some((_, _, _, body)) = &identity {
                endpoints
                    .answers
                    .lock()
                    .unwrap()
                    .push(Answer::new(200, *body));
            }
            let authority = Scripted::new(vec![Ok(token_answer("at", 600))]);
            source
                .exchange(&authority, &endpoints, || 1000)
                .await
                .unwrap();
            let asked = endpoints.asked.lock().unwrap().clone();
            match identity {
                Some((post, url, headers, _)) => {
                    let headers: Vec<(String, String)> = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    assert_eq!(asked, [(post, url, headers)]);
                }
                None => assert!(asked.is_empty()),
            }
            let form = authority.calls.lock().unwrap()[0].2.clone();
            assert!(
                form.contains(&("client_assertion".into(), assertion.into())),
                "{form:?}"
            );
            assert!(form.contains(&(
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()
            )));
        }
        // The job token goes to no OIDC URI outside the collection.
        let outside = env(&[
            (ENV_CREDENTIAL, "azure-pipelines"),
            (
                "SYSTEM_OIDCREQUESTURI",
                "https://dev.azure.com/other/_apis/oidc",
            ),
            ("SYSTEM_ACCESSTOKEN", "job-token"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/fabfiber/"),
            ("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "sc-1"),
            ("AZURESUBSCRIPTION_CLIENT_ID", C),
            ("AZURESUBSCRIPTION_TENANT_ID", T),
        ]);
        let endpoints = Endpoints::default();
        let authority = Scripted::new(vec![]);
        let err = choose(&outside)
            .unwrap()
            .unwrap()
            .exchange(&authority, &endpoints, || 1000)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_URL");
        assert!(endpoints.asked.lock().unwrap().is_empty() && authority.call_count() == 0);
    }

    #[tokio::test(start_paused = true)]
    async fn imds_is_retried_with_backoff_on_404_429_and_5xx_and_gives_up_with_a_coded_error() {
        let source = choose(&env(&[
            (ENV_CREDENTIAL, "managed-identity"),
            ("AZURE_CLIENT_ID", C),
            ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9"),
        ]))
        .unwrap()
        .unwrap();
        let ok = Answer::new(
            200,
            r#"{"access_token":"mi-token","expires_in":"3599","expires_on":"1700003599","resource":"r","token_type":"Bearer"}"#,
        );
        let endpoints = Endpoints::default();
        *endpoints.answers.lock().unwrap() = vec![
            Answer::new(404, "{}"),
            Answer::new(429, "{}"),
            Answer::new(503, "{}"),
            ok,
        ];
        let start = tokio::time::Instant::now();
        let authority = Scripted::new(vec![]);
        let token = source
            .exchange(&authority, &endpoints, || 1_700_000_000)
            .await
            .unwrap();
        assert_eq!(
            (token.access_token.as_str(), token.expires_at),
            ("mi-token", Some(1_700_003_599))
        );
        assert_eq!(start.elapsed(), Duration::from_millis(500 + 1000 + 2000));
        let asked = endpoints.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 4);
        assert_eq!(
            asked[0].1,
            format!(
                "http://127.0.0.1:9/metadata/identity/oauth2/token?api-version=2018-02-01&resource=499b84ac-1321-427f-aa17-267ca6975798&client_id={C}"
            )
        );
        assert_eq!(asked[0].2, [("metadata".to_string(), "true".to_string())]);
        // Four 404s: the last is the answer; 400 is not retried.
        for (answers, count) in [(vec![404, 404, 404, 404], 4), (vec![400], 1)] {
            let endpoints = Endpoints::default();
            *endpoints.answers.lock().unwrap() = answers
                .iter()
                .map(|s| Answer::new(*s, r#"{"error":"invalid_request"}"#))
                .collect();
            let err = source
                .exchange(&authority, &endpoints, || 1)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "AUTHORITY_ERROR");
            assert_eq!(endpoints.asked.lock().unwrap().len(), count);
        }
        assert_eq!(
            authority.call_count(),
            0,
            "a managed identity needs no authority"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn one_exchange_for_concurrent_callers_kept_until_five_minutes_before_expiry() {
        let cache = TokenCache::default();
        let exchanges = AtomicUsize::new(0);
        let exchange = |expires_at: u64| {
            let exchanges = &exchanges;
            async move {
                exchanges.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                EntraToken::access_only(format!("at-{expires_at}"), Some(expires_at))
            }
        };
        let (a, b, c) = tokio::join!(
            cache.get("k", || 1000, exchange(5000)),
            cache.get("k", || 1000, exchange(5000)),
            cache.get("k", || 1000, exchange(5000)),
        );
        assert_eq!(exchanges.load(Ordering::SeqCst), 1);
        assert!(
            [a.unwrap(), b.unwrap(), c.unwrap()]
                .iter()
                .all(|t| t.access_token.as_str() == "at-5000")
        );
        // Reused until 5 minutes before expiry, renewed from then on.
        assert_eq!(
            cache
                .get("k", || 4699, exchange(9000))
                .await
                .unwrap()
                .access_token
                .as_str(),
            "at-5000"
        );
        assert_eq!(
            cache
                .get("k", || 4700, exchange(9000))
                .await
                .unwrap()
                .access_token
                .as_str(),
            "at-9000"
        );
        assert_eq!(exchanges.load(Ordering::SeqCst), 2);
        // A failure is not kept; another source's key is another exchange.
        let failing = async { Err(Error::invalid_credential("x")) };
        assert!(cache.get("other", || 4700, failing).await.is_err());
        assert_eq!(
            cache
                .get("other", || 4700, exchange(9999))
                .await
                .unwrap()
                .access_token
                .as_str(),
            "at-9999"
        );
    }
}
