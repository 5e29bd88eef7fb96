//! `GET /api/me` (RFC 6750): needs a bearer token with scope `profile` that acts for a user;
//! answers `{"id": ..., "username": ...}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use tessera_domain::bearer::token_from_header;

use crate::error::BearerError;
use crate::off_executor::off_executor;
use crate::routes::token::authorization;
use crate::state::AppState;

/// The scope this resource needs.
pub const REQUIRED_SCOPE: &str = "profile";

/// The token's user.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, BearerError> {
    let header = authorization(&req);
    let token = token_from_header(header.as_deref())
        .ok_or(BearerError::Missing)?
        .to_owned();
    let provider = state.provider.clone();
    let user = off_executor(move || {
        provider
            .resource_owner(&token, REQUIRED_SCOPE)
            .map_err(BearerError::from)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"id": user.id.to_string(), "username": user.username})))
}
