//! [`PageError`]: failures shown to a person as an HTML page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use tessera_domain::{OAuthError, StoreError};

use super::{no_store, ServerFault};
use crate::templates::Templates;

/// A failure shown to a person as an HTML page (never cached).
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// 400 with a message (for example a malformed form).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 400 showing an OAuth error code (the authorization endpoint's error page).
    #[error("{0}")]
    OAuth(OAuthError),
    /// A request that could not be read: its body was too large (413) or too slow (408).
    #[error("unreadable request: {1}")]
    Unreadable(StatusCode, String),
    /// 403 with a message (for example a missing CSRF token).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404; says nothing about why.
    #[error("not found")]
    NotFound,
    /// The server failed.
    #[error(transparent)]
    Fault(ServerFault),
}

impl PageError {
    /// A 500 whose cause is only logged.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        Self::Fault(ServerFault::internal(error))
    }
}

fault_and_refusal_conversions!(PageError, OAuth);

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Fault(error.into())
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

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::Unreadable(status, _) => *status,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Fault(fault) => fault.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (mut builder, code, message) = match self {
            Self::BadRequest(message) | Self::Forbidden(message) => {
                (HttpResponse::build(status), None, message.as_str())
            }
            // The rest of the body is not read: close the connection rather than drain it.
            Self::Unreadable(_, message) => {
                let mut builder = HttpResponse::build(status);
                builder.force_close();
                (builder, None, message.as_str())
            }
            Self::OAuth(error) => (
                HttpResponse::build(status),
                Some(error.code.as_str()),
                error.description.as_ref(),
            ),
            Self::NotFound => (HttpResponse::build(status), None, "There is nothing here."),
            Self::Fault(fault) => (fault.respond(), None, fault.message()),
        };
        no_store(&mut builder)
            .content_type("text/html; charset=utf-8")
            .body(Templates::error_page(status, code, message))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::http::header;

    use super::*;

    #[actix_web::test]
    async fn internal_failures_do_not_leak_their_cause() {
        let error = PageError::from(StoreError::Other("secret detail".into()));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret detail"));
    }

    #[test]
    fn error_pages_are_html_and_never_cached() {
        let response = PageError::BadRequest("malformed".into()).error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let headers = response.headers();
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(headers
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
}
