//! RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3): a client sends the
//! user to the end-session endpoint with `id_token_hint`, `post_logout_redirect_uri`,
//! `state` and `client_id`. The hint must be an ID token this server signed (expired ones
//! too); the redirect URI must be registered by the client the hint or `client_id` names,
//! matched exactly. Without a hint naming the signed-in user, the user is asked to confirm.

use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::params::Params;
use crate::provider::Provider;
use crate::signing::JwtType;
use crate::store::Store;
use crate::user::UserId;

/// A valid end-session request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSession {
    /// The client that asked, if it can be told.
    pub client: Option<Client>,
    /// The user the `id_token_hint` names.
    pub hinted_user: Option<UserId>,
    /// Where to send the user afterwards (with `state`), if the client asked.
    pub redirect: Option<String>,
}

impl EndSession {
    /// Whether the user may be signed out without asking: the hint names exactly them.
    pub fn needs_no_confirmation(&self, signed_in: Option<UserId>) -> bool {
        signed_in.is_none() || (self.hinted_user.is_some() && self.hinted_user == signed_in)
    }
}

impl<S: Store> Provider<S> {
    /// Validates an end-session request; an error is shown to the user, never redirected.
    pub fn end_session(&self, params: &Params) -> Result<EndSession, Error> {
        let hint = match params.single("id_token_hint")? {
            Some(hint) => Some(self.read_id_token_hint(hint)?),
            None => None,
        };
        let client_id = match (params.single("client_id")?, &hint) {
            (Some(sent), Some((audience, _))) if sent != audience => {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the audience of id_token_hint.",
                )
                .into())
            }
            (Some(sent), _) => Some(sent.to_owned()),
            (None, Some((audience, _))) => Some(audience.clone()),
            (None, None) => None,
        };
        let client = match &client_id {
            Some(id) => Some(
                self.store
                    .find_client(id)?
                    .ok_or_else(|| OAuthError::invalid_request("The client is not registered."))?,
            ),
            None => None,
        };
        let redirect = match params.single("post_logout_redirect_uri")? {
            None => None,
            Some(sent) => {
                let client = client.as_ref().ok_or_else(|| {
                    OAuthError::invalid_request(
                        "post_logout_redirect_uri needs id_token_hint or client_id.",
                    )
                })?;
                let registered = client
                    .post_logout_redirect_uris
                    .iter()
                    .find(|uri| uri.as_str() == sent)
                    .ok_or_else(|| {
                        OAuthError::invalid_request(
                            "The post_logout_redirect_uri is not registered for this client.",
                        )
                    })?;
                let state = params.single("state")?;
                let pairs: Vec<(&str, &str)> =
                    state.map(|state| ("state", state)).into_iter().collect();
                Some(registered.with_params(&pairs, false))
            }
        };
        Ok(EndSession {
            client,
            hinted_user: hint.and_then(|(_, user)| user),
            redirect,
        })
    }

    /// The audience and subject of an ID token this server signed.
    fn read_id_token_hint(&self, hint: &str) -> Result<(String, Option<UserId>), Error> {
        let invalid =
            || OAuthError::invalid_request("The id_token_hint is not an ID token of this server.");
        let claims = self
            .issuer
            .verify(hint, JwtType::IdToken)?
            .ok_or_else(invalid)?;
        if claims["iss"].as_str() != Some(self.issuer()) {
            return Err(invalid().into());
        }
        let audience = claims["aud"].as_str().ok_or_else(invalid)?.to_owned();
        let user = claims["sub"]
            .as_str()
            .and_then(|sub| uuid::Uuid::parse_str(sub).ok())
            .map(UserId);
        Ok((audience, user))
    }
}
