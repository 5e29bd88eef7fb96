//! `GET /account`: the signed-in user's account — the apps they approved (name, scopes, when),
//! each with "Revoke access". `POST /account/apps/{client_id}/revoke` (`csrf_token`) forgets
//! that consent and revokes every token the app holds for the user, then returns here with a
//! 303. Revoking an app that was never approved is a 404 and changes nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::routes::clients::ClientPath;
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// Where the account page lives.
pub const PATH: &str = "/account";

/// The account page.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url(PATH)));
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let approved =
        off_executor(move || provider.approved_clients(owner).map_err(PageError::from)).await?;
    let apps: Vec<_> = approved
        .iter()
        .map(|approved| {
            json!({
                "client_id": approved.client.id,
                "client_name": approved.client.name,
                "scopes": approved.consent.scope.iter().collect::<Vec<_>>(),
                "granted_at": approved.consent.granted_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
        })
        .collect();
    let mut context = page_context(&session, Some(&user))?;
    context.insert("apps", &apps);
    context.insert("email", &user.email);
    Ok(state
        .templates
        .page(StatusCode::OK, "account.html", &context)?)
}

/// Withdraws the consent given to one app.
pub async fn revoke(
    state: web::Data<AppState>,
    ClientPath(client_id): ClientPath,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url(PATH)));
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let withdrawn = off_executor(move || {
        provider
            .withdraw_consent(owner, &client_id)
            .map_err(PageError::from)
    })
    .await?;
    if !withdrawn {
        return Err(PageError::NotFound);
    }
    tracing::info!(user_id = %owner, "consent withdrawn");
    Ok(see_other(PATH))
}
