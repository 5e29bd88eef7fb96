//! Client authentication at the token endpoint, and grant gating.

use reqwest::StatusCode;

use crate::helpers::{
    assert_oauth_error, assert_token, both_backends, spawn_app, www_authenticate, TestClient,
};

const CC: [(&str, &str); 2] = [("grant_type", "client_credentials"), ("scope", "profile")];

both_backends!(
    wrong_secret_with_basic_is_401_invalid_client_with_www_authenticate,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;

        let response = app
            .post_token(&CC, Some((&client.id, "wrong-secret")))
            .await;

        let headers =
            assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert!(
            !www_authenticate(&headers).is_empty(),
            "no WWW-Authenticate"
        );
    }
);

both_backends!(
    unknown_client_with_basic_is_401_invalid_client,
    |backend| async move {
        let app = spawn_app(backend).await;

        let response = app
            .post_token(&CC, Some(("no-such-client", "secret")))
            .await;

        let headers =
            assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert!(
            !www_authenticate(&headers).is_empty(),
            "no WWW-Authenticate"
        );
    }
);

both_backends!(
    no_client_credentials_is_401_invalid_client,
    |backend| async move {
        let app = spawn_app(backend).await;
        let _client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;

        let response = app.post_token(&CC, None).await;

        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    basic_and_client_secret_in_the_body_is_401_invalid_client,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let (id, secret) = client.basic();
        let form = [CC[0], CC[1], ("client_secret", secret)];

        let response = app.post_token(&form, Some((id, secret))).await;

        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    basic_with_the_same_client_id_in_the_body_is_allowed_and_another_is_not,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let (id, secret) = client.basic();

        let same = app
            .post_token(&[CC[0], CC[1], ("client_id", id)], Some((id, secret)))
            .await;
        let other = app
            .post_token(
                &[CC[0], CC[1], ("client_id", "someone-else")],
                Some((id, secret)),
            )
            .await;

        assert_token(same).await;
        assert_oauth_error(other, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    client_secret_post_client_using_basic_is_401_invalid_client,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .auth_method("client_secret_post")
            .register(&app)
            .await;

        let with_basic = app.post_token(&CC, Some(client.basic())).await;
        let with_body = client.post_token(&app, &CC).await;

        assert_oauth_error(with_basic, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert_token(with_body).await;
    }
);

both_backends!(
    client_secret_basic_client_using_the_body_is_401_invalid_client,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let (id, secret) = client.basic();

        let response = app
            .post_token(
                &[CC[0], CC[1], ("client_id", id), ("client_secret", secret)],
                None,
            )
            .await;

        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    a_grant_the_client_did_not_register_is_unauthorized_client,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;

        let response = client
            .post_token(
                &app,
                &[
                    ("grant_type", "password"),
                    ("username", &user.username),
                    ("password", &user.password),
                    ("scope", "profile"),
                ],
            )
            .await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    }
);

both_backends!(
    an_unknown_grant_type_is_unsupported_grant_type,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;

        let response = client
            .post_token(&app, &[("grant_type", "urn:example:magic")])
            .await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    }
);
