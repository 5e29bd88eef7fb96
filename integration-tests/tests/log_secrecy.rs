//! Nothing secret reaches the log: every flow that handles a password, a client secret, a
//! code, a code verifier, a token, the session cookie or the server's secret keys (rotated,
//! so signing keys are re-sealed and a cookie re-issued) runs with the log captured at
//! TRACE/DEBUG ([`captured_log`]), and none of those values shows up in it, not even
//! percent-decoded. The warnings the flows must raise are there, naming this test's client,
//! which proves the capture saw this test's requests.

use percent_encoding::percent_decode_str;
use reqwest::StatusCode;

use crate::helpers::log_capture::captured_log;
use crate::helpers::{
    assert_oauth_error, assert_tokens, both_backends, session_cookie, spawn_app_with, unique_name,
    Pkce, TestClient, TestUser,
};

/// A value nobody else in the test binary uses: 256 random bits as 64 hex digits.
fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The values that must never be logged, each with what it is.
#[derive(Default)]
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn add(&mut self, what: &'static str, value: impl Into<String>) {
        let value = value.into();
        assert!(
            value.len() >= 16,
            "{what} is too short to look for: {value:?}"
        );
        self.0.push((what, value));
    }

    /// Asserts none of them is in `log`, as they are or percent-decoded.
    fn assert_absent_from(&self, log: &str) {
        for (what, value) in &self.0 {
            let decoded = percent_decode_str(value).decode_utf8_lossy();
            assert!(
                !log.contains(value.as_str()) && !log.contains(decoded.as_ref()),
                "the {what} appears in the log"
            );
        }
    }
}

/// Asserts some line of `log` has every one of `parts`.
fn assert_logged(log: &str, parts: &[&str]) {
    assert!(
        log.lines()
            .any(|line| parts.iter().all(|part| line.contains(part))),
        "no log line has all of {parts:?}"
    );
}

both_backends!(
    no_password_secret_code_token_or_cookie_is_logged,
    |backend| async move {
        let log = captured_log();
        let mut secrets = Secrets::default();
        let secret_key = random_secret();
        let previous_key = random_secret();
        secrets.add("TESSERA_SECRET_KEY", secret_key.clone());
        secrets.add("TESSERA_SECRET_KEY_PREVIOUS", previous_key.clone());
        // Sign-up under the previous secret; then the server restarts with the new one.
        let before = spawn_app_with(backend, &[("TESSERA_SECRET_KEY", &previous_key)]).await;
        let user = TestUser {
            username: unique_name("logged"),
            password: random_secret(),
            email: None,
        };
        secrets.add("password", user.password.clone());
        let response = before.signup(&user.username, &user.password).await;
        assert!(response.status().is_redirection(), "{}", response.status());
        let old_cookie = session_cookie(&response).expect("a session cookie");
        secrets.add("sign-up session cookie", old_cookie.clone());
        let app = before
            .another_process_with(&[
                ("TESSERA_SECRET_KEY", &secret_key),
                ("TESSERA_SECRET_KEY_PREVIOUS", &previous_key),
            ])
            .await;
        let response = app.get_with_session_cookie("/", &old_cookie).await;
        assert_eq!(response.status(), StatusCode::OK);
        secrets.add(
            "re-issued session cookie",
            session_cookie(&response).expect("the cookie is re-issued"),
        );

        // A sign-in and a failed sign-in, with passwords of their own.
        let response = app.login(&user.username, &user.password, None).await;
        assert!(response.status().is_redirection(), "{}", response.status());
        secrets.add(
            "sign-in session cookie",
            session_cookie(&response).expect("a session cookie"),
        );
        secrets.add("CSRF token", app.csrf_token("/").await);
        let wrong_password = random_secret();
        secrets.add("wrong password", wrong_password.clone());
        let response = app
            .another_browser()
            .login(&user.username, &wrong_password, None)
            .await;
        assert!(!response.status().is_redirection(), "{}", response.status());

        // A client made on the page, and its secret.
        let client = TestClient::confidential(
            &[
                "authorization_code",
                "refresh_token",
                "password",
                "client_credentials",
            ],
            "openid profile",
        )
        .register_as(&app)
        .await;
        secrets.add(
            "client secret",
            client.secret.clone().expect("a confidential client"),
        );

        // The code flow with PKCE, and the code presented again.
        let pkce = Pkce::s256();
        secrets.add("code verifier", pkce.verifier.clone());
        let code = client
            .authorization_code(&app, "openid profile", Some(&pkce))
            .await;
        secrets.add("authorization code", code.clone());
        let tokens =
            assert_tokens(client.redeem_code(&app, &code, Some(&pkce.verifier)).await).await;
        secrets.add("access token (code)", tokens.access.clone());
        secrets.add("refresh token (code)", tokens.refresh_token());
        secrets.add(
            "ID token",
            tokens["id_token"].as_str().expect("an id_token"),
        );
        app.assert_userinfo_ok(&tokens.access).await;
        assert_oauth_error(
            client.redeem_code(&app, &code, Some(&pkce.verifier)).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;

        // The password grant, a refresh, and the rotated refresh token presented again.
        let password_tokens = client.password_tokens(&app, &user, "profile").await;
        secrets.add("access token (password)", password_tokens.access.clone());
        secrets.add("refresh token (password)", password_tokens.refresh_token());
        app.assert_api_me_ok(&password_tokens.access).await;
        let refreshed = client
            .refreshed(&app, password_tokens.refresh_token(), None)
            .await;
        secrets.add("access token (refreshed)", refreshed.access.clone());
        secrets.add("refresh token (refreshed)", refreshed.refresh_token());
        assert_oauth_error(
            client
                .refresh(&app, password_tokens.refresh_token(), None)
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;

        // Client credentials, introspection, revocation, and a bearer call.
        let machine = client.client_credentials_token(&app, "profile").await;
        let machine_token = machine["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned();
        secrets.add("access token (client credentials)", machine_token.clone());
        let wrong_secret = random_secret();
        secrets.add("wrong client secret", wrong_secret.clone());
        assert_oauth_error(
            client
                .with_secret(&wrong_secret)
                .client_credentials(&app, "profile")
                .await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        )
        .await;
        let introspected = client.introspect(&app, &machine_token).await;
        assert_eq!(introspected["active"], true, "{introspected}");
        let response = client.post_revoke(&app, &[("token", &machine_token)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        app.assert_api_me_status(&machine_token, StatusCode::UNAUTHORIZED, "a revoked token")
            .await;
        let forged = random_secret();
        secrets.add("unknown bearer token", forged.clone());
        app.assert_api_me_unauthorized(&forged).await;

        let captured = log.contents();
        assert!(!captured.is_empty(), "nothing was captured");
        assert_logged(
            &captured,
            &["WARN", "authorization code presented again", &client.id],
        );
        assert_logged(
            &captured,
            &["WARN", "rotated refresh token presented again", &client.id],
        );
        assert_logged(&captured, &["sign-in refused: wrong username or password"]);
        assert_logged(&captured, &["WARN", "TESSERA_SECRET_KEY_PREVIOUS is set"]);
        assert_logged(
            &captured,
            &[
                "WARN",
                "signing keys re-sealed under the new secret",
                "count=3",
            ],
        );
        assert_logged(
            &captured,
            &["DEBUG", "path=/}", "re-issued under the current key"],
        );
        secrets.assert_absent_from(&captured);
    }
);
