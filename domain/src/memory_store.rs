//! An in-memory [`Store`](crate::store::Store), a cheap password hasher and a clear-text
//! signer, for the domain's tests.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};

use crate::authorization::{Authorization, AuthorizationId};
use crate::browser_session::{BrowserSession, SessionId, SessionSelection};
use crate::claim::Claim;
use crate::client::Client;
use crate::code::AuthorizationCode;
use crate::consent::Consent;
use crate::device_code::{DeviceAnswer, DeviceCode, DeviceStatus};
use crate::error::StoreError;
use crate::jwt_access_token::{JwtAccessToken, JwtStanding};
use crate::purge::{
    AuthorizationCutoff, CodeCutoff, DeviceCodeCutoff, PushedRequestCutoff,
    RegistrationTokenCutoff, RevokedJwtCutoff, SessionCutoff, ThrottleCutoff, TokenCutoff,
};
use crate::pushed_request::PushedRequest;
use crate::registration::StoredInitialAccessToken;
use crate::secret::TokenDigest;
use crate::signing::{JwtType, Signer, SigningAlg};
use crate::signing_key::SigningKey;
use crate::store::{
    AuthorizationStore, ClientStore, CodeStore, ConsentStore, DeviceCodeStore, PurgeStore,
    PushedRequestStore, RegistrationTokenStore, RevokedJwtStore, SessionStore, SettingStore,
    SigningKeyStore, ThrottleStore, TokenStore, UserStore,
};
use crate::token::{Token, TokenKind};
use crate::user::{PasswordHasher, User, UserId};

#[derive(Default)]
struct Tables {
    users: Vec<User>,
    clients: Vec<Client>,
    authorizations: HashMap<AuthorizationId, (Authorization, Option<DateTime<Utc>>)>,
    codes: HashMap<TokenDigest, AuthorizationCode>,
    tokens: HashMap<TokenDigest, Token>,
    consents: HashMap<(UserId, String), Consent>,
    settings: HashMap<String, String>,
    /// Each key, with whether it took the first-key slot of its algorithm.
    signing_keys: Vec<(SigningKey, bool)>,
    throttles: HashMap<String, ThrottleRow>,
    sessions: HashMap<SessionId, BrowserSession>,
    /// The deny-list: `jti` and when its token expires.
    revoked_jwts: HashMap<String, DateTime<Utc>>,
    pushed_requests: HashMap<TokenDigest, PushedRequest>,
    device_codes: HashMap<TokenDigest, DeviceCode>,
    registration_tokens: HashMap<TokenDigest, StoredInitialAccessToken>,
    /// An edit that lands right after the next read of its client.
    edit_after_read: Option<Client>,
}

/// A failure counter: failures since `window_started_at`, the lock's end, lockouts so far.
struct ThrottleRow {
    failures: u32,
    window_started_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    lockouts: u32,
}

/// Every table behind one lock, which makes each method atomic like one SQL statement.
#[derive(Default)]
pub struct MemoryStore(Mutex<Tables>);

impl MemoryStore {
    /// How many authorizations, codes and tokens are stored.
    pub fn grant_rows(&self) -> usize {
        let tables = self.tables();
        tables.authorizations.len() + tables.codes.len() + tables.tokens.len()
    }

    /// Makes `client` what is stored right after the next read of it, as a concurrent edit
    /// could: a caller that writes back all it read would undo that edit.
    pub fn edit_after_next_read(&self, client: Client) {
        self.tables().edit_after_read = Some(client);
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Tables {
    /// All or none, like the database: a duplicate digest or an unknown authorization
    /// stores nothing.
    fn insert_tokens(&mut self, tokens: &[Token]) -> Result<(), StoreError> {
        let fits = tokens.iter().enumerate().all(|(index, token)| {
            !self.tokens.contains_key(&token.digest)
                && self.authorizations.contains_key(&token.authorization_id)
                && !tokens[..index]
                    .iter()
                    .any(|earlier| earlier.digest == token.digest)
        });
        if !fits {
            return Err(StoreError::Conflict);
        }
        for token in tokens {
            self.tokens.insert(token.digest, token.clone());
        }
        Ok(())
    }

    /// The client `client_id`, if `owner` is `None` or owns it.
    fn client_of(&mut self, client_id: &str, owner: Option<UserId>) -> Option<&mut Client> {
        self.clients
            .iter_mut()
            .find(|c| c.id == client_id && owner.is_none_or(|owner| c.owner_id == Some(owner)))
    }

    fn with_family_revocation(&self, token: &Token) -> Token {
        let family_revoked = self
            .authorizations
            .get(&token.authorization_id)
            .and_then(|(_, revoked)| *revoked);
        Token {
            revoked_at: token.revoked_at.or(family_revoked),
            ..token.clone()
        }
    }
}

impl UserStore for MemoryStore {
    fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.users.iter().any(|u| u.username == user.username) {
            return Err(StoreError::Conflict);
        }
        tables.users.push(user.clone());
        Ok(())
    }

    fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.tables().users.iter().find(|u| u.id == id).cloned())
    }

    fn find_user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .tables()
            .users
            .iter()
            .find(|u| u.username == username)
            .cloned())
    }

    fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
        if let Some(user) = self.tables().users.iter_mut().find(|u| u.id == id) {
            password_hash.clone_into(&mut user.password_hash);
        }
        Ok(())
    }

    fn all_users(&self) -> Result<Vec<User>, StoreError> {
        let mut users = self.tables().users.clone();
        users.sort_by(|a, b| (a.created_at, &a.username).cmp(&(b.created_at, &b.username)));
        Ok(users)
    }

    fn disable_user(&self, id: UserId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(user) = tables.users.iter_mut().find(|u| u.id == id) else {
            return Ok(false);
        };
        user.disabled_at = user.disabled_at.or(Some(now));
        user.tokens_valid_after = user.tokens_valid_after.max(Some(now));
        for session in tables.sessions.values_mut() {
            if session.user_id == id && session.ended_at.is_none() {
                session.ended_at = Some(now);
            }
        }
        for (authorization, revoked_at) in tables.authorizations.values_mut() {
            if authorization.user_id == Some(id) && revoked_at.is_none() {
                *revoked_at = Some(now);
            }
        }
        Ok(true)
    }

    fn enable_user(&self, id: UserId) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let user = tables.users.iter_mut().find(|u| u.id == id);
        Ok(user.map(|user| user.disabled_at = None).is_some())
    }

    fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let before = tables.users.len();
        tables.users.retain(|u| u.id != id);
        if tables.users.len() == before {
            return Ok(false);
        }
        let owned: Vec<String> = tables
            .clients
            .iter()
            .filter(|c| c.owner_id == Some(id))
            .map(|c| c.id.clone())
            .collect();
        for client_id in owned {
            tables.delete_client_where(&client_id, |_| true);
        }
        let families: Vec<AuthorizationId> = tables
            .authorizations
            .values()
            .filter(|(a, _)| a.user_id == Some(id))
            .map(|(a, _)| a.id)
            .collect();
        tables
            .tokens
            .retain(|_, t| !families.contains(&t.authorization_id));
        tables
            .codes
            .retain(|_, c| !families.contains(&c.authorization_id));
        tables
            .authorizations
            .retain(|family, _| !families.contains(family));
        tables.consents.retain(|(user, _), _| *user != id);
        tables.sessions.retain(|_, s| s.user_id != id);
        tables
            .device_codes
            .retain(|_, code| code.user_id != Some(id));
        Ok(true)
    }
}

impl ClientStore for MemoryStore {
    fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.clients.iter().any(|c| c.id == client.id) {
            return Err(StoreError::Conflict);
        }
        tables.clients.push(client.clone());
        Ok(())
    }

    fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let mut tables = self.tables();
        let found = tables.clients.iter().find(|c| c.id == client_id).cloned();
        if let Some(edit) = tables.edit_after_read.take_if(|edit| edit.id == client_id) {
            if let Some(stored) = tables.client_of(client_id, None) {
                *stored = edit;
            }
        }
        Ok(found)
    }

    fn clients_of(&self, owner: UserId) -> Result<Vec<Client>, StoreError> {
        Ok(self
            .tables()
            .clients
            .iter()
            .filter(|c| c.owner_id == Some(owner))
            .cloned()
            .collect())
    }

    fn delete_client(&self, client_id: &str, owner: UserId) -> Result<bool, StoreError> {
        Ok(self
            .tables()
            .delete_client_where(client_id, |c| c.owner_id == Some(owner)))
    }

    fn edit_client(&self, client: &Client, owner: Option<UserId>) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(stored) = tables.client_of(&client.id, owner) else {
            return Ok(false);
        };
        *stored = Client {
            owner_id: stored.owner_id,
            created_at: stored.created_at,
            registration_token_digest: stored.registration_token_digest,
            registered_dynamically: stored.registered_dynamically,
            ..client.clone()
        };
        Ok(true)
    }

    fn delete_any_client(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(self.tables().delete_client_where(client_id, |_| true))
    }

    fn set_client_secret(
        &self,
        client_id: &str,
        owner: Option<UserId>,
        digest: &TokenDigest,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let client = tables
            .client_of(client_id, owner)
            .filter(|client| !client.is_public());
        Ok(client.map(|c| c.secret_digest = Some(*digest)).is_some())
    }

    fn all_clients(&self) -> Result<Vec<Client>, StoreError> {
        let mut clients = self.tables().clients.clone();
        clients.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(clients)
    }

    fn update_client(&self, client: &Client, token: &TokenDigest) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(stored) = tables
            .clients
            .iter_mut()
            .find(|c| c.id == client.id && c.registration_token_digest == Some(*token))
        else {
            return Ok(false);
        };
        *stored = Client {
            owner_id: stored.owner_id,
            created_at: stored.created_at,
            ..client.clone()
        };
        Ok(true)
    }

    fn delete_managed_client(
        &self,
        client_id: &str,
        token: &TokenDigest,
    ) -> Result<bool, StoreError> {
        Ok(self
            .tables()
            .delete_client_where(client_id, |c| c.registration_token_digest == Some(*token)))
    }

    fn claim_client(
        &self,
        client_id: &str,
        token: &TokenDigest,
        owner: UserId,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let client = tables.clients.iter_mut().find(|c| {
            c.id == client_id && c.owner_id.is_none() && c.registration_token_digest == Some(*token)
        });
        Ok(client.map(|c| c.owner_id = Some(owner)).is_some())
    }
}

impl Tables {
    /// Deletes the client `client_id` if `condition` holds for it, with everything issued to
    /// it (as the databases' cascades do); whether it was deleted.
    fn delete_client_where(
        &mut self,
        client_id: &str,
        condition: impl Fn(&Client) -> bool,
    ) -> bool {
        let tables = self;
        let before = tables.clients.len();
        tables
            .clients
            .retain(|c| !(c.id == client_id && condition(c)));
        let deleted = tables.clients.len() != before;
        if deleted {
            tables.tokens.retain(|_, t| t.client_id != client_id);
            tables.codes.retain(|_, c| c.client_id != client_id);
            tables
                .authorizations
                .retain(|_, (a, _)| a.client_id != client_id);
            tables.consents.retain(|(_, client), _| client != client_id);
            tables
                .pushed_requests
                .retain(|_, pushed| pushed.client_id != client_id);
            tables
                .device_codes
                .retain(|_, code| code.client_id != client_id);
        }
        deleted
    }
}

impl RegistrationTokenStore for MemoryStore {
    fn insert_registration_token(
        &self,
        token: &StoredInitialAccessToken,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.registration_tokens.contains_key(&token.digest) {
            return Err(StoreError::Conflict);
        }
        tables
            .registration_tokens
            .insert(token.digest, token.clone());
        Ok(())
    }

    fn insert_client_spending_token(
        &self,
        client: &Client,
        token: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        if tables.clients.iter().any(|c| c.id == client.id) {
            return Err(StoreError::Conflict);
        }
        let Some(stored) = tables.registration_tokens.get_mut(token) else {
            return Ok(false);
        };
        if stored.expires_at.is_some_and(|expiry| expiry <= now) || stored.uses_left == Some(0) {
            return Ok(false);
        }
        if let Some(uses) = &mut stored.uses_left {
            *uses -= 1;
        }
        tables.clients.push(client.clone());
        Ok(true)
    }
}

impl AuthorizationStore for MemoryStore {
    fn insert_authorization(&self, authorization: &Authorization) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.authorizations.contains_key(&authorization.id) {
            return Err(StoreError::Conflict);
        }
        tables
            .authorizations
            .insert(authorization.id, (authorization.clone(), None));
        Ok(())
    }

    fn insert_authorization_with_tokens(
        &self,
        authorization: &Authorization,
        tokens: &[Token],
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.authorizations.contains_key(&authorization.id) {
            return Err(StoreError::Conflict);
        }
        tables
            .authorizations
            .insert(authorization.id, (authorization.clone(), None));
        let inserted = tables.insert_tokens(tokens);
        if inserted.is_err() {
            tables.authorizations.remove(&authorization.id);
        }
        inserted
    }

    fn find_authorization(&self, id: AuthorizationId) -> Result<Option<Authorization>, StoreError> {
        Ok(self
            .tables()
            .authorizations
            .get(&id)
            .map(|(authorization, _)| authorization.clone()))
    }

    fn revoke_authorization(
        &self,
        id: AuthorizationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some((_, revoked)) = self.tables().authorizations.get_mut(&id) {
            revoked.get_or_insert(now);
        }
        Ok(())
    }
}

impl CodeStore for MemoryStore {
    fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.codes.contains_key(&code.digest)
            || !tables.authorizations.contains_key(&code.authorization_id)
        {
            return Err(StoreError::Conflict);
        }
        tables.codes.insert(code.digest, code.clone());
        Ok(())
    }

    fn find_code(&self, digest: &TokenDigest) -> Result<Option<AuthorizationCode>, StoreError> {
        Ok(self.tables().codes.get(digest).cloned())
    }

    fn claim_code(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<Claim<AuthorizationCode>, StoreError> {
        let mut tables = self.tables();
        let Some(code) = tables.codes.get(digest).cloned() else {
            return Ok(Claim::Unusable);
        };
        if code.used_at.is_some() {
            return Ok(Claim::Taken(code));
        }
        if code.expires_at <= now {
            return Ok(Claim::Unusable);
        }
        tables.insert_tokens(tokens)?;
        let claimed = AuthorizationCode {
            used_at: Some(now),
            ..code
        };
        tables.codes.insert(*digest, claimed.clone());
        Ok(Claim::Won(claimed))
    }
}

impl DeviceCodeStore for MemoryStore {
    fn insert_device_code(&self, code: &DeviceCode) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.device_codes.contains_key(&code.digest)
            || tables
                .device_codes
                .values()
                .any(|other| other.user_code_digest == code.user_code_digest)
            || !tables.clients.iter().any(|c| c.id == code.client_id)
        {
            return Err(StoreError::Conflict);
        }
        tables.device_codes.insert(code.digest, code.clone());
        Ok(())
    }

    fn find_device_code(&self, digest: &TokenDigest) -> Result<Option<DeviceCode>, StoreError> {
        Ok(self.tables().device_codes.get(digest).cloned())
    }

    fn find_device_code_by_user_code(
        &self,
        user_code: &TokenDigest,
    ) -> Result<Option<DeviceCode>, StoreError> {
        Ok(self
            .tables()
            .device_codes
            .values()
            .find(|code| code.user_code_digest == *user_code)
            .cloned())
    }

    fn answer_device_code(
        &self,
        user_code: &TokenDigest,
        answer: &DeviceAnswer,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(code) = tables
            .device_codes
            .values_mut()
            .find(|code| code.user_code_digest == *user_code && code.answerable(now))
        else {
            return Ok(false);
        };
        code.status = answer.status;
        code.user_id = Some(answer.user_id);
        code.auth_time = answer.auth_time;
        Ok(true)
    }

    fn record_device_poll(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        interval: Duration,
    ) -> Result<(), StoreError> {
        if let Some(code) = self.tables().device_codes.get_mut(digest) {
            code.last_polled_at = Some(now);
            code.interval = interval;
        }
        Ok(())
    }

    fn claim_device_code(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        authorization: Option<&Authorization>,
        tokens: &[Token],
    ) -> Result<Claim<DeviceCode>, StoreError> {
        let mut tables = self.tables();
        let Some(code) = tables.device_codes.get(digest).cloned() else {
            return Ok(Claim::Unusable);
        };
        if code.redeemed_at.is_some() {
            return Ok(Claim::Taken(code));
        }
        if code.status != DeviceStatus::Approved || code.expires_at <= now {
            return Ok(Claim::Unusable);
        }
        if let Some(authorization) = authorization {
            if tables.authorizations.contains_key(&authorization.id) {
                return Err(StoreError::Conflict);
            }
            tables
                .authorizations
                .insert(authorization.id, (authorization.clone(), None));
        }
        if let Err(error) = tables.insert_tokens(tokens) {
            if let Some(authorization) = authorization {
                tables.authorizations.remove(&authorization.id);
            }
            return Err(error);
        }
        let claimed = DeviceCode {
            redeemed_at: Some(now),
            ..code
        };
        tables.device_codes.insert(*digest, claimed.clone());
        Ok(Claim::Won(claimed))
    }
}

impl PushedRequestStore for MemoryStore {
    fn insert_pushed_request(&self, pushed: &PushedRequest) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.pushed_requests.contains_key(&pushed.digest)
            || !tables.clients.iter().any(|c| c.id == pushed.client_id)
        {
            return Err(StoreError::Conflict);
        }
        tables.pushed_requests.insert(pushed.digest, pushed.clone());
        Ok(())
    }

    fn find_pushed_request(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PushedRequest>, StoreError> {
        Ok(self.tables().pushed_requests.get(digest).cloned())
    }

    fn claim_pushed_request(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Claim<PushedRequest>, StoreError> {
        let mut tables = self.tables();
        let Some(pushed) = tables.pushed_requests.get_mut(digest) else {
            return Ok(Claim::Unusable);
        };
        if pushed.used_at.is_some() {
            return Ok(Claim::Taken(pushed.clone()));
        }
        if pushed.expires_at <= now {
            return Ok(Claim::Unusable);
        }
        pushed.used_at = Some(now);
        Ok(Claim::Won(pushed.clone()))
    }
}

impl TokenStore for MemoryStore {
    fn insert_tokens(&self, tokens: &[Token]) -> Result<(), StoreError> {
        self.tables().insert_tokens(tokens)
    }

    fn find_token(&self, digest: &TokenDigest) -> Result<Option<Token>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .tokens
            .get(digest)
            .map(|token| tables.with_family_revocation(token)))
    }

    fn find_token_and_user(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(Token, Option<User>)>, StoreError> {
        let tables = self.tables();
        Ok(tables.tokens.get(digest).map(|token| {
            let user = token
                .user_id
                .and_then(|id| tables.users.iter().find(|user| user.id == id).cloned());
            (tables.with_family_revocation(token), user)
        }))
    }

    fn claim_refresh_token(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<Claim<Token>, StoreError> {
        let mut tables = self.tables();
        let Some(token) = tables
            .tokens
            .get(digest)
            .map(|t| tables.with_family_revocation(t))
        else {
            return Ok(Claim::Unusable);
        };
        if token.kind != TokenKind::Refresh {
            return Ok(Claim::Unusable);
        }
        if token.rotated_at.is_some() {
            return Ok(Claim::Taken(token));
        }
        if !token.is_active(now) {
            return Ok(Claim::Unusable);
        }
        tables.insert_tokens(tokens)?;
        let claimed = Token {
            rotated_at: Some(now),
            ..token
        };
        if let Some(stored) = tables.tokens.get_mut(digest) {
            stored.rotated_at = Some(now);
        }
        Ok(Claim::Won(claimed))
    }

    fn revoke_token(&self, digest: &TokenDigest, now: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(token) = self.tables().tokens.get_mut(digest) {
            token.revoked_at.get_or_insert(now);
        }
        Ok(())
    }

    fn retry_rotation(
        &self,
        parent: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let children = || {
            tables
                .tokens
                .values()
                .filter(|token| token.parent.as_ref() == Some(parent))
        };
        if children().any(|token| token.rotated_at.is_some()) {
            return Ok(false);
        }
        let revoked: Vec<TokenDigest> = children().map(|token| token.digest).collect();
        tables.insert_tokens(tokens)?;
        for digest in revoked {
            if let Some(token) = tables.tokens.get_mut(&digest) {
                token.revoked_at.get_or_insert(now);
            }
        }
        Ok(true)
    }
}

impl RevokedJwtStore for MemoryStore {
    fn revoke_jwt(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        self.tables()
            .revoked_jwts
            .entry(jti.to_owned())
            .or_insert(expires_at);
        Ok(())
    }

    fn jwt_standing(&self, token: &JwtAccessToken) -> Result<Option<JwtStanding>, StoreError> {
        let tables = self.tables();
        if !tables.clients.iter().any(|c| c.id == token.client_id) {
            return Ok(None);
        }
        let family_live = token
            .family
            .and_then(|id| tables.authorizations.get(&id))
            .is_some_and(|(family, revoked)| {
                family.client_id == token.client_id && revoked.is_none()
            });
        Ok(Some(JwtStanding {
            revoked: tables.revoked_jwts.contains_key(&token.jti),
            family_live,
            user: token
                .user_id
                .and_then(|id| tables.users.iter().find(|user| user.id == id).cloned()),
        }))
    }
}

impl ConsentStore for MemoryStore {
    fn record_consent(&self, consent: &Consent) -> Result<(), StoreError> {
        self.tables().consents.insert(
            (consent.user_id, consent.client_id.clone()),
            consent.clone(),
        );
        Ok(())
    }

    fn find_consent(
        &self,
        user_id: UserId,
        client_id: &str,
    ) -> Result<Option<Consent>, StoreError> {
        Ok(self
            .tables()
            .consents
            .get(&(user_id, client_id.to_owned()))
            .cloned())
    }

    fn consents_of(&self, user_id: UserId) -> Result<Vec<Consent>, StoreError> {
        Ok(self
            .tables()
            .consents
            .values()
            .filter(|consent| consent.user_id == user_id)
            .cloned()
            .collect())
    }

    fn withdraw_consent(
        &self,
        user_id: UserId,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        if tables
            .consents
            .remove(&(user_id, client_id.to_owned()))
            .is_none()
        {
            return Ok(false);
        }
        for (authorization, revoked) in tables.authorizations.values_mut() {
            if authorization.user_id == Some(user_id) && authorization.client_id == client_id {
                revoked.get_or_insert(now);
            }
        }
        Ok(true)
    }
}

impl SettingStore for MemoryStore {
    fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError> {
        Ok(self
            .tables()
            .settings
            .entry(name.to_owned())
            .or_insert_with(|| value.to_owned())
            .clone())
    }
}

impl SigningKeyStore for MemoryStore {
    fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.signing_keys.iter().any(|(k, _)| k.kid == key.kid) {
            return Err(StoreError::Conflict);
        }
        tables.signing_keys.push((key.clone(), false));
        Ok(())
    }

    fn insert_first_signing_key(&self, key: &SigningKey) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        if tables
            .signing_keys
            .iter()
            .any(|(k, first)| k.kid == key.kid || (*first && k.alg == key.alg))
        {
            return Ok(false);
        }
        tables.signing_keys.push((key.clone(), true));
        Ok(true)
    }

    fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        Ok(self
            .tables()
            .signing_keys
            .iter()
            .map(|(key, _)| key.clone())
            .collect())
    }

    fn reseal_signing_key(&self, resealed: &SigningKey, was: &str) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some((stored, _)) = tables
            .signing_keys
            .iter_mut()
            .find(|(key, _)| key.kid == resealed.kid && key.private_key == was)
        else {
            return Ok(false);
        };
        stored.private_key.clone_from(&resealed.private_key);
        stored.protection = resealed.protection;
        Ok(true)
    }
}

impl SessionStore for MemoryStore {
    fn insert_session(&self, session: &BrowserSession) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict);
        }
        tables.sessions.insert(session.id, session.clone());
        Ok(())
    }

    fn find_session(&self, id: SessionId) -> Result<Option<BrowserSession>, StoreError> {
        Ok(self.tables().sessions.get(&id).cloned())
    }

    fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(session) = self.tables().sessions.get_mut(&id) {
            session.last_seen_at = now;
        }
        Ok(())
    }

    fn live_sessions_of(
        &self,
        user: UserId,
        started_after: DateTime<Utc>,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        Ok(self
            .tables()
            .sessions
            .values()
            .filter(|s| s.user_id == user && s.ended_at.is_none() && s.started_at > started_after)
            .cloned()
            .collect())
    }

    fn all_live_sessions(
        &self,
        started_after: DateTime<Utc>,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        Ok(self
            .tables()
            .sessions
            .values()
            .filter(|s| s.ended_at.is_none() && s.started_at > started_after)
            .cloned()
            .collect())
    }

    fn end_sessions(
        &self,
        user: UserId,
        which: SessionSelection,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut ended = 0;
        for session in self.tables().sessions.values_mut() {
            if session.user_id == user && session.ended_at.is_none() && which.includes(session.id) {
                session.ended_at = Some(now);
                ended += 1;
            }
        }
        Ok(ended)
    }
}

/// A stand-in for bcrypt: fast, and enough to tell passwords apart.
pub struct PlainHasher;

impl ThrottleStore for MemoryStore {
    fn throttle_locked_until(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .tables()
            .throttles
            .get(key)
            .and_then(|row| row.locked_until)
            .filter(|until| *until > now))
    }

    fn record_throttle_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        limit: u32,
        lockout: fn(u32) -> chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut tables = self.tables();
        let row = tables
            .throttles
            .entry(key.to_owned())
            .or_insert(ThrottleRow {
                failures: 0,
                window_started_at: now,
                locked_until: None,
                lockouts: 0,
            });
        if row.window_started_at <= window_start {
            row.failures = 0;
            row.window_started_at = now;
        }
        row.failures += 1;
        if row.failures < limit {
            return Ok(None);
        }
        let until = now + lockout(row.lockouts);
        row.failures = 0;
        row.window_started_at = now;
        row.lockouts += 1;
        row.locked_until = Some(until);
        Ok(Some(until))
    }

    fn reset_throttle(&self, key: &str) -> Result<(), StoreError> {
        self.tables().throttles.remove(key);
        Ok(())
    }
}

/// How many entries `retain` took out of a map.
fn removed<K, V>(map: &mut HashMap<K, V>, keep: impl FnMut(&K, &mut V) -> bool) -> u64 {
    let before = map.len();
    map.retain(keep);
    u64::try_from(before - map.len()).unwrap_or(u64::MAX)
}

impl PurgeStore for MemoryStore {
    fn purge_codes(&self, cutoff: &CodeCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().codes, |_, code| {
            !cutoff.purges(code)
        }))
    }

    fn purge_tokens(&self, cutoff: &TokenCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().tokens, |_, token| {
            !cutoff.purges(token)
        }))
    }

    fn purge_authorizations(&self, cutoff: &AuthorizationCutoff) -> Result<u64, StoreError> {
        let mut tables = self.tables();
        let Tables {
            authorizations,
            codes,
            tokens,
            ..
        } = &mut *tables;
        Ok(removed(authorizations, |id, (authorization, _)| {
            let referenced = codes.values().any(|code| code.authorization_id == *id)
                || tokens.values().any(|token| token.authorization_id == *id);
            !cutoff.purges(authorization, referenced)
        }))
    }

    fn purge_throttles(&self, cutoff: &ThrottleCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().throttles, |_, row| {
            !cutoff.purges(row.window_started_at, row.locked_until)
        }))
    }

    fn purge_sessions(&self, cutoff: &SessionCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().sessions, |_, session| {
            !cutoff.purges(session)
        }))
    }

    fn purge_revoked_jwts(&self, cutoff: &RevokedJwtCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().revoked_jwts, |_, expires_at| {
            !cutoff.purges(*expires_at)
        }))
    }

    fn purge_pushed_requests(&self, cutoff: &PushedRequestCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().pushed_requests, |_, pushed| {
            !cutoff.purges(pushed.expires_at)
        }))
    }

    fn purge_device_codes(&self, cutoff: &DeviceCodeCutoff) -> Result<u64, StoreError> {
        Ok(removed(&mut self.tables().device_codes, |_, code| {
            !cutoff.purges(code.expires_at)
        }))
    }

    fn purge_registration_tokens(
        &self,
        cutoff: &RegistrationTokenCutoff,
    ) -> Result<u64, StoreError> {
        Ok(removed(
            &mut self.tables().registration_tokens,
            |_, token| !cutoff.purges(token),
        ))
    }
}

impl PasswordHasher for PlainHasher {
    fn hash(&self, password: &str) -> Result<String, StoreError> {
        Ok(format!("plain:{password}"))
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        hash.strip_prefix("plain:") == Some(password)
    }
}

/// A stand-in for the keyring: "signs" by writing the header and claims in the clear with a
/// fixed signature, and verifies only what it wrote (with the `typ` asked for). Enough to read
/// back what the domain asked for.
pub struct ClearSigner;

impl ClearSigner {
    const SIGNATURE: &'static str = "clear-signature";

    /// The header and claims of a token this signer made.
    pub fn parts(jws: &str) -> Option<(serde_json::Value, serde_json::Value)> {
        let mut parts = jws.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if signature != Self::SIGNATURE || parts.next().is_some() {
            return None;
        }
        let json = |part: &str| {
            let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()
        };
        Some((json(header)?, json(claims)?))
    }

    /// The claims of a token this signer made.
    pub fn claims(jws: &str) -> Option<serde_json::Value> {
        Self::parts(jws).map(|(_, claims)| claims)
    }
}

impl Signer for ClearSigner {
    fn sign(
        &self,
        alg: SigningAlg,
        typ: JwtType,
        claims: &serde_json::Value,
    ) -> Result<String, StoreError> {
        let header = serde_json::json!({"alg": alg.as_str(), "kid": "clear", "typ": typ.as_str()});
        Ok(format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            Self::SIGNATURE
        ))
    }

    fn verify(&self, jws: &str, typ: JwtType) -> Result<Option<serde_json::Value>, StoreError> {
        Ok(Self::parts(jws)
            .filter(|(header, _)| typ.matches(header["typ"].as_str()))
            .map(|(_, claims)| claims))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fake_keeps_the_store_contract() {
        for (name, check) in crate::store_contract::CHECKS {
            let store = MemoryStore::default();
            if let Err(error) = check(&store) {
                panic!("{name}: {error}");
            }
        }
    }

    use chrono::DateTime;

    use super::*;
    use crate::signing::SigningAlg;
    use crate::signing_key::KeyProtection;

    fn key(kid: &str, alg: SigningAlg) -> SigningKey {
        SigningKey {
            kid: kid.to_owned(),
            alg,
            public_jwk: serde_json::json!({}),
            private_key: String::new(),
            protection: KeyProtection::Plain,
            created_at: DateTime::UNIX_EPOCH,
            signs_from: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_fake_keeps_one_first_key_per_algorithm_and_any_number_of_rotations() {
        let store = MemoryStore::default();
        assert!(store
            .insert_first_signing_key(&key("a", SigningAlg::Rs256))
            .unwrap());
        assert!(!store
            .insert_first_signing_key(&key("b", SigningAlg::Rs256))
            .unwrap());
        store
            .insert_signing_key(&key("c", SigningAlg::Rs256))
            .unwrap();
        assert!(matches!(
            store.insert_signing_key(&key("c", SigningAlg::Es256)),
            Err(StoreError::Conflict)
        ));
        let kids: Vec<String> = store
            .signing_keys()
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["a", "c"]);
    }
}
