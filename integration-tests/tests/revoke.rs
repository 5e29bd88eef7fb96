//! RFC 7009 revocation with Tessera's §4 decisions.

use reqwest::StatusCode;

use crate::helpers::fixtures::tokens;
use crate::helpers::{
    assert_api_me_ok, assert_bearer_error, assert_oauth_error, both_backends, spawn_app, TestClient,
};

both_backends!(
    revoking_an_access_token_makes_api_me_401_invalid_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password"], "profile")
            .register(&app)
            .await;
        let (access, _) = tokens(&client.password_token(&app, &user, "profile").await);
        assert_api_me_ok(&app, &access).await;

        let response = client
            .post_revoke(
                &app,
                &[("token", &access), ("token_type_hint", "access_token")],
            )
            .await;

        assert_eq!(response.status(), StatusCode::OK);
        let me = app.get_api_me(&access).await;
        assert_bearer_error(&me, StatusCode::UNAUTHORIZED, "invalid_token");
    }
);

both_backends!(
    revoking_a_refresh_token_revokes_its_access_tokens,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (access, refresh) = tokens(&client.password_token(&app, &user, "profile").await);
        let refresh = refresh.unwrap();

        let response = client.post_revoke(&app, &[("token", &refresh)]).await;

        assert_eq!(response.status(), StatusCode::OK);
        let me = app.get_api_me(&access).await;
        assert_bearer_error(&me, StatusCode::UNAUTHORIZED, "invalid_token");
        let refreshed = client.refresh(&app, &refresh, None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    revoking_an_unknown_token_is_200_and_an_unknown_hint_is_ignored,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password"], "profile")
            .register(&app)
            .await;
        let (access, _) = tokens(&client.password_token(&app, &user, "profile").await);

        let unknown = client
            .post_revoke(&app, &[("token", "no-such-token")])
            .await;
        let odd_hint = client
            .post_revoke(&app, &[("token", &access), ("token_type_hint", "banana")])
            .await;

        assert_eq!(unknown.status(), StatusCode::OK);
        assert_eq!(odd_hint.status(), StatusCode::OK);
        let me = app.get_api_me(&access).await;
        assert_bearer_error(&me, StatusCode::UNAUTHORIZED, "invalid_token");
    }
);

both_backends!(
    revoking_another_clients_token_is_400_unauthorized_client_and_it_still_works,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let other = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (access, refresh) = tokens(&client.password_token(&app, &user, "profile").await);
        let refresh = refresh.unwrap();

        let on_access = other.post_revoke(&app, &[("token", &access)]).await;
        let on_refresh = other.post_revoke(&app, &[("token", &refresh)]).await;

        assert_oauth_error(on_access, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        assert_oauth_error(on_refresh, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        assert_api_me_ok(&app, &access).await;
        let refreshed = client.refresh(&app, &refresh, None).await;
        assert_eq!(refreshed.status(), StatusCode::OK);
    }
);

both_backends!(revoking_needs_client_authentication, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let client = TestClient::confidential(&["password"], "profile")
        .register(&app)
        .await;
    let (access, _) = tokens(&client.password_token(&app, &user, "profile").await);

    let anonymous = app.post_revoke(&[("token", &access)], None).await;
    let wrong = app
        .post_revoke(&[("token", &access)], Some((&client.id, "wrong")))
        .await;

    assert_oauth_error(anonymous, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_oauth_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_api_me_ok(&app, &access).await;
});
