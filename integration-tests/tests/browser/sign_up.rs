//! Signing up from the home page: a refused password shows the error and keeps the form,
//! then the account is created and the browser is signed in.

use reqwest::StatusCode;

use super::driver::run;
use super::flows::{alice, fill_sign_up};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_signs_up_from_the_home_page() {
    run("signup", |h| async move {
        let browser = h.browser().await;
        let user = alice();
        browser.open("/").await;
        browser.wait_heading("Tessera").await;
        browser.snap("home-signed-out").await;
        browser.follow_link("sign up").await;
        browser.wait_heading("Sign up").await;

        fill_sign_up(&browser, &user, "short").await;
        browser.click("Sign up").await;
        let error = browser
            .wait_xpath("//p[@class='error']", "the sign-up error")
            .await;
        let message = error.text().await.expect("the error's text");
        assert!(
            message.contains('8'),
            "the error names the minimum: {message}"
        );
        assert_eq!(
            browser
                .field("Username")
                .await
                .prop("value")
                .await
                .expect("the username field's value")
                .as_deref(),
            Some(user.username.as_str()),
            "the refused form keeps the username"
        );
        browser.snap("error").await;

        browser.fill("Password", &user.password).await;
        browser.snap("form").await;
        browser.click("Sign up").await;
        browser.wait_heading("Welcome, alice").await;
        let header = browser.page_text().await;
        assert!(header.contains("Signed in as alice"), "{header}");
        browser.snap("welcome").await;

        // The account exists on the server: another browser signs in with it.
        let other = h.app.another_browser();
        let response = other.login(&user.username, &user.password, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(other.location(&response).path(), "/");
        assert!(other.get_html("/").await.contains("Welcome, alice"));
    })
    .await;
}
