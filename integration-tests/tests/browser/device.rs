//! The device flow (RFC 8628) with a real browser on the user's side: the device starts an
//! authorization over HTTP, the user types its code on `/device`, sees which app asks for
//! what, allows, and the device's next poll of the token endpoint gets tokens for the user.

use reqwest::StatusCode;

use super::driver::run;
use super::flows::{alice, sign_up};
use crate::helpers::{assert_tokens, json, TestClient};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_approves_a_device_by_typing_its_code() {
    run("device", |h| async move {
        let tv = TestClient {
            name: "Living room TV".to_owned(),
            ..TestClient::confidential(&[DEVICE_GRANT, "refresh_token"], "openid profile")
        }
        .register(&h.app)
        .await;
        let response = tv
            .post_device_authorization(&h.app, &[("scope", "openid profile")])
            .await;
        let (status, _, started) = json(response).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let field = |name: &str| {
            started[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name}: {started}"))
                .to_owned()
        };
        let (user_code, device_code) = (field("user_code"), field("device_code"));

        let browser = h.browser().await;
        sign_up(&browser, &alice()).await;
        browser.open_url(&field("verification_uri")).await;
        browser.wait_heading("Connect a device").await;
        browser
            .fill("Enter the code shown on your device", &user_code)
            .await;
        browser.snap("code").await;
        browser.click("Continue").await;

        browser.button_in("", "Allow").await;
        let page = browser.page_text().await;
        assert!(
            page.contains(&format!(
                "The device showing {user_code} wants to connect to your account."
            )) && page.contains("Living room TV asks to:")
                && page.contains("Signed in as alice."),
            "{page}"
        );
        browser.snap("confirm").await;
        browser.click("Allow").await;
        let done = browser.text_of("device_done").await;
        assert!(done.contains("the device is connected"), "{done}");
        browser.snap("done").await;

        let poll = [
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code.as_str()),
        ];
        let tokens = assert_tokens(tv.post_token(&h.app, &poll).await).await;
        assert!(tokens.refresh.is_some(), "{tokens}");
        let me = h.app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], "alice", "{me}");
    })
    .await;
}
