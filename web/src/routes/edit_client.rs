//! `GET,POST /clients/{client_id}/edit`: the signed-in owner changes a client's metadata.
//! The form has the fields of `/create_client` (grant and response types as checkboxes),
//! prefilled with the current values; the edit is checked as a registration is
//! ([`ClientRegistration::edit`](tessera_domain::ClientRegistration::edit)). Success is a
//! 303 to the client page, except that a client made confidential is shown with its new
//! secret, this once. A refusal shows the form again, filled in, with the error next to its
//! field. Anyone else's client is a 404.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tera::Context;
use tessera_domain::{ClientRegistration, Error, Secret, User};

use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::off_executor::off_executor;
use crate::routes::clients::{show_client, ClientPath, ShownOnce};
use crate::routes::create_client::{insert_form, insert_refusal, registration};
use crate::routes::{current_user, login_url, page_context, see_other};
use crate::session::TypedSession;
use crate::state::AppState;

/// The client's path segment, percent-encoded.
fn segment(client_id: &str) -> String {
    url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect()
}

/// The edit page for `client_id`, filled in with `registration`.
fn edit_context(
    session: &TypedSession,
    user: &User,
    client_id: &str,
    registration: &ClientRegistration,
) -> Result<Context, PageError> {
    let mut context = page_context(session, Some(user))?;
    insert_form(&mut context, registration);
    context.insert("client_id", client_id);
    Ok(context)
}

/// The edit form, prefilled.
pub async fn get(
    state: web::Data<AppState>,
    session: TypedSession,
    ClientPath(client_id): ClientPath,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        let back = format!("/clients/{}/edit", segment(&client_id));
        return Ok(see_other(&login_url(&back)));
    };
    let provider = state.provider.clone();
    let owner = user.id;
    let id = client_id.clone();
    let client = off_executor(move || provider.owned_client(owner, &id).map_err(PageError::from))
        .await?
        .ok_or(PageError::NotFound)?;
    let context = edit_context(&session, &user, &client.id, &client.registration())?;
    Ok(state
        .templates
        .page(StatusCode::OK, "edit_client.html", &context)?)
}

/// Applies the edit and goes back to the client page.
pub async fn post(
    state: web::Data<AppState>,
    ClientPath(client_id): ClientPath,
    CsrfForm { session, form }: CsrfForm,
) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(&state, &session).await? else {
        let back = format!("/clients/{}/edit", segment(&client_id));
        return Ok(see_other(&login_url(&back)));
    };
    let submitted = registration(&form);
    let edit = submitted.clone();
    let provider = state.provider.clone();
    let owner = user.id;
    let id = client_id.clone();
    let outcome =
        off_executor(move || Ok::<_, PageError>(provider.edit_client(Some(owner), &id, edit)))
            .await?;
    match outcome {
        Ok(Some(edited)) => {
            tracing::info!(client_id = %edited.client.id, "client edited");
            match &edited.secret {
                Some(secret) => {
                    let shown = ShownOnce {
                        secret: Some(Secret::expose(secret)),
                        registration_token: None,
                    };
                    show_client(&state, &session, &user, &edited.client, shown)
                }
                None => Ok(see_other(&format!("/clients/{}", segment(&client_id)))),
            }
        }
        Ok(None) => Err(PageError::NotFound),
        Err(Error::OAuth(error)) => {
            let mut context = edit_context(&session, &user, &client_id, &submitted)?;
            insert_refusal(&mut context, &error);
            Ok(state
                .templates
                .page(StatusCode::BAD_REQUEST, "edit_client.html", &context)?)
        }
        Err(Error::Store(error)) => Err(error.into()),
    }
}
