//! Creating a client on `/create_client`: the form filled by label, the client page with
//! its one-time secret and their copy buttons, the secret accepted by the token endpoint, and
//! the home page listing the client (also at phone width).

use reqwest::StatusCode;

use super::client_site::ClientSite;
use super::driver::run;
use super::flows::{alice, create_client, fill_client_form, read_client, sign_up, CLIENT_NAME};
use super::page::Browser;
use crate::helpers::{assert_oauth_error, json};

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

        // The copy buttons put each secret on the clipboard.
        browser.click("Copy secret").await;
        copied(&browser, "client_secret").await;
        assert_eq!(browser.clipboard_text().await, secret);
        let token = browser.text_of("registration_access_token").await;
        browser.click("Copy token").await;
        copied(&browser, "registration_access_token").await;
        assert_eq!(browser.clipboard_text().await, token);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_edits_a_client_and_a_refused_edit_keeps_the_input() {
    run("edit_client", |h| async move {
        let site = ClientSite::start().await;
        let browser = h.browser().await;
        sign_up(&browser, &alice()).await;
        let (id, _) = create_client(&browser, &site.redirect_uri()).await;
        let registration_token = browser.text_of("registration_access_token").await;
        browser.follow_link("Edit").await;
        browser.wait_heading("Edit client").await;
        assert_eq!(browser.value_of("Client name").await, CLIENT_NAME);
        assert_eq!(browser.value_of("Redirect URIs").await, site.redirect_uri());

        // A redirect URI the rules refuse: the error sits by the field, the input stays.
        browser.replace("Client name", "Photo album").await;
        browser
            .replace("Redirect URIs", "http://photos.example/callback")
            .await;
        browser.untick("refresh_token").await;
        browser.click("Save").await;
        browser.wait_heading("Edit client").await;
        let error = browser.text_of("redirect_uris_error").await;
        assert!(error.starts_with("Each URI must use https"), "{error}");
        let described_by = browser
            .field("Redirect URIs")
            .await
            .attr("aria-describedby")
            .await
            .expect("the field's attributes");
        assert_eq!(described_by.as_deref(), Some("redirect_uris_error"));
        assert_eq!(browser.value_of("Client name").await, "Photo album");
        assert_eq!(
            browser.value_of("Redirect URIs").await,
            "http://photos.example/callback"
        );
        browser.snap("refused").await;

        // Corrected: saved, and the client page shows the new metadata.
        let second = format!("{}/again", site.redirect_uri());
        browser
            .replace(
                "Redirect URIs",
                &format!("{}\n{second}", site.redirect_uri()),
            )
            .await;
        browser.untick("refresh_token").await;
        browser.click("Save").await;
        browser.wait_heading("Photo album").await;
        assert_eq!(browser.text_of("client_id").await, id);
        let page = browser.page_text().await;
        assert!(page.contains(&second), "{page}");
        assert!(!page.contains("refresh_token"), "{page}");
        browser.snap("saved").await;

        // What the page shows is what the server stores (RFC 7592 read).
        let stored = h
            .app
            .client
            .get(h.app.url(&format!("/oauth/register/{id}")))
            .bearer_auth(&registration_token)
            .send()
            .await
            .expect("GET the registration");
        let (status, _, stored) = json(stored).await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        assert_eq!(stored["client_name"], "Photo album");
        assert_eq!(
            stored["redirect_uris"],
            serde_json::json!([site.redirect_uri(), second])
        );
        assert_eq!(
            stored["grant_types"],
            serde_json::json!(["authorization_code"])
        );
    })
    .await;
}

/// Waits for the copy button of the element `id` to say it copied.
async fn copied(browser: &Browser, id: &str) {
    browser
        .wait_xpath(
            &format!("//button[@data-copy='{id}' and normalize-space()='Copied']"),
            &format!("the copied {id}"),
        )
        .await;
}
