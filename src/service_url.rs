//! Service URLs: parsing, the normalised store key, and tfx-cli's legacy
//! escaping (used only to find old plaintext logins).
//!
//! Azure DevOps paths are case-insensitive, so the key lower-cases the path
//! as well as scheme and host; the URL as typed is kept for requests/display.

use std::fmt;

use url::Url;

use crate::error::{Error, Result};

mod authority;

/// Longest service URL accepted.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl {
    /// As the user typed it, surrounding whitespace and trailing slashes removed.
    typed: String,
    /// Scheme and host lower-case, default port dropped, path lower-case,
    /// no trailing slash: the identity of a login.
    key: String,
    /// Parsed form of `typed` (case kept), used to build request URLs.
    url: Url,
}

impl ServiceUrl {
    /// Parses and validates a service URL.
    ///
    /// # Errors
    /// `INVALID_URL` when the input is not an absolute http(s) URL with a host,
    /// or carries user information, a query, a fragment or control characters,
    /// or when its host or port is not written in the one form every parser
    /// reads alike (see `authority::check`).
    pub fn parse(input: &str) -> Result<Self> {
        let trimmed = input.trim_matches(|c: char| c == ' ' || c == '\t');
        if trimmed.is_empty() {
            return Err(Error::invalid_url("the URL is empty"));
        }
        if trimmed.len() > MAX_URL_LEN {
            return Err(Error::invalid_url(format!(
                "the URL is longer than {MAX_URL_LEN} characters"
            )));
        }
        // `url` silently drops tabs and newlines; a URL holding them is a paste accident.
        if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::invalid_url(
                "the URL contains spaces, line breaks or control characters",
            ));
        }
        // `url` reads `https:///org` as host `org`; an empty authority is no host.
        if let Some((_, rest)) = trimmed.split_once("://")
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return Err(Error::invalid_url("the URL has no host"));
        }
        let url = Url::parse(trimmed).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => Error::invalid_url(
                "the URL has no scheme; write it as https://dev.azure.com/<org> or http://<server>:8080/tfs/<collection>",
            ),
            url::ParseError::EmptyHost => Error::invalid_url("the URL has no host"),
            other => Error::invalid_url(format!("the URL cannot be parsed ({other})")),
        })?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(Error::invalid_url(format!(
                "the scheme `{}` is not supported; use https:// (or http:// for on-premises servers)",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid_url(
                "the URL contains a user name or password; pass credentials with --token or --username/--password instead",
            ));
        }
        if url.query().is_some() {
            return Err(Error::invalid_url(
                "the URL contains a query (`?...`); remove it",
            ));
        }
        if url.fragment().is_some() {
            return Err(Error::invalid_url(
                "the URL contains a fragment (`#...`); remove it",
            ));
        }
        match url.host_str() {
            None | Some("") => return Err(Error::invalid_url("the URL has no host")),
            Some(_) => {}
        }
        authority::check(trimmed, &url)?;
        let mut url = url;
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&path);
        // Percent-encoding can make the normalised form longer than the input;
        // the limit holds for what is stored, so a key always parses again.
        if url.as_str().len() > MAX_URL_LEN {
            return Err(Error::invalid_url(format!(
                "the URL is longer than {MAX_URL_LEN} characters once encoded"
            )));
        }
        let key = key_of(&url);
        let typed = url.as_str().trim_end_matches('/').to_string();
        Ok(ServiceUrl { typed, key, url })
    }

    /// The normalised URL: the store key of this login.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The URL as typed (trimmed, no trailing slash), for requests and display.
    pub fn as_str(&self) -> &str {
        &self.typed
    }

    /// `{service url}/{relative}` keeping the typed path's case.
    pub fn join(&self, relative: &str) -> Url {
        let mut url = self.url.clone();
        let path = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            relative.trim_start_matches('/')
        );
        url.set_path(&path);
        url
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// True for 127.0.0.0/8, ::1 and `localhost` itself; not `*.localhost`, a name a
    /// resolver may send off the machine.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.url)
    }

    /// The key's `scheme://host[:port]`: which server the login is for.
    pub fn origin_key(&self) -> String {
        origin_of(&self.url)
    }

    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// The parsed URL (as typed, trailing slash removed).
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The names tfx-cli may have used for this URL's plaintext login folder
    /// under `~/.tfx/` (it escaped the URL exactly as typed).
    pub fn legacy_names(&self) -> Vec<String> {
        let mut names = vec![legacy_escape(&self.typed), legacy_escape(&self.key)];
        names.dedup();
        names
    }
}

/// [`ServiceUrl::is_loopback`] for any URL (one with a query, say): 127.0.0.0/8,
/// ::1 and `localhost` itself.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn key_of(url: &Url) -> String {
    let mut key = origin_of(url);
    key.push_str(&url.path().trim_end_matches('/').to_lowercase());
    key
}

/// `scheme://host[:port]`; `Url` already lower-cases scheme and host and drops
/// the default port.
fn origin_of(url: &Url) -> String {
    let mut origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        origin.push_str(&format!(":{port}"));
    }
    origin
}

/// tfx-cli's folder name for a service URL: every `:` removed, `/` -> `_`.
pub fn legacy_escape(url: &str) -> String {
    url.replace(':', "").replace('/', "_")
}

/// Best-effort inverse of [`legacy_escape`]. `None` when the name is not an
/// escaped http(s) URL or cannot be read back unambiguously (a port glued to
/// a host whose last label ends in digits, such as `127.0.0.118080`).
pub fn legacy_unescape(name: &str) -> Option<String> {
    let (scheme, rest) = name.split_once("__")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (authority, path) = match rest.split_once('_') {
        Some((a, p)) => (a, format!("/{}", p.replace('_', "/"))),
        None => (rest, String::new()),
    };
    let authority = split_glued_port(authority)?;
    let candidate = format!("{scheme}://{authority}{path}");
    // Only accept a reading that escapes back to the very same name.
    (legacy_escape(&candidate) == name).then_some(candidate)
}

/// `tfs.contoso.com8080` -> `tfs.contoso.com:8080`; no digits -> unchanged.
fn split_glued_port(authority: &str) -> Option<String> {
    let digits = authority.len()
        - authority
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .len();
    if digits == 0 {
        return Some(authority.to_string());
    }
    let host = &authority[..authority.len() - digits];
    let last_label = host.rsplit('.').next().unwrap_or(host);
    // A top-level domain is letters only, so `com8080` is host `com` port 8080;
    // `server8080` or `127.0.0.18080` could be read either way.
    if host.contains('.')
        && !last_label.is_empty()
        && last_label.chars().all(|c| c.is_ascii_alphabetic())
    {
        Some(format!("{host}:{}", &authority[host.len()..]))
    } else {
        None
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServiceUrl").field(&self.typed).finish()
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        ServiceUrl::parse(s).unwrap().key().to_string()
    }

    #[test]
    fn loopback_is_localhost_127_slash_8_and_ipv6_one_only() {
        // `*.localhost` is a name like any other: a resolver may send it off the machine.
        for (url, loopback) in [
            ("http://localhost:8080/c", true),
            ("http://LOCALHOST/c", true),
            ("http://127.0.0.1/c", true),
            ("http://127.255.0.9:8080/c", true),
            ("http://[::1]:8080/c", true),
            ("http://tfs.localhost:8080/c", false),
            ("http://a.b.localhost/c", false),
            ("http://localhost.:8080/c", false),
            ("http://localhost.example.com/c", false),
            ("http://128.0.0.1/c", false),
            ("http://[::ffff:7f00:1]/c", false),
        ] {
            assert_eq!(
                ServiceUrl::parse(url).unwrap().is_loopback(),
                loopback,
                "{url}"
            );
        }
    }

    #[test]
    fn equivalent_urls_share_one_key() {
        let expected = "https://dev.azure.com/fabfiber";
        for input in [
            "https://dev.azure.com/fabfiber",
            "https://dev.azure.com/fabfiber/",
            "https://dev.azure.com/fabfiber///",
            "HTTPS://Dev.Azure.COM/FabFiber",
            "https://dev.azure.com:443/fabfiber",
            "  https://dev.azure.com/fabfiber  ",
        ] {
            assert_eq!(key(input), expected, "{input}");
        }
        assert_eq!(
            key("http://tfs:80/tfs/DefaultCollection"),
            "http://tfs/tfs/defaultcollection"
        );
        assert_eq!(
            key("http://tfs:8080/tfs/DefaultCollection/"),
            "http://tfs:8080/tfs/defaultcollection"
        );
        assert_eq!(
            key("https://marketplace.visualstudio.com/"),
            "https://marketplace.visualstudio.com"
        );
    }

    #[test]
    fn typed_url_keeps_case_and_drops_trailing_slash() {
        let url = ServiceUrl::parse("http://127.0.0.1:8080/tfs/DefaultCollection/").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/tfs/DefaultCollection");
        assert_eq!(
            url.join("_apis/connectionData").as_str(),
            "http://127.0.0.1:8080/tfs/DefaultCollection/_apis/connectionData"
        );
        let root = ServiceUrl::parse("https://example.com").unwrap();
        assert_eq!(
            root.join("_apis/connectionData").as_str(),
            "https://example.com/_apis/connectionData"
        );
    }

    #[test]
    fn urls_that_tfx_escaping_collides_stay_apart() {
        let a = ServiceUrl::parse("http://127.0.0.1:18080/x").unwrap();
        let b = ServiceUrl::parse("http://127.0.0.11:8080/x").unwrap();
        assert_eq!(legacy_escape(a.as_str()), legacy_escape(b.as_str()));
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn bad_urls_are_rejected_with_invalid_url() {
        let long = format!("https://dev.azure.com/{}", "a".repeat(MAX_URL_LEN));
        for input in [
            "",
            "   ",
            "dev.azure.com/org",
            "ftp://dev.azure.com/org",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pass@dev.azure.com/org",
            "https://user@dev.azure.com/org",
            "https://dev.azure.com/org?x=1",
            "https://dev.azure.com/org?",
            "https://dev.azure.com/org#frag",
            "https:///org",
            "http://",
            "https://dev.azure.com/o\nrg",
            "https://dev.azure.com/o\u{0}rg",
            "https://dev.azure.com/o rg",
            long.as_str(),
        ] {
            let err = ServiceUrl::parse(input).unwrap_err();
            assert_eq!(err.code(), "INVALID_URL", "{input:?}");
        }
    }

    #[test]
    fn the_length_limit_holds_after_percent_encoding() {
        // Found by fuzzing: 700 three-byte characters are 2,100 bytes once encoded (x3).
        let input = format!("https://dev.azure.com/{}", "€".repeat(700));
        assert!(input.len() <= MAX_URL_LEN * 2);
        assert_eq!(ServiceUrl::parse(&input).unwrap_err().code(), "INVALID_URL");
        let ok = ServiceUrl::parse(&format!("https://dev.azure.com/{}", "€".repeat(100))).unwrap();
        assert_eq!(ServiceUrl::parse(ok.key()).unwrap().key(), ok.key());
    }

    #[test]
    fn userinfo_never_reaches_the_message() {
        let err = ServiceUrl::parse("https://peter:hunter2@dev.azure.com/org").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn legacy_escape_matches_tfx() {
        assert_eq!(
            legacy_escape("https://dev.azure.com/org"),
            "https__dev.azure.com_org"
        );
        assert_eq!(
            legacy_escape("http://127.0.0.1:18080/DefaultCollection"),
            "http__127.0.0.118080_DefaultCollection"
        );
    }

    #[test]
    fn legacy_names_are_read_back_only_when_unambiguous() {
        assert_eq!(
            legacy_unescape("https__dev.azure.com_org").as_deref(),
            Some("https://dev.azure.com/org")
        );
        assert_eq!(
            legacy_unescape("http__tfs.contoso.com8080_tfs_DefaultCollection").as_deref(),
            Some("http://tfs.contoso.com:8080/tfs/DefaultCollection")
        );
        assert_eq!(
            legacy_unescape("http__127.0.0.118080_DefaultCollection"),
            None
        );
        assert_eq!(legacy_unescape("http__server8080_tfs"), None);
        assert_eq!(legacy_unescape("cache"), None);
        assert_eq!(legacy_unescape("ftp__host_x"), None);
    }
}
