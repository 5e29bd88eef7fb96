//! The refresh token grant: rotation, reuse detection, scope narrowing.

use reqwest::StatusCode;

use crate::helpers::fixtures::tokens;
use crate::helpers::{
    assert_api_me_ok, assert_bearer_error, assert_oauth_error, assert_token, both_backends,
    spawn_app, TestClient,
};

both_backends!(refreshing_rotates_the_refresh_token, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let client = TestClient::confidential(&["password", "refresh_token"], "profile")
        .register(&app)
        .await;
    let (_, old) = tokens(&client.password_token(&app, &user, "profile").await);
    let old = old.unwrap();

    let response = client.refresh(&app, &old, None).await;

    let headers = response.headers().clone();
    let body = assert_token(response).await;
    let (access, new) = tokens(&body);
    let new = new.unwrap_or_else(|| panic!("no new refresh token: {body}"));
    assert_ne!(new, old);
    assert_eq!(body["scope"], "profile");
    assert_eq!(headers["cache-control"], "no-store");
    assert_api_me_ok(&app, &access).await;
    assert_token(client.refresh(&app, &new, None).await).await;
});

both_backends!(
    a_rotated_refresh_token_presented_again_revokes_the_chain,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (first_access, old) = tokens(&client.password_token(&app, &user, "profile").await);
        let old = old.unwrap();
        let (new_access, new) = tokens(&assert_token(client.refresh(&app, &old, None).await).await);
        let new = new.unwrap();

        let replay = client.refresh(&app, &old, None).await;

        assert_oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;
        for token in [&new_access, &first_access] {
            let me = app.get_api_me(token).await;
            assert_bearer_error(&me, StatusCode::UNAUTHORIZED, "invalid_token");
        }
        let next = client.refresh(&app, &new, None).await;
        assert_oauth_error(next, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_narrower_scope_is_honoured_and_the_refresh_token_keeps_the_grant,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile email")
            .register(&app)
            .await;
        let (_, refresh) = tokens(&client.password_token(&app, &user, "profile email").await);

        let narrow =
            assert_token(client.refresh(&app, &refresh.unwrap(), Some("email")).await).await;

        assert_eq!(narrow["scope"], "email");
        let (access, refresh) = tokens(&narrow);
        let me = app.get_api_me(&access).await;
        assert_bearer_error(&me, StatusCode::FORBIDDEN, "insufficient_scope");
        let full = assert_token(client.refresh(&app, &refresh.unwrap(), None).await).await;
        let scope = full["scope"].as_str().unwrap_or_default();
        assert!(scope.split(' ').any(|s| s == "profile"), "{full}");
        assert_api_me_ok(&app, full["access_token"].as_str().unwrap()).await;
    }
);

both_backends!(a_wider_scope_is_invalid_scope, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let client = TestClient::confidential(&["password", "refresh_token"], "profile email")
        .register(&app)
        .await;
    let (_, refresh) = tokens(&client.password_token(&app, &user, "email").await);

    let response = client
        .refresh(&app, &refresh.unwrap(), Some("email profile"))
        .await;

    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
});

both_backends!(
    another_clients_refresh_token_is_invalid_grant,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let thief = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (_, refresh) = tokens(&client.password_token(&app, &user, "profile").await);
        let refresh = refresh.unwrap();

        let stolen = thief.refresh(&app, &refresh, None).await;

        assert_oauth_error(stolen, StatusCode::BAD_REQUEST, "invalid_grant").await;
        assert_token(client.refresh(&app, &refresh, None).await).await;
    }
);
