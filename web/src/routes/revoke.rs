//! `POST /oauth/revoke` (RFC 7009): the client authenticates ([`ClientAuth`]), then its token
//! is revoked. Unknown tokens succeed too (§2.2); the answer is an empty JSON object.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::{no_store, TokenError};
use crate::extract::ClientAuth;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Revokes a token.
pub async fn post(
    state: web::Data<AppState>,
    auth: ClientAuth,
) -> Result<HttpResponse, TokenError> {
    off_executor(
        auth.then(state.provider.clone(), |provider, client, params| {
            provider.revoke(&client, &params).map_err(TokenError::from)
        }),
    )
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(json!({})))
}
