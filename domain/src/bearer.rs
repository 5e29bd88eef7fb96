//! Bearer tokens at protected resources (RFC 6750). Tokens are accepted only in the
//! `Authorization` header (§2.1), never in the query string.

use crate::error::{Error, ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::secret::TokenDigest;
use crate::store::Store;
use crate::token::{Token, TokenKind};
use crate::user::User;

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
    ) -> Result<Token, Error> {
        self.bearer_and_user(access_token, required_scope)
            .map(|(token, _)| token)
    }

    /// The active access token behind `access_token`, if it carries `required_scope`, with
    /// its user (when it has one): one read of the store.
    fn bearer_and_user(
        &self,
        access_token: &str,
        required_scope: &str,
    ) -> Result<(Token, Option<User>), Error> {
        let now = self.now();
        let (token, user) = self
            .store
            .find_token_and_user(&TokenDigest::of(access_token))?
            .filter(|(token, _)| token.kind == TokenKind::Access && token.is_active(now))
            .ok_or_else(|| {
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
    ) -> Result<(Token, User), Error> {
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
