//! The device authorization grant (RFC 8628): a client asks `POST /oauth/device_authorization`
//! for a device code and a user code, a signed-in user enters the user code at `/device` and
//! allows or denies, and the device polls the token endpoint until it gets tokens for that
//! user (or `access_denied`, `expired_token`), slowed down when it polls too fast.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use reqwest::header::{CACHE_CONTROL, LOCATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use tessera_domain::FixedClock;

use crate::helpers::html::{element_text, input_value};
use crate::helpers::{
    app_with_user_and_client, assert_oauth_error, assert_tokens, both_backends, json,
    spawn_app_with_clock, RegisteredClient, TestApp, TestClient,
};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const ALPHABET: &str = "BCDFGHJKLMNPQRSTVWXZ";

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).expect("a time")
}

fn device_client() -> TestClient {
    TestClient::confidential(&[DEVICE_GRANT, "refresh_token"], "openid profile")
}

/// Starts a device authorization for `scope`, expecting 200; returns the JSON.
async fn start(app: &TestApp, client: &RegisteredClient, scope: &str) -> Value {
    let response = client
        .post_device_authorization(app, &[("scope", scope)])
        .await;
    let (status, headers, body) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    body
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}: {body}"))
}

/// Polls the token endpoint with `device_code`.
async fn poll(app: &TestApp, client: &RegisteredClient, device_code: &str) -> reqwest::Response {
    client
        .post_token(
            app,
            &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
        )
        .await
}

/// Enters `user_code` on `/device` in `app`'s browser; returns the confirmation page.
async fn enter(app: &TestApp, user_code: &str) -> reqwest::Response {
    let csrf = app.csrf_token("/device").await;
    app.post_form(
        "/device",
        &[("user_code", user_code), ("csrf_token", &csrf)],
    )
    .await
}

/// Enters `user_code` and answers Allow (`true`) or Deny, expecting the 303 to the result.
async fn answer(app: &TestApp, user_code: &str, allow: bool) {
    let page = enter(app, user_code).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("body");
    let csrf = input_value(&html, "csrf_token").expect("a csrf_token on the confirmation page");
    let confirm = if allow { "yes" } else { "no" };
    let response = app
        .post_form(
            "/device",
            &[
                ("user_code", user_code),
                ("confirm", confirm),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let done = if allow { "approved" } else { "denied" };
    assert_eq!(
        response.headers()[LOCATION],
        format!("/device?done={done}").as_str()
    );
    let result = app.follow(response).await.text().await.expect("body");
    assert!(element_text(&result, "device_done").is_some(), "{result}");
}

both_backends!(
    a_user_approves_a_device_which_then_gets_tokens_for_that_user,
    |backend| async move {
        let named = TestClient {
            name: "Living room TV".to_owned(),
            ..device_client()
        };
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let (user, client) = app.user_and_client(named).await;
        let started = start(&app, &client, "openid profile").await;
        let device_code = field(&started, "device_code");
        let user_code = field(&started, "user_code");
        assert!(device_code.len() >= 43, "fewer than 256 bits: {started}");
        assert_eq!(user_code.len(), 9, "{started}");
        assert_eq!(&user_code[4..5], "-");
        assert!(user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| ALPHABET.contains(c)));
        assert_eq!(started["verification_uri"], app.url("/device"));
        assert_eq!(
            started["verification_uri_complete"],
            app.url(&format!("/device?user_code={user_code}"))
        );
        assert_eq!(started["expires_in"], 600);
        assert_eq!(started["interval"], 5);

        let pending = poll(&app, &client, device_code).await;
        assert_oauth_error(pending, StatusCode::BAD_REQUEST, "authorization_pending").await;

        let form = app
            .get_html(&format!("/device?user_code={user_code}"))
            .await;
        assert_eq!(input_value(&form, "user_code").as_deref(), Some(user_code));
        // Any case, without the dash.
        let typed = user_code.replace('-', "").to_lowercase();
        let confirmation = enter(&app, &typed).await.text().await.expect("body");
        assert!(confirmation.contains("Living room TV"), "{confirmation}");
        assert!(confirmation.contains("profile"), "{confirmation}");
        answer(&app, &typed, true).await;

        clock.advance(Duration::seconds(5));
        let tokens = assert_tokens(poll(&app, &client, device_code).await).await;
        assert_eq!(tokens["scope"], "openid profile");
        assert!(tokens["id_token"].is_string(), "{tokens}");
        assert!(tokens.refresh.is_some(), "{tokens}");
        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], user.username.as_str());

        let again = poll(&app, &client, device_code).await;
        assert_oauth_error(again, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let answered = enter(&app, user_code).await;
        assert_eq!(answered.status(), StatusCode::BAD_REQUEST);
    }
);

both_backends!(
    the_oauth2_crate_runs_the_device_flow,
    |backend| async move {
        use oauth2::basic::BasicClient;
        use oauth2::{
            AuthType, ClientId, ClientSecret, DeviceAuthorizationUrl, Scope,
            StandardDeviceAuthorizationResponse, TokenResponse as _, TokenUrl,
        };

        let (app, user, client) = app_with_user_and_client(backend, device_client()).await;
        let oauth = BasicClient::new(ClientId::new(client.id.clone()))
            .set_client_secret(ClientSecret::new(
                client.secret.clone().expect("a confidential client"),
            ))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::new(app.url("/oauth/token")).expect("a URL"))
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(app.url("/oauth/device_authorization")).expect("a URL"),
            );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client");
        let details: StandardDeviceAuthorizationResponse = oauth
            .exchange_device_code()
            .add_scope(Scope::new("profile".to_owned()))
            .request_async(&http)
            .await
            .expect("the device authorization");
        assert_eq!(details.verification_uri().as_str(), app.url("/device"));
        answer(&app, details.user_code().secret(), true).await;

        let token = oauth
            .exchange_device_access_token(&details)
            .request_async(&http, |_| async {}, None)
            .await
            .expect("tokens for the approved device");
        let me = app.assert_api_me_ok(token.access_token().secret()).await;
        assert_eq!(me["username"], user.username.as_str());
    }
);

both_backends!(
    polling_faster_than_the_interval_slows_the_device_down,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let (_, client) = app.user_and_client(device_client()).await;
        let started = start(&app, &client, "profile").await;
        let device_code = field(&started, "device_code");

        let first = poll(&app, &client, device_code).await;
        assert_oauth_error(first, StatusCode::BAD_REQUEST, "authorization_pending").await;
        clock.advance(Duration::seconds(4));
        let fast = poll(&app, &client, device_code).await;
        assert_oauth_error(fast, StatusCode::BAD_REQUEST, "slow_down").await;
        // The interval is now 10 s: 5 s later is still too fast.
        clock.advance(Duration::seconds(5));
        let still_fast = poll(&app, &client, device_code).await;
        assert_oauth_error(still_fast, StatusCode::BAD_REQUEST, "slow_down").await;
        // Now 15 s.
        clock.advance(Duration::seconds(15));
        let patient = poll(&app, &client, device_code).await;
        assert_oauth_error(patient, StatusCode::BAD_REQUEST, "authorization_pending").await;
    }
);

both_backends!(a_denied_device_gets_access_denied, |backend| async move {
    let (app, _, client) = app_with_user_and_client(backend, device_client()).await;
    let started = start(&app, &client, "profile").await;
    answer(&app, field(&started, "user_code"), false).await;
    let denied = poll(&app, &client, field(&started, "device_code")).await;
    assert_oauth_error(denied, StatusCode::BAD_REQUEST, "access_denied").await;
});

both_backends!(
    an_expired_device_code_gets_expired_token,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app =
            spawn_app_with_clock(backend, &[("TESSERA_DEVICE_CODE_TTL", "60")], clock.clone())
                .await;
        let (_, client) = app.user_and_client(device_client()).await;
        let started = start(&app, &client, "profile").await;
        assert_eq!(started["expires_in"], 60);
        clock.advance(Duration::seconds(60));
        let late = enter(&app, field(&started, "user_code")).await;
        assert_eq!(late.status(), StatusCode::BAD_REQUEST);
        let expired = poll(&app, &client, field(&started, "device_code")).await;
        assert_oauth_error(expired, StatusCode::BAD_REQUEST, "expired_token").await;
        let purged = app.purge().await.expect("the purge runs");
        assert_eq!(purged.device_codes, 1);
    }
);

both_backends!(
    twenty_concurrent_polls_of_an_approved_code_give_one_set_of_tokens,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, device_client()).await;
        let started = start(&app, &client, "profile").await;
        answer(&app, field(&started, "user_code"), true).await;
        let device_code = field(&started, "device_code");
        let outcomes = join_all((0..20).map(|_| async {
            let (status, _, body) = json(poll(&app, &client, device_code).await).await;
            (status, body)
        }))
        .await;
        let won = outcomes
            .iter()
            .filter(|(status, _)| *status == StatusCode::OK)
            .count();
        assert_eq!(won, 1, "{outcomes:?}");
        for (status, body) in &outcomes {
            if *status != StatusCode::OK {
                assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
                assert_eq!(body["error"], "invalid_grant", "{body}");
            }
        }
    }
);

both_backends!(
    wrong_user_codes_are_refused_and_throttled_per_session,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, device_client()).await;
        let started = start(&app, &client, "profile").await;
        for wrong in ["BCDF-GHJK", "not a code", "", "ZZZZ-ZZZZ", "BBBB-BBBB"] {
            let response = enter(&app, wrong).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{wrong:?}");
            let html = response.text().await.expect("body");
            assert!(element_text(&html, "error").is_some(), "{html}");
        }
        // Past the limit even the right code is refused, for a while.
        let locked = enter(&app, field(&started, "user_code")).await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.headers().get(RETRY_AFTER).is_some());
        // Another browser session (another user) has its own count.
        let other = app.another_browser();
        let user = other.signed_up_user().await;
        assert!(!user.username.is_empty());
        let confirmation = enter(&other, field(&started, "user_code")).await;
        assert_eq!(confirmation.status(), StatusCode::OK);
    }
);

both_backends!(
    a_signed_out_user_signs_in_and_comes_back_with_the_code,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, device_client()).await;
        let started = start(&app, &client, "profile").await;
        let signed_out = app.another_browser();
        let complete = field(&started, "verification_uri_complete");
        let path = complete.trim_start_matches(&app.address);
        let response = signed_out.get_page(path).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let login = signed_out.location(&response);
        assert_eq!(login.path(), "/login");
        let next = login
            .query_pairs()
            .find(|(name, _)| name == "next")
            .map(|(_, value)| value.into_owned());
        assert_eq!(next.as_deref(), Some(path));
    }
);

both_backends!(
    a_client_without_the_device_grant_is_refused,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let response = client
            .post_device_authorization(&app, &[("scope", "profile")])
            .await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        let token = poll(&app, &client, "anything").await;
        assert_oauth_error(token, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    }
);

both_backends!(
    another_clients_device_code_and_a_wider_scope_are_refused,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, device_client()).await;
        let other = app.user_and_client(device_client()).await.1;
        let started = start(&app, &client, "profile").await;
        let stolen = poll(&app, &other, field(&started, "device_code")).await;
        assert_oauth_error(stolen, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let unknown = poll(&app, &client, "unknown").await;
        assert_oauth_error(unknown, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let wider = client
            .post_device_authorization(&app, &[("scope", "profile email")])
            .await;
        assert_oauth_error(wider, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
);

both_backends!(
    both_metadata_documents_list_the_device_endpoint_and_grant,
    |backend| async move {
        let (app, _, _) = app_with_user_and_client(backend, device_client()).await;
        for path in [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ] {
            let metadata = app.get_metadata(path).await;
            assert_eq!(
                metadata["device_authorization_endpoint"],
                app.url("/oauth/device_authorization"),
                "{path}"
            );
            let grants = metadata["grant_types_supported"]
                .as_array()
                .expect("grant types");
            assert!(grants.iter().any(|grant| grant == DEVICE_GRANT), "{path}");
        }
    }
);

both_backends!(
    an_approved_device_is_listed_on_the_account_page_and_revoking_it_ends_its_tokens,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let (_, client) = app.user_and_client(device_client()).await;
        let revoke = format!("/account/apps/{}/revoke", client.id);
        let before = app.get_html("/account").await;
        assert!(
            !before.contains(&revoke),
            "listed before approval: {before}"
        );

        let started = start(&app, &client, "openid profile").await;
        answer(&app, field(&started, "user_code"), true).await;
        clock.advance(Duration::seconds(5));
        let tokens = assert_tokens(poll(&app, &client, field(&started, "device_code")).await).await;
        let refresh = tokens.refresh.clone().expect("a refresh token");

        let page = app.get_html("/account").await;
        assert!(page.contains(&revoke), "not listed after approval: {page}");
        assert!(page.contains("<code>profile</code>"), "{page}");
        let csrf = input_value(&page, "csrf_token").expect("a csrf_token");
        let response = app
            .post_form(&revoke, &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        app.assert_api_me_unauthorized(&tokens.access).await;
        let refreshed = client.refresh(&app, &refresh, None).await;
        assert_oauth_error(refreshed, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let after = app.get_html("/account").await;
        assert!(!after.contains(&revoke), "still listed: {after}");
    }
);

both_backends!(
    a_denied_device_is_not_listed_on_the_account_page,
    |backend| async move {
        let (app, _, client) = app_with_user_and_client(backend, device_client()).await;
        let started = start(&app, &client, "profile").await;
        answer(&app, field(&started, "user_code"), false).await;
        let page = app.get_html("/account").await;
        assert!(
            !page.contains(&format!("/account/apps/{}/revoke", client.id)),
            "{page}"
        );
    }
);
