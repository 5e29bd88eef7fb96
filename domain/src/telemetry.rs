//! What the rules count, through the `metrics` facade: tokens issued, replays detected and
//! attempts refused by the throttle. Each is counted where the rule decides it. Without a
//! recorder (the server installs one only when metrics are on) counting costs next to
//! nothing. Every label has a small fixed set of values: grant types and key kinds, never a
//! client, user or token.

use crate::client::GrantType;

/// `tessera_tokens_issued_total{grant}`: token responses given, by grant type (`implicit`
/// for access tokens the authorization endpoint returns).
pub const TOKENS_ISSUED_TOTAL: &str = "tessera_tokens_issued_total";

/// `tessera_replays_detected_total{kind}`: single-use credentials presented again, which
/// revoke their tokens: `kind` is [`Replay::as_str`].
pub const REPLAYS_DETECTED_TOTAL: &str = "tessera_replays_detected_total";

/// `tessera_throttled_attempts_total{kind}`: attempts refused because their key is locked
/// out; `kind` is the [`ThrottleKey::kind`](crate::throttle::ThrottleKey::kind) of the key
/// locked longest.
pub const THROTTLED_ATTEMPTS_TOTAL: &str = "tessera_throttled_attempts_total";

/// `tessera_throttle_lockouts_total{kind}`: lockouts engaged by a failure, by key kind.
pub const THROTTLE_LOCKOUTS_TOTAL: &str = "tessera_throttle_lockouts_total";

/// A single-use credential presented again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// An authorization code redeemed a second time (RFC 6749 §4.1.2).
    AuthorizationCode,
    /// A rotated refresh token presented again (RFC 9700 §4.14.2).
    RefreshToken,
}

impl Replay {
    /// The label value: `authorization_code` or `refresh_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// Counts one token response for `grant`.
pub fn token_issued(grant: GrantType) {
    metrics::counter!(TOKENS_ISSUED_TOTAL, "grant" => grant.as_str()).increment(1);
}

/// Counts one replay of `kind`.
pub fn replay_detected(kind: Replay) {
    metrics::counter!(REPLAYS_DETECTED_TOTAL, "kind" => kind.as_str()).increment(1);
}

/// Counts one attempt refused because a key of `kind` is locked.
pub fn attempt_throttled(kind: &'static str) {
    metrics::counter!(THROTTLED_ATTEMPTS_TOTAL, "kind" => kind).increment(1);
}

/// Counts one lockout engaged on a key of `kind`.
pub fn lockout_engaged(kind: &'static str) {
    metrics::counter!(THROTTLE_LOCKOUTS_TOTAL, "kind" => kind).increment(1);
}

/// Describes these series to the installed recorder (their `# HELP` lines).
pub fn describe() {
    metrics::describe_counter!(
        TOKENS_ISSUED_TOTAL,
        "Token responses given, by grant type (implicit: from the authorization endpoint)."
    );
    metrics::describe_counter!(
        REPLAYS_DETECTED_TOTAL,
        "Authorization codes and rotated refresh tokens presented again (their tokens are revoked)."
    );
    metrics::describe_counter!(
        THROTTLED_ATTEMPTS_TOTAL,
        "Attempts refused because a throttle key is locked out, by key kind."
    );
    metrics::describe_counter!(
        THROTTLE_LOCKOUTS_TOTAL,
        "Throttle lockouts engaged by failed attempts, by key kind."
    );
}
