//! Token revocation (RFC 7009). Revoking a refresh token revokes its whole family (authorization), so the
//! access tokens issued from it die too. Revoking a JWT access token puts its `jti` on the
//! deny-list until it expires ([`crate::jwt_access_token`]).

use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::jwt_access_token::looks_like_jwt;
use crate::params::Params;
use crate::provider::Provider;
use crate::secret::TokenDigest;
use crate::store::Store;
use crate::token::TokenKind;

impl<S: Store> Provider<S> {
    /// Revokes the `token` parameter for `client`. Unknown tokens succeed silently (RFC 7009
    /// §2.2); `token_type_hint` is only a hint and unknown hints are ignored; another
    /// client's token is `unauthorized_client` and stays valid.
    pub fn revoke(&self, client: &Client, params: &Params) -> Result<(), Error> {
        let token = params.required("token")?;
        params.single("token_type_hint")?;
        if looks_like_jwt(token) {
            return self.revoke_jwt_access_token(client, token);
        }
        let Some(token) = self.store.find_token(&TokenDigest::of(token))? else {
            return Ok(());
        };
        if token.client_id != client.id {
            return Err(OAuthError::unauthorized_client(
                "The token was not issued to this client.",
            )
            .into());
        }
        let now = self.now();
        match token.kind {
            TokenKind::Refresh => self
                .store
                .revoke_authorization(token.authorization_id, now)?,
            TokenKind::Access => self.store.revoke_token(&token.digest, now)?,
        }
        Ok(())
    }
}
