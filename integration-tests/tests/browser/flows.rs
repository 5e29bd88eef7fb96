//! Steps that several flows share, done in the browser as a user would: signing up,
//! creating a client on `/create_client`, and answering the consent page.

use url::Url;

use super::page::Browser;
use crate::helpers::fixtures::STATE;
use crate::helpers::{query_param, TestUser};

/// The user of every flow (each flow has a database of its own).
pub fn alice() -> TestUser {
    TestUser {
        username: "alice".to_owned(),
        password: "correct horse battery staple".to_owned(),
        email: Some("alice@example.com".to_owned()),
    }
}

/// The name of the client the flows register.
pub const CLIENT_NAME: &str = "Photo app";

/// The scope the flows ask for.
pub const SCOPE: &str = "openid profile";

/// Fills the sign-up form with `user` (its page is open).
pub async fn fill_sign_up(browser: &Browser, user: &TestUser, password: &str) {
    browser.fill("Username", &user.username).await;
    if let Some(email) = &user.email {
        browser.fill("Email", email).await;
    }
    browser.fill("Password", password).await;
}

/// Signs `user` up on `/signup`; the browser is then signed in, on the home page.
pub async fn sign_up(browser: &Browser, user: &TestUser) {
    browser.open("/signup").await;
    browser.wait_heading("Sign up").await;
    fill_sign_up(browser, user, &user.password).await;
    browser.click("Sign up").await;
    browser
        .wait_heading(&format!("Welcome, {}", user.username))
        .await;
}

/// Fills `/create_client` (open) for a confidential code-flow client of [`SCOPE`] that
/// redirects to `redirect_uri`.
pub async fn fill_client_form(browser: &Browser, redirect_uri: &str) {
    browser.fill("Client name", CLIENT_NAME).await;
    browser.fill("Client URI", "https://photos.example").await;
    browser.fill("Redirect URIs", redirect_uri).await;
    // authorization_code and code come ticked.
    browser.tick("refresh_token").await;
    browser.fill("Scope", SCOPE).await;
    browser
        .choose(
            "Token endpoint authentication method",
            "client_secret_basic",
        )
        .await;
}

/// `(client_id, client_secret)` from the client page shown after creating a client.
pub async fn read_client(browser: &Browser) -> (String, String) {
    browser.wait_heading(CLIENT_NAME).await;
    let id = browser.text_of("client_id").await;
    let secret = browser.text_of("client_secret").await;
    assert!(!id.is_empty() && !secret.is_empty(), "{id:?} {secret:?}");
    (id, secret)
}

/// Creates the client of [`fill_client_form`] on `/create_client` (signed in); returns its
/// `(client_id, client_secret)`.
pub async fn create_client(browser: &Browser, redirect_uri: &str) -> (String, String) {
    browser.open("/create_client").await;
    browser.wait_heading("Create a client").await;
    fill_client_form(browser, redirect_uri).await;
    browser.click("Create").await;
    read_client(browser).await
}

/// The path of a code-flow authorization request of `client_id` for [`SCOPE`] with
/// [`STATE`].
pub fn authorize_path(client_id: &str, redirect_uri: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPE)
        .append_pair("state", STATE)
        .finish();
    format!("/oauth/authorize?{query}")
}

/// Opens the consent page of `client_id` (signed in) and waits for it.
pub async fn open_consent(browser: &Browser, client_id: &str, redirect_uri: &str) {
    browser.open(&authorize_path(client_id, redirect_uri)).await;
    browser
        .wait_heading(&format!("Allow {CLIENT_NAME} to use your account?"))
        .await;
}

/// Clicks `answer` ("Allow" or "Deny") on the open consent page and waits for the client's
/// site; returns the URL the browser landed on, checked to be the redirect URI with
/// [`STATE`].
pub async fn answer_consent(browser: &Browser, answer: &str, redirect_uri: &str) -> Url {
    browser.click(answer).await;
    browser.wait_id("client_received").await;
    let landed = browser.url().await;
    assert_eq!(
        landed.as_str().split('?').next(),
        Some(redirect_uri),
        "landed on {landed}"
    );
    assert_eq!(
        query_param(&landed, "state").as_deref(),
        Some(STATE),
        "{landed}"
    );
    landed
}

/// Signs up, creates the client and allows it on the consent page; returns
/// `(client_id, client_secret, code)`.
pub async fn approved_code(browser: &Browser, redirect_uri: &str) -> (String, String, String) {
    sign_up(browser, &alice()).await;
    let (id, secret) = create_client(browser, redirect_uri).await;
    open_consent(browser, &id, redirect_uri).await;
    let landed = answer_consent(browser, "Allow", redirect_uri).await;
    let code = query_param(&landed, "code").unwrap_or_else(|| panic!("no code in {landed}"));
    (id, secret, code)
}
