//! RFC 7009 revocation with Tessera's §4 decisions.

use reqwest::StatusCode;

use crate::helpers::{
    app_with_password_tokens, assert_oauth_error, assert_token_not_cached, both_backends, json,
    Backend, RegisteredClient, TestApp, TestClient, Tokens,
};

/// A fresh server, a confidential client with these grants, and a user's `profile` tokens.
async fn issued(backend: Backend, grants: &[&str]) -> (TestApp, RegisteredClient, Tokens) {
    let client = TestClient::confidential(grants, "profile");
    let (app, _, client, tokens) = app_with_password_tokens(backend, client, "profile").await;
    (app, client, tokens)
}

both_backends!(
    revoking_an_access_token_makes_api_me_401_invalid_token,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password"]).await;
        app.assert_api_me_ok(&tokens.access).await;

        let response = client
            .post_revoke(
                &app,
                &[
                    ("token", &tokens.access),
                    ("token_type_hint", "access_token"),
                ],
            )
            .await;

        assert_eq!(response.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    revoking_a_refresh_token_revokes_its_access_tokens,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password", "refresh_token"]).await;
        let refresh = tokens.refresh_token();

        let response = client.post_revoke(&app, &[("token", refresh)]).await;

        assert_eq!(response.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
        let refreshed = client.refresh(&app, refresh, None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    revoking_an_unknown_token_is_200_and_an_unknown_hint_is_ignored,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password"]).await;

        let unknown = client
            .post_revoke(&app, &[("token", "no-such-token")])
            .await;
        let odd_hint = client
            .post_revoke(
                &app,
                &[("token", &tokens.access), ("token_type_hint", "banana")],
            )
            .await;

        assert_eq!(unknown.status(), StatusCode::OK);
        assert_eq!(odd_hint.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    revoking_another_clients_token_is_400_unauthorized_client_and_it_still_works,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password", "refresh_token"]).await;
        let other = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;

        let on_access = other.post_revoke(&app, &[("token", &tokens.access)]).await;
        let on_refresh = other
            .post_revoke(&app, &[("token", tokens.refresh_token())])
            .await;

        assert_oauth_error(on_access, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        assert_oauth_error(on_refresh, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        app.assert_api_me_ok(&tokens.access).await;
        let refreshed = client.refresh(&app, tokens.refresh_token(), None).await;
        assert_eq!(refreshed.status(), StatusCode::OK);
    }
);

both_backends!(revoking_needs_client_authentication, |backend| async move {
    let (app, client, tokens) = issued(backend, &["password"]).await;
    let form = [("token", tokens.access.as_str())];

    let anonymous = app.post_revoke(&form, None).await;
    let wrong = client.with_secret("wrong").post_revoke(&app, &form).await;

    assert_oauth_error(anonymous, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_oauth_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
    app.assert_api_me_ok(&tokens.access).await;
});

both_backends!(
    a_public_client_revokes_its_own_tokens_with_its_client_id_alone,
    |backend| async move {
        let client = TestClient::public(&["password", "refresh_token"], "profile");
        let (app, _, client, tokens) = app_with_password_tokens(backend, client, "profile").await;
        let other = TestClient::confidential(&["password"], "profile")
            .register(&app)
            .await;

        let foreign = other.post_revoke(&app, &[("token", &tokens.access)]).await;
        assert_oauth_error(foreign, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        app.assert_api_me_ok(&tokens.access).await;

        let access = app
            .post_revoke(
                &[("token", &tokens.access), ("client_id", &client.id)],
                None,
            )
            .await;
        let refresh = client
            .post_revoke(&app, &[("token", tokens.refresh_token())])
            .await;

        assert_eq!(access.status(), StatusCode::OK);
        assert_eq!(refresh.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
        let refreshed = client.refresh(&app, tokens.refresh_token(), None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_public_client_may_not_revoke_the_tokens_of_another_public_client,
    |backend| async move {
        let client = TestClient::public(&["password"], "profile");
        let (app, _, _, tokens) = app_with_password_tokens(backend, client, "profile").await;
        let other = TestClient::public(&["password"], "profile")
            .register(&app)
            .await;

        let response = other.post_revoke(&app, &[("token", &tokens.access)]).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        app.assert_api_me_ok(&tokens.access).await;
    }
);

both_backends!(
    a_client_secret_post_client_revokes_with_its_credentials_in_the_body,
    |backend| async move {
        let client =
            TestClient::confidential(&["password"], "profile").auth_method("client_secret_post");
        let (app, _, client, tokens) = app_with_password_tokens(backend, client, "profile").await;

        let response = client.post_revoke(&app, &[("token", &tokens.access)]).await;

        assert_eq!(response.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    a_wrong_hint_still_revokes_the_token_it_names,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password", "refresh_token"]).await;

        let response = client
            .post_revoke(
                &app,
                &[
                    ("token", tokens.refresh_token()),
                    ("token_type_hint", "access_token"),
                ],
            )
            .await;

        assert_eq!(response.status(), StatusCode::OK);
        let refreshed = client.refresh(&app, tokens.refresh_token(), None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    revoking_twice_is_200_both_times_and_never_cached,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password"]).await;
        let form = [("token", tokens.access.as_str())];

        let first = client.post_revoke(&app, &form).await;
        let second = client.post_revoke(&app, &form).await;

        for response in [first, second] {
            let (status, headers, body) = json(response).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_token_not_cached(&headers);
        }
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    revoking_without_a_token_is_400_invalid_request,
    |backend| async move {
        let (app, client, tokens) = issued(backend, &["password"]).await;

        let missing = client.post_revoke(&app, &[]).await;
        let repeated = client
            .post_revoke(&app, &[("token", &tokens.access), ("token", "other")])
            .await;

        assert_oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_oauth_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;
        app.assert_api_me_ok(&tokens.access).await;
    }
);
