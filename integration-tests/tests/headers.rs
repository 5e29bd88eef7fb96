//! Response headers that protect people: no page can be framed by another site
//! (clickjacking), sniffed into another type or leak its URL in `Referer`, and no HTML page,
//! above all the one showing a client secret, is kept in a cache. The Content-Security-Policy
//! allows no inline style or script, so the pages' stylesheet is a served, cached file; only
//! a page showing a one-time secret runs a script, Tessera's own copy script.

use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{Response, StatusCode};

use crate::helpers::{
    app_with_user_and_client, both_backends, html, spawn_app, spawn_app_with, TestClient,
};

/// Asserts the headers every response carries.
fn assert_security_headers(what: &str, headers: &HeaderMap) {
    assert_security_headers_with(
        what,
        headers,
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
}

/// [`assert_security_headers`] with the Content-Security-Policy `policy`.
fn assert_security_headers_with(what: &str, headers: &HeaderMap, policy: &str) {
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("content-security-policy", policy),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
}

/// Asserts `Cache-Control: no-store`.
fn assert_no_store(what: &str, headers: &HeaderMap) {
    assert_eq!(
        headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{what}"
    );
}

/// Asserts a 200 client page that shows a secret, may not be cached, and runs Tessera's
/// copy script (and no other): the one policy with `script-src 'self'`.
async fn assert_secret_page_not_cached(what: &str, response: Response) -> String {
    assert_eq!(response.status(), StatusCode::OK, "{what}");
    assert_no_store(what, response.headers());
    assert_security_headers_with(
        what,
        response.headers(),
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    let page = response.text().await.expect("body");
    assert!(
        html::element_text(&page, "client_secret").is_some_and(|secret| !secret.is_empty()),
        "{what}: no secret shown: {page}"
    );
    assert_eq!(
        page.matches("<script").count(),
        1,
        "{what}: one script, no inline one: {page}"
    );
    assert!(
        page.contains(r#"<script src="/static/copy.js" defer></script>"#),
        "{what}: {page}"
    );
    // Without the script the copy button stays hidden: nothing on the page does nothing.
    assert!(
        page.contains(r#"data-copy="client_secret" aria-live="polite" hidden>"#),
        "{what}: {page}"
    );
    page
}

both_backends!(
    the_consent_page_cannot_be_framed_or_cached,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let response = app.get_authorize(&client.code_query("profile", None)).await;

        assert_eq!(response.status(), StatusCode::OK);
        // The consent page may show the client's logo from its https origin; nothing else.
        assert_security_headers_with(
            "consent page",
            response.headers(),
            "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'",
        );
        assert_no_store("consent page", response.headers());
    }
);

both_backends!(
    every_kind_of_response_carries_the_security_headers,
    |backend| async move {
        let app = spawn_app(backend).await;

        for (path, status) in [
            ("/", StatusCode::OK),
            ("/login", StatusCode::OK),
            ("/no/such/page", StatusCode::NOT_FOUND),
            ("/create_client", StatusCode::SEE_OTHER),
            ("/healthz", StatusCode::OK),
            ("/api/me", StatusCode::UNAUTHORIZED),
        ] {
            let response = app.get_page(path).await;
            assert_eq!(response.status(), status, "{path}");
            assert_security_headers(path, response.headers());
        }
        let refused = app
            .post_token(&[("grant_type", "client_credentials")], None)
            .await;
        assert_security_headers("/oauth/token", refused.headers());
    }
);

both_backends!(
    html_pages_and_error_pages_are_never_cached,
    |backend| async move {
        let app = spawn_app(backend).await;

        for path in ["/", "/login", "/signup", "/no/such/page", "/clients/%00"] {
            let response = app.get_page(path).await;
            let is_html = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            assert!(is_html, "{path}: not HTML");
            assert_no_store(path, response.headers());
        }
    }
);

both_backends!(
    the_client_page_showing_a_secret_is_never_cached,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;

        let created = TestClient::confidential(&["client_credentials"], "profile")
            .submit(&app)
            .await;
        let page = assert_secret_page_not_cached("after create_client", created).await;
        let client_id = html::element_text(&page, "client_id").expect("client_id");
        let path = format!("/clients/{client_id}");
        let csrf = app.csrf_token(&path).await;
        let rotated = app
            .post_form(&format!("{path}/rotate_secret"), &[("csrf_token", &csrf)])
            .await;

        assert_secret_page_not_cached("after rotate_secret", rotated).await;
        let response = app.get_page(&path).await;
        assert_no_store("client page", response.headers());
        assert_security_headers("client page", response.headers());
        let page = response.text().await.expect("body");
        assert!(!page.contains("<script"), "no secret, no script: {page}");
    }
);

both_backends!(
    the_stylesheet_and_the_copy_script_are_served_cached_and_revalidated,
    |backend| async move {
        let app = spawn_app(backend).await;

        let mut etags = Vec::new();
        for (path, content_type, content) in [
            ("/static/tessera.css", "text/css; charset=utf-8", "body {"),
            (
                "/static/copy.js",
                "text/javascript; charset=utf-8",
                "navigator.clipboard.writeText",
            ),
        ] {
            let response = app.get_page(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers().clone();
            assert_eq!(
                headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
                Some(content_type),
                "{path}"
            );
            assert_eq!(
                headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()),
                Some("public, max-age=86400"),
                "{path}"
            );
            let etag = headers.get("etag").expect("an ETag").clone();
            assert!(
                response.text().await.expect("body").contains(content),
                "{path}"
            );

            let again = app
                .client
                .get(app.url(path))
                .header("if-none-match", etag.clone())
                .send()
                .await
                .expect("request");
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
            etags.push(etag);
        }
        assert_ne!(etags[0], etags[1], "each file has its own ETag");
    }
);

both_backends!(no_page_needs_inline_style_or_script, |backend| async move {
    let client = TestClient::confidential(&["authorization_code"], "profile");
    let (app, _, client) = app_with_user_and_client(backend, client).await;
    let consent = app
        .get_authorize(&client.code_query("profile", None))
        .await
        .text()
        .await
        .expect("body");
    let mut pages = vec![("consent", consent)];
    for path in ["/", "/create_client", "/account", "/no/such/page"] {
        let page = app.get_page(path).await.text().await.expect("body");
        pages.push((path, page));
    }
    let signed_out = app.another_browser();
    for path in ["/login", "/signup"] {
        let page = signed_out.get_page(path).await.text().await.expect("body");
        pages.push((path, page));
    }
    for (what, page) in pages {
        assert!(
            page.contains(r#"<link rel="stylesheet" href="/static/tessera.css">"#),
            "{what}: no stylesheet"
        );
        for inline in ["<style", " style=", "<script", "javascript:"] {
            assert!(!page.contains(inline), "{what} has {inline}");
        }
    }
});

both_backends!(
    an_https_issuer_gets_hsts_and_secure_cookies_and_plain_http_neither,
    |backend| async move {
        let https = spawn_app_with(backend, &[("TESSERA_ISSUER", "https://auth.example")]).await;
        let plain = spawn_app(backend).await;

        let secure = https.get_page("/login").await;
        assert_eq!(
            secure
                .headers()
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok()),
            Some("max-age=63072000; includeSubDomains")
        );
        let cookie = secure
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie")
            .to_owned();
        assert!(cookie.contains("Secure"), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");

        let insecure = plain.get_page("/login").await;
        assert!(insecure
            .headers()
            .get("strict-transport-security")
            .is_none());
        let cookie = insecure
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie")
            .to_owned();
        assert!(!cookie.contains("Secure"), "{cookie}");
    }
);
