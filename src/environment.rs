//! The process environment, read once. The bindings take one snapshot of the
//! variables tfx-auth reads and pass it down, so no module below them reads
//! the environment itself and tests hand each module the variables they mean.
//! (`dirs` still finds the home and config folders its own way, and
//! rustls-native-certs the system roots.)

use std::collections::BTreeMap;
use std::ffi::OsString;

/// Every variable tfx-auth's core reads, with [`CI_NAMES`].
pub const NAMES: &[&str] = &[
    "TFX_AUTH_STORE",
    "TFX_AUTH_KEYRING_TIMEOUT_MS",
    "DBUS_SESSION_BUS_ADDRESS",
    "TFX_AUTH_ENTRA_AUTHORITY",
    "TFX_AUTH_ENTRA_TENANT",
    "TFX_AUTH_ENTRA_CLIENT_ID",
    "TFX_AUTH_ENTRA_HOSTS",
    "AZURE_DEVOPS_EXT_PAT",
    "TFX_ENTRA_TOKEN",
    "SYSTEM_ACCESSTOKEN",
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
    "PATH",
    "NODE_EXTRA_CA_CERTS",
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Every variable the CI sources read (`auth::ci`): the Azure SDKs' names, so
/// existing pipeline settings work unchanged.
pub const CI_NAMES: &[&str] = &[
    "TFX_AUTH_CREDENTIAL",
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

/// A snapshot of [`NAMES`] and [`CI_NAMES`].
#[derive(Debug, Default, Clone)]
pub struct Environment {
    vars: BTreeMap<&'static str, OsString>,
}

impl Environment {
    /// Reads [`NAMES`] and [`CI_NAMES`] through `var` (`std::env::var_os` for the process).
    pub fn read(var: impl Fn(&str) -> Option<OsString>) -> Self {
        Environment {
            vars: NAMES
                .iter()
                .chain(CI_NAMES)
                .filter_map(|name| var(name).map(|value| (*name, value)))
                .collect(),
        }
    }

    /// A variable as text; `None` when unset or not Unicode.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .and_then(|v| v.to_str())
            .map(str::to_string)
    }

    pub fn get_os(&self, name: &str) -> Option<OsString> {
        self.vars.get(name).cloned()
    }
}
