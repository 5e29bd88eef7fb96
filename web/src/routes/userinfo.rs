//! `GET,POST /oauth/userinfo` (OpenID Connect Core §5.3): the signed-in user's claims for a
//! bearer token ([`BearerToken`], header only) with scope `openid`.

use actix_web::{web, HttpResponse};

use crate::error::{no_store, BearerError};
use crate::extract::BearerToken;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// The claims the token may read.
pub async fn handle(
    state: web::Data<AppState>,
    token: BearerToken,
) -> Result<HttpResponse, BearerError> {
    let provider = state.provider.clone();
    let claims =
        off_executor(move || provider.userinfo(token.as_str()).map_err(BearerError::from)).await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(claims))
}
