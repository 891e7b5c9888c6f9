//! Property tests of every parser that sees outside input: service URLs,
//! the stored-credential form, tfx-cli's legacy escaping and the
//! connectionData classifier. Properties, not just "no panic".

use proptest::prelude::*;
use tfx_auth::credential::Credential;
use tfx_auth::credential::entra::{EntraToken, RefreshGrant, is_tenant};
use tfx_auth::entra::discovery::tenant_from_headers;
use tfx_auth::secret::Secret;
use tfx_auth::service_url::{ServiceUrl, legacy_escape, legacy_unescape};
use tfx_auth::store::chunked::{Encoding, Limit, split};
use tfx_auth::validate::{ResponseFacts, classify};

fn url_strategy() -> impl Strategy<Value = String> {
    let scheme = prop_oneof!["http", "https", "HTTPS", "ftp", ""];
    let host = prop_oneof![
        "[a-zA-Z][a-zA-Z0-9-]{0,12}(\\.[a-zA-Z]{2,5}){0,2}",
        "127\\.0\\.0\\.[0-9]{1,3}",
        "\\[::1\\]",
        ".{0,6}",
    ];
    let port = prop_oneof![
        Just(String::new()),
        (0u32..70000).prop_map(|p| format!(":{p}"))
    ];
    let path = proptest::collection::vec("[a-zA-Z0-9_.~%-]{0,8}|[^/]{0,3}", 0..4)
        .prop_map(|s| s.join("/"));
    let tail = prop_oneof![Just(""), Just("/"), Just("//"), Just("?q"), Just("#f")];
    (scheme, host, port, path, tail)
        .prop_map(|(s, h, p, path, t)| format!("{s}://{h}{p}/{path}{t}"))
}

/// What makes two service URLs the same collection, computed independently of the key.
fn identity(input: &str) -> (String, String, Option<u16>, String) {
    let url = url::Url::parse(input.trim()).expect("accepted URLs parse");
    (
        url.scheme().to_string(),
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default(),
        url.path().trim_end_matches('/').to_lowercase(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Normalising a normalised URL changes nothing.
    #[test]
    fn normalisation_is_idempotent(input in url_strategy()) {
        if let Ok(url) = ServiceUrl::parse(&input) {
            let again = ServiceUrl::parse(url.key()).expect("a key parses");
            prop_assert_eq!(again.key(), url.key());
            let typed_again = ServiceUrl::parse(url.as_str()).expect("the typed form parses");
            prop_assert_eq!(typed_again.key(), url.key());
        }
    }

    /// Arbitrary text never panics the parser, and rejections are INVALID_URL.
    #[test]
    fn any_text_parses_or_is_invalid_url(input in ".{0,80}") {
        if let Err(e) = ServiceUrl::parse(&input) {
            prop_assert_eq!(e.code(), "INVALID_URL");
        }
    }

    /// Two URLs share a store key exactly when they name the same collection:
    /// same scheme, host, port (default made explicit) and path up to case and
    /// trailing slashes — even where tfx-cli's escaping makes them collide.
    #[test]
    fn one_key_per_collection(a in url_strategy(), b in url_strategy()) {
        if let (Ok(x), Ok(y)) = (ServiceUrl::parse(&a), ServiceUrl::parse(&b)) {
            prop_assert_eq!(x.key() == y.key(), identity(&a) == identity(&b), "{} vs {}", a, b);
        }
    }

    /// The legacy escape is read back only as the URL that escapes to the same name.
    #[test]
    fn legacy_unescape_inverts_escape_or_declines(input in url_strategy()) {
        if let Ok(url) = ServiceUrl::parse(&input) {
            let name = legacy_escape(url.as_str());
            if let Some(back) = legacy_unescape(&name) {
                prop_assert_eq!(legacy_escape(&back), name);
            }
        }
    }

    /// format(parse(x)) == x for every stored credential that parses.
    #[test]
    fn stored_form_round_trips(kind in prop_oneof!["pat:", "basic:", "x:", ""], body in "\\PC{0,40}") {
        let stored = format!("{kind}{body}");
        match Credential::from_stored(&stored) {
            Ok(cred) => {
                let formatted = cred.to_stored();
                prop_assert_eq!(formatted.as_str(), stored.as_str());
            }
            Err(e) => prop_assert_eq!(e.code(), "INVALID_CREDENTIAL"),
        }
    }

    /// Debug output never contains the secret.
    #[test]
    fn debug_never_shows_the_secret(token in "[A-Za-z0-9]{8,40}", user in "[a-z\\\\]{1,12}") {
        let pat = Credential::pat(token.clone()).unwrap();
        let shown = format!("{pat:?}");
        prop_assert!(!shown.contains(&token));
        let basic = Credential::basic(user, token.clone()).unwrap();
        let shown = format!("{basic:?} {basic}");
        prop_assert!(!shown.contains(&token));
    }

    /// Every response classifies to success or a documented code, never a panic.
    #[test]
    fn classifier_is_total(status in 100u16..600, ct in prop_oneof![Just(None), Just(Some("application/json".to_string())), Just(Some("text/html".to_string())), ".{0,20}".prop_map(Some)], body in proptest::collection::vec(any::<u8>(), 0..300), truncated in any::<bool>()) {
        let url = ServiceUrl::parse("https://dev.azure.com/org").unwrap();
        let facts = ResponseFacts { status, content_type: ct, body, truncated };
        if let Err(e) = classify(&url, &facts) {
            let known = ["AUTH_REJECTED", "SIGN_IN_PAGE", "ANONYMOUS_USER", "FORBIDDEN", "NOT_AZURE_DEVOPS", "SERVER_ERROR", "PROXY_ERROR"];
            prop_assert!(known.contains(&e.code()), "{}", e.code());
        }
    }

    /// An Entra login's stored form parses back to the same credential, and
    /// neither Debug nor Display shows a token.
    #[test]
    fn entra_stored_form_round_trips(
        access in "[A-Za-z0-9._-]{8,300}",
        refresh in proptest::option::of("[A-Za-z0-9._-]{8,300}"),
        expires_at in proptest::option::of(any::<u64>()),
        tenant in "[a-z0-9][a-z0-9.-]{0,40}",
    ) {
        let token = EntraToken {
            access_token: Secret::new(access.clone()),
            expires_at,
            refresh: refresh.clone().map(|rt| RefreshGrant {
                refresh_token: Secret::new(rt),
                authority: format!("https://login.microsoftonline.com/{tenant}"),
                tenant: tenant.clone(),
                client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".into(),
            }),
        };
        let cred = Credential::Entra(token);
        prop_assert_eq!(Credential::from_stored(&cred.to_stored()).unwrap(), cred.clone());
        let shown = format!("{cred:?} {cred:#?} {cred}");
        prop_assert!(!shown.contains(&access));
        if let Some(rt) = refresh {
            prop_assert!(!shown.contains(&rt));
        }
    }

    /// Whatever a server puts in its headers, discovery yields a tenant that
    /// is safe to put in an authority URL, or none.
    #[test]
    fn discovered_tenants_are_plain_segments(header in proptest::option::of(".{0,60}"), challenge in ".{0,80}") {
        let found = tenant_from_headers(header.as_deref(), &[challenge.as_str()]);
        if let Some(tenant) = found {
            prop_assert!(is_tenant(&tenant));
            prop_assert!(!tenant.contains('/') && !tenant.contains(".."));
        }
    }

    /// Split parts rejoin to the secret and each fits the limit.
    #[test]
    fn split_parts_rejoin_and_fit(secret in "\\PC{0,600}", max in 16usize..300, utf16 in any::<bool>()) {
        let limit = Limit { max_bytes: max, encoding: if utf16 { Encoding::Utf16 } else { Encoding::Utf8 } };
        let parts = split(&secret, limit);
        prop_assert_eq!(parts.concat(), secret.clone());
        for part in parts {
            let size = if utf16 { part.encode_utf16().count() * 2 } else { part.len() };
            prop_assert!(size <= max);
        }
    }
}
