//! [`TypedSession`]: the signed-in user, their recorded session and the CSRF token, kept in
//! the encrypted session cookie. The cookie is renewed on sign-in and purged on sign-out;
//! CSRF tokens are compared in constant time.
//!
//! The cookie names a recorded session ([`tessera_domain::browser_session`]): the user is
//! signed in only while that record is live, so signing out ends the session on every
//! process (`current_user` in the routes checks it). The cookie also carries the sign-in
//! time and counts as signed out once it is older than `TESSERA_SESSION_TTL`
//! ([`Policy::session_ttl`](tessera_domain::Policy::session_ttl)); see [`is_fresh`].

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::{ready, Ready};
use rand::rngs::OsRng;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use tessera_domain::browser_session::SessionId;
use tessera_domain::{Clock as _, SystemClock, UserId};
use uuid::Uuid;

use crate::config::DEFAULT_SESSION_TTL;
use crate::error::PageError;
use crate::state::AppState;

const USER_ID: &str = "user_id";
const SIGNED_IN_AT: &str = "signed_in_at";
const SESSION_ID: &str = "session_id";
const CSRF_TOKEN: &str = "csrf_token";
const FLASH: &str = "flash";

/// Whether a sign-in at `signed_in_at` is still valid at `now` (both epoch seconds) for a
/// session lifetime `ttl`: younger than `ttl`. A sign-in time a little ahead of `now` (clock
/// skew between processes) counts as fresh, but not one a whole lifetime ahead.
pub fn is_fresh(signed_in_at: i64, now: i64, ttl: Duration) -> bool {
    let lifetime = ttl.num_seconds();
    let age = now.saturating_sub(signed_in_at);
    -lifetime < age && age < lifetime
}

/// The session of the current request.
pub struct TypedSession {
    session: Session,
    ttl: Duration,
    /// The server's time when the request arrived (its clock, fixed in tests).
    now: DateTime<Utc>,
}

impl TypedSession {
    /// The signed-in user, if any. An unreadable value, or a sign-in older than the session
    /// lifetime, counts as signed out (and the stale sign-in is forgotten).
    pub fn user_id(&self) -> Option<UserId> {
        let user = self.session.get::<String>(USER_ID).ok().flatten()?;
        let signed_in_at = self.session.get::<i64>(SIGNED_IN_AT).ok().flatten();
        let now = self.now.timestamp();
        if !signed_in_at.is_some_and(|at| is_fresh(at, now, self.ttl)) {
            self.forget_user();
            return None;
        }
        Uuid::parse_str(&user).ok().map(UserId)
    }

    /// When the signed-in user entered their password (OpenID Connect `auth_time`); `None`
    /// when nobody is signed in.
    pub fn signed_in_at(&self) -> Option<DateTime<Utc>> {
        self.user_id()?;
        let at = self.session.get::<i64>(SIGNED_IN_AT).ok().flatten()?;
        DateTime::from_timestamp(at, 0)
    }

    /// The recorded session this sign-in got (also recorded on the authorizations it
    /// approves); `None` when nobody is signed in.
    pub fn session_id(&self) -> Option<SessionId> {
        self.user_id()?;
        let id = self.session.get::<String>(SESSION_ID).ok().flatten()?;
        SessionId::parse(&id)
    }

    /// The session's CSRF token, created on first use.
    pub fn csrf_token(&self) -> Result<String, PageError> {
        if let Some(token) = self.session.get::<String>(CSRF_TOKEN).ok().flatten() {
            return Ok(token);
        }
        let token = random_token();
        self.session.insert(CSRF_TOKEN, &token)?;
        Ok(token)
    }

    /// Checks a submitted CSRF token: 403 when it is missing or wrong.
    pub fn verify_csrf(&self, presented: Option<&str>) -> Result<(), PageError> {
        let refused = || {
            PageError::Forbidden(
                "The form has expired or did not come from this site. Go back, reload the page and try again."
                    .to_owned(),
            )
        };
        let expected = self
            .session
            .get::<String>(CSRF_TOKEN)
            .ok()
            .flatten()
            .ok_or_else(refused)?;
        let presented = presented.ok_or_else(refused)?;
        if bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(refused())
        }
    }

    /// Signs `user` in now under the recorded session `id`, with a fresh cookie and a fresh
    /// CSRF token.
    pub fn sign_in(&self, user: UserId, id: SessionId) -> Result<(), PageError> {
        self.session.renew();
        self.session.insert(USER_ID, user.0.to_string())?;
        self.session.insert(SESSION_ID, id.to_string())?;
        self.session.insert(SIGNED_IN_AT, self.now.timestamp())?;
        self.session.insert(CSRF_TOKEN, random_token())?;
        Ok(())
    }

    /// Forgets the signed-in user but keeps the CSRF token, so a page rendered in the same
    /// request still carries a working form.
    pub fn forget_user(&self) {
        self.session.remove(USER_ID);
        self.session.remove(SIGNED_IN_AT);
        self.session.remove(SESSION_ID);
    }

    /// Keeps `message` for the next page this browser is shown ("Client deleted.").
    pub fn flash(&self, message: &str) -> Result<(), PageError> {
        self.session.insert(FLASH, message)?;
        Ok(())
    }

    /// The message kept for this page, which then is gone. Without one the session is not
    /// touched, so the page sets no cookie.
    pub fn take_flash(&self) -> Option<String> {
        let message = self.session.get::<String>(FLASH).ok().flatten()?;
        self.session.remove(FLASH);
        Some(message)
    }

    /// Forgets everything; the cookie is removed.
    pub fn purge(&self) {
        self.session.purge();
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>();
        let ttl = state.map_or(DEFAULT_SESSION_TTL, |state| state.config.policy.session_ttl);
        let now = state.map_or_else(|| SystemClock.now(), |state| state.provider.now());
        ready(Ok(Self {
            session: req.get_session(),
            ttl,
            now,
        }))
    }
}

/// 256 random bits, base64url.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED_IN: i64 = 1_700_000_000;

    #[test]
    fn a_sign_in_is_fresh_until_its_lifetime_has_passed() {
        let ttl = Duration::hours(12);
        let lifetime = ttl.num_seconds();
        assert!(is_fresh(SIGNED_IN, SIGNED_IN, ttl));
        assert!(is_fresh(SIGNED_IN, SIGNED_IN + lifetime - 1, ttl));
        assert!(!is_fresh(SIGNED_IN, SIGNED_IN + lifetime, ttl));
        assert!(!is_fresh(SIGNED_IN, SIGNED_IN + 10 * lifetime, ttl));
    }

    #[test]
    fn a_sign_in_time_slightly_ahead_of_the_clock_is_fresh_but_not_a_lifetime_ahead() {
        let ttl = Duration::hours(12);
        assert!(is_fresh(SIGNED_IN + 5, SIGNED_IN, ttl));
        assert!(!is_fresh(SIGNED_IN + ttl.num_seconds(), SIGNED_IN, ttl));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let ttl = Duration::hours(12);
        assert!(!is_fresh(i64::MIN, i64::MAX, ttl));
        assert!(!is_fresh(i64::MAX, i64::MIN, ttl));
    }
}
