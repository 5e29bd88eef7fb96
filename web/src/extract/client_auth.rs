//! [`ClientAuth`]: the form body of a request from an app, and the client credentials it
//! presents.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use tessera_domain::client_auth::ClientCredentials;
use tessera_domain::{Client, OAuthError, Params, Provider};
use tessera_persistence::Database;

use super::{authorization, REPEATED_AUTHORIZATION};
use crate::error::TokenError;
use crate::params::FormParams;

/// A request from an app (RFC 6749 §2.3), for the endpoints apps call: its body, read as
/// [`FormParams`] reads it (same formats, limits and `invalid_request` answers), and the
/// client credentials of HTTP Basic and the body, not yet checked. [`Self::then`] checks
/// them and runs the endpoint's work in one blocking task: bad credentials are 401
/// `invalid_client`; unavailable storage is 503.
#[derive(Debug)]
pub struct ClientAuth {
    credentials: ClientCredentials,
    params: Params,
}

impl ClientAuth {
    /// Every parameter of the body, `client_id` and `client_secret` included.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Blocking work (for [`off_executor`](crate::off_executor::off_executor) or the bcrypt
    /// threads) that authenticates the client with
    /// [`Provider::authenticate_client`](tessera_domain::Provider::authenticate_client) and
    /// then runs `work` for it with the request's parameters.
    pub fn then<T>(
        self,
        provider: Arc<Provider<Database>>,
        work: impl FnOnce(&Provider<Database>, Client, Params) -> Result<T, TokenError> + Send + 'static,
    ) -> impl FnOnce() -> Result<T, TokenError> + Send + 'static {
        move || {
            let client = provider.authenticate_client(&self.credentials)?;
            work(&provider, client, self.params)
        }
    }
}

impl FromRequest for ClientAuth {
    type Error = TokenError;
    type Future = LocalBoxFuture<'static, Result<Self, TokenError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = FormParams::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let params = form.await?.into_params();
            let credentials = presented_credentials(&req, &params)?;
            Ok(Self {
                credentials,
                params,
            })
        })
    }
}

/// The client credentials a request presents (HTTP Basic and body). Decoded Basic
/// credentials holding a NUL character are malformed (`invalid_client`), like the body
/// parameters [`FormParams`] refuses; so are two `Authorization` headers, which are two
/// authentication attempts in one request (RFC 6749 §2.3).
fn presented_credentials(
    req: &HttpRequest,
    params: &Params,
) -> Result<ClientCredentials, TokenError> {
    let header =
        authorization(req).map_err(|_| OAuthError::invalid_client(REPEATED_AUTHORIZATION))?;
    let credentials = ClientCredentials::from_request(header, params)?;
    if let Some((id, secret)) = &credentials.basic {
        if id.contains('\0') || secret.contains('\0') {
            return Err(OAuthError::invalid_client("malformed HTTP Basic credentials").into());
        }
    }
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header;
    use actix_web::test::TestRequest;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use tessera_domain::ErrorCode;

    use super::*;

    fn oauth_code(result: Result<ClientCredentials, TokenError>) -> Option<ErrorCode> {
        match result {
            Err(TokenError::OAuth(error)) => Some(error.code),
            _ => None,
        }
    }

    #[test]
    fn basic_credentials_with_a_nul_character_are_invalid_client() {
        let encoded = STANDARD.encode("id%00:secret");
        let req = TestRequest::post()
            .insert_header((header::AUTHORIZATION, format!("Basic {encoded}")))
            .to_http_request();
        let result = presented_credentials(&req, &Params::default());
        assert_eq!(oauth_code(result), Some(ErrorCode::InvalidClient));
    }

    #[test]
    fn two_authorization_headers_are_invalid_client() {
        let basic = format!("Basic {}", STANDARD.encode("id:secret"));
        let req = TestRequest::post()
            .append_header((header::AUTHORIZATION, basic.as_str()))
            .append_header((header::AUTHORIZATION, basic.as_str()))
            .to_http_request();
        let result = presented_credentials(&req, &Params::default());
        assert_eq!(oauth_code(result), Some(ErrorCode::InvalidClient));
    }

    #[actix_web::test]
    async fn a_malformed_body_is_invalid_request_before_any_credential_check() {
        let (req, mut payload) = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{}")
            .to_http_parts();
        let error = ClientAuth::from_request(&req, &mut payload)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, TokenError::OAuth(e) if e.code == ErrorCode::InvalidRequest),
            "{error:?}"
        );
    }
}
