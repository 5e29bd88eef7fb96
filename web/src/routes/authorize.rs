//! `GET,POST /oauth/authorize` (RFC 6749 §4.1.1, §4.2.1). The client and redirect URI are
//! validated first, signed in or not: while either is in doubt the answer is an error page,
//! never a redirect. Then a signed-out user is sent to sign in (or, with `prompt=none`, the
//! client gets `login_required`); a signed-in user sees the consent page (or, with
//! `prompt=none`, the client gets `consent_required`), whose form posts
//! back here with `confirm=yes` or `confirm=no` and is answered with a 303.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use tessera_domain::authorize::AuthorizationRequest;
use tessera_domain::{Params, User};

use crate::error::{AuthorizeError, PageError};
use crate::off_executor::off_executor;
use crate::params::PageForm;
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// Form fields that belong to the consent page, not to the authorization request.
const PAGE_FIELDS: [&str; 2] = ["csrf_token", "confirm"];

fn request_params(params: &Params) -> Params {
    Params::new(
        params
            .pairs()
            .iter()
            .filter(|(name, _)| !PAGE_FIELDS.contains(&name.as_str()))
            .cloned()
            .collect(),
    )
}

async fn validate(
    state: &web::Data<AppState>,
    params: Params,
    after_post: bool,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let provider = state.provider.clone();
    off_executor(move || {
        provider
            .validate_authorization(&params)
            .map_err(|error| AuthorizeError::from_domain(error, after_post))
    })
    .await
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn consent_page(
    state: &AppState,
    session: &TypedSession,
    user: &User,
    request: &AuthorizationRequest,
    params: &Params,
) -> Result<HttpResponse, PageError> {
    let mut context = page_context(session, Some(user))?;
    context.insert("client_name", &request.client.name);
    context.insert("scopes", &request.scope.iter().collect::<Vec<_>>());
    let hidden: Vec<_> = params
        .pairs()
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    context.insert("params", &hidden);
    Ok(state
        .templates
        .page(actix_web::http::StatusCode::OK, "consent.html", &context)?)
}

/// Validates the request, then asks the signed-in user for consent.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    req: HttpRequest,
    query: PageForm,
) -> Result<HttpResponse, AuthorizeError> {
    let params = request_params(&query);
    let request = validate(&state, params.clone(), false).await?;
    match current_user(&state, &session).await? {
        Some(_) if request.prompt_none => Ok(found(&request.consent_required())),
        Some(user) => Ok(consent_page(&state, &session, &user, &request, &params)?),
        None if request.prompt_none => Ok(found(&request.login_required())),
        None => {
            let here = req
                .uri()
                .path_and_query()
                .map_or("/oauth/authorize", |path| path.as_str());
            Ok(found(&login_url(here)))
        }
    }
}

/// Records the user's answer and sends them back to the client.
pub async fn post(
    state: web::Data<AppState>,
    session: TypedSession,
    form: PageForm,
) -> Result<HttpResponse, AuthorizeError> {
    session.verify_csrf(form.get("csrf_token"))?;
    let confirm = form.get("confirm").map(str::to_owned);
    let params = request_params(&form);
    let request = validate(&state, params.clone(), true).await?;
    let Some(user) = current_user(&state, &session).await? else {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.pairs())
            .finish();
        return Ok(see_other(&login_url(&format!("/oauth/authorize?{query}"))));
    };
    match confirm.as_deref() {
        Some("yes") => {
            let provider = state.provider.clone();
            let location = off_executor(move || {
                provider
                    .approve(&request, &user)
                    .map_err(|error| AuthorizeError::from_domain(error, true))
            })
            .await?;
            Ok(see_other(&location))
        }
        Some("no") => Ok(see_other(&request.deny())),
        _ => Err(PageError::BadRequest("Choose Allow or Deny.".to_owned()).into()),
    }
}
