//! The seed README flow: password grant with `curl -F` fields and HTTP Basic, then `/api/me`.

use reqwest::multipart::Form;
use reqwest::StatusCode;

use crate::helpers::{
    app_with_client, app_with_user_and_client, assert_oauth_error, assert_token_not_cached,
    both_backends, json, spawn_app, TestClient,
};

both_backends!(
    password_grant_with_multipart_and_basic_issues_a_token_that_reads_api_me,
    |backend| async move {
        let client = TestClient::confidential(&["password", "refresh_token"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;
        let (id, secret) = client.basic();
        let form = Form::new()
            .text("grant_type", "password")
            .text("username", user.username.clone())
            .text("password", user.password.clone())
            .text("scope", "profile");

        let response = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .multipart(form)
            .send()
            .await
            .unwrap();

        let (status, headers, body) = json(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
        assert_eq!(body["scope"], "profile");
        assert!(body["refresh_token"].is_string(), "{body}");
        assert_token_not_cached(&headers);
        let me = app
            .assert_api_me_ok(body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me["username"], user.username.as_str());
        assert!(me["id"].is_string() || me["id"].is_number(), "{me}");
        assert_eq!(me.as_object().unwrap().len(), 2, "{me}");
    }
);

both_backends!(
    password_grant_without_refresh_registered_gives_no_refresh_token,
    |backend| async move {
        let client = TestClient::confidential(&["password"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;

        let body = client.password_token(&app, &user, "profile").await;

        assert!(body.get("refresh_token").is_none(), "{body}");
    }
);

both_backends!(
    password_grant_with_a_wrong_password_is_invalid_grant,
    |backend| async move {
        let client = TestClient::confidential(&["password"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;

        let response = client
            .password_grant_as(&app, &user.username, "wrong", "profile")
            .await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    password_grant_for_an_unregistered_scope_is_invalid_scope,
    |backend| async move {
        let client = TestClient::confidential(&["password"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;

        let response = client.password_grant(&app, &user, "profile email").await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
);

both_backends!(token_endpoint_answers_get_with_405, |backend| async move {
    let app = spawn_app(backend).await;

    let response = app.get_page("/oauth/token").await;

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
});

both_backends!(
    a_parameter_sent_twice_is_invalid_request,
    |backend| async move {
        let client = TestClient::confidential(&["client_credentials"], "profile");
        let (app, client) = app_with_client(backend, client).await;
        // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "profile"),
            ("scope", "profile"),
        ];

        let response = client.post_token(&app, &form).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
);

both_backends!(
    a_refresh_token_is_not_an_access_token_and_vice_versa,
    |backend| async move {
        let client = TestClient::confidential(&["password", "refresh_token"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;
        let tokens = client.password_tokens(&app, &user, "profile").await;

        let me = app.get_api_me(tokens.refresh_token()).await;
        let refreshed = client.refresh(&app, &tokens.access, None).await;

        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
        app.assert_api_me_ok(&tokens.access).await;
    }
);
