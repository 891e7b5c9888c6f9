//! The one HTTP layer: reqwest on rustls (ring). TLS roots are the system
//! roots, `NODE_EXTRA_CA_CERTS` and per-call CAs; skipping certificate checks
//! is explicit and per call; proxies come from the call or the environment;
//! connect and total timeouts; at most 5 redirects (reqwest drops
//! `Authorization` on cross-host hops), none for OAuth endpoints
//! ([`HttpClients::for_oauth`]); keep-alive clients reused per configuration.

mod failure;
mod tls;

pub use failure::{Capped, read_capped, transport_error};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use url::Url;

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::service_url::ServiceUrl;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const MAX_REDIRECTS: usize = 5;
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `timeoutMs` a caller may ask for: one request, not a wait for a
/// person; anything longer is a mistake (or a wrapped or absurd number).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// A JavaScript `timeoutMs`: a whole number of milliseconds from 1 to
/// [`MAX_TIMEOUT`]. Checked here, not left to a cast: `-1`, `1e20` or `NaN`
/// would mean "no timeout" and `2**32 + 100` would wrap to 100 ms.
///
/// # Errors
/// `INVALID_ARGUMENT` for anything else.
pub fn timeout_from_millis(ms: f64) -> Result<Duration> {
    let max = MAX_TIMEOUT.as_millis() as f64;
    if ms.is_finite() && ms.fract() == 0.0 && (1.0..=max).contains(&ms) {
        Ok(Duration::from_millis(ms as u64))
    } else {
        Err(Error::invalid_argument(format!(
            "timeoutMs must be a whole number of milliseconds from 1 to {max} (10 minutes)"
        )))
    }
}

/// Per-call connection settings (the JavaScript `ConnectOptions`).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `http://[user:pass@]host:port`; overrides the environment.
    pub proxy: Option<String>,
    /// PEM text (or paths to PEM files) of extra trusted CAs.
    pub ca_certificates: Vec<String>,
    /// Skip certificate checks for this call only.
    pub skip_cert_validation: bool,
    pub timeout: Option<Duration>,
}

impl ConnectOptions {
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// A cancellation flag an AbortSignal can set from another thread. (tokio-util's
/// `CancellationToken` does the same, but is not in the tree: a new crate for
/// twenty lines. The register-then-check order in `cancelled` avoids a lost
/// wake-up.)
#[derive(Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once `cancel` has been called.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// A client ready for one URL, and the proxy it goes through (if any).
pub struct Transport {
    pub client: reqwest::Client,
    /// The proxy as `scheme://host:port` (never its credentials).
    pub proxy: Option<String>,
    /// `NODE_EXTRA_CA_CERTS`, when set: trusted, and named in TLS advice.
    pub extra_ca_file: Option<String>,
}

/// Clients reused per configuration so connections are kept alive, under the
/// environment's proxies and `NODE_EXTRA_CA_CERTS` (an empty environment by
/// default, as tests want).
#[derive(Default)]
pub struct HttpClients {
    cache: Mutex<HashMap<ClientKey, reqwest::Client>>,
    env: Environment,
}

#[derive(Hash, PartialEq, Eq)]
struct ClientKey {
    proxy: Option<String>,
    cas: Vec<String>,
    skip_cert_validation: bool,
    timeout: Duration,
    follow_redirects: bool,
}

impl HttpClients {
    pub fn new(env: Environment) -> Self {
        HttpClients {
            cache: Mutex::default(),
            env,
        }
    }

    /// The client for requests to `url` under `options`.
    ///
    /// # Errors
    /// `PROXY_ERROR` for an unusable proxy URL, `TLS_ERROR` for unusable CAs.
    pub fn for_url(&self, url: &ServiceUrl, options: &ConnectOptions) -> Result<Transport> {
        self.transport(url, options, true)
    }

    /// The client for the sign-in authority and tenant discovery: it follows
    /// no redirect, so a 3xx reaches the caller as an answer. A 307/308
    /// would re-post the form (a device code, a refresh token) to wherever
    /// it points, https to http included.
    ///
    /// # Errors
    /// As [`HttpClients::for_url`].
    pub fn for_oauth(&self, url: &ServiceUrl, options: &ConnectOptions) -> Result<Transport> {
        self.transport(url, options, false)
    }

    fn transport(
        &self,
        url: &ServiceUrl,
        options: &ConnectOptions,
        follow_redirects: bool,
    ) -> Result<Transport> {
        let proxy = effective_proxy(url, options.proxy.as_deref(), &|name| self.env.get(name))?;
        let extra_ca_file = self
            .env
            .get("NODE_EXTRA_CA_CERTS")
            .filter(|p| !p.is_empty());
        let key = ClientKey {
            proxy: proxy.as_ref().map(|p| p.to_string()),
            cas: options.ca_certificates.clone(),
            skip_cert_validation: options.skip_cert_validation,
            timeout: options.timeout(),
            follow_redirects,
        };
        let shown_proxy = proxy.as_ref().map(display_proxy);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = cache.get(&key) {
            return Ok(Transport {
                client: client.clone(),
                proxy: shown_proxy,
                extra_ca_file,
            });
        }
        let redirects = if follow_redirects {
            reqwest::redirect::Policy::limited(MAX_REDIRECTS)
        } else {
            reqwest::redirect::Policy::none()
        };
        let client = build_client(
            url,
            proxy.as_ref(),
            options,
            extra_ca_file.as_deref(),
            redirects,
        )?;
        cache.insert(key, client.clone());
        Ok(Transport {
            client,
            proxy: shown_proxy,
            extra_ca_file,
        })
    }
}

fn build_client(
    url: &ServiceUrl,
    proxy: Option<&Url>,
    options: &ConnectOptions,
    extra_ca_file: Option<&str>,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client> {
    // reqwest needs a process-wide provider even for plain http; ours is ring.
    // An error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let timeout = options.timeout();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("tfx-auth/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .redirect(redirects)
        .no_proxy();
    if let Some(proxy) = proxy {
        // reqwest turns the proxy URL's user:password into Proxy-Authorization.
        let proxy = reqwest::Proxy::all(proxy.as_str()).map_err(|_| Error::Proxy {
            url: url.to_string(),
            status: None,
            reason: "the proxy URL cannot be used".into(),
        })?;
        builder = builder.proxy(proxy);
    }
    // Always, whatever the scheme: a client is cached by its options alone, so
    // one first built for an http URL serves https URLs (and http->https
    // redirects) too, and must carry the same roots.
    builder = builder.tls_backend_preconfigured(tls::tls_config(url, options, extra_ca_file)?);
    builder.build().map_err(|e| Error::Network {
        url: url.to_string(),
        reason: format!("cannot set up the HTTP client ({e})"),
    })
}

// ---- proxies ------------------------------------------------------------------
//
// Why not hyper-util's `client::proxy::matcher::Matcher` (in the tree through
// reqwest): it answers "intercept this URI or not" at request time inside
// reqwest, while tfx-auth needs the chosen proxy before the request, to build
// one keep-alive client per proxy, to show it without credentials and to
// classify a failed connection as PROXY_ERROR; and its NO_PROXY reading
// differs in details our users rely on (an explicit `proxy` option still obeys
// NO_PROXY here). Moving to it needs a differential test over the NO_PROXY
// table below first; until then these ~100 lines stay.

/// The proxy for `url`: the call's own, else the environment's
/// (`https_proxy`/`HTTPS_PROXY` for https, `http_proxy`/`HTTP_PROXY` for http,
/// then `all_proxy`/`ALL_PROXY`), unless `no_proxy`/`NO_PROXY` exempts the host.
pub fn effective_proxy(
    url: &ServiceUrl,
    explicit: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Url>> {
    let from = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let candidate = match explicit.filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(p.to_string()),
        None => {
            let scheme_vars: &[&str] = if url.is_https() {
                &["https_proxy", "HTTPS_PROXY"]
            } else {
                &["http_proxy", "HTTP_PROXY"]
            };
            from(scheme_vars).or_else(|| from(&["all_proxy", "ALL_PROXY"]))
        }
    };
    let Some(raw) = candidate else {
        return Ok(None);
    };
    if from(&["no_proxy", "NO_PROXY"]).is_some_and(|list| no_proxy_matches(&list, url)) {
        return Ok(None);
    }
    let with_scheme = if raw.contains("://") {
        raw.trim().to_string()
    } else {
        format!("http://{}", raw.trim())
    };
    let proxy = Url::parse(&with_scheme).map_err(|_| Error::Proxy {
        url: url.to_string(),
        status: None,
        reason: "the proxy setting is not a valid URL".into(),
    })?;
    if !matches!(proxy.scheme(), "http" | "https") || proxy.host_str().is_none() {
        return Err(Error::Proxy {
            url: url.to_string(),
            status: None,
            reason: format!(
                "unsupported proxy {}; use http://host:port",
                display_proxy(&proxy)
            ),
        });
    }
    Ok(Some(proxy))
}

/// `scheme://host:port` of a proxy: never its credentials.
pub fn display_proxy(proxy: &Url) -> String {
    let port = proxy
        .port_or_known_default()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!(
        "{}://{}{port}",
        proxy.scheme(),
        proxy.host_str().unwrap_or_default()
    )
}

/// curl-style `NO_PROXY`: `*`, host names (suffix match, leading dot optional),
/// IP addresses and CIDR ranges, with an optional `:port`.
fn no_proxy_matches(list: &str, url: &ServiceUrl) -> bool {
    let host = url
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some(ip) = host_ip {
                return match entry.split_once('/') {
                    Some((net, bits)) => cidr_contains(net, bits, ip),
                    None => {
                        entry
                            .trim_start_matches('[')
                            .split(']')
                            .next()
                            .and_then(|e| e.parse::<IpAddr>().ok())
                            == Some(ip)
                    }
                };
            }
            let name = entry
                .split(':')
                .next()
                .unwrap_or(entry)
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .to_ascii_lowercase();
            host == name || host.ends_with(&format!(".{name}"))
        })
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn proxy_comes_from_the_call_then_the_scheme_variable() {
        let env = env_of(&[("HTTPS_PROXY", "http://p1:3128"), ("http_proxy", "p2:8080")]);
        let https = url("https://dev.azure.com/org");
        let http = url("http://tfs:8080/tfs");
        assert_eq!(
            effective_proxy(&https, None, &env)
                .unwrap()
                .unwrap()
                .as_str(),
            "http://p1:3128/"
        );
        assert_eq!(
            effective_proxy(&http, None, &env)
                .unwrap()
                .unwrap()
                .as_str(),
            "http://p2:8080/"
        );
        let explicit = effective_proxy(&https, Some("http://u:pw@p3:1"), &env)
            .unwrap()
            .unwrap();
        assert_eq!(display_proxy(&explicit), "http://p3:1");
    }

    #[test]
    fn no_proxy_exempts_hosts_ips_and_ranges() {
        for (list, target, exempt) in [
            ("*", "https://dev.azure.com/o", true),
            ("azure.com", "https://dev.azure.com/o", true),
            (".azure.com", "https://dev.azure.com/o", true),
            ("example.com", "https://dev.azure.com/o", false),
            ("127.0.0.1", "http://127.0.0.1:8080/c", true),
            ("127.0.0.0/8", "http://127.0.0.9:8080/c", true),
            ("10.0.0.0/8", "http://127.0.0.9:8080/c", false),
            ("::1", "http://[::1]:8080/c", true),
            ("localhost,tfs", "http://tfs:8080/c", true),
        ] {
            assert_eq!(
                no_proxy_matches(list, &url(target)),
                exempt,
                "{list} {target}"
            );
        }
    }

    #[test]
    fn timeouts_are_whole_milliseconds_up_to_ten_minutes() {
        assert_eq!(timeout_from_millis(1.0).unwrap(), Duration::from_millis(1));
        assert_eq!(timeout_from_millis(600_000.0).unwrap(), MAX_TIMEOUT);
        for bad in [
            0.0,
            -1.0,
            0.5,
            600_001.0,
            4_294_967_396.0,
            1e20,
            f64::NAN,
            f64::INFINITY,
        ] {
            let err = timeout_from_millis(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_ARGUMENT", "{bad}");
        }
    }

    #[test]
    fn proxy_errors_never_show_credentials() {
        let err = effective_proxy(
            &url("https://x.example"),
            Some("socks5://u:hunter2@p:1080"),
            &|_| None,
        )
        .unwrap_err();
        assert_eq!(err.code(), "PROXY_ERROR");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
