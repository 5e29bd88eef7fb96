//! [`CsrfForm`]: a page's form whose `csrf_token` matched the session's.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::error::PageError;
use crate::params::PageForm;
use crate::session::TypedSession;

/// A form people submitted, with the session it came with; extracting it checks the
/// `csrf_token` field against the session in constant time (403 when it is missing or
/// wrong), so no handler can forget to.
pub struct CsrfForm {
    /// The session the form was checked against.
    pub session: TypedSession,
    /// The submitted fields.
    pub form: PageForm,
}

impl FromRequest for CsrfForm {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = TypedSession::from_request(req, payload);
        let form = PageForm::from_request(req, payload);
        Box::pin(async move {
            let session = session.await.map_err(|_| {
                PageError::Forbidden("The session cannot be read; reload the page.".to_owned())
            })?;
            let form = form.await?;
            session.verify_csrf(form.get("csrf_token"))?;
            Ok(Self { session, form })
        })
    }
}
