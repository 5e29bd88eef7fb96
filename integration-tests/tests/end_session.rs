//! RP-Initiated Logout at `/oauth/logout` (OpenID Connect RP-Initiated Logout 1.0).

use reqwest::StatusCode;

use crate::helpers::{
    app_with_user_and_client, assert_tokens, both_backends, html, query_param, Backend,
    RegisteredClient, TestApp, TestClient,
};

const BYE: &str = "https://client.example/bye";

/// A signed-in browser, an OpenID client that registered [`BYE`], and an ID token for the user.
async fn signed_in_with_id_token(backend: Backend) -> (TestApp, RegisteredClient, String) {
    let client = TestClient::confidential(&["authorization_code"], "openid profile")
        .post_logout_redirect_uri(BYE);
    let (app, _, client) = app_with_user_and_client(backend, client).await;
    let code = client.authorization_code(&app, "openid", None).await;
    let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
    let id_token = tokens.body["id_token"]
        .as_str()
        .expect("an id_token")
        .to_owned();
    (app, client, id_token)
}

async fn logout(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.url("/oauth/logout"))
        .query(query)
        .send()
        .await
        .expect("GET /oauth/logout")
}

/// Whether the browser is still signed in (`/account` shows instead of sending to sign in).
async fn signed_in(app: &TestApp) -> bool {
    app.get_page("/account").await.status() == StatusCode::OK
}

both_backends!(
    a_hint_naming_the_user_signs_out_at_once_and_returns_with_state,
    |backend| async move {
        let (app, _, id_token) = signed_in_with_id_token(backend).await;
        assert!(signed_in(&app).await);
        let response = logout(
            &app,
            &[
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", BYE),
                ("state", "bye-state"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = app.location(&response);
        assert_eq!(location.as_str().split('?').next(), Some(BYE));
        assert_eq!(
            query_param(&location, "state").as_deref(),
            Some("bye-state")
        );
        assert!(!signed_in(&app).await);
    }
);

both_backends!(
    without_a_hint_the_user_confirms_first,
    |backend| async move {
        let (app, client, _) = signed_in_with_id_token(backend).await;
        let query = [
            ("client_id", client.id.as_str()),
            ("post_logout_redirect_uri", BYE),
        ];
        let response = logout(&app, &query).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.expect("body");
        assert!(signed_in(&app).await, "asking signs nobody out");
        let mut form = html::form_hidden_inputs(&page, "/oauth/logout");
        assert!(!form.is_empty(), "{page}");
        form.push(("confirm".into(), "yes".into()));
        let response = app
            .client
            .post(app.url("/oauth/logout"))
            .form(&form)
            .send()
            .await
            .expect("POST /oauth/logout");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.location(&response).as_str(), BYE);
        assert!(!signed_in(&app).await);
    }
);

both_backends!(
    an_unregistered_return_uri_or_a_forged_hint_is_an_error_page_and_signs_nobody_out,
    |backend| async move {
        let (app, _, id_token) = signed_in_with_id_token(backend).await;
        let mut parts: Vec<&str> = id_token.split('.').collect();
        parts[2] = "AAAA";
        let forged = parts.join(".");
        let cases: [&[(&str, &str)]; 4] = [
            &[
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            &[("post_logout_redirect_uri", BYE)],
            &[("id_token_hint", forged.as_str())],
            &[
                ("id_token_hint", id_token.as_str()),
                ("client_id", "another-client"),
            ],
        ];
        for query in cases {
            let response = logout(&app, query).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query:?}");
            assert!(response.headers().get("location").is_none(), "{query:?}");
        }
        assert!(signed_in(&app).await);
    }
);
