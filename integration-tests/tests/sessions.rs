//! DESIGN §5 "sign-out": sessions are recorded, so signing out ends one on every process (a
//! copy of its cookie signs in no more); the account page lists a user's sessions and ends
//! one or all of them; a password change ends every other session.

use std::sync::Arc;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use tessera_domain::SystemClock;
use tessera_web::startup::SESSION_COOKIE;

use crate::helpers::{both_backends, html, spawn_app, TestApp, TestUser};

/// A browser whose cookie the test holds: what an attacker who copied it would send.
struct CapturedCookie {
    client: reqwest::Client,
    cookie: String,
}

impl CapturedCookie {
    /// Signs `user` in at `app` from a browser calling itself `agent`; keeps the cookie.
    async fn sign_in(app: &TestApp, user: &TestUser, agent: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(agent)
            .build()
            .expect("a reqwest client builds");
        let page = client
            .get(app.url("/login"))
            .send()
            .await
            .expect("GET /login");
        let first = session_cookie(&page).expect("a session cookie for the sign-in form");
        let csrf = html::input_value(&page.text().await.expect("body"), "csrf_token")
            .expect("a csrf_token on /login");
        let signed_in = client
            .post(app.url("/login"))
            .header(COOKIE, &first)
            .form(&[
                ("username", user.username.as_str()),
                ("password", user.password.as_str()),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .expect("POST /login");
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "sign-in");
        let cookie = session_cookie(&signed_in).expect("a renewed session cookie");
        Self { client, cookie }
    }

    /// `GET path` at `app` with the captured cookie.
    async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.client
            .get(app.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("GET")
    }

    /// Whether the cookie signs in at `app`: the account page shows instead of the sign-in
    /// redirect.
    async fn signs_in(&self, app: &TestApp) -> bool {
        let response = self.get(app, "/account").await;
        match response.status() {
            StatusCode::OK => true,
            StatusCode::SEE_OTHER => false,
            other => panic!("/account answered {other}"),
        }
    }

    /// `POST path` with the cookie and the CSRF token of the account page.
    async fn post_from_account(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = self.get(app, "/account").await.text().await.expect("body");
        let csrf = html::input_value(&page, "csrf_token").expect("a csrf_token on /account");
        let mut form = fields.to_vec();
        form.push(("csrf_token", &csrf));
        self.client
            .post(app.url(path))
            .header(COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("POST")
    }
}

/// `name=value` of the session cookie a response sets, if it sets one.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
}

/// The ids of the sessions listed on an account page, and the one marked as this browser's.
fn listed_sessions(page: &str) -> (Vec<String>, Option<String>) {
    let mut ids = Vec::new();
    let mut current = None;
    for item in page.split("<li id=\"session-").skip(1) {
        let id = item.split('"').next().unwrap_or_default().to_owned();
        let entry = item.split("</li>").next().unwrap_or_default();
        if entry.contains("(this browser)") {
            current = Some(id.clone());
        }
        ids.push(id);
    }
    (ids, current)
}

/// A signed-up user (in `app`'s own browser).
async fn user_of(app: &TestApp) -> TestUser {
    app.signed_up_user().await
}

both_backends!(
    a_cookie_copied_before_sign_out_signs_in_no_more_on_any_process,
    |backend| async move {
        let app = spawn_app(backend).await;
        let other_process = app.another_process(Arc::new(SystemClock)).await;
        let user = user_of(&app).await;
        let copied = CapturedCookie::sign_in(&app, &user, "Copied/1.0").await;
        assert!(copied.signs_in(&app).await, "signed in here");
        assert!(copied.signs_in(&other_process).await, "signed in there");

        let signed_out = copied.post_from_account(&app, "/logout", &[]).await;
        assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);

        assert!(!copied.signs_in(&app).await, "the copy still signs in here");
        assert!(
            !copied.signs_in(&other_process).await,
            "the copy still signs in on the other process"
        );
        // The user's other browser is another session: still signed in.
        assert_eq!(app.get_page("/account").await.status(), StatusCode::OK);
    }
);

both_backends!(
    the_account_page_lists_each_session_and_ends_one_or_all,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = user_of(&app).await;
        let laptop = CapturedCookie::sign_in(&app, &user, "Laptop/1.0").await;
        let phone = CapturedCookie::sign_in(&app, &user, "Phone/2.0").await;

        let page = html::unescape(
            &laptop
                .get(&app, "/account")
                .await
                .text()
                .await
                .expect("body"),
        );
        let (ids, current) = listed_sessions(&page);
        assert_eq!(ids.len(), 3, "sign-up, laptop and phone: {page}");
        assert!(
            page.contains("Laptop/1.0") && page.contains("Phone/2.0"),
            "{page}"
        );
        // The sign-up browser sent no User-Agent.
        assert!(page.contains("Unknown browser"), "{page}");
        let current = current.expect("this browser's session is marked");
        let phone_page = phone
            .get(&app, "/account")
            .await
            .text()
            .await
            .expect("body");
        let phone_id = listed_sessions(&phone_page).1.expect("the phone's session");
        assert_ne!(current, phone_id);

        let ended = laptop
            .post_from_account(&app, &format!("/account/sessions/{phone_id}/end"), &[])
            .await;
        assert_eq!(ended.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.location(&ended).path(), "/account");
        assert!(
            !phone.signs_in(&app).await,
            "the ended session still signs in"
        );
        assert!(laptop.signs_in(&app).await, "the laptop was signed out too");
        let page = laptop
            .get(&app, "/account")
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(listed_sessions(&page).0.len(), 2, "{page}");

        // Ending it again, or a session that does not exist: 404, nothing changes.
        let again = laptop
            .post_from_account(&app, &format!("/account/sessions/{phone_id}/end"), &[])
            .await;
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
        for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] {
            let response = laptop
                .post_from_account(&app, &format!("/account/sessions/{bad}/end"), &[])
                .await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
        }

        let everywhere = laptop
            .post_from_account(&app, "/account/sessions/end_all", &[])
            .await;
        assert_eq!(everywhere.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.location(&everywhere).path(), "/");
        assert!(
            !laptop.signs_in(&app).await,
            "sign out everywhere kept the laptop"
        );
        assert_eq!(
            app.get_page("/account").await.status(),
            StatusCode::SEE_OTHER,
            "sign out everywhere kept the sign-up browser"
        );
    }
);

both_backends!(
    a_session_of_another_user_cannot_be_ended_and_forms_need_the_csrf_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        let alice = CapturedCookie::sign_in(&app, &user_of(&app).await, "Alice/1.0").await;
        let bob =
            CapturedCookie::sign_in(&app, &user_of(&app.another_browser()).await, "Bob/1.0").await;
        let page = bob.get(&app, "/account").await.text().await.expect("body");
        let bobs_session = listed_sessions(&page).1.expect("Bob's session");

        let response = alice
            .post_from_account(&app, &format!("/account/sessions/{bobs_session}/end"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(bob.signs_in(&app).await, "Alice ended Bob's session");

        for path in [
            format!("/account/sessions/{bobs_session}/end"),
            "/account/sessions/end_all".to_owned(),
            "/account/password".to_owned(),
        ] {
            let response = bob
                .client
                .post(app.url(&path))
                .header(COOKIE, &bob.cookie)
                .form(&[("current_password", "x"), ("new_password", "y")])
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert!(
            bob.signs_in(&app).await,
            "a form without CSRF token ended Bob's session"
        );
    }
);

both_backends!(
    changing_the_password_ends_every_other_session,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = user_of(&app).await;
        let here = CapturedCookie::sign_in(&app, &user, "Here/1.0").await;
        let elsewhere = CapturedCookie::sign_in(&app, &user, "Elsewhere/1.0").await;
        let new_password = "a brand new passphrase";

        let wrong = here
            .post_from_account(
                &app,
                "/account/password",
                &[
                    ("current_password", "not the password"),
                    ("new_password", new_password),
                ],
            )
            .await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        let page = wrong.text().await.expect("body");
        assert!(
            html::element_text(&page, "password_error").is_some(),
            "no error next to the form: {page}"
        );
        let too_short = here
            .post_from_account(
                &app,
                "/account/password",
                &[
                    ("current_password", &user.password),
                    ("new_password", "short"),
                ],
            )
            .await;
        assert_eq!(too_short.status(), StatusCode::BAD_REQUEST);
        assert!(
            elsewhere.signs_in(&app).await,
            "a refused change ended a session"
        );

        let changed = here
            .post_from_account(
                &app,
                "/account/password",
                &[
                    ("current_password", &user.password),
                    ("new_password", new_password),
                ],
            )
            .await;
        assert_eq!(changed.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.location(&changed).path(), "/account");

        assert!(
            here.signs_in(&app).await,
            "the browser that changed it was signed out"
        );
        assert!(
            !elsewhere.signs_in(&app).await,
            "another session survived the change"
        );
        assert_eq!(
            app.get_page("/account").await.status(),
            StatusCode::SEE_OTHER,
            "the sign-up browser survived the change"
        );
        let old = app.login(&user.username, &user.password, None).await;
        assert_eq!(
            old.status(),
            StatusCode::BAD_REQUEST,
            "the old password works"
        );
        let new = app.login(&user.username, new_password, None).await;
        assert_eq!(
            new.status(),
            StatusCode::SEE_OTHER,
            "the new password fails"
        );
    }
);

both_backends!(
    a_wrong_current_password_is_throttled_like_a_sign_in,
    |backend| async move {
        let app = crate::helpers::spawn_app_with(backend, &[("TESSERA_MAX_FAILURES", "2")]).await;
        let user = user_of(&app).await;
        let browser = CapturedCookie::sign_in(&app, &user, "Guess/1.0").await;
        let guess = || {
            browser.post_from_account(
                &app,
                "/account/password",
                &[
                    ("current_password", "a wrong guess"),
                    ("new_password", "whatever it is"),
                ],
            )
        };
        assert_eq!(guess().await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(guess().await.status(), StatusCode::BAD_REQUEST);

        let locked = browser
            .post_from_account(
                &app,
                "/account/password",
                &[
                    ("current_password", &user.password),
                    ("new_password", "whatever it is"),
                ],
            )
            .await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.headers().contains_key("retry-after"));
        let login = app
            .another_browser()
            .login(&user.username, &user.password, None)
            .await;
        assert_eq!(
            login.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "sign-in not locked too"
        );
    }
);

both_backends!(the_user_agent_is_recorded_shortened, |backend| async move {
    let app = spawn_app(backend).await;
    let user = user_of(&app).await;
    let long_agent = format!("Long/{}", "x".repeat(500));
    let browser = CapturedCookie::sign_in(&app, &user, &long_agent).await;
    let page = html::unescape(
        &browser
            .get(&app, "/account")
            .await
            .text()
            .await
            .expect("body"),
    );
    let kept = format!("Long/{}", "x".repeat(195));
    assert!(
        page.contains(&format!(r#"<small class="muted agent">{kept}</small>"#)),
        "{page}"
    );
});

both_backends!(
    signing_out_through_the_openid_logout_endpoint_ends_the_session_too,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = user_of(&app).await;
        let copied = CapturedCookie::sign_in(&app, &user, "Copied/1.0").await;
        let page = copied.get(&app, "/oauth/logout").await;
        assert_eq!(page.status(), StatusCode::OK, "the confirmation page");
        let page = page.text().await.expect("body");
        let mut form = html::form_hidden_inputs(&page, "/oauth/logout");
        form.push(("confirm".into(), "yes".into()));

        let response = copied
            .client
            .post(app.url("/oauth/logout"))
            .header(COOKIE, &copied.cookie)
            .form(&form)
            .send()
            .await
            .expect("POST /oauth/logout");
        assert_eq!(response.status(), StatusCode::OK, "the signed-out page");

        assert!(!copied.signs_in(&app).await, "the copy still signs in");
    }
);
