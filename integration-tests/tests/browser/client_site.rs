//! A stand-in for an OAuth client's web site: a loopback HTTP listener that answers every
//! request with a small page, so that Chromium lands somewhere real after Tessera redirects
//! it to the client's redirect URI.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The page every request gets; the browser tests wait for its `id="client_received"`.
const PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Client</title></head><body><h1 id=\"client_received\">The client received the \
redirect</h1></body></html>";

/// The listener, stopped when dropped.
pub struct ClientSite {
    port: u16,
    task: JoinHandle<()>,
}

impl ClientSite {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback listener for the client site");
        let port = listener.local_addr().expect("its address").port();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream));
            }
        });
        Self { port, task }
    }

    /// The redirect URI to register: `http://127.0.0.1:<port>/callback` (Tessera accepts
    /// plain http on loopback).
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }
}

impl Drop for ClientSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head (at most 16 KiB) and answers 200 with [`PAGE`], closing the
/// connection.
async fn answer(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 2048];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{PAGE}",
        PAGE.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
