//! One module per endpoint. A handler extracts, parses into domain types, calls the
//! [`Provider`](tessera_domain::Provider) through [`off_executor`], and maps the answer to a
//! response; the rules live in `tessera-domain`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tera::Context;
use tessera_domain::browser_session::SessionSelection;
use tessera_domain::{User, UserId};

use crate::error::PageError;
use crate::off_executor::off_executor;
use crate::session::TypedSession;
use crate::state::AppState;

pub mod account;
pub mod api_me;
pub mod approval;
pub mod assets;
pub mod authorize;
pub mod clients;
pub mod create_client;
pub mod device;
pub mod device_authorization;
pub mod discovery;
pub mod edit_client;
pub mod end_session;
pub mod healthz;
pub mod home;
pub mod introspect;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod par;
pub mod paths;
pub mod register;
pub mod revoke;
pub mod signup;
pub mod token;
pub mod userinfo;

/// Registers every route. Actix tries them in order, matching the pages' paths with
/// parameters by regex, so the endpoints apps call most come first.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource(paths::TOKEN).route(web::post().to(token::post)))
        .service(web::resource(paths::REVOKE).route(web::post().to(revoke::post)))
        .service(web::resource(paths::INTROSPECT).route(web::post().to(introspect::post)))
        .service(
            web::resource(paths::PUSHED_AUTHORIZATION_REQUEST).route(web::post().to(par::post)),
        )
        .service(
            web::resource(paths::DEVICE_AUTHORIZATION)
                .route(web::post().to(device_authorization::post)),
        )
        .service(
            web::resource(paths::DEVICE)
                .route(web::get().to(device::get))
                .route(web::post().to(device::post)),
        )
        .service(web::resource(paths::REGISTER).route(web::post().to(register::register)))
        .service(
            web::resource(paths::REGISTERED_CLIENT)
                .route(web::get().to(register::read))
                .route(web::put().to(register::update))
                .route(web::delete().to(register::delete)),
        )
        .service(web::resource(paths::JWKS).route(web::get().to(jwks::get)))
        .service(
            web::resource(paths::USERINFO)
                .route(web::get().to(userinfo::handle))
                .route(web::post().to(userinfo::handle)),
        )
        .service(web::resource("/api/me").route(web::get().to(api_me::get)))
        .service(web::resource("/healthz").route(web::get().to(healthz::get)))
        .service(web::resource("/").route(web::get().to(home::get)))
        .service(
            web::resource("/signup")
                .route(web::get().to(signup::get))
                .route(web::post().to(signup::post)),
        )
        .service(
            web::resource("/login")
                .route(web::get().to(login::get))
                .route(web::post().to(login::post)),
        )
        .service(web::resource("/logout").route(web::post().to(logout::post)))
        .service(web::resource(account::PATH).route(web::get().to(account::get)))
        .service(
            web::resource("/account/apps/{client_id}/revoke")
                .route(web::post().to(account::revoke)),
        )
        .service(web::resource("/account/sessions/end_all").route(web::post().to(account::end_all)))
        .service(
            web::resource("/account/sessions/{session_id}/end")
                .route(web::post().to(account::end_one)),
        )
        .service(web::resource("/account/password").route(web::post().to(account::change_password)))
        .service(
            web::resource("/create_client")
                .route(web::get().to(create_client::get))
                .route(web::post().to(create_client::post)),
        )
        .service(web::resource("/clients/claim").route(web::post().to(clients::claim)))
        .service(web::resource("/clients/{client_id}").route(web::get().to(clients::get)))
        .service(
            web::resource("/clients/{client_id}/edit")
                .route(web::get().to(edit_client::get))
                .route(web::post().to(edit_client::post)),
        )
        .service(
            web::resource("/clients/{client_id}/delete").route(web::post().to(clients::delete)),
        )
        .service(
            web::resource("/clients/{client_id}/rotate_secret")
                .route(web::post().to(clients::rotate_secret)),
        )
        .service(
            web::resource(paths::AUTHORIZE)
                .route(web::get().to(authorize::get))
                .route(web::post().to(authorize::post)),
        )
        .service(
            web::resource(paths::END_SESSION)
                .route(web::get().to(end_session::get))
                .route(web::post().to(end_session::post)),
        )
        .service(web::resource(paths::OPENID_CONFIGURATION).route(web::get().to(discovery::get)))
        .service(web::resource(paths::OAUTH_METADATA).route(web::get().to(discovery::get)))
        .service(asset(&assets::STYLESHEET))
        .service(asset(&assets::COPY_SCRIPT));
}

/// The route serving an embedded file.
fn asset(asset: &'static assets::Asset) -> actix_web::Resource {
    web::resource(asset.path)
        .route(web::get().to(move |req: HttpRequest| async move { asset.serve(&req) }))
}

/// The signed-in user, or `None`: a cookie whose recorded session has ended (signed out on
/// any process, or by a password change) or expired, or that names a deleted user, counts as
/// signed out and is forgotten.
pub(crate) async fn current_user(
    state: &web::Data<AppState>,
    session: &TypedSession,
) -> Result<Option<User>, PageError> {
    let Some(id) = session.user_id() else {
        return Ok(None);
    };
    let Some(session_id) = session.session_id() else {
        session.forget_user();
        return Ok(None);
    };
    let provider = state.provider.clone();
    let user = off_executor(move || {
        provider
            .session_user(session_id, id)
            .map_err(PageError::from)
    })
    .await?;
    if user.is_none() {
        session.forget_user();
    }
    Ok(user)
}

/// Signs `user` in on this browser under a newly recorded session, which remembers the
/// browser's `User-Agent` for the account page.
pub(crate) async fn sign_in(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &TypedSession,
    user: UserId,
) -> Result<(), PageError> {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .map(str::to_owned);
    let provider = state.provider.clone();
    let recorded = off_executor(move || {
        provider
            .start_session(user, user_agent.as_deref())
            .map_err(PageError::from)
    })
    .await?;
    session.sign_in(user, recorded.id)
}

/// Signs this browser out: its recorded session ends (so a copy of the cookie signs in no
/// more, on any process) and the cookie is removed.
pub(crate) async fn sign_out(
    state: &web::Data<AppState>,
    session: &TypedSession,
) -> Result<(), PageError> {
    if let Some((user, id)) = session.user_id().zip(session.session_id()) {
        let provider = state.provider.clone();
        off_executor(move || {
            provider
                .end_sessions(user, SessionSelection::One(id))
                .map_err(PageError::from)
        })
        .await?;
    }
    session.purge();
    Ok(())
}

/// The context every page starts from: the signed-in username, the CSRF token, and the
/// message an action before left for it ([`TypedSession::flash`]).
pub(crate) fn page_context(
    session: &TypedSession,
    user: Option<&User>,
) -> Result<Context, PageError> {
    let mut context = Context::new();
    context.insert("username", &user.map(|user| user.username.as_str()));
    context.insert("csrf_token", &session.csrf_token()?);
    context.insert("flash", &session.take_flash());
    context.insert("error", &None::<String>);
    context.insert("form", &serde_json::json!({}));
    Ok(context)
}

/// 303 See Other to `location` (the answer to a successful form POST).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `response` with `Retry-After: seconds`, when there is a wait.
pub(crate) fn with_retry_after(mut response: HttpResponse, seconds: Option<u64>) -> HttpResponse {
    if let Some(value) = seconds.and_then(|s| header::HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The sign-in page URL that returns to `next` afterwards.
pub(crate) fn login_url(next: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    format!("/login?{query}")
}
