//! A Microsoft Entra ID credential: what a sign-in yields (an access token,
//! its expiry, and how to renew it), its stored form, and the claims read
//! from an access token. The protocol that obtains one lives in `entra/`.
//!
//! Every token is held in a `Zeroizing` buffer and never printed.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::secret::{self, Secret, Spaces};

/// Renew this long before the access token expires, so a command never
/// starts with a token that dies on its way.
pub const REFRESH_MARGIN_SECS: u64 = 5 * 60;

/// An Entra ID access token for Azure DevOps, and how to renew it.
#[derive(Clone, PartialEq, Eq)]
pub struct EntraToken {
    pub access_token: Secret,
    /// Unix seconds; `None` when unknown (a token from elsewhere whose
    /// expiry cannot be read). Such a token is used until the server rejects it.
    pub expires_at: Option<u64>,
    /// Present for logins made by the device code flow (with `offline_access`).
    pub refresh: Option<RefreshGrant>,
}

/// What renewing an access token takes: the refresh token and where and for
/// which application it is valid.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub refresh_token: Secret,
    /// `{instance}/{tenant}`, e.g. `https://login.microsoftonline.com/<tenant id>`.
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
}

impl EntraToken {
    /// An access token alone (from the environment, the Azure CLI or a JS
    /// caller); the expiry is the given one, else the token's `exp` claim.
    pub fn access_only(access_token: impl Into<String>, expires_at: Option<u64>) -> Result<Self> {
        let access_token = Zeroizing::new(access_token.into());
        secret::check("access token", &access_token, Spaces::Refused)?;
        let expires_at = expires_at.or_else(|| claims(&access_token).and_then(|c| c.exp));
        Ok(EntraToken {
            access_token,
            expires_at,
            refresh: None,
        })
    }

    /// Whether it is time to renew: within [`REFRESH_MARGIN_SECS`] of expiry.
    pub fn needs_refresh(&self, now: u64) -> bool {
        self.expires_at
            .is_some_and(|at| now.saturating_add(REFRESH_MARGIN_SECS) >= at)
    }

    /// Whether the access token is past its expiry (the server would reject it).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// The tenant this token belongs to: the stored one, else the `tid` claim.
    pub fn tenant(&self) -> Option<String> {
        self.refresh
            .as_ref()
            .map(|r| r.tenant.clone())
            .or_else(|| claims(&self.access_token).and_then(|c| c.tenant))
    }

    /// The JSON stored after `entra:` (one keyring secret per login).
    pub fn to_stored_json(&self) -> Secret {
        let stored = StoredToken {
            v: 1,
            access_token: self.access_token.to_string(),
            expires_at: self.expires_at,
            refresh_token: self.refresh.as_ref().map(|r| r.refresh_token.to_string()),
            authority: self.refresh.as_ref().map(|r| r.authority.clone()),
            tenant: self.refresh.as_ref().map(|r| r.tenant.clone()),
            client_id: self.refresh.as_ref().map(|r| r.client_id.clone()),
        };
        // One allocation big enough for the whole document, so growing the
        // buffer leaves no partial copies of the tokens behind.
        let capacity =
            256 + stored.access_token.len() + stored.refresh_token.as_ref().map_or(0, String::len);
        let mut out = Zeroizing::new(Vec::with_capacity(capacity));
        serde_json::to_writer(&mut *out, &stored).expect("serialising strings cannot fail");
        Zeroizing::new(String::from_utf8(std::mem::take(&mut *out)).expect("JSON is UTF-8"))
    }

    /// Parses the JSON stored after `entra:`.
    pub fn from_stored_json(json: &str) -> Result<Self> {
        let bad = || Error::invalid_credential("the stored Entra sign-in is not readable");
        let mut stored: StoredToken = serde_json::from_str(json).map_err(|_| bad())?;
        if stored.v != 1 {
            return Err(Error::invalid_credential(format!(
                "the stored Entra sign-in has format version {}; this tfx-auth reads version 1",
                stored.v
            )));
        }
        let access_token = Zeroizing::new(std::mem::take(&mut stored.access_token));
        secret::check("access token", &access_token, Spaces::Refused)?;
        let refresh = match stored.refresh_token.take() {
            None => None,
            Some(token) => {
                let refresh_token = Zeroizing::new(token);
                secret::check("refresh token", &refresh_token, Spaces::Refused)?;
                Some(RefreshGrant {
                    refresh_token,
                    authority: stored.authority.take().ok_or_else(bad)?,
                    tenant: stored.tenant.take().ok_or_else(bad)?,
                    client_id: stored.client_id.take().ok_or_else(bad)?,
                })
            }
        };
        Ok(EntraToken {
            access_token,
            expires_at: stored.expires_at,
            refresh,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredToken {
    v: u32,
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
}

impl Drop for StoredToken {
    fn drop(&mut self) {
        self.access_token.zeroize();
        if let Some(t) = self.refresh_token.as_mut() {
            t.zeroize();
        }
    }
}

impl fmt::Debug for EntraToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraToken")
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("refresh", &self.refresh)
            .finish()
    }
}

impl fmt::Debug for RefreshGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshGrant")
            .field("refresh_token", &"<redacted>")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .finish()
    }
}

// ---- access token claims ------------------------------------------------------

/// The claims of an access token we read: never verified (the server does
/// that), only used to show and schedule expiry and to name the tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    pub exp: Option<u64>,
    pub tenant: Option<String>,
}

/// Reads `exp` and `tid` from a JWT access token; `None` when the token is
/// not a JWT (Azure DevOps also accepts opaque tokens).
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?,
    );
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = value.get("exp").and_then(|e| {
        e.as_u64()
            .or_else(|| e.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    });
    let tenant = value
        .get("tid")
        .and_then(|t| t.as_str())
        .filter(|t| is_tenant(t))
        .map(str::to_string);
    Some(Claims { exp, tenant })
}

/// A tenant id or name that can go into an authority URL: a GUID, a domain,
/// or `organizations` / `common` / `consumers`.
pub fn is_tenant(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 255
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !value.starts_with(['.', '-'])
        // Found by the property test: `0..` would be a path step in an authority URL.
        && !value.contains("..")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A JWT-shaped token with the given claims (unsigned; nothing verifies it).
    pub fn jwt(payload: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.c2ln",
            enc(r#"{"typ":"JWT","alg":"RS256"}"#),
            enc(payload)
        )
    }

    /// A refresh grant at a fixed authority, for tests.
    pub fn grant() -> RefreshGrant {
        RefreshGrant {
            refresh_token: Zeroizing::new("rt-1".into()),
            authority: "https://login.microsoftonline.com/t1".into(),
            tenant: "t1".into(),
            client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".into(),
        }
    }

    #[test]
    fn stored_json_round_trips_with_and_without_a_refresh_token() {
        let full = EntraToken {
            access_token: Zeroizing::new(jwt(r#"{"exp":1700000000}"#)),
            expires_at: Some(1_700_000_000),
            refresh: Some(grant()),
        };
        let only = EntraToken::access_only("opaque-token", Some(5)).unwrap();
        for token in [full, only] {
            let json = token.to_stored_json();
            assert_eq!(EntraToken::from_stored_json(&json).unwrap(), token);
        }
    }

    #[test]
    fn unreadable_stored_json_is_invalid_credential() {
        for json in [
            "",
            "{}",
            r#"{"v":2,"accessToken":"a"}"#,
            r#"{"v":1,"accessToken":""}"#,
            r#"{"v":1,"accessToken":"a b"}"#,
            r#"{"v":1,"accessToken":"a","refreshToken":"r"}"#,
            "[1]",
        ] {
            assert_eq!(
                EntraToken::from_stored_json(json).unwrap_err().code(),
                "INVALID_CREDENTIAL",
                "{json}"
            );
        }
    }

    #[test]
    fn expiry_and_the_refresh_margin() {
        let token = EntraToken::access_only("t", Some(1000)).unwrap();
        assert!(!token.needs_refresh(1000 - REFRESH_MARGIN_SECS - 1));
        assert!(token.needs_refresh(1000 - REFRESH_MARGIN_SECS));
        assert!(!token.is_expired(999));
        assert!(token.is_expired(1000));
        let unknown = EntraToken::access_only("opaque", None).unwrap();
        assert!(!unknown.needs_refresh(u64::MAX) && !unknown.is_expired(u64::MAX));
    }

    #[test]
    fn tenants_are_plain_segments() {
        for ok in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "fabfiber.onmicrosoft.com",
            "organizations",
        ] {
            assert!(is_tenant(ok), "{ok}");
        }
        for bad in ["", "0..", "a/b", "../x", ".x", "-x", "a b"] {
            assert!(!is_tenant(bad), "{bad}");
        }
    }

    #[test]
    fn claims_come_from_the_jwt_payload() {
        let token = jwt(
            r#"{"aud":"499b84ac-1321-427f-aa17-267ca6975798","exp":1700000123,"tid":"72f988bf-86f1-41af-91ab-2d7cd011db47"}"#,
        );
        assert_eq!(
            claims(&token),
            Some(Claims {
                exp: Some(1_700_000_123),
                tenant: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into())
            })
        );
        let access = EntraToken::access_only(token, None).unwrap();
        assert_eq!(access.expires_at, Some(1_700_000_123));
        assert_eq!(
            access.tenant().as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        for opaque in [
            "opaque",
            "a.b",
            "a.!!!.c",
            jwt("[1]").as_str(),
            jwt(r#"{"tid":"../evil"}"#).as_str(),
        ] {
            assert_eq!(
                claims(opaque).and_then(|c| c.exp.or(c.tenant.map(|_| 0))),
                None,
                "{opaque}"
            );
        }
    }
}
