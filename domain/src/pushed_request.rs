//! Pushed authorization requests (RFC 9126). An authenticated client sends its authorization
//! request straight to the server, which validates it by the authorization endpoint's own rules
//! ([`Provider::validate_authorization`]) and answers with a `request_uri`: a reference that
//! the browser then carries to the authorization endpoint instead of the parameters.
//!
//! - The `request_uri` is `urn:ietf:params:oauth:request_uri:` and 256 random bits; only its
//!   SHA-256 digest is stored, with the client and the parameters, for [`PUSHED_REQUEST_TTL`].
//! - At the authorization endpoint it stands for the parameters it was pushed with, for the
//!   client that pushed it only; any other parameter sent alongside is ignored (§4). One of
//!   this form that is unknown, expired, used or another client's gets the error page, since
//!   the redirect URI it stands for is unknown; a `request_uri` of any other form (a request
//!   object by reference) is redirected as `request_uri_not_supported`.
//! - It is used up (one conditional write, [`PushedRequestStore::claim_pushed_request`]) when
//!   the request is answered: a code or token issued, or the user's Deny. Until then (sign-in,
//!   the consent page) it is only read, so the consent form carries the `request_uri`, never
//!   the parameters.
//! - A client registered with `require_pushed_authorization_requests`, or every client when
//!   `TESSERA_REQUIRE_PAR=1`, must push: a direct request is redirected with `invalid_request`.
//!
//! [`PushedRequestStore::claim_pushed_request`]: crate::store::PushedRequestStore::claim_pushed_request

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::client::Client;
use crate::error::{Error, OAuthError};
use crate::params::Params;
use crate::provider::Provider;
use crate::secret::{Secret, TokenDigest};
use crate::store::Store;

/// The prefix of every `request_uri` this server hands out (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request may be used (RFC 9126 §2.2 suggests a short time).
pub const PUSHED_REQUEST_TTL: Duration = Duration::seconds(60);

/// Parameters of a pushed body that are client authentication, not the authorization request.
const CREDENTIAL_PARAMS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed authorization request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// The digest of the random part of its `request_uri`.
    pub digest: TokenDigest,
    /// The client that pushed it, the only one that may use it.
    pub client_id: String,
    /// The authorization request's parameters, `client_id` included.
    pub params: Params,
    /// When it was pushed.
    pub created_at: DateTime<Utc>,
    /// When it stops being usable.
    pub expires_at: DateTime<Utc>,
    /// When it was used up, if it was.
    pub used_at: Option<DateTime<Utc>>,
}

impl PushedRequest {
    /// Whether `client_id` may still use it at `now`.
    pub fn usable_by(&self, client_id: &str, now: DateTime<Utc>) -> bool {
        self.client_id == client_id && self.used_at.is_none() && self.expires_at > now
    }
}

/// The answer to a push (RFC 9126 §2.2), sent as 201 JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushedResponse {
    /// `urn:ietf:params:oauth:request_uri:<random>`.
    pub request_uri: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// The digest under which the `request_uri` `text` is stored; `None` when it is not one of
/// this server's.
pub fn request_uri_digest(text: &str) -> Option<TokenDigest> {
    text.strip_prefix(REQUEST_URI_PREFIX)
        .filter(|random| !random.is_empty())
        .map(TokenDigest::of)
}

impl<S: Store> Provider<S> {
    /// Validates the pushed body of `client`, the authenticated caller, as the authorization
    /// endpoint would validate it, and stores it. Every refusal is an [`OAuthError`] with the
    /// authorization endpoint's code (RFC 9126 §2.3): a `request_uri` in the body is
    /// `invalid_request`.
    pub fn push_authorization_request(
        &self,
        client: &Client,
        body: &Params,
    ) -> Result<PushedResponse, Error> {
        if body.single("client_id")?.is_some_and(|id| id != client.id) {
            return Err(OAuthError::invalid_request(
                "The client_id is not the authenticated client.",
            )
            .into());
        }
        let mut pairs: Vec<(String, String)> = body
            .pairs()
            .iter()
            .filter(|(name, _)| name != "client_id" && !CREDENTIAL_PARAMS.contains(&name.as_str()))
            .cloned()
            .collect();
        pairs.insert(0, ("client_id".to_owned(), client.id.clone()));
        let params = Params::new(pairs);
        self.validate_pushed(&params)?;
        let now = self.now();
        let secret = Secret::generate();
        self.store.insert_pushed_request(&PushedRequest {
            digest: secret.digest(),
            client_id: client.id.clone(),
            params,
            created_at: now,
            expires_at: now + PUSHED_REQUEST_TTL,
            used_at: None,
        })?;
        Ok(PushedResponse {
            request_uri: format!("{REQUEST_URI_PREFIX}{}", secret.expose()),
            expires_in: PUSHED_REQUEST_TTL.num_seconds(),
        })
    }

    /// Whether `client` must push its authorization requests: it registered so, or the
    /// server requires it of everyone.
    pub fn requires_pushed_requests(&self, client: &Client) -> bool {
        self.policy.require_pushed_requests || client.require_pushed_requests == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_servers_request_uris_have_a_digest() {
        let digest = request_uri_digest("urn:ietf:params:oauth:request_uri:abc");
        assert_eq!(digest, Some(TokenDigest::of("abc")));
        assert_eq!(
            request_uri_digest("urn:ietf:params:oauth:request_uri:"),
            None
        );
        assert_eq!(request_uri_digest("https://client.example/request"), None);
    }

    #[test]
    fn a_pushed_request_is_usable_by_its_client_until_used_or_expired() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let pushed = PushedRequest {
            digest: TokenDigest::of("x"),
            client_id: "c".into(),
            params: Params::default(),
            created_at: now,
            expires_at: now + PUSHED_REQUEST_TTL,
            used_at: None,
        };
        assert!(pushed.usable_by("c", now));
        assert!(!pushed.usable_by("other", now));
        assert!(!pushed.usable_by("c", now + PUSHED_REQUEST_TTL));
        let used = PushedRequest {
            used_at: Some(now),
            ..pushed
        };
        assert!(!used.usable_by("c", now));
    }
}
