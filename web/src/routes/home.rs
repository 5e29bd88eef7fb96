//! `GET /`: signed out, links to sign in and sign up; signed in, the user's clients.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::PageError;
use crate::off_executor::off_executor;
use crate::routes::{current_user, page_context};
use crate::session::TypedSession;
use crate::state::AppState;

/// The home page.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<HttpResponse, PageError> {
    let user = current_user(&state, &session).await?;
    let mut context = page_context(&session, user.as_ref())?;
    let clients = match &user {
        Some(user) => {
            let provider = state.provider.clone();
            let owner = user.id;
            off_executor(move || provider.clients_of(owner).map_err(PageError::from)).await?
        }
        None => Vec::new(),
    };
    let clients: Vec<_> = clients
        .iter()
        .map(|client| json!({"client_id": client.id, "client_name": client.name}))
        .collect();
    context.insert("clients", &clients);
    Ok(state
        .templates
        .page(StatusCode::OK, "home.html", &context)?)
}
