//! Access and refresh tokens (RFC 6749 §1.4, §1.5) as stored, and the token response (§5.1).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::OAuthError;
use crate::grant::GrantId;
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
    /// The grant it was issued under.
    pub grant_id: GrantId,
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
    /// When it, or its whole grant, was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// For refresh tokens: when it was exchanged for a new pair.
    pub rotated_at: Option<DateTime<Utc>>,
}

impl Token {
    /// Whether it may be used at `now`: not expired, revoked, or (for refresh tokens) rotated.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.rotated_at.is_none() && self.expires_at > now
    }
}

/// What happened when a client presented a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// This call rotated the token; the tokens were stored unless minting refused.
    Rotated(Result<(), OAuthError>),
    /// The token belongs to this client and was rotated before.
    AlreadyRotated(Token),
    /// Unknown, expired, revoked, or another client's: nothing changed.
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
}
