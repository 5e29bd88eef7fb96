//! Every route answers through the real application (so a missing `app_data` or a broken

#![expect(clippy::unwrap_used, reason = "a failed step fails the test")]
//! template would show here as a 500), signed out.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use tempfile::TempDir;
use tessera_web::config::Config;
use tessera_web::startup::Application;

fn spawn(dir: &TempDir) -> u16 {
    let vars: HashMap<&str, String> = HashMap::from([
        ("TESSERA_BIND", "127.0.0.1:0".to_owned()),
        (
            "TESSERA_DATABASE_URL",
            format!("sqlite://{}/tessera.db", dir.path().display()),
        ),
        ("TESSERA_BCRYPT_COST", "4".to_owned()),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let application = Application::build(config).await.unwrap();
            sender.send(application.port()).unwrap();
            application.run_until_stopped().await.unwrap();
        });
    });
    receiver.recv().unwrap()
}

fn status(port: u16, method: &str, path: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = if method == "POST" { "a=b" } else { "" };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap()
}

#[test]
fn every_route_answers_a_signed_out_caller_without_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = spawn(&dir);
    for (method, path, expected) in [
        ("GET", "/", 200),
        ("GET", "/signup", 200),
        ("POST", "/signup", 403),
        ("GET", "/login", 200),
        ("POST", "/login", 403),
        ("POST", "/logout", 303),
        ("GET", "/create_client", 303),
        ("POST", "/create_client", 403),
        ("GET", "/clients/abc", 303),
        ("GET", "/clients/abc/edit", 303),
        ("POST", "/clients/abc/edit", 403),
        ("POST", "/clients/abc/delete", 403),
        ("POST", "/clients/abc/rotate_secret", 403),
        ("GET", "/oauth/authorize", 400),
        (
            "GET",
            "/oauth/authorize?client_id=unknown&response_type=code",
            400,
        ),
        ("POST", "/oauth/authorize", 403),
        ("POST", "/oauth/token", 401),
        ("GET", "/oauth/token", 405),
        ("POST", "/oauth/revoke", 401),
        ("POST", "/oauth/introspect", 401),
        ("GET", "/api/me", 401),
        ("GET", "/oauth/jwks", 200),
        ("GET", "/account", 303),
        ("GET", "/oauth/logout", 200),
        (
            "GET",
            "/oauth/logout?post_logout_redirect_uri=https://evil.example/",
            400,
        ),
        ("POST", "/oauth/logout", 403),
        ("POST", "/account/apps/x/revoke", 403),
        ("GET", "/oauth/userinfo", 401),
        ("POST", "/oauth/userinfo", 401),
        ("GET", "/.well-known/openid-configuration", 200),
        ("GET", "/.well-known/oauth-authorization-server", 200),
        ("GET", "/healthz", 200),
        ("GET", "/no/such/page", 404),
    ] {
        assert_eq!(status(port, method, path), expected, "{method} {path}");
    }
}
