//! The storage the domain needs, as synchronous traits. `tessera-persistence` implements them
//! with Diesel (called off the async executor); tests use in-memory fakes.

use chrono::{DateTime, Duration, Utc};

use crate::authorization::{Authorization, AuthorizationId};
use crate::browser_session::{BrowserSession, SessionId, SessionSelection};
use crate::claim::Claim;
use crate::client::Client;
use crate::code::AuthorizationCode;
use crate::consent::Consent;
use crate::device_code::{DeviceAnswer, DeviceCode};
use crate::error::StoreError;
use crate::jwt_access_token::{JwtAccessToken, JwtStanding};
use crate::purge::{
    AuthorizationCutoff, CodeCutoff, DeviceCodeCutoff, PushedRequestCutoff,
    RegistrationTokenCutoff, RevokedJwtCutoff, SessionCutoff, ThrottleCutoff, TokenCutoff,
};
use crate::pushed_request::PushedRequest;
use crate::registration::StoredInitialAccessToken;
use crate::secret::TokenDigest;
use crate::signing_key::SigningKey;
use crate::token::Token;
use crate::user::{User, UserId};

/// Where users live.
pub trait UserStore: Send + Sync {
    /// Adds a user; [`StoreError::Conflict`] if the username is taken.
    fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user with this id.
    fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user with this username.
    fn find_user_by_name(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// Replaces the user's password hash.
    fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<(), StoreError>;
    /// Every user, oldest first (users made in the same second in username order).
    fn all_users(&self) -> Result<Vec<User>, StoreError>;
    /// In one transaction: marks the user disabled at `now` (one disabled before keeps its
    /// first time), records `now` as their `tokens_valid_after` (unless that is later
    /// already), ends every session of theirs not ended, and revokes every authorization
    /// they gave, so that all their tokens stop working; false if there is no such user.
    fn disable_user(&self, id: UserId, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Lets a disabled user sign in again; what was revoked stays revoked and
    /// `tokens_valid_after` stays, so no token issued before the disable works again. False
    /// if there is no such user.
    fn enable_user(&self, id: UserId) -> Result<bool, StoreError>;
    /// Deletes the user with everything of theirs: sessions, consents, authorizations with
    /// their codes and tokens, device authorizations they answered, and the clients they own
    /// with everything issued to those; false if there is no such user.
    fn delete_user(&self, id: UserId) -> Result<bool, StoreError>;
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
    /// Replaces the secret digest, and nothing else, of the confidential client
    /// `client_id` if `owner` is `None` (an operator) or owns it; false if there is no such
    /// confidential client (of that owner): a public client never gets a secret.
    fn set_client_secret(
        &self,
        client_id: &str,
        owner: Option<UserId>,
        digest: &TokenDigest,
    ) -> Result<bool, StoreError>;
    /// Every client, oldest first.
    fn all_clients(&self) -> Result<Vec<Client>, StoreError>;
    /// Replaces the metadata and secret digest of the client `client.id` — everything but
    /// its id, owner, registration time, registration access token digest and whether it
    /// registered dynamically — if `owner` is `None` (an operator) or owns it; false if
    /// there is no such client (of that owner).
    fn edit_client(&self, client: &Client, owner: Option<UserId>) -> Result<bool, StoreError>;
    /// Deletes the client, whoever owns it, with its codes, grants and tokens (an
    /// operator's `tessera client delete`); false if there is no such client.
    fn delete_any_client(&self, client_id: &str) -> Result<bool, StoreError>;
    /// Replaces everything of the client `client.id` but its owner and registration time
    /// (RFC 7592 §2.2) if its registration access token digest is still `token`; false if
    /// it is not (another update won, or the client is gone).
    fn update_client(&self, client: &Client, token: &TokenDigest) -> Result<bool, StoreError>;
    /// Deletes the client, with its codes, grants and tokens, if its registration access
    /// token digest is `token`; false if there is no such client.
    fn delete_managed_client(
        &self,
        client_id: &str,
        token: &TokenDigest,
    ) -> Result<bool, StoreError>;
    /// Gives the client an owner if it has none and its registration access token digest is
    /// `token`; false otherwise.
    fn claim_client(
        &self,
        client_id: &str,
        token: &TokenDigest,
        owner: UserId,
    ) -> Result<bool, StoreError>;
}

/// Where initial access tokens for dynamic registration (RFC 7591 §3) live.
pub trait RegistrationTokenStore: Send + Sync {
    /// Adds an initial access token.
    fn insert_registration_token(&self, token: &StoredInitialAccessToken)
        -> Result<(), StoreError>;
    /// In one transaction: spends one use of the initial access token `token` if it is live
    /// at `now` (known, not expired, uses left) and adds `client`; false, with nothing
    /// changed, when the token is not live. Of concurrent registrations spending a token's
    /// last use, one succeeds.
    fn insert_client_spending_token(
        &self,
        client: &Client,
        token: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Where authorizations (token families) live.
pub trait AuthorizationStore: Send + Sync {
    /// Adds an authorization.
    fn insert_authorization(&self, authorization: &Authorization) -> Result<(), StoreError>;
    /// Adds an authorization and the first tokens issued under it, all or none.
    fn insert_authorization_with_tokens(
        &self,
        authorization: &Authorization,
        tokens: &[Token],
    ) -> Result<(), StoreError>;
    /// The authorization with this id, revoked or not.
    fn find_authorization(&self, id: AuthorizationId) -> Result<Option<Authorization>, StoreError>;
    /// Revokes an authorization and so every token issued under it, now and later.
    fn revoke_authorization(
        &self,
        id: AuthorizationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Where authorization codes live.
pub trait CodeStore: Send + Sync {
    /// Adds a code (its authorization must exist).
    fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError>;
    /// The code with this digest, used or not.
    fn find_code(&self, digest: &TokenDigest) -> Result<Option<AuthorizationCode>, StoreError>;
    /// In one transaction: marks the code used if it is unused and unexpired, and stores
    /// `tokens` with it (all or none). Of any number of concurrent calls at most one gets
    /// [`Claim::Won`]; if storage fails, nothing changes at all.
    fn claim_code(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<Claim<AuthorizationCode>, StoreError>;
}

/// Where device authorizations live (RFC 8628, [`crate::device_code`]).
pub trait DeviceCodeStore: Send + Sync {
    /// Adds a device authorization (its client must exist, its user code be unique).
    fn insert_device_code(&self, code: &DeviceCode) -> Result<(), StoreError>;
    /// The device authorization with this device code digest, in any state.
    fn find_device_code(&self, digest: &TokenDigest) -> Result<Option<DeviceCode>, StoreError>;
    /// The device authorization with this user code digest, in any state.
    fn find_device_code_by_user_code(
        &self,
        user_code: &TokenDigest,
    ) -> Result<Option<DeviceCode>, StoreError>;
    /// Records a user's answer if the authorization is pending and unexpired at `now`, in
    /// one conditional write; `false` when nothing changed.
    fn answer_device_code(
        &self,
        user_code: &TokenDigest,
        answer: &DeviceAnswer,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records a poll at `now`, with the interval the device must now keep.
    fn record_device_poll(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        interval: Duration,
    ) -> Result<(), StoreError>;
    /// Marks an approved, unredeemed, unexpired authorization redeemed at `now` in one
    /// conditional write, and stores `authorization` (when the tokens need a family) and
    /// `tokens` in the same transaction: of concurrent calls at most one gets
    /// [`Claim::Won`]; one already redeemed is [`Claim::Taken`].
    fn claim_device_code(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        authorization: Option<&Authorization>,
        tokens: &[Token],
    ) -> Result<Claim<DeviceCode>, StoreError>;
}

/// Where pushed authorization requests live (RFC 9126, [`crate::pushed_request`]).
pub trait PushedRequestStore: Send + Sync {
    /// Adds a pushed request (its client must exist).
    fn insert_pushed_request(&self, pushed: &PushedRequest) -> Result<(), StoreError>;
    /// The pushed request with this digest, used or not, expired or not.
    fn find_pushed_request(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PushedRequest>, StoreError>;
    /// Marks the request used if it is unused and unexpired at `now`, in one conditional
    /// write: of any number of concurrent calls at most one gets [`Claim::Won`], with the
    /// request's parameters.
    fn claim_pushed_request(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Claim<PushedRequest>, StoreError>;
}

/// Where access and refresh tokens live.
pub trait TokenStore: Send + Sync {
    /// Adds tokens together, all or none (their authorization must exist).
    fn insert_tokens(&self, tokens: &[Token]) -> Result<(), StoreError>;
    /// The token with this digest; `revoked_at` is set when the token or its authorization
    /// was revoked.
    fn find_token(&self, digest: &TokenDigest) -> Result<Option<Token>, StoreError>;
    /// [`Self::find_token`] and, in the same read, the token's user: `None` when the token
    /// acts for no user or its user is gone.
    fn find_token_and_user(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(Token, Option<User>)>, StoreError>;
    /// In one transaction: marks a refresh token rotated if it is unrotated, unrevoked and
    /// unexpired and its authorization unrevoked, and stores `tokens` with it (all or none).
    /// Of any number of concurrent calls at most one gets [`Claim::Won`]; if storage fails,
    /// nothing changes at all.
    fn claim_refresh_token(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<Claim<Token>, StoreError>;
    /// Revokes one token (idempotent).
    fn revoke_token(&self, digest: &TokenDigest, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// A retry of the rotation of the refresh token `parent`, in one transaction serialized
    /// with any other retry of it: unless a refresh token minted from `parent` was itself
    /// rotated since (false, nothing changed), revokes every token minted from `parent` and
    /// stores `tokens` (minted from `parent` too) in their place.
    fn retry_rotation(
        &self,
        parent: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<bool, StoreError>;
}

/// Where what JWT access tokens refer to is checked, and where those revoked before their
/// expiry are listed by `jti` ([`crate::jwt_access_token`]): the tokens themselves are
/// stored nowhere.
pub trait RevokedJwtStore: Send + Sync {
    /// Puts `jti` on the deny-list until `expires_at` (idempotent: the first entry stays).
    fn revoke_jwt(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError>;
    /// In one read: whether `token`'s `jti` is on the deny-list, whether the family it names
    /// is live, and the user it names; `None` when its client no longer exists.
    fn jwt_standing(&self, token: &JwtAccessToken) -> Result<Option<JwtStanding>, StoreError>;
}

/// Where remembered consents live, one per user and client.
pub trait ConsentStore: Send + Sync {
    /// Stores a consent, replacing the user's earlier one for that client.
    fn record_consent(&self, consent: &Consent) -> Result<(), StoreError>;
    /// The user's consent for this client.
    fn find_consent(&self, user_id: UserId, client_id: &str)
        -> Result<Option<Consent>, StoreError>;
    /// Every consent the user gave.
    fn consents_of(&self, user_id: UserId) -> Result<Vec<Consent>, StoreError>;
    /// In one transaction: deletes the consent and revokes every authorization of that user
    /// and client; false if there was no consent.
    fn withdraw_consent(
        &self,
        user_id: UserId,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Where server-wide settings (such as the session key) live, shared by every process.
pub trait SettingStore: Send + Sync {
    /// The value stored under `name`; if there is none, stores `value` and returns it. Two
    /// processes racing agree on one value.
    fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError>;
}

/// Where the server's signing keys live, shared by every process on the database. Keys are
/// only added (a private key may be sealed again under a new secret); which one signs and
/// which are published follows from them ([`crate::signing_key`]).
pub trait SigningKeyStore: Send + Sync {
    /// Adds a key (a rotation); [`StoreError::Conflict`] if its `kid` is taken.
    fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError>;
    /// Adds `key` as the first key of its algorithm, unless one was added before: of any
    /// number of processes racing, exactly one stores its key. True if this key was stored.
    fn insert_first_signing_key(&self, key: &SigningKey) -> Result<bool, StoreError>;
    /// Every key, oldest first.
    fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError>;
    /// Replaces the stored private key of `resealed.kid` with `resealed.private_key` and its
    /// protection, if it is still `was` (of processes re-sealing one key together, one
    /// replaces it). Nothing else of the key changes. True if this call replaced it.
    fn reseal_signing_key(&self, resealed: &SigningKey, was: &str) -> Result<bool, StoreError>;
}

/// Where brute-force failure counters live ([`crate::throttle`]), shared by every process.
/// Keys are [`ThrottleKey::as_stored`](crate::throttle::ThrottleKey::as_stored) strings.
pub trait ThrottleStore: Send + Sync {
    /// When the key is locked until, if that is after `now`.
    fn throttle_locked_until(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Counts one failure at `now` (failures before `window_start` no longer count); when the
    /// count reaches `limit`, locks the key for `lockout(earlier lockouts)` and starts the
    /// count again. Returns the lock's end when this failure engaged it. Correct under any
    /// number of concurrent calls: each failure counts once and one lockout engages per run.
    fn record_throttle_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        limit: u32,
        lockout: fn(u32) -> chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Forgets the key's failures and lockouts.
    fn reset_throttle(&self, key: &str) -> Result<(), StoreError>;
}

/// Where browser sessions are recorded ([`crate::browser_session`]), shared by every process.
pub trait SessionStore: Send + Sync {
    /// Records a new session.
    fn insert_session(&self, session: &BrowserSession) -> Result<(), StoreError>;
    /// The session with this id, ended or not.
    fn find_session(&self, id: SessionId) -> Result<Option<BrowserSession>, StoreError>;
    /// Records a visit at `now`.
    fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// The user's sessions not ended and started after `started_after`, in any order.
    fn live_sessions_of(
        &self,
        user: UserId,
        started_after: DateTime<Utc>,
    ) -> Result<Vec<BrowserSession>, StoreError>;
    /// Every session not ended and started after `started_after`, in any order.
    fn all_live_sessions(
        &self,
        started_after: DateTime<Utc>,
    ) -> Result<Vec<BrowserSession>, StoreError>;
    /// Ends the selected sessions of `user` that have not ended; returns how many ended.
    fn end_sessions(
        &self,
        user: UserId,
        which: SessionSelection,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError>;
}

/// Where rows past their use are deleted ([`crate::purge`]), one method per table. Each
/// deletes what its cutoff purges and says how many rows went; a large purge goes in short
/// batches, so that it never holds up other writers for long.
pub trait PurgeStore: Send + Sync {
    /// Deletes the authorization codes `cutoff` purges.
    fn purge_codes(&self, cutoff: &CodeCutoff) -> Result<u64, StoreError>;
    /// Deletes the tokens `cutoff` purges.
    fn purge_tokens(&self, cutoff: &TokenCutoff) -> Result<u64, StoreError>;
    /// Deletes the authorizations `cutoff` purges: only those that no code or token refers to.
    fn purge_authorizations(&self, cutoff: &AuthorizationCutoff) -> Result<u64, StoreError>;
    /// Deletes the throttle counters `cutoff` purges.
    fn purge_throttles(&self, cutoff: &ThrottleCutoff) -> Result<u64, StoreError>;
    /// Deletes the browser sessions `cutoff` purges.
    fn purge_sessions(&self, cutoff: &SessionCutoff) -> Result<u64, StoreError>;
    /// Deletes the deny-list entries `cutoff` purges.
    fn purge_revoked_jwts(&self, cutoff: &RevokedJwtCutoff) -> Result<u64, StoreError>;
    /// Deletes the pushed authorization requests `cutoff` purges.
    fn purge_pushed_requests(&self, cutoff: &PushedRequestCutoff) -> Result<u64, StoreError>;
    /// Deletes the device authorizations the cutoff says go; how many went.
    fn purge_device_codes(&self, cutoff: &DeviceCodeCutoff) -> Result<u64, StoreError>;
    /// Deletes the initial access tokens `cutoff` purges.
    fn purge_registration_tokens(
        &self,
        cutoff: &RegistrationTokenCutoff,
    ) -> Result<u64, StoreError>;
}

/// Everything the domain stores.
pub trait Store:
    UserStore
    + ClientStore
    + RegistrationTokenStore
    + AuthorizationStore
    + CodeStore
    + PushedRequestStore
    + DeviceCodeStore
    + TokenStore
    + RevokedJwtStore
    + ConsentStore
    + SettingStore
    + SigningKeyStore
    + ThrottleStore
    + SessionStore
    + PurgeStore
{
}

impl<T> Store for T where
    T: UserStore
        + ClientStore
        + RegistrationTokenStore
        + AuthorizationStore
        + CodeStore
        + PushedRequestStore
        + DeviceCodeStore
        + TokenStore
        + RevokedJwtStore
        + ConsentStore
        + SettingStore
        + SigningKeyStore
        + ThrottleStore
        + SessionStore
        + PurgeStore
{
}
