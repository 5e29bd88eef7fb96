//! `POST /oauth/introspect` (RFC 7662): the client authenticates ([`ClientAuth`], any of its
//! registered methods, `none` included), then learns what one of its own tokens is. The
//! answer is 200 JSON with `Cache-Control: no-store`: the token's description, or exactly
//! `{"active": false}`. Errors are the token endpoint's ([`TokenError`]): the same RFC 6749
//! JSON and statuses (400 `invalid_request` without `token`, 401 `invalid_client`, 503).

use actix_web::{web, HttpResponse};

use crate::error::{no_store, TokenError};
use crate::extract::ClientAuth;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Describes a token.
pub async fn post(
    state: web::Data<AppState>,
    auth: ClientAuth,
) -> Result<HttpResponse, TokenError> {
    let introspection = off_executor(auth.then(
        state.provider.clone(),
        |provider, client, params| {
            provider
                .introspect(&client, &params)
                .map_err(TokenError::from)
        },
    ))
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(introspection))
}
