//! Authorization codes (RFC 6749 §4.1.2): short-lived, single-use, bound to client,
//! redirect URI and PKCE challenge.

use chrono::{DateTime, Utc};

use crate::authorization::AuthorizationId;
use crate::pkce::CodeChallenge;
use crate::scope::Scope;
use crate::secret::TokenDigest;
use crate::user::UserId;

/// A stored authorization code; the code itself is known only by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub digest: TokenDigest,
    /// The authorization (token family) it belongs to.
    pub authorization_id: AuthorizationId,
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
    /// When it was issued (the user's approval).
    pub created_at: DateTime<Utc>,
    /// When it stops being redeemable.
    pub expires_at: DateTime<Utc>,
    /// When it was redeemed (or burned by a failed redemption).
    pub used_at: Option<DateTime<Utc>>,
}

impl AuthorizationCode {
    /// What presenting this code at `now` on behalf of `client_id` amounts to.
    pub fn status_for(&self, client_id: &str, now: DateTime<Utc>) -> CodeStatus {
        match self.used_at {
            _ if self.client_id != client_id => CodeStatus::Unusable,
            Some(_) => CodeStatus::Replayed,
            None if self.expires_at > now => CodeStatus::Redeemable,
            None => CodeStatus::Unusable,
        }
    }
}

/// What presenting a code amounts to (RFC 6749 §4.1.2, §10.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStatus {
    /// Unused and unexpired, and this client's: it may be redeemed once.
    Redeemable,
    /// This client's, and used before: a replay, which revokes what the code issued.
    Replayed,
    /// Expired, or another client's: refused, and nothing changes.
    Unusable,
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn code(used_at: Option<DateTime<Utc>>) -> AuthorizationCode {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        AuthorizationCode {
            digest: crate::secret::Secret::generate().digest(),
            authorization_id: AuthorizationId::generate(),
            client_id: "client".into(),
            user_id: UserId::generate(),
            redirect_uri: None,
            scope: Scope::default(),
            challenge: None,
            created_at: now,
            expires_at: now + Duration::minutes(5),
            used_at,
        }
    }

    #[test]
    fn a_code_is_redeemable_only_unused_unexpired_and_by_its_client() {
        let fresh = code(None);
        let now = fresh.created_at;
        assert_eq!(fresh.status_for("client", now), CodeStatus::Redeemable);
        assert_eq!(fresh.status_for("other", now), CodeStatus::Unusable);
        assert_eq!(
            fresh.status_for("client", fresh.expires_at),
            CodeStatus::Unusable
        );
        let used = code(Some(now));
        assert_eq!(used.status_for("client", now), CodeStatus::Replayed);
        assert_eq!(
            used.status_for("client", now + Duration::days(1)),
            CodeStatus::Replayed
        );
        assert_eq!(used.status_for("other", now), CodeStatus::Unusable);
    }
}
