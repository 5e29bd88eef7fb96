//! The OpenID Connect UserInfo endpoint (Core §5.3): the claims an access token with scope
//! `openid` may read about its user, by scope (§5.4): `sub` always, `preferred_username` for
//! `profile`, `email` and `email_verified` for `email` when the user gave an address.

use serde::Serialize;

use crate::error::Error;
use crate::id_token::OPENID_SCOPE;
use crate::provider::Provider;
use crate::store::Store;

/// The claims UserInfo returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The user's UUID, as in the ID token.
    pub sub: String,
    /// The username (scope `profile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// The email address (scope `email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the address was verified (scope `email`); Tessera does not verify addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl<S: Store> Provider<S> {
    /// The claims `access_token` may read: it must be active, act for a user and carry
    /// `openid` (else `invalid_token` or `insufficient_scope`).
    pub fn userinfo(&self, access_token: &str) -> Result<UserInfo, Error> {
        let (token, user) = self.token_and_owner(access_token, OPENID_SCOPE)?;
        let email = token
            .scope
            .contains("email")
            .then_some(user.email)
            .flatten();
        Ok(UserInfo {
            sub: user.id.to_string(),
            preferred_username: token.scope.contains("profile").then_some(user.username),
            email_verified: email.as_ref().map(|_| false),
            email,
        })
    }
}
