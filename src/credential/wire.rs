//! The wire form of a credential: the one place that decides what the
//! `Authorization` header says, per credential and per service.
//!
//! - PAT: Basic `OAuth:<token>` everywhere (as tfx-cli; the user is ignored).
//! - Basic: Basic `<user>:<password>` everywhere.
//! - Entra access token: `Bearer` for the Azure DevOps REST API (what its
//!   documentation names), but Basic `OAuth:<token>` for the Visual Studio
//!   Marketplace, the form `vsce` (`getBasicHandler('OAuth', token)`) and the
//!   Azure DevOps extension tasks (`--token <jwt>`) send there: the only form
//!   shipping tools prove the Marketplace takes. Azure DevOps accepts it too.
//!
//! The Marketplace is its host, or any `tfx extension` command whatever its
//! `--service-url` (the hook says so), since those talk to the gallery API.

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{Credential, PAT_USERNAME};
use crate::secret::Secret;
use crate::service_url::ServiceUrl;

/// The Visual Studio Marketplace's host.
pub const MARKETPLACE_HOST: &str = "marketplace.visualstudio.com";

/// Which API a credential is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The Azure DevOps REST API (Services and Server).
    AzureDevOps,
    /// The Visual Studio Marketplace (gallery API).
    Marketplace,
}

impl Service {
    /// The service a URL names: the Marketplace by its host, else Azure DevOps.
    pub fn of(url: &ServiceUrl) -> Self {
        if url.host().eq_ignore_ascii_case(MARKETPLACE_HOST) {
            Service::Marketplace
        } else {
            Service::AzureDevOps
        }
    }

    /// The service a command talks to: every `tfx extension` command talks to
    /// the Marketplace, whatever URL it was given.
    pub fn for_command(url: &ServiceUrl, extension_command: bool) -> Self {
        if extension_command {
            Service::Marketplace
        } else {
            Service::of(url)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Service::AzureDevOps => "azure-devops",
            Service::Marketplace => "marketplace",
        }
    }
}

fn basic(user: &str, password: &str) -> Secret {
    let pair = Zeroizing::new(format!("{user}:{password}"));
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
    Zeroizing::new(format!("Basic {}", encoded.as_str()))
}

impl Credential {
    /// The value of the `Authorization` header for `service`.
    pub fn authorization_header(&self, service: Service) -> Secret {
        match (self, service) {
            (Credential::Pat { token }, _) => basic(PAT_USERNAME, token),
            (Credential::Basic { username, password }, _) => basic(username, password),
            (Credential::Entra(token), Service::AzureDevOps) => {
                Zeroizing::new(format!("Bearer {}", token.access_token.as_str()))
            }
            (Credential::Entra(token), Service::Marketplace) => {
                basic(PAT_USERNAME, &token.access_token)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::EntraToken;

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    #[test]
    fn the_marketplace_is_its_host_or_an_extension_command() {
        assert_eq!(
            Service::of(&url("https://marketplace.visualstudio.com")),
            Service::Marketplace
        );
        assert_eq!(
            Service::of(&url("https://Marketplace.VisualStudio.com/")),
            Service::Marketplace
        );
        assert_eq!(
            Service::of(&url("https://dev.azure.com/org")),
            Service::AzureDevOps
        );
        assert_eq!(
            Service::of(&url("https://marketplace.visualstudio.com.evil.example")),
            Service::AzureDevOps
        );
        let onprem = url("http://127.0.0.1:8080/tfs/DefaultCollection");
        assert_eq!(Service::for_command(&onprem, true), Service::Marketplace);
        assert_eq!(Service::for_command(&onprem, false), Service::AzureDevOps);
    }

    #[test]
    fn pat_and_basic_are_basic_for_every_service() {
        let pat = Credential::pat("abc").unwrap();
        let basic_cred = Credential::basic("fabfiber\\peter", "pässwörd").unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("fabfiber\\peter:pässwörd");
        for service in [Service::AzureDevOps, Service::Marketplace] {
            assert_eq!(
                pat.authorization_header(service).as_str(),
                "Basic T0F1dGg6YWJj"
            );
            assert_eq!(
                basic_cred.authorization_header(service).as_str(),
                format!("Basic {expected}")
            );
        }
    }

    #[test]
    fn entra_is_bearer_for_azure_devops_and_basic_for_the_marketplace() {
        let cred = Credential::Entra(EntraToken::access_only("eyJ0.eyJ1.c2ln", Some(42)).unwrap());
        assert_eq!(
            cred.authorization_header(Service::AzureDevOps).as_str(),
            "Bearer eyJ0.eyJ1.c2ln"
        );
        let expected = base64::engine::general_purpose::STANDARD.encode("OAuth:eyJ0.eyJ1.c2ln");
        assert_eq!(
            cred.authorization_header(Service::Marketplace).as_str(),
            format!("Basic {expected}")
        );
    }
}
