//! Brute-force throttling: failures are counted per key within a window; past the key's
//! limit, attempts are refused for a lockout delay that doubles with each lockout, from one
//! minute up to one hour. Keys never say whether a user exists: a username is counted the
//! same way whether it is known or not.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::error::StoreError;
use crate::provider::Provider;
use crate::secret::TokenDigest;
use crate::store::Store;
use crate::telemetry;

/// What a failure counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// Failed sign-ins for a username (lowercased), known or not.
    User(String),
    /// Failed sign-ins from a client address.
    Address(IpAddr),
    /// Failed client authentication for a `client_id`.
    Client(String),
    /// Wrong device user codes entered in one browser session.
    Device(String),
    /// Client registrations (RFC 7591) from a client address, successful or not.
    Registration(IpAddr),
}

impl ThrottleKey {
    /// The key for a username: lowercased, so `Alice` and `alice` share one counter.
    pub fn user(username: &str) -> Self {
        Self::User(username.trim().to_lowercase())
    }

    /// The kind of key, for logs (`user`, `addr`, `client`, `device`, `register`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Address(_) => "addr",
            Self::Client(_) => "client",
            Self::Device(_) => "device",
            Self::Registration(_) => "register",
        }
    }

    /// The key as stored: `<kind>:<value>`, or `<kind>#<SHA-256 of value>` for a value
    /// longer than [`MAX_STORED_VALUE`] bytes, so that whatever a request sends as a username
    /// or `client_id`, its key fits the database's primary-key index.
    pub fn as_stored(&self) -> String {
        let value = match self {
            Self::User(value) | Self::Client(value) | Self::Device(value) => value.clone(),
            Self::Address(address) | Self::Registration(address) => address.to_string(),
        };
        if value.len() > MAX_STORED_VALUE {
            return format!("{}#{}", self.kind(), TokenDigest::of(&value).to_hex());
        }
        format!("{}:{value}", self.kind())
    }
}

/// The longest value a stored key holds as it is; longer ones are stored as their digest
/// (Postgres refuses B-tree index entries over about 2.7 KB).
pub const MAX_STORED_VALUE: usize = 256;

/// The throttling rules (`TESSERA_MAX_FAILURES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRules {
    /// Failures within [`Self::window`] that lock a username, client or device key; an
    /// address takes ten times as many.
    pub max_failures: u32,
    /// How long failures are counted together.
    pub window: Duration,
}

/// The first lockout delay.
pub const FIRST_LOCKOUT: Duration = Duration::minutes(1);

/// The longest lockout delay.
pub const MAX_LOCKOUT: Duration = Duration::hours(1);

impl Default for ThrottleRules {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
        }
    }
}

impl ThrottleRules {
    /// The failures within the window that lock `key`.
    pub fn limit(&self, key: &ThrottleKey) -> u32 {
        match key {
            ThrottleKey::Address(_) => self.max_failures.saturating_mul(10),
            ThrottleKey::Registration(_) => self
                .max_failures
                .saturating_mul(crate::registration::REGISTRATIONS_PER_FAILURE_LIMIT),
            _ => self.max_failures,
        }
        .max(1)
    }

    /// The delay of a lockout after `earlier` lockouts of the same key: 1, 2, 4, ... minutes,
    /// at most an hour.
    pub fn lockout(earlier: u32) -> Duration {
        let minutes = 1_i64 << earlier.min(6);
        (FIRST_LOCKOUT * i32::try_from(minutes).unwrap_or(64)).min(MAX_LOCKOUT)
    }

    /// The start of the window that ends at `now`: failures before it no longer count.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }
}

/// Seconds to wait until `locked_until`, at least one (for `Retry-After`).
pub fn retry_after_seconds(locked_until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((locked_until - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}

/// A lockout that a failure just engaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    /// The kind of key locked ([`ThrottleKey::kind`]).
    pub kind: &'static str,
    /// When the lock ends.
    pub until: DateTime<Utc>,
}

impl<S: Store> Provider<S> {
    /// Seconds until every one of `keys` is unlocked, or `None` when none is locked; a
    /// locked attempt is counted under the kind of the key locked longest.
    pub fn locked_for(&self, keys: &[ThrottleKey]) -> Result<Option<u64>, StoreError> {
        let now = self.now();
        let mut latest: Option<(DateTime<Utc>, &'static str)> = None;
        for key in keys {
            if let Some(until) = self.store.throttle_locked_until(&key.as_stored(), now)? {
                if latest.is_none_or(|(latest, _)| until > latest) {
                    latest = Some((until, key.kind()));
                }
            }
        }
        Ok(latest.map(|(until, kind)| {
            telemetry::attempt_throttled(kind);
            retry_after_seconds(until, now)
        }))
    }

    /// Counts one failure against each of `keys`; the lockouts it engaged.
    pub fn record_failure(&self, keys: &[ThrottleKey]) -> Result<Vec<Lockout>, StoreError> {
        let now = self.now();
        let rules = self.policy.throttle;
        let mut engaged = Vec::new();
        for key in keys {
            if let Some(until) = self.store.record_throttle_failure(
                &key.as_stored(),
                now,
                rules.window_start(now),
                rules.limit(key),
                ThrottleRules::lockout,
            )? {
                tracing::warn!(key = key.kind(), %until, "throttle lockout engaged");
                telemetry::lockout_engaged(key.kind());
                engaged.push(Lockout {
                    kind: key.kind(),
                    until,
                });
            }
        }
        Ok(engaged)
    }

    /// Forgets the failures of `key` (after a success).
    pub fn reset_failures(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.store.reset_throttle(&key.as_stored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_from_one_minute_up_to_an_hour() {
        let minutes: Vec<i64> = (0..9)
            .map(|earlier| ThrottleRules::lockout(earlier).num_minutes())
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn an_address_takes_ten_times_the_failures_of_a_username() {
        let rules = ThrottleRules::default();
        assert_eq!(rules.limit(&ThrottleKey::user("Alice")), 5);
        assert_eq!(
            rules.limit(&ThrottleKey::Address(IpAddr::from([10, 0, 0, 1]))),
            50
        );
    }

    #[test]
    fn keys_name_their_kind_and_usernames_are_lowercased() {
        assert_eq!(ThrottleKey::user(" Alice ").as_stored(), "user:alice");
        assert_eq!(
            ThrottleKey::Address(IpAddr::from([10, 0, 0, 1])).as_stored(),
            "addr:10.0.0.1"
        );
        assert_eq!(ThrottleKey::Client("c".into()).as_stored(), "client:c");
        assert_eq!(ThrottleKey::Device("s".into()).as_stored(), "device:s");
    }

    #[test]
    fn long_values_are_stored_as_a_digest_of_bounded_length() {
        let long = "x".repeat(MAX_STORED_VALUE + 1);
        let stored = ThrottleKey::Client(long.clone()).as_stored();
        assert_eq!(
            stored,
            format!("client#{}", TokenDigest::of(&long).to_hex())
        );
        assert_ne!(stored, ThrottleKey::Client(format!("{long}y")).as_stored());
        let longest = "x".repeat(MAX_STORED_VALUE);
        assert_eq!(
            ThrottleKey::User(longest.clone()).as_stored(),
            format!("user:{longest}")
        );
    }
}
