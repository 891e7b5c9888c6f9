//! Where a token may be sent: the one host rule for every Microsoft Entra
//! access token, whatever its source (device code sign-in and its renewals,
//! `TFX_ENTRA_TOKEN`, the Azure CLI, the CI sources), and the narrower one for
//! the pipeline's job token (`SYSTEM_ACCESSTOKEN`).
//!
//! An Entra token for Azure DevOps opens every organisation the identity can
//! reach, so it goes only to Azure DevOps Services over verified https
//! (`dev.azure.com` and its subdomains, `*.visualstudio.com`, which includes
//! the Marketplace) and to hosts the user lists in [`ENV_HOSTS`]. Azure DevOps
//! Services runs only in Azure's public cloud (Microsoft Learn, "Data
//! locations for Azure DevOps", lists its geographies; no sovereign cloud
//! hosts it), so no sovereign-cloud host is built in.

use url::Url;

use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

/// More hosts every Entra token may go to: host names, comma-separated, `*.`
/// for a domain and its subdomains, no ports (a listed host counts on any
/// port), over https or plain http on a loopback address.
pub const ENV_HOSTS: &str = "TFX_AUTH_ENTRA_HOSTS";

/// The collection a pipeline job runs for (its job token's only destination).
pub const ENV_COLLECTION: &str = "SYSTEM_COLLECTIONURI";
/// The older name of [`ENV_COLLECTION`], still set by every agent.
pub const ENV_COLLECTION_LEGACY: &str = "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI";

/// Whether an Entra access token may be sent to `url`: Azure DevOps Services
/// over https, or a host in `listed_hosts` ([`ENV_HOSTS`]) over https or
/// plain http on loopback; never when certificate checks are skipped for the
/// request (`skip_cert_validation`: the command's flag or the URL's setting),
/// as a server that is not verified may be anyone.
pub fn may_receive_entra_token(
    url: &ServiceUrl,
    listed_hosts: Option<&str>,
    skip_cert_validation: bool,
) -> bool {
    if skip_cert_validation {
        return false;
    }
    let host = url.host().to_ascii_lowercase();
    let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    if url.is_https() && (under("dev.azure.com") || host.ends_with(".visualstudio.com")) {
        return true;
    }
    let listed = listed_hosts.is_some_and(|list| {
        list.split([',', ' '])
            .map(|e| e.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .any(|e| match e.strip_prefix("*.") {
                Some(domain) => !domain.is_empty() && under(domain),
                None => host == e,
            })
    });
    listed && (url.is_https() || url.is_loopback())
}

/// [`may_receive_entra_token`] as a coded error saying why not: a sign-in or
/// login for such a URL is refused before anything is sent.
///
/// # Errors
/// `ENTRA_HOST_NOT_ALLOWED`.
pub fn check_entra_destination(
    url: &ServiceUrl,
    listed_hosts: Option<&str>,
    skip_cert_validation: bool,
) -> Result<()> {
    if may_receive_entra_token(url, listed_hosts, skip_cert_validation) {
        return Ok(());
    }
    let reason = if skip_cert_validation {
        "certificate checks are skipped for it, so the server is not verified"
    } else if !url.is_https() && !url.is_loopback() {
        "it is plain http to a host that is not this machine"
    } else {
        "it is not Azure DevOps Services and its host is not listed in TFX_AUTH_ENTRA_HOSTS"
    };
    Err(Error::EntraHostNotAllowed {
        url: url.to_string(),
        reason,
    })
}

/// Whether the pipeline's job token may be sent to `target`: only into the
/// collection it was issued for (`collection`, from [`ENV_COLLECTION`] or
/// [`ENV_COLLECTION_LEGACY`]): same scheme, host and port, and a path inside
/// the collection's (whole segments, compared without case, as Azure DevOps
/// does). Its server issued it, Services or an on-premises Server, so the
/// collection's own scheme counts. No collection: nowhere.
pub fn job_token_may_go(target: &Url, collection: Option<&str>) -> bool {
    let Some(collection) = collection.and_then(|c| Url::parse(c.trim()).ok()) else {
        return false;
    };
    let usable = |u: &Url| {
        matches!(u.scheme(), "https" | "http")
            && u.host_str().is_some()
            && u.username().is_empty()
            && u.password().is_none()
    };
    if !usable(&collection) || !usable(target) {
        return false;
    }
    if collection.origin() != target.origin() {
        return false;
    }
    let segments = |u: &Url| -> Vec<String> {
        u.path_segments()
            .map(|s| {
                s.filter(|p| !p.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (within, inside) = (segments(&collection), segments(target));
    // `.` and `..` never survive Url parsing, so a prefix of segments is a real subtree.
    inside.len() >= within.len() && inside[..within.len()] == within[..]
}

/// Whether an identity endpoint a CI variable names may be sent the secret
/// that goes with it (GitHub's request token, App Service's identity header):
/// https, or plain http on this machine's loopback (App Service's own
/// `http://localhost:…`), never in clear off the machine, never with user
/// information in the URL. IMDS is asked with no secret and is not checked here.
///
/// # Errors
/// `INVALID_URL` naming `variable`; nothing is sent.
pub fn check_identity_endpoint(url: &Url, variable: &str) -> Result<()> {
    let secure = match url.scheme() {
        "https" => true,
        "http" => crate::service_url::is_loopback_host(url),
        _ => false,
    };
    if !secure {
        return Err(Error::invalid_url(format!(
            "{variable} must be https, or http on this machine (localhost, 127.0.0.0/8, ::1): the secret sent with it never goes in clear off the machine"
        )));
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(Error::invalid_url(format!(
            "{variable} must name a host, without user or password"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_endpoints_get_their_secret_over_https_or_on_this_machine_only() {
        for (url, allowed) in [
            (
                "https://pipelines.actions.githubusercontent.com/x/idtoken?api-version=2.0",
                true,
            ),
            ("http://localhost:41741/msi/token", true),
            ("http://LOCALHOST:41741/msi/token", true),
            ("http://127.0.0.1:41741/msi/token", true),
            ("http://127.3.0.1:1/x", true),
            ("http://[::1]:1/x", true),
            ("https://10.0.0.4:2377/metadata/identity/oauth2/token", true),
            (
                "http://pipelines.actions.githubusercontent.com/x/idtoken",
                false,
            ),
            ("http://10.0.0.4:2377/metadata/identity/oauth2/token", false),
            (
                "http://169.254.169.254/metadata/identity/oauth2/token",
                false,
            ),
            ("http://x.localhost:1/x", false),
            ("http://localhost.evil.example/x", false),
            ("ftp://127.0.0.1/x", false),
            ("file:///run/token", false),
            ("https://user:secret@example.com/x", false),
            ("https://user@example.com/x", false),
        ] {
            let parsed = Url::parse(url).unwrap();
            let verdict = check_identity_endpoint(&parsed, "IDENTITY_ENDPOINT");
            assert_eq!(verdict.is_ok(), allowed, "{url}");
            if let Err(e) = verdict {
                assert_eq!(e.code(), "INVALID_URL");
                let message = e.to_string();
                assert!(message.contains("IDENTITY_ENDPOINT"), "{message}");
                assert!(!message.contains("secret@"), "{message}");
            }
        }
    }

    #[test]
    fn entra_tokens_go_only_to_azure_devops_over_verified_https_or_to_listed_hosts() {
        let listed = Some("tfs.fabfiber.com, *.corp.example,127.0.0.1,localhost");
        for (url, skip, expected) in [
            ("https://dev.azure.com/fabfiber", false, true),
            ("https://DEV.Azure.com:443/fabfiber", false, true),
            ("https://vssps.dev.azure.com/fabfiber", false, true),
            ("https://fabfiber.visualstudio.com", false, true),
            ("https://marketplace.visualstudio.com", false, true),
            // Certificate checks skipped: not verified, not even Azure DevOps.
            ("https://dev.azure.com/fabfiber", true, false),
            (
                "https://tfs.fabfiber.com/tfs/DefaultCollection",
                true,
                false,
            ),
            ("http://127.0.0.1:8080/c", true, false),
            ("http://dev.azure.com/fabfiber", false, false),
            ("https://dev.azure.com.evil.example/fabfiber", false, false),
            ("https://visualstudio.com.evil.example", false, false),
            ("https://evildev.azure.com/x", false, false),
            ("https://visualstudio.com", false, false),
            (
                "https://tfs.fabfiber.com/tfs/DefaultCollection",
                false,
                true,
            ),
            // A listed host counts on any port.
            (
                "https://tfs.fabfiber.com:8443/tfs/DefaultCollection",
                false,
                true,
            ),
            (
                "http://tfs.fabfiber.com/tfs/DefaultCollection",
                false,
                false,
            ),
            (
                "http://tfs.fabfiber.com:8080/tfs/DefaultCollection",
                false,
                false,
            ),
            ("https://build.corp.example/c", false, true),
            ("https://corp.example/c", false, true),
            ("https://corp.example.evil/c", false, false),
            ("https://xcorp.example/c", false, false),
            ("http://127.0.0.1:8080/c", false, true),
            ("http://localhost:8080/c", false, true),
            ("http://127.0.0.2:8080/c", false, false),
            ("https://tfs.other.com/c", false, false),
        ] {
            let url = ServiceUrl::parse(url).unwrap();
            assert_eq!(
                may_receive_entra_token(&url, listed, skip),
                expected,
                "{url} skip={skip}"
            );
        }
        let ado = ServiceUrl::parse("https://dev.azure.com/o").unwrap();
        assert!(may_receive_entra_token(&ado, None, false));
        let other = ServiceUrl::parse("https://tfs.fabfiber.com/c").unwrap();
        assert!(!may_receive_entra_token(&other, None, false));
        // Not a list of everything: a bare `*.` or `*` names no host.
        let loopback = ServiceUrl::parse("http://127.0.0.1:1/c").unwrap();
        for list in ["*.", "*", ",", " "] {
            assert!(
                !may_receive_entra_token(&other, Some(list), false),
                "{list}"
            );
            assert!(
                !may_receive_entra_token(&loopback, Some(list), false),
                "{list}"
            );
        }
    }

    #[test]
    fn the_job_token_goes_only_into_its_own_collection() {
        let services = Some("https://dev.azure.com/fabfiber/");
        let server = Some("http://tfs.fabfiber.local:8080/tfs/DefaultCollection/");
        for (target, collection, expected) in [
            ("https://dev.azure.com/fabfiber", services, true),
            ("https://dev.azure.com/FabFiber/", services, true),
            (
                "https://dev.azure.com/fabfiber/project/_apis/x",
                services,
                true,
            ),
            ("https://dev.azure.com:443/fabfiber", services, true),
            ("https://dev.azure.com/fabfiber2", services, false),
            ("https://dev.azure.com/other", services, false),
            ("https://dev.azure.com/", services, false),
            ("http://dev.azure.com/fabfiber", services, false),
            ("https://dev.azure.com:8443/fabfiber", services, false),
            ("https://vssps.dev.azure.com/fabfiber", services, false),
            ("https://fabfiber.visualstudio.com", services, false),
            ("https://dev.azure.com/fabfiber/../other", services, false),
            (
                "https://dev.azure.com/fabfiber/%2e%2e/other",
                services,
                false,
            ),
            // An on-premises Server: its own scheme counts, its port must match.
            (
                "http://tfs.fabfiber.local:8080/tfs/DefaultCollection",
                server,
                true,
            ),
            (
                "http://tfs.fabfiber.local:8080/tfs/defaultcollection/p",
                server,
                true,
            ),
            ("http://tfs.fabfiber.local:8080/tfs/Other", server, false),
            (
                "http://tfs.fabfiber.local/tfs/DefaultCollection",
                server,
                false,
            ),
            ("https://dev.azure.com/fabfiber", None, false),
            ("https://dev.azure.com/fabfiber", Some(""), false),
            ("https://dev.azure.com/fabfiber", Some("not a url"), false),
            (
                "https://dev.azure.com/fabfiber",
                Some("https://u:p@dev.azure.com/fabfiber"),
                false,
            ),
            (
                "https://dev.azure.com/fabfiber",
                Some("file:///fabfiber"),
                false,
            ),
        ] {
            let url = Url::parse(target).unwrap();
            assert_eq!(
                job_token_may_go(&url, collection),
                expected,
                "{target} in {collection:?}"
            );
        }
    }
}
