//! `GET /oauth/jwks`: the JWK Set (RFC 7517 §5) of the keys that sign this server's JWTs,
//! public members only, cacheable for [`JWKS_MAX_AGE`].

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::{ServerFault, TokenError};
use crate::keys::JWKS_MAX_AGE;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// The published keys, with `Cache-Control: public, max-age=...`.
pub async fn get(state: web::Data<AppState>) -> Result<HttpResponse, TokenError> {
    let keyring = state.keyring.clone();
    let jwks = off_executor(move || {
        keyring.jwks().map_err(|error| {
            TokenError::from(ServerFault::from(tessera_domain::StoreError::from(error)))
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", JWKS_MAX_AGE.num_seconds()),
        ))
        .json(jwks))
}
