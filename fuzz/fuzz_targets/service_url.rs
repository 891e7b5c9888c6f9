//! Service URL parsing: never panics; rejections are INVALID_URL; normalising
//! is idempotent; the key is an http(s) URL with a host and never carries user
//! info, a query or a fragment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::service_url::ServiceUrl;

fuzz_target!(|input: &str| {
    match ServiceUrl::parse(input) {
        Ok(url) => {
            let again = ServiceUrl::parse(url.key()).expect("a key parses");
            assert_eq!(again.key(), url.key(), "normalisation is idempotent");
            let typed = ServiceUrl::parse(url.as_str()).expect("the typed form parses");
            assert_eq!(typed.key(), url.key());
            let key = url::Url::parse(url.key()).expect("a key is a URL");
            assert!(matches!(key.scheme(), "http" | "https"));
            assert!(key.host_str().is_some_and(|h| !h.is_empty()));
            assert!(key.username().is_empty() && key.password().is_none());
            assert!(key.query().is_none() && key.fragment().is_none());
        }
        Err(e) => assert_eq!(e.code(), "INVALID_URL"),
    }
});
