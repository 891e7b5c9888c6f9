use std::sync::Mutex;
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

/// A request seen: whether a POST, the URL, the headers.
type Asked = (bool, String, Vec<(String, String)>);
/// A case: the environment, and the source's name, whether named, its description.
type Case = (CiEnv, Option<(&'static str, bool, String)>);

/// Identity endpoints answering from a script, recording what was asked.
#[derive(Default)]
pub struct Endpoints {
    pub answers: Mutex<Vec<Answer>>,
    pub asked: Mutex<Vec<Asked>>,
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
    let cases: Vec<Case> = vec![
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
        assert_eq!(shown(e), expected, "{what}");
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
        format!(r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{token}"}}"#),
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

#[tokio::test(flavor = "multi_thread")]
async fn identity_endpoints_in_clear_off_the_machine_are_asked_nothing() {
    let cases = [
        vec![
            (ENV_CREDENTIAL, "github-actions"),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "http://pipelines.actions.example/id?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request"),
            ("AZURE_CLIENT_ID", C),
            ("AZURE_TENANT_ID", T),
        ],
        vec![
            (ENV_CREDENTIAL, "managed-identity"),
            ("IDENTITY_ENDPOINT", "http://10.0.0.4:41741/msi/token"),
            ("IDENTITY_HEADER", "identity-header"),
        ],
    ];
    for vars in cases {
        let endpoints = Endpoints::default();
        let authority = Scripted::new(vec![]);
        let err = choose(&env(&vars))
            .unwrap()
            .unwrap()
            .exchange(&authority, &endpoints, || 1000)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_URL", "{vars:?}");
        assert!(
            !err.to_string().contains("gh-request") && !err.to_string().contains("identity-header")
        );
        assert!(
            endpoints.asked.lock().unwrap().is_empty() && authority.call_count() == 0,
            "{vars:?}"
        );
    }
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
