//! Credentials: PAT, Basic and Microsoft Entra ID; the stored form (tfx-cli's
//! `pat:<token>` and `basic:<user>:<password>`, and our `entra:<json>`), the
//! Authorization header (per service: `wire`), and redaction.
//!
//! Secrets live in `Zeroizing` buffers so they are wiped when dropped, and
//! neither `Debug` nor `Display` ever prints them.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{self, Secret, Spaces};

pub mod entra;
pub mod wire;

pub use entra::EntraToken;
pub use wire::Service;

/// The user name tfx-cli sends with a PAT; Azure DevOps ignores it.
pub const PAT_USERNAME: &str = "OAuth";

/// Longest user name accepted (`DOMAIN\user` or a UPN).
pub const MAX_USERNAME_LEN: usize = 512;

#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A personal access token, sent as Basic `OAuth:<token>` like tfx-cli.
    Pat { token: Secret },
    /// A user name (`DOMAIN\user` on-prem) and password, sent as Basic.
    Basic { username: String, password: Secret },
    /// A Microsoft Entra ID access token (and, from a device code sign-in,
    /// how to renew it), sent as `Bearer <access token>`.
    Entra(EntraToken),
}

/// The kind of a credential, safe to show and to store beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    Pat,
    Basic,
    Entra,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Pat => "pat",
            AuthType::Basic => "basic",
            AuthType::Entra => "entra",
        }
    }
}

impl Credential {
    /// A PAT; rejects empty, whitespace or control characters, and absurd lengths.
    pub fn pat(token: impl Into<String>) -> Result<Self> {
        let token = Zeroizing::new(token.into());
        secret::check("token", &token, Spaces::Refused)?;
        Ok(Credential::Pat { token })
    }

    /// Basic credentials; the user name cannot contain `:` (RFC 7617).
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Result<Self> {
        let username = username.into();
        let password = Zeroizing::new(password.into());
        check_username(&username)?;
        secret::check("password", &password, Spaces::Allowed)?;
        Ok(Credential::Basic { username, password })
    }

    pub fn auth_type(&self) -> AuthType {
        match self {
            Credential::Pat { .. } => AuthType::Pat,
            Credential::Basic { .. } => AuthType::Basic,
            Credential::Entra(_) => AuthType::Entra,
        }
    }

    /// The Basic user name, if this is a Basic credential.
    pub fn username(&self) -> Option<&str> {
        match self {
            Credential::Basic { username, .. } => Some(username),
            Credential::Pat { .. } | Credential::Entra(_) => None,
        }
    }

    /// The secret part: the token, the password, or the Entra access token.
    pub fn secret(&self) -> &str {
        match self {
            Credential::Pat { token } => token,
            Credential::Basic { password, .. } => password,
            Credential::Entra(token) => &token.access_token,
        }
    }

    /// The stored form: tfx-cli's `pat:<token>` or `basic:<user>:<password>`,
    /// or `entra:<json>` (access token, expiry, refresh token, authority).
    pub fn to_stored(&self) -> Secret {
        match self {
            Credential::Pat { token } => Zeroizing::new(format!("pat:{}", token.as_str())),
            Credential::Basic { username, password } => {
                Zeroizing::new(format!("basic:{username}:{}", password.as_str()))
            }
            Credential::Entra(token) => {
                let json = token.to_stored_json();
                let mut stored = Zeroizing::new(String::with_capacity(json.len() + 6));
                stored.push_str("entra:");
                stored.push_str(&json);
                stored
            }
        }
    }

    /// Parses the stored form. The user name ends at the first `:`, so
    /// passwords may contain `:`.
    pub fn from_stored(stored: &str) -> Result<Self> {
        if let Some(token) = stored.strip_prefix("pat:") {
            return Credential::pat(token);
        }
        if let Some(json) = stored.strip_prefix("entra:") {
            return EntraToken::from_stored_json(json).map(Credential::Entra);
        }
        if let Some(rest) = stored.strip_prefix("basic:") {
            let (username, password) = rest.split_once(':').ok_or_else(|| {
                Error::invalid_credential("stored Basic credential has no password")
            })?;
            return Credential::basic(username, password);
        }
        Err(Error::invalid_credential(
            "stored credential is neither `pat:`, `basic:` nor `entra:`",
        ))
    }
}

fn check_username(username: &str) -> Result<()> {
    if username.trim().is_empty() {
        return Err(Error::invalid_credential("the user name is empty"));
    }
    if username.contains(':') {
        return Err(Error::invalid_credential(
            "the user name contains `:`, which Basic authentication cannot carry",
        ));
    }
    if username.chars().any(char::is_control) {
        return Err(Error::invalid_credential(
            "the user name contains control characters or line breaks",
        ));
    }
    if username.len() > MAX_USERNAME_LEN {
        return Err(Error::invalid_credential(format!(
            "the user name is longer than {MAX_USERNAME_LEN} bytes"
        )));
    }
    Ok(())
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Pat { .. } => f.debug_struct("Pat").field("token", &"<redacted>").finish(),
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::Entra(token) => f.debug_tuple("Entra").field(token).finish(),
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Pat { .. } => f.write_str("personal access token"),
            Credential::Basic { username, .. } => write!(f, "Basic ({username})"),
            Credential::Entra(_) => f.write_str("Microsoft Entra ID access token"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn stored_form_round_trips() {
        for stored in [
            "pat:abc123",
            "basic:fabfiber\\peter:P@ss:w0rd",
            "basic:jürgen:pässwörd",
        ] {
            assert_eq!(
                Credential::from_stored(stored)
                    .unwrap()
                    .to_stored()
                    .as_str(),
                stored
            );
        }
    }

    #[test]
    fn basic_password_may_contain_colons() {
        let cred = Credential::from_stored("basic:peter:a:b:c").unwrap();
        assert_eq!(cred.username(), Some("peter"));
        assert_eq!(cred.secret(), "a:b:c");
    }

    #[test]
    fn bad_credentials_are_rejected_with_invalid_credential() {
        let long = "x".repeat(crate::secret::MAX_SECRET_LEN + 1);
        let cases: Vec<Result<Credential>> = vec![
            Credential::pat(""),
            Credential::pat("   "),
            Credential::pat("abc\ndef"),
            Credential::pat("abc def"),
            Credential::pat("abc\u{7}"),
            Credential::pat(long.clone()),
            Credential::basic("a:b", "pw"),
            Credential::basic("", "pw"),
            Credential::basic("peter", ""),
            Credential::basic("pe\nter", "pw"),
            Credential::basic("peter", "p\rw"),
            Credential::basic("u".repeat(MAX_USERNAME_LEN + 1), "pw"),
            Credential::basic("peter", long),
            Credential::from_stored("token:abc"),
            Credential::from_stored("basic:nopassword"),
        ];
        for case in cases {
            assert_eq!(case.unwrap_err().code(), "INVALID_CREDENTIAL");
        }
    }

    #[test]
    fn authorization_header_is_basic_like_tfx() {
        let pat = Credential::pat("abc").unwrap();
        assert_eq!(
            pat.authorization_header(Service::AzureDevOps).as_str(),
            "Basic T0F1dGg6YWJj"
        );
        let basic = Credential::basic("fabfiber\\peter", "pässwörd").unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("fabfiber\\peter:pässwörd");
        assert_eq!(
            basic.authorization_header(Service::AzureDevOps).as_str(),
            format!("Basic {expected}")
        );
    }

    #[test]
    fn entra_is_sent_as_bearer_and_stored_as_json() {
        let cred = Credential::Entra(EntraToken::access_only("eyJ0.eyJ1.c2ln", Some(42)).unwrap());
        assert_eq!(
            cred.authorization_header(Service::AzureDevOps).as_str(),
            "Bearer eyJ0.eyJ1.c2ln"
        );
        let stored = cred.to_stored();
        assert_eq!(
            stored.as_str(),
            r#"entra:{"v":1,"accessToken":"eyJ0.eyJ1.c2ln","expiresAt":42}"#
        );
        assert_eq!(Credential::from_stored(&stored).unwrap(), cred);
        assert_eq!(cred.auth_type().as_str(), "entra");
        assert_eq!(
            Credential::from_stored("entra:{").unwrap_err().code(),
            "INVALID_CREDENTIAL"
        );
    }

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let creds = [
            Credential::pat("s3cr3t-token").unwrap(),
            Credential::basic("peter", "s3cr3t-token").unwrap(),
            Credential::Entra(EntraToken::access_only("s3cr3t-token", None).unwrap()),
        ];
        for cred in creds {
            for shown in [format!("{cred:?}"), format!("{cred:#?}"), cred.to_string()] {
                assert!(!shown.contains("s3cr3t"), "{shown}");
            }
        }
    }
}
