//! `GET /api/me`: the bearer-protected API (RFC 6750 answers).

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    app_with_password_tokens, both_backends, spawn_app, spawn_app_with, www_authenticate,
    TestClient,
};

fn assert_bare_bearer_challenge(response: &reqwest::Response) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = www_authenticate(response.headers());
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("realm=\"tessera\""),
        "WWW-Authenticate: {challenge:?}"
    );
    assert!(
        !challenge.contains("error="),
        "WWW-Authenticate: {challenge:?}"
    );
}

both_backends!(
    no_authorization_header_is_401_with_a_bare_bearer_challenge,
    |backend| async move {
        let app = spawn_app(backend).await;

        let response = app.get_page("/api/me").await;

        assert_bare_bearer_challenge(&response);
    }
);

both_backends!(
    a_non_bearer_scheme_is_401_with_a_bare_bearer_challenge,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;

        let response = app
            .get_api_me_with(|request| request.basic_auth(&user.username, Some(&user.password)))
            .await;

        assert_bare_bearer_challenge(&response);
    }
);

both_backends!(
    an_access_token_in_the_query_string_is_not_accepted,
    |backend| async move {
        let client = TestClient::confidential(&["password"], "profile");
        let (app, _, _, tokens) = app_with_password_tokens(backend, client, "profile").await;

        let response = app
            .get_api_me_with(|request| request.query(&[("access_token", &tokens.access)]))
            .await;

        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    an_unknown_token_is_401_invalid_token,
    |backend| async move {
        let app = spawn_app(backend).await;

        app.assert_api_me_unauthorized("not-a-token").await;
    }
);

both_backends!(
    an_expired_token_is_401_invalid_token,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_ACCESS_TOKEN_TTL", "1")]).await;
        let (user, client) = app
            .user_and_client(TestClient::confidential(&["password"], "profile"))
            .await;
        let tokens = client.password_tokens(&app, &user, "profile").await;
        assert_eq!(tokens["expires_in"], 1);

        tokio::time::sleep(Duration::from_secs(2)).await;

        app.assert_api_me_unauthorized(&tokens.access).await;
    }
);

both_backends!(
    a_token_without_profile_is_403_insufficient_scope,
    |backend| async move {
        let client = TestClient::confidential(&["password"], "profile email");
        let (app, _, _, tokens) = app_with_password_tokens(backend, client, "email").await;

        app.assert_api_me_insufficient_scope(&tokens.access).await;
    }
);
