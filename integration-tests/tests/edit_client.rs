//! `GET,POST /clients/{client_id}/edit`: the owner changes a client's metadata, and the
//! change takes effect at once; a refusal keeps the form's input and names the field; other
//! users' clients are 404; the form needs its CSRF token.

use reqwest::StatusCode;

use crate::helpers::{
    app_with_user_and_client, both_backends, html, RegisteredClient, TestApp, TestClient,
};

/// A second redirect URI the edit adds.
const NEW_REDIRECT_URI: &str = "https://client.example/other-cb";

fn edit_path(client: &RegisteredClient) -> String {
    format!("/clients/{}/edit", client.id)
}

/// The edit form's fields, renaming the client to `name` with these redirect URIs, and
/// the CSRF token of `browser`'s session.
async fn edit_form(
    browser: &TestApp,
    client: &RegisteredClient,
    name: &str,
    redirect_uris: &str,
) -> Vec<(String, String)> {
    let page = browser.get_html(&edit_path(client)).await;
    let csrf = html::input_value(&page, "csrf_token").expect("a csrf_token on the edit page");
    [
        ("csrf_token", csrf.as_str()),
        ("client_name", name),
        ("redirect_uris", redirect_uris),
        ("grant_types", "authorization_code"),
        ("grant_types", "refresh_token"),
        ("response_types", "code"),
        ("scope", "profile"),
        ("token_endpoint_auth_method", "client_secret_basic"),
        ("contacts", "ops@client.example"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

/// `POST` of `form` to the edit page from `browser`.
async fn post_edit(
    browser: &TestApp,
    client: &RegisteredClient,
    form: &[(String, String)],
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post_form(&edit_path(client), &pairs).await
}

fn client() -> TestClient {
    TestClient::confidential(&["authorization_code", "refresh_token"], "profile")
}

both_backends!(
    an_owner_edits_a_client_and_a_new_redirect_uri_works_at_once,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, client()).await;
        let owner = &client.owner;
        let client_page = owner.get_html(&format!("/clients/{}", client.id)).await;
        assert!(
            client_page.contains(&format!("href=\"{}\"", edit_path(&client))),
            "{client_page}"
        );
        let form_page = owner.get_html(&edit_path(&client)).await;
        assert!(
            form_page.contains("client.example&#x2F;cb"),
            "prefilled: {form_page}"
        );
        assert!(
            form_page.contains("value=\"refresh_token\" checked"),
            "{form_page}"
        );
        assert!(
            form_page.contains("value=\"client_secret_basic\" selected"),
            "{form_page}"
        );

        let mut query = client.code_query("profile", None);
        for pair in &mut query {
            if pair.0 == "redirect_uri" {
                pair.1 = NEW_REDIRECT_URI;
            }
        }
        let before = app.get_authorize(&query).await;
        assert_eq!(
            before.status(),
            StatusCode::BAD_REQUEST,
            "not registered yet"
        );

        let uris = format!("{}\n{NEW_REDIRECT_URI}", client.redirect_uri);
        let form = edit_form(owner, &client, "Renamed app", &uris).await;
        let saved = post_edit(owner, &client, &form).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            owner.location(&saved).path(),
            format!("/clients/{}", client.id)
        );
        let shown = owner.get_html(&format!("/clients/{}", client.id)).await;
        assert!(
            shown.contains("Renamed app") && shown.contains("ops@client.example"),
            "{shown}"
        );
        assert!(
            !shown.contains("id=\"client_secret\""),
            "the secret is kept, not shown"
        );

        let code = client.authorization_code_for(&app, &query).await;
        assert!(!code.is_empty());
        let token = client
            .post_token(
                &app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", NEW_REDIRECT_URI),
                ],
            )
            .await;
        assert_eq!(
            token.status(),
            StatusCode::OK,
            "the kept secret still works"
        );
    }
);

both_backends!(
    a_bad_redirect_uri_is_shown_next_to_its_field_with_the_input_kept,
    |backend| async move {
        let (_, _, client) = app_with_user_and_client(backend, client()).await;
        let owner = &client.owner;
        let form = edit_form(
            owner,
            &client,
            "Kept name",
            "https://client.example/cb#fragment",
        )
        .await;
        let refused = post_edit(owner, &client, &form).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let page = refused.text().await.expect("body");
        assert!(page.contains("id=\"redirect_uris_error\""), "{page}");
        assert!(
            page.contains("aria-describedby=\"redirect_uris_error\""),
            "{page}"
        );
        assert!(page.contains("value=\"Kept name\""), "{page}");
        assert!(page.contains("ops@client.example"), "{page}");
        assert!(page.contains("cb#fragment</textarea>"), "{page}");
        let shown = owner.get_html(&format!("/clients/{}", client.id)).await;
        assert!(!shown.contains("Kept name"), "nothing changed: {shown}");
    }
);

both_backends!(
    another_users_client_is_not_found_and_the_form_needs_its_csrf_token,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, client()).await;
        // `app` is signed in as a user who does not own the client.
        assert_eq!(
            app.get_page(&edit_path(&client)).await.status(),
            StatusCode::NOT_FOUND
        );
        let csrf = app.csrf_token("/").await;
        let foreign = app
            .post_form(
                &edit_path(&client),
                &[
                    ("csrf_token", csrf.as_str()),
                    ("client_name", "Taken over"),
                    ("redirect_uris", "https://evil.example/cb"),
                ],
            )
            .await;
        assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

        let owner = &client.owner;
        let mut form = edit_form(owner, &client, "Forged", &client.redirect_uri).await;
        form.retain(|(name, _)| name != "csrf_token");
        let forged = post_edit(owner, &client, &form).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let shown = owner.get_html(&format!("/clients/{}", client.id)).await;
        assert!(
            !shown.contains("Forged") && !shown.contains("Taken over"),
            "{shown}"
        );

        let signed_out = app.another_browser();
        let redirected = signed_out.get_page(&edit_path(&client)).await;
        assert_eq!(redirected.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed_out.location(&redirected).path(), "/login");
    }
);
