//! Browser pages: sign-up, sign-in, sign-out, CSRF and cookies.

use reqwest::header::SET_COOKIE;
use reqwest::StatusCode;

use crate::helpers::{both_backends, spawn_app, spawn_app_with, unique_name, TestApp, TestUser};

async fn home_shows(app: &TestApp, username: &str) -> bool {
    app.get_html("/").await.contains(username)
}

/// Posts `form` to `path` in `browser` without a CSRF token and with a forged one; asserts
/// both are refused with 4xx and returns the two pages.
async fn refused_without_csrf(browser: &TestApp, path: &str, form: &[(&str, &str)]) -> Vec<String> {
    let mut pages = Vec::new();
    for csrf in [None, Some("forged")] {
        let mut full = form.to_vec();
        full.extend(csrf.map(|c| ("csrf_token", c)));
        let response = browser.post_form(path, &full).await;
        let status = response.status();
        assert!(status.is_client_error(), "{path} {csrf:?}: {status}");
        pages.push(response.text().await.expect("body"));
    }
    pages
}

both_backends!(
    sign_up_lands_signed_in_on_home_showing_the_username,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = TestUser::generate();

        let response = app.signup(&user.username, &user.password).await;

        assert!(response.status().is_redirection(), "{}", response.status());
        assert_eq!(app.location(&response).path(), "/");
        let home = app.get_html("/").await;
        assert!(home.contains(&user.username), "home: {home}");
        assert!(home.contains("/logout"), "no sign-out form: {home}");
    }
);

both_backends!(
    sign_up_with_a_password_over_72_bytes_is_refused_with_a_message,
    |backend| async move {
        let app = spawn_app(backend).await;
        let username = unique_name("user");
        let long = "é".repeat(37); // 74 bytes, 37 characters

        let response = app.signup(&username, &long).await;

        let status = response.status();
        let page = response.text().await.unwrap();
        assert!(status.is_client_error(), "expected 4xx, got {status}");
        let lower = page.to_lowercase();
        assert!(
            lower.contains("72") || lower.contains("long"),
            "no clear message: {page}"
        );
        assert!(!home_shows(&app, &username).await, "signed in anyway");
        // Nothing was created: the name is still free.
        let again = app.signup(&username, "short password").await;
        assert!(again.status().is_redirection(), "{}", again.status());
    }
);

both_backends!(
    sign_up_with_a_taken_username_is_refused,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let other = app.another_browser();

        let response = other.signup(&user.username, "another password").await;

        assert!(
            response.status().is_client_error(),
            "expected 4xx, got {}",
            response.status()
        );
        assert!(!home_shows(&other, &user.username).await);
        // The original password still works.
        let login = app.another_browser();
        let response = login.login(&user.username, &user.password, None).await;
        assert!(response.status().is_redirection());
        assert!(home_shows(&login, &user.username).await);
    }
);

both_backends!(
    login_with_the_right_password_signs_in,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let other = app.another_browser();

        let response = other.login(&user.username, &user.password, None).await;

        assert!(response.status().is_redirection(), "{}", response.status());
        assert_eq!(other.location(&response).path(), "/");
        assert!(home_shows(&other, &user.username).await);
    }
);

both_backends!(
    login_with_a_wrong_password_is_refused,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let other = app.another_browser();

        let response = other.login(&user.username, "wrong password", None).await;

        assert!(
            response.status().is_client_error(),
            "expected 4xx, got {}",
            response.status()
        );
        assert!(!home_shows(&other, &user.username).await);
    }
);

both_backends!(login_never_redirects_off_site, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let base = url::Url::parse(&app.address).unwrap();

    for next in [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "http:evil.example",
    ] {
        let browser = app.another_browser();
        let response = browser
            .login(&user.username, &user.password, Some(next))
            .await;
        assert!(
            response.status().is_redirection(),
            "next={next}: {}",
            response.status()
        );
        let target = browser.location(&response);
        assert_eq!(
            (target.host_str(), target.port()),
            (base.host_str(), base.port()),
            "next={next} redirected off-site to {target}"
        );
    }
});

both_backends!(login_follows_a_same_site_next_path, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let browser = app.another_browser();

    let response = browser
        .login(&user.username, &user.password, Some("/create_client"))
        .await;

    assert!(response.status().is_redirection());
    assert_eq!(browser.location(&response).path(), "/create_client");
});

both_backends!(logout_needs_the_csrf_token, |backend| async move {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;

    let missing = app.post_form("/logout", &[]).await;
    let wrong = app
        .post_form("/logout", &[("csrf_token", "not-the-token")])
        .await;

    assert!(missing.status().is_client_error(), "{}", missing.status());
    assert!(wrong.status().is_client_error(), "{}", wrong.status());
    assert!(home_shows(&app, &user.username).await, "signed out anyway");

    let response = app.logout().await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(!home_shows(&app, &user.username).await, "still signed in");
});

both_backends!(
    post_forms_without_or_with_a_wrong_csrf_token_are_rejected_and_change_nothing,
    |backend| async move {
        let app = spawn_app(backend).await;

        // Sign-up: no user is created.
        let browser = app.another_browser();
        let _ = browser.get_html("/signup").await;
        let username = unique_name("user");
        let credentials = [("username", username.as_str()), ("password", "pw pw pw pw")];
        refused_without_csrf(&browser, "/signup", &credentials).await;
        assert!(!home_shows(&browser, &username).await);
        let created = browser.signup(&username, "pw pw pw pw").await;
        assert!(
            created.status().is_redirection(),
            "the name was taken by a rejected form"
        );

        // Login: nobody is signed in.
        let login = app.another_browser();
        let _ = login.get_html("/login").await;
        refused_without_csrf(&login, "/login", &credentials).await;
        assert!(!home_shows(&login, &username).await);

        // Create client: nothing is registered.
        let name = unique_name("client");
        let form = [
            ("client_name", name.as_str()),
            ("client_uri", "https://client.example"),
            ("redirect_uris", "https://client.example/cb"),
            ("grant_types", "authorization_code"),
            ("response_types", "code"),
            ("scope", "profile"),
            ("token_endpoint_auth_method", "client_secret_basic"),
        ];
        for page in refused_without_csrf(&browser, "/create_client", &form).await {
            assert!(
                !page.contains("id=\"client_secret\""),
                "a client was shown: {page}"
            );
        }
        assert!(
            !browser.get_html("/").await.contains(&name),
            "a client was created"
        );
    }
);

both_backends!(
    every_cookie_is_http_only_and_same_site_lax,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = TestUser::generate();
        let mut cookies: Vec<String> = Vec::new();

        let mut collect = |response: &reqwest::Response| {
            for value in response.headers().get_all(SET_COOKIE) {
                cookies.push(value.to_str().unwrap().to_owned());
            }
        };
        collect(&app.get_page("/").await);
        collect(&app.get_page("/signup").await);
        collect(&app.signup(&user.username, &user.password).await);
        collect(&app.get_page("/").await);
        collect(&app.get_page("/create_client").await);
        collect(&app.logout().await);
        collect(&app.get_page("/login").await);
        collect(&app.login(&user.username, &user.password, None).await);
        collect(&app.login(&user.username, "wrong", None).await);

        assert!(!cookies.is_empty(), "no cookie was set at all");
        for cookie in &cookies {
            let lower = cookie.to_lowercase();
            assert!(lower.contains("httponly"), "not HttpOnly: {cookie}");
            assert!(lower.contains("samesite=lax"), "not SameSite=Lax: {cookie}");
        }
    }
);

both_backends!(
    signed_out_home_links_to_sign_in_and_sign_up,
    |backend| async move {
        let app = spawn_app(backend).await;

        let response = app.get_page("/").await;

        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("/login") && page.contains("/signup"),
            "{page}"
        );
    }
);

both_backends!(sign_up_accepts_a_multipart_form, |backend| async move {
    let app = spawn_app(backend).await;
    let user = TestUser::generate();
    let csrf = app.csrf_token("/signup").await;
    let form = reqwest::multipart::Form::new()
        .text("username", user.username.clone())
        .text("password", user.password.clone())
        .text("csrf_token", csrf);

    let response = app
        .client
        .post(app.url("/signup"))
        .multipart(form)
        .send()
        .await
        .unwrap();

    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(home_shows(&app, &user.username).await);
});

both_backends!(
    logging_out_while_signed_out_is_not_an_error,
    |backend| async move {
        let app = spawn_app(backend).await;
        let csrf = app.csrf_token("/login").await;

        let response = app.post_form("/logout", &[("csrf_token", &csrf)]).await;

        assert!(
            response.status().is_redirection(),
            "expected a redirect, got {}",
            response.status()
        );
    }
);

both_backends!(
    a_sign_in_ends_when_the_session_lifetime_has_passed,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_SESSION_TTL", "3")]).await;
        let user = app.signed_up_user().await;
        assert!(home_shows(&app, &user.username).await, "not signed in");

        tokio::time::sleep(std::time::Duration::from_secs(4)).await;

        assert!(!home_shows(&app, &user.username).await, "still signed in");
        let response = app.get_page("/create_client").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.location(&response).path(), "/login");
        // The same browser signs in again without trouble.
        let again = app.login(&user.username, &user.password, None).await;
        assert!(again.status().is_redirection(), "{}", again.status());
        assert!(
            home_shows(&app, &user.username).await,
            "not signed in again"
        );
    }
);
