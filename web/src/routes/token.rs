//! `POST /oauth/token` (RFC 6749 §3.2): authenticate the client first ([`ClientAuth`]), then
//! parse and run the grant. Answers carry `Cache-Control: no-store` and `Pragma: no-cache`.

use actix_web::{web, HttpResponse};
use tessera_domain::token_endpoint::TokenRequest;

use crate::error::{no_store, TokenError};
use crate::extract::ClientAuth;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Issues tokens.
pub async fn post(
    state: web::Data<AppState>,
    auth: ClientAuth,
) -> Result<HttpResponse, TokenError> {
    let ClientAuth { client, params } = auth;
    let request = TokenRequest::parse(&params)?;
    let provider = state.provider.clone();
    let response = off_executor(move || {
        provider
            .exchange(&client, request)
            .map_err(TokenError::from)
    })
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(response))
}
