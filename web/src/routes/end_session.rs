//! `GET,POST /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0): `id_token_hint`,
//! `post_logout_redirect_uri`, `state`, `client_id`. An invalid request is an error page,
//! never a redirect. A hint naming the signed-in user (or nobody signed in) signs out at
//! once; otherwise the user confirms on a page whose form posts back here. Afterwards the
//! user goes to the registered `post_logout_redirect_uri` (with `state`) or sees a
//! signed-out page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;
use tessera_domain::logout::EndSession;
use tessera_domain::Params;

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::params::PageForm;
use crate::routes::{current_user, page_context, sign_out};
use crate::session::TypedSession;
use crate::state::AppState;

/// Form fields that belong to the confirmation page, not to the request.
const PAGE_FIELDS: [&str; 2] = ["csrf_token", "confirm"];

async fn validate(state: &web::Data<AppState>, params: Params) -> Result<EndSession, PageError> {
    let provider = state.provider.clone();
    off_executor(move || provider.end_session(&params).map_err(PageError::from)).await
}

/// Signs out and sends the user where the client asked, or to the signed-out page.
async fn finish(
    state: &web::Data<AppState>,
    session: &TypedSession,
    request: &EndSession,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    sign_out(state, session).await?;
    match &request.redirect {
        Some(location) => Ok(HttpResponse::build(status)
            .insert_header((actix_web::http::header::LOCATION, location.as_str()))
            .finish()),
        None => {
            let mut context = page_context(session, None)?;
            context.insert("confirm", &false);
            Ok(state
                .templates
                .page(StatusCode::OK, "logout.html", &context)?)
        }
    }
}

/// Signs out at once when it may, else asks to confirm.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    query: PageForm,
) -> Result<HttpResponse, PageError> {
    let params = query.into_params();
    let request = validate(&state, params.clone()).await?;
    let user = current_user(&state, &session).await?;
    if request.needs_no_confirmation(user.as_ref().map(|user| user.id)) {
        return finish(&state, &session, &request, StatusCode::FOUND).await;
    }
    let mut context = page_context(&session, user.as_ref())?;
    context.insert("confirm", &true);
    context.insert(
        "client_name",
        &request.client.as_ref().map(|client| client.name.as_str()),
    );
    let hidden: Vec<_> = params
        .pairs()
        .iter()
        .filter(|(name, _)| !PAGE_FIELDS.contains(&name.as_str()))
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    context.insert("params", &hidden);
    Ok(state
        .templates
        .page(StatusCode::OK, "logout.html", &context)?)
}

/// The user confirmed: signs out.
pub async fn post(
    state: web::Data<AppState>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let params = Params::new(
        form.pairs()
            .iter()
            .filter(|(name, _)| !PAGE_FIELDS.contains(&name.as_str()))
            .cloned()
            .collect(),
    );
    let request = validate(&state, params).await?;
    finish(&state, &session, &request, StatusCode::SEE_OTHER).await
}
