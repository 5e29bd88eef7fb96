//! The authorization-code consent page: Allow sends the browser to the client's redirect URI
//! with a code that the client exchanges for tokens of the user; Deny sends it there with
//! `error=access_denied`. The page is also checked at phone width. Around them: the app signing
//! the user out again (RP-initiated logout), and the error page of a request naming no client.

use super::client_site::ClientSite;
use super::driver::run;
use super::flows::{alice, answer_consent, create_client, open_consent, sign_up, CLIENT_NAME};
use crate::helpers::{assert_tokens, query_param};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_sends_the_browser_to_the_client_with_a_code_for_tokens() {
    run("consent", |h| async move {
        let site = ClientSite::start().await;
        let redirect_uri = site.redirect_uri();
        let browser = h.browser().await;
        sign_up(&browser, &alice()).await;
        let (id, secret) = create_client(&browser, &redirect_uri).await;
        open_consent(&browser, &id, &redirect_uri).await;
        let page = browser.page_text().await;
        assert!(
            page.contains(&format!("Allow {CLIENT_NAME} to use your account?"))
                && page.contains("Signed in as alice.")
                && page.contains("See your username"),
            "{page}"
        );
        for scope in ["openid", "profile"] {
            browser
                .wait_xpath(
                    &format!("//li/code[normalize-space()='{scope}']"),
                    &format!("the scope {scope}"),
                )
                .await;
        }
        browser.snap("page").await;
        browser.snap_mobile("consent").await;

        let landed = answer_consent(&browser, "Allow", &redirect_uri).await;
        assert_eq!(query_param(&landed, "error"), None, "{landed}");
        let code = query_param(&landed, "code").unwrap_or_else(|| panic!("no code: {landed}"));

        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
        ];
        let tokens = assert_tokens(h.app.post_token(&form, Some((&id, &secret))).await).await;
        assert_eq!(tokens["scope"], "openid profile", "{tokens}");
        let me = h.app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], "alice", "{me}");

        // The app signs the user out of Tessera (OpenID Connect RP-initiated logout). Naming
        // itself only, it gets a question the user may decline...
        browser.open(&format!("/oauth/logout?client_id={id}")).await;
        browser.wait_heading("Sign out?").await;
        let page = browser.page_text().await;
        assert!(
            page.contains(&format!("{CLIENT_NAME} asks to sign you out")),
            "{page}"
        );
        browser.snap("sign_out").await;
        browser.follow_link("Stay signed in").await;
        browser.wait_heading("Welcome, alice").await;
        // ...while with the user's ID token as the hint, the user is signed out at once.
        let id_token = tokens["id_token"].as_str().expect("an ID token");
        browser
            .open(&format!("/oauth/logout?id_token_hint={id_token}"))
            .await;
        browser.wait_heading("You are signed out").await;
        browser.snap("signed_out").await;
        browser.open("/account").await;
        browser.wait_heading("Sign in").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_sends_the_browser_to_the_client_with_access_denied() {
    run("consent_deny", |h| async move {
        let site = ClientSite::start().await;
        let redirect_uri = site.redirect_uri();
        let browser = h.browser().await;
        sign_up(&browser, &alice()).await;
        let (id, _) = create_client(&browser, &redirect_uri).await;
        open_consent(&browser, &id, &redirect_uri).await;
        let landed = answer_consent(&browser, "Deny", &redirect_uri).await;
        assert_eq!(
            query_param(&landed, "error").as_deref(),
            Some("access_denied"),
            "{landed}"
        );
        assert_eq!(query_param(&landed, "code"), None, "{landed}");

        // Nothing was approved: the account page lists no app.
        browser.open("/account").await;
        browser.wait_heading("Your account").await;
        let page = browser.page_text().await;
        assert!(page.contains("You have not approved any apps."), "{page}");

        // A request naming no registered client gets Tessera's error page, never a redirect
        // to the URI it names.
        browser
            .open("/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fattacker.example%2Fcb")
            .await;
        browser.wait_heading("400 Bad Request").await;
        assert_eq!(browser.url().await.host_str(), Some("127.0.0.1"));
        let page = browser.page_text().await;
        assert!(page.contains("If an app sent you here"), "{page}");
        browser.snap("error").await;
    })
    .await;
}
