//! tfx-cli's stored credential form: format(parse(x)) == x, rejections are
//! INVALID_CREDENTIAL, and Debug/Display output does not depend on the secret
//! (so it cannot show it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::credential::Credential;

fuzz_target!(|input: &str| {
    match Credential::from_stored(input) {
        Ok(cred) => {
            assert_eq!(cred.to_stored().as_str(), input);
            let other = match cred.username() {
                Some(user) => Credential::basic(user, "another-secret").unwrap(),
                None => Credential::pat("another-secret").unwrap(),
            };
            assert_eq!(format!("{cred:?} {cred}"), format!("{other:?} {other}"));
        }
        Err(e) => assert_eq!(e.code(), "INVALID_CREDENTIAL"),
    }
});
