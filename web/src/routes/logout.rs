//! `POST /logout`: sign out (`csrf_token`); harmless when already signed out. The session
//! ends on every process, not only in this browser. An optional `next` (a same-site path,
//! as at `/login`) is where the browser goes afterwards: the approval pages' "Not you?"
//! returns through the sign-in page.

use actix_web::{web, HttpResponse};

use crate::error::PageError;
use crate::params::PageForm;
use crate::routes::login::safe_next;
use crate::routes::{see_other, sign_out};
use crate::session::TypedSession;
use crate::state::AppState;

/// Ends the session and goes home, or to `next`.
pub async fn post(
    state: web::Data<AppState>,
    session: TypedSession,
    form: PageForm,
) -> Result<HttpResponse, PageError> {
    if session.user_id().is_some() {
        session.verify_csrf(form.get("csrf_token"))?;
    }
    sign_out(&state, &session).await?;
    Ok(see_other(safe_next(form.get("next")).unwrap_or("/")))
}
