//! The [`Provider`]: the authorization server's operations over a [`Store`]. Every method is
//! synchronous and may block on storage or password hashing; call it off the async executor.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::error::StoreError;
use crate::issuer::TokenIssuer;
use crate::policy::Policy;
use crate::signing::Signer;
use crate::store::Store;
use crate::user::PasswordHasher;

/// The authorization server: storage, time, password hashing and policy.
pub struct Provider<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) passwords: Arc<dyn PasswordHasher>,
    pub(crate) policy: Policy,
    pub(crate) issuer: TokenIssuer,
    dummy_hash: OnceLock<String>,
}

impl<S: Store> Provider<S> {
    /// A provider over `store` that names itself `issuer` (`TESSERA_ISSUER`) and signs ID
    /// tokens with `signer`.
    pub fn new(
        store: S,
        clock: Arc<dyn Clock>,
        passwords: Arc<dyn PasswordHasher>,
        policy: Policy,
        issuer: &str,
        signer: Arc<dyn Signer>,
    ) -> Self {
        Self {
            store,
            clock,
            passwords,
            issuer: TokenIssuer::new(issuer, policy.clone(), signer),
            policy,
            dummy_hash: OnceLock::new(),
        }
    }

    /// The issuer identifier: `iss` of everything it signs.
    pub fn issuer(&self) -> &str {
        &self.issuer.issuer
    }

    /// The current time from its clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Checks `password` against `hash`, or against a dummy hash when there is no user, so
    /// that unknown usernames take as long as wrong passwords.
    pub(crate) fn verify_password(
        &self,
        password: &str,
        hash: Option<&str>,
    ) -> Result<bool, StoreError> {
        match hash {
            Some(hash) => Ok(self.passwords.verify(password, hash)),
            None => {
                let dummy = match self.dummy_hash.get() {
                    Some(dummy) => dummy,
                    None => {
                        let hash = self.passwords.hash("tessera dummy password")?;
                        self.dummy_hash.get_or_init(|| hash)
                    }
                };
                self.passwords.verify(password, dummy);
                Ok(false)
            }
        }
    }
}
