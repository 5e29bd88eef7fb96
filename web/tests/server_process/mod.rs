//! Real `tessera` processes driven over plain HTTP/1.1, shared by the process tests
//! (`lifecycle`, `scale_out`): the command line on a [`TestDb`], a running `tessera serve`
//! ([`Server`]), and a [`Browser`] that keeps the session cookie from one server to the next.

#[path = "../../../integration-tests/tests/helpers/html.rs"]
#[allow(
    dead_code,
    reason = "the integration tests' scraping, of which these need a part"
)]
mod html;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use tessera_persistence::test_db::TestDb;

/// The redirect URI of the client the tests register.
pub const REDIRECT_URI: &str = "https://client.example/cb";

/// How long a process may take to start, stop or answer before the test gives up on it.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A `tessera` command on `db` (bcrypt cost 4, errors only on stderr unless `RUST_LOG`, as
/// text lines unless `TESSERA_LOG_FORMAT`).
pub fn tessera(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args(args)
        .env_clear()
        .env("TESSERA_DATABASE_URL", db.url())
        .env("TESSERA_BCRYPT_COST", "4")
        .env("RUST_LOG", "error")
        .env("TESSERA_LOG_FORMAT", "text");
    command
}

/// The port a log line with `message` says, as text (`port=5000`) or JSON (`"port":5000`).
pub fn logged_port(line: &str, message: &str) -> Option<u16> {
    if !line.contains(message) {
        return None;
    }
    let rest = line
        .split("port=")
        .nth(1)
        .or_else(|| line.split("\"port\":").nth(1))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Runs `tessera args` with `stdin`; expects success and returns stdout.
pub fn run(db: &TestDb, args: &[&str], stdin: &str) -> String {
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

/// A user and a confidential client with every grant the tests use (scopes `openid` and
/// `profile`), made with the CLI.
pub struct Registered {
    pub username: &'static str,
    pub password: &'static str,
    pub client_id: String,
    pub client_secret: String,
}

impl Registered {
    pub fn on(db: &TestDb) -> Self {
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
                "openid profile",
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
    pub fn basic(&self) -> String {
        let credentials = format!("{}:{}", self.client_id, self.client_secret);
        format!("Authorization: Basic {}\r\n", STANDARD.encode(credentials))
    }

    /// The password grant's form for the user.
    pub fn password_form(&self) -> String {
        form(&[
            ("grant_type", "password"),
            ("username", self.username),
            ("password", self.password),
            ("scope", "profile"),
        ])
    }
}

/// The log lines a process wrote to stderr so far.
type Log = Arc<Mutex<Vec<String>>>;

/// A `tessera serve` that was started and may not listen yet; killed when dropped.
pub struct Starting {
    child: Option<Child>,
    port: mpsc::Receiver<u16>,
    log: Log,
}

impl Starting {
    /// Waits until the process says which port it listens on; on failure, says why with the
    /// process's log.
    pub fn listening(mut self) -> Result<Server, String> {
        let port = self.port.recv_timeout(PATIENCE);
        let mut child = self.child.take().unwrap();
        if let Ok(port) = port {
            return Ok(Server {
                child,
                port,
                log: Arc::clone(&self.log),
            });
        }
        let status = match port {
            // The log ended: the process exited, or is about to.
            Err(mpsc::RecvTimeoutError::Disconnected) => exit_within_patience(&mut child),
            _ => child.try_wait().ok().flatten(),
        };
        let _ = child.kill();
        let _ = child.wait();
        let why = match status {
            Some(status) => format!("it exited ({status})"),
            None => format!("no \"listening\" line within {PATIENCE:?}"),
        };
        Err(format!("{why}; its log:\n{}", lines(&self.log).join("\n")))
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits up to [`PATIENCE`] for `child` to exit.
fn exit_within_patience(child: &mut Child) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if started.elapsed() >= PATIENCE {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A copy of `log`'s lines.
fn lines(log: &Log) -> Vec<String> {
    log.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// A running `tessera serve`; sent SIGTERM when dropped (and SIGKILL if it does not exit).
pub struct Server {
    child: Child,
    port: u16,
    log: Log,
}

impl Server {
    /// Starts `tessera serve` on `db` on a free port and waits until it listens.
    pub fn start(db: &TestDb) -> Self {
        Self::spawn(db, &[]).listening().unwrap()
    }

    /// Starts `tessera serve` on `db` on a free port with the extra settings `env`, logging
    /// at `info`, without waiting for it to listen.
    pub fn spawn(db: &TestDb, env: &[(&str, &str)]) -> Starting {
        let mut child = tessera(db, &["serve"])
            .env("TESSERA_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (port_sender, port) = mpsc::channel();
        let log = Log::default();
        let kept = Arc::clone(&log);
        // Reads the log for as long as the process runs, so that it never blocks on a full
        // pipe; the first "listening" line says the port.
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let port = logged_port(&line, "listening");
                kept.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(line);
                if let Some(port) = port {
                    let _ = port_sender.send(port);
                }
            }
        });
        Starting {
            child: Some(child),
            port,
            log,
        }
    }

    /// The log lines the process wrote so far.
    pub fn log(&self) -> Vec<String> {
        lines(&self.log)
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, signal).unwrap();
    }

    /// Sends SIGTERM unless the process has exited already.
    pub fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal(Signal::SIGTERM);
        }
    }

    /// Waits for the process to exit.
    pub fn exit_status(&mut self) -> ExitStatus {
        exit_within_patience(&mut self.child).expect("the server did not exit")
    }

    /// A new connection to the server.
    pub fn connect(&self) -> std::io::Result<TcpStream> {
        TcpStream::connect(("127.0.0.1", self.port))
    }

    /// Sends one request (`Connection: close`) and reads the whole response.
    pub fn request(&self, method: &str, path: &str, headers: &str, body: &str) -> Response {
        let mut stream = self.connect().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
            .write_all(request_head(method, path, headers, body.len()).as_bytes())
            .unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        Response::read(stream)
    }

    /// `POST path` with `form`, authenticated as the client with HTTP Basic.
    pub fn post_as(&self, client: &Registered, path: &str, form: &str) -> Response {
        let headers = format!(
            "{}Content-Type: application/x-www-form-urlencoded\r\n",
            client.basic()
        );
        self.request("POST", path, &headers, form)
    }

    /// `POST /oauth/token` with `form`, as the client.
    pub fn token(&self, client: &Registered, form: &str) -> Response {
        self.post_as(client, "/oauth/token", form)
    }

    /// `POST /oauth/introspect` of `token`, as the client; whether it is active.
    pub fn active(&self, client: &Registered, token: &str) -> bool {
        let response = self.post_as(client, "/oauth/introspect", &form(&[("token", token)]));
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["active"].as_bool().unwrap()
    }

    /// The status of `GET /api/me` with `access` as the Bearer token.
    pub fn api_me(&self, access: &str) -> u16 {
        let headers = format!("Authorization: Bearer {access}\r\n");
        self.request("GET", "/api/me", &headers, "").status
    }

    /// Signs the user in, consents, and returns the authorization code.
    pub fn authorization_code(&self, client: &Registered) -> String {
        let mut browser = Browser::default();
        browser.sign_in(self, client);
        browser.authorize(self, client, &[("scope", "profile")])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
        if exit_within_patience(&mut self.child).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The head of an HTTP/1.1 request with `headers` (each ending in CRLF) and a body of
/// `length` bytes.
pub fn request_head(method: &str, path: &str, headers: &str, length: usize) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Length: {length}\r\n{headers}\r\n"
    )
}

/// `application/x-www-form-urlencoded` pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A response read to its end.
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    pub fn read(mut stream: TcpStream) -> Self {
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
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// The body of a 200 token response.
    pub fn tokens(&self) -> Value {
        assert_eq!(self.status, 200, "expected tokens: {}", self.body);
        self.json()
    }

    /// Whether this is a 400 `invalid_grant`.
    pub fn is_invalid_grant(&self) -> bool {
        self.status == 400
            && serde_json::from_str::<Value>(&self.body)
                .is_ok_and(|body| body["error"] == "invalid_grant")
    }

    /// Asserts a 400 `invalid_grant`.
    pub fn assert_invalid_grant(&self) {
        assert!(
            self.is_invalid_grant(),
            "expected 400 invalid_grant: {} {}",
            self.status,
            self.body
        );
    }
}

/// A client that keeps the session cookie, whichever server it talks to.
#[derive(Default)]
pub struct Browser {
    cookie: Option<String>,
}

impl Browser {
    pub fn get(&mut self, server: &Server, path: &str) -> Response {
        self.send(server, "GET", path, "")
    }

    pub fn post(&mut self, server: &Server, path: &str, fields: &[(&str, &str)]) -> Response {
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

    /// Signs the client's user in on `server` through the sign-in form.
    pub fn sign_in(&mut self, server: &Server, client: &Registered) {
        let login = self.get(server, "/login");
        let csrf = html::input_value(&login.body, "csrf_token").expect("a CSRF token");
        let signed_in = self.post(
            server,
            "/login",
            &[
                ("username", client.username),
                ("password", client.password),
                ("csrf_token", &csrf),
            ],
        );
        assert_eq!(signed_in.status, 303, "sign-in: {}", signed_in.body);
    }

    /// Asks `server` for a code for the client with the parameters `extra` (`scope` among
    /// them), allowing on the consent page if one is shown (a remembered consent skips it),
    /// and returns the code from the redirect.
    pub fn authorize(
        &mut self,
        server: &Server,
        client: &Registered,
        extra: &[(&str, &str)],
    ) -> String {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("state", "s"),
        ];
        pairs.extend_from_slice(extra);
        let asked = self.get(server, &format!("/oauth/authorize?{}", form(&pairs)));
        let redirect = if asked.status == 200 {
            let mut fields = html::form_hidden_inputs(&asked.body, "/oauth/authorize");
            fields.push(("confirm".into(), "yes".into()));
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let allowed = self.post(server, "/oauth/authorize", &fields);
            assert_eq!(allowed.status, 303, "consent: {}", allowed.body);
            allowed
        } else {
            asked
        };
        let location = redirect
            .header("location")
            .unwrap_or_else(|| panic!("a redirect to the client: {}", redirect.head));
        url::Url::parse(location)
            .unwrap()
            .query_pairs()
            .find(|(name, _)| name == "code")
            .map(|(_, code)| code.into_owned())
            .unwrap_or_else(|| panic!("a code in the redirect {location}"))
    }
}
