//! tfx-cli's stored credential form: format(parse(x)) == x, rejections are
//! INVALID_CREDENTIAL, and Debug never shows the secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::credential::Credential;

fuzz_target!(|input: &str| {
    match Credential::from_stored(input) {
        Ok(cred) => {
            assert_eq!(cred.to_stored().as_str(), input);
            let shown = format!("{cred:?} {cred}");
            assert!(!shown.contains(cred.secret()) || cred.secret().len() < 4);
        }
        Err(e) => assert_eq!(e.code(), "INVALID_CREDENTIAL"),
    }
});
