//! Configurable lifetimes and switches (`TESSERA_*_TTL`, grace period, plain PKCE).

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{
    assert_oauth_error, assert_token, both_backends, query_param, spawn_app_with, Backend, Pkce,
    RegisteredClient, TestApp, TestClient, Tokens,
};

/// A server with this setting, and a user's `profile` tokens from a confidential `password` +
/// `refresh_token` client.
async fn password_tokens_with(
    backend: Backend,
    setting: (&str, &str),
) -> (TestApp, RegisteredClient, Tokens) {
    let app = spawn_app_with(backend, &[setting]).await;
    let client = TestClient::confidential(&["password", "refresh_token"], "profile");
    let (user, client) = app.user_and_client(client).await;
    let tokens = client.password_tokens(&app, &user, "profile").await;
    (app, client, tokens)
}

both_backends!(an_expired_code_is_invalid_grant, |backend| async move {
    let app = spawn_app_with(backend, &[("TESSERA_CODE_TTL", "1")]).await;
    let (_, client) = app
        .user_and_client(TestClient::confidential(&["authorization_code"], "profile"))
        .await;
    let code = client.authorization_code(&app, "profile", None).await;

    tokio::time::sleep(Duration::from_secs(2)).await;
    let response = client.redeem_code(&app, &code, None).await;

    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
});

both_backends!(
    an_expired_refresh_token_is_invalid_grant,
    |backend| async move {
        let (app, client, tokens) =
            password_tokens_with(backend, ("TESSERA_REFRESH_TOKEN_TTL", "1")).await;

        tokio::time::sleep(Duration::from_secs(2)).await;
        let response = client.refresh(&app, tokens.refresh_token(), None).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_retry_within_the_reuse_grace_period_rotates_again_without_revoking,
    |backend| async move {
        let (app, client, old) =
            password_tokens_with(backend, ("TESSERA_REFRESH_REUSE_GRACE_SECONDS", "30")).await;
        let _first = client.refreshed(&app, old.refresh_token(), None).await;

        let retry = client.refreshed(&app, old.refresh_token(), None).await;

        app.assert_api_me_ok(&retry.access).await;
        client.refreshed(&app, retry.refresh_token(), None).await;
    }
);

/// A signed-in browser on a server that allows PKCE `plain`, `client` registered there, and
/// a verifier to send as its own `plain` challenge.
async fn plain_pkce_setup(
    backend: Backend,
    client: TestClient,
) -> (TestApp, RegisteredClient, String) {
    let app = spawn_app_with(backend, &[("TESSERA_PKCE_ALLOW_PLAIN", "1")]).await;
    let (_, client) = app.user_and_client(client).await;
    let verifier = Pkce::s256().verifier;
    (app, client, verifier)
}

both_backends!(
    plain_pkce_works_when_allowed_by_configuration,
    |backend| async move {
        let confidential = TestClient::confidential(&["authorization_code"], "profile");
        let (app, client, verifier) = plain_pkce_setup(backend, confidential).await;
        let query = client.code_query_with_challenge("profile", &verifier, Some("plain"));
        let location = app.consent_redirect(&query, true).await;
        let code = query_param(&location, "code").unwrap();

        let response = client.redeem_code(&app, &code, Some(&verifier)).await;

        assert_token(response).await;
    }
);

both_backends!(
    public_clients_need_s256_even_when_plain_pkce_is_allowed,
    |backend| async move {
        let public = TestClient::public(&["authorization_code"], "profile");
        let (app, client, verifier) = plain_pkce_setup(backend, public).await;
        let query = client.code_query_with_challenge("profile", &verifier, Some("plain"));

        let response = app.get_authorize(&query).await;

        assert!(
            response.status().is_redirection(),
            "expected a redirect, got {}",
            response.status()
        );
        let location = app.location(&response);
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some("invalid_request"),
            "{location}"
        );
    }
);
