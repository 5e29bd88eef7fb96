//! Configurable lifetimes and switches (`TESSERA_*_TTL`, grace period, plain PKCE).

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::fixtures::{tokens, RegisteredClient};
use crate::helpers::{
    assert_api_me_ok, assert_oauth_error, assert_token, both_backends, query_param, spawn_app_with,
    Backend, TestApp, TestClient,
};

both_backends!(an_expired_code_is_invalid_grant, |backend| async move {
    let app = spawn_app_with(backend, &[("TESSERA_CODE_TTL", "1")]).await;
    app.signed_up_user().await;
    let client = TestClient::confidential(&["authorization_code"], "profile")
        .register(&app)
        .await;
    let code = client.authorization_code(&app, "profile", None).await;

    tokio::time::sleep(Duration::from_secs(2)).await;
    let response = client.redeem_code(&app, &code, None).await;

    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
});

both_backends!(
    an_expired_refresh_token_is_invalid_grant,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_REFRESH_TOKEN_TTL", "1")]).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (_, refresh) = tokens(&client.password_token(&app, &user, "profile").await);

        tokio::time::sleep(Duration::from_secs(2)).await;
        let response = client.refresh(&app, &refresh.unwrap(), None).await;

        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
);

both_backends!(
    a_retry_within_the_reuse_grace_period_rotates_again_without_revoking,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_REFRESH_REUSE_GRACE_SECONDS", "30")]).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (_, old) = tokens(&client.password_token(&app, &user, "profile").await);
        let old = old.unwrap();
        let _first = assert_token(client.refresh(&app, &old, None).await).await;

        let retry = assert_token(client.refresh(&app, &old, None).await).await;

        let (access, refresh) = tokens(&retry);
        assert_api_me_ok(&app, &access).await;
        assert_token(client.refresh(&app, &refresh.unwrap(), None).await).await;
    }
);

/// A signed-in browser on a server that allows PKCE `plain`, `client` registered there, and
/// the authorization query for it with a `plain` challenge (the verifier itself).
async fn plain_pkce_setup(
    backend: Backend,
    client: TestClient,
) -> (TestApp, RegisteredClient, String) {
    let app = spawn_app_with(backend, &[("TESSERA_PKCE_ALLOW_PLAIN", "1")]).await;
    app.signed_up_user().await;
    let client = client.register(&app).await;
    let verifier = crate::helpers::Pkce::s256().verifier;
    (app, client, verifier)
}

/// `client`'s code-flow query with `verifier` as a PKCE `plain` challenge.
fn plain_pkce_query<'a>(
    client: &'a RegisteredClient,
    verifier: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut query = client.code_query("profile", None);
    query.push(("code_challenge", verifier));
    query.push(("code_challenge_method", "plain"));
    query
}

both_backends!(
    plain_pkce_works_when_allowed_by_configuration,
    |backend| async move {
        let confidential = TestClient::confidential(&["authorization_code"], "profile");
        let (app, client, verifier) = plain_pkce_setup(backend, confidential).await;
        let response = app
            .consent(&plain_pkce_query(&client, &verifier), true)
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let code = query_param(&app.location(&response), "code").unwrap();

        let response = client.redeem_code(&app, &code, Some(&verifier)).await;

        assert_token(response).await;
    }
);

both_backends!(
    public_clients_need_s256_even_when_plain_pkce_is_allowed,
    |backend| async move {
        let public = TestClient::public(&["authorization_code"], "profile");
        let (app, client, verifier) = plain_pkce_setup(backend, public).await;

        let response = app
            .get_authorize(&plain_pkce_query(&client, &verifier))
            .await;

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
