//! `POST /oauth/token` (RFC 6749 §3.2): authenticate the client first, then parse and run the
//! grant. Answers carry `Cache-Control: no-store` and `Pragma: no-cache`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tessera_domain::client_auth::ClientCredentials;
use tessera_domain::token_endpoint::TokenRequest;

use crate::error::{no_store, TokenError};
use crate::off_executor::off_executor;
use crate::params::FormParams;
use crate::startup::AppState;

/// The `Authorization` header's value, if it is readable text.
pub(crate) fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Issues tokens.
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: FormParams,
) -> Result<HttpResponse, TokenError> {
    let params = form.0;
    let credentials = ClientCredentials::from_request(authorization(&req).as_deref(), &params)?;
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
