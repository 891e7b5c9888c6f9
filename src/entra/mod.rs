//! Microsoft Entra ID sign-in for Azure DevOps: which authority, tenant and
//! application to use ([`EntraConfig`]), and the modules doing the work —
//! tenant discovery, the device authorization grant (RFC 8628), silent
//! renewal, and access tokens from the Azure CLI.
//!
//! The authority's host always comes from configuration (default
//! `login.microsoftonline.com`), never from a server's answer: an
//! unauthenticated response from the service URL may name the tenant, but
//! must not be able to send the user's sign-in somewhere else.

pub mod azure_cli;
pub mod device_code;
pub mod discovery;
pub mod refresh;
pub mod sign_in;
pub mod token;
pub mod transport;

use std::time::{SystemTime, UNIX_EPOCH};

use url::Url;

use crate::credential::entra::is_tenant;
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// Azure DevOps' application id: the resource every token is for.
pub const RESOURCE: &str = "499b84ac-1321-427f-aa17-267ca6975798";
/// The Azure DevOps resource's default scope, plus a refresh token.
pub const SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default offline_access";
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/organizations";
/// The Azure CLI's public client id: a first-party Microsoft application that
/// is pre-authorised for Azure DevOps in every tenant (no admin consent), has
/// public client flows (device code) enabled, and is the application behind
/// the `az` token source too, so one Conditional Access decision covers both.
pub const DEFAULT_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

pub const ENV_AUTHORITY: &str = "TFX_AUTH_ENTRA_AUTHORITY";
pub const ENV_TENANT: &str = "TFX_AUTH_ENTRA_TENANT";
pub const ENV_CLIENT_ID: &str = "TFX_AUTH_ENTRA_CLIENT_ID";

/// Tenants that stand for "any": discovery may narrow them to the
/// organisation's own tenant.
const GENERIC_TENANTS: [&str; 2] = ["organizations", "common"];

/// What the caller asked for; each falls back to its environment variable,
/// then to the default.
#[derive(Debug, Clone, Default)]
pub struct EntraOptions {
    /// `https://login.microsoftonline.com[/<tenant>]` (another cloud's host, or a test's loopback one).
    pub authority: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
}

/// The resolved authority instance, tenant and application.
#[derive(Debug, Clone)]
pub struct EntraConfig {
    /// `scheme://host[:port]`, no path.
    instance: ServiceUrl,
    tenant: String,
    /// The tenant is a generic one (`organizations`, `common`), so the
    /// organisation's own tenant, when discovered, is used instead.
    tenant_is_generic: bool,
    pub client_id: String,
}

impl EntraConfig {
    /// # Errors
    /// `INVALID_URL` for an unusable authority or tenant, `INVALID_CREDENTIAL`
    /// for a client id that is not an application id.
    pub fn resolve(options: &EntraOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let pick = |given: &Option<String>, var: &str| {
            given
                .clone()
                .or_else(|| env(var))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let authority = pick(&options.authority, ENV_AUTHORITY)
            .unwrap_or_else(|| DEFAULT_AUTHORITY.to_string());
        let (instance, path_tenant) = parse_authority(&authority)?;
        let explicit = pick(&options.tenant, ENV_TENANT);
        if let Some(t) = &explicit
            && !is_tenant(t)
        {
            return Err(Error::invalid_url(
                "the Entra tenant must be a tenant id (GUID) or a domain such as fabfiber.onmicrosoft.com",
            ));
        }
        let tenant = explicit
            .or(path_tenant)
            .unwrap_or_else(|| GENERIC_TENANTS[0].to_string());
        let client_id =
            pick(&options.client_id, ENV_CLIENT_ID).unwrap_or_else(|| DEFAULT_CLIENT_ID.into());
        if !is_guid(&client_id) {
            return Err(Error::invalid_credential(
                "the Entra client id must be an application (client) id, a GUID",
            ));
        }
        Ok(EntraConfig {
            tenant_is_generic: GENERIC_TENANTS
                .iter()
                .any(|g| g.eq_ignore_ascii_case(&tenant)),
            instance,
            tenant,
            client_id,
        })
    }

    /// Whether the organisation's tenant should be discovered first.
    pub fn wants_discovery(&self) -> bool {
        self.tenant_is_generic
    }

    /// The tenant to sign in to, given what discovery found (if anything).
    pub fn tenant(&self, discovered: Option<&str>) -> String {
        match discovered {
            Some(found) if self.tenant_is_generic && is_tenant(found) => found.to_string(),
            _ => self.tenant.clone(),
        }
    }

    /// `{instance}/{tenant}`.
    pub fn authority(&self, tenant: &str) -> ServiceUrl {
        authority_url(&self.instance, tenant)
    }

    pub fn instance(&self) -> &ServiceUrl {
        &self.instance
    }
}

/// `{instance}/{tenant}`; the tenant has been checked to be a plain segment.
pub fn authority_url(instance: &ServiceUrl, tenant: &str) -> ServiceUrl {
    ServiceUrl::parse(instance.join(tenant).as_str())
        .expect("an instance URL with a tenant segment stays a valid URL")
}

/// Splits an authority URL into its instance and its tenant (if it names one).
fn parse_authority(text: &str) -> Result<(ServiceUrl, Option<String>)> {
    let bad = |why: &str| Error::invalid_url(format!("the Entra authority {why}"));
    let parsed = ServiceUrl::parse(text).map_err(|e| match e {
        Error::InvalidUrl { reason } => bad(&format!("is not usable: {reason}")),
        other => other,
    })?;
    if !parsed.is_https() && !parsed.is_loopback() {
        return Err(bad("must use https"));
    }
    let url = Url::parse(parsed.as_str()).map_err(|_| bad("cannot be parsed"))?;
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let tenant = match segments.as_slice() {
        [] => None,
        [tenant] if is_tenant(tenant) => Some(tenant.to_string()),
        _ => {
            return Err(bad(
                "must be the sign-in host, optionally with a tenant: https://login.microsoftonline.com/<tenant>",
            ));
        }
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let instance = ServiceUrl::parse(&format!(
        "{}://{}{port}",
        url.scheme(),
        url.host_str().unwrap_or_default()
    ))?;
    Ok((instance, tenant))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits.
pub fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The latest time a JavaScript `Date` can hold, in milliseconds (8.64e15, year 275760).
pub const MAX_JS_DATE_MS: f64 = 8.64e15;

/// Unix seconds as JavaScript milliseconds, or `None` beyond what a `Date`
/// can hold. An expiry that far out is not a time anyone set (a token's `exp`
/// claim or a stored `expiresAt` gone wrong): "unknown" says so, where a
/// clamped date would be a made-up fact, and `new Date(ms).toISOString()`
/// never throws on what we hand out.
pub fn seconds_to_js_ms(seconds: u64) -> Option<f64> {
    let ms = seconds as f64 * 1000.0;
    (ms <= MAX_JS_DATE_MS).then_some(ms)
}

/// A JavaScript time (`expiresOn`) as Unix seconds; `None` (unknown) for
/// what is not a time a `Date` can hold: negative, NaN, infinite, too large.
pub fn js_ms_to_seconds(ms: f64) -> Option<u64> {
    (ms.is_finite() && (0.0..=MAX_JS_DATE_MS).contains(&ms)).then(|| (ms / 1000.0) as u64)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_cross_to_javascript_only_as_times_a_date_can_hold() {
        assert_eq!(seconds_to_js_ms(1_700_000_000), Some(1_700_000_000_000.0));
        assert_eq!(seconds_to_js_ms(8_640_000_000_000), Some(MAX_JS_DATE_MS));
        assert_eq!(seconds_to_js_ms(8_640_000_000_001), None);
        assert_eq!(seconds_to_js_ms(u64::MAX), None);
        assert_eq!(js_ms_to_seconds(1_700_000_000_999.0), Some(1_700_000_000));
        for bad in [
            1e300,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            MAX_JS_DATE_MS + 1000.0,
        ] {
            assert_eq!(js_ms_to_seconds(bad), None, "{bad}");
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn resolve(authority: Option<&str>, tenant: Option<&str>) -> Result<EntraConfig> {
        EntraConfig::resolve(
            &EntraOptions {
                authority: authority.map(str::to_string),
                tenant: tenant.map(str::to_string),
                client_id: None,
            },
            &no_env,
        )
    }

    #[test]
    fn the_default_is_organizations_at_login_microsoftonline_com_with_discovery() {
        let config = resolve(None, None).unwrap();
        assert!(config.wants_discovery());
        assert_eq!(config.client_id, DEFAULT_CLIENT_ID);
        let tenant = config.tenant(Some("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert_eq!(
            config.authority(&tenant).as_str(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
        );
        assert_eq!(config.tenant(None), "organizations");
    }

    #[test]
    fn a_given_tenant_wins_over_discovery_and_the_authority_path() {
        for (authority, tenant, expected) in [
            (
                Some("https://login.microsoftonline.com/fabfiber.com"),
                None,
                "https://login.microsoftonline.com/fabfiber.com",
            ),
            (
                Some("https://login.microsoftonline.us/common"),
                Some("t-1"),
                "https://login.microsoftonline.us/t-1",
            ),
            (
                Some("http://127.0.0.1:9999"),
                Some("fabfiber.com"),
                "http://127.0.0.1:9999/fabfiber.com",
            ),
        ] {
            let config = resolve(authority, tenant).unwrap();
            assert!(!config.wants_discovery());
            assert_eq!(
                config.authority(&config.tenant(Some("other"))).as_str(),
                expected
            );
        }
    }

    #[test]
    fn an_authority_over_plain_http_must_be_a_loopback_address_not_a_localhost_name() {
        for ok in [
            "http://localhost:9999",
            "http://127.0.0.2:9999",
            "http://[::1]:9999",
        ] {
            assert!(resolve(Some(ok), None).is_ok(), "{ok}");
        }
        for name in ["http://login.localhost:9999", "http://a.b.localhost/t-1"] {
            let err = resolve(Some(name), None).unwrap_err();
            assert!(err.to_string().contains("must use https"), "{name}: {err}");
        }
    }

    #[test]
    fn the_environment_fills_what_the_options_leave_out() {
        let env = |name: &str| match name {
            ENV_AUTHORITY => Some("http://127.0.0.1:4000/".to_string()),
            ENV_CLIENT_ID => Some("872cd9fa-d31f-45e0-9eab-6e460a02d1f1".to_string()),
            _ => None,
        };
        let config = EntraConfig::resolve(&EntraOptions::default(), &env).unwrap();
        assert_eq!(config.instance().as_str(), "http://127.0.0.1:4000");
        assert_eq!(config.client_id, "872cd9fa-d31f-45e0-9eab-6e460a02d1f1");
        assert!(config.wants_discovery());
    }

    #[test]
    fn unusable_settings_are_rejected() {
        for (authority, tenant, code) in [
            (
                Some("http://login.example.com/organizations"),
                None,
                "INVALID_URL",
            ),
            (
                Some("https://login.microsoftonline.com/a/oauth2/v2.0"),
                None,
                "INVALID_URL",
            ),
            (
                Some("https://user:pw@login.microsoftonline.com"),
                None,
                "INVALID_URL",
            ),
            (Some("ftp://login.microsoftonline.com"), None, "INVALID_URL"),
            (None, Some("../x"), "INVALID_URL"),
            (None, Some("a/b"), "INVALID_URL"),
        ] {
            assert_eq!(
                resolve(authority, tenant).unwrap_err().code(),
                code,
                "{authority:?} {tenant:?}"
            );
        }
        let bad_client = EntraConfig::resolve(
            &EntraOptions {
                client_id: Some("not-a-guid".into()),
                ..Default::default()
            },
            &no_env,
        );
        assert_eq!(bad_client.unwrap_err().code(), "INVALID_CREDENTIAL");
    }

    #[test]
    fn guids() {
        assert!(is_guid("04b07795-8ddb-461a-bbee-02f9e1bf7b46"));
        assert!(!is_guid("04b07795-8ddb-461a-bbee-02f9e1bf7b4"));
        assert!(!is_guid("04b07795x8ddb-461a-bbee-02f9e1bf7b46"));
        assert!(!is_guid(""));
    }
}
