//! Authorization codes (RFC 6749 §4.1.2): short-lived, single-use, bound to client,
//! redirect URI and PKCE challenge.

use chrono::{DateTime, Utc};

use crate::error::OAuthError;
use crate::grant::GrantId;
use crate::pkce::CodeChallenge;
use crate::scope::Scope;
use crate::secret::TokenDigest;
use crate::user::UserId;

/// A stored authorization code; the code itself is known only by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub digest: TokenDigest,
    /// The grant it belongs to.
    pub grant_id: GrantId,
    /// The client it was issued to.
    pub client_id: String,
    /// The user who approved it.
    pub user_id: UserId,
    /// The `redirect_uri` parameter as sent at authorization, which the token request must repeat.
    pub redirect_uri: Option<String>,
    /// The approved scope.
    pub scope: Scope,
    /// The PKCE challenge, if one was sent.
    pub challenge: Option<CodeChallenge>,
    /// The OpenID Connect nonce, if one was sent.
    pub nonce: Option<String>,
    /// When it was issued (the user's approval).
    pub created_at: DateTime<Utc>,
    /// When it stops being redeemable.
    pub expires_at: DateTime<Utc>,
}

/// What happened when a client presented a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// This call used the code up; the tokens were stored unless minting refused.
    Redeemed(Result<(), OAuthError>),
    /// The code belongs to this client but was used before.
    Reused(AuthorizationCode),
    /// Unknown, expired, or another client's: nothing changed.
    Unusable,
}
