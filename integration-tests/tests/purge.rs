//! DESIGN §5 "expired rows": a purge (what every server runs every ten minutes) deletes the
//! codes and tokens past their use, keeps what reuse detection needs until the refresh token
//! lifetime has passed, deletes initial access tokens once expired or used up, never touches
//! what is still live, and a failing purge stops nothing.
//! The server's clock is fixed and moved forward, and the purge run on it directly.

use std::sync::Arc;

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use tessera_domain::purge::Purged;
use tessera_domain::{Clock as _, FixedClock, SystemClock};
use tessera_web::error::ServerFault;

use crate::helpers::fixtures::REDIRECT_URI;
use crate::helpers::{
    assert_oauth_error, both_backends, spawn_app, spawn_app_with_clock, Backend, RegisteredClient,
    TestApp, TestClient, TestUser,
};

/// A server on a fixed clock (default lifetimes: codes 5 minutes, access tokens an hour,
/// refresh tokens 30 days), its browser signed in, and a client that may use the code,
/// password and refresh grants.
async fn app_on_a_fixed_clock(
    backend: Backend,
) -> (TestApp, Arc<FixedClock>, TestUser, RegisteredClient) {
    let clock = Arc::new(FixedClock::at(SystemClock.now()));
    let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
    let grants = ["authorization_code", "password", "refresh_token"];
    let (user, client) = app
        .user_and_client(TestClient::confidential(&grants, "profile"))
        .await;
    (app, clock, user, client)
}

/// The status of a dynamic registration at `POST /oauth/register` with the initial access
/// token `token`.
async fn register_with(app: &TestApp, token: &str) -> StatusCode {
    app.client
        .post(app.url("/oauth/register"))
        .bearer_auth(token)
        .json(&json!({ "redirect_uris": [REDIRECT_URI] }))
        .send()
        .await
        .expect("POST /oauth/register")
        .status()
}

/// A purge that succeeds.
async fn purged(app: &TestApp) -> Purged {
    app.purge().await.expect("the purge succeeds")
}

both_backends!(
    expired_tokens_and_codes_are_gone_after_a_purge_and_live_ones_keep_working,
    |backend| async move {
        let (app, clock, user, client) = app_on_a_fixed_clock(backend).await;
        let old = client.password_tokens(&app, &user, "profile").await;
        let code = client.authorization_code(&app, "profile", None).await;
        clock.advance(Duration::hours(2));
        let fresh = client.password_tokens(&app, &user, "profile").await;

        assert_eq!(
            purged(&app).await,
            Purged {
                authorization_codes: 1,
                tokens: 1,
                ..Purged::default()
            }
        );

        assert!(!app.token_is_stored(&old.access).await);
        assert!(!app.code_is_stored(&code).await);
        let response = client.redeem_code(&app, &code, None).await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
        assert!(app.token_is_stored(old.refresh_token()).await);
        app.assert_api_me_ok(&fresh.access).await;
        let refreshed = client.refreshed(&app, old.refresh_token(), None).await;
        app.assert_api_me_ok(&refreshed.access).await;
    }
);

both_backends!(
    a_rotated_refresh_token_replayed_after_a_purge_still_revokes_its_chain,
    |backend| async move {
        let (app, clock, user, client) = app_on_a_fixed_clock(backend).await;
        let first = client.password_tokens(&app, &user, "profile").await;
        clock.advance(Duration::days(29));
        let second = client.refreshed(&app, first.refresh_token(), None).await;
        // The first refresh token expired a day ago, but it was rotated only two days ago.
        clock.advance(Duration::days(2));

        // The browser sessions that signed up the client's owner and the user are past their
        // 12 hours too.
        let both_access_tokens = Purged {
            tokens: 2,
            sessions: 2,
            ..Purged::default()
        };
        assert_eq!(purged(&app).await, both_access_tokens);
        assert!(app.token_is_stored(first.refresh_token()).await);

        let replay = client.refresh(&app, first.refresh_token(), None).await;
        assert_oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let revoked = client.refresh(&app, second.refresh_token(), None).await;
        assert_oauth_error(revoked, StatusCode::BAD_REQUEST, "invalid_grant").await;

        // Once the refresh token lifetime has passed since the rotation, nothing a replay
        // could revoke is left: the chain and its authorization go.
        clock.advance(Duration::days(30));
        assert_eq!(
            purged(&app).await,
            Purged {
                tokens: 2,
                authorizations: 1,
                ..Purged::default()
            }
        );
        assert!(!app.token_is_stored(first.refresh_token()).await);
        assert!(!app.token_is_stored(second.refresh_token()).await);
    }
);

both_backends!(
    a_purge_that_fails_reports_it_and_the_server_keeps_serving,
    |backend| async move {
        let app = spawn_app(backend).await;

        let outage = app.database().outage().expect("the outage begins");
        let failed = app.purge().await;
        drop(outage);

        assert!(
            matches!(failed, Err(ServerFault::Unavailable(_))),
            "{failed:?}"
        );
        assert_eq!(purged(&app).await, Purged::default());
        assert_eq!(app.get_page("/healthz").await.status(), StatusCode::OK);
    }
);

both_backends!(
    expired_and_used_up_initial_access_tokens_go_and_live_ones_keep_working,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(SystemClock.now()));
        let registration = [("TESSERA_REGISTRATION", "token")];
        let app = spawn_app_with_clock(backend, &registration, clock.clone()).await;
        let expiring = app.registration_token(Some(Duration::hours(1)), None).await;
        let once = app.registration_token(None, Some(1)).await;
        let twice = app
            .registration_token(Some(Duration::days(1)), Some(2))
            .await;
        let unlimited = app.registration_token(None, None).await;
        for token in [&expiring, &once, &twice] {
            assert_eq!(register_with(&app, token).await, StatusCode::CREATED);
        }
        clock.advance(Duration::hours(2));

        // The registration throttle's counter of this address is past its window too.
        assert_eq!(
            purged(&app).await,
            Purged {
                registration_tokens: 2,
                throttles: 1,
                ..Purged::default()
            }
        );
        for token in [&expiring, &once] {
            assert_eq!(register_with(&app, token).await, StatusCode::UNAUTHORIZED);
        }
        for token in [&twice, &unlimited] {
            assert_eq!(register_with(&app, token).await, StatusCode::CREATED);
        }
        assert_eq!(
            purged(&app).await,
            Purged {
                registration_tokens: 1,
                ..Purged::default()
            }
        );
        assert_eq!(register_with(&app, &twice).await, StatusCode::UNAUTHORIZED);
        assert_eq!(register_with(&app, &unlimited).await, StatusCode::CREATED);
    }
);
