//! Sign-up and sign-in of resource owners.

use std::net::IpAddr;

use crate::error::StoreError;
use crate::provider::Provider;
use crate::store::Store;
use crate::throttle::{Lockout, ThrottleKey};
use crate::user::{validate_email, validate_password, validate_username, User, UserId};

/// The outcome of a throttled sign-in.
#[derive(Debug)]
pub enum SignIn {
    /// The username and password match this user.
    User(User),
    /// A wrong pair (or an unknown username); the failure engaged these lockouts.
    Refused {
        /// Lockouts this failure engaged, for logs.
        lockouts: Vec<Lockout>,
    },
    /// The username or the address is locked: try again after this many seconds.
    Locked {
        /// Seconds to wait.
        retry_after: u64,
    },
}

/// Why a sign-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    /// The username or password breaks a rule; the text says which.
    #[error("{0}")]
    Invalid(String),
    /// Someone already has this username.
    #[error("That username is taken.")]
    UsernameTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: Store> Provider<S> {
    /// Creates a user with a bcrypt-hashed password and, optionally, an email address.
    pub fn sign_up(
        &self,
        username: &str,
        password: &str,
        email: Option<&str>,
    ) -> Result<User, SignUpError> {
        validate_username(username).map_err(SignUpError::Invalid)?;
        validate_password(password).map_err(SignUpError::Invalid)?;
        if let Some(email) = email {
            validate_email(email).map_err(SignUpError::Invalid)?;
        }
        let user = User {
            id: UserId::generate(),
            username: username.to_owned(),
            password_hash: self.passwords.hash(password)?,
            created_at: self.now(),
            email: email.map(str::to_owned),
            disabled_at: None,
            tokens_valid_after: None,
        };
        match self.store.insert_user(&user) {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict) => Err(SignUpError::UsernameTaken),
            Err(error) => Err(error.into()),
        }
    }

    /// The user whose username and password these are; `None` for a wrong pair. Unknown
    /// usernames cost the same time as wrong passwords, and a disabled user's right password
    /// is refused like a wrong one, so the answer does not tell which accounts are disabled.
    pub fn sign_in(&self, username: &str, password: &str) -> Result<Option<User>, StoreError> {
        let user = self.store.find_user_by_name(username)?;
        let hash = user.as_ref().map(|user| user.password_hash.as_str());
        Ok(self
            .verify_password(password, hash)?
            .then_some(user)
            .flatten()
            .filter(|user| !user.is_disabled()))
    }

    /// [`Self::sign_in`] behind the brute-force throttle ([`crate::throttle`]): refused
    /// while the username or the address is locked (before any password check); a failure
    /// counts against both, a success resets the username.
    pub fn sign_in_throttled(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<SignIn, StoreError> {
        let user_key = ThrottleKey::user(username);
        let mut keys = vec![user_key.clone()];
        keys.extend(address.map(ThrottleKey::Address));
        if let Some(retry_after) = self.locked_for(&keys)? {
            return Ok(SignIn::Locked { retry_after });
        }
        match self.sign_in(username, password)? {
            Some(user) => {
                self.reset_failures(&user_key)?;
                Ok(SignIn::User(user))
            }
            None => Ok(SignIn::Refused {
                lockouts: self.record_failure(&keys)?,
            }),
        }
    }

    /// The user with this id.
    pub fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.store.find_user(id)
    }
}
