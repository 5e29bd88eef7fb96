//! Purging rows past their use: which authorization codes, tokens, authorizations,
//! throttle counters, browser sessions, deny-list entries of revoked JWT access tokens,
//! pushed requests, device codes and initial access tokens a purge at `now` deletes, decided
//! from the [`Policy`] alone.
//!
//! What reuse detection needs stays. Presenting a used code or a rotated refresh token again
//! revokes every token of its authorization (RFC 6749 §4.1.2, RFC 9700 §4.14.2), which matters
//! only while a token minted when it was used can still live; so a used code and a rotated
//! refresh token are kept for the [`evidence_lifetime`] after that use. Everything else goes
//! once it can no longer be used: an unused code or a token at its expiry, an authorization
//! once no code or token refers to it, a throttle counter once it counts and locks nothing,
//! a revoked JWT's deny-list entry once the JWT has expired (it is refused for that anyway),
//! and an initial access token once it has expired or has no registration left.
//!
//! The store deletes table by table ([`PurgeStore`]); [`purge`] runs them in the order the
//! references between tables ask for and sums up what went in a [`Purged`].

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::authorization::Authorization;
use crate::browser_session::BrowserSession;
use crate::code::AuthorizationCode;
use crate::error::StoreError;
use crate::policy::Policy;
use crate::provider::Provider;
use crate::registration::StoredInitialAccessToken;
use crate::store::{PurgeStore, Store};
use crate::throttle::MAX_LOCKOUT;
use crate::token::Token;

/// How long a used code or a rotated refresh token is kept after its use: the longest a token
/// minted at that use can live, so that presenting it again still revokes that token.
/// That is also how long an authorization with nothing stored under it is kept, so that a
/// JWT access token naming it never outlives it.
pub fn evidence_lifetime(policy: &Policy) -> Duration {
    policy.signed_token_ttl().max(policy.refresh_token_ttl)
}

/// Which authorization codes go: unused ones at their expiry, used ones once the
/// [`evidence_lifetime`] has passed since their use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeCutoff {
    /// Unused codes that expired at or before this go.
    pub expired_by: DateTime<Utc>,
    /// Used codes used at or before this go.
    pub used_by: DateTime<Utc>,
}

impl CodeCutoff {
    /// Whether `code` goes.
    pub fn purges(&self, code: &AuthorizationCode) -> bool {
        match code.used_at {
            None => code.expires_at <= self.expired_by,
            Some(used_at) => used_at <= self.used_by,
        }
    }
}

/// Which tokens go: access and unrotated refresh tokens at their expiry (revoked or not);
/// rotated refresh tokens once expired and the [`evidence_lifetime`] has passed since their
/// rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCutoff {
    /// Tokens that expired at or before this may go.
    pub expired_by: DateTime<Utc>,
    /// Rotated refresh tokens rotated at or before this (and expired) go.
    pub rotated_by: DateTime<Utc>,
}

impl TokenCutoff {
    /// Whether `token` goes.
    pub fn purges(&self, token: &Token) -> bool {
        token.expires_at <= self.expired_by
            && token
                .rotated_at
                .is_none_or(|rotated_at| rotated_at <= self.rotated_by)
    }
}

/// Which authorizations go: those no code or token refers to any more (so revoked, or with
/// no token alive), given at least the [`evidence_lifetime`] ago, so that one being given
/// right now is never taken before its first code or token is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationCutoff {
    /// Unreferenced authorizations given at or before this go.
    pub created_by: DateTime<Utc>,
}

impl AuthorizationCutoff {
    /// Whether `authorization` goes, when `referenced` tells whether a code or token still
    /// belongs to it.
    pub fn purges(&self, authorization: &Authorization, referenced: bool) -> bool {
        !referenced && authorization.created_at <= self.created_by
    }
}

/// Which throttle counters go: those whose window is over (their failures no longer count)
/// and whose last lockout ended at least [`MAX_LOCKOUT`] ago. Until then a counter keeps its
/// lockouts, so the next lockout still doubles; an attacker who waits that long to be
/// forgotten gets no more tries than the longest lockout allows anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleCutoff {
    /// Counters whose window started at or before this may go.
    pub window_started_by: DateTime<Utc>,
    /// Counters locked until at or before this (or never locked) may go.
    pub unlocked_by: DateTime<Utc>,
}

impl ThrottleCutoff {
    /// Whether a counter whose window started at `window_started_at` and that is (or was)
    /// locked until `locked_until` goes.
    pub fn purges(
        &self,
        window_started_at: DateTime<Utc>,
        locked_until: Option<DateTime<Utc>>,
    ) -> bool {
        window_started_at <= self.window_started_by
            && locked_until.is_none_or(|until| until <= self.unlocked_by)
    }
}

/// Which browser sessions go: ended ones, and those older than the session lifetime (they
/// sign in no more either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCutoff {
    /// Sessions ended at or before this go.
    pub ended_by: DateTime<Utc>,
    /// Sessions started at or before this go.
    pub started_by: DateTime<Utc>,
}

impl SessionCutoff {
    /// Whether `session` goes.
    pub fn purges(&self, session: &BrowserSession) -> bool {
        session.started_at <= self.started_by
            || session
                .ended_at
                .is_some_and(|ended_at| ended_at <= self.ended_by)
    }
}

/// Which deny-list entries go: those of JWT access tokens expired at or before the cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedJwtCutoff {
    /// Entries of tokens that expired at or before this go.
    pub expired_by: DateTime<Utc>,
}

impl RevokedJwtCutoff {
    /// Whether the entry of a token expiring at `expires_at` goes.
    pub fn purges(&self, expires_at: DateTime<Utc>) -> bool {
        expires_at <= self.expired_by
    }
}

/// Which pushed authorization requests go: those expired at or before the cutoff, used or not
/// (a used one expires within [`PUSHED_REQUEST_TTL`](crate::pushed_request::PUSHED_REQUEST_TTL)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushedRequestCutoff {
    /// Requests that expired at or before this go.
    pub expired_by: DateTime<Utc>,
}

impl PushedRequestCutoff {
    /// Whether a request expiring at `expires_at` goes.
    pub fn purges(&self, expires_at: DateTime<Utc>) -> bool {
        expires_at <= self.expired_by
    }
}

/// Which device authorizations go: those expired at or before the cutoff, whatever their
/// state (a redeemed one needs no keeping: its tokens live in their own family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCodeCutoff {
    /// Device codes that expired at or before this go.
    pub expired_by: DateTime<Utc>,
}

impl DeviceCodeCutoff {
    /// Whether a device code expiring at `expires_at` goes.
    pub fn purges(&self, expires_at: DateTime<Utc>) -> bool {
        expires_at <= self.expired_by
    }
}

/// Which initial access tokens (for dynamic registration) go: those expired at or before the
/// cutoff, and those with no registration left, since neither lets anyone register again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationTokenCutoff {
    /// Tokens that expired at or before this go.
    pub expired_by: DateTime<Utc>,
}

impl RegistrationTokenCutoff {
    /// Whether `token` goes: expired, or used up (a token without a count or an expiry
    /// never goes by that).
    pub fn purges(&self, token: &StoredInitialAccessToken) -> bool {
        token
            .expires_at
            .is_some_and(|expires_at| expires_at <= self.expired_by)
            || token.uses_left == Some(0)
    }
}

/// The cutoffs of every table for a purge at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Authorization codes.
    pub codes: CodeCutoff,
    /// Access and refresh tokens.
    pub tokens: TokenCutoff,
    /// Authorizations.
    pub authorizations: AuthorizationCutoff,
    /// Throttle counters.
    pub throttles: ThrottleCutoff,
    /// Browser sessions.
    pub sessions: SessionCutoff,
    /// Deny-list entries of revoked JWT access tokens.
    pub revoked_jwts: RevokedJwtCutoff,
    /// Pushed authorization requests.
    pub pushed_requests: PushedRequestCutoff,
    /// Device authorizations.
    pub device_codes: DeviceCodeCutoff,
    /// Initial access tokens.
    pub registration_tokens: RegistrationTokenCutoff,
}

impl PurgeCutoffs {
    /// The cutoffs of a purge at `now` under `policy`.
    pub fn new(policy: &Policy, now: DateTime<Utc>) -> Self {
        let evidence_kept_since = now - evidence_lifetime(policy);
        Self {
            codes: CodeCutoff {
                expired_by: now,
                used_by: evidence_kept_since,
            },
            tokens: TokenCutoff {
                expired_by: now,
                rotated_by: evidence_kept_since,
            },
            authorizations: AuthorizationCutoff {
                created_by: evidence_kept_since,
            },
            throttles: ThrottleCutoff {
                window_started_by: policy.throttle.window_start(now),
                unlocked_by: now - MAX_LOCKOUT,
            },
            sessions: SessionCutoff {
                ended_by: now,
                started_by: now - policy.session_ttl,
            },
            revoked_jwts: RevokedJwtCutoff { expired_by: now },
            pushed_requests: PushedRequestCutoff { expired_by: now },
            device_codes: DeviceCodeCutoff { expired_by: now },
            registration_tokens: RegistrationTokenCutoff { expired_by: now },
        }
    }
}

/// How many rows one purge deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Authorization codes.
    pub authorization_codes: u64,
    /// Access and refresh tokens.
    pub tokens: u64,
    /// Authorizations (token families).
    pub authorizations: u64,
    /// Throttle counters.
    pub throttles: u64,
    /// Browser sessions.
    pub sessions: u64,
    /// Deny-list entries of revoked JWT access tokens.
    pub revoked_jwts: u64,
    /// Pushed authorization requests.
    pub pushed_requests: u64,
    /// Device authorizations.
    pub device_codes: u64,
    /// Initial access tokens for dynamic registration.
    pub registration_tokens: u64,
}

impl Purged {
    /// Each count with what it counts, singular and plural, in purge order.
    fn counts(&self) -> [(u64, &'static str, &'static str); 9] {
        [
            (
                self.authorization_codes,
                "authorization code",
                "authorization codes",
            ),
            (self.tokens, "token", "tokens"),
            (self.authorizations, "authorization", "authorizations"),
            (self.throttles, "throttle counter", "throttle counters"),
            (self.sessions, "session", "sessions"),
            (self.revoked_jwts, "revoked JWT", "revoked JWTs"),
            (self.pushed_requests, "pushed request", "pushed requests"),
            (self.device_codes, "device code", "device codes"),
            (
                self.registration_tokens,
                "initial access token",
                "initial access tokens",
            ),
        ]
    }
}

/// One line: `3 authorization codes, 1 token, 0 authorizations, 2 throttle counters, ...`.
impl fmt::Display for Purged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (count, one, many)) in self.counts().into_iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            let noun = if count == 1 { one } else { many };
            write!(f, "{separator}{count} {noun}")?;
        }
        Ok(())
    }
}

/// Deletes from `store` every row past its use at `now` under `policy`. Codes and tokens go
/// first, so the authorizations they leave unreferenced go in the same purge.
pub fn purge<S: PurgeStore + ?Sized>(
    store: &S,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Purged, StoreError> {
    let cutoffs = PurgeCutoffs::new(policy, now);
    let authorization_codes = store.purge_codes(&cutoffs.codes)?;
    let tokens = store.purge_tokens(&cutoffs.tokens)?;
    let authorizations = store.purge_authorizations(&cutoffs.authorizations)?;
    let throttles = store.purge_throttles(&cutoffs.throttles)?;
    let sessions = store.purge_sessions(&cutoffs.sessions)?;
    let revoked_jwts = store.purge_revoked_jwts(&cutoffs.revoked_jwts)?;
    let pushed_requests = store.purge_pushed_requests(&cutoffs.pushed_requests)?;
    let device_codes = store.purge_device_codes(&cutoffs.device_codes)?;
    let registration_tokens = store.purge_registration_tokens(&cutoffs.registration_tokens)?;
    Ok(Purged {
        authorization_codes,
        tokens,
        authorizations,
        throttles,
        sessions,
        revoked_jwts,
        pushed_requests,
        device_codes,
        registration_tokens,
    })
}

impl<S: Store> Provider<S> {
    /// [`purge`]s the store now, under this provider's policy.
    pub fn purge(&self) -> Result<Purged, StoreError> {
        purge(&self.store, &self.policy, self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorization::AuthorizationId;
    use crate::scope::Scope;
    use crate::secret::Secret;
    use crate::token::TokenKind;
    use crate::user::UserId;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn cutoffs() -> PurgeCutoffs {
        PurgeCutoffs::new(&Policy::default(), now())
    }

    fn second() -> Duration {
        Duration::seconds(1)
    }

    fn code(expires_at: DateTime<Utc>, used_at: Option<DateTime<Utc>>) -> AuthorizationCode {
        AuthorizationCode {
            digest: Secret::generate().digest(),
            authorization_id: AuthorizationId::generate(),
            client_id: "client".into(),
            user_id: UserId::generate(),
            redirect_uri: None,
            scope: Scope::default(),
            challenge: None,
            created_at: expires_at - Duration::minutes(5),
            expires_at,
            used_at,
        }
    }

    fn token(kind: TokenKind, expires_at: DateTime<Utc>) -> Token {
        Token {
            digest: Secret::generate().digest(),
            kind,
            authorization_id: AuthorizationId::generate(),
            client_id: "client".into(),
            user_id: None,
            scope: Scope::default(),
            issued_at: expires_at - Duration::hours(1),
            expires_at,
            revoked_at: None,
            rotated_at: None,
            parent: None,
        }
    }

    #[test]
    fn used_codes_and_rotated_tokens_are_kept_as_long_as_the_longest_token_lives() {
        assert_eq!(evidence_lifetime(&Policy::default()), Duration::days(30));
        let long_access = Policy {
            access_token_ttl: Duration::days(40),
            ..Policy::default()
        };
        assert_eq!(evidence_lifetime(&long_access), Duration::days(40));
        let long_jwt = Policy {
            jwt_access_token_ttl: Duration::days(50),
            ..Policy::default()
        };
        assert_eq!(evidence_lifetime(&long_jwt), Duration::days(50));
        let cutoffs = cutoffs();
        assert_eq!(cutoffs.codes.used_by, now() - Duration::days(30));
        assert_eq!(cutoffs.tokens.rotated_by, now() - Duration::days(30));
        assert_eq!(
            cutoffs.authorizations.created_by,
            now() - Duration::days(30)
        );
    }

    #[test]
    fn an_unused_code_goes_at_its_expiry() {
        let cutoff = cutoffs().codes;
        assert!(cutoff.purges(&code(now(), None)));
        assert!(!cutoff.purges(&code(now() + second(), None)));
    }

    #[test]
    fn a_used_code_stays_until_the_evidence_lifetime_has_passed_since_its_use() {
        let cutoff = cutoffs().codes;
        let used = now() - Duration::days(30);
        assert!(cutoff.purges(&code(used + Duration::minutes(5), Some(used))));
        let recent = used + second();
        assert!(!cutoff.purges(&code(recent + Duration::minutes(5), Some(recent))));
    }

    #[test]
    fn access_and_unrotated_refresh_tokens_go_at_their_expiry_revoked_or_not() {
        let cutoff = cutoffs().tokens;
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            assert!(cutoff.purges(&token(kind, now())));
            assert!(!cutoff.purges(&token(kind, now() + second())));
            let revoked = Token {
                revoked_at: Some(now() - Duration::hours(2)),
                ..token(kind, now() + second())
            };
            assert!(!cutoff.purges(&revoked));
        }
    }

    #[test]
    fn a_rotated_refresh_token_stays_until_the_evidence_lifetime_has_passed_since_rotation() {
        let cutoff = cutoffs().tokens;
        let rotated = |at: DateTime<Utc>| Token {
            rotated_at: Some(at),
            ..token(TokenKind::Refresh, at + Duration::days(1))
        };
        assert!(cutoff.purges(&rotated(now() - Duration::days(30))));
        assert!(!cutoff.purges(&rotated(now() - Duration::days(30) + second())));
        // Expired long ago, rotated recently: a replay still revokes what the rotation minted.
        let expired_then_rotated = Token {
            rotated_at: Some(now() - Duration::days(2)),
            ..token(TokenKind::Refresh, now() - Duration::days(1))
        };
        assert!(!cutoff.purges(&expired_then_rotated));
    }

    #[test]
    fn an_authorization_goes_only_unreferenced_and_given_long_enough_ago() {
        let cutoff = cutoffs().authorizations;
        let given = |at| Authorization::new("client", None, Scope::default(), at);
        let old = given(now() - Duration::days(30));
        assert!(cutoff.purges(&old, false));
        assert!(!cutoff.purges(&old, true));
        assert!(!cutoff.purges(&given(now() - Duration::days(30) + second()), false));
    }

    #[test]
    fn a_throttle_counter_goes_when_its_window_is_over_and_its_lockout_long_ended() {
        let cutoff = cutoffs().throttles;
        let window_over = now() - Duration::minutes(15);
        assert!(cutoff.purges(window_over, None));
        assert!(!cutoff.purges(window_over + second(), None));
        assert!(cutoff.purges(window_over, Some(now() - Duration::hours(1))));
        // The lockout ended half an hour ago: the next one must still double.
        assert!(!cutoff.purges(window_over, Some(now() - Duration::minutes(30))));
        assert!(!cutoff.purges(window_over, Some(now() + Duration::minutes(5))));
    }

    #[test]
    fn a_revoked_jwt_is_forgotten_once_it_has_expired() {
        let cutoff = cutoffs().revoked_jwts;
        assert!(cutoff.purges(now()));
        assert!(!cutoff.purges(now() + second()));
    }

    #[test]
    fn a_pushed_request_goes_once_it_has_expired() {
        let cutoff = cutoffs().pushed_requests;
        assert!(cutoff.purges(now()));
        assert!(!cutoff.purges(now() + second()));
    }

    #[test]
    fn a_device_code_goes_once_it_has_expired() {
        let cutoff = cutoffs().device_codes;
        assert!(cutoff.purges(now()));
        assert!(!cutoff.purges(now() + second()));
    }

    #[test]
    fn an_initial_access_token_goes_once_expired_or_used_up() {
        let cutoff = cutoffs().registration_tokens;
        let token = |expires_at, uses_left| StoredInitialAccessToken {
            digest: Secret::generate().digest(),
            created_at: now() - Duration::days(1),
            expires_at,
            uses_left,
        };
        assert!(cutoff.purges(&token(Some(now()), None)));
        assert!(cutoff.purges(&token(Some(now()), Some(3))));
        assert!(cutoff.purges(&token(None, Some(0))));
        assert!(cutoff.purges(&token(Some(now() + second()), Some(0))));
        assert!(!cutoff.purges(&token(Some(now() + second()), Some(1))));
        assert!(!cutoff.purges(&token(None, Some(1))));
        assert!(!cutoff.purges(&token(None, None)));
    }

    #[test]
    fn the_summary_is_one_line_with_a_count_per_table() {
        let purged = Purged {
            authorization_codes: 3,
            tokens: 1,
            authorizations: 0,
            throttles: 2,
            sessions: 1,
            revoked_jwts: 4,
            pushed_requests: 1,
            device_codes: 2,
            registration_tokens: 1,
        };
        assert_eq!(
            purged.to_string(),
            "3 authorization codes, 1 token, 0 authorizations, 2 throttle counters, 1 session, \
             4 revoked JWTs, 1 pushed request, 2 device codes, 1 initial access token"
        );
        assert_eq!(
            serde_json::to_value(purged).unwrap(),
            serde_json::json!({
                "authorization_codes": 3,
                "tokens": 1,
                "authorizations": 0,
                "throttles": 2,
                "sessions": 1,
                "revoked_jwts": 4,
                "pushed_requests": 1,
                "device_codes": 2,
                "registration_tokens": 1,
            })
        );
    }
}
