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

#[path = "../../integration-tests/tests/helpers/html.rs"]
#[allow(
    dead_code,
    reason = "the integration tests' scraping, of which these need a part"
)]
mod html;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

/// The redirect URI of the client the tests register.
const REDIRECT_URI: &str = "https://client.example/cb";

/// How long a process may take to start, stop or answer before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(15);

/// A `tessera` command on `db` (bcrypt cost 4, errors only on stderr unless `RUST_LOG`).
fn tessera(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args(args)
        .env_clear()
        .env("TESSERA_DATABASE_URL", db.url())
        .env("TESSERA_BCRYPT_COST", "4")
        .env("RUST_LOG", "error");
    command
}

/// Runs `tessera args` with `stdin`; expects success and returns stdout.
fn run(db: &TestDb, args: &[&str], stdin: &str) -> String {
    let mut child = tessera(db, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tessera {args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// A user and a confidential client with every grant the tests use, made with the CLI.
struct Registered {
    username: &'static str,
    password: &'static str,
    client_id: String,
    client_secret: String,
}

impl Registered {
    fn on(db: &TestDb) -> Self {
        let (username, password) = ("alice", "correct horse battery staple");
        run(
            db,
            &["user", "add", username, "--password-stdin"],
            &format!("{password}\n"),
        );
        let client: Value = serde_json::from_str(&run(
            db,
            &[
                "client",
                "add",
                "--name",
                "App",
                "--redirect-uri",
                REDIRECT_URI,
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "password",
                "--grant-type",
                "refresh_token",
                "--response-type",
                "code",
                "--scope",
                "profile",
            ],
            "",
        ))
        .unwrap();
        Self {
            username,
            password,
            client_id: client["client_id"].as_str().unwrap().to_owned(),
            client_secret: client["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// The client's `Authorization: Basic` header line.
    fn basic(&self) -> String {
        let credentials = format!("{}:{}", self.client_id, self.client_secret);
        format!("Authorization: Basic {}\r\n", STANDARD.encode(credentials))
    }

    /// The password grant's form for the user.
    fn password_form(&self) -> String {
        form(&[
            ("grant_type", "password"),
            ("username", self.username),
            ("password", self.password),
            ("scope", "profile"),
        ])
    }
}

/// A running `tessera serve`; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `tessera serve` on `db` on a free port and waits until it listens.
    fn start(db: &TestDb) -> Self {
        let mut child = tessera(db, &["serve"])
            .env("TESSERA_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (port_sender, port) = mpsc::channel();
        // Reads the log for as long as the process runs, so that it never blocks on a full
        // pipe; the first "listening" line says the port.
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .contains("listening")
                    .then(|| line.split("port=").nth(1))
                    .flatten()
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|port| port.parse::<u16>().ok())
                {
                    let _ = port_sender.send(port);
                }
            }
        });
        let port = port
            .recv_timeout(PATIENCE)
            .expect("the server says which port it listens on");
        Self { child, port }
    }

    /// Sends `signal` to the process.
    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, signal).unwrap();
    }

    /// Waits for the process to exit.
    fn exit_status(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < PATIENCE, "the server did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new connection to the server.
    fn connect(&self) -> std::io::Result<TcpStream> {
        TcpStream::connect(("127.0.0.1", self.port))
    }

    /// Sends one request (`Connection: close`) and reads the whole response.
    fn request(&self, method: &str, path: &str, headers: &str, body: &str) -> Response {
        let mut stream = self.connect().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
            .write_all(request_head(method, path, headers, body.len()).as_bytes())
            .unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        Response::read(stream)
    }

    /// `POST /oauth/token` with `form`, as the client.
    fn token(&self, client: &Registered, form: &str) -> Response {
        let headers = format!(
            "{}Content-Type: application/x-www-form-urlencoded\r\n",
            client.basic()
        );
        self.request("POST", "/oauth/token", &headers, form)
    }

    /// `POST /oauth/introspect` of `token`, as the client; whether it is active.
    fn active(&self, client: &Registered, token: &str) -> bool {
        let headers = format!(
            "{}Content-Type: application/x-www-form-urlencoded\r\n",
            client.basic()
        );
        let response = self.request(
            "POST",
            "/oauth/introspect",
            &headers,
            &form(&[("token", token)]),
        );
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["active"].as_bool().unwrap()
    }

    /// The status of `GET /api/me` with `access` as the Bearer token.
    fn api_me(&self, access: &str) -> u16 {
        let headers = format!("Authorization: Bearer {access}\r\n");
        self.request("GET", "/api/me", &headers, "").status
    }

    /// Signs the user in, consents, and returns the authorization code.
    fn authorization_code(&self, client: &Registered) -> String {
        let mut browser = Browser::default();
        let login = browser.get(self, "/login");
        let csrf = html::input_value(&login.body, "csrf_token").expect("a CSRF token");
        let signed_in = browser.post(
            self,
            "/login",
            &[
                ("username", client.username),
                ("password", client.password),
                ("csrf_token", &csrf),
            ],
        );
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        let query = form(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "profile"),
            ("state", "s"),
        ]);
        let consent = browser.get(self, &format!("/oauth/authorize?{query}"));
        assert_eq!(consent.status, 200, "{}", consent.body);
        let mut fields = html::form_hidden_inputs(&consent.body, "/oauth/authorize");
        fields.push(("confirm".into(), "yes".into()));
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let allowed = browser.post(self, "/oauth/authorize", &fields);
        assert_eq!(allowed.status, 303, "{}", allowed.body);
        let location = url::Url::parse(allowed.header("location").unwrap()).unwrap();
        location
            .query_pairs()
            .find(|(name, _)| name == "code")
            .map(|(_, code)| code.into_owned())
            .expect("a code in the redirect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The head of an HTTP/1.1 request with `headers` (each ending in CRLF) and a body of
/// `length` bytes.
fn request_head(method: &str, path: &str, headers: &str, length: usize) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Length: {length}\r\n{headers}\r\n"
    )
}

/// `application/x-www-form-urlencoded` pairs.
fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A response read to its end.
struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn read(mut stream: TcpStream) -> Self {
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .expect("a status line");
        Self {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// The value of the first header called `name`.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// The body of a 200 token response.
    fn tokens(&self) -> Value {
        assert_eq!(self.status, 200, "expected tokens: {}", self.body);
        self.json()
    }

    /// Asserts a 400 `invalid_grant`.
    fn assert_invalid_grant(&self) {
        assert_eq!(
            (self.status, self.json()["error"].as_str()),
            (400, Some("invalid_grant")),
            "{}",
            self.body
        );
    }
}

/// A client that keeps the session cookie.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
}

impl Browser {
    fn get(&mut self, server: &Server, path: &str) -> Response {
        self.send(server, "GET", path, "")
    }

    fn post(&mut self, server: &Server, path: &str, fields: &[(&str, &str)]) -> Response {
        self.send(server, "POST", path, &form(fields))
    }

    fn send(&mut self, server: &Server, method: &str, path: &str, body: &str) -> Response {
        let mut headers = String::from("Content-Type: application/x-www-form-urlencoded\r\n");
        if let Some(cookie) = &self.cookie {
            headers.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        let response = server.request(method, path, &headers, body);
        if let Some(cookie) = response.header("set-cookie") {
            self.cookie = cookie.split(';').next().map(str::to_owned);
        }
        response
    }
}

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
