//! What an operator does to accounts (`tessera user ...`, `tessera sessions ...`): list and
//! look users up, disable and enable them, reset a password, delete an account, and list and
//! end browser sessions across users.
//!
//! A disabled user cannot sign in (the sign-in answer is the one for a wrong password) or
//! use the password grant, and disabling them ends their sessions and revokes every
//! authorization they gave, so their tokens stop working at once. Enabling them lets them
//! sign in again; what was revoked stays revoked.

use crate::browser_session::{BrowserSession, SessionId, SessionSelection};
use crate::error::StoreError;
use crate::provider::Provider;
use crate::store::Store;
use crate::user::{validate_password, User, UserId};

/// Why an operator's password reset was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// The new password breaks a rule; the text says which.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: Store> Provider<S> {
    /// Every user, oldest first.
    pub fn all_users(&self) -> Result<Vec<User>, StoreError> {
        self.store.all_users()
    }

    /// The user with this username.
    pub fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.store.find_user_by_name(username)
    }

    /// Disables the user now: their sessions end and every authorization they gave is
    /// revoked, in one step, and every token issued to them until now stays refused for
    /// good ([`User::tokens_valid_after`](crate::user::User::tokens_valid_after)); false if
    /// there is no such user.
    pub fn disable_user(&self, id: UserId) -> Result<bool, StoreError> {
        self.store.disable_user(id, self.now())
    }

    /// Lets a disabled user sign in again, with fresh tokens only; false if there is no such
    /// user.
    pub fn enable_user(&self, id: UserId) -> Result<bool, StoreError> {
        self.store.enable_user(id)
    }

    /// Gives the user a new password (checked by the sign-up rules) and ends every session
    /// of theirs; returns how many sessions ended.
    pub fn reset_password(&self, id: UserId, password: &str) -> Result<usize, ResetError> {
        validate_password(password).map_err(ResetError::Invalid)?;
        let hash = self.passwords.hash(password)?;
        self.store.set_password_hash(id, &hash)?;
        Ok(self.end_sessions(id, SessionSelection::All)?)
    }

    /// Deletes the user and everything of theirs (sessions, consents, tokens, and the
    /// clients they own); false if there is no such user.
    pub fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        self.store.delete_user(id)
    }

    /// Every live session of every user, the most recently started first.
    pub fn all_sessions(&self) -> Result<Vec<BrowserSession>, StoreError> {
        let mut sessions = self
            .store
            .all_live_sessions(self.now() - self.policy.session_ttl)?;
        sessions.sort_by_key(|session| std::cmp::Reverse(session.started_at));
        Ok(sessions)
    }

    /// The session with this id, ended or not.
    pub fn session(&self, id: SessionId) -> Result<Option<BrowserSession>, StoreError> {
        self.store.find_session(id)
    }
}

#[cfg(test)]
mod tests {
    use crate::scenarios::world;

    #[test]
    fn a_disabled_user_cannot_sign_in_until_enabled() {
        let w = world();
        assert!(w
            .provider
            .sign_in("alice", "correct horse")
            .unwrap()
            .is_some());
        assert!(w.provider.disable_user(w.user.id).unwrap());
        assert!(w
            .provider
            .sign_in("alice", "correct horse")
            .unwrap()
            .is_none());
        assert!(w.provider.enable_user(w.user.id).unwrap());
        assert!(w
            .provider
            .sign_in("alice", "correct horse")
            .unwrap()
            .is_some());
    }

    #[test]
    fn disabling_ends_sessions_and_a_reset_password_checks_the_rules() {
        let w = world();
        let session = w.provider.start_session(w.user.id, None).unwrap();
        assert!(w
            .provider
            .session_user(session.id, w.user.id)
            .unwrap()
            .is_some());
        assert_eq!(w.provider.all_sessions().unwrap().len(), 1);
        w.provider.disable_user(w.user.id).unwrap();
        assert!(w
            .provider
            .session_user(session.id, w.user.id)
            .unwrap()
            .is_none());
        assert!(w.provider.all_sessions().unwrap().is_empty());
        assert!(matches!(
            w.provider.reset_password(w.user.id, "short"),
            Err(super::ResetError::Invalid(_))
        ));
    }
}
