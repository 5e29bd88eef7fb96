//! An operator disables a user (`tessera user disable`, through the same provider call): the
//! user's browser is signed out at once, `/login` answers as for a wrong password, their
//! access tokens stop working at `/api/me` and introspection, their refresh tokens are
//! revoked and the password grant is `invalid_grant`. Enabling them lets them sign in again;
//! the revoked tokens stay revoked, and so does a JWT access token issued before the disable
//! that names no family (nothing stored could be revoked for it).

use std::sync::Arc;

use chrono::Duration;
use reqwest::StatusCode;
use tessera_domain::{Clock as _, FixedClock, SystemClock};

use crate::helpers::{
    app_with_password_tokens, assert_oauth_error, assert_tokens, both_backends,
    spawn_app_with_clock, TestClient,
};

both_backends!(
    a_disabled_user_is_signed_out_refused_and_loses_every_token_until_enabled,
    |backend| async move {
        let client = TestClient::confidential(&["password", "refresh_token"], "profile");
        let (app, user, client, tokens) =
            app_with_password_tokens(backend, client, "profile").await;
        let refresh = tokens.refresh.clone().expect("a refresh token");
        assert_eq!(app.get_page("/account").await.status(), StatusCode::OK);
        app.assert_api_me_ok(&tokens.access).await;

        let id = app.user_id(&user.username).await;
        let disabled = app
            .operator(move |provider| provider.disable_user(id))
            .await
            .expect("the user is disabled");
        assert!(disabled);

        let signed_out = app.get_page("/account").await;
        assert_eq!(
            signed_out.status(),
            StatusCode::SEE_OTHER,
            "signed out at once"
        );
        assert_eq!(app.location(&signed_out).path(), "/login");

        let refused = app.login(&user.username, &user.password, None).await;
        let refused_status = refused.status();
        let refused_page = refused.text().await.expect("body");
        let stranger = app.another_browser();
        let wrong = stranger
            .login(&user.username, "not the password at all", None)
            .await;
        assert_eq!(refused_status, StatusCode::BAD_REQUEST);
        assert_eq!(
            wrong.status(),
            refused_status,
            "same answer as a wrong password"
        );
        let wrong_page = wrong.text().await.expect("body");
        assert!(
            refused_page.contains("Invalid username or password."),
            "{refused_page}"
        );
        assert!(
            wrong_page.contains("Invalid username or password."),
            "{wrong_page}"
        );
        assert_eq!(
            app.get_page("/account").await.status(),
            StatusCode::SEE_OTHER
        );

        app.assert_api_me_unauthorized(&tokens.access).await;
        let described = client.introspect(&app, &tokens.access).await;
        assert_eq!(described["active"], false, "{described}");
        assert_oauth_error(
            client.refresh(&app, &refresh, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        assert_oauth_error(
            client.password_grant(&app, &user, "profile").await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;

        let enabled = app
            .operator(move |provider| provider.enable_user(id))
            .await
            .expect("the user is enabled");
        assert!(enabled);
        let signed_in = app.login(&user.username, &user.password, None).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get_page("/account").await.status(), StatusCode::OK);
        app.assert_api_me_unauthorized(&tokens.access).await;
        assert_oauth_error(
            client.refresh(&app, &refresh, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        let fresh = assert_tokens(client.password_grant(&app, &user, "profile").await).await;
        app.assert_api_me_ok(&fresh.access).await;
    }
);

both_backends!(
    a_jwt_without_a_family_issued_before_a_disable_stays_refused_after_the_enable,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(SystemClock.now()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        // The password grant without refresh tokens: a JWT access token stored nowhere.
        let stateless =
            TestClient::confidential(&["password"], "profile").access_token_format("jwt");
        let (user, client) = app.user_and_client(stateless).await;
        let before = client.password_tokens(&app, &user, "profile").await;
        assert_eq!(before.access.split('.').count(), 3, "a JWT: {before}");
        assert_eq!(before.refresh, None);
        app.assert_api_me_ok(&before.access).await;

        let id = app.user_id(&user.username).await;
        clock.advance(Duration::seconds(1));
        let disabled = app
            .operator(move |provider| provider.disable_user(id))
            .await;
        assert!(disabled.expect("the user is disabled"));
        app.assert_api_me_unauthorized(&before.access).await;
        clock.advance(Duration::seconds(1));
        let enabled = app.operator(move |provider| provider.enable_user(id)).await;
        assert!(enabled.expect("the user is enabled"));

        app.assert_api_me_unauthorized(&before.access).await;
        let described = client.introspect(&app, &before.access).await;
        assert_eq!(described["active"], false, "{described}");
        let after = client.password_tokens(&app, &user, "profile").await;
        app.assert_api_me_ok(&after.access).await;
        let described = client.introspect(&app, &after.access).await;
        assert_eq!(described["active"], true, "{described}");
    }
);
