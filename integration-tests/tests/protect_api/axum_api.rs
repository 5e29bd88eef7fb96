//! The guide's API in axum: the same `GET /photos`, on the same `TesseraKeys::authorize`.

use super::{Refusal, TesseraKeys};

// guide: axum
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

/// `GET /photos`: needs a token with the scope `photos:read`.
async fn photos(
    State(keys): State<Arc<TesseraKeys>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Refusal> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let claims = keys.authorize(authorization, "photos:read")?;
    Ok(Json(serde_json::json!({ "photos_of": claims.sub })))
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Refusal::InvalidToken => StatusCode::UNAUTHORIZED,
            Refusal::InsufficientScope => StatusCode::FORBIDDEN,
        };
        (status, [(header::WWW_AUTHENTICATE, self.challenge())]).into_response()
    }
}

/// The API's routes, sharing Tessera's keys.
fn router(keys: TesseraKeys) -> Router {
    Router::new()
        .route("/photos", get(photos))
        .with_state(Arc::new(keys))
}
// guide: end

/// Serves the API on a free port on loopback; the port.
pub(super) async fn start(keys: TesseraKeys) -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("the API binds");
    let port = listener.local_addr().expect("a bound address").port();
    tokio::spawn(async move { axum::serve(listener, router(keys)).await });
    port
}
