//! `GET,POST /signup`: create an account (`username`, `password`, optional `email`,
//! `csrf_token`); the new user is signed in and lands on `/`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use tessera_domain::accounts::SignUpError;

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::routes::{current_user, page_context, see_other, sign_in};
use crate::session::TypedSession;
use crate::state::AppState;

/// The sign-up form.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<HttpResponse, PageError> {
    let user = current_user(&state, &session).await?;
    let context = page_context(&session, user.as_ref())?;
    Ok(state
        .templates
        .page(StatusCode::OK, "signup.html", &context)?)
}

/// Creates the account and signs it in.
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let email = form
        .get("email")
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(str::to_owned);
    let provider = state.provider.clone();
    let (name, address) = (username.clone(), email.clone());
    let outcome = state
        .bcrypt
        .run(move || Ok::<_, PageError>(provider.sign_up(&name, &password, address.as_deref())))
        .await?;
    let message = match outcome {
        Ok(user) => {
            sign_in(&state, &req, &session, user.id).await?;
            return Ok(see_other("/"));
        }
        Err(SignUpError::Invalid(message)) => message,
        Err(SignUpError::UsernameTaken) => "That username is taken.".to_owned(),
        Err(SignUpError::Store(error)) => return Err(error.into()),
    };
    let mut context = page_context(&session, None)?;
    context.insert("error", &message);
    context.insert(
        "form",
        &json!({ "username": username, "email": email.unwrap_or_default() }),
    );
    Ok(state
        .templates
        .page(StatusCode::BAD_REQUEST, "signup.html", &context)?)
}
