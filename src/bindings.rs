//! The napi layer: converts between JavaScript and the core, and runs core
//! work off the JavaScript thread. No decisions live here.

mod connect;
mod entra;
mod node_api;
mod options;
mod resolve;
mod wire;

use options::options_from_js;

use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::*;
use napi::{Env, JsError, Task};
use napi_derive::napi;

use crate::auth::logins::{Logins, Paths};
use crate::auth::migration::MigrationReport as CoreReport;
use crate::auth::prewarm::Prewarmer;
use crate::auth::renewal::{current_credential, current_now};
use crate::credential::EntraToken;
use crate::credential::{AuthType, Credential as CoreCredential};
use crate::entra::transport::HttpAuthority;
use crate::entra::unix_now;
use crate::environment::Environment;
use crate::error::{Error as CoreError, Result as CoreResult};
use crate::http::{Cancel, ConnectOptions as CoreOptions, HttpClients};
use crate::service_url::ServiceUrl;
use crate::store::StoreEnv;

// ---- the process-wide login store, chosen once -------------------------------

static LOGINS: OnceLock<std::result::Result<Logins, String>> = OnceLock::new();

/// The environment, read once for the whole process and passed down.
fn environment() -> &'static Environment {
    static ENV: OnceLock<Environment> = OnceLock::new();
    ENV.get_or_init(|| Environment::read(|name| std::env::var_os(name)))
}

/// The store chosen for this process; a fallback warning goes to stderr once,
/// when a secret is first read or written.
fn logins() -> CoreResult<&'static Logins> {
    let chosen = LOGINS.get_or_init(|| {
        let store_env = StoreEnv::read(environment()).map_err(|e| e.to_string())?;
        let paths = Paths::from_env().map_err(|e| e.to_string())?;
        Ok(Logins::open(&store_env, &paths, |warning| {
            eprintln!("{warning}")
        }))
    });
    chosen
        .as_ref()
        .map_err(|reason| CoreError::store(reason, None))
}

// ---- errors: Error objects with a stable `code` ------------------------------

/// Builds the JavaScript error for a core error: `message`, `code`, and the
/// HTTP `status` where a server answered.
fn js_error(env: &Env, err: &CoreError) -> napi::Error {
    let raw = unsafe {
        JsError::from(napi::Error::new(err.code(), err.to_string())).into_value(env.raw())
    };
    if let Some(status) = err.http_status() {
        let mut object = Object::from_raw(env.raw(), raw);
        let _ = object.set_named_property("status", status as u32);
    }
    napi::Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) })
}

/// Throws synchronously (for the few sync functions).
fn throw(env: &Env, err: CoreError) -> napi::Error {
    js_error(env, &err)
}

/// Core work run on the libuv pool; core errors become coded JS errors.
pub struct Job<T: Send + 'static> {
    work: Option<Box<dyn FnOnce() -> CoreResult<T> + Send>>,
}

impl<T: ToNapiValue + TypeName + Send + 'static> Job<T> {
    fn new(work: impl FnOnce() -> CoreResult<T> + Send + 'static) -> AsyncTask<Self> {
        AsyncTask::new(Job {
            work: Some(Box::new(work)),
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Job<T> {
    type Output = CoreResult<T>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let work = self.work.take().expect("a task runs once");
        Ok(work())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|e| js_error(&env, &e))
    }
}

// ---- values crossing the boundary -------------------------------------------

/// A credential as JavaScript sees it: `{ type: 'pat', token }`,
/// `{ type: 'basic', username, password }` or `{ type: 'entra', accessToken, expiresOn }`.
#[napi(object)]
pub struct CredentialData {
    #[napi(js_name = "type", ts_type = "'pat' | 'basic' | 'entra'")]
    pub kind: String,
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub access_token: Option<String>,
    /// When an Entra access token expires: milliseconds since the epoch, like `Date.now()`.
    pub expires_on: Option<f64>,
}

fn credential_from_js(data: CredentialData) -> CoreResult<CoreCredential> {
    let missing = |field: &str| CoreError::invalid_credential(format!("`{field}` is missing"));
    match data.kind.as_str() {
        "pat" => CoreCredential::pat(data.token.ok_or_else(|| missing("token"))?),
        "basic" => CoreCredential::basic(
            data.username.ok_or_else(|| missing("username"))?,
            data.password.ok_or_else(|| missing("password"))?,
        ),
        "entra" => EntraToken::access_only(
            data.access_token.ok_or_else(|| missing("accessToken"))?,
            data.expires_on.and_then(crate::entra::js_ms_to_seconds),
        )
        .map(CoreCredential::Entra),
        other => Err(CoreError::invalid_credential(format!(
            "`type` must be 'pat', 'basic' or 'entra', not '{}'",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

fn credential_to_js(credential: &CoreCredential) -> CredentialData {
    match credential {
        CoreCredential::Pat { token } => CredentialData {
            kind: "pat".into(),
            token: Some(token.to_string()),
            ..no_fields()
        },
        CoreCredential::Basic { username, password } => CredentialData {
            kind: "basic".into(),
            username: Some(username.clone()),
            password: Some(password.to_string()),
            ..no_fields()
        },
        // Never the refresh token: it stays in the core and the store.
        CoreCredential::Entra(token) => CredentialData {
            kind: "entra".into(),
            access_token: Some(token.access_token.to_string()),
            expires_on: token.expires_at.and_then(seconds_to_ms),
            ..no_fields()
        },
    }
}

fn no_fields() -> CredentialData {
    CredentialData {
        kind: String::new(),
        token: None,
        username: None,
        password: None,
        access_token: None,
        expires_on: None,
    }
}

/// Unix seconds as JavaScript milliseconds; `None` beyond what a `Date` can hold.
fn seconds_to_ms(seconds: u64) -> Option<f64> {
    crate::entra::seconds_to_js_ms(seconds)
}

fn auth_type_str(t: AuthType) -> String {
    t.as_str().to_string()
}

/// A stored login, without its secret.
#[napi(object)]
pub struct LoginSummary {
    /// The URL as typed when logging in.
    pub service_url: String,
    /// The normalised URL: the identity of the login.
    pub normalized_url: String,
    #[napi(ts_type = "'pat' | 'basic' | 'entra'")]
    pub auth_type: String,
    /// The Basic user name (`DOMAIN\\user`), for Basic logins.
    pub username: Option<String>,
    pub is_default: bool,
    /// For Entra logins: when the stored access token expires (milliseconds
    /// since the epoch); `getCredential` renews it shortly before.
    pub expires_on: Option<f64>,
    /// For Entra logins: the tenant signed in to.
    pub tenant: Option<String>,
}

/// Which credential store this process uses, and why.
#[napi(object)]
pub struct StorageInfo {
    #[napi(ts_type = "'keyring' | 'file'")]
    pub backend: String,
    /// Whether stored logins survive a reboot.
    pub persistent: bool,
    /// Where the secrets are: the keyring service or the file path.
    pub location: String,
    /// Why this store was chosen.
    pub reason: String,
    /// The warning printed when the store was chosen as a fallback.
    pub warning: Option<String>,
}

#[napi(object)]
pub struct MigratedLogin {
    pub service_url: String,
    #[napi(ts_type = "'pat' | 'basic'")]
    pub auth_type: String,
    /// The plaintext file that was deleted after the login read back.
    pub from: String,
}

#[napi(object)]
pub struct SkippedLegacyLogin {
    pub path: String,
    pub reason: String,
}

#[napi(object)]
pub struct MigrationReport {
    pub migrated: Vec<MigratedLogin>,
    pub skipped: Vec<SkippedLegacyLogin>,
}

impl From<CoreReport> for MigrationReport {
    fn from(report: CoreReport) -> Self {
        MigrationReport {
            migrated: report
                .migrated
                .into_iter()
                .map(|m| MigratedLogin {
                    service_url: m.service_url,
                    auth_type: auth_type_str(m.auth_type),
                    from: m.from.display().to_string(),
                })
                .collect(),
            skipped: report
                .skipped
                .into_iter()
                .map(|s| SkippedLegacyLogin {
                    path: s.path.display().to_string(),
                    reason: s.reason,
                })
                .collect(),
        }
    }
}

// ---- the storage API --------------------------------------------------------

/// The normalised form of a service URL: the key its login is stored under.
/// Throws an Error with code `INVALID_URL` when the URL cannot be used.
#[napi]
pub fn normalize_service_url(env: Env, service_url: String) -> napi::Result<String> {
    ServiceUrl::parse(&service_url)
        .map(|u| u.key().to_string())
        .map_err(|e| throw(&env, e))
}

/// Which store holds credentials in this process (chosen on first use), whether
/// it survives a reboot, where it is and why it was chosen.
#[napi]
pub fn storage_info(env: Env) -> napi::Result<StorageInfo> {
    Ok(storage_to_js(
        logins().map_err(|e| throw(&env, e))?.storage_info(),
    ))
}

/// The credential for a service URL: a CI source's (`TFX_AUTH_CREDENTIAL`,
/// or a service principal's or workload identity's variables, for URLs the
/// Entra host rule allows; never stored), else the stored one, or `null`. A login tfx-cli left in
/// plaintext under `~/.tfx` for this URL is moved into the store first. An
/// Entra access token is renewed first when it expires within five minutes
/// (the rotated refresh token is stored); when the refresh token is no longer
/// accepted this rejects with `REAUTH_REQUIRED` and the login stays stored.
#[napi(ts_return_type = "Promise<Credential | null>")]
pub fn get_credential<'env>(
    env: &'env Env,
    service_url: String,
) -> napi::Result<PromiseRaw<'env, Option<CredentialData>>> {
    core_promise(
        env,
        async move {
            let url = ServiceUrl::parse(&service_url)?;
            let logins = logins()?;
            let cancel = Cancel::default();
            let options = CoreOptions::default();
            let authority = HttpAuthority::new(http_clients(), &options, &cancel);
            let identity =
                crate::entra::identity_http::HttpIdentity::new(http_clients(), &options, &cancel);
            let env = resolve::source_env();
            let ci = crate::auth::resolve::ci_credential(
                logins,
                &authority,
                &identity,
                &url,
                env,
                unix_now(),
            );
            if let Some(credential) = ci.await? {
                return Ok(Some(credential));
            }
            current_credential(logins, &authority, &url, unix_now()).await
        },
        |credential: Option<CoreCredential>| Ok(credential.as_ref().map(credential_to_js)),
    )
}

/// The stored credential when the store (already open) has it at hand, read
/// on this thread as a synchronous binding does (a keyring read of at most
/// 250 ms, no thread hop); `null` when it has not: ask `getCredential`, which
/// also opens the store, migrates and renews. binding.js's `getCredential`
/// asks this first.
#[napi(ts_return_type = "Credential | null")]
pub fn get_credential_now(env: Env, service_url: String) -> napi::Result<Option<CredentialData>> {
    // Opening the store (a D-Bus connection and a key exchange) is not for this thread.
    let Some(Ok(logins)) = LOGINS.get() else {
        return Ok(None);
    };
    let url = ServiceUrl::parse(&service_url).map_err(|e| throw(&env, e))?;
    match current_now(logins, &url, unix_now()) {
        None => Ok(None),
        Some(Ok(credential)) => Ok(Some(credential_to_js(&credential))),
        Some(Err(e)) => Err(throw(&env, e)),
    }
}

/// Stores a credential for a service URL without validating it (see `login`).
#[napi(
    ts_args_type = "serviceUrl: string, credential: Credential",
    ts_return_type = "Promise<void>"
)]
pub fn store_credential(service_url: String, credential: CredentialData) -> AsyncTask<Job<()>> {
    Job::new(move || {
        let url = ServiceUrl::parse(&service_url)?;
        let credential = credential_from_js(credential)?;
        logins()?.save(&url, &credential)
    })
}

/// Deletes the stored credential for a service URL; resolves to whether one existed.
#[napi(ts_return_type = "Promise<boolean>")]
pub fn delete_credential(service_url: String) -> AsyncTask<Job<bool>> {
    Job::new(move || {
        let url = ServiceUrl::parse(&service_url)?;
        logins()?.delete(&url)
    })
}

/// Every stored login, never with its secret.
#[napi(ts_return_type = "Promise<LoginSummary[]>")]
pub fn list_logins() -> AsyncTask<Job<Vec<LoginSummary>>> {
    Job::new(|| {
        Ok(logins()?
            .list()?
            .into_iter()
            .map(|l| LoginSummary {
                service_url: l.service_url,
                normalized_url: l.key,
                auth_type: auth_type_str(l.auth_type),
                username: l.username,
                is_default: l.is_default,
                expires_on: l.expires_at.and_then(seconds_to_ms),
                tenant: l.tenant,
            })
            .collect())
    })
}

/// The default service URL (the last successful login), or `null`.
#[napi(ts_return_type = "Promise<string | null>")]
pub fn get_default_service_url() -> AsyncTask<Job<Option<String>>> {
    Job::new(|| logins()?.default_service_url())
}

/// Moves every tfx-cli plaintext login under `~/.tfx` into the store; each
/// plaintext file is deleted only after its login read back from the store.
#[napi(ts_return_type = "Promise<MigrationReport>")]
pub fn migrate_legacy_logins() -> AsyncTask<Job<MigrationReport>> {
    Job::new(|| Ok(logins()?.migrate_legacy()?.into()))
}

/// Whether certificate checks are skipped for this URL (a per-URL choice made at login).
#[napi(ts_return_type = "Promise<boolean>")]
pub fn get_skip_cert_validation(service_url: String) -> AsyncTask<Job<bool>> {
    Job::new(move || {
        let url = ServiceUrl::parse(&service_url)?;
        logins()?.settings().skip_cert_validation(&url)
    })
}

/// Records whether certificate checks are skipped for this URL alone.
#[napi(ts_return_type = "Promise<void>")]
pub fn set_skip_cert_validation(service_url: String, skip: bool) -> AsyncTask<Job<()>> {
    Job::new(move || {
        let url = ServiceUrl::parse(&service_url)?;
        logins()?.settings().set_skip_cert_validation(&url, skip)
    })
}

/// Removes the login for a URL (the default URL when omitted): its credential,
/// its certificate choice, and the default if it pointed there. Resolves to
/// whether anything was removed.
#[napi(ts_return_type = "Promise<boolean>")]
pub fn logout(service_url: Option<String>) -> AsyncTask<Job<bool>> {
    Job::new(move || match service_url {
        Some(url) => logins()?.logout(&ServiceUrl::parse(&url)?),
        None => logins()?.logout_default(),
    })
}

/// Starts choosing the store and reading the login for `serviceUrl` (or the
/// default URL) on a background thread, and returns at once; the next
/// `getCredential` for that URL is then served without a keyring round trip.
/// Errors are not reported here: the real call meets and reports them.
/// Cheap to call often: one background read at a time, each URL at most once
/// per process (and at most 16 URLs); a loop of calls never crashes.
#[napi]
pub fn warm_up(service_url: Option<String>) {
    static PREWARMER: OnceLock<Arc<Prewarmer>> = OnceLock::new();
    PREWARMER
        .get_or_init(|| {
            Prewarmer::new(|url| {
                if let Ok(logins) = logins() {
                    logins.prefetch(url);
                }
            })
        })
        .request(service_url);
}

/// Removes every stored login and the default; resolves to how many were removed.
#[napi(ts_return_type = "Promise<number>")]
pub fn logout_all() -> AsyncTask<Job<u32>> {
    Job::new(|| Ok(logins()?.logout_all()? as u32))
}

// ---- validation and login ---------------------------------------------------

/// HTTP clients shared by every call, so connections are kept alive.
fn http_clients() -> &'static HttpClients {
    static CLIENTS: OnceLock<HttpClients> = OnceLock::new();
    CLIENTS.get_or_init(|| HttpClients::new(environment().clone()))
}

fn storage_to_js(info: &crate::store::StorageInfo) -> StorageInfo {
    StorageInfo {
        backend: info.backend.as_str().into(),
        persistent: info.persistent,
        location: info.location.clone(),
        reason: info.reason.clone(),
        warning: info.warning.clone(),
    }
}

/// Runs core work on napi's tokio runtime. The promise resolves with what
/// `convert` makes of the value, or rejects with the core error as a coded JS
/// error (built on the JavaScript thread, where `convert` runs too).
fn core_promise<'env, T, V>(
    env: &'env Env,
    work: impl std::future::Future<Output = CoreResult<T>> + Send + 'static,
    convert: impl FnOnce(T) -> napi::Result<V> + 'static,
) -> napi::Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
{
    env.spawn_future_with_callback(
        async move { Ok(work.await) },
        move |env, outcome: CoreResult<T>| convert(outcome.map_err(|e| js_error(env, &e))?),
    )
}
