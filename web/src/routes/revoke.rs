//! `POST /oauth/revoke` (RFC 7009): the client authenticates, then its token is revoked.
//! Unknown tokens succeed too (§2.2); the answer is an empty JSON object.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::{no_store, TokenError};
use crate::off_executor::off_executor;
use crate::params::FormParams;
use crate::routes::token::client_credentials;
use crate::state::AppState;

/// Revokes a token.
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: FormParams,
) -> Result<HttpResponse, TokenError> {
    let params = form.into_params();
    let credentials = client_credentials(&req, &params)?;
    let provider = state.provider.clone();
    off_executor(move || {
        let client = provider.authenticate_client(&credentials)?;
        provider.revoke(&client, &params).map_err(TokenError::from)
    })
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(json!({})))
}
