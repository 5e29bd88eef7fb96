//! Malformed and huge requests get 4xx, never 5xx, and lose nothing already stored.

use crate::helpers::fixtures::tokens;
use crate::helpers::{
    assert_api_me_ok, assert_token, both_backends, spawn_app, TestApp, TestClient,
};

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
        ("text/plain", Vec::new()),
    ]
}

async fn send_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::StatusCode {
    app.client
        .post(app.url(path))
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path} ({content_type}) got no answer: {e}"))
        .status()
}

both_backends!(
    malformed_bodies_get_4xx_and_issued_tokens_still_work,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (access, refresh) = tokens(&client.password_token(&app, &user, "profile").await);
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
                let status = send_raw(browser, path, content_type, body).await;
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
        assert_api_me_ok(&app, &access).await;
        assert_token(client.refresh(&app, &refresh.unwrap(), None).await).await;
        let again = app.another_browser();
        let login = again.login(&user.username, &user.password, None).await;
        assert!(login.status().is_redirection(), "{}", login.status());
    }
);

both_backends!(
    a_huge_token_request_with_basic_auth_gets_4xx,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let scope = "profile ".repeat(200_000);

        let response = client
            .post_token(
                &app,
                &[("grant_type", "client_credentials"), ("scope", &scope)],
            )
            .await;

        assert!(response.status().is_client_error(), "{}", response.status());
        client.client_credentials_token(&app, "profile").await;
    }
);
