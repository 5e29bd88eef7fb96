//! Creating a client on `/create_client`: the form filled by label, the client page with
//! its one-time secret, the secret accepted by the token endpoint, and the home page listing
//! the client (also at phone width).

use reqwest::StatusCode;

use super::client_site::ClientSite;
use super::driver::run;
use super::flows::{alice, fill_client_form, read_client, sign_up, CLIENT_NAME};
use crate::helpers::assert_oauth_error;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_creates_a_client_and_sees_its_secret_once() {
    run("create_client", |h| async move {
        let site = ClientSite::start().await;
        let browser = h.browser().await;
        sign_up(&browser, &alice()).await;
        browser.follow_link("Create a client").await;
        browser.wait_heading("Create a client").await;
        fill_client_form(&browser, &site.redirect_uri()).await;
        browser.snap("form").await;
        browser.click("Create").await;
        let (id, secret) = read_client(&browser).await;
        let page = browser.page_text().await;
        assert!(page.contains("shown only this once"), "{page}");
        assert!(page.contains(&site.redirect_uri()), "{page}");
        assert!(
            !browser
                .text_of("registration_access_token")
                .await
                .is_empty(),
            "no registration access token"
        );
        browser.snap("result").await;

        // The secret authenticates the client: a made-up code is refused as a code
        // (invalid_grant), not the client (invalid_client), which a wrong secret is.
        let form = [("grant_type", "authorization_code"), ("code", "made-up")];
        let response = h.app.post_token(&form, Some((&id, &secret))).await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let response = h.app.post_token(&form, Some((&id, "wrong"))).await;
        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

        browser.follow_link("Back to your clients").await;
        browser.wait_heading("Welcome, alice").await;
        browser
            .wait_xpath(
                &format!("//a[normalize-space()='{CLIENT_NAME}']"),
                "the client in the list",
            )
            .await;
        browser.snap("home").await;
        browser.snap_mobile("home").await;

        // The client page again: no secret any more.
        browser.follow_link(CLIENT_NAME).await;
        browser.wait_heading(CLIENT_NAME).await;
        assert_eq!(browser.text_of("client_id").await, id);
        assert!(browser.all("//*[@id='client_secret']").await.is_empty());
    })
    .await;
}
