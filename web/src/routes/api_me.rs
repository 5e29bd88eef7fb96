//! `GET /api/me` (RFC 6750): needs a bearer token ([`BearerToken`]) with scope `profile` that
//! acts for a user; answers `{"id": ..., "username": ...}`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::BearerError;
use crate::extract::BearerToken;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// The scope this resource needs.
pub const REQUIRED_SCOPE: &str = "profile";

/// The token's user.
pub async fn get(
    state: web::Data<AppState>,
    token: BearerToken,
) -> Result<HttpResponse, BearerError> {
    let provider = state.provider.clone();
    let user = off_executor(move || {
        provider
            .resource_owner(token.as_str(), REQUIRED_SCOPE)
            .map_err(BearerError::from)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"id": user.id.to_string(), "username": user.username})))
}
