//! [`RegistrationError`]: the answers of dynamic client registration (RFC 7591 §3.2.2) and
//! client management (RFC 7592 §2): a refused request is 400 JSON with the RFC 7591 code, a
//! missing or bad bearer token is an RFC 6750 challenge (401), too many registrations from one
//! address is 429 with `Retry-After`, and the endpoint is 404 while registration is off.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use tessera_domain::registration::RegistrationError as Refusal;
use tessera_domain::{ErrorCode, OAuthError};

use super::{no_store, BearerError, ServerFault, TokenError};
use crate::params::MalformedParams;

/// A registration or management request that was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Refused metadata, a throttled address, an unreadable body or a server fault, answered
    /// as the token endpoint answers (400 with the RFC 7591 code, 429, 413, 408, 503).
    #[error(transparent)]
    Json(TokenError),
    /// No bearer token, or one that is not valid here (401).
    #[error(transparent)]
    Bearer(BearerError),
    /// `TESSERA_REGISTRATION=off`: the endpoint does not exist.
    #[error("dynamic client registration is off")]
    Disabled,
}

impl From<Refusal> for RegistrationError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Refused(error) => Self::Json(TokenError::OAuth(error)),
            Refusal::Unauthenticated => Self::Bearer(BearerError::Missing),
            Refusal::InvalidToken => Self::Bearer(BearerError::Refused(OAuthError::new(
                ErrorCode::InvalidToken,
                "The access token is unknown, expired or used up, or not this client's.",
            ))),
            Refusal::Disabled => Self::Disabled,
            Refusal::Throttled(seconds) => Self::Json(TokenError::OAuth(OAuthError {
                description: format!(
                    "Too many registrations from this address; try again in {seconds} seconds."
                )
                .into(),
                ..OAuthError::locked(ErrorCode::TemporarilyUnavailable, seconds)
            })),
            Refusal::Store(error) => Self::Json(TokenError::Fault(error.into())),
        }
    }
}

impl From<ServerFault> for RegistrationError {
    fn from(fault: ServerFault) -> Self {
        Self::Json(TokenError::Fault(fault))
    }
}

impl From<BearerError> for RegistrationError {
    fn from(error: BearerError) -> Self {
        Self::Bearer(error)
    }
}

/// A body that could not be read: too large (413) or too slow (408) as such, anything else
/// (not JSON) `invalid_client_metadata`.
impl From<MalformedParams> for RegistrationError {
    fn from(error: MalformedParams) -> Self {
        let refusal = OAuthError::new(ErrorCode::InvalidClientMetadata, error.text);
        Self::Json(if error.status == StatusCode::BAD_REQUEST {
            TokenError::OAuth(refusal)
        } else {
            TokenError::Unreadable(error.status, refusal)
        })
    }
}

impl ResponseError for RegistrationError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Json(error) => error.status_code(),
            Self::Bearer(error) => error.status_code(),
            Self::Disabled => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Json(error) => error.error_response(),
            Self::Bearer(error) => {
                let mut response = error.error_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Self::Disabled => no_store(&mut HttpResponse::NotFound()).json(json!({
                "error_description": "Dynamic client registration is off on this server."
            })),
        }
    }
}
