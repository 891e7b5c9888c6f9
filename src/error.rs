//! The one error type of tfx-auth. Every variant maps to a stable `code` that
//! JavaScript callers switch on; messages say what to do next and never carry
//! a secret (URLs reaching a message have been checked to hold no userinfo).

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Boxed platform cause, kept out of messages but reachable through `source()`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid service URL: {reason}")]
    InvalidUrl { reason: String },

    #[error("invalid credential: {reason}")]
    InvalidCredential { reason: String },

    /// A JavaScript argument of the wrong type or out of range.
    #[error("invalid argument: {reason}")]
    InvalidArgument { reason: String },

    #[error(
        "{url} rejected the credentials (HTTP 401). Check that the token or password is correct, not expired or revoked, and that it belongs to this organisation or collection."
    )]
    AuthRejected { url: String, status: u16 },

    #[error(
        "{url} answered with a sign-in page instead of data (HTTP {status}): the credentials were not accepted. Use a personal access token or check the user name and password."
    )]
    SignInPage { url: String, status: u16 },

    #[error(
        "{url} treated the request as anonymous: the credentials were ignored. Check that the token is valid for this organisation."
    )]
    AnonymousUser { url: String, status: u16 },

    #[error(
        "{url} refused access (HTTP 403). The credentials are valid but lack permission; give the token the scopes it needs."
    )]
    Forbidden { url: String, status: u16 },

    #[error(
        "{url} does not look like an Azure DevOps organisation or collection ({reason}). Check the URL: it should be like https://dev.azure.com/<org> or http://<server>:8080/tfs/<collection>."
    )]
    NotAzureDevOps {
        url: String,
        status: Option<u16>,
        reason: String,
    },

    #[error("{url} failed with a server error (HTTP {status}). Try again later.")]
    ServerError { url: String, status: u16 },

    #[error(
        // The reason carries the advice: it depends on the certificates already given.
        "TLS error talking to {url}: {reason}."
    )]
    Tls { url: String, reason: String },

    #[error(
        "proxy error reaching {url}: {reason}. Check HTTPS_PROXY / --proxy and its credentials."
    )]
    Proxy {
        url: String,
        status: Option<u16>,
        reason: String,
    },

    #[error(
        "{url} did not answer within {} ms. Check the network and proxy, or raise the timeout.",
        millis
    )]
    Timeout { url: String, millis: u128 },

    #[error("could not reach {url}: {reason}. Check the URL and the network.")]
    Network { url: String, reason: String },

    #[error("the operation was aborted")]
    Aborted,

    #[error("no OS keyring is available: {reason}")]
    KeyringUnavailable {
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    /// `hint` is the platform store's advice (how to unlock it there).
    #[error("the OS keyring is locked. {hint}")]
    KeyringLocked {
        hint: &'static str,
        #[source]
        source: Option<Cause>,
    },

    #[error("credential store error: {reason}")]
    Store {
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    #[error("not logged in{}. Run `tfx login` first.", url.as_ref().map(|u| format!(" to {u}")).unwrap_or_default())]
    NotLoggedIn { url: Option<String> },

    #[error(
        "the Microsoft Entra sign-in for {url} can no longer be renewed ({reason}). Sign in again: tfx login --service-url {url} --auth-type entra"
    )]
    ReauthRequired { url: String, reason: String },

    #[error(
        "the sign-in was declined at {authority}. Run the login again and approve it, or use a personal access token."
    )]
    SignInDeclined { authority: String },

    #[error(
        "the sign-in code expired before the sign-in was approved (it was valid for {minutes} min). Run the login again and enter the new code sooner."
    )]
    SignInExpired { minutes: u64 },

    #[error(
        "Microsoft Entra ID ({authority}) refused the request: {reason}. Check the tenant and client id (TFX_AUTH_ENTRA_TENANT, TFX_AUTH_ENTRA_CLIENT_ID), or use a personal access token."
    )]
    Authority {
        authority: String,
        status: Option<u16>,
        reason: String,
    },

    /// A CI credential source named by `TFX_AUTH_CREDENTIAL` lacks variables.
    #[error(
        "the {source_name} credential (TFX_AUTH_CREDENTIAL) needs {}, which {} not set{}",
        missing.join(", "),
        if missing.len() == 1 { "is" } else { "are" },
        hint.map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    CiCredentialMissing {
        source_name: &'static str,
        missing: Vec<&'static str>,
        hint: Option<&'static str>,
    },

    /// A CI exchange refused: by the authority, the pipeline's OIDC API,
    /// GitHub's token service or a managed identity endpoint.
    #[error("{endpoint} refused the {source_name} credential: {reason}. {advice}")]
    CiRefused {
        source_name: &'static str,
        endpoint: String,
        status: Option<u16>,
        reason: String,
        advice: &'static str,
    },

    #[error(
        "a Microsoft Entra ID token is not sent to {url}: {reason}. Entra tokens open every organisation the account can reach, so they go only to Azure DevOps Services over verified https (dev.azure.com, *.visualstudio.com) and to hosts listed in TFX_AUTH_ENTRA_HOSTS; use a personal access token for this server."
    )]
    EntraHostNotAllowed { url: String, reason: &'static str },

    #[error(
        "the Azure CLI gave no access token: {reason}. Run `az login` (with the account that can open the organisation), or log in with tfx login."
    )]
    AzureCli { reason: String },
}

/// Stable codes, as JavaScript sees them on `err.code`.
impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "INVALID_URL",
            Error::InvalidCredential { .. } => "INVALID_CREDENTIAL",
            Error::InvalidArgument { .. } => "INVALID_ARGUMENT",
            Error::AuthRejected { .. } => "AUTH_REJECTED",
            Error::SignInPage { .. } => "SIGN_IN_PAGE",
            Error::AnonymousUser { .. } => "ANONYMOUS_USER",
            Error::Forbidden { .. } => "FORBIDDEN",
            Error::NotAzureDevOps { .. } => "NOT_AZURE_DEVOPS",
            Error::ServerError { .. } => "SERVER_ERROR",
            Error::Tls { .. } => "TLS_ERROR",
            Error::Proxy { .. } => "PROXY_ERROR",
            Error::Timeout { .. } => "TIMEOUT",
            Error::Network { .. } => "NETWORK_ERROR",
            Error::Aborted => "ABORTED",
            Error::KeyringUnavailable { .. } => "KEYRING_UNAVAILABLE",
            Error::KeyringLocked { .. } => "KEYRING_LOCKED",
            Error::Store { .. } => "STORE_ERROR",
            Error::NotLoggedIn { .. } => "NOT_LOGGED_IN",
            Error::ReauthRequired { .. } => "REAUTH_REQUIRED",
            Error::SignInDeclined { .. } => "SIGN_IN_DECLINED",
            Error::SignInExpired { .. } => "SIGN_IN_EXPIRED",
            Error::Authority { .. } => "AUTHORITY_ERROR",
            Error::AzureCli { .. } => "AZURE_CLI_ERROR",
            Error::EntraHostNotAllowed { .. } => "ENTRA_HOST_NOT_ALLOWED",
            Error::CiCredentialMissing { .. } => "CI_CREDENTIAL_MISSING",
            Error::CiRefused { .. } => "AUTHORITY_ERROR",
        }
    }

    /// The HTTP status behind the error, where a server answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::AuthRejected { status, .. }
            | Error::SignInPage { status, .. }
            | Error::AnonymousUser { status, .. }
            | Error::Forbidden { status, .. }
            | Error::ServerError { status, .. } => Some(*status),
            Error::NotAzureDevOps { status, .. }
            | Error::Proxy { status, .. }
            | Error::Authority { status, .. }
            | Error::CiRefused { status, .. } => *status,
            _ => None,
        }
    }

    pub(crate) fn invalid_url(reason: impl fmt::Display) -> Self {
        Error::InvalidUrl {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid_credential(reason: impl fmt::Display) -> Self {
        Error::InvalidCredential {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid_argument(reason: impl fmt::Display) -> Self {
        Error::InvalidArgument {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn store(reason: impl fmt::Display, source: impl Into<Option<Cause>>) -> Self {
        Error::Store {
            reason: reason.to_string(),
            source: source.into(),
        }
    }

    pub(crate) fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        Error::Store {
            reason: format!("{what}: {err}"),
            source: Some(Box::new(err)),
        }
    }
}
