//! The account page: revoking an approved app ends its tokens, and ending another browser's
//! session signs that browser out while this one stays signed in.

use super::client_site::ClientSite;
use super::driver::run;
use super::flows::{alice, approved_code, CLIENT_NAME};
use crate::helpers::assert_tokens;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_an_app_ends_its_tokens() {
    run("account", |h| async move {
        let site = ClientSite::start().await;
        let redirect_uri = site.redirect_uri();
        let browser = h.browser().await;
        let (id, secret, code) = approved_code(&browser, &redirect_uri).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
        ];
        let tokens = assert_tokens(h.app.post_token(&form, Some((&id, &secret))).await).await;
        h.app.assert_api_me_ok(&tokens.access).await;

        browser.open("/account").await;
        browser.wait_heading("Your account").await;
        let apps = browser
            .wait_xpath("//ul[@id='approved_apps']", "the approved apps")
            .await
            .text()
            .await
            .expect("their text");
        assert!(
            apps.contains(CLIENT_NAME) && apps.contains("profile"),
            "{apps}"
        );
        browser.snap("apps").await;
        browser
            .click(&format!("Revoke access for {CLIENT_NAME}"))
            .await;
        browser
            .wait_xpath(
                "//p[normalize-space()='You have not approved any apps.']",
                "the empty app list",
            )
            .await;
        browser.snap("revoked").await;

        h.app.assert_api_me_unauthorized(&tokens.access).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_another_browsers_session_signs_it_out() {
    run("account_sessions", |h| async move {
        let user = alice();
        let first = h.browser().await;
        super::flows::sign_up(&first, &user).await;

        let second = h.browser().await;
        second.open("/login").await;
        second.wait_heading("Sign in").await;
        second.fill("Username", &user.username).await;
        second.fill("Password", &user.password).await;
        second.click("Sign in").await;
        second.wait_heading("Welcome, alice").await;

        first.open("/account").await;
        first.wait_heading("Your account").await;
        first
            .wait_xpath("//ul[@id='sessions' and count(li)=2]", "two sessions")
            .await;
        first.snap("sessions").await;
        let other = "//ul[@id='sessions']/li[not(contains(., '(this browser)'))]";
        assert_eq!(first.all(other).await.len(), 1, "one other session");
        first
            .button_in(other, "Sign out")
            .await
            .click()
            .await
            .expect("click the other session's Sign out");
        first
            .wait_xpath(
                "//ul[@id='sessions' and count(li)=1]/li[contains(., '(this browser)')]",
                "only this browser's session",
            )
            .await;
        first.snap("session_ended").await;

        // The second browser is signed out; the first is not.
        second.open("/account").await;
        second.wait_heading("Sign in").await;
        second.open("/").await;
        second.wait_heading("Tessera").await;
        first.open("/").await;
        first.wait_heading("Welcome, alice").await;
    })
    .await;
}
