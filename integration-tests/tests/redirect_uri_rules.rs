//! DESIGN §5: the redirect URIs a client may register, on the create-client page.

use super::helpers::{both_backends, html, spawn_app, spawn_app_with, Backend, TestApp};

/// The create-client form with `redirect_uris` set to `uris`.
fn form(uris: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("client_name", "rules"),
        ("redirect_uris", uris),
        ("grant_types", "authorization_code"),
        ("response_types", "code"),
        ("scope", "profile"),
        ("token_endpoint_auth_method", "client_secret_basic"),
    ]
}

async fn signed_in(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let app = if env.is_empty() {
        spawn_app(backend).await
    } else {
        spawn_app_with(backend, env).await
    };
    app.signed_up_user().await;
    app
}

both_backends!(
    weak_redirect_uris_are_refused_next_to_the_field_keeping_the_input,
    |backend| async move {
        let app = signed_in(backend, &[]).await;
        for uri in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "http://app.example/cb",
            "https://user:pw@app.example/cb",
            "https://app.example/cb#x",
            "myapp:/cb",
        ] {
            let response = app.post_create_client(&form(uri)).await;
            assert_eq!(response.status(), 400, "{uri}");
            let page = response.text().await.expect("body");
            let error = html::element_text(&page, "redirect_uris_error")
                .unwrap_or_else(|| panic!("no field error for {uri}: {page}"));
            assert!(error.starts_with("Each URI must"), "{error}");
            let kept = html::element_text(&page, "redirect_uris").expect("the field");
            assert_eq!(kept, uri);
            assert!(!page.contains("id=\"client_secret\""), "{uri} registered");
        }
        let post_logout = [
            form("https://app.example/cb"),
            vec![("post_logout_redirect_uris", "http://app.example/bye")],
        ]
        .concat();
        let page = app
            .post_create_client(&post_logout)
            .await
            .text()
            .await
            .expect("body");
        assert!(
            html::element_text(&page, "post_logout_redirect_uris_error").is_some(),
            "{page}"
        );
    }
);

both_backends!(
    https_loopback_http_and_reverse_domain_schemes_are_accepted,
    |backend| async move {
        let app = signed_in(backend, &[]).await;
        for uri in [
            "https://app.example/cb",
            "http://127.0.0.1:9000/cb",
            "http://[::1]/cb",
            "http://localhost/cb",
            "com.example.app:/oauth",
        ] {
            let (id, _secret) = app.create_client(&form(uri)).await;
            assert!(!id.is_empty(), "{uri}");
        }
    }
);

both_backends!(
    insecure_transport_allows_plain_http_but_never_file_or_script_uris,
    |backend| async move {
        let app = signed_in(backend, &[("TESSERA_INSECURE_TRANSPORT", "1")]).await;
        let (id, _secret) = app.create_client(&form("http://app.example/cb")).await;
        assert!(!id.is_empty());
        for uri in ["file:///etc/passwd", "javascript:alert(1)"] {
            let response = app.post_create_client(&form(uri)).await;
            assert_eq!(response.status(), 400, "{uri}");
        }
    }
);
