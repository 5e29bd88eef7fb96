//! OpenID Connect ID tokens (Core §2, §3.1.3.6, §12.2): who signed in, for which client,
//! when, signed with the client's algorithm. The token endpoint issues one whenever the
//! access token's scope holds `openid` and a user is behind it — on the code exchange (with
//! the request's `nonce`), on refresh (same `sub` and `auth_time`, no `nonce`) and for the
//! password grant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::client::Client;
use crate::user::UserId;

/// The scope that asks for an ID token.
pub const OPENID_SCOPE: &str = "openid";

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdTokenClaims {
    /// The issuer identifier.
    pub iss: String,
    /// The user's UUID (public subject type).
    pub sub: String,
    /// The client it is for.
    pub aud: String,
    /// Expiry, epoch seconds (the access token's lifetime).
    pub exp: i64,
    /// Issue time, epoch seconds.
    pub iat: i64,
    /// When the user signed in, epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The authorization request's `nonce`, byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The left half of the access token's hash, base64url (§3.1.3.6).
    pub at_hash: String,
    /// How the user signed in: `pwd` (RFC 8176 §2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<&'static str>,
}

/// Who an ID token speaks of, and what it comes with.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenSubject<'a> {
    /// The client it is for.
    pub client: &'a Client,
    /// The user.
    pub user_id: UserId,
    /// When the user signed in with their password.
    pub auth_time: Option<DateTime<Utc>>,
    /// The authorization request's `nonce` (only on the code exchange).
    pub nonce: Option<&'a str>,
    /// The access token issued with it.
    pub access_token: &'a str,
}

impl IdTokenClaims {
    /// The claims for `subject`, issued by `issuer` at `now` and expiring at `expires_at`.
    pub fn new(
        issuer: &str,
        subject: &IdTokenSubject<'_>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        let at_hash = subject
            .client
            .id_token_alg
            .left_half_hash(subject.access_token);
        Self {
            iss: issuer.to_owned(),
            sub: subject.user_id.to_string(),
            aud: subject.client.id.clone(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            auth_time: subject.auth_time.map(|time| time.timestamp()),
            nonce: subject.nonce.map(str::to_owned),
            at_hash: URL_SAFE_NO_PAD.encode(at_hash),
            amr: if subject.auth_time.is_some() {
                vec!["pwd"]
            } else {
                Vec::new()
            },
        }
    }
}
