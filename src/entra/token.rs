//! The identity platform's token endpoint answers and OAuth errors; the
//! credential they make is [`crate::credential::EntraToken`].

use std::fmt;

use zeroize::Zeroizing;

use crate::credential::entra::{EntraToken, RefreshGrant};
use crate::error::Result;
use crate::secret::{self, Secret, Spaces};

// ---- token endpoint answers ------------------------------------------------------

/// A successful token answer.
pub struct TokenAnswer {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: u64,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl TokenAnswer {
    /// Parses `{"access_token", "refresh_token"?, "expires_in"}` (Entra sends
    /// `expires_in` as a number, older endpoints as a string).
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let access_token = take_string(&mut value, "access_token")?;
        let refresh_token = take_string(&mut value, "refresh_token");
        let expires_in = value.get("expires_in").and_then(|e| {
            e.as_u64()
                .or_else(|| e.as_str().and_then(|s| s.trim().parse().ok()))
        })?;
        if let Some(token_type) = value.get("token_type").and_then(|t| t.as_str())
            && !token_type.eq_ignore_ascii_case("bearer")
        {
            return None;
        }
        Some(TokenAnswer {
            access_token,
            refresh_token,
            expires_in,
        })
    }

    /// The token of a new sign-in at `authority` for `client_id`; renewable
    /// when the answer carries a refresh token.
    pub fn into_signed_in(
        self,
        now: u64,
        authority: String,
        tenant: String,
        client_id: String,
    ) -> Result<EntraToken> {
        let grant = self.refresh_token.is_some().then(|| RefreshGrant {
            refresh_token: Secret::default(),
            authority,
            tenant,
            client_id,
        });
        self.into_token(now, grant)
    }

    /// The token this answer gives at `now` (unix seconds). A missing refresh
    /// token keeps the one in `previous` (Entra need not rotate it).
    pub fn into_token(self, now: u64, previous: Option<RefreshGrant>) -> Result<EntraToken> {
        secret::check("access token", &self.access_token, Spaces::Refused)?;
        let refresh = match (self.refresh_token, previous) {
            (Some(refresh_token), Some(grant)) => {
                secret::check("refresh token", &refresh_token, Spaces::Refused)?;
                Some(RefreshGrant {
                    refresh_token,
                    ..grant
                })
            }
            (None, grant) => grant,
            (Some(_), None) => None,
        };
        Ok(EntraToken {
            access_token: self.access_token,
            expires_at: Some(now.saturating_add(self.expires_in)),
            refresh,
        })
    }
}

/// Removes a string field from a JSON object, wiping nothing else.
fn take_string(value: &mut serde_json::Value, field: &str) -> Option<Secret> {
    match value.get_mut(field).map(serde_json::Value::take) {
        Some(serde_json::Value::String(s)) => Some(Zeroizing::new(s)),
        _ => None,
    }
}

/// An OAuth 2.0 error answer (RFC 6749 section 5.2) with Entra's AADSTS codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    /// Entra's `error_codes` (the AADSTS numbers).
    pub codes: Vec<u64>,
}

impl OAuthError {
    pub fn parse(body: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let error = value.get("error")?.as_str()?;
        // Only a well-formed code; anything else is not echoed back.
        if error.is_empty()
            || error.len() > 64
            || !error.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return None;
        }
        let codes = value
            .get("error_codes")
            .and_then(|c| c.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(serde_json::Value::as_u64)
                    .take(4)
                    .collect()
            })
            .unwrap_or_default();
        Some(OAuthError {
            error: error.to_string(),
            codes,
        })
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)?;
        for code in &self.codes {
            write!(f, ", AADSTS{code}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::entra::tests::grant;
    use zeroize::Zeroizing;

    #[test]
    fn token_answers_parse_and_keep_the_old_refresh_token_when_not_rotated() {
        let rotated = TokenAnswer::parse(
            br#"{"token_type":"Bearer","scope":"x","expires_in":3599,"ext_expires_in":3599,"access_token":"at-2","refresh_token":"rt-2"}"#,
        )
        .unwrap()
        .into_token(100, Some(grant()))
        .unwrap();
        assert_eq!(rotated.access_token.as_str(), "at-2");
        assert_eq!(rotated.expires_at, Some(3699));
        assert_eq!(
            rotated.refresh.as_ref().unwrap().refresh_token.as_str(),
            "rt-2"
        );
        assert_eq!(rotated.refresh.as_ref().unwrap().tenant, "t1");

        let kept = TokenAnswer::parse(br#"{"expires_in":"60","access_token":"at-3"}"#)
            .unwrap()
            .into_token(0, Some(grant()))
            .unwrap();
        assert_eq!(kept.refresh.unwrap().refresh_token.as_str(), "rt-1");

        for body in [
            &br#"{"expires_in":60}"#[..],
            br#"{"access_token":"a"}"#,
            br#"{"access_token":"a","expires_in":60,"token_type":"pop"}"#,
            b"<html>",
        ] {
            assert!(TokenAnswer::parse(body).is_none());
        }
    }

    #[test]
    fn oauth_errors_keep_only_the_code_and_aadsts_numbers() {
        let err = OAuthError::parse(
            br#"{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173],"timestamp":"2024-01-01 00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(err.to_string(), "invalid_grant, AADSTS50173");
        assert!(OAuthError::parse(br#"{"error":"<script>"}"#).is_none());
        assert!(OAuthError::parse(b"{}").is_none());
    }

    #[test]
    fn debug_never_shows_a_token() {
        let token = EntraToken {
            access_token: Zeroizing::new("at-secret".into()),
            expires_at: Some(1),
            refresh: Some(RefreshGrant {
                refresh_token: Zeroizing::new("rt-secret".into()),
                ..grant()
            }),
        };
        let shown = format!("{token:?} {token:#?}");
        assert!(!shown.contains("secret"), "{shown}");
        let answer = TokenAnswer::parse(
            br#"{"expires_in":1,"access_token":"at-secret","refresh_token":"rt-secret"}"#,
        )
        .unwrap();
        assert!(!format!("{answer:?}").contains("secret"));
    }
}
