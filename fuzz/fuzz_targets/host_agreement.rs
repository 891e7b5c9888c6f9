//! One host for every parser: whenever a service URL is accepted, a naive
//! reading of the text as typed (split at `://`, then at the first `/`, then
//! host and `:port`, as Node's legacy `url.parse` does) names the same host and
//! port as the store key. The key says whose login is sent; the naive reading
//! is where tfx-cli's HTTP stack connects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::service_url::ServiceUrl;

fuzz_target!(|input: &str| {
    let Ok(url) = ServiceUrl::parse(input) else {
        return;
    };
    let key = url::Url::parse(url.key()).expect("a key is a URL");
    let typed = input.trim_matches(|c: char| c == ' ' || c == '\t');
    let (scheme, rest) = typed.split_once("://").expect("accepted URLs have `://`");
    assert!(scheme.eq_ignore_ascii_case(key.scheme()), "{input:?}");
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    assert_eq!(
        host.to_ascii_lowercase(),
        key.host_str().unwrap_or_default(),
        "host of {input:?}"
    );
    let default = if key.scheme() == "https" { 443 } else { 80 };
    let port = port.map_or(default, |p| {
        p.parse::<u16>().expect("an accepted port is digits")
    });
    assert_eq!(Some(port), key.port_or_known_default(), "port of {input:?}");
});
