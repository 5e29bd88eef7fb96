//! `GET /clients/{client_id}`, `POST /clients/{client_id}/delete` and
//! `POST /clients/{client_id}/rotate_secret`: an owner manages their clients. Anyone else's
//! client is a 404, indistinguishable from an unknown one.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{ready, Ready};
use serde_json::{json, Value};
use tessera_domain::{Client, Provider, StoreError, User, UserId};
use tessera_persistence::Database;

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// A client's public metadata (RFC 7591 §2 names), for pages and the command line;
/// `access_token_format` and `require_pushed_authorization_requests` are `null` when the client
/// follows the server's default.
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
        "id_token_signed_response_alg": client.id_token_alg.as_str(),
        "post_logout_redirect_uris": client.post_logout_redirect_uris.iter().map(|uri| uri.as_str()).collect::<Vec<_>>(),
        "access_token_format": client.access_token_format.map(|format| format.as_str()),
        "require_pushed_authorization_requests": client.require_pushed_requests,
        "public": client.is_public(),
    })
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

/// The client page for its signed-in owner; `secret` is shown this once.
pub(crate) fn show_client(
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
        |user, client| show_client(&state, &session, &user, &client, None),
    )
    .await
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
        |_, ()| Ok(see_other("/")),
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
            show_client(&state, &session, &user, &client, Some(secret.expose()))
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
