//! Requests over a bare TCP connection, for what an HTTP client library will not send
//! (stalled or oversized bodies, invalid request lines and header bytes), and the test
//! process's resident memory (the servers run in it).

use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

use super::TestApp;

/// `host:port` of the app.
pub fn authority(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// The status code of an answer's status line (`HTTP/1.1 400 Bad Request`).
pub fn status_of(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1).and_then(|code| code.parse().ok())
}

/// Reads one answer: its head, then as much body as its `Content-Length` says (at most
/// 15 s); panics when no status line arrived.
pub async fn read_answer(stream: &mut TcpStream) -> (u16, String) {
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        body.len() >= length
    };
    let text = read_until(stream, Duration::from_secs(15), complete).await;
    let status = status_of(&text).unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

/// Reads until the head of a final (not `1xx`) answer has arrived, the server closes, or
/// `within` passes; its status, if its status line arrived.
pub async fn read_status(stream: &mut TcpStream, within: Duration) -> Option<u16> {
    let answer = read_until(stream, within, |answer| final_head(answer).is_some()).await;
    status_of(&String::from_utf8_lossy(final_head(answer.as_bytes())?))
}

/// The head of the first answer that is not informational (`100 Continue`), once complete.
fn final_head(answer: &[u8]) -> Option<&[u8]> {
    let mut rest = answer;
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        if !rest.starts_with(b"HTTP/1.1 1") && !rest.starts_with(b"HTTP/1.0 1") {
            return Some(&rest[..end]);
        }
        rest = &rest[end + 4..];
    }
    None
}

async fn read_until(
    stream: &mut TcpStream,
    within: Duration,
    complete: impl Fn(&[u8]) -> bool,
) -> String {
    let mut answer = Vec::new();
    let read = async {
        let mut buffer = [0u8; 4096];
        while !complete(&answer) {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(within, read).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The resident memory of this process (`VmRSS`), in KiB.
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}
