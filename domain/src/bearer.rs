//! Bearer tokens at protected resources (RFC 6750). Tokens are accepted only in the
//! `Authorization` header (§2.1), never in the query string. An access token may be opaque
//! (found by its digest) or a JWT ([`crate::jwt_access_token`], verified and then checked
//! against the store); either way one read of the store decides, and anything else, however
//! malformed, is `invalid_token`.

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorCode, OAuthError, StoreError};
use crate::jwt_access_token::{looks_like_jwt, JwtAccessToken};
use crate::provider::Provider;
use crate::scope::Scope;
use crate::secret::TokenDigest;
use crate::store::Store;
use crate::token::{Token, TokenKind};
use crate::user::{User, UserId};

/// An access token that is active now, opaque or JWT: what it allows and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAccess {
    /// The client it was issued to.
    pub client_id: String,
    /// The user it acts for; `None` for client credentials.
    pub user_id: Option<UserId>,
    /// What it allows.
    pub scope: Scope,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

impl From<Token> for ActiveAccess {
    fn from(token: Token) -> Self {
        Self {
            client_id: token.client_id,
            user_id: token.user_id,
            scope: token.scope,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
        }
    }
}

impl From<JwtAccessToken> for ActiveAccess {
    fn from(token: JwtAccessToken) -> Self {
        Self {
            client_id: token.client_id,
            user_id: token.user_id,
            scope: token.scope,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header; `None` for no header or another
/// scheme (answered with a bare challenge, RFC 6750 §3.1).
pub fn token_from_header(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl<S: Store> Provider<S> {
    /// The active access token behind `access_token` if it carries `required_scope`.
    pub fn authenticate_bearer(
        &self,
        access_token: &str,
        required_scope: &str,
    ) -> Result<ActiveAccess, Error> {
        self.bearer_and_user(access_token, required_scope)
            .map(|(token, _)| token)
    }

    /// The access token `access_token` with its user (when it has one) if it is active now,
    /// opaque or JWT: one read of the store.
    pub(crate) fn active_access_token(
        &self,
        access_token: &str,
    ) -> Result<Option<(ActiveAccess, Option<User>)>, StoreError> {
        if looks_like_jwt(access_token) {
            return Ok(self
                .active_jwt_access_token(access_token)?
                .map(|(token, user)| (token.into(), user)));
        }
        let now = self.now();
        Ok(self
            .store
            .find_token_and_user(&TokenDigest::of(access_token))?
            .filter(|(token, user)| {
                token.kind == TokenKind::Access
                    && token.is_active(now)
                    && !user.as_ref().is_some_and(User::is_disabled)
            })
            .map(|(token, user)| (token.into(), user)))
    }

    /// The active access token behind `access_token`, if it carries `required_scope`, with
    /// its user (when it has one): one read of the store.
    fn bearer_and_user(
        &self,
        access_token: &str,
        required_scope: &str,
    ) -> Result<(ActiveAccess, Option<User>), Error> {
        let (token, user) = self.active_access_token(access_token)?.ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidToken,
                "The access token is invalid, expired or revoked.",
            )
        })?;
        if !token.scope.contains(required_scope) {
            return Err(insufficient_scope(required_scope).into());
        }
        Ok((token, user))
    }

    /// The user an access token acts for, if it carries `required_scope`. A token with no
    /// user (client credentials) is `insufficient_scope`: it cannot speak for anyone.
    pub fn resource_owner(&self, access_token: &str, required_scope: &str) -> Result<User, Error> {
        self.token_and_owner(access_token, required_scope)
            .map(|(_, user)| user)
    }

    /// The active access token behind `access_token` and its user, as
    /// [`Self::resource_owner`] checks them.
    pub fn token_and_owner(
        &self,
        access_token: &str,
        required_scope: &str,
    ) -> Result<(ActiveAccess, User), Error> {
        let (token, user) = self.bearer_and_user(access_token, required_scope)?;
        let user = user.ok_or_else(|| insufficient_scope(required_scope))?;
        Ok((token, user))
    }
}

fn insufficient_scope(required_scope: &str) -> OAuthError {
    OAuthError::new(
        ErrorCode::InsufficientScope,
        format!("This resource needs a user's token with the scope {required_scope}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bearer_scheme_yields_a_token() {
        assert_eq!(token_from_header(Some("Bearer abc")), Some("abc"));
        assert_eq!(token_from_header(Some("bearer abc")), Some("abc"));
        assert_eq!(token_from_header(Some("Basic abc")), None);
        assert_eq!(token_from_header(Some("Bearer ")), None);
        assert_eq!(token_from_header(None), None);
    }
}
