//! Brute-force throttling at the default settings: failed sign-ins lock a username (known or
//! not) and an address, failed client authentication locks a client, on every process.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::header::RETRY_AFTER;
use reqwest::{Response, StatusCode};
use tessera_domain::FixedClock;

use crate::helpers::{
    assert_oauth_error, both_backends, spawn_app, spawn_app_with, spawn_app_with_clock,
    unique_name, Backend, TestApp, TestClient,
};

const WRONG: &str = "definitely the wrong password";

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).expect("a valid time")
}

async fn fail_logins(app: &TestApp, username: &str, times: usize) {
    for attempt in 0..times {
        let response = app.login(username, WRONG, None).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }
}

async fn assert_locked_page(response: Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[RETRY_AFTER]
        .to_str()
        .expect("Retry-After is text")
        .parse()
        .expect("Retry-After is seconds");
    let body = response.text().await.expect("a page");
    assert!(body.contains("Try again in"), "{body}");
    retry_after
}

async fn password_grant(
    app: &TestApp,
    client_id: &str,
    username: &str,
    password: &str,
) -> Response {
    app.post_token(
        &[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", username),
            ("password", password),
        ],
        None,
    )
    .await
}

both_backends!(
    five_wrong_passwords_lock_the_sign_in_page_even_for_the_right_one,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.another_browser().signed_up_user().await;
        fail_logins(&app, &user.username, 5).await;
        let response = app.login(&user.username, &user.password, None).await;
        let retry_after = assert_locked_page(response).await;
        assert!((1..=60).contains(&retry_after), "{retry_after}");
    }
);

both_backends!(
    an_unknown_username_is_locked_exactly_like_a_known_one,
    |backend| async move {
        let app = spawn_app(backend).await;
        let unknown = unique_name("ghost");
        fail_logins(&app, &unknown, 5).await;
        let retry_after = assert_locked_page(app.login(&unknown, WRONG, None).await).await;
        assert!((1..=60).contains(&retry_after), "{retry_after}");
    }
);

both_backends!(
    a_success_before_the_limit_resets_the_count,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.another_browser().signed_up_user().await;
        fail_logins(&app, &user.username, 4).await;
        let ok = app
            .another_browser()
            .login(&user.username, &user.password, None)
            .await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        fail_logins(&app, &user.username, 4).await;
        let ok = app
            .another_browser()
            .login(&user.username, &user.password, None)
            .await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    }
);

both_backends!(
    a_lockout_expires_after_a_minute_and_the_next_one_lasts_two,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let user = app.another_browser().signed_up_user().await;
        fail_logins(&app, &user.username, 5).await;
        assert_eq!(
            assert_locked_page(app.login(&user.username, WRONG, None).await).await,
            60
        );
        clock.advance(Duration::minutes(1));
        fail_logins(&app, &user.username, 5).await;
        assert_eq!(
            assert_locked_page(app.login(&user.username, WRONG, None).await).await,
            120
        );
        clock.advance(Duration::minutes(2));
        let ok = app.login(&user.username, &user.password, None).await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    }
);

both_backends!(
    the_password_grant_of_a_public_client_locks_with_429_invalid_grant,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::public(&["password"], "profile")
            .register(&app)
            .await;
        let user = app.another_browser().signed_up_user().await;
        for _ in 0..5 {
            let response = password_grant(&app, &client.id, &user.username, WRONG).await;
            assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
        }
        let response = password_grant(&app, &client.id, &user.username, &user.password).await;
        let headers =
            assert_oauth_error(response, StatusCode::TOO_MANY_REQUESTS, "invalid_grant").await;
        assert!(headers.get(RETRY_AFTER).is_some());
        // The page shares the username's lockout.
        assert_locked_page(app.login(&user.username, &user.password, None).await).await;
    }
);

async fn lock_the_address(app: &TestApp, forwarded_for: Option<&str>) {
    let csrf = app.csrf_token("/login").await;
    for attempt in 0..50 {
        let name = unique_name("spray");
        let mut request = app.client.post(app.url("/login")).form(&[
            ("username", name.as_str()),
            ("password", WRONG),
            ("csrf_token", csrf.as_str()),
        ]);
        if let Some(value) = forwarded_for {
            request = request.header("x-forwarded-for", value);
        }
        let response = request.send().await.expect("an answer");
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }
}

both_backends!(
    fifty_failures_from_one_address_lock_it_and_a_spoofed_forwarded_for_does_not_escape,
    |backend| async move {
        let app = spawn_app(backend).await;
        lock_the_address(&app, Some("198.51.100.1")).await;
        let fresh = unique_name("fresh");
        assert_locked_page(app.login(&fresh, WRONG, None).await).await;
        let csrf = app.csrf_token("/login").await;
        let spoofed = app
            .client
            .post(app.url("/login"))
            .header("x-forwarded-for", "203.0.113.77")
            .form(&[
                ("username", fresh.as_str()),
                ("password", WRONG),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_locked_page(spoofed).await;
    }
);

both_backends!(
    a_trusted_proxy_forwarded_for_names_the_address_that_is_counted,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_TRUSTED_PROXIES", "127.0.0.1")]).await;
        lock_the_address(&app, Some("198.51.100.1")).await;
        let csrf = app.csrf_token("/login").await;
        let attempt = |address: &'static str| {
            let name = unique_name("fresh");
            let csrf = csrf.clone();
            let app = &app;
            async move {
                app.client
                    .post(app.url("/login"))
                    .header("x-forwarded-for", address)
                    .form(&[
                        ("username", name.as_str()),
                        ("password", WRONG),
                        ("csrf_token", csrf.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_locked_page(attempt("198.51.100.1").await).await;
        assert_eq!(
            attempt("203.0.113.77").await.status(),
            StatusCode::BAD_REQUEST
        );
    }
);

both_backends!(
    failed_client_authentication_locks_the_client_id,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let form = [("grant_type", "client_credentials")];
        for _ in 0..5 {
            let response = app
                .post_token(&form, Some((&client.id, "wrong secret")))
                .await;
            assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        }
        let response = app.post_token(&form, Some(client.basic())).await;
        let headers =
            assert_oauth_error(response, StatusCode::TOO_MANY_REQUESTS, "invalid_client").await;
        assert!(headers.get(RETRY_AFTER).is_some());
    }
);

both_backends!(
    a_lockout_is_shared_by_every_process_on_the_database,
    |backend: Backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let first = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let second = first.another_process(clock.clone()).await;
        let user = first.another_browser().signed_up_user().await;
        fail_logins(&first, &user.username, 3).await;
        fail_logins(&second, &user.username, 2).await;
        assert_locked_page(first.login(&user.username, &user.password, None).await).await;
        assert_locked_page(second.login(&user.username, &user.password, None).await).await;
    }
);

both_backends!(
    client_credentials_does_not_queue_behind_a_flood_of_password_grants,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_BCRYPT_COST", "10")]).await;
        let user = app.another_browser().signed_up_user().await;
        let client = TestClient::confidential(&["password", "client_credentials"], "profile")
            .register(&app)
            .await;
        let app = Arc::new(app);
        let client = Arc::new(client);
        let grants: Vec<_> = (0..24)
            .map(|_| {
                let (app, client, user) = (app.clone(), client.clone(), user.clone());
                tokio::spawn(async move {
                    let response = client.password_grant(&app, &user, "profile").await;
                    assert_eq!(response.status(), StatusCode::OK);
                    std::time::Instant::now()
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let response = app
            .post_token(
                &[("grant_type", "client_credentials")],
                Some(client.basic()),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let client_credentials_done = std::time::Instant::now();
        let mut done_before = 0;
        for grant in grants {
            if grant.await.expect("a grant") < client_credentials_done {
                done_before += 1;
            }
        }
        // Queued behind the password checks, it would finish after most of them.
        assert!(
            done_before < 12,
            "{done_before} of 24 password grants finished before client_credentials"
        );
    }
);
