//! `GET,POST /login`: sign in (`username`, `password`, `csrf_token`, optional `next`, which
//! must be a path on this site). `GET /login?login_hint=...` prefills the username (OpenID
//! Connect `login_hint`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use tessera_domain::accounts::SignIn;

use crate::error::PageError;
use crate::extract::{client_address, CsrfForm};
use crate::params::PageForm;
use crate::routes::{current_user, page_context, see_other, sign_in, with_retry_after};
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
/// While the username or the address is locked out ([`tessera_domain::throttle`]) the page
/// answers 429 with `Retry-After`, before any password check.
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let next = safe_next(form.get("next")).map(str::to_owned);
    let provider = state.provider.clone();
    let name = username.clone();
    let address = client_address(&req, &state.config.trusted_proxies);
    let outcome = state
        .bcrypt
        .run(move || {
            provider
                .sign_in_throttled(&name, &password, address)
                .map_err(PageError::from)
        })
        .await?;
    let (status, message, retry_after) = match outcome {
        SignIn::User(user) => {
            sign_in(&state, &req, &session, user.id).await?;
            return Ok(see_other(next.as_deref().unwrap_or("/")));
        }
        SignIn::Refused { .. } => {
            tracing::info!("sign-in refused: wrong username or password");
            (
                StatusCode::BAD_REQUEST,
                "Invalid username or password.".to_owned(),
                None,
            )
        }
        SignIn::Locked { retry_after } => {
            tracing::warn!(retry_after, "sign-in refused: locked out");
            (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-ins. Try again in {} minute(s).",
                    retry_after.div_ceil(60)
                ),
                Some(retry_after),
            )
        }
    };
    let mut context = page_context(&session, None)?;
    context.insert("error", &message);
    context.insert("form", &json!({ "username": username }));
    context.insert("next", &next);
    let response = state.templates.page(status, "login.html", &context)?;
    Ok(with_retry_after(response, retry_after))
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
