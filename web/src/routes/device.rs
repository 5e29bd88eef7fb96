//! `GET,POST /device` (RFC 8628 §3.3): where a signed-in user enters a device's user code
//! (prefilled from `?user_code=`, in any case, with or without the dash), sees which client
//! asks for what, and allows or denies it (`confirm=yes|no`, with the CSRF token), answered
//! with a 303 to `/device?done=approved|denied`. Signed-out users sign in first and come
//! back. A wrong code is an error page and counts against the browser session's throttle
//! ([`Provider::find_user_code`](tessera_domain::Provider::find_user_code)); past the limit
//! the page answers 429 with `Retry-After`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tessera_domain::device_code::{DeviceAnswer, DeviceStatus, UserCodeLookup};
use tessera_domain::User;

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::params::PageForm;
use crate::routes::approval::{allowing_logos, described_scopes, presented_client};
use crate::routes::{current_user, login_url, page_context, paths, see_other, with_retry_after};
use crate::session::TypedSession;
use crate::state::AppState;

/// `/device`, with the user code when there is one.
fn device_url(user_code: Option<&str>) -> String {
    match user_code.filter(|code| !code.is_empty()) {
        Some(code) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("user_code", code)
                .finish();
            format!("{}?{query}", paths::DEVICE)
        }
        None => paths::DEVICE.to_owned(),
    }
}

/// The code entry form (or the result of an answer, after `done`).
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    query: PageForm,
) -> Result<HttpResponse, PageError> {
    let user_code = query.get("user_code").map(str::to_owned);
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(HttpResponse::Found()
            .insert_header((
                actix_web::http::header::LOCATION,
                login_url(&device_url(user_code.as_deref())),
            ))
            .finish());
    };
    let done = match query.get("done") {
        Some("approved") => Some("approved"),
        Some("denied") => Some("denied"),
        _ => None,
    };
    let mut context = page_context(&session, Some(&user))?;
    context.insert("user_code", &user_code.unwrap_or_default());
    context.insert("done", &done);
    context.insert("confirming", &false);
    Ok(state
        .templates
        .page(StatusCode::OK, "device.html", &context)?)
}

/// The entry form again with `message`, answered with `status`.
fn refused(
    state: &AppState,
    session: &TypedSession,
    user: &User,
    user_code: &str,
    status: StatusCode,
    message: &str,
) -> Result<HttpResponse, PageError> {
    let mut context = page_context(session, Some(user))?;
    context.insert("user_code", user_code);
    context.insert("done", &None::<&str>);
    context.insert("confirming", &false);
    context.insert("error", message);
    Ok(state.templates.page(status, "device.html", &context)?)
}

/// Looks the user code up; then asks the user, or records their answer.
pub async fn post(
    state: web::Data<AppState>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let user_code = form.get("user_code").unwrap_or_default().to_owned();
    let confirm = form.get("confirm").map(str::to_owned);
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url(&device_url(Some(&user_code)))));
    };
    let throttle_key = session
        .session_id()
        .map_or_else(|| user.id.to_string(), |id| id.to_string());
    let provider = state.provider.clone();
    let typed = user_code.clone();
    let lookup = off_executor(move || {
        provider
            .find_user_code(&typed, &throttle_key)
            .map_err(PageError::from)
    })
    .await?;
    let (code, client) = match lookup {
        UserCodeLookup::Found(found) => *found,
        UserCodeLookup::Wrong => {
            tracing::info!("device user code refused: wrong, answered or expired");
            return refused(
                &state,
                &session,
                &user,
                &user_code,
                StatusCode::BAD_REQUEST,
                "That code is wrong or has expired. Check the code shown on your device.",
            );
        }
        UserCodeLookup::Locked { retry_after } => {
            tracing::warn!(retry_after, "device user code refused: locked out");
            let response = refused(
                &state,
                &session,
                &user,
                &user_code,
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many wrong codes. Try again in {} minute(s).",
                    retry_after.div_ceil(60)
                ),
            )?;
            return Ok(with_retry_after(response, Some(retry_after)));
        }
    };
    let status = match confirm.as_deref() {
        None => {
            let mut context = page_context(&session, Some(&user))?;
            context.insert("user_code", &user_code);
            context.insert("done", &None::<&str>);
            context.insert("client", &presented_client(&state, &client).await?);
            context.insert("scopes", &described_scopes(&code.scope));
            context.insert(
                "not_you_next",
                &login_url(&format!("{}?user_code={user_code}", paths::DEVICE)),
            );
            context.insert("confirming", &true);
            return Ok(allowing_logos(state.templates.page(
                StatusCode::OK,
                "device.html",
                &context,
            )?));
        }
        Some("yes") => DeviceStatus::Approved,
        Some("no") => DeviceStatus::Denied,
        Some(_) => return Err(PageError::BadRequest("Choose Allow or Deny.".to_owned())),
    };
    let answer = DeviceAnswer {
        status,
        user_id: user.id,
        auth_time: session.signed_in_at(),
    };
    let provider = state.provider.clone();
    let answered = off_executor(move || {
        provider
            .answer_device_code(&user_code, &answer)
            .map_err(PageError::from)
    })
    .await?;
    if !answered {
        return Err(PageError::BadRequest(
            "This code was already answered or has expired.".to_owned(),
        ));
    }
    Ok(see_other(&format!(
        "{}?done={}",
        paths::DEVICE,
        status.as_str()
    )))
}
