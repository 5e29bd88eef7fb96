//! `GET,POST /oauth/authorize` (RFC 6749 §4.1.1, §4.2.1; OpenID Connect Core §3.1.2). The
//! client and redirect URI are validated first, signed in or not: while either is in doubt the
//! answer is an error page, never a redirect. Then the domain decides
//! ([`Provider::decide`](tessera_domain::Provider::decide)): sign in (again), the consent
//! page, or a redirect to the client (a code at once when a remembered consent covers the
//! request, or an error for `prompt=none`). The consent form posts back here with
//! `confirm=yes` or `confirm=no` and is answered with a 303.
//!
//! A pushed request (RFC 9126) arrives as `client_id` and `request_uri`, and travels so
//! through sign-in and the consent form: the domain reads the pushed parameters each time,
//! and uses the `request_uri` up when the request is answered (Allow, Deny, or a code issued
//! at once).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;
use tessera_domain::authorize::AuthorizationRequest;
use tessera_domain::prompt::{AuthorizeOutcome, SignedIn};
use tessera_domain::{Params, User};

use crate::error::{AuthorizeError, PageError};
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::params::PageForm;
use crate::routes::approval::{allowing_logos, described_scopes, presented_client};
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

/// `/oauth/authorize?<params>`.
fn authorize_url(params: &Params) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.pairs())
        .finish();
    format!("/oauth/authorize?{query}")
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

/// The signed-in user as the authorization endpoint needs them.
#[derive(Clone)]
struct Browser {
    user: User,
    auth_time: chrono::DateTime<chrono::Utc>,
    session_id: Option<String>,
}

impl Browser {
    fn signed_in(&self) -> SignedIn<'_> {
        SignedIn {
            user: &self.user,
            auth_time: self.auth_time,
            session_id: self.session_id.as_deref(),
        }
    }
}

/// The signed-in user, their sign-in time and session.
async fn signed_in(
    state: &web::Data<AppState>,
    session: &TypedSession,
) -> Result<Option<Browser>, PageError> {
    let user = current_user(state, session).await?;
    Ok(user
        .zip(session.signed_in_at())
        .map(|(user, auth_time)| Browser {
            user,
            auth_time,
            session_id: session.session_id().map(|id| id.to_string()),
        }))
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn consent_page(
    state: &web::Data<AppState>,
    session: &TypedSession,
    user: &User,
    request: &AuthorizationRequest,
    params: &Params,
) -> Result<HttpResponse, PageError> {
    let mut context = page_context(session, Some(user))?;
    context.insert("client", &presented_client(state, &request.client).await?);
    context.insert("scopes", &described_scopes(&request.scope));
    context.insert("not_you_next", &sign_in_url(None, params));
    // A pushed request is carried by reference only; what came with it is ignored anyway.
    let hidden: Vec<_> = params
        .pairs()
        .iter()
        .filter(|(name, _)| {
            request.pushed.is_none() || matches!(name.as_str(), "client_id" | "request_uri")
        })
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    context.insert("params", &hidden);
    Ok(allowing_logos(state.templates.page(
        actix_web::http::StatusCode::OK,
        "consent.html",
        &context,
    )?))
}

/// The sign-in page, returning to the authorization request `resume` afterwards.
fn sign_in_url(login_hint: Option<&str>, resume: &Params) -> String {
    let mut url = login_url(&authorize_url(resume));
    if let Some(hint) = login_hint {
        url.push('&');
        url.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("login_hint", hint)
                .finish(),
        );
    }
    url
}

/// Validates the request, then does what the domain decides.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    query: PageForm,
) -> Result<HttpResponse, AuthorizeError> {
    let params = request_params(&query);
    let request = validate(&state, params.clone(), false).await?;
    let signed_in = signed_in(&state, &session).await?;
    let provider = state.provider.clone();
    let (decided_request, decided_params, signed_in_user) =
        (request.clone(), params.clone(), signed_in.clone());
    let outcome = off_executor(move || {
        provider
            .decide(
                &decided_request,
                &decided_params,
                signed_in_user.as_ref().map(Browser::signed_in),
            )
            .map_err(|error| AuthorizeError::from_domain(error, false))
    })
    .await?;
    match (outcome, signed_in) {
        (AuthorizeOutcome::Redirect(location), _) => Ok(found(&location)),
        (AuthorizeOutcome::SignIn { login_hint, resume }, _) => {
            Ok(found(&sign_in_url(login_hint.as_deref(), &resume)))
        }
        (AuthorizeOutcome::AskConsent, Some(browser)) => {
            Ok(consent_page(&state, &session, &browser.user, &request, &params).await?)
        }
        (AuthorizeOutcome::AskConsent, None) => Ok(found(&sign_in_url(None, &params))),
    }
}

/// Records the user's answer and sends them back to the client.
pub async fn post(
    state: web::Data<AppState>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, AuthorizeError> {
    let confirm = form.get("confirm").map(str::to_owned);
    let params = request_params(&form);
    let request = validate(&state, params.clone(), true).await?;
    let Some(browser) = signed_in(&state, &session).await? else {
        return Ok(see_other(&login_url(&authorize_url(&params))));
    };
    match confirm.as_deref() {
        Some("yes") => {
            let provider = state.provider.clone();
            let location = off_executor(move || {
                provider
                    .allow(&request, browser.signed_in())
                    .map_err(|error| AuthorizeError::from_domain(error, true))
            })
            .await?;
            Ok(see_other(&location))
        }
        Some("no") => {
            let provider = state.provider.clone();
            let location = off_executor(move || {
                provider
                    .deny(&request)
                    .map_err(|error| AuthorizeError::from_domain(error, true))
            })
            .await?;
            Ok(see_other(&location))
        }
        _ => Err(PageError::BadRequest("Choose Allow or Deny.".to_owned()).into()),
    }
}
