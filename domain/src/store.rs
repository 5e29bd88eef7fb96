//! The storage the domain needs, as synchronous traits. `tessera-persistence` implements them
//! with Diesel (called off the async executor); tests use in-memory fakes.

use chrono::{DateTime, Utc};

use crate::client::Client;
use crate::code::{AuthorizationCode, CodeRedemption};
use crate::error::{OAuthError, StoreError};
use crate::grant::{Grant, GrantId};
use crate::secret::TokenDigest;
use crate::signing_key::SigningKey;
use crate::token::{RefreshRotation, Token};
use crate::user::{User, UserId};

/// Where users live.
pub trait UserStore: Send + Sync {
    /// Adds a user; [`StoreError::Conflict`] if the username is taken.
    fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user with this id.
    fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user with this username.
    fn find_user_by_name(&self, username: &str) -> Result<Option<User>, StoreError>;
}

/// Where clients live.
pub trait ClientStore: Send + Sync {
    /// Adds a client.
    fn insert_client(&self, client: &Client) -> Result<(), StoreError>;
    /// The client with this `client_id`.
    fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    /// The clients a user registered, oldest first.
    fn clients_of(&self, owner: UserId) -> Result<Vec<Client>, StoreError>;
    /// Deletes a client the owner registered, with its codes, grants and tokens; false if
    /// there is no such client of this owner.
    fn delete_client(&self, client_id: &str, owner: UserId) -> Result<bool, StoreError>;
    /// Replaces the secret digest of a client the owner registered; false if there is no
    /// such client of this owner.
    fn set_client_secret(
        &self,
        client_id: &str,
        owner: UserId,
        digest: &TokenDigest,
    ) -> Result<bool, StoreError>;
}

/// Where grants live.
pub trait GrantStore: Send + Sync {
    /// Adds a grant.
    fn insert_grant(&self, grant: &Grant) -> Result<(), StoreError>;
    /// Revokes a grant and so every token issued under it, now and later.
    fn revoke_grant(&self, id: GrantId, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Makes the tokens to store for a redeemed code or a rotated refresh token, or refuses.
pub type Mint<'a, T> = &'a mut dyn FnMut(&T) -> Result<Vec<Token>, OAuthError>;

/// Where authorization codes live.
pub trait CodeStore: Send + Sync {
    /// Adds a code (its grant must exist).
    fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError>;
    /// In one transaction: marks the code used if it is this client's, unused and unexpired,
    /// then stores the tokens `mint` makes from it. If `mint` refuses, the code stays used and
    /// nothing else is stored; if storage fails, nothing changes at all. Of any number of
    /// concurrent calls at most one gets [`CodeRedemption::Redeemed`].
    fn redeem_code(
        &self,
        digest: &TokenDigest,
        client_id: &str,
        now: DateTime<Utc>,
        mint: Mint<'_, AuthorizationCode>,
    ) -> Result<CodeRedemption, StoreError>;
}

/// Where access and refresh tokens live.
pub trait TokenStore: Send + Sync {
    /// Adds tokens together, all or none (their grant must exist).
    fn insert_tokens(&self, tokens: &[Token]) -> Result<(), StoreError>;
    /// The token with this digest; `revoked_at` is set when the token or its grant was revoked.
    fn find_token(&self, digest: &TokenDigest) -> Result<Option<Token>, StoreError>;
    /// In one transaction: marks a refresh token rotated if it is this client's and active
    /// (its grant unrevoked), then stores the tokens `mint` makes from it. If `mint` refuses,
    /// the token stays rotated and nothing else is stored; if storage fails, nothing changes.
    /// Of any number of concurrent calls at most one gets [`RefreshRotation::Rotated`].
    fn rotate_refresh_token(
        &self,
        digest: &TokenDigest,
        client_id: &str,
        now: DateTime<Utc>,
        mint: Mint<'_, Token>,
    ) -> Result<RefreshRotation, StoreError>;
    /// Revokes one token (idempotent).
    fn revoke_token(&self, digest: &TokenDigest, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Where server-wide settings (such as the session key) live, shared by every process.
pub trait SettingStore: Send + Sync {
    /// The value stored under `name`; if there is none, stores `value` and returns it. Two
    /// processes racing agree on one value.
    fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError>;
}

/// Where the server's signing keys live, shared by every process on the database. Keys are
/// only added; which one signs and which are published follows from them
/// ([`crate::signing_key`]).
pub trait SigningKeyStore: Send + Sync {
    /// Adds a key (a rotation); [`StoreError::Conflict`] if its `kid` is taken.
    fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError>;
    /// Adds `key` as the first key of its algorithm, unless one was added before: of any
    /// number of processes racing, exactly one stores its key. True if this key was stored.
    fn insert_first_signing_key(&self, key: &SigningKey) -> Result<bool, StoreError>;
    /// Every key, oldest first.
    fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError>;
}

/// Everything the domain stores.
pub trait Store:
    UserStore + ClientStore + GrantStore + CodeStore + TokenStore + SettingStore + SigningKeyStore
{
}

impl<T> Store for T where
    T: UserStore
        + ClientStore
        + GrantStore
        + CodeStore
        + TokenStore
        + SettingStore
        + SigningKeyStore
{
}
