//! Rotating `TESSERA_SECRET_KEY` with `TESSERA_SECRET_KEY_PREVIOUS` (DESIGN §5): nobody is
//! signed out, a cookie under the previous secret comes back under the new one, signing keys
//! are re-sealed (not replaced), and a cookie under any other key counts as signed out.

use jsonwebtoken::Algorithm;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{
    assert_tokens, both_backends, id_token, session_cookie, session_set_cookies, spawn_app_with,
    Backend, TestApp, TestClient, TestUser,
};

/// The secret before the rotation.
const OLD_SECRET: &str = "the secret Tessera started with, 32 bytes or more";
/// The secret after it.
const NEW_SECRET: &str = "the secret that replaces it, also 32 bytes or more";
/// A secret of another deployment.
const UNRELATED_SECRET: &str = "a secret this deployment never had, 32+ bytes";

/// A server with `secret`, and a user signed up there: the user and the session cookie
/// their sign-up set.
async fn signed_up_under(backend: Backend, secret: &str) -> (TestApp, TestUser, String) {
    let app = spawn_app_with(backend, &[("TESSERA_SECRET_KEY", secret)]).await;
    let user = TestUser::generate();
    let response = app.signup(&user.username, &user.password).await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let cookie = session_cookie(&response).expect("sign-up sets the session cookie");
    (app, user, cookie)
}

/// `/account` with only `cookie`: the page shows `user` (signed in), or it sends the browser
/// to sign in.
async fn account(app: &TestApp, cookie: &str) -> Response {
    app.get_with_session_cookie("/account", cookie).await
}

async fn assert_signed_in(response: Response, user: &TestUser, why: &str) {
    assert_eq!(response.status(), StatusCode::OK, "{why}");
    let page = response.text().await.expect("body");
    assert!(page.contains(&user.username), "{why}: {page}");
}

fn assert_signed_out(response: &Response, why: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{why}");
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(location.starts_with("/login"), "{why}: {location}");
}

fn kids(jwks: &Value) -> Vec<String> {
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("a keys array")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect();
    kids.sort();
    kids
}

both_backends!(
    after_a_secret_rotation_sessions_and_id_tokens_stay_valid,
    |backend| async move {
        let (old, user, old_cookie) = signed_up_under(backend, OLD_SECRET).await;
        let client = TestClient::confidential(&["authorization_code"], "openid profile")
            .register(&old)
            .await;
        let code = client.authorization_code(&old, "openid", None).await;
        let tokens = assert_tokens(client.redeem_code(&old, &code, None).await).await;
        let id_token = tokens["id_token"].as_str().expect("an id_token").to_owned();
        let (_, jwks_before) = old.get_jwks().await;

        // Restarted with the new secret, the previous one still accepted.
        let rotated = old
            .another_process_with(&[
                ("TESSERA_SECRET_KEY", NEW_SECRET),
                ("TESSERA_SECRET_KEY_PREVIOUS", OLD_SECRET),
            ])
            .await;
        let response = account(&rotated, &old_cookie).await;
        let reissued = session_set_cookies(&response);
        assert_eq!(
            reissued.len(),
            1,
            "the cookie is re-issued once: {reissued:?}"
        );
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(reissued[0].contains(attribute), "{}", reissued[0]);
        }
        let new_cookie = session_cookie(&response).expect("a re-issued cookie");
        assert_ne!(new_cookie, old_cookie);
        assert_signed_in(response, &user, "the old cookie, with the previous secret").await;
        let again = account(&rotated, &new_cookie).await;
        assert!(
            session_set_cookies(&again).is_empty(),
            "a cookie under the new key needs no re-issue"
        );
        assert_signed_in(again, &user, "the re-issued cookie, with both secrets").await;

        // The previous secret is needed no more: the keys were re-sealed at the restart.
        let new_only = old
            .another_process_with(&[("TESSERA_SECRET_KEY", NEW_SECRET)])
            .await;
        assert_signed_in(
            account(&new_only, &new_cookie).await,
            &user,
            "the re-issued cookie, with the new secret alone",
        )
        .await;
        assert_signed_out(
            &account(&new_only, &old_cookie).await,
            "the old cookie, once the previous secret is gone",
        );
        let (_, jwks_after) = new_only.get_jwks().await;
        assert_eq!(
            kids(&jwks_after),
            kids(&jwks_before),
            "the same signing keys"
        );
        let (_, claims) = id_token::verify(
            &id_token,
            &jwks_after,
            Algorithm::RS256,
            &old.address,
            &client.id,
        );
        assert!(claims["sub"].is_string(), "{claims}");
    }
);

both_backends!(
    a_cookie_under_an_unrelated_key_is_signed_out_without_an_error,
    |backend| async move {
        let (_other, _, foreign_cookie) = signed_up_under(backend, UNRELATED_SECRET).await;
        let rotated = spawn_app_with(
            backend,
            &[
                ("TESSERA_SECRET_KEY", NEW_SECRET),
                ("TESSERA_SECRET_KEY_PREVIOUS", OLD_SECRET),
            ],
        )
        .await;
        let response = account(&rotated, &foreign_cookie).await;
        assert!(session_set_cookies(&response).is_empty());
        assert_signed_out(&response, "a cookie under neither secret");
        let home = rotated.get_with_session_cookie("/", &foreign_cookie).await;
        assert_eq!(home.status(), StatusCode::OK);
    }
);
