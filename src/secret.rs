//! Secrets: the zeroising string type every token and password lives in, the
//! limits, and the one check every secret passes before it is used or stored.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A secret string that is wiped on drop and never printed.
pub type Secret = Zeroizing<String>;

/// Longest token or password accepted (an Entra access token passed as a PAT
/// is ~2-4 KiB; anything near this limit is a paste accident).
pub const MAX_SECRET_LEN: usize = 16 * 1024;

/// Whether a secret may hold spaces: passwords may, tokens never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spaces {
    Allowed,
    Refused,
}

/// Checks a token or password: not empty, no control characters or line
/// breaks (a paste accident, and a header injection), no spaces where
/// `spaces` refuses them, not absurdly long.
///
/// # Errors
/// `INVALID_CREDENTIAL` naming `what` and the problem, never the value.
pub fn check(what: &str, value: &str, spaces: Spaces) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_credential(format!("the {what} is empty")));
    }
    let refused = |c: char| c.is_control() || (spaces == Spaces::Refused && c.is_whitespace());
    if value.chars().any(refused) {
        return Err(Error::invalid_credential(match spaces {
            Spaces::Allowed => format!("the {what} contains control characters or line breaks"),
            Spaces::Refused => format!(
                "the {what} contains spaces, line breaks or control characters; paste it without them"
            ),
        }));
    }
    if value.len() > MAX_SECRET_LEN {
        return Err(Error::invalid_credential(format!(
            "the {what} is longer than {MAX_SECRET_LEN} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_check_for_every_secret() {
        let long = "x".repeat(MAX_SECRET_LEN + 1);
        for (value, spaces, ok) in [
            ("abc", Spaces::Refused, true),
            ("pass word", Spaces::Allowed, true),
            ("pass word", Spaces::Refused, false),
            ("", Spaces::Allowed, false),
            ("   ", Spaces::Allowed, false),
            ("a\nb", Spaces::Allowed, false),
            ("a\u{0}b", Spaces::Allowed, false),
            (long.as_str(), Spaces::Allowed, false),
        ] {
            let result = check("token", value, spaces);
            assert_eq!(result.is_ok(), ok, "{value:?} {spaces:?}");
            if let Err(e) = result {
                assert_eq!(e.code(), "INVALID_CREDENTIAL");
                assert!(!e.to_string().contains("pass word"));
            }
        }
    }
}
