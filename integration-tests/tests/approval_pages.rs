//! What the consent page and the device approval page tell a person: the client's name, its
//! home page's host, its logo, who registered it (a user, itself, or the operator), each
//! scope in words, who is signed in and a way out ("Not you?"), which signs out and comes
//! back through the sign-in page.

use reqwest::header::CONTENT_SECURITY_POLICY;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::fixtures::REDIRECT_URI;
use crate::helpers::{both_backends, html, json, spawn_app, Pkce, TestApp, TestUser};

/// A client registered on the pages by a user of its own, with a logo and its policies.
async fn described_client(app: &TestApp, grants: &str) -> (TestUser, String, Option<String>) {
    let owner = app.another_browser();
    let owner_user = owner.signed_up_user().await;
    let (id, secret) = owner
        .create_client(&[
            ("client_name", "Photo Album"),
            ("client_uri", "https://photos.example/app"),
            ("logo_uri", "https://photos.example/logo.png"),
            ("tos_uri", "https://photos.example/terms"),
            ("policy_uri", "https://photos.example/privacy"),
            ("redirect_uris", REDIRECT_URI),
            ("grant_types", grants),
            ("scope", "openid profile photos:read"),
        ])
        .await;
    (owner_user, id, secret)
}

/// The text of the line under the client's name (tags dropped, spaces collapsed).
fn origin_line(page: &str) -> String {
    let start = page
        .find(r#"id="client_origin""#)
        .unwrap_or_else(|| panic!("no origin line: {page}"));
    let end = start + page[start..].find("</p>").expect("the origin line ends");
    let mut text = String::new();
    let mut in_tag = true;
    for c in page[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn consent_query<'a>(client_id: &'a str, pkce: &'a Pkce) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "profile photos:read"),
        ("state", "s1"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
}

both_backends!(
    the_consent_page_names_the_client_its_host_owner_logo_and_each_scope,
    |backend| async move {
        let app = spawn_app(backend).await;
        let (owner, client_id, _) = described_client(&app, "authorization_code").await;
        let user = app.signed_up_user().await;
        let pkce = Pkce::s256();
        let response = app.get_authorize(&consent_query(&client_id, &pkce)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let policy = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ASCII")
            .to_owned();
        assert!(policy.contains("img-src 'self' https:"), "{policy}");
        let page = response.text().await.expect("body");
        assert_eq!(
            html::element_text(&page, "client_name").as_deref(),
            Some("Photo Album")
        );
        let origin = origin_line(&page);
        assert!(origin.contains("photos.example"), "{origin}");
        assert!(
            origin.contains(&format!("registered by {}", owner.username)),
            "{origin}"
        );
        let unescaped = html::unescape(&page);
        assert!(
            unescaped.contains(r#"src="https://photos.example/logo.png""#),
            "{page}"
        );
        assert!(
            page.contains("See your username <code>profile</code>"),
            "{page}"
        );
        assert!(
            page.contains("Use “photos:read” on your behalf <code>photos:read</code>"),
            "{page}"
        );
        assert!(
            unescaped.contains(r#"href="https://photos.example/terms""#),
            "{page}"
        );
        assert!(
            unescaped.contains(r#"href="https://photos.example/privacy""#),
            "{page}"
        );
        assert!(
            page.contains(&format!("Signed in as <strong>{}</strong>", user.username)),
            "{page}"
        );
        assert!(page.contains(r#"id="not_you""#), "{page}");

        let home = app.get_page("/").await;
        let home_policy = home.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ASCII");
        assert!(home_policy.contains("img-src 'self';"), "{home_policy}");
    }
);

both_backends!(
    not_you_signs_out_and_comes_back_through_the_sign_in_page,
    |backend| async move {
        let app = spawn_app(backend).await;
        let (_, client_id, _) = described_client(&app, "authorization_code").await;
        app.signed_up_user().await;
        let pkce = Pkce::s256();
        let query = consent_query(&client_id, &pkce);
        let page = app.get_authorize(&query).await.text().await.expect("body");
        let next = html::input_value(&page, "next").expect("a next field in the Not you? form");
        let csrf = html::input_value(&page, "csrf_token").expect("a csrf_token");
        let response = app
            .post_form(
                "/logout",
                &[("csrf_token", csrf.as_str()), ("next", next.as_str())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let login = app.location(&response);
        assert_eq!(login.path(), "/login");
        let back = login
            .query_pairs()
            .find(|(name, _)| name == "next")
            .map(|(_, value)| value.into_owned())
            .expect("the sign-in page returns to the request");
        assert!(back.starts_with("/oauth/authorize?"), "{back}");
        assert!(back.contains(&client_id), "{back}");

        let account = app.get_page("/account").await;
        assert!(account.status().is_redirection(), "still signed in");
        let other = TestUser::generate();
        app.another_browser().signed_up(other.clone()).await;
        let signed_in = app
            .login(&other.username, &other.password, Some(&back))
            .await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        let consent = app.follow(signed_in).await.text().await.expect("body");
        assert!(
            consent.contains(&format!("Signed in as <strong>{}</strong>", other.username)),
            "{consent}"
        );

        let csrf = app.csrf_token("/").await;
        let elsewhere = app
            .post_form(
                "/logout",
                &[("csrf_token", csrf.as_str()), ("next", "//evil.example/")],
            )
            .await;
        assert_eq!(app.location(&elsewhere).path(), "/");
        assert_eq!(app.location(&elsewhere).host_str(), Some("127.0.0.1"));
    }
);

both_backends!(
    a_client_that_registered_itself_is_shown_as_such,
    |backend| async move {
        let app = spawn_app(backend).await;
        let response = app
            .client
            .post(app.url("/oauth/register"))
            .json(&json!({
                "client_name": "Self Made",
                "redirect_uris": [REDIRECT_URI],
                "scope": "profile",
            }))
            .send()
            .await
            .expect("POST /oauth/register");
        let (status, _, body) = json(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let client_id = body["client_id"].as_str().expect("a client_id").to_owned();
        app.signed_up_user().await;
        let pkce = Pkce::s256();
        let mut query = consent_query(&client_id, &pkce);
        query[3] = ("scope", "profile");
        let page = app.get_authorize(&query).await;
        let page = page.text().await.expect("body");
        let origin = origin_line(&page);
        assert!(origin.contains("registered dynamically"), "{origin}");
        assert!(!page.contains("<img"), "no logo was registered: {page}");
    }
);

both_backends!(
    the_device_approval_page_presents_the_client_the_same_way,
    |backend| async move {
        let app = spawn_app(backend).await;
        let (owner, client_id, secret) =
            described_client(&app, "urn:ietf:params:oauth:grant-type:device_code").await;
        let user = app.signed_up_user().await;
        let started = app
            .client
            .post(app.url("/oauth/device_authorization"))
            .basic_auth(&client_id, secret.as_deref())
            .form(&[("scope", "profile")])
            .send()
            .await
            .expect("POST /oauth/device_authorization");
        let (status, _, started) = json(started).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let user_code = started["user_code"].as_str().expect("a user_code");
        let csrf = app.csrf_token("/device").await;
        let response = app
            .post_form(
                "/device",
                &[("user_code", user_code), ("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let policy = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ASCII")
            .to_owned();
        assert!(policy.contains("img-src 'self' https:"), "{policy}");
        let page = response.text().await.expect("body");
        assert_eq!(
            html::element_text(&page, "client_name").as_deref(),
            Some("Photo Album")
        );
        let origin = origin_line(&page);
        assert!(
            origin.contains(&format!("registered by {}", owner.username)),
            "{origin}"
        );
        assert!(
            page.contains("See your username <code>profile</code>"),
            "{page}"
        );
        assert!(
            page.contains(&format!("Signed in as <strong>{}</strong>", user.username)),
            "{page}"
        );
        let next = html::input_value(&page, "next").expect("the Not you? form");
        assert!(
            next.starts_with("/login?next=%2Fdevice%3Fuser_code%3D"),
            "{next}"
        );
    }
);
