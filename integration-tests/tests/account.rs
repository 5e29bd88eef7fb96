//! The account page (`/account`): remembered consents, listed and withdrawn (DESIGN §4
//! "remembered consent").

use reqwest::StatusCode;

use crate::helpers::{
    app_with_user_and_client, assert_oauth_error, assert_tokens, both_backends, html, query_param,
    RegisteredClient, TestApp, TestClient,
};

/// A signed-in user who approved a confidential client for `profile`, and the tokens the
/// client got for it.
async fn approved(backend: crate::helpers::Backend) -> (TestApp, RegisteredClient, String, String) {
    let client = TestClient::confidential(&["authorization_code", "refresh_token"], "profile");
    let (app, _, client) = app_with_user_and_client(backend, client).await;
    let code = client.authorization_code(&app, "profile", None).await;
    let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
    let refresh = tokens.refresh.clone().expect("a refresh token");
    (app, client, tokens.access, refresh)
}

/// The `/oauth/authorize` answer for `prompt=none`: the `error` or `code` it redirects with.
async fn silent_authorize(
    app: &TestApp,
    client: &RegisteredClient,
) -> (Option<String>, Option<String>) {
    let mut query = client.code_query("profile", None);
    query.push(("prompt", "none"));
    let response = app.get_authorize(&query).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = app.location(&response);
    (
        query_param(&location, "error"),
        query_param(&location, "code"),
    )
}

fn revoke_path(client: &RegisteredClient) -> String {
    format!("/account/apps/{}/revoke", client.id)
}

both_backends!(
    the_account_page_lists_an_approved_app_and_revoking_it_ends_its_tokens,
    |backend| async move {
        let (app, client, access, refresh) = approved(backend).await;
        let (error, code) = silent_authorize(&app, &client).await;
        assert_eq!(error, None, "a remembered consent lets prompt=none succeed");
        assert!(code.is_some());

        let page = app.get_html("/account").await;
        assert!(page.contains(&revoke_path(&client)), "{page}");
        assert!(page.contains("<code>profile</code>"), "{page}");

        let csrf = html::input_value(&page, "csrf_token").expect("a csrf_token");
        let response = app
            .post_form(&revoke_path(&client), &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.location(&response).path(), "/account");
        let after = app.follow(response).await.text().await.expect("body");
        assert_eq!(
            html::element_text(&after, "flash").as_deref(),
            Some("Access revoked: the app's tokens no longer work."),
            "{after}"
        );

        app.assert_api_me_unauthorized(&access).await;
        assert_oauth_error(
            client.refresh(&app, &refresh, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        let page = app.get_html("/account").await;
        assert!(!page.contains(&revoke_path(&client)), "{page}");
        let (error, _) = silent_authorize(&app, &client).await;
        assert_eq!(error.as_deref(), Some("consent_required"));
    }
);

both_backends!(
    revoking_needs_the_csrf_token_and_an_app_the_user_approved,
    |backend| async move {
        let (app, client, access, _) = approved(backend).await;
        let forged = app.post_form(&revoke_path(&client), &[]).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        // Another user has approved nothing: 404, and the first user's tokens still work.
        let stranger = app.another_browser();
        stranger.signed_up_user().await;
        let csrf = stranger.csrf_token("/account").await;
        let response = stranger
            .post_form(&revoke_path(&client), &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        app.assert_api_me_ok(&access).await;
    }
);

both_backends!(
    a_signed_out_visitor_is_sent_to_sign_in,
    |backend| async move {
        let app = crate::helpers::spawn_app(backend).await;
        let response = app.get_page("/account").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = app.location(&response);
        assert_eq!(location.path(), "/login");
        assert_eq!(query_param(&location, "next").as_deref(), Some("/account"));
    }
);
