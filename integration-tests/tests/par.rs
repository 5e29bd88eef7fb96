//! Pushed authorization requests (RFC 9126): `POST /oauth/par` authenticates the client as the
//! token endpoint does and validates the request as `/oauth/authorize` does; the browser then
//! brings only `client_id` and the single-use `request_uri`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{CACHE_CONTROL, LOCATION};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tessera_domain::FixedClock;
use url::Url;

use crate::helpers::fixtures::STATE;
use crate::helpers::{
    app_with_user_and_client, assert_oauth_error, assert_tokens, both_backends, json,
    spawn_app_with, spawn_app_with_clock, Pkce, RegisteredClient, TestApp, TestClient,
};

/// Who pushes, the body, and the error code expected.
type Refusal<'a> = (&'a RegisteredClient, Vec<(&'a str, &'a str)>, &'a str);

const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

fn code_flow(client: &RegisteredClient, pkce: &Pkce) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".to_owned()),
        ("redirect_uri", client.redirect_uri.clone()),
        ("scope", "profile".to_owned()),
        ("state", STATE.to_owned()),
        ("code_challenge", pkce.challenge.clone()),
        ("code_challenge_method", "S256".to_owned()),
    ]
}

fn borrowed<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// Pushes `form` for `client`, expecting 201; returns the `request_uri`.
async fn push(app: &TestApp, client: &RegisteredClient, form: &[(&str, &str)]) -> String {
    let response = client.post_par(app, form).await;
    let (status, headers, body) = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert_eq!(body["expires_in"], 60, "{body}");
    let request_uri = body["request_uri"].as_str().expect("a request_uri");
    let random = request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .unwrap_or_else(|| panic!("not a PAR request_uri: {request_uri}"));
    assert!(random.len() >= 22, "fewer than 128 bits: {request_uri}");
    request_uri.to_owned()
}

fn by_reference<'a>(client: &'a RegisteredClient, request_uri: &'a str) -> [(&'a str, &'a str); 2] {
    [
        ("client_id", client.id.as_str()),
        ("request_uri", request_uri),
    ]
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Asserts the authorization endpoint's error page: 400, no redirect.
fn assert_error_page(response: &Response, what: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
    assert!(
        response.headers().get(LOCATION).is_none(),
        "{what} redirected"
    );
}

/// Allows the pushed request in `app`'s signed-in browser; returns the code.
async fn code_by_reference(app: &TestApp, client: &RegisteredClient, request_uri: &str) -> String {
    let query = by_reference(client, request_uri);
    let form = app.consent_form(&query).await;
    let names: Vec<&str> = form.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.contains(&"request_uri"), "{names:?}");
    assert!(
        !names.contains(&"scope"),
        "pushed parameters travel by reference: {names:?}"
    );
    let location = app.consent_redirect(&query, true).await;
    assert_eq!(param(&location, "error"), None, "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some(STATE));
    param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

both_backends!(
    a_pushed_request_runs_the_code_flow_with_pkce_to_tokens_once,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, user, client) = app_with_user_and_client(backend, client).await;
        let pkce = Pkce::s256();
        let form = code_flow(&client, &pkce);
        let request_uri = push(&app, &client, &borrowed(&form)).await;

        let code = code_by_reference(&app, &client, &request_uri).await;
        let tokens =
            assert_tokens(client.redeem_code(&app, &code, Some(&pkce.verifier)).await).await;
        assert_eq!(tokens["scope"], "profile");
        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], user.username.as_str());

        let replay = app
            .get_authorize(&by_reference(&client, &request_uri))
            .await;
        assert_error_page(&replay, "a used request_uri");
    }
);

both_backends!(
    a_public_client_pushes_with_its_client_id_alone,
    |backend| async move {
        let client = TestClient::public(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let pkce = Pkce::s256();
        let form = code_flow(&client, &pkce);
        let request_uri = push(&app, &client, &borrowed(&form)).await;
        let code = code_by_reference(&app, &client, &request_uri).await;
        assert_tokens(client.redeem_code(&app, &code, Some(&pkce.verifier)).await).await;
    }
);

both_backends!(
    parameters_sent_alongside_a_request_uri_are_ignored,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let pkce = Pkce::s256();
        let request_uri = push(&app, &client, &borrowed(&code_flow(&client, &pkce))).await;
        let mut query = by_reference(&client, &request_uri).to_vec();
        query.extend([
            ("state", "forged"),
            ("redirect_uri", "https://evil.example/cb"),
        ]);
        let location = app.consent_redirect(&query, true).await;
        assert!(
            location.as_str().starts_with(&client.redirect_uri),
            "{location}"
        );
        assert_eq!(param(&location, "state").as_deref(), Some(STATE));
    }
);

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).expect("a time")
}

both_backends!(
    an_expired_request_uri_gets_the_error_page,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (_, client) = app.user_and_client(client).await;
        let pkce = Pkce::s256();
        let request_uri = push(&app, &client, &borrowed(&code_flow(&client, &pkce))).await;

        clock.advance(Duration::seconds(59));
        app.consent_form(&by_reference(&client, &request_uri)).await;
        clock.advance(Duration::seconds(1));
        let expired = app
            .get_authorize(&by_reference(&client, &request_uri))
            .await;
        assert_error_page(&expired, "an expired request_uri");
    }
);

both_backends!(
    another_clients_or_an_unknown_request_uri_gets_the_error_page,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let other = TestClient::confidential(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let pkce = Pkce::s256();
        let request_uri = push(&app, &client, &borrowed(&code_flow(&client, &pkce))).await;

        let foreign = app.get_authorize(&by_reference(&other, &request_uri)).await;
        assert_error_page(&foreign, "another client's request_uri");
        let unknown = format!("{REQUEST_URI_PREFIX}unknown");
        let response = app.get_authorize(&by_reference(&client, &unknown)).await;
        assert_error_page(&response, "an unknown request_uri");
        // Still usable by its own client.
        code_by_reference(&app, &client, &request_uri).await;
    }
);

both_backends!(
    pushing_needs_the_clients_own_credentials,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let pkce = Pkce::s256();
        let form = code_flow(&client, &pkce);
        let wrong = client.with_secret("not-the-secret");
        let response = wrong.post_par(&app, &borrowed(&form)).await;
        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let anonymous = app.post_par(&borrowed(&form), None).await;
        assert_oauth_error(anonymous, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    invalid_pushed_parameters_get_the_authorization_endpoints_error_codes,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let public = TestClient::public(&["authorization_code"], "profile")
            .register(&app)
            .await;
        let code = [("response_type", "code")];
        let cases: [Refusal; 6] = [
            (
                &client,
                vec![("response_type", "code"), ("scope", "admin")],
                "invalid_scope",
            ),
            (
                &client,
                vec![("response_type", "device")],
                "unsupported_response_type",
            ),
            (
                &client,
                vec![
                    ("response_type", "code"),
                    ("redirect_uri", "https://evil.example/cb"),
                ],
                "invalid_request",
            ),
            (
                &client,
                vec![
                    ("response_type", "code"),
                    ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
                ],
                "invalid_request",
            ),
            (&client, vec![("scope", "profile")], "invalid_request"),
            (&public, code.to_vec(), "invalid_request"),
        ];
        for (who, form, error) in cases {
            let response = who.post_par(&app, &form).await;
            let headers = assert_oauth_error(response, StatusCode::BAD_REQUEST, error).await;
            assert_eq!(headers[CACHE_CONTROL], "no-store", "{form:?}");
        }
    }
);

both_backends!(
    a_client_registered_to_push_is_refused_a_direct_request,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile").require_par();
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let pkce = Pkce::s256();
        let form = code_flow(&client, &pkce);
        let mut direct = borrowed(&form);
        direct.push(("client_id", &client.id));
        let response = app.get_authorize(&direct).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = app.location(&response);
        assert!(
            location.as_str().starts_with(&client.redirect_uri),
            "{location}"
        );
        assert_eq!(
            param(&location, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(param(&location, "state").as_deref(), Some(STATE));

        let request_uri = push(&app, &client, &borrowed(&form)).await;
        code_by_reference(&app, &client, &request_uri).await;
    }
);

both_backends!(
    metadata_names_the_endpoint_and_whether_pushing_is_required,
    |backend| async move {
        for (setting, required) in [("0", false), ("1", true)] {
            let app = spawn_app_with(backend, &[("TESSERA_REQUIRE_PAR", setting)]).await;
            for path in [
                "/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server",
            ] {
                let metadata: Value = app.get_metadata(path).await;
                assert_eq!(
                    metadata["pushed_authorization_request_endpoint"],
                    format!("{}/oauth/par", app.address),
                    "{path}"
                );
                assert_eq!(metadata["require_pushed_authorization_requests"], required);
            }
        }
    }
);

both_backends!(
    a_server_that_requires_pushing_refuses_every_direct_request,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_REQUIRE_PAR", "1")]).await;
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (_, client) = app.user_and_client(client).await;
        let pkce = Pkce::s256();
        let direct = client.code_query("profile", Some(&pkce));
        let response = app.get_authorize(&direct).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = app.location(&response);
        assert_eq!(
            param(&location, "error").as_deref(),
            Some("invalid_request")
        );

        let request_uri = push(&app, &client, &borrowed(&code_flow(&client, &pkce))).await;
        code_by_reference(&app, &client, &request_uri).await;
    }
);
