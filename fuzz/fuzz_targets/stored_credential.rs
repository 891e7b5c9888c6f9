//! The stored credential form: format(parse(x)) == x for tfx-cli's `pat:` and
//! `basic:` strings, parse(format(parse(x))) == parse(x) for `entra:` JSON
//! (its formatting is canonical, the input need not be), rejections are
//! INVALID_CREDENTIAL, and Debug/Display output does not depend on the secret
//! (so it cannot show it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfx_auth::credential::Credential;
use tfx_auth::credential::EntraToken;

fuzz_target!(|input: &str| {
    match Credential::from_stored(input) {
        Ok(Credential::Entra(token)) => {
            let cred = Credential::Entra(token.clone());
            assert_eq!(Credential::from_stored(&cred.to_stored()).unwrap(), cred);
            let mut other = token;
            other.access_token = tfx_auth::secret::Secret::new("another-secret".into());
            if let Some(grant) = other.refresh.as_mut() {
                grant.refresh_token = tfx_auth::secret::Secret::new("another-refresh".into());
            }
            let other = Credential::Entra(other);
            assert_eq!(format!("{cred:?} {cred}"), format!("{other:?} {other}"));
        }
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
    let _ = EntraToken::from_stored_json(input);
});
