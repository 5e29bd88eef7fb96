//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::ServerFault;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// Pings the database.
pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    let database = state.database.clone();
    match off_executor(move || database.ping().map_err(ServerFault::from)).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(fault) => {
            tracing::warn!(error = %fault, "health check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}
