//! tfx-cli's folder-name escaping: reading a name back yields a URL that
//! escapes to the very same name, or nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::service_url::{legacy_escape, legacy_unescape};

fuzz_target!(|name: &str| {
    if let Some(url) = legacy_unescape(name) {
        assert_eq!(legacy_escape(&url), name);
    }
});
