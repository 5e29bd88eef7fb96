//! Racing redemptions: exactly one winner (atomic conditional update).

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::fixtures::tokens;
use crate::helpers::TestClient;
use crate::helpers::{both_backends, json, spawn_app};

const RACERS: usize = 20;

/// Asserts exactly one 200 and that every loser got 400 `invalid_grant`.
fn assert_exactly_one_winner(outcomes: &[(StatusCode, Value)]) {
    let winners = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    assert_eq!(winners, 1, "winners among {RACERS}: {outcomes:?}");
    for (status, body) in outcomes.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(
            (*status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "a loser got {status} {body}"
        );
    }
}

both_backends!(
    twenty_concurrent_redemptions_of_one_code_give_exactly_one_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = TestClient::confidential(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let code = client.authorization_code(&app, "profile", None).await;

        let outcomes = join_all((0..RACERS).map(|_| async {
            let (status, _, body) = json(client.redeem_code(&app, &code, None).await).await;
            (status, body)
        }))
        .await;

        assert_exactly_one_winner(&outcomes);
    }
);

both_backends!(
    twenty_concurrent_uses_of_one_refresh_token_give_exactly_one_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = TestClient::confidential(&["password", "refresh_token"], "profile")
            .register(&app)
            .await;
        let (_, refresh) = tokens(&client.password_token(&app, &user, "profile").await);
        let refresh = refresh.unwrap();

        let outcomes = join_all((0..RACERS).map(|_| async {
            let (status, _, body) = json(client.refresh(&app, &refresh, None).await).await;
            (status, body)
        }))
        .await;

        assert_exactly_one_winner(&outcomes);
    }
);

both_backends!(
    twenty_concurrent_sign_ups_of_one_name_give_exactly_one_account,
    |backend| async move {
        let app = spawn_app(backend).await;
        let username = crate::helpers::unique_name("user");
        let browsers: Vec<_> = (0..RACERS).map(|_| app.another_browser()).collect();

        let statuses = join_all(
            browsers
                .iter()
                .map(|browser| async { browser.signup(&username, "pw pw pw pw").await.status() }),
        )
        .await;

        let created = statuses.iter().filter(|s| s.is_redirection()).count();
        assert_eq!(created, 1, "{statuses:?}");
        assert!(
            statuses
                .iter()
                .all(|s| s.is_redirection() || s.is_client_error()),
            "{statuses:?}"
        );
    }
);
