//! The server's configurable rules: lifetimes and the choices where RFCs leave room.

use chrono::Duration;

use crate::throttle::ThrottleRules;

/// Lifetimes and switches that shape how grants behave.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Lifetime of an authorization code (default 5 minutes).
    pub code_ttl: Duration,
    /// Lifetime of an access token (default 1 hour).
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (default 30 days).
    pub refresh_token_ttl: Duration,
    /// Accept PKCE `plain` (off by default: S256 only).
    pub allow_plain_pkce: bool,
    /// How long after a rotation the same refresh token may be retried (default 0: never).
    pub refresh_reuse_grace: Duration,
    /// Accept plain-http redirect URIs on any host at registration (off by default: `http`
    /// only on loopback hosts).
    pub insecure_transport: bool,
    /// Brute-force throttling of sign-ins and client authentication.
    pub throttle: ThrottleRules,
    /// How long a browser sign-in lasts (default 12 hours).
    pub session_ttl: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            code_ttl: Duration::minutes(5),
            access_token_ttl: Duration::hours(1),
            refresh_token_ttl: Duration::days(30),
            allow_plain_pkce: false,
            refresh_reuse_grace: Duration::zero(),
            insecure_transport: false,
            throttle: ThrottleRules::default(),
            session_ttl: Duration::hours(12),
        }
    }
}
