//! `POST /logout`: sign out (`csrf_token`); harmless when already signed out.

use actix_web::HttpResponse;

use crate::error::PageError;
use crate::params::PageForm;
use crate::routes::see_other;
use crate::session::TypedSession;

/// Purges the session and goes home.
pub async fn post(session: TypedSession, form: PageForm) -> Result<HttpResponse, PageError> {
    if session.user_id().is_some() {
        session.verify_csrf(form.get("csrf_token"))?;
    }
    session.purge();
    Ok(see_other("/"))
}
