//! Extractors that turn a request into what a handler needs before it runs:
//! - [`ClientAuth`]: the form body and the client it authenticates (RFC 6749 §2.3), for the
//!   endpoints apps call (token, revocation, introspection); failures are [`TokenError`]s.
//! - [`BearerToken`]: the token of an `Authorization: Bearer` header (RFC 6750 §2.1), for
//!   protected resources; failures are [`BearerError`]s.
//! - [`client_address`]: the address throttling counts failures against.
//! - [`CsrfForm`]: a form people submitted, its CSRF token checked against the session;
//!   failures are HTML pages.
//!
//! [`TokenError`]: crate::error::TokenError
//! [`BearerError`]: crate::error::BearerError

mod bearer;
mod client_address;
mod client_auth;
mod csrf_form;

use actix_web::http::header;
use actix_web::HttpRequest;

pub use bearer::BearerToken;
pub use client_address::client_address;
pub use client_auth::ClientAuth;
pub use csrf_form::CsrfForm;

/// The `Authorization` header's value, if it is readable text; [`RepeatedAuthorization`]
/// when the request carries the header more than once (which credentials would count is
/// anyone's guess, and layers in front of Tessera may guess differently).
fn authorization(req: &HttpRequest) -> Result<Option<&str>, RepeatedAuthorization> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let first = values.next();
    if values.next().is_some() {
        return Err(RepeatedAuthorization);
    }
    Ok(first.and_then(|value| value.to_str().ok()))
}

/// A request with more than one `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RepeatedAuthorization;

/// What an app is told when it sends the header twice.
const REPEATED_AUTHORIZATION: &str = "the Authorization header was sent more than once";
