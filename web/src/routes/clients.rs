//! `GET /clients/{client_id}`, `POST /clients/{client_id}/delete` and
//! `POST /clients/{client_id}/rotate_secret`: an owner manages their clients. Anyone else's
//! client is a 404, indistinguishable from an unknown one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tessera_domain::{Client, User};

use crate::error::PageError;
use crate::off_executor::off_executor;
use crate::params::FormParams;
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::startup::AppState;

/// A client's public metadata (RFC 7591 §2 names), for pages and the command line.
pub fn client_metadata(client: &Client) -> Value {
    json!({
        "client_id": client.id,
        "client_id_issued_at": client.created_at.timestamp(),
        "client_name": client.name,
        "client_uri": client.uri,
        "redirect_uris": client.redirect_uris.iter().map(|uri| uri.as_str()).collect::<Vec<_>>(),
        "grant_types": client.grant_types.iter().map(|grant| grant.as_str()).collect::<Vec<_>>(),
        "response_types": client.response_types.iter().map(|response| response.as_str()).collect::<Vec<_>>(),
        "scope": client.scope.to_string(),
        "token_endpoint_auth_method": client.auth_method.as_str(),
        "public": client.is_public(),
    })
}

async fn signed_in(
    state: &web::Data<AppState>,
    session: &TypedSession,
    client_id: &str,
) -> Result<Result<User, HttpResponse>, PageError> {
    match current_user(state, session).await? {
        Some(user) => Ok(Ok(user)),
        None => Ok(Err(see_other(&login_url(&format!(
            "/clients/{}",
            url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
        ))))),
    }
}

fn show(
    state: &AppState,
    session: &TypedSession,
    user: &User,
    client: &Client,
    secret: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let mut context = page_context(session, Some(user))?;
    context.insert("client", &client_metadata(client));
    context.insert("secret", &secret);
    Ok(state
        .templates
        .page(StatusCode::OK, "client.html", &context)?)
}

/// The client page (without the secret).
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let client_id = path.into_inner();
    let user = match signed_in(&state, &session, &client_id).await? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let client = off_executor(move || {
        provider
            .owned_client(owner, &client_id)
            .map_err(PageError::from)
    })
    .await?
    .ok_or(PageError::NotFound)?;
    show(&state, &session, &user, &client, None)
}

/// Deletes the client with everything issued to it.
pub async fn delete(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, PageError> {
    session.verify_csrf(form.get("csrf_token"))?;
    let client_id = path.into_inner();
    let user = match signed_in(&state, &session, &client_id).await? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let deleted = off_executor(move || {
        provider
            .delete_client(owner, &client_id)
            .map_err(PageError::from)
    })
    .await?;
    if !deleted {
        return Err(PageError::NotFound);
    }
    Ok(see_other("/"))
}

/// Gives a confidential client a new secret and shows it, this once.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, PageError> {
    session.verify_csrf(form.get("csrf_token"))?;
    let client_id = path.into_inner();
    let user = match signed_in(&state, &session, &client_id).await? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let (client, secret) = off_executor(move || {
        provider
            .rotate_client_secret(owner, &client_id)
            .map_err(PageError::from)
    })
    .await?
    .ok_or(PageError::NotFound)?;
    tracing::info!(client_id = %client.id, "client secret rotated");
    show(&state, &session, &user, &client, Some(secret.expose()))
}
