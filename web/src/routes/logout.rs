//! `POST /logout`: sign out (`csrf_token`); harmless when already signed out. The session
//! ends on every process, not only in this browser.

use actix_web::{web, HttpResponse};

use crate::error::PageError;
use crate::params::PageForm;
use crate::routes::{see_other, sign_out};
use crate::session::TypedSession;
use crate::state::AppState;

/// Ends the session and goes home.
pub async fn post(
    state: web::Data<AppState>,
    session: TypedSession,
    form: PageForm,
) -> Result<HttpResponse, PageError> {
    if session.user_id().is_some() {
        session.verify_csrf(form.get("csrf_token"))?;
    }
    sign_out(&state, &session).await?;
    Ok(see_other("/"))
}
