//! The server's configurable rules: lifetimes and the choices where RFCs leave room.

use chrono::Duration;

use crate::jwt_access_token::AccessTokenFormat;
use crate::registration::RegistrationMode;
use crate::throttle::ThrottleRules;

/// Lifetimes and switches that shape how grants behave.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Lifetime of an authorization code (default 5 minutes).
    pub code_ttl: Duration,
    /// Lifetime of an access token (default 1 hour).
    pub access_token_ttl: Duration,
    /// Lifetime of a JWT access token (default 5 minutes): short, because a resource server
    /// that validates it on its own learns of its revocation only when it expires.
    pub jwt_access_token_ttl: Duration,
    /// How access tokens look for clients that do not choose (default opaque).
    pub access_token_format: AccessTokenFormat,
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
    /// Every client must push its authorization requests (RFC 9126; default off).
    pub require_pushed_requests: bool,
    /// How long a device code lives (`TESSERA_DEVICE_CODE_TTL`, default 600 s).
    pub device_code_ttl: Duration,
    /// Who may register clients dynamically (`TESSERA_REGISTRATION`, default open).
    pub registration: RegistrationMode,
}

impl Policy {
    /// The longest a JWT this server signs (an ID token or a JWT access token) lives, and so
    /// how long a superseded signing key must stay published.
    pub fn signed_token_ttl(&self) -> Duration {
        self.access_token_ttl.max(self.jwt_access_token_ttl)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            code_ttl: Duration::minutes(5),
            access_token_ttl: Duration::hours(1),
            jwt_access_token_ttl: Duration::minutes(5),
            access_token_format: AccessTokenFormat::Opaque,
            refresh_token_ttl: Duration::days(30),
            allow_plain_pkce: false,
            refresh_reuse_grace: Duration::zero(),
            insecure_transport: false,
            throttle: ThrottleRules::default(),
            session_ttl: Duration::hours(12),
            require_pushed_requests: false,
            device_code_ttl: crate::device_code::DEFAULT_DEVICE_CODE_TTL,
            registration: RegistrationMode::Open,
        }
    }
}
