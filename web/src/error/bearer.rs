//! [`BearerError`]: RFC 6750 §3 failures at bearer-protected resources.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use tessera_domain::{ErrorCode, OAuthError};

use super::{oauth_json, ServerFault};

/// An RFC 6750 §3 failure at a bearer-protected resource.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// No `Authorization: Bearer` header: a bare challenge.
    #[error("no bearer token")]
    Missing,
    /// `invalid_token` (401), `insufficient_scope` (403) or `invalid_request` (400).
    #[error("{0}")]
    Refused(OAuthError),
    /// The server failed.
    #[error(transparent)]
    Fault(ServerFault),
}

fault_and_refusal_conversions!(BearerError, Refused);

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
            Self::Refused(error) if error.code == ErrorCode::InvalidRequest => {
                StatusCode::BAD_REQUEST
            }
            Self::Refused(_) => StatusCode::UNAUTHORIZED,
            Self::Fault(fault) => fault.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Missing => HttpResponse::build(self.status_code())
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
                .json(json!({"error_description": "A bearer access token is required."})),
            Self::Refused(error) => {
                let challenge = format!(
                    "Bearer realm=\"tessera\", error=\"{}\", error_description=\"{}\"",
                    error.code.as_str(),
                    quoted(&error.description)
                );
                HttpResponse::build(self.status_code())
                    .insert_header((header::WWW_AUTHENTICATE, challenge))
                    .json(oauth_json(error.code, &error.description))
            }
            Self::Fault(fault) => fault.respond().json(fault.json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_statuses_follow_rfc_6750() {
        assert_eq!(BearerError::Missing.status_code(), StatusCode::UNAUTHORIZED);
        let scope = OAuthError::new(ErrorCode::InsufficientScope, "x");
        assert_eq!(
            BearerError::Refused(scope).status_code(),
            StatusCode::FORBIDDEN
        );
        let repeated = OAuthError::new(ErrorCode::InvalidRequest, "x");
        assert_eq!(
            BearerError::Refused(repeated).status_code(),
            StatusCode::BAD_REQUEST
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
