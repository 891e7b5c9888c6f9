//! Which credential a command uses for a URL, and where it came from: the one
//! answer to "which token, from where?" that the tfx hook, the `tfx-auth`
//! command and the JavaScript API share. In order:
//!
//! 1. the command's own flags: `--username` with `--password` (Basic), else
//!    `--token` (a PAT), as tfx-cli reads them;
//! 2. the environment: `AZURE_DEVOPS_EXT_PAT` (a PAT), `TFX_ENTRA_TOKEN`, then
//!    `SYSTEM_ACCESSTOKEN` (Entra access tokens; the pipeline's job token is
//!    the most ambient of the three, so it comes last);
//! 3. the stored login (an Entra one renewed first, a tfx-cli plaintext one
//!    migrated first);
//! 4. the Azure CLI's token, only for URLs it may reach
//!    ([`azure_cli::may_receive_token`]) and when `az` is on PATH.
//!
//! Nothing found: the caller prompts (tfx's own prompts). Adding a source is
//! one [`Source`] variant and one step below.

use std::ffi::OsString;

use crate::auth::logins::Logins;
use crate::auth::renewal::current_credential;
use crate::credential::{Credential, EntraToken};
use crate::entra::azure_cli;
use crate::entra::transport::Authority;
use crate::error::Result;
use crate::service_url::ServiceUrl;

/// Where a resolved credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flags,
    /// An environment variable, by name.
    Variable(&'static str),
    Stored,
    AzureCli,
}

impl Source {
    /// The stable name JavaScript sees (`flags`, a variable's name, `stored`, `azure-cli`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flags => "flags",
            Source::Variable(name) => name,
            Source::Stored => "stored",
            Source::AzureCli => "azure-cli",
        }
    }
}

/// A command's credential flags, as given (tfx-cli's `--token`,
/// `--username`, `--password`).
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The variables holding a credential, most specific first.
pub const CREDENTIAL_VARIABLES: [(&str, VariableKind); 3] = [
    ("AZURE_DEVOPS_EXT_PAT", VariableKind::Pat),
    ("TFX_ENTRA_TOKEN", VariableKind::EntraAccessToken),
    ("SYSTEM_ACCESSTOKEN", VariableKind::EntraAccessToken),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableKind {
    Pat,
    EntraAccessToken,
}

/// What the sources read from the environment, read once per process by the
/// caller: the credential variables' values (set and not blank), `PATH` (to
/// find `az`), the hosts the Azure CLI's token may also go to, and the tenant
/// to ask `az` for.
#[derive(Debug, Default, Clone)]
pub struct SourceEnv {
    pub variables: Vec<(&'static str, VariableKind, String)>,
    pub path: Option<OsString>,
    pub azure_cli_hosts: Option<String>,
    pub azure_cli_tenant: Option<String>,
}

impl SourceEnv {
    /// Reads the environment through `var` (`std::env::var_os` in the process).
    pub fn read(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |name: &str| {
            var(name)
                .and_then(|v| v.into_string().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        SourceEnv {
            variables: CREDENTIAL_VARIABLES
                .iter()
                .filter_map(|(name, kind)| text(name).map(|value| (*name, *kind, value)))
                .collect(),
            path: var("PATH"),
            azure_cli_hosts: text(azure_cli::ENV_HOSTS),
            azure_cli_tenant: text(crate::entra::ENV_TENANT)
                .filter(|t| crate::credential::entra::is_tenant(t)),
        }
    }
}

/// A credential and where it came from.
#[derive(Debug)]
pub struct Resolved {
    pub credential: Credential,
    pub source: Source,
}

/// The credential for `url` by the precedence above; `Ok(None)` when no source
/// has one. Without a URL only the flags and the environment are asked.
/// `logins` opens the store only when a step needs it, so a command given its
/// credential never touches (or warns about) the store.
///
/// # Errors
/// `INVALID_CREDENTIAL` for unusable flags or variables; the store's errors;
/// `REAUTH_REQUIRED` and the authority's errors from renewing an Entra login;
/// `AZURE_CLI_ERROR` when `az` is there but gives no token.
pub async fn resolve<'l, A: Authority>(
    logins: impl FnOnce() -> Result<&'l Logins>,
    authority: &A,
    url: Option<&ServiceUrl>,
    flags: &Flags,
    env: &SourceEnv,
    now: u64,
) -> Result<Option<Resolved>> {
    let found = |credential, source| Ok(Some(Resolved { credential, source }));
    match (&flags.username, &flags.password, &flags.token) {
        (Some(user), Some(password), _) if !user.is_empty() && !password.is_empty() => {
            return found(Credential::basic(user, password)?, Source::Flags);
        }
        (_, _, Some(token)) if !token.is_empty() => {
            return found(Credential::pat(token)?, Source::Flags);
        }
        _ => {}
    }
    if let Some((name, kind, value)) = env.variables.first() {
        let credential = match kind {
            VariableKind::Pat => Credential::pat(value)?,
            VariableKind::EntraAccessToken => {
                Credential::Entra(EntraToken::access_only(value, None)?)
            }
        };
        return found(credential, Source::Variable(name));
    }
    let Some(url) = url else {
        return Ok(None);
    };
    if let Some(credential) = current_credential(logins()?, authority, url, now).await? {
        return found(credential, Source::Stored);
    }
    if !azure_cli::may_receive_token(url, env.azure_cli_hosts.as_deref()) {
        return Ok(None);
    }
    let token = azure_cli::token(env.path.as_deref(), env.azure_cli_tenant.as_deref()).await?;
    Ok(token.map(|t| Resolved {
        credential: Credential::Entra(t),
        source: Source::AzureCli,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::logins::Paths;
    use crate::entra::device_code::tests::Scripted;

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
                ]),
                "SYSTEM_ACCESSTOKEN",
                "job-token",
            ),
            (&Flags::default(), env_of(&[]), "stored", "stored-pat"),
        ];
        for (flags, env, source, secret) in cases {
            let got = resolve(|| Ok(&logins), &authority, Some(&url), flags, &env, 1000)
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
            async move { resolve(|| Ok(logins), authority, url.as_ref(), &flags, &env, 1000).await }
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
}
