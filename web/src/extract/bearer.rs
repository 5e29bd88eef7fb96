//! [`BearerToken`]: the access token a protected resource was sent.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};
use tessera_domain::bearer::token_from_header;
use tessera_domain::OAuthError;

use super::{authorization, REPEATED_AUTHORIZATION};
use crate::error::BearerError;

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1). No header,
/// another scheme or an empty token is [`BearerError::Missing`] (a bare challenge, §3.1);
/// the header sent twice is `invalid_request` (§3.1: a malformed request); a token in the
/// query string or the body is never looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// The token as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token as sent, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromRequest for BearerToken {
    type Error = BearerError;
    type Future = Ready<Result<Self, BearerError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match authorization(req) {
            Ok(header) => token_from_header(header)
                .map(|token| Self(token.to_owned()))
                .ok_or(BearerError::Missing),
            Err(_) => Err(BearerError::Refused(OAuthError::invalid_request(
                REPEATED_AUTHORIZATION,
            ))),
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header;
    use actix_web::test::TestRequest;

    use super::*;

    async fn extract(request: TestRequest) -> Result<BearerToken, BearerError> {
        let (req, mut payload) = request.to_http_parts();
        BearerToken::from_request(&req, &mut payload).await
    }

    #[actix_web::test]
    async fn a_bearer_header_yields_its_token() {
        let token =
            extract(TestRequest::get().insert_header((header::AUTHORIZATION, "Bearer abc")))
                .await
                .unwrap();
        assert_eq!(token.as_str(), "abc");
    }

    #[actix_web::test]
    async fn no_header_another_scheme_or_a_query_token_is_missing() {
        let cases = [
            TestRequest::get(),
            TestRequest::get().insert_header((header::AUTHORIZATION, "Basic YTpi")),
            TestRequest::get().insert_header((header::AUTHORIZATION, "Bearer ")),
            TestRequest::get().uri("/api/me?access_token=abc"),
        ];
        for request in cases {
            assert!(matches!(extract(request).await, Err(BearerError::Missing)));
        }
    }

    #[actix_web::test]
    async fn two_authorization_headers_are_refused() {
        let request = TestRequest::get()
            .append_header((header::AUTHORIZATION, "Bearer abc"))
            .append_header((header::AUTHORIZATION, "Bearer def"));
        let error = extract(request).await.unwrap_err();
        assert!(
            matches!(&error, BearerError::Refused(e) if e.code == tessera_domain::ErrorCode::InvalidRequest),
            "{error:?}"
        );
    }
}
