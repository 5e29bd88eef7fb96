//! The error responses, one type per response family:
//! - [`TokenError`]: RFC 6749 §5.2 JSON at the token and revocation endpoints (and for any
//!   malformed request body);
//! - [`BearerError`]: RFC 6750 §3 challenges at protected resources;
//! - [`PageError`]: HTML pages for people;
//! - [`AuthorizeError`]: the authorization endpoint's error page or redirect.
//!
//! Storage that is unavailable answers 503. Internal failures are logged once, with their
//! cause chain, when the response is built, and the body says nothing about them.

use std::fmt::Write as _;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde_json::json;
use tessera_domain::{Error, ErrorCode, OAuthError, StoreError};

use crate::off_executor::Cancelled;
use crate::templates::Templates;

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

fn log_internal(detail: &str) {
    tracing::error!(error = %detail, "internal error");
}

fn log_unavailable(detail: &str) {
    tracing::warn!(error = %detail, "storage unavailable");
}

/// What went wrong on the server's side, classified for the status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFault {
    /// Storage is unreachable or busy: 503, try again.
    Unavailable(String),
    /// Anything else: 500. The text goes to the log only.
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
    fn log(&self) {
        match self {
            Self::Unavailable(detail) => log_unavailable(detail),
            Self::Internal(detail) => log_internal(detail),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An RFC 6749 §5.2 JSON error from an endpoint that apps call.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Refused with an OAuth error code.
    #[error("{0}")]
    OAuth(OAuthError),
    /// The server failed.
    #[error("server fault: {0:?}")]
    Fault(ServerFault),
}

impl TokenError {
    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::OAuth(OAuthError::invalid_request(description.into()))
    }
}

impl From<OAuthError> for TokenError {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl From<StoreError> for TokenError {
    fn from(error: StoreError) -> Self {
        Self::Fault(error.into())
    }
}

impl From<Error> for TokenError {
    fn from(error: Error) -> Self {
        match error {
            Error::OAuth(error) => Self::OAuth(error),
            Error::Store(error) => error.into(),
        }
    }
}

impl From<Cancelled> for TokenError {
    fn from(error: Cancelled) -> Self {
        Self::Fault(ServerFault::Internal(error.to_string()))
    }
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::OAuth(error) if error.code == ErrorCode::InvalidClient => {
                StatusCode::UNAUTHORIZED
            }
            Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::Fault(fault) => fault.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        no_store(&mut builder);
        match self {
            Self::OAuth(error) => {
                if error.code == ErrorCode::InvalidClient {
                    builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"tessera\""));
                }
                builder.json(json!({
                    "error": error.code.as_str(),
                    "error_description": error.description,
                }))
            }
            Self::Fault(fault) => {
                fault.log();
                match fault {
                    ServerFault::Unavailable(_) => builder
                        .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()))
                        .json(json!({
                            "error": ErrorCode::TemporarilyUnavailable.as_str(),
                            "error_description": "The server is temporarily unavailable; try again shortly.",
                        })),
                    ServerFault::Internal(_) => builder.json(json!({
                        "error": ErrorCode::ServerError.as_str(),
                        "error_description": "The server met an unexpected condition.",
                    })),
                }
            }
        }
    }
}

/// An RFC 6750 §3 failure at a bearer-protected resource.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// No `Authorization: Bearer` header: a bare challenge.
    #[error("no bearer token")]
    Missing,
    /// `invalid_token` (401) or `insufficient_scope` (403).
    #[error("{0}")]
    Refused(OAuthError),
    /// The server failed.
    #[error("server fault: {0:?}")]
    Fault(ServerFault),
}

impl From<Error> for BearerError {
    fn from(error: Error) -> Self {
        match error {
            Error::OAuth(error) => Self::Refused(error),
            Error::Store(error) => Self::Fault(error.into()),
        }
    }
}

impl From<Cancelled> for BearerError {
    fn from(error: Cancelled) -> Self {
        Self::Fault(ServerFault::Internal(error.to_string()))
    }
}

/// Quotes a value for an auth-param: no `"` or `\` inside.
fn quoted(text: &str) -> String {
    text.chars().filter(|c| *c != '"' && *c != '\\').collect()
}

impl ResponseError for BearerError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing => StatusCode::UNAUTHORIZED,
            Self::Refused(error) if error.code == ErrorCode::InsufficientScope => {
                StatusCode::FORBIDDEN
            }
            Self::Refused(_) => StatusCode::UNAUTHORIZED,
            Self::Fault(fault) => fault.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        match self {
            Self::Missing => builder
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
                .json(json!({"error_description": "A bearer access token is required."})),
            Self::Refused(error) => {
                let challenge = format!(
                    "Bearer realm=\"tessera\", error=\"{}\", error_description=\"{}\"",
                    error.code.as_str(),
                    quoted(&error.description)
                );
                builder
                    .insert_header((header::WWW_AUTHENTICATE, challenge))
                    .json(json!({
                        "error": error.code.as_str(),
                        "error_description": error.description,
                    }))
            }
            Self::Fault(fault) => {
                fault.log();
                if matches!(fault, ServerFault::Unavailable(_)) {
                    builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
                }
                builder.json(json!({
                    "error": match fault {
                        ServerFault::Unavailable(_) => ErrorCode::TemporarilyUnavailable.as_str(),
                        ServerFault::Internal(_) => ErrorCode::ServerError.as_str(),
                    }
                }))
            }
        }
    }
}

/// A failure shown to a person as an HTML page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// 400 with a message.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 400 showing an OAuth error code (the authorization endpoint's error page).
    #[error("{0}")]
    OAuth(OAuthError),
    /// 403 with a message (for example a missing CSRF token).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404; says nothing about why.
    #[error("not found")]
    NotFound,
    /// The server failed.
    #[error("server fault: {0:?}")]
    Fault(ServerFault),
}

impl PageError {
    /// A 500 whose cause is only logged.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        Self::Fault(ServerFault::Internal(error_chain(error)))
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Fault(error.into())
    }
}

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        match error {
            Error::OAuth(error) => Self::OAuth(error),
            Error::Store(error) => error.into(),
        }
    }
}

impl From<Cancelled> for PageError {
    fn from(error: Cancelled) -> Self {
        Self::internal(&error)
    }
}

impl From<tera::Error> for PageError {
    fn from(error: tera::Error) -> Self {
        Self::internal(&error)
    }
}

impl From<actix_session::SessionInsertError> for PageError {
    fn from(error: actix_session::SessionInsertError) -> Self {
        Self::internal(&error)
    }
}

impl From<actix_session::SessionGetError> for PageError {
    fn from(error: actix_session::SessionGetError) -> Self {
        Self::internal(&error)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Fault(fault) => fault.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (code, message) = match self {
            Self::BadRequest(message) | Self::Forbidden(message) => (None, message.clone()),
            Self::OAuth(error) => (Some(error.code.as_str()), error.description.to_string()),
            Self::NotFound => (None, "There is nothing here.".to_owned()),
            Self::Fault(fault) => {
                fault.log();
                let message = match fault {
                    ServerFault::Unavailable(_) => {
                        "The service is temporarily unavailable. Please try again shortly."
                    }
                    ServerFault::Internal(_) => "Something went wrong on our side.",
                };
                (None, message.to_owned())
            }
        };
        let mut builder = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
        }
        builder
            .content_type("text/html; charset=utf-8")
            .body(Templates::error_page(status, code, &message))
    }
}

/// The authorization endpoint's failures: an error page (the client or redirect URI is in
/// doubt) or a redirect to the client carrying `error` and `state`.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// Shown to the user; never redirected.
    #[error(transparent)]
    Page(#[from] PageError),
    /// Redirected to the client (302 after GET, 303 after POST).
    #[error("redirect to the client with an error")]
    Redirect {
        /// The URL with `error` and `state`.
        location: String,
        /// 302 or 303.
        status: StatusCode,
    },
}

impl AuthorizeError {
    /// Maps the domain's answer; `after_post` picks 303 over 302.
    pub fn from_domain(error: tessera_domain::authorize::AuthorizeError, after_post: bool) -> Self {
        use tessera_domain::authorize::AuthorizeError as Domain;
        match error {
            Domain::Page(error) => Self::Page(PageError::OAuth(error)),
            Domain::Redirect(location) => Self::Redirect {
                location,
                status: if after_post {
                    StatusCode::SEE_OTHER
                } else {
                    StatusCode::FOUND
                },
            },
            Domain::Store(error) => Self::Page(error.into()),
        }
    }
}

impl From<Cancelled> for AuthorizeError {
    fn from(error: Cancelled) -> Self {
        Self::Page(error.into())
    }
}

impl ResponseError for AuthorizeError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Page(error) => error.status_code(),
            Self::Redirect { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Page(error) => error.error_response(),
            Self::Redirect { location, status } => HttpResponse::build(*status)
                .insert_header((header::LOCATION, location.as_str()))
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    #[actix_web::test]
    async fn invalid_client_is_401_with_a_basic_challenge_and_no_store() {
        let response = TokenError::OAuth(OAuthError::invalid_client("nope")).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let headers = response.headers();
        assert!(headers.get(header::WWW_AUTHENTICATE).is_some());
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(headers.get(header::PRAGMA).unwrap(), "no-cache");
        let body = to_bytes(response.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "invalid_client");
    }

    #[actix_web::test]
    async fn unavailable_storage_is_503_temporarily_unavailable_with_retry_after() {
        let error = TokenError::from(StoreError::Unavailable("pool timed out".into()));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get(header::RETRY_AFTER).is_some());
        let body = to_bytes(response.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }

    #[actix_web::test]
    async fn internal_failures_do_not_leak_their_cause() {
        let error = PageError::from(StoreError::Other("secret detail".into()));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret detail"));
    }

    #[test]
    fn bearer_statuses_follow_rfc_6750() {
        assert_eq!(BearerError::Missing.status_code(), StatusCode::UNAUTHORIZED);
        let scope = OAuthError::new(ErrorCode::InsufficientScope, "x");
        assert_eq!(
            BearerError::Refused(scope).status_code(),
            StatusCode::FORBIDDEN
        );
        let token = OAuthError::new(ErrorCode::InvalidToken, "x");
        let response = BearerError::Refused(token).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers().get(header::WWW_AUTHENTICATE).unwrap();
        assert!(challenge
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\""));
    }
}
