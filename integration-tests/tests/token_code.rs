//! The authorization code grant at `/oauth/token`, with and without PKCE (§4 decisions).

use reqwest::StatusCode;

use crate::helpers::{
    app_with_client, app_with_user_and_client, assert_oauth_error, assert_token,
    assert_token_not_cached, assert_tokens, both_backends, Backend, Pkce, RegisteredClient,
    TestApp, TestClient,
};

/// A signed-in browser, a public code-flow client, the PKCE pair and a code issued with it.
async fn public_code(backend: Backend) -> (TestApp, RegisteredClient, Pkce, String) {
    let client = TestClient::public(&["authorization_code"], "profile");
    let (app, _, client) = app_with_user_and_client(backend, client).await;
    let pkce = Pkce::s256();
    let code = client
        .authorization_code(&app, "profile", Some(&pkce))
        .await;
    (app, client, pkce, code)
}

/// A signed-in browser, a confidential client with these grants, and a code without PKCE.
async fn confidential_code(
    backend: Backend,
    grants: &[&str],
) -> (TestApp, RegisteredClient, String) {
    let client = TestClient::confidential(grants, "profile");
    let (app, _, client) = app_with_user_and_client(backend, client).await;
    let code = client.authorization_code(&app, "profile", None).await;
    (app, client, code)
}

both_backends!(
    public_client_exchanges_a_code_with_pkce_s256,
    |backend| async move {
        let client = TestClient::public(&["authorization_code"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;
        let pkce = Pkce::s256();
        let code = client
            .authorization_code(&app, "profile", Some(&pkce))
            .await;

        // client_id in the body, no secret.
        let response = client.redeem_code(&app, &code, Some(&pkce.verifier)).await;

        let tokens = assert_tokens(response).await;
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["scope"], "profile");
        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], user.username.as_str());
    }
);

both_backends!(
    confidential_client_exchanges_a_code_without_pkce_and_gets_a_refresh_token,
    |backend| async move {
        let (app, client, code) =
            confidential_code(backend, &["authorization_code", "refresh_token"]).await;

        let response = client.redeem_code(&app, &code, None).await;

        let headers = response.headers().clone();
        let body = assert_token(response).await;
        assert!(body["refresh_token"].is_string(), "{body}");
        assert_token_not_cached(&headers);
    }
);

both_backends!(
    public_client_exchange_without_the_verifier_is_refused,
    |backend| async move {
        let (app, client, _pkce, code) = public_code(backend).await;

        let response = client.redeem_code(&app, &code, None).await;

        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST,
            "expected 400 without code_verifier, got {status}"
        );
    }
);

both_backends!(
    a_wrong_code_verifier_is_invalid_grant_and_burns_the_code,
    |backend| async move {
        let (app, client, pkce, code) = public_code(backend).await;
        let wrong = Pkce::s256();

        let response = client.redeem_code(&app, &code, Some(&wrong.verifier)).await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;

        let retry = client.redeem_code(&app, &code, Some(&pkce.verifier)).await;
        assert_oauth_error(retry, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_code_verifier_without_a_challenge_is_invalid_request,
    |backend| async move {
        let (app, client, code) = confidential_code(backend, &["authorization_code"]).await;
        let pkce = Pkce::s256();

        let response = client.redeem_code(&app, &code, Some(&pkce.verifier)).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
);

both_backends!(
    a_code_presented_by_another_client_is_invalid_grant_and_still_works_for_its_owner,
    |backend| async move {
        let (app, client, code) = confidential_code(backend, &["authorization_code"]).await;
        let thief = TestClient::confidential(&["authorization_code"], "profile")
            .register(&app)
            .await;

        let stolen = thief.redeem_code(&app, &code, None).await;
        assert_oauth_error(stolen, StatusCode::BAD_REQUEST, "invalid_grant").await;

        let response = client.redeem_code(&app, &code, None).await;
        assert_token(response).await;
    }
);

both_backends!(
    a_code_used_twice_is_invalid_grant_and_revokes_its_tokens,
    |backend| async move {
        let (app, client, code) =
            confidential_code(backend, &["authorization_code", "refresh_token"]).await;
        let first = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        app.assert_api_me_ok(&first.access).await;

        let second = client.redeem_code(&app, &code, None).await;

        assert_oauth_error(second, StatusCode::BAD_REQUEST, "invalid_grant").await;
        app.assert_api_me_status(
            &first.access,
            StatusCode::UNAUTHORIZED,
            "the first token still works",
        )
        .await;
        let refreshed = client.refresh(&app, first.refresh_token(), None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_redirect_uri_mismatch_at_the_token_endpoint_is_invalid_grant,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile")
            .extra_redirect_uri("https://client.example/other");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let code = client.authorization_code(&app, "profile", None).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://client.example/other"),
        ];

        let response = client.post_token(&app, &form).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(an_unknown_code_is_invalid_grant, |backend| async move {
    let client = TestClient::confidential(&["authorization_code"], "profile");
    let (app, client) = app_with_client(backend, client).await;

    let response = client.redeem_code(&app, "not-a-code", None).await;

    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
});
