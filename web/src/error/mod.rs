//! The error responses, one type per response family:
//! - [`TokenError`]: RFC 6749 §5.2 JSON at the token, revocation and introspection endpoints;
//! - [`BearerError`]: RFC 6750 §3 challenges at protected resources;
//! - [`PageError`]: HTML pages for people (including their malformed form posts);
//! - [`AuthorizeError`]: the authorization endpoint's error page or redirect;
//! - [`RegistrationError`]: dynamic client registration and management (RFC 7591, 7592).
//!
//! What they share lives here: [`ServerFault`], the server's own failures. Storage that is
//! unavailable answers 503 with `Retry-After`; anything else is a 500. A fault is logged once,
//! with its cause chain, when the response is built, and the body says nothing about it.

/// `From<ServerFault>` and `From<tessera_domain::Error>` for a family with a `Fault`
/// variant and a variant (`$refused`) for the domain's OAuth refusals.
macro_rules! fault_and_refusal_conversions {
    ($family:ident, $refused:ident) => {
        impl From<$crate::error::ServerFault> for $family {
            fn from(fault: $crate::error::ServerFault) -> Self {
                Self::Fault(fault)
            }
        }

        impl From<tessera_domain::Error> for $family {
            fn from(error: tessera_domain::Error) -> Self {
                match error {
                    tessera_domain::Error::OAuth(error) => Self::$refused(error),
                    tessera_domain::Error::Store(error) => Self::Fault(error.into()),
                }
            }
        }
    };
}

mod authorize;
mod bearer;
mod page;
mod registration;
mod token;

use std::fmt::Write as _;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde_json::{json, Value};
use tessera_domain::{ErrorCode, StoreError};

pub use authorize::AuthorizeError;
pub use bearer::BearerError;
pub use page::PageError;
pub use registration::RegistrationError;
pub use token::TokenError;

/// Seconds a client should wait before retrying when storage is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// `error: cause: cause...` on one line, for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1; also every page).
pub fn no_store(builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
}

/// The RFC 6749 §5.2 / RFC 6750 §3 JSON body.
fn oauth_json(code: ErrorCode, description: &str) -> Value {
    json!({
        "error": code.as_str(),
        "error_description": description,
    })
}

/// What went wrong on the server's side, classified for the status code. `Display` is for
/// logs only: the cause never reaches a response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerFault {
    /// Storage is unreachable or busy: 503, try again.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServerFault {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Self::Unavailable(error_chain(&error)),
            _ => Self::Internal(error_chain(&error)),
        }
    }
}

impl ServerFault {
    /// A 500 caused by `error` (its chain is kept for the log).
    pub fn internal(error: &dyn std::error::Error) -> Self {
        Self::Internal(error_chain(error))
    }

    /// 503 or 500.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC error code: `temporarily_unavailable` or `server_error`.
    fn code(&self) -> ErrorCode {
        match self {
            Self::Unavailable(_) => ErrorCode::TemporarilyUnavailable,
            Self::Internal(_) => ErrorCode::ServerError,
        }
    }

    /// The generic text shown instead of the cause.
    fn message(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "The service is temporarily unavailable; try again shortly.",
            Self::Internal(_) => "The server met an unexpected condition.",
        }
    }

    /// Logs the fault (once: call this only while building its response) and starts the
    /// response: the status, and `Retry-After` when storage is unavailable.
    fn respond(&self) -> HttpResponseBuilder {
        match self {
            Self::Unavailable(detail) => tracing::warn!(error = %detail, "storage unavailable"),
            Self::Internal(detail) => tracing::error!(error = %detail, "internal error"),
        }
        let mut builder = HttpResponse::build(self.status());
        if let Self::Unavailable(_) = self {
            builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
        }
        builder
    }

    /// The RFC JSON body for apps.
    fn json(&self) -> Value {
        oauth_json(self.code(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_storage_is_a_503() {
        let unavailable = ServerFault::from(StoreError::Unavailable("pool timed out".into()));
        let other = ServerFault::from(StoreError::Other("boom".into()));
        assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = unavailable.respond().finish();
        assert!(response.headers().get(header::RETRY_AFTER).is_some());
        assert!(other
            .respond()
            .finish()
            .headers()
            .get(header::RETRY_AFTER)
            .is_none());
    }

    #[test]
    fn the_json_body_names_the_rfc_code_and_hides_the_cause() {
        let body = ServerFault::Internal("secret detail".into()).json();
        assert_eq!(body["error"], "server_error");
        assert!(!body.to_string().contains("secret detail"));
    }
}
