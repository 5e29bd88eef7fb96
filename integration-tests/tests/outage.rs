//! DESIGN §4: while the database is unreachable or locked past its timeout, Tessera answers
//! 503 (`temporarily_unavailable` with `Retry-After` at the token endpoint) and never an
//! answer that would make a client drop good credentials (`invalid_grant`, `invalid_client`,
//! 401); when the database returns, the same server serves again and nothing was lost.
//!
//! The outage (`TestDb::outage`) differs per backend. On Postgres the database refuses
//! connections and the pooled ones are killed, so every route that needs it answers 503 after
//! the 3 s pool checkout timeout. On SQLite another connection holds the write lock: in WAL
//! mode reads still work, so only writes wait out the 5 s busy timeout and answer 503.

use reqwest::StatusCode;

use crate::helpers::fixtures::{app_with_user_and_client, assert_tokens};
use crate::helpers::{assert_temporarily_unavailable, both_backends, json, Backend, TestClient};

both_backends!(
    the_token_endpoint_answers_503_during_an_outage_and_serves_again_after_it,
    |backend| async move {
        let (app, user, client) =
            app_with_user_and_client(backend, TestClient::confidential(&["password"], "profile"))
                .await;
        let access = client.password_tokens(&app, &user, "profile").await.access;

        let outage = app.database().outage().expect("the outage begins");
        let (token, me, health) = tokio::join!(
            client.password_grant(&app, &user, "profile"),
            app.get_api_me(&access),
            app.get_page("/healthz"),
        );
        assert_temporarily_unavailable(token).await;
        // The access token is valid, so it is never refused with a 401. Postgres is
        // unreachable, so checking the token cannot succeed: 503. SQLite only refuses
        // writes, and reading a token (or `SELECT 1`) needs none: 200, which is what the
        // contract implies for a database that answers.
        let expected = match backend {
            Backend::Postgres => StatusCode::SERVICE_UNAVAILABLE,
            Backend::Sqlite => StatusCode::OK,
        };
        assert_eq!(me.status(), expected, "/api/me during the outage");
        assert_eq!(health.status(), expected, "/healthz during the outage");
        drop(outage);

        assert_tokens(client.password_grant(&app, &user, "profile").await).await;
        let me = app.assert_api_me_ok(&access).await;
        assert_eq!(me["username"], user.username.as_str());
        assert_eq!(app.get_page("/healthz").await.status(), StatusCode::OK);
    }
);

both_backends!(
    a_refresh_token_presented_during_an_outage_still_works_after_it,
    |backend| async move {
        let (app, user, client) = app_with_user_and_client(
            backend,
            TestClient::confidential(&["password", "refresh_token"], "profile"),
        )
        .await;
        let tokens = client.password_tokens(&app, &user, "profile").await;
        let refresh = tokens.refresh_token();

        let outage = app.database().outage().expect("the outage begins");
        assert_temporarily_unavailable(client.refresh(&app, refresh, None).await).await;
        drop(outage);

        // Not spent: the failed rotation changed nothing, so this is no replay.
        let rotated = assert_tokens(client.refresh(&app, refresh, None).await).await;
        assert_ne!(rotated.refresh_token(), refresh);
        app.assert_api_me_ok(&rotated.access).await;
    }
);

both_backends!(
    a_code_redeemed_during_an_outage_still_works_after_it,
    |backend| async move {
        let (app, _user, client) = app_with_user_and_client(
            backend,
            TestClient::confidential(&["authorization_code"], "profile"),
        )
        .await;
        let code = client.authorization_code(&app, "profile", None).await;

        let outage = app.database().outage().expect("the outage begins");
        assert_temporarily_unavailable(client.redeem_code(&app, &code, None).await).await;
        drop(outage);

        // Not burned: the failed redemption changed nothing, so this is its first use.
        let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        app.assert_api_me_ok(&tokens.access).await;
    }
);

both_backends!(
    introspection_and_revocation_answer_503_never_inactive_during_an_outage,
    |backend| async move {
        let (app, user, client) =
            app_with_user_and_client(backend, TestClient::confidential(&["password"], "profile"))
                .await;
        let access = client.password_tokens(&app, &user, "profile").await.access;
        let form = [("token", access.as_str())];

        let outage = app.database().outage().expect("the outage begins");
        let (introspection, revocation) = tokio::join!(
            client.post_introspect(&app, &form),
            client.post_revoke(&app, &form),
        );
        // Revoking writes, so it waits out the outage on both backends. Introspecting only
        // reads: Postgres cannot answer (503), SQLite can (the token is active). A good
        // token is never called inactive, which would make a resource server refuse it.
        assert_temporarily_unavailable(revocation).await;
        match backend {
            Backend::Postgres => assert_temporarily_unavailable(introspection).await,
            Backend::Sqlite => {
                let (status, _, body) = json(introspection).await;
                assert_eq!((status, &body["active"]), (StatusCode::OK, &true.into()));
            }
        }
        drop(outage);

        assert_eq!(client.introspect(&app, &access).await["active"], true);
        assert_eq!(
            client.post_revoke(&app, &form).await.status(),
            StatusCode::OK
        );
        assert_eq!(client.introspect(&app, &access).await["active"], false);
    }
);
