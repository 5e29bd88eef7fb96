//! Token introspection (RFC 7662): an authenticated client asks what one of its tokens is.
//!
//! The answer is [`Introspection::Active`] only for a token that is known, issued to the
//! asking client, unexpired, unrevoked, not rotated, and (when a user owns it) whose user
//! still exists. Everything else — an unknown, expired, revoked or rotated token, or another
//! client's — is [`Introspection::Inactive`], which says `{"active": false}` and nothing
//! else (§2.2), so an answer never tells a client whether someone else's token exists.
//!
//! A JWT access token ([`crate::jwt_access_token`]) is active when its signature and claims
//! verify and one read of the store finds it unrevoked, in a live family, of a client and a
//! user that still exist; it is described from its claims like an opaque one.
//!
//! `token_type` follows Ory Hydra: `"Bearer"` for access tokens, as RFC 7662 §2.2 asks (the
//! OAuth token type of RFC 6749 §7.1, the `token_type` of the token response), and
//! `"refresh_token"` for refresh tokens, which have no OAuth token type.

use serde::{Serialize, Serializer};

use crate::client::Client;
use crate::error::Error;
use crate::jwt_access_token::looks_like_jwt;
use crate::params::Params;
use crate::provider::Provider;
use crate::secret::TokenDigest;
use crate::store::Store;
use crate::token::{Token, TokenKind};

/// `token_type` of an active access token: its OAuth token type (RFC 6750).
pub const ACCESS_TOKEN_TYPE: &str = "Bearer";
/// `token_type` of an active refresh token (as Ory Hydra says it).
pub const REFRESH_TOKEN_TYPE: &str = "refresh_token";

/// What the introspection endpoint answers about a token (RFC 7662 §2.2). It serializes as
/// the response body: `{"active": true, ...}` with the fields of [`ActiveToken`], or exactly
/// `{"active": false}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// The token may be used now; what it is.
    Active(ActiveToken),
    /// Unknown, expired, revoked, rotated, or issued to another client.
    Inactive,
}

/// The description of an active token (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveToken {
    /// What it allows, space separated.
    pub scope: String,
    /// The client it was issued to.
    pub client_id: String,
    /// [`ACCESS_TOKEN_TYPE`] or [`REFRESH_TOKEN_TYPE`].
    pub token_type: &'static str,
    /// When it expires, in seconds since the epoch.
    pub exp: i64,
    /// When it was issued, in seconds since the epoch.
    pub iat: i64,
    /// The issuer identifier of this server.
    pub iss: String,
    /// The user it acts for (their UUID); absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// That user's username; absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl Introspection {
    /// Whether the token is active.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active(_))
    }
}

impl Serialize for Introspection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            active: bool,
            #[serde(flatten)]
            token: Option<&'a ActiveToken>,
        }
        let token = match self {
            Self::Active(token) => Some(token),
            Self::Inactive => None,
        };
        Body {
            active: token.is_some(),
            token,
        }
        .serialize(serializer)
    }
}

/// The `token_type` an active token of this kind is described with.
pub fn token_type(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => ACCESS_TOKEN_TYPE,
        TokenKind::Refresh => REFRESH_TOKEN_TYPE,
    }
}

impl<S: Store> Provider<S> {
    /// Describes the `token` parameter to `client`, the authenticated caller. A missing or repeated `token` (or a repeated
    /// `token_type_hint`) is `invalid_request`; the hint itself is ignored, since one lookup
    /// finds a token of either kind (RFC 7662 §2.1).
    pub fn introspect(&self, client: &Client, params: &Params) -> Result<Introspection, Error> {
        let presented = params.required("token")?;
        params.single("token_type_hint")?;
        if looks_like_jwt(presented) {
            let Some((token, user)) = self
                .active_jwt_access_token(presented)?
                .filter(|(token, _)| token.client_id == client.id)
            else {
                return Ok(Introspection::Inactive);
            };
            return Ok(Introspection::Active(ActiveToken {
                scope: token.scope.to_string(),
                token_type: ACCESS_TOKEN_TYPE,
                exp: token.expires_at.timestamp(),
                iat: token.issued_at.timestamp(),
                iss: self.issuer().to_owned(),
                sub: user.as_ref().map(|user| user.id.to_string()),
                username: user.map(|user| user.username),
                client_id: token.client_id,
            }));
        }
        let now = self.now();
        let Some((token, user)) = self
            .store
            .find_token_and_user(&TokenDigest::of(presented))?
            .filter(|(token, _)| token.client_id == client.id && token.is_active(now))
        else {
            return Ok(Introspection::Inactive);
        };
        let (sub, username) = match (token.user_id, user) {
            (Some(_), Some(user)) if !user.is_disabled() => {
                (Some(user.id.to_string()), Some(user.username))
            }
            (Some(_), _) => return Ok(Introspection::Inactive),
            (None, _) => (None, None),
        };
        Ok(Introspection::Active(describe(
            &token,
            self.issuer(),
            sub,
            username,
        )))
    }
}

fn describe(
    token: &Token,
    issuer: &str,
    sub: Option<String>,
    username: Option<String>,
) -> ActiveToken {
    ActiveToken {
        scope: token.scope.to_string(),
        client_id: token.client_id.clone(),
        token_type: token_type(token.kind),
        exp: token.expires_at.timestamp(),
        iat: token.issued_at.timestamp(),
        iss: issuer.to_owned(),
        sub,
        username,
    }
}

#[cfg(test)]
mod tests {

    use chrono::Duration;
    use serde_json::json;

    use super::*;
    use crate::scenarios::{params, world, World};
    use crate::token_endpoint::TokenRequest;
    use crate::ErrorCode;

    const ISSUER: &str = "https://tessera.example";

    /// What a successful token request returned.
    struct Issued {
        access: String,
        refresh: Option<String>,
    }

    impl World {
        fn token(&self, client: &Client, pairs: &[(&str, &str)]) -> Issued {
            let request = TokenRequest::parse(&params(pairs)).unwrap();
            let response = self.provider.exchange(client, request).unwrap();
            Issued {
                access: response.access_token,
                refresh: response.refresh_token,
            }
        }

        fn password_tokens(&self, client: &Client) -> Issued {
            self.token(
                client,
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", "correct horse"),
                    ("scope", "profile"),
                ],
            )
        }

        fn introspect(&self, client: &Client, pairs: &[(&str, &str)]) -> Introspection {
            self.provider.introspect(client, &params(pairs)).unwrap()
        }

        fn describe(&self, client: &Client, token: &str) -> Introspection {
            self.introspect(client, &[("token", token)])
        }
    }

    fn active(introspection: Introspection) -> ActiveToken {
        match introspection {
            Introspection::Active(token) => token,
            Introspection::Inactive => panic!("expected an active token"),
        }
    }

    #[test]
    fn an_active_access_token_is_described_with_its_user_and_the_issuer() {
        let w = world();
        let client = w.client("client_secret_basic", "password").0;
        let issued = w.password_tokens(&client);
        let start = w.provider.now().timestamp();

        let token = active(w.describe(&client, &issued.access));

        assert_eq!(
            token,
            ActiveToken {
                scope: "profile".into(),
                client_id: client.id.clone(),
                token_type: "Bearer",
                exp: start + 3600,
                iat: start,
                iss: ISSUER.into(),
                sub: Some(w.user.id.to_string()),
                username: Some("alice".into()),
            }
        );
    }

    #[test]
    fn a_refresh_token_is_described_as_a_refresh_token_with_its_own_lifetime() {
        let w = world();
        let client = w.client("client_secret_basic", "password refresh_token").0;
        let issued = w.password_tokens(&client);
        let start = w.provider.now().timestamp();

        let token = active(w.describe(&client, &issued.refresh.unwrap()));

        assert_eq!(token.token_type, "refresh_token");
        assert_eq!(token.exp, start + 30 * 24 * 3600);
        assert_eq!(token.sub, Some(w.user.id.to_string()));
    }

    #[test]
    fn a_client_credentials_token_has_no_subject_or_username() {
        let w = world();
        let client = w.client("client_secret_basic", "client_credentials").0;
        let issued = w.token(&client, &[("grant_type", "client_credentials")]);

        let token = active(w.describe(&client, &issued.access));

        assert_eq!((token.sub, token.username), (None, None));
        assert_eq!(token.scope, "email profile");
    }

    #[test]
    fn unknown_expired_revoked_rotated_and_foreign_tokens_are_inactive() {
        let w = world();
        let client = w.client("client_secret_basic", "password refresh_token").0;
        let other = w.client("client_secret_basic", "password refresh_token").0;

        assert_eq!(
            w.describe(&client, "no-such-token"),
            Introspection::Inactive
        );

        let foreign = w.password_tokens(&other);
        assert_eq!(
            w.describe(&client, &foreign.access),
            Introspection::Inactive
        );
        assert!(w.describe(&other, &foreign.access).is_active());

        let revoked = w.password_tokens(&client);
        w.provider
            .revoke(&client, &params(&[("token", &revoked.access)]))
            .unwrap();
        assert_eq!(
            w.describe(&client, &revoked.access),
            Introspection::Inactive
        );

        let rotated = w.password_tokens(&client).refresh.unwrap();
        w.token(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &rotated)],
        );
        assert_eq!(w.describe(&client, &rotated), Introspection::Inactive);

        let expiring = w.password_tokens(&client);
        w.clock.advance(Duration::hours(1));
        assert_eq!(
            w.describe(&client, &expiring.access),
            Introspection::Inactive
        );
        assert!(w.describe(&client, &expiring.refresh.unwrap()).is_active());
    }

    #[test]
    fn a_public_client_introspects_its_own_tokens_only() {
        let w = world();
        let public = w.client("none", "password").0;
        let confidential = w.client("client_secret_basic", "password").0;
        let own = w.password_tokens(&public);
        let theirs = w.password_tokens(&confidential);

        assert!(w.describe(&public, &own.access).is_active());
        assert_eq!(w.describe(&public, &theirs.access), Introspection::Inactive);
        assert_eq!(
            w.describe(&confidential, &own.access),
            Introspection::Inactive
        );
    }

    #[test]
    fn the_token_type_hint_is_only_a_hint() {
        let w = world();
        let client = w.client("client_secret_basic", "password refresh_token").0;
        let issued = w.password_tokens(&client);

        for hint in ["refresh_token", "access_token", "banana"] {
            let answer = w.introspect(
                &client,
                &[("token", &issued.access), ("token_type_hint", hint)],
            );
            assert!(answer.is_active(), "{hint}");
        }
    }

    #[test]
    fn a_missing_or_repeated_token_is_invalid_request() {
        let w = world();
        let client = w.client("client_secret_basic", "password").0;
        for pairs in [
            &[][..],
            &[("token", "")][..],
            &[("token", "a"), ("token", "b")][..],
            &[
                ("token", "a"),
                ("token_type_hint", "x"),
                ("token_type_hint", "y"),
            ][..],
        ] {
            let result = w.provider.introspect(&client, &params(pairs));
            assert!(
                matches!(&result, Err(Error::OAuth(e)) if e.code == ErrorCode::InvalidRequest),
                "{pairs:?}: {result:?}"
            );
        }
    }

    #[test]
    fn an_inactive_answer_serializes_to_active_false_and_nothing_else() {
        assert_eq!(
            serde_json::to_value(Introspection::Inactive).unwrap(),
            json!({"active": false})
        );
    }

    #[test]
    fn an_active_answer_serializes_with_the_rfc_7662_names() {
        let token = ActiveToken {
            scope: "profile".into(),
            client_id: "app".into(),
            token_type: ACCESS_TOKEN_TYPE,
            exp: 20,
            iat: 10,
            iss: ISSUER.into(),
            sub: None,
            username: None,
        };
        assert_eq!(
            serde_json::to_value(Introspection::Active(token)).unwrap(),
            json!({
                "active": true,
                "scope": "profile",
                "client_id": "app",
                "token_type": "Bearer",
                "exp": 20,
                "iat": 10,
                "iss": ISSUER,
            })
        );
    }
}
