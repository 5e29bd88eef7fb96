//! The client credentials grant: no refresh token, no resource owner.

use reqwest::StatusCode;

use crate::helpers::{
    app_with_client, assert_oauth_error, both_backends, Backend, RegisteredClient, TestApp,
    TestClient,
};

/// A fresh server and a confidential client with these grants and scope `profile`.
async fn app_with(backend: Backend, grants: &[&str]) -> (TestApp, RegisteredClient) {
    app_with_client(backend, TestClient::confidential(grants, "profile")).await
}

both_backends!(
    client_credentials_token_has_no_refresh_token,
    |backend| async move {
        let (app, client) = app_with(backend, &["client_credentials", "refresh_token"]).await;

        let body = client.client_credentials_token(&app, "profile").await;

        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
    }
);

both_backends!(
    client_credentials_token_at_api_me_is_403_insufficient_scope,
    |backend| async move {
        let (app, client) = app_with(backend, &["client_credentials"]).await;
        let body = client.client_credentials_token(&app, "profile").await;

        app.assert_api_me_insufficient_scope(body["access_token"].as_str().unwrap())
            .await;
    }
);

both_backends!(
    client_credentials_for_an_unregistered_scope_is_invalid_scope,
    |backend| async move {
        let (app, client) = app_with(backend, &["client_credentials"]).await;

        let response = client.client_credentials(&app, "email").await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
);
