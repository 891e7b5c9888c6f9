//! The authority of a service URL as typed must be the one every parser reads.

use url::Url;

use crate::error::{Error, Result};

/// Longest host name DNS allows, and longest label.
const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// The login is keyed by the host `url` reads, but tfx-cli connects to the host
/// Node's legacy `url.parse` / `url.resolve` read, and the two disagree on any
/// host not already in canonical form: `http://127.0.0.1%31/x` is 127.0.0.11
/// here and 127.0.0.1 there, so one host's secret would go to another. Rather
/// than model every parser, accept only an authority typed exactly as `url`
/// serialises it (ASCII case aside): a spelling every parser reads the same way
/// (`__test__/url-differential.test.mjs` checks that claim over a corpus).
pub(super) fn check(input: &str, url: &Url) -> Result<()> {
    // WHATWG reads `\` as `/`; legacy `url.parse` does not always (`http://\host` has no host).
    if input.contains('\\') {
        return Err(Error::invalid_url(
            "the URL contains a backslash (`\\`); separate the host and path with `/`",
        ));
    }
    let scheme = url.scheme();
    let rest = input
        .get(..scheme.len())
        .filter(|s| s.eq_ignore_ascii_case(scheme))
        .and_then(|_| input[scheme.len()..].strip_prefix("://"))
        .ok_or_else(|| {
            Error::invalid_url(format!(
                "write the URL as {scheme}://<host>/..., with `//` after `{scheme}:`"
            ))
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Error::invalid_url(
            "the host contains `@`; write only the host name (and `:port`) after `//`",
        ));
    }
    let (host, port) = split_authority(authority);
    if host.contains('%') {
        return Err(Error::invalid_url(
            "the host contains a percent-escape (`%`); write the host name itself, in letters, digits, `-` and `.`",
        ));
    }
    if !host.is_ascii() {
        return Err(Error::invalid_url(
            "the host contains non-ASCII characters (look-alike letters or dots, or invisible characters); write it in ASCII, an internationalised name in its xn-- form",
        ));
    }
    let bracketed = host.starts_with('[') && host.ends_with(']');
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '.' | '_')
            || (bracketed && matches!(c, ':' | '[' | ']'))
    };
    if let Some(c) = host.chars().find(|&c| !allowed(c)) {
        return Err(Error::invalid_url(format!(
            "the host contains `{c}`; a host name has only letters, digits, `-`, `_` and `.` (an IPv6 address goes in [brackets])"
        )));
    }
    // Legacy `url.parse` empties a host longer than DNS allows (so Node would connect to localhost).
    if host.len() > MAX_HOST_LEN + usize::from(host.ends_with('.'))
        || host.split('.').any(|label| label.len() > MAX_LABEL_LEN)
    {
        return Err(Error::invalid_url(format!(
            "the host name is longer than DNS allows ({MAX_HOST_LEN} characters, {MAX_LABEL_LEN} per label)"
        )));
    }
    let canonical = url.host_str().unwrap_or_default();
    if !host.eq_ignore_ascii_case(canonical) {
        return Err(Error::invalid_url(match url.host() {
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => format!(
                "`{host}` is an unusual spelling of the address {canonical}; write {canonical}"
            ),
            _ => format!("the host `{host}` reads as `{canonical}`; write {canonical}"),
        }));
    }
    if let Some(port) = port {
        let plain = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && (port == "0" || !port.starts_with('0'));
        if !plain || port.parse::<u16>().ok() != url.port_or_known_default() {
            return Err(Error::invalid_url(
                "the port must be plain digits without leading zeros, like :8080 (or no `:` at all)",
            ));
        }
    }
    Ok(())
}

/// `host[:port]` or `[v6][:port]` as typed; the port is `Some` whenever a `:` follows the host.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    let end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.rfind(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(end);
    // Anything between `]` and `:` stays in the port, where it fails the digits check.
    let port = (!rest.is_empty()).then(|| rest.strip_prefix(':').unwrap_or(rest));
    (host, port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_url::ServiceUrl;

    #[test]
    fn hosts_other_parsers_read_differently_are_rejected() {
        // Each is keyed by one host here while Node's legacy url.parse / url.resolve (tfx-cli's
        // HTTP stack) or WHATWG URL reads another, or could.
        for input in [
            "http://127.0.0.1%31/x",
            "https://dev.azure.co%6D/org",
            "https://dev.azure.co%6d/org",
            "https://dev%2eazure.com/org",
            "http://127.0.0.1%2f@evil.example/x",
            "http://evil.example\\@127.0.0.1/x",
            "http://127.0.0.1\\x",
            "http:\\\\127.0.0.1/x",
            "http:/127.0.0.1/x",
            "http:127.0.0.1/x",
            "https://@dev.azure.com/org",
            "https://:@dev.azure.com/org",
            "https://dev.azure\u{3002}com/org",
            "https://dev\u{ff0e}azure.com/org",
            "https://dev.azure\u{ff61}com/org",
            "https://dev.azure.co\u{ff4d}/org",
            "http://\u{ff11}27.0.0.1/x",
            "https://dev.azure.com\u{200b}/org",
            "https://dev.azu\u{00ad}re.com/org",
            "https://d\u{0435}v.azure.com/org",
            "https://b\u{fc}cher.example/org",
            "http://127.1/x",
            "http://127.0.1/x",
            "http://0x7f.0.0.1/x",
            "http://0x7f000001/x",
            "http://2130706433/x",
            "http://0177.0.0.1/x",
            "http://127.0.0.01/x",
            "http://[0:0::1]/x",
            "http://[0:0:0:0:0:0:0:1]:8080/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[::1]x:8080/x",
            "http://tfs;evil.example/x",
            "http://tfs!evil.example/x",
            "http://127.0.0.1%00.evil.example/x",
            "http://127.0.0.1:0080/x",
            "http://127.0.0.1:/x",
            "http://127.0.0.1:+80/x",
            &format!("http://{}.example/x", "a".repeat(64)),
            &format!("http://{}example/x", "a.".repeat(130)),
        ] {
            let err = ServiceUrl::parse(input).unwrap_err();
            assert_eq!(err.code(), "INVALID_URL", "{input:?}");
        }
        let err = ServiceUrl::parse("http://0x7f.1:8080/x").unwrap_err();
        assert!(err.to_string().contains("write 127.0.0.1"), "{err}");
        let err = ServiceUrl::parse("http://127.0.0.1%31/x").unwrap_err();
        assert!(err.to_string().contains("percent-escape"), "{err}");
    }

    #[test]
    fn canonical_hosts_stay_accepted() {
        for (input, expected) in [
            (
                "HTTPS://Dev.Azure.COM/FabFiber",
                "https://dev.azure.com/fabfiber",
            ),
            ("https://dev.azure.com:443/org", "https://dev.azure.com/org"),
            ("http://127.0.0.1:8080/tfs", "http://127.0.0.1:8080/tfs"),
            ("http://[::1]:8080/tfs", "http://[::1]:8080/tfs"),
            ("http://[::FFFF:7F00:1]/tfs", "http://[::ffff:7f00:1]/tfs"),
            (
                "http://tfs_01.fabfiber.local/tfs",
                "http://tfs_01.fabfiber.local/tfs",
            ),
            (
                "https://xn--bcher-kva.example/org",
                "https://xn--bcher-kva.example/org",
            ),
            ("https://dev.azure.com./org", "https://dev.azure.com./org"),
            ("http://server:0/x", "http://server:0/x"),
            (
                "https://dev.azure.com/org%2Fx/%41",
                "https://dev.azure.com/org%2fx/%41",
            ),
        ] {
            assert_eq!(
                ServiceUrl::parse(input).unwrap().key().to_string(),
                expected,
                "{input}"
            );
        }
        let label = "a".repeat(MAX_LABEL_LEN);
        let longest = format!("http://{label}.{label}.{label}.{}/x", "b".repeat(61));
        assert_eq!(longest.len() - "http:///x".len(), MAX_HOST_LEN);
        assert!(ServiceUrl::parse(&longest).is_ok());
    }
}
