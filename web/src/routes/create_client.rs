//! `GET,POST /create_client`: a signed-in user registers a client. Fields: `client_name`,
//! `client_uri`, `redirect_uris` (one per line), `grant_types` and `response_types` (one per
//! line or repeated), `scope`, `token_endpoint_auth_method`, optional
//! `id_token_signed_response_alg`, `access_token_format` and
//! `require_pushed_authorization_requests` (`1` or `on`), `csrf_token`. Success shows the
//! client page with the secret, this once; a refusal shows the form again, filled in.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tera::Context;
use tessera_domain::client::{GrantType, ResponseType};
use tessera_domain::{
    ClientOrigin, ClientRegistration, Error, OAuthError, Params, Registered, Secret,
};

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::params::PageForm;
use crate::routes::clients::{show_client, ShownOnce};
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// Every value of the fields `names`, split into lines, trimmed, blanks dropped.
fn lines(params: &Params, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|name| params.all(name))
        .flat_map(str::lines)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The registration the form describes (singular field names are accepted too); the edit
/// page's form has the same fields.
pub(crate) fn registration(form: &PageForm) -> ClientRegistration {
    let text = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
    ClientRegistration {
        name: text("client_name"),
        uri: text("client_uri"),
        redirect_uris: lines(form, &["redirect_uris", "redirect_uri"]),
        grant_types: lines(form, &["grant_types", "grant_type"]),
        response_types: lines(form, &["response_types", "response_type"]),
        scope: text("scope"),
        auth_method: text("token_endpoint_auth_method"),
        id_token_signed_response_alg: text("id_token_signed_response_alg"),
        post_logout_redirect_uris: lines(form, &["post_logout_redirect_uris"]),
        access_token_format: text("access_token_format"),
        require_pushed_requests: matches!(
            text("require_pushed_authorization_requests").as_str(),
            "1" | "on" | "true" | "yes"
        ),
        logo_uri: text("logo_uri"),
        tos_uri: text("tos_uri"),
        policy_uri: text("policy_uri"),
        contacts: lines(form, &["contacts"]),
    }
}

/// The form's fields, filled in with `registration`, to show it again.
pub(crate) fn form_values(registration: &ClientRegistration) -> Value {
    json!({
        "client_name": registration.name,
        "client_uri": registration.uri,
        "redirect_uris": registration.redirect_uris.join("\n"),
        "grant_types": registration.grant_types.join("\n"),
        "response_types": registration.response_types.join("\n"),
        "scope": registration.scope,
        "token_endpoint_auth_method": registration.auth_method,
        "id_token_signed_response_alg": registration.id_token_signed_response_alg,
        "post_logout_redirect_uris": registration.post_logout_redirect_uris.join("\n"),
        "access_token_format": registration.access_token_format,
        "require_pushed_authorization_requests": registration.require_pushed_requests,
        "logo_uri": registration.logo_uri,
        "tos_uri": registration.tos_uri,
        "policy_uri": registration.policy_uri,
        "contacts": registration.contacts.join("\n"),
    })
}

/// The grant types offered as checkboxes.
const GRANT_TYPES: [GrantType; 6] = [
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::ClientCredentials,
    GrantType::DeviceCode,
    GrantType::Password,
    GrantType::Implicit,
];

/// The response types offered as checkboxes.
const RESPONSE_TYPES: [ResponseType; 2] = [ResponseType::Code, ResponseType::Token];

/// Puts the form into `context`, filled in with `registration`, with the grant and response
/// types it lists ticked among the checkboxes (shared by the create and edit pages).
pub(crate) fn insert_form(context: &mut Context, registration: &ClientRegistration) {
    let mut form = form_values(registration);
    if let Value::Object(fields) = &mut form {
        fields.insert(
            "grant_type_list".into(),
            registration.grant_types.clone().into(),
        );
        fields.insert(
            "response_type_list".into(),
            registration.response_types.clone().into(),
        );
    }
    context.insert("form", &form);
    context.insert("field_errors", &HashMap::<&str, &str>::new());
    let grants: Vec<&str> = GRANT_TYPES.iter().map(|grant| grant.as_str()).collect();
    let responses: Vec<&str> = RESPONSE_TYPES.iter().map(|kind| kind.as_str()).collect();
    context.insert("grant_type_choices", &grants);
    context.insert("response_type_choices", &responses);
}

/// The registration form, with the authorization code grant ticked.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url("/create_client")));
    };
    let mut context = page_context(&session, Some(&user))?;
    let fresh = ClientRegistration {
        grant_types: vec![GrantType::AuthorizationCode.as_str().to_owned()],
        response_types: vec![ResponseType::Code.as_str().to_owned()],
        ..ClientRegistration::default()
    };
    insert_form(&mut context, &fresh);
    Ok(state
        .templates
        .page(StatusCode::OK, "create_client.html", &context)?)
}

/// The fields of the client form, by the metadata names registration errors start with.
const FORM_FIELDS: [&str; 14] = [
    "client_name",
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "contacts",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "response_types",
    "scope",
    "token_endpoint_auth_method",
    "id_token_signed_response_alg",
    "access_token_format",
];

/// Puts why a registration or edit was refused on the form: next to the field its
/// description names (`client_uri: must be an http(s) URL`), or above the form.
pub(crate) fn insert_refusal(context: &mut Context, error: &OAuthError) {
    let field = error
        .description
        .split_once(": ")
        .filter(|(field, _)| FORM_FIELDS.contains(field));
    match field {
        Some((field, message)) => {
            context.insert("field_errors", &HashMap::from([(field, message)]));
        }
        None => context.insert("error", &error.description),
    }
}

/// Registers the client and shows it with its secret.
pub async fn post(
    state: web::Data<AppState>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url("/create_client")));
    };
    let registration = registration(&form);
    let submitted = registration.clone();
    let provider = state.provider.clone();
    let owner = user.id;
    let outcome = off_executor(move || {
        Ok::<_, PageError>(provider.register_client(ClientOrigin::Page(owner), registration))
    })
    .await?;
    match outcome {
        Ok(Registered {
            client,
            secret,
            registration_token,
        }) => {
            tracing::info!(client_id = %client.id, "client registered");
            let shown = ShownOnce {
                secret: secret.as_ref().map(Secret::expose),
                registration_token: Some(registration_token.expose()),
            };
            show_client(&state, &session, &user, &client, shown)
        }
        Err(Error::OAuth(error)) => {
            let mut context = page_context(&session, Some(&user))?;
            insert_form(&mut context, &submitted);
            insert_refusal(&mut context, &error);
            Ok(state
                .templates
                .page(StatusCode::BAD_REQUEST, "create_client.html", &context)?)
        }
        Err(Error::Store(error)) => Err(error.into()),
    }
}
