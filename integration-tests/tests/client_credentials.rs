//! The client credentials grant: no refresh token, no resource owner.

use reqwest::StatusCode;

use crate::helpers::{
    assert_bearer_error, assert_oauth_error, both_backends, spawn_app, TestClient,
};

both_backends!(
    client_credentials_token_has_no_refresh_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials", "refresh_token"], "profile")
            .register(&app)
            .await;

        let body = client.client_credentials_token(&app, "profile").await;

        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
    }
);

both_backends!(
    client_credentials_token_at_api_me_is_403_insufficient_scope,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let body = client.client_credentials_token(&app, "profile").await;

        let me = app.get_api_me(body["access_token"].as_str().unwrap()).await;

        assert_bearer_error(&me, StatusCode::FORBIDDEN, "insufficient_scope");
    }
);

both_backends!(
    client_credentials_for_an_unregistered_scope_is_invalid_scope,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;

        let response = client
            .post_token(
                &app,
                &[("grant_type", "client_credentials"), ("scope", "email")],
            )
            .await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
);
