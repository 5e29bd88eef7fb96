//! Registering and managing OAuth clients through the pages.

use reqwest::StatusCode;

use crate::helpers::{
    app_with_client, app_with_password_tokens, assert_oauth_error, both_backends, html, spawn_app,
    Backend, RegisteredClient, TestApp, TestClient,
};

/// A fresh server and a `client_credentials` client registered there.
async fn app_with_cc_client(backend: Backend) -> (TestApp, RegisteredClient) {
    app_with_client(
        backend,
        TestClient::confidential(&["client_credentials"], "profile"),
    )
    .await
}

/// A create-client form that passes, with `field` set to `value` (added when absent).
fn create_form<'a>(field: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("client_name", "Photo app"),
        ("redirect_uris", "https://photos.example/cb"),
        ("grant_types", "authorization_code"),
        ("response_types", "code"),
        ("scope", "profile"),
        ("token_endpoint_auth_method", "client_secret_basic"),
    ];
    match form.iter_mut().find(|(name, _)| *name == field) {
        Some(pair) => pair.1 = value,
        None => form.push((field, value)),
    }
    form
}

/// The status of a `client_credentials` request by `client` presenting `secret`.
async fn client_credentials_status(
    app: &TestApp,
    client: &RegisteredClient,
    secret: &str,
) -> StatusCode {
    client
        .with_secret(secret)
        .client_credentials(app, "profile")
        .await
        .status()
}

both_backends!(create_client_requires_sign_in, |backend| async move {
    let app = spawn_app(backend).await;

    let page = app.get_page("/create_client").await;
    let post = app
        .post_form(
            "/create_client",
            &[
                ("client_name", "x"),
                ("redirect_uris", "https://client.example/cb"),
                ("grant_types", "authorization_code"),
                ("response_types", "code"),
                ("scope", "profile"),
                ("token_endpoint_auth_method", "client_secret_basic"),
            ],
        )
        .await;

    for response in [page, post] {
        let status = response.status();
        if status.is_redirection() {
            assert_eq!(app.location(&response).path(), "/login");
        } else {
            assert!(status.is_client_error(), "expected sign-in, got {status}");
            let body = response.text().await.unwrap();
            assert!(!body.contains("id=\"client_id\""), "{body}");
        }
    }
});

both_backends!(
    client_page_shows_the_secret_only_once,
    |backend| async move {
        let (_app, client) = app_with_cc_client(backend).await;
        let secret = client.secret.clone().unwrap();

        let page = client.owner.get_html(&client.page()).await;

        assert!(
            page.contains(&client.id),
            "client page lacks the id: {page}"
        );
        assert!(!page.contains(&secret), "the secret is shown again: {page}");
        assert!(html::element_text(&page, "client_secret").is_none_or(|s| s != secret));
        let home = client.owner.get_html("/").await;
        assert!(!home.contains(&secret), "the home page shows the secret");
    }
);

both_backends!(
    another_users_client_is_not_found_and_stays_unchanged,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend).await;
        let secret = client.secret.clone().unwrap();
        let intruder = app.another_browser();
        intruder.signed_up_user().await;
        let csrf = intruder.csrf_token("/create_client").await;

        let view = intruder.get_page(&client.page()).await;
        let delete = client.manage_from(&intruder, "delete", Some(&csrf)).await;
        let rotate = client
            .manage_from(&intruder, "rotate_secret", Some(&csrf))
            .await;

        for (what, response) in [("view", view), ("delete", delete), ("rotate", rotate)] {
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {body}");
            assert!(!body.contains(&secret), "{what} revealed the secret");
            assert!(
                !body.contains("id=\"client_secret\""),
                "{what} showed a secret"
            );
        }
        assert_eq!(
            client_credentials_status(&app, &client, &secret).await,
            StatusCode::OK,
            "the owner's secret changed"
        );
        let _ = client.owner.get_html(&client.page()).await;
    }
);

both_backends!(
    rotate_secret_shows_a_new_secret_and_the_old_one_stops_working,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend).await;
        let old = client.secret.clone().unwrap();
        let csrf = client.owner.csrf_token(&client.page()).await;

        let without_csrf = client.manage("rotate_secret", None).await;
        assert!(
            without_csrf.status().is_client_error(),
            "{}",
            without_csrf.status()
        );
        assert_eq!(
            client_credentials_status(&app, &client, &old).await,
            StatusCode::OK
        );

        let response = client.manage("rotate_secret", Some(&csrf)).await;
        let response = client.owner.follow(response).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.unwrap();
        let new = html::element_text(&page, "client_secret")
            .unwrap_or_else(|| panic!("no id=\"client_secret\" after rotation: {page}"));

        assert_ne!(new, old);
        let refused = client
            .with_secret(&old)
            .client_credentials(&app, "profile")
            .await;
        assert_oauth_error(refused, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert_eq!(
            client_credentials_status(&app, &client, &new).await,
            StatusCode::OK
        );
        let later = client.owner.get_html(&client.page()).await;
        assert!(!later.contains(&new), "the new secret is shown twice");
    }
);

both_backends!(deleting_a_client_stops_its_tokens, |backend| async move {
    let client = TestClient::confidential(&["password", "refresh_token"], "profile");
    let (app, user, client, tokens) = app_with_password_tokens(backend, client, "profile").await;
    app.assert_api_me_ok(&tokens.access).await;
    let csrf = client.owner.csrf_token(&client.page()).await;

    let without_csrf = client.manage("delete", None).await;
    assert!(
        without_csrf.status().is_client_error(),
        "{}",
        without_csrf.status()
    );
    app.assert_api_me_ok(&tokens.access).await;

    let response = client.manage("delete", Some(&csrf)).await;
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "{}",
        response.status()
    );

    app.assert_api_me_status(
        &tokens.access,
        StatusCode::UNAUTHORIZED,
        "a deleted client's token works",
    )
    .await;
    assert_eq!(
        client.owner.get_page(&client.page()).await.status(),
        StatusCode::NOT_FOUND
    );
    let refreshed = client.refresh(&app, tokens.refresh_token(), None).await;
    assert!(
        refreshed.status().is_client_error(),
        "{}",
        refreshed.status()
    );
    let again = client.password_grant(&app, &user, "profile").await;
    assert_oauth_error(again, StatusCode::UNAUTHORIZED, "invalid_client").await;
});

both_backends!(
    created_client_works_at_the_token_endpoint,
    |backend| async move {
        let (app, client) = app_with_cc_client(backend).await;

        let body = client.client_credentials_token(&app, "profile").await;

        assert_eq!(body["token_type"], "Bearer");
        let home = client.owner.get_html("/").await;
        assert!(
            home.contains(&client.id),
            "the owner's home lacks the client"
        );
    }
);

both_backends!(
    deleting_asks_for_confirmation_and_leaves_a_message_shown_once,
    |backend| async move {
        let (_, client) = app_with_cc_client(backend).await;
        let page = client.owner.get_html(&client.page()).await;
        assert!(
            page.contains(r#"<details class="confirm">"#),
            "the delete button sits behind a confirmation: {page}"
        );
        let csrf = client.owner.csrf_token(&client.page()).await;
        let response = client.manage("delete", Some(&csrf)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let home = client
            .owner
            .follow(response)
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(
            html::element_text(&home, "flash").as_deref(),
            Some("Client deleted, with every code and token it held."),
            "{home}"
        );
        let again = client.owner.get_html("/").await;
        assert!(!again.contains(r#"id="flash""#), "shown twice: {again}");
    }
);

both_backends!(
    the_create_form_offers_grant_and_response_types_as_checkboxes,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let form = app.get_html("/create_client").await;
        for (name, value, ticked) in [
            ("grant_types", "authorization_code", true),
            ("grant_types", "refresh_token", false),
            (
                "grant_types",
                "urn:ietf:params:oauth:grant-type:device_code",
                false,
            ),
            ("response_types", "code", true),
            ("response_types", "token", false),
        ] {
            let tag = format!(r#"<input type="checkbox" name="{name}" value="{value}""#);
            let at = form
                .find(&tag)
                .unwrap_or_else(|| panic!("no {name} checkbox {value}: {form}"));
            let rest = &form[at..at + form[at..].find('>').expect("the tag ends")];
            assert_eq!(rest.contains("checked"), ticked, "{rest}");
        }
        // Ticked boxes arrive as repeated fields.
        let (id, secret) = app
            .create_client(&[
                ("client_name", "Ticked"),
                ("redirect_uris", "https://client.example/cb"),
                ("grant_types", "authorization_code"),
                ("grant_types", "refresh_token"),
                ("response_types", "code"),
                ("scope", "profile"),
            ])
            .await;
        assert!(secret.is_some());
        let page = app.get_html(&format!("/clients/{id}")).await;
        assert!(page.contains("authorization_code, refresh_token"), "{page}");
        // A refused form comes back with the boxes as they were ticked.
        let refused = app
            .post_create_client(&[
                ("client_name", "Ticked"),
                ("redirect_uris", "http://not-loopback.example/cb"),
                ("grant_types", "authorization_code"),
                ("grant_types", "refresh_token"),
            ])
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let again = refused.text().await.expect("body");
        let tag = r#"value="refresh_token" checked"#;
        assert!(again.contains(tag), "{again}");
    }
);

both_backends!(
    a_refused_field_gets_its_error_next_to_it_and_the_form_keeps_the_input,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let long_name = "n".repeat(101);
        for (field, value, error) in [
            (
                "client_name",
                long_name.as_str(),
                "must be 1 to 100 characters",
            ),
            (
                "client_uri",
                "ftp://photos.example",
                "must be an http(s) URL",
            ),
            (
                "logo_uri",
                "https://photos.example/a logo.png",
                "must not contain spaces",
            ),
            (
                "contacts",
                "ops team@photos.example",
                "each must be 1 to 254 characters",
            ),
            (
                "redirect_uris",
                "http://photos.example/cb",
                "each URI must use https",
            ),
            (
                "scope",
                "profile \"all\"",
                "contains a character RFC 6749 does not allow",
            ),
            (
                "grant_types",
                "client_credentials",
                "the response type code and the grant type authorization_code go together",
            ),
        ] {
            let response = app.post_create_client(&create_form(field, value)).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
            let page = response.text().await.expect("body");
            let id = format!("{field}_error");
            let shown = html::element_text(&page, &id)
                .unwrap_or_else(|| panic!("no error next to {field}: {page}"));
            assert!(
                shown.to_lowercase().contains(&error.to_lowercase()),
                "{field}: {shown}"
            );
            assert!(shown.ends_with('.'), "{field}: {shown}");
            assert_eq!(
                page.matches("class=\"error\"").count(),
                1,
                "{field}: one error"
            );
            if field == "grant_types" {
                // Checkboxes: the fieldset holding them is marked, and the ticks stay.
                assert!(
                    page.contains(&format!(
                        "<fieldset aria-invalid=\"true\" aria-describedby=\"{id}\">"
                    )),
                    "{page}"
                );
                assert!(
                    page.contains("value=\"client_credentials\" checked"),
                    "{page}"
                );
            } else {
                assert_eq!(
                    html::attr_of(&page, field, "aria-describedby").as_deref(),
                    Some(id.as_str()),
                    "{field}"
                );
                assert_eq!(
                    html::element_text(&page, field).as_deref(),
                    Some(value.trim()),
                    "{field} kept"
                );
            }
            assert!(
                !page.contains("id=\"client_secret\""),
                "{field}: registered anyway"
            );
        }
    }
);
