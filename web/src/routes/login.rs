//! `GET,POST /login`: sign in (`username`, `password`, `csrf_token`, optional `next`, which
//! must be a path on this site). `GET /login?login_hint=...` prefills the username (OpenID
//! Connect `login_hint`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::params::PageForm;
use crate::routes::{current_user, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// `next` if it is a same-site path (`/...` but not `//...` or `/\...`), else `None`.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    let next = next?;
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    same_site.then_some(next)
}

/// The sign-in form.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    query: PageForm,
) -> Result<HttpResponse, PageError> {
    let user = current_user(&state, &session).await?;
    let mut context = page_context(&session, user.as_ref())?;
    context.insert("next", &safe_next(query.get("next")));
    let hint = query.get("login_hint").unwrap_or_default();
    context.insert("form", &json!({ "username": hint }));
    Ok(state
        .templates
        .page(StatusCode::OK, "login.html", &context)?)
}

/// Checks the password and signs the user in under a fresh session.
pub async fn post(
    state: web::Data<AppState>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let next = safe_next(form.get("next")).map(str::to_owned);
    let provider = state.provider.clone();
    let name = username.clone();
    let user =
        off_executor(move || provider.sign_in(&name, &password).map_err(PageError::from)).await?;
    match user {
        Some(user) => {
            session.sign_in(user.id)?;
            Ok(see_other(next.as_deref().unwrap_or("/")))
        }
        None => {
            let mut context = page_context(&session, None)?;
            context.insert("error", "Invalid username or password.");
            context.insert("form", &json!({ "username": username }));
            context.insert("next", &next);
            Ok(state
                .templates
                .page(StatusCode::BAD_REQUEST, "login.html", &context)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_only_a_same_site_path() {
        assert_eq!(
            safe_next(Some("/oauth/authorize?a=b")),
            Some("/oauth/authorize?a=b")
        );
        for bad in [
            "https://evil.example/x",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
