//! `POST /oauth/par` (RFC 9126): the client authenticates as at the token endpoint
//! ([`ClientAuth`], any of its registered methods, `none` included) and pushes its
//! authorization request, which the domain validates by the authorization endpoint's rules
//! ([`Provider::push_authorization_request`](tessera_domain::Provider::push_authorization_request)).
//! Success is 201 JSON `{"request_uri": "urn:ietf:params:oauth:request_uri:...",
//! "expires_in": 60}` with `Cache-Control: no-store`; errors are the token endpoint's
//! ([`TokenError`]): 400 with the authorization endpoint's error code, 401 `invalid_client`.

use actix_web::{web, HttpResponse};

use crate::error::{no_store, TokenError};
use crate::extract::ClientAuth;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Stores a pushed authorization request.
pub async fn post(
    state: web::Data<AppState>,
    auth: ClientAuth,
) -> Result<HttpResponse, TokenError> {
    let pushed = off_executor(
        auth.then(state.provider.clone(), |provider, client, params| {
            provider
                .push_authorization_request(&client, &params)
                .map_err(TokenError::from)
        }),
    )
    .await?;
    Ok(no_store(&mut HttpResponse::Created()).json(pushed))
}
