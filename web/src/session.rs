//! [`TypedSession`]: the signed-in user and the CSRF token, kept in the encrypted session
//! cookie. The session is renewed on sign-in and purged on sign-out; CSRF tokens are compared
//! in constant time.

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::future::{ready, Ready};
use rand::rngs::OsRng;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use tessera_domain::UserId;
use uuid::Uuid;

use crate::error::PageError;

const USER_ID: &str = "user_id";
const CSRF_TOKEN: &str = "csrf_token";

/// The session of the current request.
pub struct TypedSession(Session);

impl TypedSession {
    /// The signed-in user, if any (an unreadable value counts as signed out).
    pub fn user_id(&self) -> Option<UserId> {
        let text = self.0.get::<String>(USER_ID).ok().flatten()?;
        Uuid::parse_str(&text).ok().map(UserId)
    }

    /// The session's CSRF token, created on first use.
    pub fn csrf_token(&self) -> Result<String, PageError> {
        if let Some(token) = self.0.get::<String>(CSRF_TOKEN).ok().flatten() {
            return Ok(token);
        }
        let token = random_token();
        self.0.insert(CSRF_TOKEN, &token)?;
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
            .0
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

    /// Signs `user` in under a fresh session id and a fresh CSRF token.
    pub fn sign_in(&self, user: UserId) -> Result<(), PageError> {
        self.0.renew();
        self.0.insert(USER_ID, user.0.to_string())?;
        self.0.insert(CSRF_TOKEN, random_token())?;
        Ok(())
    }

    /// Forgets everything; the cookie is removed.
    pub fn purge(&self) {
        self.0.purge();
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.get_session())))
    }
}

/// 256 random bits, base64url.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
