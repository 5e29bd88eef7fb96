//! `POST /oauth/device_authorization` (RFC 8628 §3.1): the client authenticates as at the
//! token endpoint ([`ClientAuth`], public clients included) and gets a device code to poll
//! with and a user code for its user to enter at `/device`
//! ([`Provider::device_authorization`](tessera_domain::Provider::device_authorization)).
//! Success is 200 JSON with `Cache-Control: no-store`; errors are the token endpoint's
//! ([`TokenError`]): `unauthorized_client` for a client not registered for the grant,
//! `invalid_scope`, 401 `invalid_client`.

use actix_web::{web, HttpResponse};

use crate::error::{no_store, TokenError};
use crate::extract::ClientAuth;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Starts a device authorization.
pub async fn post(
    state: web::Data<AppState>,
    auth: ClientAuth,
) -> Result<HttpResponse, TokenError> {
    let started = off_executor(
        auth.then(state.provider.clone(), |provider, client, params| {
            provider
                .device_authorization(&client, &params)
                .map_err(TokenError::from)
        }),
    )
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(started))
}
