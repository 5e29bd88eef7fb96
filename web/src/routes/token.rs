//! `POST /oauth/token` (RFC 6749 §3.2): authenticate the client first ([`ClientAuth`]), then
//! parse and run the grant. Answers carry `Cache-Control: no-store` and `Pragma: no-cache`.

use actix_web::{web, HttpRequest, HttpResponse};
use tessera_domain::token_endpoint::TokenRequest;
use tessera_domain::GrantType;

use crate::error::{no_store, TokenError};
use crate::extract::{client_address, ClientAuth};
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Issues tokens.
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: ClientAuth,
) -> Result<HttpResponse, TokenError> {
    let ClientAuth { client, params } = auth;
    let request = TokenRequest::parse(&params)?;
    let provider = state.provider.clone();
    let address = client_address(&req, &state.config.trusted_proxies);
    let password_grant = request.grant_type() == GrantType::Password;
    let work = move || {
        provider
            .exchange_from(&client, request, address)
            .map_err(TokenError::from)
    };
    // Only the password grant may bcrypt, so only it waits for the bcrypt threads.
    let response = if password_grant {
        state.bcrypt.run(work).await
    } else {
        off_executor(work).await
    };
    if let Err(TokenError::OAuth(error)) = &response {
        if error.retry_after.is_some() {
            tracing::warn!(
                error = error.code.as_str(),
                "token request refused: locked out"
            );
        }
    }
    let response = response?;
    Ok(no_store(&mut HttpResponse::Ok()).json(response))
}
