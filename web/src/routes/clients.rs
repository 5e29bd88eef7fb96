//! `GET /clients/{client_id}`, `POST /clients/{client_id}/delete` and
//! `POST /clients/{client_id}/rotate_secret`: an owner manages their clients. Anyone else's
//! client is a 404, indistinguishable from an unknown one. `POST /clients/claim` makes the
//! signed-in user the owner of a client that registered itself.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{ready, Ready};
use serde_json::{json, Map, Value};
use tessera_domain::redirect_uri::RedirectUri;
use tessera_domain::{Client, Provider, StoreError, User, UserId};
use tessera_persistence::Database;

use crate::content_security_policy;
use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::routes::register::registration_client_uri;
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// A client's metadata as RFC 7591 §3.2.1 answers it (for the registration endpoint, the
/// pages and the command line): every field with a value, no secret. Optional fields without
/// a value are left out; `require_pushed_authorization_requests` is `false` when the client
/// follows the server's default.
pub fn client_metadata(client: &Client) -> Map<String, Value> {
    let uris = |uris: &[RedirectUri]| -> Value {
        uris.iter().map(|uri| Value::from(uri.as_str())).collect()
    };
    let mut metadata = Map::new();
    let mut put = |name: &str, value: Value| {
        metadata.insert(name.to_owned(), value);
    };
    put("client_id", client.id.clone().into());
    put("client_id_issued_at", client.created_at.timestamp().into());
    put("client_name", client.name.clone().into());
    put("redirect_uris", uris(&client.redirect_uris));
    put(
        "grant_types",
        json!(client
            .grant_types
            .iter()
            .map(|grant| grant.as_str())
            .collect::<Vec<_>>()),
    );
    put(
        "response_types",
        json!(client
            .response_types
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()),
    );
    put(
        "token_endpoint_auth_method",
        client.auth_method.as_str().into(),
    );
    put("scope", client.scope.to_string().into());
    put(
        "id_token_signed_response_alg",
        client.id_token_alg.as_str().into(),
    );
    put(
        "require_pushed_authorization_requests",
        client.require_pushed_requests.unwrap_or(false).into(),
    );
    let details = &client.details;
    let optional = [
        ("client_uri", client.uri.as_deref()),
        ("logo_uri", details.logo_uri.as_deref()),
        ("tos_uri", details.tos_uri.as_deref()),
        ("policy_uri", details.policy_uri.as_deref()),
        (
            "access_token_format",
            client.access_token_format.map(|format| format.as_str()),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            put(name, value.into());
        }
    }
    if !details.contacts.is_empty() {
        put("contacts", json!(details.contacts));
    }
    if !client.post_logout_redirect_uris.is_empty() {
        put(
            "post_logout_redirect_uris",
            uris(&client.post_logout_redirect_uris),
        );
    }
    metadata
}

/// The `{client_id}` path segment, percent-decoded. No client id holds a control character,
/// so such a path is a 404 at once (and a NUL never reaches the database).
#[derive(Debug, Clone)]
pub struct ClientPath(pub String);

impl FromRequest for ClientPath {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let id = web::Path::<String>::from_request(req, payload)
            .into_inner()
            .map(web::Path::into_inner)
            .ok()
            .filter(|id| !id.chars().any(char::is_control));
        ready(id.map(Self).ok_or(PageError::NotFound))
    }
}

/// Secrets the client page shows this once, after they were made.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ShownOnce<'a> {
    /// A new client secret.
    pub secret: Option<&'a str>,
    /// A new registration access token (RFC 7592).
    pub registration_token: Option<&'a str>,
}

/// The client page for its signed-in owner, with secrets just made (and then the copy
/// buttons' script).
pub(crate) fn show_client(
    state: &AppState,
    session: &TypedSession,
    user: &User,
    client: &Client,
    shown: ShownOnce<'_>,
) -> Result<HttpResponse, PageError> {
    let mut context = page_context(session, Some(user))?;
    let mut metadata = client_metadata(client);
    metadata.insert("public".to_owned(), client.is_public().into());
    metadata.insert(
        "registered_dynamically".to_owned(),
        client.registered_dynamically.into(),
    );
    context.insert("client", &metadata);
    context.insert(
        "registration_client_uri",
        &registration_client_uri(&state.config.issuer, &client.id),
    );
    context.insert("secret", &shown.secret);
    context.insert("registration_token", &shown.registration_token);
    let page = state
        .templates
        .page(StatusCode::OK, "client.html", &context)?;
    Ok(
        if shown.secret.is_some() || shown.registration_token.is_some() {
            content_security_policy::replaced(page, content_security_policy::SHOWING_SECRETS)
        } else {
            page
        },
    )
}

/// The steps every management route shares: a signed-out visitor is sent to sign in; the
/// signed-in user's `action` runs off the executor on their client (`None` when it is not
/// theirs or unknown, which is a 404); `answer` turns its result into the response.
async fn manage<T: Send + 'static>(
    state: &web::Data<AppState>,
    session: &TypedSession,
    ClientPath(client_id): ClientPath,
    action: impl FnOnce(&Provider<Database>, UserId, &str) -> Result<Option<T>, StoreError>
        + Send
        + 'static,
    answer: impl FnOnce(User, T) -> Result<HttpResponse, PageError>,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(state, session).await? else {
        let segment: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
        return Ok(see_other(&login_url(&format!("/clients/{segment}"))));
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let outcome =
        off_executor(move || action(&provider, owner, &client_id).map_err(PageError::from))
            .await?
            .ok_or(PageError::NotFound)?;
    answer(user, outcome)
}

/// The client page (without the secret).
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    path: ClientPath,
) -> Result<HttpResponse, PageError> {
    manage(
        &state,
        &session,
        path,
        |provider, owner, id| provider.owned_client(owner, id),
        |user, client| show_client(&state, &session, &user, &client, ShownOnce::default()),
    )
    .await
}

/// `POST /clients/claim`: the signed-in user becomes the owner of a client registered
/// dynamically (which has none), proving it with the client's registration access token.
pub async fn claim(
    state: web::Data<AppState>,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        return Ok(see_other(&login_url("/")));
    };
    let field = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
    let (client_id, token) = (field("client_id"), field("registration_access_token"));
    let provider = state.provider.clone();
    let owner = user.id;
    let id = client_id.clone();
    let claimed = off_executor(move || {
        provider
            .claim_client(owner, &id, &token)
            .map_err(PageError::from)
    })
    .await?;
    if !claimed {
        return Err(PageError::BadRequest(
            "No client without an owner has that client ID and registration access token.".into(),
        ));
    }
    tracing::info!(client_id = %client_id, "client claimed");
    session.flash("The client is yours to manage now.")?;
    let segment: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    Ok(see_other(&format!("/clients/{segment}")))
}

/// Deletes the client with everything issued to it.
pub async fn delete(
    state: web::Data<AppState>,
    path: ClientPath,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    manage(
        &state,
        &session,
        path,
        |provider, owner, id| Ok(provider.delete_client(owner, id)?.then_some(())),
        |_, ()| {
            session.flash("Client deleted, with every code and token it held.")?;
            Ok(see_other("/"))
        },
    )
    .await
}

/// Gives a confidential client a new secret and shows it, this once.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    path: ClientPath,
    CsrfForm { session, .. }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    manage(
        &state,
        &session,
        path,
        |provider, owner, id| provider.rotate_client_secret(owner, id),
        |user, (client, secret)| {
            tracing::warn!(client_id = %client.id, "client secret rotated");
            let shown = ShownOnce {
                secret: Some(secret.expose()),
                registration_token: None,
            };
            show_client(&state, &session, &user, &client, shown)
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    async fn extract(id: &str) -> Result<ClientPath, PageError> {
        let (req, mut payload) = TestRequest::default()
            .param("client_id", id.to_owned())
            .to_http_parts();
        ClientPath::from_request(&req, &mut payload).await
    }

    #[actix_web::test]
    async fn a_client_id_with_control_characters_is_not_found() {
        for id in ["a\0b", "\n", "x\u{7f}"] {
            assert!(
                matches!(extract(id).await, Err(PageError::NotFound)),
                "{id:?}"
            );
        }
        assert_eq!(extract("abc-123").await.unwrap().0, "abc-123");
    }
}
