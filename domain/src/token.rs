//! Access and refresh tokens (RFC 6749 §1.4, §1.5) as stored, and the token response (§5.1).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::authorization::AuthorizationId;
use crate::scope::Scope;
use crate::secret::TokenDigest;
use crate::user::UserId;

/// Which kind of token a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer access token (RFC 6750).
    Access,
    /// A refresh token; single use, rotated on every refresh.
    Refresh,
}

impl TokenKind {
    /// The wire name, as in `token_type_hint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access_token",
            Self::Refresh => "refresh_token",
        }
    }
}

/// A stored token; the token itself is known only by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// SHA-256 of the token.
    pub digest: TokenDigest,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The authorization (token family) it was issued under.
    pub authorization_id: AuthorizationId,
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
    /// When it, or its whole family, was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// For refresh tokens: when it was exchanged for a new pair.
    pub rotated_at: Option<DateTime<Utc>>,
    /// For tokens minted by a refresh: the digest of the refresh token they replaced.
    pub parent: Option<TokenDigest>,
}

impl Token {
    /// Whether it may be used at `now`: not expired, revoked, or (for refresh tokens) rotated.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.rotated_at.is_none() && self.expires_at > now
    }

    /// What presenting this token as a refresh token at `now` on behalf of `client_id`
    /// amounts to.
    pub fn refresh_status_for(&self, client_id: &str, now: DateTime<Utc>) -> RefreshStatus {
        if self.kind != TokenKind::Refresh || self.client_id != client_id {
            RefreshStatus::Unusable
        } else if self.rotated_at.is_some() {
            RefreshStatus::Rotated
        } else if self.is_active(now) {
            RefreshStatus::Rotatable
        } else {
            RefreshStatus::Unusable
        }
    }
}

/// What presenting a refresh token amounts to (RFC 6749 §6, RFC 9700 §4.14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshStatus {
    /// Active and this client's: it may be exchanged once for a new pair.
    Rotatable,
    /// This client's, and exchanged before: a reuse, which revokes the whole family (unless
    /// it is a retry within the grace period).
    Rotated,
    /// Unknown, expired, revoked, not a refresh token, or another client's.
    Unusable,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The scope granted, space separated.
    pub scope: String,
    /// A refresh token, when the client may refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// An OpenID Connect ID token, when the scope holds `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
