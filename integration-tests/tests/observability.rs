//! Logs and metrics. Every request has an id: its `X-Request-Id` when that is 1 to 64 of
//! `A-Z a-z 0-9 . _ -`, else a new UUID v4, sent back on every response (404s, 401s and 503s
//! included) and carried by every log line of the request. Each request gets exactly one
//! access log line naming its route pattern, status, latency and id, and none of the values
//! of its path or query. The Prometheus metrics are served only on `TESSERA_METRICS_BIND`
//! and count requests, tokens, replays, throttled attempts, the pool and the SQLite writer.
//!
//! The metrics recorder is global to the test binary, which may run other servers at the
//! same time, so each test compares counts before and after its own steps (others only add).

use reqwest::header::HeaderValue;
use reqwest::{Response, StatusCode};

use crate::helpers::log_capture::captured_log;
use crate::helpers::{
    assert_oauth_error, assert_temporarily_unavailable, assert_tokens, both_backends, spawn_app,
    spawn_app_with, unique_name, Backend, TestApp, TestClient,
};

/// The settings of a server with metrics on, on a free port.
const METRICS_ON: &[(&str, &str)] = &[("TESSERA_METRICS_BIND", "127.0.0.1:0")];

/// The sum of the samples of `name` whose labels include every one of `labels`; `None` when
/// there is no such sample.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{value}\""))
        .collect();
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels: Vec<&str> = series_labels.split(',').collect();
            (series_name == name && wanted.iter().all(|label| labels.contains(&label.as_str())))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .reduce(|sum, value| sum + value)
}

/// [`sample`], or 0 when there is none yet.
fn count(metrics: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(metrics, name, labels).unwrap_or(0.0)
}

/// Asserts `name{labels}` grew by at least `by` from `before` to `after`.
fn assert_grew(before: &str, after: &str, name: &str, labels: &[(&str, &str)], by: f64) {
    let (was, is) = (count(before, name, labels), count(after, name, labels));
    assert!(
        is >= was + by,
        "{name}{labels:?} went from {was} to {is}, expected at least +{by}\n{after}"
    );
}

/// `X-Request-Id` of `response`.
fn request_id(response: &Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("every response carries X-Request-Id")
        .to_str()
        .expect("the id is text")
        .to_owned()
}

/// Asserts `id` is a freshly made id: a hyphenated UUID v4.
fn assert_generated(id: &str) {
    let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|_| panic!("not a UUID: {id:?}"));
    assert_eq!(uuid.get_version_num(), 4, "{id}");
    assert_eq!(uuid.hyphenated().to_string(), id);
}

/// `GET path` with `X-Request-Id: id` (when given).
async fn get_with_id(app: &TestApp, path: &str, id: Option<&str>) -> Response {
    let mut request = app.client.get(app.url(path));
    if let Some(id) = id {
        request = request.header("X-Request-Id", HeaderValue::from_str(id).expect("a header"));
    }
    request.send().await.expect("GET")
}

/// Fails `times` sign-ins of `username` in a browser of its own; the last response.
async fn fail_logins(app: &TestApp, username: &str, times: usize) -> Response {
    let browser = app.another_browser();
    let mut last = None;
    for _ in 0..times {
        last = Some(browser.login(username, "not the password", None).await);
    }
    last.expect("at least one attempt")
}

both_backends!(
    metrics_are_served_only_on_their_own_listener_and_count_what_happened,
    |backend| async move {
        let app = spawn_app_with(backend, METRICS_ON).await;
        assert_eq!(
            app.get_page("/metrics").await.status(),
            StatusCode::NOT_FOUND,
            "metrics on the public listener"
        );
        let (_user, client) = app
            .user_and_client(TestClient::confidential(
                &["authorization_code", "client_credentials"],
                "profile",
            ))
            .await;
        let before = app.scrape_metrics().await;

        client.client_credentials_token(&app, "profile").await;
        let code = client.authorization_code(&app, "profile", None).await;
        assert_tokens(client.redeem_code(&app, &code, None).await).await;
        assert_oauth_error(
            client.redeem_code(&app, &code, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        let locked = fail_logins(&app, &unique_name("metered"), 6).await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        let page = client
            .owner
            .get_page(&format!("/clients/{}", client.id))
            .await;
        assert_eq!(page.status(), StatusCode::OK);

        let after = app.scrape_metrics().await;
        let token_route = [("route", "/oauth/token"), ("method", "POST")];
        assert_grew(
            &before,
            &after,
            "tessera_tokens_issued_total",
            &[("grant", "client_credentials")],
            1.0,
        );
        assert_grew(
            &before,
            &after,
            "tessera_tokens_issued_total",
            &[("grant", "authorization_code")],
            1.0,
        );
        assert_grew(
            &before,
            &after,
            "tessera_http_requests_total",
            &[token_route[0], token_route[1], ("status", "200")],
            2.0,
        );
        assert_grew(
            &before,
            &after,
            "tessera_http_requests_total",
            &[token_route[0], token_route[1], ("status", "400")],
            1.0,
        );
        assert_grew(
            &before,
            &after,
            "tessera_http_request_duration_seconds_count",
            &token_route,
            3.0,
        );
        assert!(
            sample(
                &after,
                "tessera_http_request_duration_seconds_bucket",
                &[token_route[0], token_route[1], ("le", "+Inf")],
            )
            .is_some(),
            "{after}"
        );
        assert_grew(
            &before,
            &after,
            "tessera_replays_detected_total",
            &[("kind", "authorization_code")],
            1.0,
        );
        assert_grew(
            &before,
            &after,
            "tessera_throttled_attempts_total",
            &[("kind", "user")],
            1.0,
        );
        assert_grew(
            &before,
            &after,
            "tessera_throttle_lockouts_total",
            &[("kind", "user")],
            1.0,
        );

        // Routes are patterns: the client's page counts under `{client_id}`, never its id.
        assert_grew(
            &before,
            &after,
            "tessera_http_requests_total",
            &[("route", "/clients/{client_id}"), ("status", "200")],
            1.0,
        );
        assert!(!after.contains(&client.id), "a client id in the metrics");

        let idle = sample(&after, "tessera_db_pool_connections", &[("state", "idle")]);
        let in_use = sample(
            &after,
            "tessera_db_pool_connections",
            &[("state", "in_use")],
        );
        assert!(
            idle.is_some_and(|idle| idle >= 1.0) && in_use.is_some(),
            "{after}"
        );
        assert_grew(
            &before,
            &after,
            "tessera_db_pool_wait_seconds_count",
            &[],
            1.0,
        );
        if matches!(backend, Backend::Sqlite) {
            assert_grew(
                &before,
                &after,
                "tessera_db_writer_batch_size_count",
                &[],
                1.0,
            );
            assert!(
                sample(
                    &after,
                    "tessera_db_writer_batch_size_bucket",
                    &[("le", "1")]
                )
                .is_some(),
                "{after}"
            );
        }
        for line in after.lines().filter(|line| !line.trim().is_empty()) {
            let name = line
                .trim_start_matches("# HELP ")
                .trim_start_matches("# TYPE ");
            assert!(name.starts_with("tessera_"), "{line}");
        }
    }
);

both_backends!(
    every_response_carries_the_request_id_it_came_with_or_a_new_one,
    |backend| async move {
        let app = spawn_app(backend).await;
        let given = "req-42.A_b";
        let response = get_with_id(&app, "/healthz", Some(given)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(request_id(&response), given);
        let longest = "x".repeat(64);
        let response = get_with_id(&app, "/healthz", Some(&longest)).await;
        assert_eq!(request_id(&response), longest);

        let first = request_id(&get_with_id(&app, "/healthz", None).await);
        let second = request_id(&get_with_id(&app, "/healthz", None).await);
        assert_generated(&first);
        assert_generated(&second);
        assert_ne!(first, second);

        for invalid in ["has space", "semi;colon", "a/b", &"y".repeat(65)] {
            let response = get_with_id(&app, "/healthz", Some(invalid)).await;
            assert_generated(&request_id(&response));
        }

        let missing = get_with_id(&app, "/no/such/page", Some("lost-1")).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(request_id(&missing), "lost-1");
        let unauthenticated = app
            .client
            .post(app.url("/oauth/token"))
            .header("X-Request-Id", "refused-1")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("POST /oauth/token");
        assert_eq!(request_id(&unauthenticated), "refused-1");
        assert_oauth_error(unauthenticated, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    a_503_during_an_outage_carries_the_request_id,
    |backend| async move {
        let app = spawn_app(backend).await;
        let (user, client) = app
            .user_and_client(TestClient::confidential(&["password"], "profile"))
            .await;
        let (client_id, secret) = client.basic();
        let outage = app.database().outage().expect("the outage begins");
        let response = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .header("X-Request-Id", "outage-1")
            .form(&[
                ("grant_type", "password"),
                ("username", user.username.as_str()),
                ("password", user.password.as_str()),
                ("scope", "profile"),
            ])
            .send()
            .await
            .expect("POST /oauth/token");
        drop(outage);
        assert_eq!(request_id(&response), "outage-1");
        assert_temporarily_unavailable(response).await;
    }
);

both_backends!(
    each_request_has_one_access_line_with_its_route_pattern_and_no_values,
    |backend| async move {
        let log = captured_log();
        let app = spawn_app(backend).await;
        let in_path = format!("{}{}", uuid::Uuid::new_v4().simple(), "pathsecret");
        let in_query = format!("{}{}", uuid::Uuid::new_v4().simple(), "querysecret");
        let id = format!("access-{}", uuid::Uuid::new_v4().simple());
        let path = format!("/clients/{in_path}?access_token={in_query}");
        let response = get_with_id(&app, &path, Some(&id)).await;
        let status = response.status().as_u16();

        let refused_id = format!("refused-{}", uuid::Uuid::new_v4().simple());
        let csrf = app.csrf_token("/login").await;
        let username = unique_name("accessed");
        let refused = app
            .client
            .post(app.url("/login"))
            .header("X-Request-Id", refused_id.as_str())
            .form(&[
                ("username", username.as_str()),
                ("password", in_query.as_str()),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .expect("POST /login");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let unmatched_id = format!("unmatched-{}", uuid::Uuid::new_v4().simple());
        get_with_id(&app, &format!("/{in_path}/x"), Some(&unmatched_id)).await;

        let captured = log.contents();
        let access_lines = |id: &str| -> Vec<String> {
            captured
                .lines()
                .filter(|line| {
                    line.contains("tessera::access") && line.contains(&format!("request_id={id}"))
                })
                .map(str::to_owned)
                .collect()
        };
        let lines = access_lines(&id);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        for part in [
            " INFO ",
            "method=GET",
            "route=/clients/{client_id}",
            &format!("status={status}"),
            "latency_ms=",
        ] {
            assert!(line.contains(part), "no {part:?} in {line}");
        }
        let refused_lines = access_lines(&refused_id);
        assert_eq!(refused_lines.len(), 1, "{refused_lines:?}");
        assert!(
            refused_lines[0].contains("route=/login") && refused_lines[0].contains("status=400"),
            "{}",
            refused_lines[0]
        );
        let unmatched_lines = access_lines(&unmatched_id);
        assert_eq!(unmatched_lines.len(), 1, "{unmatched_lines:?}");
        assert!(
            unmatched_lines[0].contains("route=unmatched")
                && unmatched_lines[0].contains("status=404"),
            "{}",
            unmatched_lines[0]
        );

        // The request's own lines carry its id through the span.
        assert!(
            captured.lines().any(|line| {
                line.contains("sign-in refused")
                    && line.contains(&format!(
                        "request{{request_id={refused_id} method=POST route=/login}}"
                    ))
            }),
            "the refused sign-in's line does not carry its request id"
        );
        for value in [&in_path, &in_query, &username] {
            assert!(!captured.contains(value.as_str()), "{value} is in the log");
        }
    }
);
