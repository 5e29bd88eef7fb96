//! Client authentication at the token endpoint, and grant gating.

use reqwest::{Response, StatusCode};

use crate::helpers::{
    app_with_client, app_with_user_and_client, assert_oauth_error, assert_token, both_backends,
    spawn_app, www_authenticate, Backend, RegisteredClient, TestApp, TestClient,
};

const CC: [(&str, &str); 2] = [("grant_type", "client_credentials"), ("scope", "profile")];

/// A fresh server with a `client_credentials` client that authenticates with `method`.
async fn app_with_cc_client(backend: Backend, method: &str) -> (TestApp, RegisteredClient) {
    let client = TestClient::confidential(&["client_credentials"], "profile").auth_method(method);
    app_with_client(backend, client).await
}

/// Asserts 401 `invalid_client` with a `WWW-Authenticate` challenge.
async fn assert_invalid_client_challenge(response: Response) {
    let headers = assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert!(
        !www_authenticate(&headers).is_empty(),
        "no WWW-Authenticate"
    );
}

both_backends!(
    wrong_secret_with_basic_is_401_invalid_client_with_www_authenticate,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_basic").await;

        let response = client
            .with_secret("wrong-secret")
            .post_token(&app, &CC)
            .await;

        assert_invalid_client_challenge(response).await;
    }
);

both_backends!(
    unknown_client_with_basic_is_401_invalid_client,
    |backend| async move {
        let app = spawn_app(backend).await;

        let response = app
            .post_token(&CC, Some(("no-such-client", "secret")))
            .await;

        assert_invalid_client_challenge(response).await;
    }
);

both_backends!(
    no_client_credentials_is_401_invalid_client,
    |backend| async move {
        let (app, _client) = app_with_cc_client(backend, "client_secret_basic").await;

        let response = app.post_token(&CC, None).await;

        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    basic_and_client_secret_in_the_body_is_401_invalid_client,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_basic").await;
        let (id, secret) = client.basic();
        let form = [CC[0], CC[1], ("client_secret", secret)];

        let response = app.post_token(&form, Some((id, secret))).await;

        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    basic_with_the_same_client_id_in_the_body_is_allowed_and_another_is_not,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_basic").await;
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
        let (app, client) = app_with_cc_client(backend, "client_secret_post").await;

        let with_basic = app.post_token(&CC, Some(client.basic())).await;
        let with_body = client.post_token(&app, &CC).await;

        assert_oauth_error(with_basic, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert_token(with_body).await;
    }
);

both_backends!(
    client_secret_basic_client_using_the_body_is_401_invalid_client,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_basic").await;
        let (id, secret) = client.basic();
        let form = [CC[0], CC[1], ("client_id", id), ("client_secret", secret)];

        let response = app.post_token(&form, None).await;

        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    a_grant_the_client_did_not_register_is_unauthorized_client,
    |backend| async move {
        let client = TestClient::confidential(&["client_credentials"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;

        let response = client.password_grant(&app, &user, "profile").await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    }
);

both_backends!(
    an_unknown_grant_type_is_unsupported_grant_type,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_basic").await;

        let response = client
            .post_token(&app, &[("grant_type", "urn:example:magic")])
            .await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    }
);

both_backends!(
    a_wrong_method_without_the_secret_answers_as_for_an_unknown_client,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_post").await;
        let answer = |response: Response| async move {
            let status = response.status();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|value| value.to_str().expect("ascii").to_owned());
            let body: serde_json::Value = response.json().await.expect("JSON");
            (status, challenge, body)
        };

        let unknown = answer(app.post_token(&CC, Some(("no-such-client", "guess"))).await).await;
        let existing = answer(app.post_token(&CC, Some((&client.id, "guess"))).await).await;

        assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            existing, unknown,
            "the answer reveals that the client exists"
        );
    }
);

both_backends!(
    the_registered_method_is_named_only_to_a_caller_holding_the_secret,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend, "client_secret_post").await;
        let secret = client.secret.clone().expect("a secret");

        let response = app.post_token(&CC, Some((&client.id, &secret))).await;

        let (status, _, body) = crate::helpers::json(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|text| text.contains("client_secret_post")),
            "{body}"
        );
    }
);
