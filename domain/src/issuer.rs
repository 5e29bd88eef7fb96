//! The token issuer: the one place access tokens, refresh tokens and their response are
//! minted, for every grant and for the implicit flow. It makes the records to store and the
//! response to send; storing them (inside the claim of a code or refresh token, or alone) is
//! the caller's business. An opaque access token is a record like a refresh token; a JWT
//! access token ([`crate::jwt_access_token`]) is signed here and has no record.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::authorization::AuthorizationId;
use crate::client::Client;
use crate::error::StoreError;
use crate::id_token::{IdTokenClaims, IdTokenSubject};
use crate::jwt_access_token::{AccessTokenClaims, AccessTokenFormat, ACCESS_TOKEN_ALG};
use crate::policy::Policy;
use crate::scope::Scope;
use crate::secret::{Secret, TokenDigest};
use crate::signing::{JwtType, Signer};
use crate::token::{Token, TokenKind, TokenResponse};
use crate::user::UserId;

/// Mints tokens for one server.
pub struct TokenIssuer {
    /// The issuer identifier (`TESSERA_ISSUER`): `iss` of everything it signs.
    pub issuer: String,
    policy: Policy,
    signer: Arc<dyn Signer>,
}

/// What a set of new tokens is issued for.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    /// The family the tokens join; `None` when no family is stored, which only a JWT access
    /// token alone can do without ([`TokenIssuer::needs_family`]).
    pub authorization_id: Option<AuthorizationId>,
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

/// New tokens: the records to store (an opaque access token first, then the refresh token)
/// and the response that carries them.
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
            policy,
            signer,
        }
    }

    /// The claims of a JWT of type `typ` this server signed with a key it still publishes
    /// (expired or not).
    pub fn verify(&self, jws: &str, typ: JwtType) -> Result<Option<serde_json::Value>, StoreError> {
        self.signer.verify(jws, typ)
    }

    /// How `client`'s access tokens look: its own choice, else the server's.
    pub fn format_for(&self, client: &Client) -> AccessTokenFormat {
        client
            .access_token_format
            .unwrap_or(self.policy.access_token_format)
    }

    /// Whether tokens for `client` (with a refresh token or not) need a stored family: an
    /// opaque access token or a refresh token does; a JWT access token alone does not.
    pub fn needs_family(&self, client: &Client, with_refresh_token: bool) -> bool {
        with_refresh_token || self.format_for(client) == AccessTokenFormat::Opaque
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
        self.signer
            .sign(subject.client.id_token_alg, JwtType::IdToken, &claims)
    }

    /// A signed JWT access token for `issue`, issued at `now` and expiring at `expires_at`.
    fn jwt_access_token(
        &self,
        issue: &Issue<'_>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let claims = AccessTokenClaims::new(
            &self.issuer,
            issue.client,
            issue.user_id,
            issue.authorization_id,
            issue.access_scope,
            (now, expires_at),
        );
        let claims = serde_json::to_value(claims)
            .map_err(|error| StoreError::Other(format!("access token claims: {error}")))?;
        self.signer
            .sign(ACCESS_TOKEN_ALG, JwtType::AccessToken, &claims)
    }

    /// Makes new tokens for `issue` at `now`, storing nothing; signing a JWT access token
    /// may fail. Tokens that need a record need the family of `issue`.
    pub fn mint(&self, issue: &Issue<'_>, now: DateTime<Utc>) -> Result<Minted, StoreError> {
        let record = |secret: &Secret, kind, scope: &Scope, ttl| {
            let authorization_id = issue
                .authorization_id
                .ok_or_else(|| StoreError::Other("a stored token needs a stored family".into()))?;
            Ok::<_, StoreError>(Token {
                digest: secret.digest(),
                kind,
                authorization_id,
                client_id: issue.client.id.clone(),
                user_id: issue.user_id,
                scope: scope.clone(),
                issued_at: now,
                expires_at: now + ttl,
                revoked_at: None,
                rotated_at: None,
                parent: issue.rotated_from.cloned(),
            })
        };
        let mut tokens = Vec::new();
        let (access_token, access_ttl) = match self.format_for(issue.client) {
            AccessTokenFormat::Opaque => {
                let secret = Secret::generate();
                let ttl = self.policy.access_token_ttl;
                tokens.push(record(&secret, TokenKind::Access, issue.access_scope, ttl)?);
                (secret.expose().to_owned(), ttl)
            }
            AccessTokenFormat::Jwt => {
                let ttl = self.policy.jwt_access_token_ttl;
                (self.jwt_access_token(issue, now, now + ttl)?, ttl)
            }
        };
        let refresh = issue.with_refresh_token.then(Secret::generate);
        if let Some(refresh) = &refresh {
            tokens.push(record(
                refresh,
                TokenKind::Refresh,
                issue.granted_scope,
                self.policy.refresh_token_ttl,
            )?);
        }
        Ok(Minted {
            tokens,
            response: TokenResponse {
                access_token,
                token_type: "Bearer",
                expires_in: access_ttl.num_seconds(),
                scope: issue.access_scope.to_string(),
                refresh_token: refresh.map(|secret| secret.expose().to_owned()),
                id_token: None,
            },
        })
    }
}
