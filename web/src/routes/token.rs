//! `POST /oauth/token` (RFC 6749 §3.2): authenticate the client first ([`ClientAuth`]), then
//! parse and run the grant, in one blocking task. Answers carry `Cache-Control: no-store` and
//! `Pragma: no-cache`.

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
    let address = client_address(&req, &state.config.trusted_proxies);
    // Only the password grant may bcrypt, so only it waits for the bcrypt threads.
    let password_grant =
        auth.params().single("grant_type").ok().flatten() == Some(GrantType::Password.as_str());
    let work = auth.then(state.provider.clone(), move |provider, client, params| {
        let request = TokenRequest::parse(&params)?;
        provider
            .exchange_from(&client, request, address)
            .map_err(TokenError::from)
    });
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
