//! JWT access tokens (RFC 9068): a client registered with `access_token_format=jwt` (or any
//! client on a server with `TESSERA_ACCESS_TOKEN_FORMAT=jwt`) gets EdDSA-signed `at+jwt`
//! access tokens that verify against `/oauth/jwks`; `/api/me`, `/oauth/userinfo` and
//! introspection accept them until they expire or are revoked, their family is revoked or
//! their client deleted; anything forged, tampered with or malformed is refused, never a 500.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Duration;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_domain::purge::Purged;
use tessera_domain::signing::{JwtType, SigningAlg};
use tessera_domain::{Clock as _, FixedClock, SystemClock};

use crate::helpers::id_token::verify;
use crate::helpers::{
    app_with_user_and_client, assert_oauth_error, assert_tokens, both_backends, json,
    spawn_app_with, spawn_app_with_clock, Backend, RegisteredClient, TestApp, TestClient, TestUser,
    Tokens,
};

/// A confidential client with JWT access tokens that may use the password, refresh and
/// client-credentials grants.
fn jwt_client() -> TestClient {
    let grants = ["password", "refresh_token", "client_credentials"];
    TestClient::confidential(&grants, "openid profile").access_token_format("jwt")
}

/// A fresh server, a signed-in user and a [`jwt_client`], with the user's tokens.
async fn jwt_tokens(backend: Backend) -> (TestApp, TestUser, RegisteredClient, Tokens) {
    let (app, user, client) = app_with_user_and_client(backend, jwt_client()).await;
    let tokens = client.password_tokens(&app, &user, "openid profile").await;
    (app, user, client, tokens)
}

/// The JSON of one base64url part of a compact JWS.
fn part(jws: &str, index: usize) -> Value {
    let text = jws.split('.').nth(index).expect("a JWS part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).expect("base64url")).expect("JSON")
}

/// `jws` with its payload replaced by `claims` and its signature kept.
fn with_payload(jws: &str, claims: &Value) -> String {
    let parts: Vec<&str> = jws.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// Asserts introspection by `client` says exactly `{"active": false}` about `token`.
async fn assert_inactive(app: &TestApp, client: &RegisteredClient, token: &str, why: &str) {
    assert_eq!(
        client.introspect(app, token).await,
        json!({"active": false}),
        "{why}"
    );
}

both_backends!(
    a_jwt_client_gets_an_rfc_9068_token_that_verifies_against_the_jwks,
    |backend| async move {
        let (app, _, client, tokens) = jwt_tokens(backend).await;
        let (_, jwks) = app.get_jwks().await;

        let (header, claims) = verify(
            &tokens.access,
            &jwks,
            Algorithm::EdDSA,
            &app.address,
            &app.address,
        );
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(tokens["expires_in"], 300);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            300
        );
        assert_eq!(claims["client_id"], client.id.as_str());
        assert_eq!(claims["scope"], "openid profile");
        assert!(
            claims["jti"].as_str().is_some_and(|jti| jti.len() >= 22),
            "{claims}"
        );
        assert!(claims["tessera_family"].is_string(), "{claims}");
        let refresh = tokens.refresh_token();
        assert_eq!(refresh.split('.').count(), 1, "refresh tokens stay opaque");
        assert!(app.token_is_stored(refresh).await);

        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(claims["sub"], me["id"]);
        let userinfo = app.assert_userinfo_ok(&tokens.access).await;
        assert_eq!(userinfo["sub"], me["id"]);
        let described = client.introspect(&app, &tokens.access).await;
        assert_eq!(
            described,
            json!({
                "active": true,
                "scope": "openid profile",
                "client_id": client.id,
                "token_type": "Bearer",
                "exp": claims["exp"],
                "iat": claims["iat"],
                "iss": app.address,
                "sub": me["id"],
                "username": me["username"],
            })
        );

        let refreshed = client.refreshed(&app, refresh, None).await;
        let (_, again) = verify(
            &refreshed.access,
            &jwks,
            Algorithm::EdDSA,
            &app.address,
            &app.address,
        );
        assert_eq!(again["tessera_family"], claims["tessera_family"]);
        assert_ne!(again["jti"], claims["jti"]);
        app.assert_api_me_ok(&tokens.access).await;
        app.assert_api_me_ok(&refreshed.access).await;
    }
);

both_backends!(
    a_client_credentials_jwt_names_the_client_and_acts_for_nobody,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, jwt_client()).await;
        let token = client.client_credentials_token(&app, "profile").await;
        let access = token["access_token"].as_str().unwrap();
        let claims = part(access, 1);
        assert_eq!(claims["sub"], client.id.as_str());
        assert!(claims.get("tessera_family").is_none(), "{claims}");
        assert!(token.get("refresh_token").is_none());

        app.assert_api_me_insufficient_scope(access).await;
        let described = client.introspect(&app, access).await;
        assert_eq!(described["active"], true);
        assert!(described.get("sub").is_none(), "{described}");

        let response = client.post_revoke(&app, &[("token", access)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_inactive(&app, &client, access, "revoked").await;
        app.assert_api_me_unauthorized(access).await;
    }
);

both_backends!(
    revocation_by_its_client_ends_a_jwt_at_once_and_no_other_client_may,
    |backend| async move {
        let (app, user, client, tokens) = jwt_tokens(backend).await;
        let sibling = client.password_tokens(&app, &user, "profile").await;
        let other = jwt_client().register(&app).await;

        let refused = other.post_revoke(&app, &[("token", &tokens.access)]).await;
        assert_oauth_error(refused, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        app.assert_api_me_ok(&tokens.access).await;
        assert_inactive(&app, &other, &tokens.access, "another client's").await;

        for _ in 0..2 {
            let revoked = client.post_revoke(&app, &[("token", &tokens.access)]).await;
            assert_eq!(revoked.status(), StatusCode::OK);
        }
        assert_inactive(&app, &client, &tokens.access, "revoked").await;
        app.assert_api_me_unauthorized(&tokens.access).await;
        let userinfo = app.get_userinfo(&tokens.access).await;
        assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
        app.assert_api_me_ok(&sibling.access).await;
        // The refresh token lives on: only the access token was revoked.
        let refreshed = client.refreshed(&app, tokens.refresh_token(), None).await;
        app.assert_api_me_ok(&refreshed.access).await;
    }
);

both_backends!(
    revoking_the_family_ends_its_jwts_at_once,
    |backend| async move {
        let grants = ["authorization_code", "refresh_token"];
        let client = TestClient::confidential(&grants, "profile").access_token_format("jwt");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let code = client.authorization_code(&app, "profile", None).await;
        let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        app.assert_api_me_ok(&tokens.access).await;

        let replay = client.redeem_code(&app, &code, None).await;
        assert_oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;
        app.assert_api_me_unauthorized(&tokens.access).await;
        assert_inactive(&app, &client, &tokens.access, "its code was replayed").await;

        // Consent is remembered now: ask for the page again.
        let mut query = client.code_query("profile", None);
        query.push(("prompt", "consent"));
        let code = client.authorization_code_for(&app, &query).await;
        let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        app.assert_api_me_ok(&tokens.access).await;
        let response = client
            .post_revoke(&app, &[("token", tokens.refresh_token())])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    deleting_the_client_ends_its_jwts_at_once,
    |backend| async move {
        let (app, _, client, tokens) = jwt_tokens(backend).await;
        let machine = client.client_credentials_token(&app, "profile").await;
        let machine = machine["access_token"].as_str().unwrap().to_owned();
        app.assert_api_me_ok(&tokens.access).await;

        let csrf = client.owner.csrf_token(&client.page()).await;
        let deleted = client.manage("delete", Some(&csrf)).await;
        assert!(deleted.status().is_redirection(), "{}", deleted.status());

        app.assert_api_me_unauthorized(&tokens.access).await;
        app.assert_api_me_unauthorized(&machine).await;
    }
);

both_backends!(
    an_expired_jwt_is_refused_and_its_revocation_is_purged,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(SystemClock.now()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let (user, client) = app.user_and_client(jwt_client()).await;
        let tokens = client.password_tokens(&app, &user, "profile").await;
        let revoked = client.client_credentials_token(&app, "profile").await;
        let revoked = revoked["access_token"].as_str().unwrap();
        let response = client.post_revoke(&app, &[("token", revoked)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(app.purge().await.unwrap(), Purged::default());

        clock.advance(Duration::seconds(299));
        app.assert_api_me_ok(&tokens.access).await;
        clock.advance(Duration::seconds(1));
        app.assert_api_me_unauthorized(&tokens.access).await;
        assert_inactive(&app, &client, &tokens.access, "expired").await;

        let purged = app.purge().await.unwrap();
        assert_eq!(
            purged,
            Purged {
                revoked_jwts: 1,
                ..Purged::default()
            }
        );
        assert_inactive(&app, &client, revoked, "expired, whatever the deny-list").await;
    }
);

both_backends!(forged_and_tampered_jwts_are_refused, |backend| async move {
    let (app, _, client, tokens) = jwt_tokens(backend).await;
    let header = part(&tokens.access, 0);
    let claims = part(&tokens.access, 1);

    let mut wider = claims.clone();
    wider["scope"] = json!("openid profile email");
    let mut someone_else = claims.clone();
    someone_else["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let none_header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "at+jwt", "kid": header["kid"]}).to_string());
    let payload = tokens.access.split('.').nth(1).unwrap();
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: header["kid"].as_str().map(str::to_owned),
            typ: Some("at+jwt".into()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"a guessed secret"),
    )
    .unwrap();
    let as_id_token = app
        .sign_as(SigningAlg::EdDsa, JwtType::IdToken, claims.clone())
        .await;
    let other_issuer = {
        let mut claims = claims.clone();
        claims["iss"] = json!("https://evil.example");
        app.sign_as(SigningAlg::EdDsa, JwtType::AccessToken, claims)
            .await
    };
    let forged = [
        ("a widened scope", with_payload(&tokens.access, &wider)),
        (
            "another subject",
            with_payload(&tokens.access, &someone_else),
        ),
        ("alg none", format!("{none_header}.{payload}.")),
        ("HS256", hmac),
        ("typ JWT", as_id_token),
        ("another issuer", other_issuer),
    ];
    for (what, token) in &forged {
        app.assert_api_me_unauthorized(token).await;
        assert_inactive(&app, &client, token, what).await;
        let revoked = client.post_revoke(&app, &[("token", token)]).await;
        assert_eq!(revoked.status(), StatusCode::OK, "{what}");
    }
    // The same claims, signed by the server as an access token, are accepted: what
    // failed above was the tampering, the algorithm, the type or the issuer.
    let resigned = app
        .sign_as(SigningAlg::EdDsa, JwtType::AccessToken, claims)
        .await;
    app.assert_api_me_ok(&resigned).await;
    app.assert_api_me_ok(&tokens.access).await;
});

both_backends!(
    garbage_bearer_tokens_are_invalid_token_and_inactive_never_a_500,
    |backend| async move {
        let (app, _, client, _) = jwt_tokens(backend).await;
        let long = format!("{0}.{0}.{0}", "A".repeat(3000));
        let not_an_object = format!("{}.e30.sig", URL_SAFE_NO_PAD.encode("[1,2]"));
        let garbage = [
            "a.b.c",
            "..",
            "...",
            "a.b",
            "eyJhbGciOiJub25lIn0.e30.",
            "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.e30.AAAA",
            "%%%.%%%.%%%",
            not_an_object.as_str(),
            long.as_str(),
        ];
        for token in garbage {
            app.assert_api_me_unauthorized(token).await;
            let userinfo = app.get_userinfo(token).await;
            assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED, "{token}");
            assert_inactive(&app, &client, token, token).await;
            let (status, _, _) = json(client.post_revoke(&app, &[("token", token)]).await).await;
            assert_eq!(status, StatusCode::OK, "{token}");
        }
    }
);

both_backends!(opaque_clients_are_unchanged, |backend| async move {
    let client = TestClient::confidential(&["password", "refresh_token"], "profile");
    let (app, user, client) = app_with_user_and_client(backend, client).await;
    let tokens = client.password_tokens(&app, &user, "profile").await;
    assert_eq!(tokens.access.split('.').count(), 1, "{tokens}");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(app.token_is_stored(&tokens.access).await);
    app.assert_api_me_ok(&tokens.access).await;
});

both_backends!(
    the_server_wide_format_applies_to_clients_without_their_own_choice,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_ACCESS_TOKEN_FORMAT", "jwt")]).await;
        let user = app.signed_up_user().await;
        let undecided = TestClient::confidential(&["password"], "profile")
            .register(&app)
            .await;
        let opaque = TestClient::confidential(&["password"], "profile")
            .access_token_format("opaque")
            .register(&app)
            .await;

        let jwt = undecided.password_tokens(&app, &user, "profile").await;
        let (_, jwks) = app.get_jwks().await;
        verify(
            &jwt.access,
            &jwks,
            Algorithm::EdDSA,
            &app.address,
            &app.address,
        );
        app.assert_api_me_ok(&jwt.access).await;
        let plain = opaque.password_tokens(&app, &user, "profile").await;
        assert_eq!(plain.access.split('.').count(), 1, "{plain}");
        app.assert_api_me_ok(&plain.access).await;
    }
);
