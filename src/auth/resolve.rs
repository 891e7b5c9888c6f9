//! Which credential a command uses for a URL, and where it came from: the one
//! answer to "which token, from where?" that the tfx hook, the `tfx-auth`
//! command and the JavaScript API share. In order:
//!
//! 1. the command's own flags: `--username` with `--password` (Basic), else
//!    `--token` (a PAT), as tfx-cli reads them;
//! 2. the CI source `TFX_AUTH_CREDENTIAL` names ([`ci`]): an explicit choice
//!    for the command, so no ambient variable overrides it, and its failure
//!    fails the command (no fall-back);
//! 3. the environment: `AZURE_DEVOPS_EXT_PAT` (a PAT), `TFX_ENTRA_TOKEN`, then
//!    `SYSTEM_ACCESSTOKEN` (Entra access tokens; the pipeline's job token is
//!    the most ambient of the three, so it comes last);
//! 4. a service principal or workload identity whose variables are all set
//!    ([`ci::choose`]): configuration of this run, like the variables above,
//!    so ahead of what the machine keeps for a person;
//! 5. the stored login (an Entra one renewed first, a tfx-cli plaintext one
//!    migrated first);
//! 6. the Azure CLI's token, when `az` is on PATH.
//!
//! Every Entra token (`TFX_ENTRA_TOKEN`, the CI sources, a stored Entra
//! login, the Azure CLI's) is used only for a URL the Entra host rule allows
//! ([`hosts::may_receive_entra_token`], never with certificate checks
//! skipped), the job token only inside its own collection
//! ([`hosts::job_token_may_go`]); a source whose token may not go to the URL
//! is passed over, not asked.
//!
//! Nothing found: the caller prompts (tfx's own prompts). Adding a source is
//! one [`Source`] variant and one step below.

use std::ffi::OsString;

use crate::auth::ci::{self, CiEnv, CiKind};
use crate::auth::logins::Logins;
use crate::auth::renewal::current_credential_if;
use crate::credential::{Credential, EntraToken};
use crate::entra::identity_http::IdentityHttp;
use crate::entra::transport::Authority;
use crate::entra::{azure_cli, hosts};
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
    /// A CI source (`TFX_AUTH_CREDENTIAL`, or its variables all set).
    Ci(CiKind),
}

impl Source {
    /// The stable name JavaScript sees (`flags`, a variable's name, `stored`, `azure-cli`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flags => "flags",
            Source::Variable(name) => name,
            Source::Stored => "stored",
            Source::AzureCli => "azure-cli",
            Source::Ci(kind) => kind.name(),
        }
    }
}

/// A command's credential flags, as given (tfx-cli's `--token`,
/// `--username`, `--password`), and whether it skips certificate checks
/// (`--skip-cert-validation`; the URL's remembered choice counts too).
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub skip_cert_validation: bool,
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
/// find `az`), the hosts Entra tokens may also go to, the pipeline's
/// collection (the job token's only destination), and the tenant to ask
/// `az` for.
#[derive(Debug, Default, Clone)]
pub struct SourceEnv {
    pub variables: Vec<(&'static str, VariableKind, String)>,
    pub path: Option<OsString>,
    pub entra_hosts: Option<String>,
    pub collection: Option<String>,
    pub azure_cli_tenant: Option<String>,
    pub ci: CiEnv,
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
            entra_hosts: text(hosts::ENV_HOSTS),
            collection: text(hosts::ENV_COLLECTION).or_else(|| text(hosts::ENV_COLLECTION_LEGACY)),
            azure_cli_tenant: text(crate::entra::ENV_TENANT)
                .filter(|t| crate::credential::entra::is_tenant(t)),
            ci: CiEnv::read(text),
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
pub async fn resolve<'l, A: Authority, H: IdentityHttp>(
    logins: impl FnOnce() -> Result<&'l Logins>,
    authority: &A,
    identity: &H,
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
    let mut logins = Opened::new(logins);
    let mut entra_may_go = EntraRule::new(url, flags, env);
    let from_ci = |source: ci::CiSource| async move {
        let token = ci_token(&source, authority, identity, now).await?;
        found(Credential::Entra(token), Source::Ci(source.kind))
    };
    if url.is_some()
        && env.ci.names_a_source()
        && entra_may_go.check(&mut logins)?
        && let Some(source) = ci::choose(&env.ci)?
    {
        return from_ci(source).await;
    }
    for (name, kind, value) in &env.variables {
        let credential = match kind {
            VariableKind::Pat => Credential::pat(value)?,
            VariableKind::EntraAccessToken => {
                let may_go = match (url, *name) {
                    (None, _) => true,
                    (Some(url), "SYSTEM_ACCESSTOKEN") => {
                        hosts::job_token_may_go(url.as_url(), env.collection.as_deref())
                    }
                    (Some(_), _) => entra_may_go.check(&mut logins)?,
                };
                if !may_go {
                    continue;
                }
                Credential::Entra(EntraToken::access_only(value, None)?)
            }
        };
        return found(credential, Source::Variable(name));
    }
    let Some(url) = url else {
        return Ok(None);
    };
    let entra_ok = entra_may_go.check(&mut logins)?;
    if entra_ok
        && !env.ci.names_a_source()
        && let Some(source) = ci::choose(&env.ci)?
    {
        return from_ci(source).await;
    }
    if let Some(credential) =
        current_credential_if(logins.get()?, authority, url, now, entra_ok).await?
    {
        return found(credential, Source::Stored);
    }
    if !entra_ok {
        return Ok(None);
    }
    let token = azure_cli::token(env.path.as_deref(), env.azure_cli_tenant.as_deref()).await?;
    Ok(token.map(|t| Resolved {
        credential: Credential::Entra(t),
        source: Source::AzureCli,
    }))
}

/// The CI source's credential for `url` (see [`ci`]), when one is in effect
/// and the Entra host rule lets its token go there (the URL's remembered
/// certificate choice counts): what `getCredential` returns ahead of the
/// stored login, as a command would use it.
///
/// # Errors
/// As [`resolve`]'s CI steps: `CI_CREDENTIAL_MISSING`, `AUTHORITY_ERROR`, transport errors.
pub async fn ci_credential<A: Authority, H: IdentityHttp>(
    logins: &Logins,
    authority: &A,
    identity: &H,
    url: &ServiceUrl,
    env: &SourceEnv,
    now: u64,
) -> Result<Option<Credential>> {
    let skip = logins.settings().skip_cert_validation(url)?;
    if !hosts::may_receive_entra_token(url, env.entra_hosts.as_deref(), skip) {
        return Ok(None);
    }
    let Some(source) = ci::choose(&env.ci)? else {
        return Ok(None);
    };
    let token = ci_token(&source, authority, identity, now).await?;
    Ok(Some(Credential::Entra(token)))
}

/// The source's token from this process's one exchange ([`ci::process_cache`]).
async fn ci_token<A: Authority, H: IdentityHttp>(
    source: &ci::CiSource,
    authority: &A,
    identity: &H,
    now: u64,
) -> Result<EntraToken> {
    ci::current_token(
        source,
        ci::process_cache(),
        authority,
        identity,
        move || now,
    )
    .await
}

/// The logins, opened on first use only (a command given its credential
/// never touches the store).
struct Opened<'l, F> {
    open: Option<F>,
    logins: Option<&'l Logins>,
}

impl<'l, F: FnOnce() -> Result<&'l Logins>> Opened<'l, F> {
    fn new(open: F) -> Self {
        Opened {
            open: Some(open),
            logins: None,
        }
    }

    fn get(&mut self) -> Result<&'l Logins> {
        if let Some(logins) = self.logins {
            return Ok(logins);
        }
        let open = self.open.take().ok_or_else(|| {
            crate::error::Error::store("the credential store could not be opened", None)
        })?;
        let logins = open()?;
        self.logins = Some(logins);
        Ok(logins)
    }
}

/// Whether an Entra token may go to the URL, decided once: the URL's
/// remembered certificate choice is read only when the host itself passes
/// and the flag does not already skip the checks.
struct EntraRule<'a> {
    url: Option<&'a ServiceUrl>,
    skip_flag: bool,
    hosts: Option<&'a str>,
    decided: Option<bool>,
}

impl<'a> EntraRule<'a> {
    fn new(url: Option<&'a ServiceUrl>, flags: &Flags, env: &'a SourceEnv) -> Self {
        EntraRule {
            url,
            skip_flag: flags.skip_cert_validation,
            hosts: env.entra_hosts.as_deref(),
            decided: None,
        }
    }

    fn check<'l, F: FnOnce() -> Result<&'l Logins>>(
        &mut self,
        logins: &mut Opened<'l, F>,
    ) -> Result<bool> {
        if let Some(decided) = self.decided {
            return Ok(decided);
        }
        let Some(url) = self.url else {
            return Ok(false);
        };
        let decided = hosts::may_receive_entra_token(url, self.hosts, self.skip_flag)
            && !logins.get()?.settings().skip_cert_validation(url)?;
        self.decided = Some(decided);
        Ok(decided)
    }
}

#[cfg(test)]
mod tests;
