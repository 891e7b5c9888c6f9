//! The connectionData classifier over arbitrary status, content type and body:
//! success or one documented code, never a panic; success always names a user
//! who is not the anonymous identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::service_url::ServiceUrl;
use tfx_auth::validate::{ANONYMOUS_ID, ResponseFacts, classify};

fuzz_target!(|input: (u16, Option<String>, Vec<u8>, bool)| {
    let (status, content_type, body, truncated) = input;
    let url = ServiceUrl::parse("https://dev.azure.com/fuzz").unwrap();
    let facts = ResponseFacts { status, content_type, body, truncated };
    match classify(&url, &facts) {
        Ok(info) => {
            assert!((200..300).contains(&status) && status != 203);
            assert!(!info.user.id.is_empty() && !info.user.id.eq_ignore_ascii_case(ANONYMOUS_ID));
        }
        Err(e) => assert!(
            ["AUTH_REJECTED", "SIGN_IN_PAGE", "ANONYMOUS_USER", "FORBIDDEN", "NOT_AZURE_DEVOPS", "SERVER_ERROR", "PROXY_ERROR"]
                .contains(&e.code()),
            "{}",
            e.code()
        ),
    }
});
