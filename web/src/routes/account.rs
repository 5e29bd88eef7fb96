//! `GET /account`: the signed-in user's account — the apps they approved (name, scopes, when),
//! each with "Revoke access"; the browsers signed in to it, each with "Sign out", and "Sign
//! out everywhere"; and a form to change the password.
//!
//! Every form posts `csrf_token` and answers a 303 back here (or home, once this browser is
//! signed out):
//! - `POST /account/apps/{client_id}/revoke` forgets that consent and revokes every token
//!   the app holds for the user. An app that was never approved is a 404.
//! - `POST /account/sessions/{session_id}/end` ends one session (this browser's signs out
//!   here); `POST /account/sessions/end_all` ends every one, this browser's too. A session
//!   that is not the user's, or has ended, is a 404.
//! - `POST /account/password` (`current_password`, `new_password`) changes the password and
//!   ends every other session. A wrong current password counts as a failed sign-in
//!   (throttled the same way: 429 with `Retry-After` when locked out).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::future::{ready, Ready};
use serde_json::json;
use tessera_domain::browser_session::{PasswordChange, SessionId, SessionSelection};
use tessera_domain::User;

use crate::error::PageError;
use crate::extract::{client_address, CsrfForm};
use crate::off_executor::off_executor;
use crate::routes::clients::ClientPath;
use crate::routes::{current_user, login_url, page_context, see_other, sign_out, with_retry_after};
use crate::session::TypedSession;
use crate::state::AppState;

/// Where the account page lives.
pub const PATH: &str = "/account";

/// How times are shown on the page.
fn shown(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The account page, with `password_error` next to the password form when a change failed.
async fn render(
    state: &web::Data<AppState>,
    session: &TypedSession,
    user: &User,
    status: StatusCode,
    password_error: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let provider = state.provider.clone();
    let owner = user.id;
    let (approved, sessions) = off_executor(move || {
        Ok::<_, PageError>((
            provider.approved_clients(owner)?,
            provider.sessions_of(owner)?,
        ))
    })
    .await?;
    let apps: Vec<_> = approved
        .iter()
        .map(|approved| {
            json!({
                "client_id": approved.client.id,
                "client_name": approved.client.name,
                "scopes": approved.consent.scope.iter().collect::<Vec<_>>(),
                "granted_at": shown(approved.consent.granted_at),
            })
        })
        .collect();
    let this_browser = session.session_id();
    let sessions: Vec<_> = sessions
        .iter()
        .map(|recorded| {
            json!({
                "id": recorded.id.to_string(),
                "user_agent": recorded.user_agent,
                "started_at": shown(recorded.started_at),
                "last_seen_at": shown(recorded.last_seen_at),
                "current": Some(recorded.id) == this_browser,
            })
        })
        .collect();
    let mut context = page_context(session, Some(user))?;
    context.insert("apps", &apps);
    context.insert("sessions", &sessions);
    context.insert("email", &user.email);
    context.insert("password_error", &password_error);
    Ok(state.templates.page(status, "account.html", &context)?)
}

/// The account page.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url(PATH)));
    };
    render(&state, &session, &user, StatusCode::OK, None).await
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
    session.flash("Access revoked: the app's tokens no longer work.")?;
    Ok(see_other(PATH))
}

/// The `{session_id}` path segment; anything but a UUID is a 404.
pub struct SessionPath(pub SessionId);

impl FromRequest for SessionPath {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("session_id")
            .and_then(SessionId::parse);
        ready(id.map(Self).ok_or(PageError::NotFound))
    }
}

/// Ends the selected sessions of the signed-in user; when that includes this browser's, it
/// is signed out and goes home.
async fn end(
    state: &web::Data<AppState>,
    session: &TypedSession,
    which: SessionSelection,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(state, session).await? else {
        return Ok(see_other(&login_url(PATH)));
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let ended =
        off_executor(move || provider.end_sessions(owner, which).map_err(PageError::from)).await?;
    if ended == 0 {
        return Err(PageError::NotFound);
    }
    tracing::info!(user_id = %owner, ended, "sessions ended");
    match session.session_id() {
        Some(this_browser) if which.includes(this_browser) => {
            sign_out(state, session).await?;
            Ok(see_other("/"))
        }
        _ => {
            session.flash(if ended == 1 {
                "That browser is signed out."
            } else {
                "Those browsers are signed out."
            })?;
            Ok(see_other(PATH))
        }
    }
}

/// Ends one session.
pub async fn end_one(
    state: web::Data<AppState>,
    SessionPath(id): SessionPath,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    end(&state, &session, SessionSelection::One(id)).await
}

/// Ends every session: "sign out everywhere".
pub async fn end_all(
    state: web::Data<AppState>,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    end(&state, &session, SessionSelection::All).await
}

/// Changes the password; every other session ends.
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let (Some(user), Some(this_browser)) =
        (current_user(&state, &session).await?, session.session_id())
    else {
        return Ok(see_other(&login_url(PATH)));
    };
    let current = form.get("current_password").unwrap_or_default().to_owned();
    let new = form.get("new_password").unwrap_or_default().to_owned();
    let address = client_address(&req, &state.config.trusted_proxies);
    let provider = state.provider.clone();
    let account = user.clone();
    let outcome = state
        .bcrypt
        .run(move || {
            provider
                .change_password(&account, this_browser, &current, &new, address)
                .map_err(PageError::from)
        })
        .await?;
    let (status, message, retry_after) = match outcome {
        PasswordChange::Changed { ended } => {
            tracing::warn!(user_id = %user.id, ended, "password changed; other sessions ended");
            session.flash("Password changed. Every other browser is signed out.")?;
            return Ok(see_other(PATH));
        }
        PasswordChange::WrongPassword => (
            StatusCode::BAD_REQUEST,
            "The current password is wrong.".to_owned(),
            None,
        ),
        PasswordChange::Invalid(rule) => (StatusCode::BAD_REQUEST, rule, None),
        PasswordChange::Locked { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins. Try again in {} minute(s).",
                retry_after.div_ceil(60)
            ),
            Some(retry_after),
        ),
    };
    let response = render(&state, &session, &user, status, Some(&message)).await?;
    Ok(with_retry_after(response, retry_after))
}
