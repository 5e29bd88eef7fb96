//! Malformed and huge requests get 4xx, never 5xx, and lose nothing already stored. A NUL
//! character, which Postgres cannot store in text, is refused before any database work.
//! People's forms answer malformed input with the HTML error page, apps' endpoints with RFC
//! JSON.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Response, StatusCode};

use crate::helpers::fixtures::REDIRECT_URI;
use crate::helpers::{
    app_with_client, app_with_password_tokens, app_with_user_and_client, assert_oauth_error,
    both_backends, spawn_app, TestApp, TestClient,
};

/// The content type of url-encoded forms.
const FORM: &str = "application/x-www-form-urlencoded";

/// `(content type, body)` pairs no endpoint should accept.
fn malformed_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let mut huge = b"grant_type=password&username=".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    vec![
        (
            "application/x-www-form-urlencoded",
            b"grant_type=%ZZ&&=%&%%=%G1".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=%FF%FE&username=%C3%28".to_vec(),
        ),
        (
            "multipart/form-data; boundary=XYZ",
            b"--XYZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword"
                .to_vec(),
        ),
        ("multipart/form-data", b"--\r\n\r\n--".to_vec()),
        (
            "multipart/form-data; boundary=XYZ",
            b"--XYZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XYZ--\r\n".to_vec(),
        ),
        (
            "application/json",
            br#"{"grant_type":"password","username":"a"}"#.to_vec(),
        ),
        ("application/x-www-form-urlencoded", huge),
        ("application/octet-stream", junk.clone()),
        ("application/x-www-form-urlencoded", junk.clone()),
        ("multipart/form-data; boundary=XYZ", junk),
        // Short preamble lines, on which the multipart parser itself would panic.
        ("multipart/form-data; boundary=XYZ", b"--\n".to_vec()),
        ("multipart/form-data; boundary=a", b"\n--a\r\n".to_vec()),
        ("text/plain", Vec::new()),
    ]
}

async fn send_raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> Response {
    app.client
        .post(app.url(path))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path} ({content_type}) got no answer: {e}"))
}

both_backends!(
    malformed_bodies_get_4xx_and_issued_tokens_still_work,
    |backend| async move {
        let client = TestClient::confidential(&["password", "refresh_token"], "profile");
        let (app, user, client, tokens) =
            app_with_password_tokens(backend, client, "profile").await;
        let anonymous = app.another_browser();
        let _ = anonymous.get_html("/login").await;

        let mut failures = Vec::new();
        for (browser, path) in [
            (&anonymous, "/oauth/token"),
            (&anonymous, "/login"),
            (&anonymous, "/signup"),
            (&app, "/create_client"),
            (&anonymous, "/oauth/revoke"),
        ] {
            for (content_type, body) in malformed_bodies() {
                let size = body.len();
                let status = send_raw(browser, path, content_type, body).await.status();
                if !status.is_client_error() {
                    failures.push(format!("{path} {content_type} ({size} bytes): {status}"));
                }
            }
        }

        assert!(
            failures.is_empty(),
            "expected 4xx:\n{}",
            failures.join("\n")
        );
        app.assert_api_me_ok(&tokens.access).await;
        client.refreshed(&app, tokens.refresh_token(), None).await;
        let again = app.another_browser();
        let login = again.login(&user.username, &user.password, None).await;
        assert!(login.status().is_redirection(), "{}", login.status());
    }
);

both_backends!(
    a_huge_token_request_with_basic_auth_gets_4xx,
    |backend| async move {
        let client = TestClient::confidential(&["client_credentials"], "profile");
        let (app, client) = app_with_client(backend, client).await;
        let scope = "profile ".repeat(200_000);

        let response = client.client_credentials(&app, &scope).await;

        assert!(response.status().is_client_error(), "{}", response.status());
        client.client_credentials_token(&app, "profile").await;
    }
);

/// Asserts the HTML error page with this status.
async fn assert_error_page(what: &str, response: Response, status: StatusCode) {
    let got = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("body");
    assert_eq!(got, status, "{what}: {body}");
    assert!(
        content_type.starts_with("text/html"),
        "{what}: {content_type}: {body}"
    );
}

both_backends!(
    nul_characters_are_refused_with_4xx_and_never_reach_the_database,
    |backend| async move {
        let client = TestClient::confidential(&["password", "authorization_code"], "profile")
            .auth_method("client_secret_post");
        let (app, user, client) = app_with_user_and_client(backend, client).await;
        let anonymous = app.another_browser();
        let secret = client.secret.clone().expect("a secret");

        let response = anonymous
            .post_token(
                &[
                    ("grant_type", "password"),
                    ("client_id", "abc\0def"),
                    ("client_secret", &secret),
                ],
                None,
            )
            .await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
        let response = anonymous
            .post_token(&[("grant_type", "password")], Some(("abc\0def", &secret)))
            .await;
        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let response = client
            .password_grant_as(&app, "al\0ice", &user.password, "profile")
            .await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
        let response = client.post_revoke(&app, &[("token", "to\0ken")]).await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;

        let response = anonymous.login("al\0ice", &user.password, None).await;
        assert_error_page("username at /login", response, StatusCode::BAD_REQUEST).await;
        let response = anonymous.signup("al\0ice", "a long enough password").await;
        assert_error_page("username at /signup", response, StatusCode::BAD_REQUEST).await;
        let response = app
            .post_create_client(&[("client_name", "my\0app"), ("redirect_uris", REDIRECT_URI)])
            .await;
        assert_error_page(
            "client_name at /create_client",
            response,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let mut query = client.code_query("profile", None);
        query.push(("nonce", "n\0"));
        let response = app.get_authorize(&query).await;
        assert_error_page(
            "query of /oauth/authorize",
            response,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let response = app
            .get_authorize(&[("response_type", "code"), ("client_id", "a\0b")])
            .await;
        assert_error_page(
            "client_id at /oauth/authorize",
            response,
            StatusCode::BAD_REQUEST,
        )
        .await;
        for (browser, who) in [(&app, "signed in"), (&anonymous, "signed out")] {
            let response = browser.get_page("/clients/%00").await;
            assert_error_page(who, response, StatusCode::NOT_FOUND).await;
            let response = browser.get_page("/clients/a%0Ab").await;
            assert_error_page(who, response, StatusCode::NOT_FOUND).await;
            let response = browser.post_form("/clients/%00/delete", &[]).await;
            assert_error_page(who, response, StatusCode::NOT_FOUND).await;
        }

        client.password_token(&app, &user, "profile").await;
        assert!(app.get_html("/").await.contains(&user.username));
    }
);

both_backends!(
    malformed_page_forms_get_the_html_error_page_and_app_endpoints_get_json,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let invalid_utf8 = b"csrf_token=x&username=\xff\xfe".to_vec();

        for path in [
            "/signup",
            "/login",
            "/logout",
            "/create_client",
            "/clients/abc/delete",
            "/clients/abc/rotate_secret",
            "/oauth/authorize",
        ] {
            let response = send_raw(&app, path, FORM, invalid_utf8.clone()).await;
            assert_error_page(path, response, StatusCode::BAD_REQUEST).await;
        }
        for path in ["/oauth/token", "/oauth/revoke"] {
            let response = send_raw(&app, path, FORM, invalid_utf8.clone()).await;
            assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
        }
    }
);
