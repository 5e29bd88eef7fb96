//! RFC 7662 introspection with Tessera's §4 decisions: an active token is described with
//! exactly `active`, `scope`, `client_id`, `token_type`, `exp`, `iat`, `iss` (and `sub` +
//! `username` when a user owns it); anything else is exactly `{"active": false}`.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    app_with_password_tokens, assert_oauth_error, assert_token_not_cached, both_backends, json,
    spawn_app, spawn_app_with, www_authenticate, Backend, RegisteredClient, TestApp, TestClient,
    Tokens,
};

/// The issuer the field tests configure (plain http on loopback needs no extra switch).
const ISSUER: &str = "http://127.0.0.1:5000";

/// A fresh server, a confidential `password` + `refresh_token` client, and a user's
/// `profile` tokens.
async fn issued(backend: Backend) -> (TestApp, RegisteredClient, Tokens) {
    let client = TestClient::confidential(&["password", "refresh_token"], "profile");
    let (app, _, client, tokens) = app_with_password_tokens(backend, client, "profile").await;
    (app, client, tokens)
}

/// [`issued`] on a server whose issuer is [`ISSUER`].
async fn issued_with_issuer(backend: Backend) -> (TestApp, RegisteredClient, Tokens) {
    let app = spawn_app_with(backend, &[("TESSERA_ISSUER", ISSUER)]).await;
    let client = TestClient::confidential(&["password", "refresh_token"], "profile");
    let (user, client) = app.user_and_client(client).await;
    let tokens = client.password_tokens(&app, &user, "profile").await;
    (app, client, tokens)
}

/// The names of a JSON object's members.
fn keys(body: &Value) -> BTreeSet<&str> {
    body.as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// Asserts the answer is exactly `{"active": false}`.
fn assert_inactive(body: &Value, why: &str) {
    assert_eq!(body, &json!({"active": false}), "{why}");
}

/// `exp - iat` of an active answer, in seconds.
fn lifetime(body: &Value) -> i64 {
    body["exp"].as_i64().expect("exp") - body["iat"].as_i64().expect("iat")
}

both_backends!(
    an_active_access_token_is_described_with_exactly_the_rfc_7662_fields,
    |backend| async move {
        let (app, client, tokens) = issued_with_issuer(backend).await;
        let me = app.assert_api_me_ok(&tokens.access).await;

        let response = client
            .post_introspect(&app, &[("token", &tokens.access)])
            .await;

        let (status, headers, body) = json(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_token_not_cached(&headers);
        assert_eq!(
            keys(&body),
            BTreeSet::from([
                "active",
                "client_id",
                "exp",
                "iat",
                "iss",
                "scope",
                "sub",
                "token_type",
                "username"
            ])
        );
        assert_eq!(body["active"], true);
        assert_eq!(body["scope"], "profile");
        assert_eq!(body["client_id"], client.id.as_str());
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["iss"], ISSUER);
        assert_eq!(body["sub"], me["id"]);
        assert_eq!(body["username"], me["username"]);
        assert_eq!(lifetime(&body), 3600);
    }
);

both_backends!(
    an_active_refresh_token_is_described_as_a_refresh_token,
    |backend| async move {
        let (app, client, tokens) = issued(backend).await;
        let me = app.assert_api_me_ok(&tokens.access).await;

        let body = client.introspect(&app, tokens.refresh_token()).await;

        assert_eq!(body["active"], true, "{body}");
        assert_eq!(body["token_type"], "refresh_token");
        assert_eq!(body["sub"], me["id"]);
        assert_eq!(body["scope"], "profile");
        assert_eq!(lifetime(&body), 30 * 24 * 3600);
    }
);

both_backends!(
    a_client_credentials_token_is_described_without_sub_or_username,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let token = client.client_credentials_token(&app, "profile").await;

        let body = client
            .introspect(&app, token["access_token"].as_str().expect("a token"))
            .await;

        assert_eq!(
            keys(&body),
            BTreeSet::from([
                "active",
                "client_id",
                "exp",
                "iat",
                "iss",
                "scope",
                "token_type"
            ]),
            "{body}"
        );
        assert_eq!(body["active"], true);
        assert_eq!(body["token_type"], "Bearer");
    }
);

both_backends!(
    revoked_access_and_refresh_tokens_are_only_active_false,
    |backend| async move {
        let (app, client, tokens) = issued(backend).await;
        let second = client.refreshed(&app, tokens.refresh_token(), None).await;

        client.post_revoke(&app, &[("token", &second.access)]).await;
        assert_inactive(
            &client.introspect(&app, &second.access).await,
            "a revoked access token",
        );
        assert_eq!(
            client.introspect(&app, second.refresh_token()).await["active"],
            true,
            "revoking an access token leaves its refresh token"
        );

        client
            .post_revoke(&app, &[("token", second.refresh_token())])
            .await;
        assert_inactive(
            &client.introspect(&app, second.refresh_token()).await,
            "a revoked refresh token",
        );
    }
);

both_backends!(
    an_expired_token_is_only_active_false,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_ACCESS_TOKEN_TTL", "1")]).await;
        let client = TestClient::confidential(&["password"], "profile");
        let (user, client) = app.user_and_client(client).await;
        let tokens = client.password_tokens(&app, &user, "profile").await;

        tokio::time::sleep(Duration::from_secs(2)).await;

        assert_inactive(
            &client.introspect(&app, &tokens.access).await,
            "an expired access token",
        );
    }
);

both_backends!(
    a_rotated_refresh_token_is_only_active_false,
    |backend| async move {
        let (app, client, tokens) = issued(backend).await;
        let new = client.refreshed(&app, tokens.refresh_token(), None).await;

        assert_inactive(
            &client.introspect(&app, tokens.refresh_token()).await,
            "a rotated refresh token",
        );
        assert_eq!(
            client.introspect(&app, new.refresh_token()).await["active"],
            true
        );
    }
);

both_backends!(
    another_clients_token_and_an_unknown_token_are_only_active_false,
    |backend| async move {
        let (app, client, tokens) = issued(backend).await;
        let other = TestClient::confidential(&["password"], "profile")
            .register(&app)
            .await;

        assert_inactive(
            &other.introspect(&app, &tokens.access).await,
            "another client's access token",
        );
        assert_inactive(
            &other.introspect(&app, tokens.refresh_token()).await,
            "another client's refresh token",
        );
        assert_inactive(
            &client.introspect(&app, "no-such-token").await,
            "an unknown token",
        );
        assert_eq!(
            client.introspect(&app, &tokens.access).await["active"],
            true
        );
    }
);

both_backends!(
    every_client_authentication_method_may_introspect,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        for method in ["client_secret_basic", "client_secret_post", "none"] {
            let client = TestClient::confidential(&["password"], "profile")
                .auth_method(method)
                .register(&app)
                .await;
            let tokens = client.password_tokens(&app, &user, "profile").await;

            let body = client.introspect(&app, &tokens.access).await;

            assert_eq!(body["active"], true, "{method}: {body}");
            assert_eq!(body["client_id"], client.id.as_str(), "{method}");
        }
    }
);

both_backends!(
    a_public_client_introspects_its_own_tokens_and_no_others,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let public = TestClient::public(&["password"], "profile")
            .register(&app)
            .await;
        let confidential = TestClient::confidential(&["password"], "profile")
            .register(&app)
            .await;
        let own = public.password_tokens(&app, &user, "profile").await;
        let theirs = confidential.password_tokens(&app, &user, "profile").await;

        let response = app
            .post_introspect(&[("token", &own.access), ("client_id", &public.id)], None)
            .await;

        let (status, _, body) = json(response).await;
        assert_eq!((status, &body["active"]), (StatusCode::OK, &json!(true)));
        assert_inactive(
            &public.introspect(&app, &theirs.access).await,
            "a confidential client's token asked by a public client",
        );
        assert_inactive(
            &confidential.introspect(&app, &own.access).await,
            "a public client's token asked by another client",
        );
    }
);

both_backends!(
    a_missing_token_is_400_invalid_request,
    |backend| async move {
        let (app, client, _) = issued(backend).await;

        let missing = client.post_introspect(&app, &[]).await;
        let empty = client.post_introspect(&app, &[("token", "")]).await;

        let headers = assert_oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_token_not_cached(&headers);
        assert_oauth_error(empty, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
);

both_backends!(
    bad_client_credentials_are_401_invalid_client_and_reveal_nothing,
    |backend| async move {
        let (app, client, tokens) = issued(backend).await;
        let form = [("token", tokens.access.as_str())];

        let wrong = client
            .with_secret("wrong")
            .post_introspect(&app, &form)
            .await;
        let anonymous = app.post_introspect(&form, None).await;
        let unknown = app
            .post_introspect(&form, Some(("no-such-client", "secret")))
            .await;
        let wrong_method = app
            .post_introspect(&[form[0], ("client_id", &client.id)], None)
            .await;

        let headers = assert_oauth_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert!(
            !www_authenticate(&headers).is_empty(),
            "no WWW-Authenticate"
        );
        for response in [anonymous, unknown, wrong_method] {
            assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        }
    }
);

both_backends!(the_token_type_hint_is_only_a_hint, |backend| async move {
    let (app, client, tokens) = issued(backend).await;

    for (token, hint) in [
        (tokens.access.as_str(), "refresh_token"),
        (tokens.refresh_token(), "access_token"),
        (tokens.access.as_str(), "banana"),
    ] {
        let response = client
            .post_introspect(&app, &[("token", token), ("token_type_hint", hint)])
            .await;
        let (status, _, body) = json(response).await;
        assert_eq!(status, StatusCode::OK, "{hint}: {body}");
        assert_eq!(body["active"], true, "{hint}: {body}");
    }
    let unknown = client
        .post_introspect(&app, &[("token", "nope"), ("token_type_hint", "banana")])
        .await;
    assert_inactive(&json(unknown).await.2, "an unknown token with an odd hint");
});
