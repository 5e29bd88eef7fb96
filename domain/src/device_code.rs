//! The device authorization grant (RFC 8628): the codes and the polling rules.
//!
//! - A device asks for a `device_code` (256 random bits, kept as its SHA-256 digest) and a
//!   `user_code`: [`USER_CODE_LENGTH`] letters from [`USER_CODE_ALPHABET`] (no vowels, no
//!   look-alikes), shown as `XXXX-XXXX` and kept as the digest of its normalized form, so
//!   the user may type it in any case, with or without the dash ([`normalize_user_code`]).
//! - The user approves or denies it on `/device` while it is pending and unexpired.
//! - The device polls the token endpoint; [`DeviceCode::poll`] decides the answer. Polling
//!   again before `interval` seconds have passed since the last poll is `slow_down`, and the
//!   interval grows by [`SLOW_DOWN_STEP`] (§3.5).

use chrono::{DateTime, Duration, Utc};
use rand::rngs::OsRng;
use rand::Rng as _;
use serde::Serialize;

use crate::client::{Client, GrantType};
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::provider::Provider;
use crate::scope::Scope;
use crate::secret::{Secret, TokenDigest};
use crate::store::Store;
use crate::throttle::ThrottleKey;
use crate::user::UserId;

/// The letters a user code is made of: consonants only, without look-alikes (RFC 8628 §6.1).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// How many letters a user code has (20^8, about 34.5 bits).
pub const USER_CODE_LENGTH: usize = 8;

/// How many more user codes are drawn when one collides with a stored one.
const USER_CODE_ATTEMPTS: u32 = 3;

/// The polling interval a device starts with (RFC 8628 §3.2 default).
pub const DEFAULT_INTERVAL: Duration = Duration::seconds(5);

/// How much the interval grows on each `slow_down` (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::seconds(5);

/// How long a device code lives unless `TESSERA_DEVICE_CODE_TTL` says otherwise.
pub const DEFAULT_DEVICE_CODE_TTL: Duration = Duration::seconds(600);

/// A fresh user code, as shown: `XXXX-XXXX`.
pub fn generate_user_code() -> String {
    let letters: String = (0..USER_CODE_LENGTH)
        .map(|_| char::from(USER_CODE_ALPHABET[OsRng.gen_range(0..USER_CODE_ALPHABET.len())]))
        .collect();
    format_user_code(&letters)
}

/// The letters of a typed user code, upper-cased, with dashes and spaces dropped; `None`
/// when what is left is not [`USER_CODE_LENGTH`] letters of [`USER_CODE_ALPHABET`].
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let letters: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = letters.len() == USER_CODE_LENGTH
        && letters.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then_some(letters)
}

/// Normalized letters as shown to the user: `XXXX-XXXX`.
pub fn format_user_code(letters: &str) -> String {
    let (first, second) = letters.split_at(letters.len() / 2);
    format!("{first}-{second}")
}

/// The digest under which a typed user code is looked up; `None` when it cannot be one.
pub fn user_code_digest(typed: &str) -> Option<TokenDigest> {
    normalize_user_code(typed).map(|letters| TokenDigest::of(&letters))
}

/// Where a device code stands with its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Nobody has answered yet.
    Pending,
    /// A user allowed it.
    Approved,
    /// A user denied it.
    Denied,
}

impl DeviceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }
}

/// A device authorization as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// The digest of the `device_code`.
    pub digest: TokenDigest,
    /// The digest of the normalized `user_code`.
    pub user_code_digest: TokenDigest,
    /// The client that asked, the only one that may redeem it.
    pub client_id: String,
    /// The scope asked for.
    pub scope: Scope,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being usable.
    pub expires_at: DateTime<Utc>,
    /// How long the device must wait between polls.
    pub interval: Duration,
    /// When the device last polled, if it has.
    pub last_polled_at: Option<DateTime<Utc>>,
    /// Whether a user has answered, and how.
    pub status: DeviceStatus,
    /// The user who answered.
    pub user_id: Option<UserId>,
    /// When that user signed in.
    pub auth_time: Option<DateTime<Utc>>,
    /// When its tokens were issued, if they were.
    pub redeemed_at: Option<DateTime<Utc>>,
}

/// What a poll of the token endpoint gets (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: polled too soon; the interval is now this.
    SlowDown(Duration),
    /// `access_denied`.
    Denied,
    /// `expired_token`.
    Expired,
    /// `invalid_grant`: not this client's, or already redeemed.
    Invalid,
    /// Approved and unredeemed: tokens may be issued (if the claim wins).
    Approved,
}

impl DeviceCode {
    /// Whether a user may still answer it at `now`.
    pub fn answerable(&self, now: DateTime<Utc>) -> bool {
        self.status == DeviceStatus::Pending && self.expires_at > now
    }

    /// What a poll by `client_id` at `now` gets. The caller records the poll (and the new
    /// interval on `slow_down`).
    pub fn poll(&self, client_id: &str, now: DateTime<Utc>) -> PollOutcome {
        if self.client_id != client_id || self.redeemed_at.is_some() {
            return PollOutcome::Invalid;
        }
        if self.expires_at <= now {
            return PollOutcome::Expired;
        }
        if self
            .last_polled_at
            .is_some_and(|last| now < last + self.interval)
        {
            return PollOutcome::SlowDown(self.interval + SLOW_DOWN_STEP);
        }
        match self.status {
            DeviceStatus::Pending => PollOutcome::Pending,
            DeviceStatus::Denied => PollOutcome::Denied,
            DeviceStatus::Approved => PollOutcome::Approved,
        }
    }
}

/// A user's answer on `/device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceAnswer {
    /// [`DeviceStatus::Approved`] or [`DeviceStatus::Denied`].
    pub status: DeviceStatus,
    /// Who answered.
    pub user_id: UserId,
    /// When they signed in.
    pub auth_time: Option<DateTime<Utc>>,
}

/// What a user code typed on `/device` finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCodeLookup {
    /// A device authorization waiting for an answer, and its client (boxed: the other
    /// answers are small).
    Found(Box<(DeviceCode, Client)>),
    /// Nothing that can be answered: malformed, unknown, answered or expired.
    Wrong,
    /// Too many wrong codes from this session: try again after this many seconds.
    Locked {
        /// Seconds until the session may try again.
        retry_after: u64,
    },
}

/// The answer to a device authorization request (RFC 8628 §3.2), sent as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAuthorizationResponse {
    /// The code the device polls with.
    pub device_code: String,
    /// The code the user types, `XXXX-XXXX`.
    pub user_code: String,
    /// `{issuer}/device`.
    pub verification_uri: String,
    /// `{issuer}/device?user_code=XXXX-XXXX`.
    pub verification_uri_complete: String,
    /// Seconds until both codes expire.
    pub expires_in: i64,
    /// Seconds the device waits between polls.
    pub interval: i64,
}

impl<S: Store> Provider<S> {
    /// Starts a device authorization for `client`, the authenticated caller (RFC 8628 §3.1):
    /// it must be registered for the device grant, and the scope is checked as for any grant.
    pub fn device_authorization(
        &self,
        client: &Client,
        body: &Params,
    ) -> Result<DeviceAuthorizationResponse, Error> {
        if !client.allows_grant(GrantType::DeviceCode) {
            return Err(OAuthError::unauthorized_client(
                "This client may not use the device authorization grant.",
            )
            .into());
        }
        if body.single("client_id")?.is_some_and(|id| id != client.id) {
            return Err(OAuthError::invalid_request(
                "The client_id is not the authenticated client.",
            )
            .into());
        }
        let scope = Scope::requested_within(body.single("scope")?, &client.scope)?;
        let now = self.now();
        let ttl = self.policy.device_code_ttl;
        // A user code is short, so a new one may (rarely) collide with a live one: draw again.
        let mut attempts = 0;
        let (device_code, user_code) = loop {
            let device_code = Secret::generate();
            let user_code = generate_user_code();
            let user_code_digest = user_code_digest(&user_code)
                .ok_or_else(|| OAuthError::invalid_request("The user code could not be made."))?;
            let inserted = self.store.insert_device_code(&DeviceCode {
                digest: device_code.digest(),
                user_code_digest,
                client_id: client.id.clone(),
                scope: scope.clone(),
                created_at: now,
                expires_at: now + ttl,
                interval: DEFAULT_INTERVAL,
                last_polled_at: None,
                status: DeviceStatus::Pending,
                user_id: None,
                auth_time: None,
                redeemed_at: None,
            });
            match inserted {
                Ok(()) => break (device_code, user_code),
                Err(StoreError::Conflict) if attempts < USER_CODE_ATTEMPTS => attempts += 1,
                Err(error) => return Err(error.into()),
            }
        };
        let verification_uri = format!("{}/device", self.issuer().trim_end_matches('/'));
        Ok(DeviceAuthorizationResponse {
            device_code: device_code.expose().to_owned(),
            verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
            verification_uri,
            user_code,
            expires_in: ttl.num_seconds(),
            interval: DEFAULT_INTERVAL.num_seconds(),
        })
    }

    /// The device authorization a typed user code stands for, with its client, while a user
    /// may still answer it. A code that is malformed, unknown, answered or expired counts as a
    /// failure against the browser session `session` ([`ThrottleKey::Device`]); past the
    /// limit every lookup from that session is refused for a while, right or wrong.
    pub fn find_user_code(&self, typed: &str, session: &str) -> Result<UserCodeLookup, Error> {
        let key = ThrottleKey::Device(session.to_owned());
        if let Some(retry_after) = self.locked_for(std::slice::from_ref(&key))? {
            return Ok(UserCodeLookup::Locked { retry_after });
        }
        let now = self.now();
        let found = match user_code_digest(typed) {
            Some(digest) => self
                .store
                .find_device_code_by_user_code(&digest)?
                .filter(|code| code.answerable(now)),
            None => None,
        };
        let found = match found {
            Some(code) => self
                .store
                .find_client(&code.client_id)?
                .map(|client| (code, client)),
            None => None,
        };
        match found {
            Some(found) => Ok(UserCodeLookup::Found(Box::new(found))),
            None => {
                self.record_failure(std::slice::from_ref(&key))?;
                Ok(UserCodeLookup::Wrong)
            }
        }
    }

    /// Records a signed-in user's answer to the device authorization of a typed user code;
    /// `false` when it can no longer be answered. An approval is remembered as the user's
    /// consent to the client for those scopes, as at the authorization endpoint, so the app
    /// is listed on the account page, where withdrawing it revokes the device's tokens.
    pub fn answer_device_code(&self, typed: &str, answer: &DeviceAnswer) -> Result<bool, Error> {
        let Some(digest) = user_code_digest(typed) else {
            return Ok(false);
        };
        if !self.store.answer_device_code(&digest, answer, self.now())? {
            return Ok(false);
        }
        if answer.status == DeviceStatus::Approved {
            if let Some(code) = self.store.find_device_code_by_user_code(&digest)? {
                self.remember_consent(answer.user_id, &code.client_id, &code.scope)?;
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000)
    }

    fn pending() -> DeviceCode {
        DeviceCode {
            digest: TokenDigest::of("device"),
            user_code_digest: TokenDigest::of("BCDFGHJK"),
            client_id: "tv".into(),
            scope: Scope::default(),
            created_at: now(),
            expires_at: now() + DEFAULT_DEVICE_CODE_TTL,
            interval: DEFAULT_INTERVAL,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            user_id: None,
            auth_time: None,
            redeemed_at: None,
        }
    }

    #[test]
    fn user_codes_are_eight_letters_of_the_alphabet_shown_with_a_dash() {
        for _ in 0..100 {
            let code = generate_user_code();
            assert_eq!(code.len(), 9);
            assert_eq!(code.as_bytes()[4], b'-');
            let letters = normalize_user_code(&code).unwrap();
            assert_eq!(format_user_code(&letters), code);
        }
    }

    #[test]
    fn typed_user_codes_are_normalized_whatever_the_case_and_dashes() {
        let expected = Some("BCDFGHJK".to_owned());
        assert_eq!(normalize_user_code("BCDF-GHJK"), expected);
        assert_eq!(normalize_user_code("bcdfghjk"), expected);
        assert_eq!(normalize_user_code(" bcdf - ghjk "), expected);
        assert_eq!(
            user_code_digest("bcdf-ghjk"),
            Some(TokenDigest::of("BCDFGHJK"))
        );
        assert_eq!(normalize_user_code("BCDF-GHJ"), None);
        assert_eq!(
            normalize_user_code("ABCD-EFGH"),
            None,
            "vowels are not in the alphabet"
        );
        assert_eq!(normalize_user_code("BCDF-GHJKL"), None);
        assert_eq!(normalize_user_code(""), None);
    }

    #[test]
    fn statuses_round_trip_through_their_stored_names() {
        for status in [
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            DeviceStatus::Denied,
        ] {
            assert_eq!(DeviceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeviceStatus::parse("redeemed"), None);
    }

    #[test]
    fn a_pending_code_is_answerable_until_it_expires() {
        let code = pending();
        assert!(code.answerable(now()));
        assert!(!code.answerable(code.expires_at));
        let approved = DeviceCode {
            status: DeviceStatus::Approved,
            ..pending()
        };
        assert!(!approved.answerable(now()));
    }

    #[test]
    fn polling_follows_the_status_once_the_interval_has_passed() {
        assert_eq!(pending().poll("tv", now()), PollOutcome::Pending);
        let polled = DeviceCode {
            last_polled_at: Some(now()),
            ..pending()
        };
        assert_eq!(
            polled.poll("tv", now() + DEFAULT_INTERVAL),
            PollOutcome::Pending
        );
        let denied = DeviceCode {
            status: DeviceStatus::Denied,
            ..pending()
        };
        assert_eq!(denied.poll("tv", now()), PollOutcome::Denied);
        let approved = DeviceCode {
            status: DeviceStatus::Approved,
            ..pending()
        };
        assert_eq!(approved.poll("tv", now()), PollOutcome::Approved);
    }

    #[test]
    fn polling_too_soon_slows_the_device_down_by_five_seconds() {
        let polled = DeviceCode {
            last_polled_at: Some(now()),
            ..pending()
        };
        assert_eq!(
            polled.poll("tv", now() + Duration::seconds(4)),
            PollOutcome::SlowDown(Duration::seconds(10))
        );
    }

    #[test]
    fn other_clients_redeemed_and_expired_codes_are_refused() {
        let code = pending();
        assert_eq!(code.poll("other", now()), PollOutcome::Invalid);
        assert_eq!(code.poll("tv", code.expires_at), PollOutcome::Expired);
        let redeemed = DeviceCode {
            status: DeviceStatus::Approved,
            redeemed_at: Some(now()),
            ..pending()
        };
        assert_eq!(redeemed.poll("tv", now()), PollOutcome::Invalid);
    }
}
