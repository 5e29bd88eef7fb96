//! The refresh token grant: rotation, reuse detection, scope narrowing.

use reqwest::StatusCode;

use crate::helpers::{
    app_with_password_tokens, assert_oauth_error, assert_tokens, both_backends, Backend,
    RegisteredClient, TestApp, TestClient, Tokens,
};

/// A fresh server, a `password` + `refresh_token` client registered for `registered`, and a
/// user's password-grant tokens for `scope`.
async fn password_tokens(
    backend: Backend,
    registered: &str,
    scope: &str,
) -> (TestApp, RegisteredClient, Tokens) {
    let client = TestClient::confidential(&["password", "refresh_token"], registered);
    let (app, _, client, tokens) = app_with_password_tokens(backend, client, scope).await;
    (app, client, tokens)
}

both_backends!(refreshing_rotates_the_refresh_token, |backend| async move {
    let (app, client, old) = password_tokens(backend, "profile", "profile").await;

    let response = client.refresh(&app, old.refresh_token(), None).await;

    let headers = response.headers().clone();
    let new = assert_tokens(response).await;
    assert_ne!(new.refresh_token(), old.refresh_token());
    assert_eq!(new["scope"], "profile");
    assert_eq!(headers["cache-control"], "no-store");
    app.assert_api_me_ok(&new.access).await;
    client.refreshed(&app, new.refresh_token(), None).await;
});

both_backends!(
    a_rotated_refresh_token_presented_again_revokes_the_chain,
    |backend| async move {
        let (app, client, first) = password_tokens(backend, "profile", "profile").await;
        let new = client.refreshed(&app, first.refresh_token(), None).await;

        let replay = client.refresh(&app, first.refresh_token(), None).await;

        assert_oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;
        for token in [&new.access, &first.access] {
            app.assert_api_me_unauthorized(token).await;
        }
        let next = client.refresh(&app, new.refresh_token(), None).await;
        assert_oauth_error(next, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_narrower_scope_is_honoured_and_the_refresh_token_keeps_the_grant,
    |backend| async move {
        let (app, client, tokens) =
            password_tokens(backend, "profile email", "profile email").await;

        let narrow = client
            .refreshed(&app, tokens.refresh_token(), Some("email"))
            .await;

        assert_eq!(narrow["scope"], "email");
        app.assert_api_me_insufficient_scope(&narrow.access).await;
        let full = client.refreshed(&app, narrow.refresh_token(), None).await;
        let scope = full["scope"].as_str().unwrap_or_default();
        assert!(scope.split(' ').any(|s| s == "profile"), "{full}");
        app.assert_api_me_ok(&full.access).await;
    }
);

both_backends!(a_wider_scope_is_invalid_scope, |backend| async move {
    let (app, client, tokens) = password_tokens(backend, "profile email", "email").await;

    let response = client
        .refresh(&app, tokens.refresh_token(), Some("email profile"))
        .await;

    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
});

both_backends!(
    another_clients_refresh_token_is_invalid_grant,
    |backend| async move {
        let (app, client, tokens) = password_tokens(backend, "profile", "profile").await;
        let thief = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;

        let stolen = thief.refresh(&app, tokens.refresh_token(), None).await;

        assert_oauth_error(stolen, StatusCode::BAD_REQUEST, "invalid_grant").await;
        client.refreshed(&app, tokens.refresh_token(), None).await;
    }
);
