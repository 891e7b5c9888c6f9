//! The refresh grant: a refresh token redeemed for a new access token (and,
//! with rotation, a new refresh token). When to renew and what to store is
//! policy: `crate::auth::renewal`.

use crate::credential::entra::{EntraToken, RefreshGrant};
use crate::entra::SCOPE;
use crate::entra::device_code::refused;
use crate::entra::sign_in::endpoint;
use crate::entra::token::{OAuthError, TokenAnswer};
use crate::entra::transport::Authority;
use crate::error::Error;
use crate::service_url::ServiceUrl;

/// Why a refresh did not give a new token.
#[derive(Debug)]
pub enum RefreshError {
    /// The authority turned the refresh token down (OAuth error): sign in again.
    Rejected(String),
    /// The request failed (network, server): the refresh token may still be good.
    Failed(Error),
}

/// Redeems the refresh token for a new access token (and refresh token).
pub async fn refresh<A: Authority>(
    authority: &A,
    grant: &RefreshGrant,
    now: u64,
) -> std::result::Result<EntraToken, RefreshError> {
    let base = ServiceUrl::parse(&grant.authority)
        .map_err(|_| RefreshError::Rejected("the stored authority URL is not usable".into()))?;
    let token_endpoint = endpoint(&base, "token");
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", grant.client_id.as_str()),
        ("refresh_token", grant.refresh_token.as_str()),
        ("scope", SCOPE),
    ];
    let answer = authority
        .post(&token_endpoint, &form)
        .await
        .map_err(RefreshError::Failed)?;
    if answer.status == 200 {
        return TokenAnswer::parse(&answer.body)
            .ok_or_else(|| {
                RefreshError::Failed(Error::Authority {
                    authority: token_endpoint.to_string(),
                    status: Some(200),
                    reason: "the token answer has no usable access token".into(),
                })
            })?
            .into_token(now, Some(grant.clone()))
            .map_err(RefreshError::Failed);
    }
    match OAuthError::parse(&answer.body) {
        Some(oauth) if (400..500).contains(&answer.status) => {
            Err(RefreshError::Rejected(oauth.to_string()))
        }
        _ => Err(RefreshError::Failed(refused(&token_endpoint, &answer))),
    }
}
