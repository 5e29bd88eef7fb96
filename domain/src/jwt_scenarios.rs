//! JWT access tokens end to end against the in-memory store and a fixed clock: what each
//! grant signs and stores, and how revocation, family revocation and client deletion end
//! a token that is stored nowhere.

use chrono::Duration;
use serde_json::Value;

use crate::introspection::Introspection;
use crate::jwt_access_token::{looks_like_jwt, AccessTokenFormat};
use crate::memory_store::ClearSigner;
use crate::scenarios::{oauth_code, params, world, world_with, World};
use crate::store::ClientStore as _;
use crate::token::TokenResponse;
use crate::{Client, ClientRegistration, ErrorCode, Policy};

const ISSUER: &str = "https://tessera.example";

impl World {
    /// A confidential client of Alice's with `grants` and JWT access tokens.
    fn jwt_client(&self, grants: &str) -> Client {
        self.client_with(ClientRegistration {
            grant_types: vec![grants.into()],
            access_token_format: "jwt".into(),
            ..ClientRegistration::default()
        })
        .0
    }

    fn password_grant(&self, client: &Client) -> TokenResponse {
        self.exchange(
            client,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse"),
                ("scope", "profile"),
            ],
        )
        .unwrap()
    }

    fn client_credentials(&self, client: &Client) -> TokenResponse {
        self.exchange(client, &[("grant_type", "client_credentials")])
            .unwrap()
    }

    fn introspect_one(&self, client: &Client, token: &str) -> Introspection {
        self.provider
            .introspect(client, &params(&[("token", token)]))
            .unwrap()
    }

    fn revoke(&self, client: &Client, token: &str) -> Result<(), crate::Error> {
        self.provider.revoke(client, &params(&[("token", token)]))
    }

    fn is_refused(&self, token: &str) -> bool {
        oauth_code(self.me(token)) == ErrorCode::InvalidToken
    }
}

fn header_and_claims(token: &str) -> (Value, Value) {
    ClearSigner::parts(token).expect("a token the test signer made")
}

#[test]
fn a_jwt_client_gets_a_short_lived_signed_access_token_with_the_rfc_9068_claims() {
    let w = world();
    let client = w.jwt_client("password refresh_token");
    let start = w.provider.now().timestamp();
    let tokens = w.password_grant(&client);

    assert!(looks_like_jwt(&tokens.access_token));
    assert_eq!(tokens.expires_in, 300);
    let (header, claims) = header_and_claims(&tokens.access_token);
    assert_eq!(
        (&header["typ"], &header["alg"]),
        (&"at+jwt".into(), &"EdDSA".into())
    );
    let family = claims["tessera_family"].as_str().unwrap().to_owned();
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], ISSUER);
    assert_eq!(claims["sub"], w.user.id.to_string());
    assert_eq!(claims["client_id"], client.id.as_str());
    assert_eq!(claims["scope"], "profile");
    assert_eq!(
        (claims["iat"].as_i64(), claims["exp"].as_i64()),
        (Some(start), Some(start + 300))
    );
    assert_eq!(claims["jti"].as_str().map(str::len), Some(22));

    let refresh = tokens.refresh_token.unwrap();
    assert!(!looks_like_jwt(&refresh), "refresh tokens stay opaque");
    assert_eq!(w.me(&tokens.access_token).unwrap().username, "alice");
    let Introspection::Active(active) = w.introspect_one(&client, &tokens.access_token) else {
        panic!("the JWT introspects as active");
    };
    assert_eq!(
        (active.token_type, active.sub, active.username, active.exp),
        (
            "Bearer",
            Some(w.user.id.to_string()),
            Some("alice".into()),
            start + 300
        )
    );

    let refreshed = w
        .exchange(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .unwrap();
    let (_, again) = header_and_claims(&refreshed.access_token);
    assert_eq!(again["tessera_family"], family.as_str());
    assert_ne!(again["jti"], claims["jti"]);
}

#[test]
fn client_credentials_with_jwt_write_nothing_and_name_the_client_as_subject() {
    let w = world();
    let client = w.jwt_client("client_credentials");
    let before = w.provider.store.grant_rows();
    let tokens = w.client_credentials(&client);
    assert_eq!(w.provider.store.grant_rows(), before, "nothing stored");

    let (_, claims) = header_and_claims(&tokens.access_token);
    assert_eq!(claims["sub"], client.id.as_str());
    assert!(claims.get("tessera_family").is_none(), "{claims}");
    let active = w
        .provider
        .authenticate_bearer(&tokens.access_token, "profile")
        .unwrap();
    assert_eq!(
        (active.client_id, active.user_id),
        (client.id.clone(), None)
    );
    assert_eq!(
        oauth_code(w.me(&tokens.access_token)),
        ErrorCode::InsufficientScope
    );
    let Introspection::Active(described) = w.introspect_one(&client, &tokens.access_token) else {
        panic!("active");
    };
    assert_eq!((described.sub, described.username), (None, None));
}

#[test]
fn a_password_grant_without_refresh_tokens_writes_nothing_either() {
    let w = world();
    let client = w.jwt_client("password");
    let before = w.provider.store.grant_rows();
    let tokens = w.password_grant(&client);
    assert_eq!(w.provider.store.grant_rows(), before);
    let (_, claims) = header_and_claims(&tokens.access_token);
    assert!(claims.get("tessera_family").is_none(), "{claims}");
    assert_eq!(w.me(&tokens.access_token).unwrap().id, w.user.id);
}

#[test]
fn a_jwt_without_a_family_stays_refused_once_its_user_was_disabled_and_enabled_again() {
    let w = world();
    let client = w.jwt_client("password");
    let before = w.password_grant(&client).access_token;
    assert!(w.me(&before).is_ok());

    w.clock.advance(Duration::seconds(1));
    assert!(w.provider.disable_user(w.user.id).unwrap());
    assert!(w.is_refused(&before));
    w.clock.advance(Duration::seconds(1));
    assert!(w.provider.enable_user(w.user.id).unwrap());
    assert!(w.is_refused(&before));
    assert_eq!(w.introspect_one(&client, &before), Introspection::Inactive);

    let after = w.password_grant(&client).access_token;
    assert!(w.me(&after).is_ok());
    assert!(matches!(
        w.introspect_one(&client, &after),
        Introspection::Active(_)
    ));
}

#[test]
fn revoking_a_jwt_denies_its_jti_at_once_and_only_its_client_may() {
    let w = world();
    let client = w.jwt_client("client_credentials password");
    let other = w.jwt_client("client_credentials");
    let tokens = w.password_grant(&client);
    let sibling = w.password_grant(&client);

    assert_eq!(
        oauth_code(w.revoke(&other, &tokens.access_token)),
        ErrorCode::UnauthorizedClient
    );
    assert!(w.me(&tokens.access_token).is_ok());
    assert_eq!(
        w.introspect_one(&other, &tokens.access_token),
        Introspection::Inactive
    );

    w.revoke(&client, &tokens.access_token).unwrap();
    w.revoke(&client, &tokens.access_token).unwrap();
    assert!(w.is_refused(&tokens.access_token));
    assert_eq!(
        w.introspect_one(&client, &tokens.access_token),
        Introspection::Inactive
    );
    assert!(
        w.me(&sibling.access_token).is_ok(),
        "only that jti is denied"
    );

    let machine = w.client_credentials(&client);
    w.revoke(&client, &machine.access_token).unwrap();
    assert_eq!(
        w.introspect_one(&client, &machine.access_token),
        Introspection::Inactive
    );
}

#[test]
fn a_replayed_code_ends_the_jwts_of_its_family() {
    let w = world();
    let client = w.jwt_client("authorization_code refresh_token");
    let code = w.code_for(&client, &[]);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
    ];
    let tokens = w.exchange(&client, &pairs).unwrap();
    assert!(w.me(&tokens.access_token).is_ok());

    assert_eq!(
        oauth_code(w.exchange(&client, &pairs)),
        ErrorCode::InvalidGrant
    );
    assert!(w.is_refused(&tokens.access_token));
    assert_eq!(
        w.introspect_one(&client, &tokens.access_token),
        Introspection::Inactive
    );
}

#[test]
fn a_reused_refresh_token_or_a_revoked_one_ends_the_jwts_of_its_family() {
    let w = world();
    let client = w.jwt_client("password refresh_token");
    let first = w.password_grant(&client);
    let refresh = first.refresh_token.unwrap();
    let rotate = |token: &str| {
        w.exchange(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
    };
    let second = rotate(&refresh).unwrap();
    assert!(
        w.me(&first.access_token).is_ok(),
        "rotation ends no access token"
    );
    assert_eq!(oauth_code(rotate(&refresh)), ErrorCode::InvalidGrant);
    assert!(w.is_refused(&first.access_token));
    assert!(w.is_refused(&second.access_token));

    let other = w.password_grant(&client);
    w.revoke(&client, &other.refresh_token.unwrap()).unwrap();
    assert!(w.is_refused(&other.access_token));
}

#[test]
fn withdrawing_consent_ends_an_implicit_jwt() {
    let w = world();
    let (client, _) = w.client_with(ClientRegistration {
        grant_types: vec!["implicit".into()],
        response_types: vec!["token".into()],
        auth_method: "none".into(),
        access_token_format: "jwt".into(),
        ..ClientRegistration::default()
    });
    let request = w
        .provider
        .validate_authorization(&params(&[
            ("response_type", "token"),
            ("client_id", &client.id),
        ]))
        .unwrap();
    let url = url::Url::parse(&w.provider.allow(&request, w.signed_in()).unwrap()).unwrap();
    let fragment = url.fragment().unwrap().to_owned();
    let token = url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(looks_like_jwt(&token));
    assert!(w.me(&token).is_ok());
    assert!(w.provider.withdraw_consent(w.user.id, &client.id).unwrap());
    assert!(w.is_refused(&token));
}

#[test]
fn deleting_the_client_ends_its_jwts_at_once() {
    let w = world();
    let client = w.jwt_client("client_credentials password");
    let users = w.password_grant(&client);
    let machines = w.client_credentials(&client);
    assert!(w
        .provider
        .store
        .delete_client(&client.id, w.user.id)
        .unwrap());
    assert!(w.is_refused(&users.access_token));
    assert_eq!(
        oauth_code(
            w.provider
                .authenticate_bearer(&machines.access_token, "profile")
        ),
        ErrorCode::InvalidToken
    );
}

#[test]
fn an_expired_jwt_is_refused_and_revoking_it_needs_nothing() {
    let w = world();
    let client = w.jwt_client("password");
    let tokens = w.password_grant(&client);
    w.clock.advance(Duration::seconds(299));
    assert!(w.me(&tokens.access_token).is_ok());
    w.clock.advance(Duration::seconds(1));
    assert!(w.is_refused(&tokens.access_token));
    assert_eq!(
        w.introspect_one(&client, &tokens.access_token),
        Introspection::Inactive
    );
    assert!(w.revoke(&client, &tokens.access_token).is_ok());
}

#[test]
fn an_id_token_or_garbage_is_no_access_token() {
    let w = world();
    let client = w
        .client_with(ClientRegistration {
            grant_types: vec!["password".into()],
            scope: "openid profile".into(),
            access_token_format: "jwt".into(),
            ..ClientRegistration::default()
        })
        .0;
    let tokens = w
        .exchange(
            &client,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse"),
                ("scope", "openid profile"),
            ],
        )
        .unwrap();
    let id_token = tokens.id_token.unwrap();
    assert!(w.me(&tokens.access_token).is_ok());
    assert!(w.is_refused(&id_token));
    assert_eq!(
        w.introspect_one(&client, &id_token),
        Introspection::Inactive
    );
    assert!(w.revoke(&client, &id_token).is_ok());
    for garbage in ["a.b.c", "..", "x.y.clear-signature", "\u{0}.\u{0}.\u{0}"] {
        assert!(w.is_refused(garbage), "{garbage:?}");
        assert_eq!(w.introspect_one(&client, garbage), Introspection::Inactive);
        assert!(w.revoke(&client, garbage).is_ok());
    }
}

#[test]
fn the_server_default_applies_to_clients_without_their_own_choice() {
    let w = world_with(Policy {
        access_token_format: AccessTokenFormat::Jwt,
        ..Policy::default()
    });
    let (undecided, _) = w.client("client_secret_basic", "password");
    assert!(looks_like_jwt(&w.password_grant(&undecided).access_token));
    let (opaque, _) = w.client_with(ClientRegistration {
        grant_types: vec!["password".into()],
        access_token_format: "opaque".into(),
        ..ClientRegistration::default()
    });
    let tokens = w.password_grant(&opaque);
    assert!(!looks_like_jwt(&tokens.access_token));
    assert_eq!(tokens.expires_in, 3600);
}

#[test]
fn opaque_clients_are_unchanged() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "client_credentials");
    let before = w.provider.store.grant_rows();
    let tokens = w.client_credentials(&client);
    assert!(!looks_like_jwt(&tokens.access_token));
    assert_eq!(
        w.provider.store.grant_rows(),
        before + 2,
        "a family and its token"
    );
}
