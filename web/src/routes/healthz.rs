//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use actix_web::{web, HttpResponse};
use serde_json::json;
use tessera_domain::StoreError;

use crate::off_executor::{off_executor, Cancelled};
use crate::startup::AppState;

struct Down(String);

impl From<Cancelled> for Down {
    fn from(error: Cancelled) -> Self {
        Self(error.to_string())
    }
}

impl From<StoreError> for Down {
    fn from(error: StoreError) -> Self {
        Self(crate::error::error_chain(&error))
    }
}

/// Pings the database.
pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    let database = state.database.clone();
    match off_executor(move || database.ping().map_err(Down::from)).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(Down(error)) => {
            tracing::warn!(%error, "health check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}
