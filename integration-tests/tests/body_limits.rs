//! DESIGN §5 "request bodies": at most 64 KiB in all, multipart framing included, refused
//! with 413 as soon as the limit is passed; a stalled body gets 408 after
//! `TESSERA_REQUEST_TIMEOUT`; memory stays bounded whatever a client sends.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::helpers::raw_http::{authority, read_answer, resident_kib};
use crate::helpers::{both_backends, spawn_app, spawn_app_with, TestApp};

/// Sends `head` and then `body` in 16 KiB chunks over a raw connection (writes that fail
/// because the server already answered and closed are fine), and returns the status and
/// the rest of the answer.
async fn raw_exchange(app: &TestApp, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(authority(app)).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in body.chunks(16 * 1024) {
        if stream.write_all(chunk).await.is_err() {
            break;
        }
    }
    read_answer(&mut stream).await
}

both_backends!(
    an_oversized_form_is_413_json_at_the_token_endpoint_and_413_html_on_a_page,
    |backend| async move {
        let app = spawn_app(backend).await;
        let huge = format!("grant_type=client_credentials&x={}", "a".repeat(70 * 1024));

        let token = app
            .client
            .post(app.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(huge.clone())
            .send()
            .await
            .expect("POST");
        assert_eq!(token.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: serde_json::Value = token.json().await.expect("JSON");
        assert_eq!(body["error"], "invalid_request");

        let page = app
            .client
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(huge)
            .send()
            .await
            .expect("POST");
        assert_eq!(page.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(page
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")));
    }
);

both_backends!(
    a_declared_length_over_the_limit_is_refused_before_the_body_is_sent,
    |backend| async move {
        let app = spawn_app(backend).await;
        let head = format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 300000000\r\nConnection: close\r\n\r\n",
            authority(&app)
        );
        let started = Instant::now();
        let (status, _) = raw_exchange(&app, &head, b"grant_type=x").await;
        assert_eq!(status, 413);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
);

/// Streams a chunked multipart body to /oauth/token: `opening`, then `megabytes` MiB of
/// `filler`, generated as it is sent (the test holds 16 KiB of it at a time). Stops writing
/// once the server has answered and closed.
async fn multipart_flood(
    app: &TestApp,
    opening: &[u8],
    filler: u8,
    megabytes: usize,
) -> (u16, String) {
    let mut stream = TcpStream::connect(authority(app)).await.expect("connect");
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        authority(app)
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = |bytes: &[u8]| {
        let mut framed = format!("{:x}\r\n", bytes.len()).into_bytes();
        framed.extend_from_slice(bytes);
        framed.extend_from_slice(b"\r\n");
        framed
    };
    let filler = chunk(&[filler; 16 * 1024]);
    if stream.write_all(&chunk(opening)).await.is_ok() {
        for _ in 0..megabytes * 64 {
            if stream.write_all(&filler).await.is_err() {
                break;
            }
        }
    }
    read_answer(&mut stream).await
}

both_backends!(
    a_multipart_preamble_or_part_header_flood_is_413_and_memory_stays_bounded,
    |backend| async move {
        let app = spawn_app(backend).await;
        let before = resident_kib();
        let openings: [&[u8]; 2] = [
            b"--XyZ\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ",
        ];
        for opening in openings {
            let (status, answer) = multipart_flood(&app, opening, b'A', 32).await;
            assert_eq!(status, 413, "{answer}");
            assert!(answer.contains("invalid_request"), "{answer}");
        }
        let grown = resident_kib().saturating_sub(before);
        println!("resident memory grew by {grown} KiB over two 32 MiB multipart floods");
        assert!(grown < 24 * 1024, "memory grew by {grown} KiB");
        assert_eq!(app.get_page("/healthz").await.status(), StatusCode::OK);
    }
);

both_backends!(
    a_stalled_body_gets_408_after_the_request_timeout,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_REQUEST_TIMEOUT", "1")]).await;
        let mut stream = TcpStream::connect(authority(&app)).await.expect("connect");
        let head = format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type",
            authority(&app)
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        let started = Instant::now();
        let (status, _) = read_answer(&mut stream).await;
        assert_eq!(status, 408);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(6),
            "{waited:?}"
        );
    }
);

both_backends!(
    invalid_utf8_in_the_query_is_a_400_page_never_a_redirect,
    |backend| async move {
        let app = spawn_app(backend).await;

        let response = app
            .get_page("/oauth/authorize?response_type=code&client_id=x&state=%FF")
            .await;

        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get("location").is_none());
    }
);
