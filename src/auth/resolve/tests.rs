use super::*;
use crate::auth::logins::Paths;
use crate::entra::device_code::tests::Scripted;
use crate::entra::identity_http::IdentityRequest;
use crate::entra::transport::Answer;

/// No identity endpoint may be asked.
struct NoIdentity;
impl IdentityHttp for NoIdentity {
    async fn send(&self, request: IdentityRequest<'_>) -> Result<Answer> {
        panic!("an identity endpoint was asked: {}", request.url)
    }
}

fn env_of(vars: &[(&str, &str)]) -> SourceEnv {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    SourceEnv::read(|name| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| OsString::from(v))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_then_variables_then_the_stored_login() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_dir: dir.path().join("config"),
        home: dir.path().join("home"),
    };
    let (logins, _) = Logins::in_memory(&paths);
    let url = ServiceUrl::parse("https://dev.azure.com/fabfiber").unwrap();
    logins
        .save(&url, &Credential::pat("stored-pat").unwrap())
        .unwrap();
    let authority = Scripted::new(vec![]);
    let all = env_of(&[
        ("AZURE_DEVOPS_EXT_PAT", "env-pat"),
        ("TFX_ENTRA_TOKEN", "entra-token"),
        ("SYSTEM_ACCESSTOKEN", "job-token"),
    ]);
    let basic = Flags {
        username: Some("fabfiber\\peter".into()),
        password: Some("pw".into()),
        token: Some("flag-pat".into()),
        ..Flags::default()
    };
    let token_only = Flags {
        token: Some("flag-pat".into()),
        username: Some("half".into()),
        ..Flags::default()
    };
    let cases: [(&Flags, SourceEnv, &str, &str); 6] = [
        (&basic, all.clone(), "flags", "pw"),
        (&token_only, all.clone(), "flags", "flag-pat"),
        (
            &Flags::default(),
            all.clone(),
            "AZURE_DEVOPS_EXT_PAT",
            "env-pat",
        ),
        (
            &Flags::default(),
            env_of(&[
                ("TFX_ENTRA_TOKEN", "entra-token"),
                ("SYSTEM_ACCESSTOKEN", "job"),
            ]),
            "TFX_ENTRA_TOKEN",
            "entra-token",
        ),
        (
            &Flags::default(),
            env_of(&[
                ("SYSTEM_ACCESSTOKEN", "job-token"),
                ("TFX_ENTRA_TOKEN", "  "),
                ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/fabfiber/"),
            ]),
            "SYSTEM_ACCESSTOKEN",
            "job-token",
        ),
        (&Flags::default(), env_of(&[]), "stored", "stored-pat"),
    ];
    for (flags, env, source, secret) in cases {
        let got = resolve(
            || Ok(&logins),
            &authority,
            &NoIdentity,
            Some(&url),
            flags,
            &env,
            1000,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            (got.source.as_str(), got.credential.secret()),
            (source, secret)
        );
    }
    let (no_flags, no_env) = (Flags::default(), env_of(&[]));
    let ask = |url: Option<&ServiceUrl>, flags: &Flags, env: &SourceEnv| {
        let (url, flags, env) = (url.cloned(), flags.clone(), env.clone());
        let (logins, authority) = (&logins, &authority);
        async move {
            resolve(
                || Ok(logins),
                authority,
                &NoIdentity,
                url.as_ref(),
                &flags,
                &env,
                1000,
            )
            .await
        }
    };
    // No URL: the flags and the environment only.
    assert!(ask(None, &no_flags, &no_env).await.unwrap().is_none());
    // Nothing stored, az not allowed for this host: nothing (tfx then prompts).
    let other = ServiceUrl::parse("http://tfs.fabfiber.local:8080/tfs/c").unwrap();
    let with_az = SourceEnv {
        path: Some(OsString::from("/nonexistent")),
        ..env_of(&[])
    };
    assert!(
        ask(Some(&other), &no_flags, &with_az)
            .await
            .unwrap()
            .is_none()
    );
    let bad = Flags {
        token: Some("has space".into()),
        ..Flags::default()
    };
    let err = ask(Some(&url), &bad, &no_env).await;
    assert_eq!(err.unwrap_err().code(), "INVALID_CREDENTIAL");
}

#[tokio::test(flavor = "multi_thread")]
async fn entra_tokens_are_passed_over_where_the_host_rule_keeps_them_out() {
    use zeroize::Zeroizing;
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_dir: dir.path().join("config"),
        home: dir.path().join("home"),
    };
    let (logins, _) = Logins::in_memory(&paths);
    let ado = ServiceUrl::parse("https://dev.azure.com/fabfiber").unwrap();
    let server = ServiceUrl::parse("https://tfs.fabfiber.com/tfs/DefaultCollection").unwrap();
    let plain = ServiceUrl::parse("http://tfs.fabfiber.com:8080/tfs/DefaultCollection").unwrap();
    let remembered = ServiceUrl::parse("https://fabfiber.visualstudio.com").unwrap();
    logins
        .save(&server, &Credential::pat("server-pat").unwrap())
        .unwrap();
    logins
        .settings()
        .set_skip_cert_validation(&remembered, true)
        .unwrap();
    let authority = Scripted::new(vec![]);
    let no_az = ("PATH", "/nonexistent");
    let entra = env_of(&[("TFX_ENTRA_TOKEN", "entra-token"), no_az]);
    let job = |collection: &str| {
        env_of(&[
            ("SYSTEM_ACCESSTOKEN", "job-token"),
            ("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", collection),
            no_az,
        ])
    };
    let listed = env_of(&[
        ("TFX_ENTRA_TOKEN", "entra-token"),
        ("TFX_AUTH_ENTRA_HOSTS", "tfs.fabfiber.com"),
        no_az,
    ]);
    let skip = Flags {
        skip_cert_validation: true,
        ..Flags::default()
    };
    let none = Flags::default();
    // (url, flags, env, the source and secret used, or None)
    type Case<'a> = (
        &'a ServiceUrl,
        &'a Flags,
        SourceEnv,
        Option<(&'a str, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            &ado,
            &none,
            entra.clone(),
            Some(("TFX_ENTRA_TOKEN", "entra-token")),
        ),
        (&ado, &skip, entra.clone(), None),
        (&remembered, &none, entra.clone(), None),
        (
            &server,
            &none,
            entra.clone(),
            Some(("stored", "server-pat")),
        ),
        (
            &server,
            &none,
            listed.clone(),
            Some(("TFX_ENTRA_TOKEN", "entra-token")),
        ),
        (&plain, &none, listed.clone(), None),
        (
            &server,
            &skip,
            listed.clone(),
            Some(("stored", "server-pat")),
        ),
        (
            &ado,
            &none,
            job("https://dev.azure.com/fabfiber"),
            Some(("SYSTEM_ACCESSTOKEN", "job-token")),
        ),
        (&ado, &none, job("https://dev.azure.com/other/"), None),
        (
            &server,
            &none,
            job("https://dev.azure.com/fabfiber/"),
            Some(("stored", "server-pat")),
        ),
        (
            &ado,
            &none,
            env_of(&[("SYSTEM_ACCESSTOKEN", "job-token"), no_az]),
            None,
        ),
        (
            &plain,
            &none,
            job("http://tfs.fabfiber.com:8080/tfs/DefaultCollection"),
            Some(("SYSTEM_ACCESSTOKEN", "job-token")),
        ),
    ];
    for (url, flags, env, expected) in cases {
        let got = resolve(
            || Ok(&logins),
            &authority,
            &NoIdentity,
            Some(url),
            flags,
            &env,
            1000,
        )
        .await
        .unwrap();
        let got = got
            .as_ref()
            .map(|r| (r.source.as_str(), r.credential.secret()));
        assert_eq!(got, expected, "{url} {flags:?}");
    }

    // A stored Entra login due for renewal is neither renewed nor used
    // where certificate checks are skipped.
    let due = EntraToken {
        access_token: Zeroizing::new("at-1".into()),
        expires_at: Some(1000),
        refresh: Some(crate::credential::entra::RefreshGrant {
            refresh_token: Zeroizing::new("rt-1".into()),
            authority: "https://login.microsoftonline.com/t1".into(),
            tenant: "t1".into(),
            client_id: "c1".into(),
        }),
    };
    logins.save(&ado, &Credential::Entra(due)).unwrap();
    let env = env_of(&[no_az]);
    let got = resolve(
        || Ok(&logins),
        &authority,
        &NoIdentity,
        Some(&ado),
        &skip,
        &env,
        1000,
    )
    .await;
    assert!(got.unwrap().is_none());
    assert_eq!(authority.call_count(), 0, "no renewal was asked for");
}
