//! `GET,POST /create_client`: a signed-in user registers a client. Fields: `client_name`,
//! `client_uri`, `redirect_uris` (one per line), `grant_types` and `response_types` (one per
//! line or repeated), `scope`, `token_endpoint_auth_method`, `csrf_token`. Success shows the
//! client page with the secret, this once.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;
use tessera_domain::{ClientRegistration, Error};

use crate::error::PageError;
use crate::off_executor::off_executor;
use crate::params::FormParams;
use crate::routes::clients::client_metadata;
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::startup::AppState;

/// Every value of the fields `names`, split into lines, trimmed, blanks dropped.
pub fn lines(form: &FormParams, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|name| form.0.all(name))
        .flat_map(str::lines)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The registration form.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url("/create_client")));
    };
    let context = page_context(&session, Some(&user))?;
    Ok(state
        .templates
        .page(StatusCode::OK, "create_client.html", &context)?)
}

/// Registers the client and shows it with its secret.
pub async fn post(
    state: web::Data<AppState>,
    session: TypedSession,
    form: FormParams,
) -> Result<HttpResponse, PageError> {
    session.verify_csrf(form.get("csrf_token"))?;
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url("/create_client")));
    };
    let text = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
    let registration = ClientRegistration {
        name: text("client_name"),
        uri: text("client_uri"),
        redirect_uris: lines(&form, &["redirect_uris", "redirect_uri"]),
        grant_types: lines(&form, &["grant_types", "grant_type"]),
        response_types: lines(&form, &["response_types", "response_type"]),
        scope: text("scope"),
        auth_method: text("token_endpoint_auth_method"),
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let outcome = off_executor(move || {
        Ok::<_, PageError>(provider.register_client(Some(owner), registration))
    })
    .await?;
    let mut context = page_context(&session, Some(&user))?;
    match outcome {
        Ok((client, secret)) => {
            tracing::info!(client_id = %client.id, "client registered");
            context.insert("client", &client_metadata(&client));
            context.insert("secret", &secret.as_ref().map(|secret| secret.expose()));
            Ok(state
                .templates
                .page(StatusCode::OK, "client.html", &context)?)
        }
        Err(Error::OAuth(error)) => {
            context.insert("error", &error.description);
            context.insert(
                "form",
                &json!({
                    "client_name": text("client_name"),
                    "client_uri": text("client_uri"),
                    "redirect_uris": lines(&form, &["redirect_uris", "redirect_uri"]).join("\n"),
                    "grant_types": lines(&form, &["grant_types", "grant_type"]).join("\n"),
                    "response_types": lines(&form, &["response_types", "response_type"]).join("\n"),
                    "scope": text("scope"),
                    "token_endpoint_auth_method": text("token_endpoint_auth_method"),
                }),
            );
            Ok(state
                .templates
                .page(StatusCode::BAD_REQUEST, "create_client.html", &context)?)
        }
        Err(Error::Store(error)) => Err(error.into()),
    }
}
