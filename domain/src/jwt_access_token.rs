//! JWT access tokens (RFC 9068): how access tokens look on the wire ([`AccessTokenFormat`]),
//! and the rules of the signed ones.
//!
//! A JWT access token is signed with the server's EdDSA key (`typ: at+jwt`) and stored
//! nowhere: its claims say what it allows and for whom ([`AccessTokenClaims`]). What it
//! cannot say is whether it was revoked since, so every check inside Tessera (bearer routes,
//! introspection) verifies the signature, `typ`, `iss`, `aud` and `exp` and then reads the
//! store once ([`JwtStanding`]): its `jti` must not be on the deny-list, the family it names
//! must be unrevoked, its client and its user must still exist, and its user must not have
//! been disabled since it was issued (even if enabled again). A resource server that
//! validates the token on its own learns of a revocation only when the token expires, which
//! is why these tokens live a short time (`TESSERA_JWT_ACCESS_TOKEN_TTL`, 5 minutes).
//!
//! Claims: `iss`, `aud` (the issuer identifier: Tessera serves its own resources and takes no
//! resource indicators), `sub` (the user's UUID, or the `client_id` for client credentials,
//! §2.2), `client_id`, `scope`, `iat`, `exp`, `jti` (128 random bits), and the private
//! claim [`FAMILY_CLAIM`] with the id of the stored family (authorization) the token belongs
//! to, when it belongs to one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::authorization::AuthorizationId;
use crate::client::Client;
use crate::error::{Error, OAuthError, StoreError};
use crate::provider::Provider;
use crate::scope::Scope;
use crate::signing::{JwtType, SigningAlg};
use crate::store::Store;
use crate::user::{User, UserId};

/// How access tokens look on the wire: server-wide by `TESSERA_ACCESS_TOKEN_FORMAT`, per
/// client by its `access_token_format` metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessTokenFormat {
    /// 256 random bits, base64url; resource servers check them by introspection or, inside
    /// Tessera, by their digest.
    #[default]
    Opaque,
    /// A signed JWT (RFC 9068) that resource servers can validate with the JWK Set.
    Jwt,
}

impl AccessTokenFormat {
    /// Every format, the default first.
    pub const ALL: [Self; 2] = [Self::Opaque, Self::Jwt];

    /// The name in configuration and client metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opaque => "opaque",
            Self::Jwt => "jwt",
        }
    }

    /// The format named `name`, exactly as spelled by [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == name)
    }
}

/// The algorithm JWT access tokens are signed with: Ed25519, the fastest of the server's
/// keys to sign and verify. Every keyring holds a key for every [`SigningAlg`].
pub const ACCESS_TOKEN_ALG: SigningAlg = SigningAlg::EdDsa;

/// The private claim naming the family (authorization) a JWT access token belongs to, so
/// that revoking the family (a code replay, a refresh token reuse, a withdrawn consent)
/// ends the token at once inside Tessera.
pub const FAMILY_CLAIM: &str = "tessera_family";

/// Whether `token` has the shape of a compact JWS (three parts separated by dots). Opaque
/// tokens are base64url and never contain a dot, so the two formats cannot be confused.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// The claims of a JWT access token (RFC 9068 §2.2), as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer identifier.
    pub iss: String,
    /// When it expires, in seconds since the epoch.
    pub exp: i64,
    /// Who it is for: the issuer identifier.
    pub aud: String,
    /// The user's UUID, or the `client_id` when the client acts for itself.
    pub sub: String,
    /// The client it was issued to.
    pub client_id: String,
    /// When it was issued, in seconds since the epoch.
    pub iat: i64,
    /// Its unique identifier, which revocation puts on the deny-list.
    pub jti: String,
    /// What it allows, space separated.
    pub scope: String,
    /// The family it belongs to ([`FAMILY_CLAIM`]), when one is stored.
    #[serde(
        rename = "tessera_family",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub family: Option<String>,
}

impl AccessTokenClaims {
    /// The claims of a new token issued by `issuer` to `client`, for `user` (or the client
    /// itself), in `family`, allowing `scope`, from `now` until `expires_at`, with a fresh
    /// `jti` of 128 random bits.
    pub fn new(
        issuer: &str,
        client: &Client,
        user: Option<UserId>,
        family: Option<AuthorizationId>,
        scope: &Scope,
        (now, expires_at): (DateTime<Utc>, DateTime<Utc>),
    ) -> Self {
        let mut jti = [0_u8; 16];
        rand::thread_rng().fill_bytes(&mut jti);
        Self {
            iss: issuer.to_owned(),
            exp: expires_at.timestamp(),
            aud: issuer.to_owned(),
            sub: user.map_or_else(|| client.id.clone(), |user| user.to_string()),
            client_id: client.id.clone(),
            iat: now.timestamp(),
            jti: URL_SAFE_NO_PAD.encode(jti),
            scope: scope.to_string(),
            family: family.map(|family| family.0.to_string()),
        }
    }
}

/// A JWT access token this server signed, read from its claims (expired or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAccessToken {
    /// `jti`.
    pub jti: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user it acts for; `None` when the client acts for itself.
    pub user_id: Option<UserId>,
    /// The family it belongs to, if one is stored.
    pub family: Option<AuthorizationId>,
    /// What it allows.
    pub scope: Scope,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

impl JwtAccessToken {
    /// The token these verified claims describe, if they are claims Tessera writes for
    /// `issuer`: every claim present and well formed, `iss` and `aud` the issuer, `sub` the
    /// client or a user's UUID, and `exp` after `iat`.
    pub fn from_claims(claims: serde_json::Value, issuer: &str) -> Option<Self> {
        let claims: AccessTokenClaims = serde_json::from_value(claims).ok()?;
        if claims.iss != issuer || claims.aud != issuer || claims.jti.is_empty() {
            return None;
        }
        let user_id = if claims.sub == claims.client_id {
            None
        } else {
            Some(UserId(Uuid::parse_str(&claims.sub).ok()?))
        };
        let family = claims
            .family
            .as_deref()
            .map(|family| Uuid::parse_str(family).map(AuthorizationId))
            .transpose()
            .ok()?;
        let issued_at = DateTime::from_timestamp(claims.iat, 0)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0)?;
        if expires_at <= issued_at {
            return None;
        }
        Some(Self {
            scope: Scope::parse(&claims.scope).ok()?,
            jti: claims.jti,
            client_id: claims.client_id,
            user_id,
            family,
            issued_at,
            expires_at,
        })
    }

    /// Whether it has not expired at `now`.
    pub fn is_unexpired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

/// What one read of the store tells about the records a JWT access token refers to
/// ([`crate::store::RevokedJwtStore::jwt_standing`]); its client exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtStanding {
    /// Its `jti` is on the deny-list.
    pub revoked: bool,
    /// The family it names exists, is its client's and is unrevoked (false when it names
    /// none).
    pub family_live: bool,
    /// The user it names, if it names one that exists.
    pub user: Option<User>,
}

impl JwtStanding {
    /// Whether `token`, with this standing, may be used: not revoked, its family (if it
    /// names one) live, and its user (if it names one) still there, not disabled, and not
    /// disabled since the token was issued ([`User::accepts_token_issued_at`]): enabling
    /// a user again does not bring back a token that names no family.
    pub fn allows(&self, token: &JwtAccessToken) -> bool {
        !self.revoked
            && (token.family.is_none() || self.family_live)
            && (token.user_id.is_none()
                || self
                    .user
                    .as_ref()
                    .is_some_and(|user| user.accepts_token_issued_at(token.issued_at)))
    }
}

impl<S: Store> Provider<S> {
    /// The JWT access token `token` if this server signed it as one (signature, `typ`,
    /// claims), expired or not; `None` for anything else, however malformed.
    pub(crate) fn signed_jwt_access_token(
        &self,
        token: &str,
    ) -> Result<Option<JwtAccessToken>, StoreError> {
        Ok(self
            .issuer
            .verify(token, JwtType::AccessToken)?
            .and_then(|claims| JwtAccessToken::from_claims(claims, self.issuer())))
    }

    /// The JWT access token `token` with its user, if it is active now: signed by this
    /// server, unexpired, and (in one read of the store) unrevoked, in a live family, of a
    /// client and a user that still exist.
    pub(crate) fn active_jwt_access_token(
        &self,
        token: &str,
    ) -> Result<Option<(JwtAccessToken, Option<User>)>, StoreError> {
        let Some(jwt) = self
            .signed_jwt_access_token(token)?
            .filter(|jwt| jwt.is_unexpired(self.now()))
        else {
            return Ok(None);
        };
        Ok(self
            .store
            .jwt_standing(&jwt)?
            .filter(|standing| standing.allows(&jwt))
            .map(|standing| (jwt, standing.user)))
    }

    /// Revokes the JWT access token `token` for `client` by putting its `jti` on the
    /// deny-list until it expires. A token this server did not sign is unknown (nothing to
    /// do, RFC 7009 §2.2); another client's is `unauthorized_client`; an expired one needs
    /// no entry.
    pub(crate) fn revoke_jwt_access_token(
        &self,
        client: &Client,
        token: &str,
    ) -> Result<(), Error> {
        let Some(jwt) = self.signed_jwt_access_token(token)? else {
            return Ok(());
        };
        if jwt.client_id != client.id {
            return Err(OAuthError::unauthorized_client(
                "The token was not issued to this client.",
            )
            .into());
        }
        if jwt.is_unexpired(self.now()) {
            self.store.revoke_jwt(&jwt.jti, jwt.expires_at)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://tessera.example";

    fn user() -> UserId {
        UserId(Uuid::from_u128(7))
    }

    fn claims() -> serde_json::Value {
        json!({
            "iss": ISSUER,
            "aud": ISSUER,
            "exp": 1_800_000_300,
            "iat": 1_800_000_000,
            "sub": user().to_string(),
            "client_id": "app",
            "jti": "abc",
            "scope": "openid profile",
            "tessera_family": Uuid::from_u128(9).to_string(),
        })
    }

    fn with(change: impl FnOnce(&mut serde_json::Value)) -> Option<JwtAccessToken> {
        let mut claims = claims();
        change(&mut claims);
        JwtAccessToken::from_claims(claims, ISSUER)
    }

    #[test]
    fn the_format_parses_from_its_exact_name() {
        for format in AccessTokenFormat::ALL {
            assert_eq!(AccessTokenFormat::parse(format.as_str()), Some(format));
        }
        assert_eq!(AccessTokenFormat::parse("JWT"), None);
        assert_eq!(AccessTokenFormat::default(), AccessTokenFormat::Opaque);
    }

    #[test]
    fn claims_tessera_writes_are_read_back() {
        let token = with(|_| {}).unwrap();
        assert_eq!(
            token,
            JwtAccessToken {
                jti: "abc".into(),
                client_id: "app".into(),
                user_id: Some(user()),
                family: Some(AuthorizationId(Uuid::from_u128(9))),
                scope: Scope::parse("openid profile").unwrap(),
                issued_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                expires_at: DateTime::from_timestamp(1_800_000_300, 0).unwrap(),
            }
        );
        assert!(token.is_unexpired(token.expires_at - chrono::Duration::seconds(1)));
        assert!(!token.is_unexpired(token.expires_at));
    }

    #[test]
    fn a_subject_equal_to_the_client_is_the_client_acting_for_itself() {
        let token = with(|claims| {
            claims["sub"] = json!("app");
            claims.as_object_mut().unwrap().remove("tessera_family");
        })
        .unwrap();
        assert_eq!((token.user_id, token.family), (None, None));
    }

    #[test]
    fn claims_of_another_issuer_audience_or_shape_are_refused() {
        type Change = fn(&mut serde_json::Value);
        let cases: [(&str, Change); 11] = [
            ("iss", |c| c["iss"] = json!("https://evil.example")),
            ("aud", |c| c["aud"] = json!("https://rs.example")),
            ("aud array", |c| c["aud"] = json!([ISSUER])),
            ("sub", |c| c["sub"] = json!("someone")),
            ("jti", |c| c["jti"] = json!("")),
            ("scope", |c| c["scope"] = json!("a\"b")),
            ("family", |c| c["tessera_family"] = json!("not-a-uuid")),
            ("exp string", |c| c["exp"] = json!("1800000300")),
            ("exp before iat", |c| c["exp"] = json!(1_800_000_000)),
            ("exp out of range", |c| c["exp"] = json!(i64::MAX)),
            ("missing client_id", |c| {
                c.as_object_mut().unwrap().remove("client_id");
            }),
        ];
        for (what, change) in cases {
            assert_eq!(with(change), None, "{what}");
        }
        assert_eq!(JwtAccessToken::from_claims(json!("x"), ISSUER), None);
    }

    #[test]
    fn new_claims_name_the_client_as_subject_without_a_user_and_carry_a_fresh_jti() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let crate::Registered { client, .. } = crate::ClientRegistration {
            name: "app".into(),
            grant_types: vec!["client_credentials".into()],
            ..crate::ClientRegistration::default()
        }
        .register(
            crate::ClientOrigin::CommandLine,
            now,
            &crate::Policy::default(),
        )
        .unwrap();
        let times = (now, now + chrono::Duration::seconds(300));
        let scope = Scope::parse("profile").unwrap();
        let own = AccessTokenClaims::new(ISSUER, &client, None, None, &scope, times);
        assert_eq!((&own.sub, own.family.as_ref()), (&client.id, None));
        let value = serde_json::to_value(&own).unwrap();
        assert!(value.get(FAMILY_CLAIM).is_none(), "{value}");
        assert_eq!(own.jti.len(), 22, "128 bits, base64url");
        let again = AccessTokenClaims::new(ISSUER, &client, None, None, &scope, times);
        assert_ne!(own.jti, again.jti);

        let family = AuthorizationId::generate();
        let users =
            AccessTokenClaims::new(ISSUER, &client, Some(user()), Some(family), &scope, times);
        let value = serde_json::to_value(&users).unwrap();
        assert_eq!(value[FAMILY_CLAIM], family.0.to_string());
        assert_eq!(
            JwtAccessToken::from_claims(value, ISSUER).map(|t| (t.user_id, t.family)),
            Some((Some(user()), Some(family)))
        );
    }

    #[test]
    fn only_three_dotted_parts_look_like_a_jwt() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("dGhpcyBpcyBvcGFxdWU"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d.e"));
    }

    #[test]
    fn a_standing_allows_only_an_unrevoked_token_of_a_live_family_and_user() {
        let token = with(|_| {}).unwrap();
        let live = JwtStanding {
            revoked: false,
            family_live: true,
            user: Some(User {
                id: user(),
                username: "alice".into(),
                password_hash: String::new(),
                created_at: token.issued_at,
                email: None,
                disabled_at: None,
                tokens_valid_after: None,
            }),
        };
        assert!(live.allows(&token));
        let user = |disabled_at, tokens_valid_after| JwtStanding {
            user: live.user.clone().map(|user| User {
                disabled_at,
                tokens_valid_after,
                ..user
            }),
            ..live.clone()
        };
        let second = chrono::Duration::seconds(1);
        let issued = token.issued_at;
        assert!(user(None, Some(issued - second)).allows(&token));
        for dead in [
            JwtStanding {
                revoked: true,
                ..live.clone()
            },
            JwtStanding {
                family_live: false,
                ..live.clone()
            },
            JwtStanding {
                user: None,
                ..live.clone()
            },
            user(Some(issued), Some(issued)),
            user(Some(issued + second), Some(issued + second)),
            // Enabled again after a disable at (or after) the token's issue.
            user(None, Some(issued)),
            user(None, Some(issued + second)),
        ] {
            assert!(!dead.allows(&token), "{dead:?}");
        }
        let machine = JwtAccessToken {
            user_id: None,
            family: None,
            ..token
        };
        let bare = JwtStanding {
            revoked: false,
            family_live: false,
            user: None,
        };
        assert!(bare.allows(&machine));
    }
}
