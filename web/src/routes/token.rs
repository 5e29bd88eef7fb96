//! `POST /oauth/token` (RFC 6749 §3.2): authenticate the client first, then parse and run the
//! grant. Answers carry `Cache-Control: no-store` and `Pragma: no-cache`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tessera_domain::client_auth::ClientCredentials;
use tessera_domain::token_endpoint::TokenRequest;
use tessera_domain::{OAuthError, Params};

use crate::error::{no_store, TokenError};
use crate::off_executor::off_executor;
use crate::params::FormParams;
use crate::state::AppState;

/// The `Authorization` header's value, if it is readable text.
pub(crate) fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The client credentials a request presents (HTTP Basic and body). Decoded Basic
/// credentials holding a NUL character are malformed (`invalid_client`), like the body
/// parameters [`FormParams`] refuses.
pub(crate) fn client_credentials(
    req: &HttpRequest,
    params: &Params,
) -> Result<ClientCredentials, TokenError> {
    let credentials = ClientCredentials::from_request(authorization(req).as_deref(), params)?;
    if let Some((id, secret)) = &credentials.basic {
        if id.contains('\0') || secret.contains('\0') {
            return Err(OAuthError::invalid_client("malformed HTTP Basic credentials").into());
        }
    }
    Ok(credentials)
}

/// Issues tokens.
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: FormParams,
) -> Result<HttpResponse, TokenError> {
    let params = form.into_params();
    let credentials = client_credentials(&req, &params)?;
    let provider = state.provider.clone();
    let response = off_executor(move || {
        let client = provider.authenticate_client(&credentials)?;
        let request = TokenRequest::parse(&params)?;
        provider
            .exchange(&client, request)
            .map_err(TokenError::from)
    })
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(response))
}
