//! Registering and managing OAuth clients through the pages.

use reqwest::StatusCode;

use crate::helpers::fixtures::tokens;
use crate::helpers::{
    assert_api_me_ok, assert_oauth_error, both_backends, html, spawn_app, TestApp, TestClient,
};

async fn client_credentials_works(app: &TestApp, id: &str, secret: &str) -> StatusCode {
    app.post_token(
        &[("grant_type", "client_credentials"), ("scope", "profile")],
        Some((id, secret)),
    )
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
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let secret = client.secret.clone().unwrap();

        let page = client
            .owner
            .get_html(&format!("/clients/{}", client.id))
            .await;

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
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let secret = client.secret.clone().unwrap();
        let intruder = app.another_browser();
        intruder.signed_up_user().await;
        let csrf = intruder.csrf_token("/create_client").await;

        let view = intruder.get_page(&format!("/clients/{}", client.id)).await;
        let delete = intruder
            .post_form(
                &format!("/clients/{}/delete", client.id),
                &[("csrf_token", &csrf)],
            )
            .await;
        let rotate = intruder
            .post_form(
                &format!("/clients/{}/rotate_secret", client.id),
                &[("csrf_token", &csrf)],
            )
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
            client_credentials_works(&app, &client.id, &secret).await,
            StatusCode::OK,
            "the owner's secret changed"
        );
        let _ = client
            .owner
            .get_html(&format!("/clients/{}", client.id))
            .await;
    }
);

both_backends!(
    rotate_secret_shows_a_new_secret_and_the_old_one_stops_working,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let old = client.secret.clone().unwrap();
        let path = format!("/clients/{}", client.id);
        let csrf = client.owner.csrf_token(&path).await;

        let without_csrf = client
            .owner
            .post_form(&format!("{path}/rotate_secret"), &[])
            .await;
        assert!(
            without_csrf.status().is_client_error(),
            "{}",
            without_csrf.status()
        );
        assert_eq!(
            client_credentials_works(&app, &client.id, &old).await,
            StatusCode::OK
        );

        let response = client
            .owner
            .post_form(&format!("{path}/rotate_secret"), &[("csrf_token", &csrf)])
            .await;
        let response = client.owner.follow(response).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.unwrap();
        let new = html::element_text(&page, "client_secret")
            .unwrap_or_else(|| panic!("no id=\"client_secret\" after rotation: {page}"));

        assert_ne!(new, old);
        let refused = app
            .post_token(
                &[("grant_type", "client_credentials"), ("scope", "profile")],
                Some((&client.id, &old)),
            )
            .await;
        assert_oauth_error(refused, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert_eq!(
            client_credentials_works(&app, &client.id, &new).await,
            StatusCode::OK
        );
        let later = client.owner.get_html(&path).await;
        assert!(!later.contains(&new), "the new secret is shown twice");
    }
);

both_backends!(deleting_a_client_stops_its_tokens, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let client = TestClient::confidential(&["password", "refresh_token"], "profile")
        .register(&app)
        .await;
    let body = client.password_token(&app, &user, "profile").await;
    let (access, refresh) = tokens(&body);
    assert_api_me_ok(&app, &access).await;
    let path = format!("/clients/{}", client.id);
    let csrf = client.owner.csrf_token(&path).await;

    let without_csrf = client.owner.post_form(&format!("{path}/delete"), &[]).await;
    assert!(
        without_csrf.status().is_client_error(),
        "{}",
        without_csrf.status()
    );
    assert_api_me_ok(&app, &access).await;

    let response = client
        .owner
        .post_form(&format!("{path}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "{}",
        response.status()
    );

    let me = app.get_api_me(&access).await;
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "a deleted client's token works"
    );
    assert_eq!(
        client.owner.get_page(&path).await.status(),
        StatusCode::NOT_FOUND
    );
    let refreshed = client.refresh(&app, &refresh.unwrap(), None).await;
    assert!(
        refreshed.status().is_client_error(),
        "{}",
        refreshed.status()
    );
    let again = client
        .post_token(
            &app,
            &[
                ("grant_type", "password"),
                ("username", &user.username),
                ("password", &user.password),
                ("scope", "profile"),
            ],
        )
        .await;
    assert_oauth_error(again, StatusCode::UNAUTHORIZED, "invalid_client").await;
});

both_backends!(
    created_client_works_at_the_token_endpoint,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;

        let body = client.client_credentials_token(&app, "profile").await;

        assert_eq!(body["token_type"], "Bearer");
        let home = client.owner.get_html("/").await;
        assert!(
            home.contains(&client.id),
            "the owner's home lacks the client"
        );
    }
);
