//! Dynamic client registration (RFC 7591) at `POST /oauth/register`, and client management
//! (RFC 7592) at each client's registration client URI, `/oauth/register/{client_id}`:
//! `GET` reads it, `PUT` replaces its metadata (and its registration access token), `DELETE`
//! removes it with everything it holds. Bodies are JSON; the rules, the modes
//! (`TESSERA_REGISTRATION`) and the throttle live in
//! [`tessera_domain::registration`]. Every answer is `no-store`.

use actix_web::{web, FromRequest as _, HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use tessera_domain::registration::RegistrationMode;
use tessera_domain::{Client, Secret};

use super::clients::client_metadata;
use super::paths;
use crate::error::{no_store, BearerError, RegistrationError};
use crate::extract::{client_address, BearerToken};
use crate::off_executor::off_executor;
use crate::params::read_json_body;
use crate::state::AppState;

/// `<issuer>/oauth/register/<client_id>`: where the client is managed (RFC 7592 §3).
pub fn registration_client_uri(issuer: &str, client_id: &str) -> String {
    let segment: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    format!(
        "{}{}/{segment}",
        issuer.trim_end_matches('/'),
        paths::REGISTER
    )
}

/// The client information response (RFC 7591 §3.2.1): its metadata, the registration
/// client URI, `client_secret_expires_at` (0: never) for a confidential client, and the
/// secrets just made.
pub fn client_information(
    issuer: &str,
    client: &Client,
    secret: Option<&Secret>,
    registration_token: Option<&Secret>,
) -> Map<String, Value> {
    let mut answer = client_metadata(client);
    if let Some(secret) = secret {
        answer.insert("client_secret".to_owned(), secret.expose().into());
    }
    if !client.is_public() {
        answer.insert("client_secret_expires_at".to_owned(), 0.into());
    }
    if let Some(token) = registration_token {
        answer.insert(
            "registration_access_token".to_owned(),
            token.expose().into(),
        );
    }
    answer.insert(
        "registration_client_uri".to_owned(),
        registration_client_uri(issuer, &client.id).into(),
    );
    answer
}

/// `POST /oauth/register`: 201 with the client information.
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, RegistrationError> {
    let bearer = match state.provider.registration_mode() {
        RegistrationMode::Off => return Err(RegistrationError::Disabled),
        RegistrationMode::Open => None,
        RegistrationMode::Token => Some(BearerToken::extract(&req).await?.into_string()),
    };
    let body = read_json_body(&req, payload.into_inner()).await?;
    let address = client_address(&req, &state.config.trusted_proxies);
    let provider = state.provider.clone();
    let registered = off_executor(move || {
        provider
            .register_dynamically(&body, bearer.as_deref(), address)
            .map_err(RegistrationError::from)
    })
    .await?;
    let answer = client_information(
        &state.config.issuer,
        &registered.client,
        registered.secret.as_ref(),
        Some(&registered.registration_token),
    );
    Ok(no_store(&mut HttpResponse::Created()).json(answer))
}

/// `GET /oauth/register/{client_id}`: the client information, without secrets (the
/// registration access token is not replaced by a read).
pub async fn read(
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    bearer: Result<BearerToken, BearerError>,
) -> Result<HttpResponse, RegistrationError> {
    let token = bearer?.into_string();
    let provider = state.provider.clone();
    let id = client_id.into_inner();
    let client = off_executor(move || {
        provider
            .managed_client(&id, &token)
            .map_err(RegistrationError::from)
    })
    .await?;
    let answer = client_information(&state.config.issuer, &client, None, None);
    Ok(no_store(&mut HttpResponse::Ok()).json(answer))
}

/// `PUT /oauth/register/{client_id}`: 200 with the new client information and a new
/// registration access token.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    client_id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, RegistrationError> {
    let token = BearerToken::extract(&req).await?.into_string();
    let body = read_json_body(&req, payload.into_inner()).await?;
    let provider = state.provider.clone();
    let id = client_id.into_inner();
    let revised = off_executor(move || {
        provider
            .update_managed_client(&id, &token, &body)
            .map_err(RegistrationError::from)
    })
    .await?;
    let answer = client_information(
        &state.config.issuer,
        &revised.client,
        revised.secret.as_ref(),
        Some(&revised.registration_token),
    );
    Ok(no_store(&mut HttpResponse::Ok()).json(answer))
}

/// `DELETE /oauth/register/{client_id}`: 204.
pub async fn delete(
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    bearer: Result<BearerToken, BearerError>,
) -> Result<HttpResponse, RegistrationError> {
    let token = bearer?.into_string();
    let provider = state.provider.clone();
    let id = client_id.into_inner();
    off_executor(move || {
        provider
            .delete_managed_client(&id, &token)
            .map_err(RegistrationError::from)
    })
    .await?;
    Ok(no_store(&mut HttpResponse::NoContent()).finish())
}
