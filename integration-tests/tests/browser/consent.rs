//! The authorization-code consent page: Allow sends the browser to the client's redirect URI
//! with a code that the client exchanges for tokens of the user; Deny sends it there with
//! `error=access_denied`. The page is also checked at phone width.

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
    })
    .await;
}
