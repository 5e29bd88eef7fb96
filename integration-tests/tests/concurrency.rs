//! Racing redemptions: exactly one winner (atomic conditional update).

use std::future::Future;

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{
    app_with_password_tokens, app_with_user_and_client, both_backends, json, spawn_app, TestClient,
};

const RACERS: usize = 20;

/// Sends [`RACERS`] copies of one request at once; returns each status and JSON body.
async fn race<F: Future<Output = Response>>(request: impl Fn() -> F) -> Vec<(StatusCode, Value)> {
    join_all((0..RACERS).map(|_| async {
        let (status, _, body) = json(request().await).await;
        (status, body)
    }))
    .await
}

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
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let code = client.authorization_code(&app, "profile", None).await;

        let outcomes = race(|| client.redeem_code(&app, &code, None)).await;

        assert_exactly_one_winner(&outcomes);
    }
);

both_backends!(
    twenty_concurrent_uses_of_one_refresh_token_give_exactly_one_token,
    |backend| async move {
        let client = TestClient::confidential(&["password", "refresh_token"], "profile");
        let (app, _, client, tokens) = app_with_password_tokens(backend, client, "profile").await;

        let outcomes = race(|| client.refresh(&app, tokens.refresh_token(), None)).await;

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
