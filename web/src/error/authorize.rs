//! [`AuthorizeError`]: the authorization endpoint's error page or error redirect.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use tessera_domain::authorize::AuthorizeError as Domain;

use super::{PageError, ServerFault};

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
    pub fn from_domain(error: Domain, after_post: bool) -> Self {
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

impl From<ServerFault> for AuthorizeError {
    fn from(fault: ServerFault) -> Self {
        Self::Page(fault.into())
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
