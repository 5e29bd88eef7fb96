//! Signing in and out with the keyboard only: Tab moves through the header link, the
//! username and password fields in that order, Enter submits; a wrong password shows the
//! error; the header's Sign out button is reached with Tab and pressed with Enter.

use fantoccini::key::Key;

use super::driver::run;
use super::flows::alice;
use super::page::Browser;

/// Presses Tab and checks what gets the focus: `(tag, id)`.
async fn tab_to(browser: &Browser, tag: &str, id: &str) -> String {
    browser.press(Key::Tab).await;
    let (got_tag, got_id, text) = browser.focused().await;
    assert_eq!(
        (got_tag.as_str(), got_id.as_str()),
        (tag, id),
        "Tab focused <{got_tag} id={got_id:?}> {text:?}"
    );
    text
}

/// From a freshly loaded sign-in page: Tab past the header link into the username field
/// (typing `username` unless it is kept from the last attempt), then the password field.
async fn type_credentials(browser: &Browser, username: Option<&str>, password: &str) {
    assert_eq!(tab_to(browser, "a", "").await, "Tessera");
    tab_to(browser, "input", "username").await;
    if let Some(username) = username {
        browser.type_keys(username).await;
    }
    tab_to(browser, "input", "password").await;
    browser.type_keys(password).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_and_out_with_the_keyboard_only() {
    run("signin", |h| async move {
        let user = alice();
        h.app.another_browser().signed_up(user.clone()).await;
        let browser = h.browser().await;
        browser.open("/login").await;
        browser.wait_heading("Sign in").await;

        type_credentials(&browser, Some(&user.username), "not the password").await;
        browser.press(Key::Enter).await;
        let error = browser
            .wait_xpath("//p[@class='error']", "the sign-in error")
            .await;
        assert!(!error.text().await.expect("its text").is_empty());
        browser.wait_heading("Sign in").await;
        browser.snap("error").await;

        type_credentials(&browser, None, &user.password).await;
        browser.snap("form").await;
        browser.press(Key::Enter).await;
        browser.wait_heading("Welcome, alice").await;

        // The header: the home link, the client and account links, then the Sign out button.
        assert_eq!(tab_to(&browser, "a", "").await, "Tessera");
        assert_eq!(tab_to(&browser, "a", "").await, "New client");
        assert_eq!(tab_to(&browser, "a", "").await, "Account");
        assert_eq!(tab_to(&browser, "button", "").await, "Sign out");
        browser.press(Key::Enter).await;
        browser
            .wait_xpath("//a[normalize-space()='Sign in']", "the sign-in link")
            .await;
        browser.wait_heading("Tessera").await;
        let page = browser.page_text().await;
        assert!(!page.contains("Signed in as"), "{page}");

        // Signed out on the server too: the account page asks to sign in.
        browser.open("/account").await;
        browser.wait_heading("Sign in").await;
        assert_eq!(browser.url().await.path(), "/login");
    })
    .await;
}
