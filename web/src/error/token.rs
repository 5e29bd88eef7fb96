//! [`TokenError`]: RFC 6749 §5.2 JSON at the endpoints apps call (token, revocation,
//! introspection). Introspection (RFC 7662 §2.3) answers its errors exactly as the token
//! endpoint does, so the three share this one type.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use tessera_domain::{ErrorCode, OAuthError};

use super::{no_store, oauth_json, ServerFault};

/// An RFC 6749 §5.2 JSON error from an endpoint that apps call; always `no-store`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Refused with an OAuth error code; `invalid_client` is 401 with a Basic challenge.
    #[error("{0}")]
    OAuth(OAuthError),
    /// A request that could not be read: its body was too large (413) or too slow (408).
    #[error("{1}")]
    Unreadable(StatusCode, OAuthError),
    /// The server failed.
    #[error(transparent)]
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

fault_and_refusal_conversions!(TokenError, OAuth);

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::OAuth(error) if error.retry_after.is_some() => StatusCode::TOO_MANY_REQUESTS,
            Self::OAuth(error) if error.code == ErrorCode::InvalidClient => {
                StatusCode::UNAUTHORIZED
            }
            Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::Unreadable(status, _) => *status,
            Self::Fault(fault) => fault.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::OAuth(error) => {
                let mut builder = HttpResponse::build(self.status_code());
                if let Some(seconds) = error.retry_after {
                    builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
                } else if error.code == ErrorCode::InvalidClient {
                    builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"tessera\""));
                }
                no_store(&mut builder).json(oauth_json(error.code, &error.description))
            }
            // The rest of the body is not read: close the connection rather than drain it.
            Self::Unreadable(status, error) => no_store(HttpResponse::build(*status).force_close())
                .json(oauth_json(error.code, &error.description)),
            Self::Fault(fault) => no_store(&mut fault.respond()).json(fault.json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use tessera_domain::{Error, StoreError};

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
        let error = TokenError::from(Error::Store(StoreError::Unavailable(
            "pool timed out".into(),
        )));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get(header::RETRY_AFTER).is_some());
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
}
