//! `max_age` (OpenID Connect Core §3.1.2.1) against the server's clock: a sign-in older than
//! `max_age` is asked for again, and the fresh sign-in returns to a working request.

use std::sync::Arc;

use chrono::{DateTime, Duration};
use reqwest::StatusCode;
use tessera_domain::FixedClock;

use crate::helpers::{both_backends, query_param, spawn_app_with_clock, TestClient};

both_backends!(
    a_sign_in_older_than_max_age_signs_in_again_then_returns_to_the_client,
    |backend| async move {
        let start = DateTime::from_timestamp(1_900_000_000, 0).expect("a time");
        let clock = Arc::new(FixedClock::at(start));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let (user, client) = app
            .user_and_client(TestClient::confidential(&["authorization_code"], "openid"))
            .await;
        // Approve once, so that later requests need no consent page.
        client.authorization_code(&app, "openid", None).await;

        let mut query = client.code_query("openid", None);
        query.push(("max_age", "600"));
        clock.advance(Duration::minutes(5));
        let fresh = app.get_authorize(&query).await;
        assert_eq!(fresh.status(), StatusCode::FOUND);
        assert!(query_param(&app.location(&fresh), "code").is_some());

        clock.advance(Duration::minutes(10));
        let stale = app.get_authorize(&query).await;
        assert_eq!(stale.status(), StatusCode::FOUND);
        let to_login = app.location(&stale);
        assert_eq!(to_login.path(), "/login");
        let next = query_param(&to_login, "next").expect("a next URL");
        assert!(!next.contains("max_age"), "{next}");

        let signed_in = app.login(&user.username, &user.password, Some(&next)).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        let back = app.follow(signed_in).await;
        assert_eq!(back.status(), StatusCode::FOUND);
        let location = app.location(&back);
        assert!(query_param(&location, "code").is_some(), "{location}");
    }
);
