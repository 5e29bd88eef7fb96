//! The token issuer: the one place access tokens, refresh tokens and their response are
//! minted, for every grant and for the implicit flow. It makes the records to store and the
//! response to send; storing them (inside the claim of a code or refresh token, or alone) is
//! the caller's business.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::authorization::AuthorizationId;
use crate::client::Client;
use crate::error::StoreError;
use crate::id_token::{IdTokenClaims, IdTokenSubject};
use crate::policy::Policy;
use crate::scope::Scope;
use crate::secret::{Secret, TokenDigest};
use crate::signing::Signer;
use crate::token::{Token, TokenKind, TokenResponse};
use crate::user::UserId;

/// How access tokens look on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessTokenFormat {
    /// 256 random bits, base64url; resource servers check them by introspection or, inside
    /// Tessera, by their digest.
    #[default]
    Opaque,
}

/// Mints tokens for one server.
pub struct TokenIssuer {
    /// The issuer identifier (`TESSERA_ISSUER`): `iss` of everything it signs.
    pub issuer: String,
    /// How access tokens look.
    pub format: AccessTokenFormat,
    policy: Policy,
    signer: Arc<dyn Signer>,
}

/// What a set of new tokens is issued for.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    /// The family the tokens join.
    pub authorization_id: AuthorizationId,
    /// The client they are issued to.
    pub client: &'a Client,
    /// The user they act for; `None` for client credentials.
    pub user_id: Option<UserId>,
    /// The family's scope, which refresh tokens carry.
    pub granted_scope: &'a Scope,
    /// The access token's scope: the family's, or narrower on refresh.
    pub access_scope: &'a Scope,
    /// Whether a refresh token comes with it.
    pub with_refresh_token: bool,
    /// For a refresh: the digest of the refresh token the new tokens replace.
    pub rotated_from: Option<&'a TokenDigest>,
}

/// New tokens: the records to store (access token first) and the response that carries them.
#[derive(Debug, Clone)]
pub struct Minted {
    /// What to store; the secrets themselves are only in `response`.
    pub tokens: Vec<Token>,
    /// The token response (RFC 6749 §5.1).
    pub response: TokenResponse,
}

impl TokenIssuer {
    /// An issuer named `issuer` with the lifetimes of `policy`, signing with `signer`.
    pub fn new(issuer: impl Into<String>, policy: Policy, signer: Arc<dyn Signer>) -> Self {
        Self {
            issuer: issuer.into(),
            format: AccessTokenFormat::default(),
            policy,
            signer,
        }
    }

    /// The claims of a JWT this server signed with a key it still publishes (expired or not).
    pub fn verify(&self, jws: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.signer.verify(jws)
    }

    /// A signed ID token for `subject`, issued at `now`, living as long as an access token.
    /// Signing happens outside any storage transaction.
    pub fn id_token(
        &self,
        subject: &IdTokenSubject<'_>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let claims = IdTokenClaims::new(
            &self.issuer,
            subject,
            now,
            now + self.policy.access_token_ttl,
        );
        let claims = serde_json::to_value(claims)
            .map_err(|error| StoreError::Other(format!("ID token claims: {error}")))?;
        self.signer.sign(subject.client.id_token_alg, &claims)
    }

    /// Makes new tokens for `issue` at `now`, storing nothing.
    pub fn mint(&self, issue: &Issue<'_>, now: DateTime<Utc>) -> Minted {
        let record = |secret: &Secret, kind, scope: &Scope, ttl| Token {
            digest: secret.digest(),
            kind,
            authorization_id: issue.authorization_id,
            client_id: issue.client.id.clone(),
            user_id: issue.user_id,
            scope: scope.clone(),
            issued_at: now,
            expires_at: now + ttl,
            revoked_at: None,
            rotated_at: None,
            parent: issue.rotated_from.cloned(),
        };
        let access = match self.format {
            AccessTokenFormat::Opaque => Secret::generate(),
        };
        let mut tokens = vec![record(
            &access,
            TokenKind::Access,
            issue.access_scope,
            self.policy.access_token_ttl,
        )];
        let refresh = issue.with_refresh_token.then(Secret::generate);
        if let Some(refresh) = &refresh {
            tokens.push(record(
                refresh,
                TokenKind::Refresh,
                issue.granted_scope,
                self.policy.refresh_token_ttl,
            ));
        }
        Minted {
            tokens,
            response: TokenResponse {
                access_token: access.expose().to_owned(),
                token_type: "Bearer",
                expires_in: self.policy.access_token_ttl.num_seconds(),
                scope: issue.access_scope.to_string(),
                refresh_token: refresh.map(|secret| secret.expose().to_owned()),
                id_token: None,
            },
        }
    }
}
