//! Racing redemptions: exactly one winner (atomic conditional update); and revocation racing
//! rotation: whichever wins, no token of the chain outlives the revocation.

use std::future::Future;

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{json as json_value, Value};

use crate::helpers::{
    app_with_password_tokens, app_with_user_and_client, both_backends, json, spawn_app,
    RegisteredClient, TestApp, TestClient, TestUser, Tokens,
};

/// How many copies of one request race (DESIGN: 32 simultaneous redemptions).
const RACERS: usize = 32;

/// Rounds of a refresh racing a revocation of the same refresh token.
const REVOKE_ROUNDS: usize = 20;

/// The status and JSON body of an answer.
async fn outcome(response: Response) -> (StatusCode, Value) {
    let (status, _, body) = json(response).await;
    (status, body)
}

/// Sends [`RACERS`] copies of one request at once; returns each status and JSON body.
async fn race<F: Future<Output = Response>>(request: impl Fn() -> F) -> Vec<(StatusCode, Value)> {
    join_all((0..RACERS).map(|_| async { outcome(request().await).await })).await
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
    thirty_two_concurrent_redemptions_of_one_code_give_exactly_one_token,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let code = client.authorization_code(&app, "profile", None).await;

        let outcomes = race(|| client.redeem_code(&app, &code, None)).await;

        assert_exactly_one_winner(&outcomes);
    }
);

both_backends!(
    thirty_two_concurrent_uses_of_one_refresh_token_give_exactly_one_token,
    |backend| async move {
        let client = TestClient::confidential(&["password", "refresh_token"], "profile");
        let (app, _, client, tokens) = app_with_password_tokens(backend, client, "profile").await;

        let outcomes = race(|| client.refresh(&app, tokens.refresh_token(), None)).await;

        assert_exactly_one_winner(&outcomes);
    }
);

both_backends!(
    thirty_two_concurrent_sign_ups_of_one_name_give_exactly_one_account,
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

/// Asserts a refused refresh: 400 `invalid_grant`.
fn assert_invalid_grant((status, body): &(StatusCode, Value), what: &str) {
    assert_eq!(
        (*status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{what}: {status} {body}"
    );
}

/// Asserts that revocation succeeded: 200 `{}` (RFC 7009 §2.2).
fn assert_revoked((status, body): &(StatusCode, Value), what: &str) {
    assert_eq!(
        (*status, body),
        (StatusCode::OK, &json_value!({})),
        "{what}: the revocation answered {status} {body}"
    );
}

/// Asserts that none of `tokens` is active any more: introspection says exactly
/// `{"active": false}` and `/api/me` refuses each access token.
async fn assert_chain_dead(
    app: &TestApp,
    client: &RegisteredClient,
    tokens: &[&Tokens],
    what: &str,
) {
    for tokens in tokens {
        for token in [tokens.access.as_str(), tokens.refresh_token()] {
            assert_eq!(
                client.introspect(app, token).await,
                json_value!({"active": false}),
                "{what}: a token of the revoked chain is still active"
            );
        }
        app.assert_api_me_unauthorized(&tokens.access).await;
    }
}

/// A confidential password + refresh client and a user, and a fresh chain for each round.
async fn revocable(backend: crate::helpers::Backend) -> (TestApp, TestUser, RegisteredClient) {
    let client = TestClient::confidential(&["password", "refresh_token"], "profile");
    app_with_user_and_client(backend, client).await
}

both_backends!(
    a_refresh_racing_the_revocation_of_its_token_never_outlives_it,
    |backend| async move {
        let (app, user, client) = revocable(backend).await;
        let mut refreshes_won = 0;
        for round in 0..REVOKE_ROUNDS {
            let what = format!("round {round}");
            let first = client.password_tokens(&app, &user, "profile").await;
            let refresh = first.refresh_token();

            let (refreshed, revoked) = tokio::join!(
                async { outcome(client.refresh(&app, refresh, None).await).await },
                async { outcome(client.post_revoke(&app, &[("token", refresh)]).await).await },
            );

            assert_revoked(&revoked, &what);
            let mut chain = vec![first.clone()];
            if refreshed.0 == StatusCode::OK {
                refreshes_won += 1;
                chain.push(Tokens::from(refreshed.1));
            } else {
                assert_invalid_grant(&refreshed, &what);
            }
            assert_chain_dead(&app, &client, &chain.iter().collect::<Vec<_>>(), &what).await;
        }
        println!("the refresh won {refreshes_won} of {REVOKE_ROUNDS} races against revocation");
    }
);

both_backends!(
    thirty_two_refreshes_racing_a_revocation_leave_no_token_alive,
    |backend| async move {
        let (app, user, client) = revocable(backend).await;
        let first = client.password_tokens(&app, &user, "profile").await;
        let refresh = first.refresh_token();

        let refreshes = join_all(
            (0..RACERS).map(|_| async { outcome(client.refresh(&app, refresh, None).await).await }),
        );
        let revocation =
            async { outcome(client.post_revoke(&app, &[("token", refresh)]).await).await };
        let (outcomes, revoked) = tokio::join!(refreshes, revocation);

        assert_revoked(&revoked, "the revocation");
        let mut chain = vec![first.clone()];
        for (status, body) in outcomes {
            if status == StatusCode::OK {
                chain.push(Tokens::from(body));
            } else {
                assert_invalid_grant(&(status, body), "a losing refresh");
            }
        }
        assert!(chain.len() <= 2, "{} refreshes won", chain.len() - 1);
        assert_chain_dead(
            &app,
            &client,
            &chain.iter().collect::<Vec<_>>(),
            "after the race",
        )
        .await;
    }
);
