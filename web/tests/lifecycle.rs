//! The `tessera serve` process through its life, on SQLite and (with the `postgres-tests`
//! feature) on Postgres: SIGTERM lets a request in flight finish and then exits 0; after a
//! SIGKILL a new process on the same database carries on where the old one stopped, every
//! token and every spent code exactly as they were.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a failed step fails the test"
)]

#[allow(
    dead_code,
    reason = "the process tests' shared harness; each uses a part"
)]
mod server_process;

use std::io::Write as _;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use server_process::{
    form, logged_port, request_head, Registered, Response, Server, PATIENCE, REDIRECT_URI,
};

/// Polls until new connections to `server` are refused.
fn assert_connections_refused_soon(server: &Server) {
    let started = Instant::now();
    while server.connect().is_ok() {
        assert!(
            started.elapsed() < PATIENCE,
            "still accepting connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

both_backends!(
    sigterm_lets_a_request_in_flight_finish_then_exits_0,
    |db: TestDb| {
        let client = Registered::on(&db);
        let mut server = Server::start(&db);
        let body = client.password_form();
        let (first_half, second_half) = body.split_at(body.len() / 2);
        let headers = format!(
            "{}Content-Type: application/x-www-form-urlencoded\r\n",
            client.basic()
        );

        let mut in_flight = server.connect().unwrap();
        in_flight.set_read_timeout(Some(PATIENCE)).unwrap();
        let head = request_head("POST", "/oauth/token", &headers, body.len());
        in_flight.write_all(head.as_bytes()).unwrap();
        in_flight.write_all(first_half.as_bytes()).unwrap();
        // Let the server take the request in before it is told to stop.
        std::thread::sleep(Duration::from_millis(300));
        server.signal(Signal::SIGTERM);
        assert_connections_refused_soon(&server);

        in_flight.write_all(second_half.as_bytes()).unwrap();
        let tokens = Response::read(in_flight).tokens();
        assert!(tokens["access_token"].is_string(), "{tokens}");
        let status = server.exit_status();
        assert_eq!(status.code(), Some(0), "{status}");
    }
);

both_backends!(
    after_sigkill_a_new_process_keeps_every_token_and_spent_code,
    |db: TestDb| {
        let client = Registered::on(&db);
        let mut server = Server::start(&db);
        let first = server.token(&client, &client.password_form()).tokens();
        let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();
        let rotated = server
            .token(
                &client,
                &form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &first_refresh),
                ]),
            )
            .tokens();
        let code = server.authorization_code(&client);
        let redeem = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ]);
        let from_code = server.token(&client, &redeem).tokens();

        server.signal(Signal::SIGKILL);
        let status = server.exit_status();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        drop(server);
        let server = Server::start(&db);

        let access = |tokens: &Value| tokens["access_token"].as_str().unwrap().to_owned();
        let current_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
        for tokens in [&first, &rotated, &from_code] {
            assert_eq!(server.api_me(&access(tokens)), 200, "{tokens}");
        }
        assert!(server.active(&client, &current_refresh));

        // The spent code is still spent; replaying it revokes what it gave, and only that.
        server.token(&client, &redeem).assert_invalid_grant();
        assert_eq!(server.api_me(&access(&from_code)), 401);
        assert_eq!(server.api_me(&access(&rotated)), 200);
        assert!(server.active(&client, &current_refresh));

        // The rotated refresh token is still known as rotated: its replay revokes the chain.
        let replay = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ]);
        server.token(&client, &replay).assert_invalid_grant();
        assert!(!server.active(&client, &current_refresh));
        for tokens in [&first, &rotated] {
            assert_eq!(server.api_me(&access(tokens)), 401, "{tokens}");
        }
    }
);

both_backends!(
    a_piped_server_logs_json_serves_metrics_apart_and_stops_both_on_sigterm,
    |db: TestDb| {
        // No TESSERA_LOG_FORMAT: stderr is a pipe, so the lines are JSON.
        let mut server = Server::spawn(
            &db,
            &[
                ("TESSERA_LOG_FORMAT", ""),
                ("TESSERA_METRICS_BIND", "127.0.0.1:0"),
            ],
        )
        .listening()
        .unwrap();
        let metrics_port = server
            .log()
            .iter()
            .find_map(|line| logged_port(line, "serving metrics"))
            .expect("a \"serving metrics\" line with its port");

        let answer = server.request("GET", "/healthz", "X-Request-Id: lifecycle.json-1\r\n", "");
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.header("X-Request-Id"), Some("lifecycle.json-1"));
        let started = Instant::now();
        let access = loop {
            let line = server.log().into_iter().find_map(|line| {
                let event: Value = serde_json::from_str(&line).ok()?;
                (event["target"] == "tessera::access" && event["request_id"] == "lifecycle.json-1")
                    .then_some(event)
            });
            if let Some(line) = line {
                break line;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "no access line: {:?}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(access["level"], "INFO", "{access}");
        assert_eq!(access["route"], "/healthz", "{access}");
        assert_eq!(access["method"], "GET", "{access}");
        assert_eq!(access["status"], 200, "{access}");
        assert!(access["latency_ms"].as_f64().is_some(), "{access}");
        for line in server.log() {
            let event: Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
            assert!(event["message"].is_string(), "{line}");
        }

        let mut metrics = std::net::TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
        metrics.set_read_timeout(Some(PATIENCE)).unwrap();
        metrics
            .write_all(request_head("GET", "/metrics", "", 0).as_bytes())
            .unwrap();
        let scraped = Response::read(metrics);
        assert_eq!(scraped.status, 200, "{}", scraped.body);
        assert!(
            scraped.body.lines().any(|line| {
                line.starts_with("tessera_http_requests_total{")
                    && line.contains("route=\"/healthz\"")
                    && line.contains("status=\"200\"")
            }),
            "{}",
            scraped.body
        );
        assert_eq!(server.request("GET", "/metrics", "", "").status, 404);

        server.signal(Signal::SIGTERM);
        let status = server.exit_status();
        assert_eq!(status.code(), Some(0), "{status}");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", metrics_port)).is_err(),
            "the metrics listener outlived the server"
        );
    }
);
