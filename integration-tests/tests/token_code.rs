//! The authorization code grant at `/oauth/token`, with and without PKCE (§4 decisions).

use reqwest::StatusCode;

use crate::helpers::fixtures::tokens;
use crate::helpers::{
    assert_api_me_ok, assert_oauth_error, assert_token, both_backends, spawn_app, Pkce, TestClient,
};

both_backends!(
    public_client_exchanges_a_code_with_pkce_s256,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::public(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let pkce = Pkce::s256();
        let code = client
            .authorization_code(&app, "profile", Some(&pkce))
            .await;

        // client_id in the body, no secret.
        let response = client.redeem_code(&app, &code, Some(&pkce.verifier)).await;

        let body = assert_token(response).await;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "profile");
        let me = assert_api_me_ok(&app, body["access_token"].as_str().unwrap()).await;
        assert_eq!(me["username"], user.username.as_str());
    }
);

both_backends!(
    confidential_client_exchanges_a_code_without_pkce_and_gets_a_refresh_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::confidential(&["authorization_code", "refresh_token"], "profile")
            .register(&app)
            .await;
        let code = client.authorization_code(&app, "profile", None).await;

        let response = client.redeem_code(&app, &code, None).await;

        let headers = response.headers().clone();
        let body = assert_token(response).await;
        assert!(body["refresh_token"].is_string(), "{body}");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["pragma"], "no-cache");
    }
);

both_backends!(
    public_client_exchange_without_the_verifier_is_refused,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::public(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let pkce = Pkce::s256();
        let code = client
            .authorization_code(&app, "profile", Some(&pkce))
            .await;

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
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::public(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let pkce = Pkce::s256();
        let code = client
            .authorization_code(&app, "profile", Some(&pkce))
            .await;
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
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::confidential(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let code = client.authorization_code(&app, "profile", None).await;
        let pkce = Pkce::s256();

        let response = client.redeem_code(&app, &code, Some(&pkce.verifier)).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
);

both_backends!(
    a_code_presented_by_another_client_is_invalid_grant_and_still_works_for_its_owner,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::confidential(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let thief = TestClient::confidential(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let code = client.authorization_code(&app, "profile", None).await;

        let stolen = thief.redeem_code(&app, &code, None).await;
        assert_oauth_error(stolen, StatusCode::BAD_REQUEST, "invalid_grant").await;

        let response = client.redeem_code(&app, &code, None).await;
        assert_token(response).await;
    }
);

both_backends!(
    a_code_used_twice_is_invalid_grant_and_revokes_its_tokens,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::confidential(&["authorization_code", "refresh_token"], "profile")
            .register(&app)
            .await;
        let code = client.authorization_code(&app, "profile", None).await;
        let first = assert_token(client.redeem_code(&app, &code, None).await).await;
        let (access, refresh) = tokens(&first);
        assert_api_me_ok(&app, &access).await;

        let second = client.redeem_code(&app, &code, None).await;

        assert_oauth_error(second, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let me = app.get_api_me(&access).await;
        assert_eq!(
            me.status(),
            StatusCode::UNAUTHORIZED,
            "the first token still works"
        );
        let refreshed = client.refresh(&app, &refresh.unwrap(), None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_redirect_uri_mismatch_at_the_token_endpoint_is_invalid_grant,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::confidential(&["authorization_code"], "profile")
            .extra_redirect_uri("https://client.example/other")
            .register(&app)
            .await;
        let code = client.authorization_code(&app, "profile", None).await;

        let response = client
            .post_token(
                &app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", "https://client.example/other"),
                ],
            )
            .await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(an_unknown_code_is_invalid_grant, |backend| async move {
    let app = spawn_app(backend).await;
    let client = TestClient::confidential(&["authorization_code"], "profile")
        .register(&app)
        .await;

    let response = client.redeem_code(&app, "not-a-code", None).await;

    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
});
