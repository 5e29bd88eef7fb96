//! A grant: one authorization a user (or a client, for itself) gave a client. Codes and tokens
//! belong to a grant; revoking the grant revokes every token issued under it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::scope::Scope;
use crate::user::UserId;

/// A grant's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GrantId(pub Uuid);

impl GrantId {
    /// A fresh random identifier.
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }
}

/// One authorization given to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Identifier.
    pub id: GrantId,
    /// The client it was given to.
    pub client_id: String,
    /// The user who gave it; `None` for client credentials.
    pub user_id: Option<UserId>,
    /// The scope granted; refresh tokens never exceed it.
    pub scope: Scope,
    /// When it was given.
    pub created_at: DateTime<Utc>,
}

impl Grant {
    /// A new grant given now.
    pub fn new(client_id: &str, user_id: Option<UserId>, scope: Scope, now: DateTime<Utc>) -> Self {
        Self {
            id: GrantId::generate(),
            client_id: client_id.to_owned(),
            user_id,
            scope,
            created_at: now,
        }
    }
}
