//! An authorization: the family of tokens issued under one approval — a user's consent at the
//! authorization endpoint, a password grant, or a client acting for itself. Codes and tokens
//! belong to one authorization; revoking it revokes every token of the family, including
//! those a concurrent refresh inserts later. What a user agreed to share with a client, across
//! authorizations, is a [`Consent`](crate::consent::Consent).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::scope::Scope;
use crate::user::UserId;

/// An authorization's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorizationId(pub Uuid);

impl AuthorizationId {
    /// A fresh random identifier.
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }
}

/// One family of tokens issued to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Identifier.
    pub id: AuthorizationId,
    /// The client it was given to.
    pub client_id: String,
    /// The user who gave it; `None` for client credentials.
    pub user_id: Option<UserId>,
    /// The scope granted; refresh tokens never exceed it.
    pub scope: Scope,
    /// When the user last signed in before giving it (OpenID Connect `auth_time`).
    pub auth_time: Option<DateTime<Utc>>,
    /// The OpenID Connect `nonce` of the authorization request, repeated in its first ID token.
    pub nonce: Option<String>,
    /// The browser session that approved it (none for grants without a browser).
    pub session_id: Option<String>,
    /// When it was given.
    pub created_at: DateTime<Utc>,
}

impl Authorization {
    /// A new authorization given now, with no sign-in time, nonce or session.
    pub fn new(client_id: &str, user_id: Option<UserId>, scope: Scope, now: DateTime<Utc>) -> Self {
        Self {
            id: AuthorizationId::generate(),
            client_id: client_id.to_owned(),
            user_id,
            scope,
            auth_time: None,
            nonce: None,
            session_id: None,
            created_at: now,
        }
    }
}
