//! Three `tessera serve` processes on one Postgres database behave as one server, with no
//! sticky sessions: they migrate an empty database safely when started together, and a user,
//! a client, a browser sign-in, a code, a refresh token, a revocation and the signing keys
//! made on one are seen at once by the others. Postgres only (feature `postgres-tests`):
//! SQLite is one file for one process.

#![cfg(feature = "postgres-tests")]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a failed step fails the test"
)]

#[path = "../../integration-tests/tests/helpers/id_token.rs"]
#[allow(
    dead_code,
    reason = "the integration tests' helper, of which this needs a part"
)]
mod id_token;
#[path = "../../integration-tests/tests/helpers/pkce.rs"]
mod pkce;
#[allow(
    dead_code,
    reason = "the process tests' shared harness; each uses a part"
)]
mod server_process;

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Barrier;

use jsonwebtoken::Algorithm;
use serde_json::Value;
use tessera_persistence::test_db::TestDb;
use tessera_persistence::Backend;

use pkce::Pkce;
use server_process::{
    form, request_head, Browser, Registered, Response, Server, PATIENCE, REDIRECT_URI,
};

/// The public URL of the three processes, as behind one load balancer.
const ISSUER: &str = "http://localhost:8080";

/// Settings of every process: one worker and a pool of three connections each.
const SETTINGS: [(&str, &str); 3] = [
    ("TESSERA_ISSUER", ISSUER),
    ("TESSERA_WORKERS", "1"),
    ("TESSERA_POOL_SIZE", "3"),
];

/// The names the test gives the processes in its messages.
const NAMES: [&str; 3] = ["A", "B", "C"];

/// The three processes; each is sent SIGTERM when this drops, whether the test passed or not.
struct Cluster {
    servers: Vec<Server>,
}

impl Cluster {
    /// Starts three processes on `db` at the same moment and waits until each listens.
    fn start(db: &TestDb) -> Self {
        let starting: Vec<_> = NAMES.iter().map(|_| Server::spawn(db, &SETTINGS)).collect();
        let servers = starting
            .into_iter()
            .zip(NAMES)
            .map(|(starting, name)| {
                starting.listening().unwrap_or_else(|error| {
                    panic!("(a) process {name} did not start on the empty database: {error}")
                })
            })
            .collect();
        Self { servers }
    }

    /// Each process with its name.
    fn each(&self) -> impl Iterator<Item = (&'static str, &Server)> {
        NAMES.into_iter().zip(&self.servers)
    }

    /// SIGTERM to every process, then waits for each to exit 0.
    fn stop(mut self) {
        for server in &mut self.servers {
            server.terminate();
        }
        for (name, server) in NAMES.iter().zip(&mut self.servers) {
            let status = server.exit_status();
            assert_eq!(
                status.code(),
                Some(0),
                "process {name} after SIGTERM: {status}"
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Signal all first, so that they stop together; each `Server` then waits for its own.
        for server in &mut self.servers {
            server.terminate();
        }
    }
}

/// The versions each process's log says it applied.
fn applied_migrations(server: &Server) -> Vec<String> {
    server
        .log()
        .iter()
        .filter(|line| line.contains("applied migration"))
        .filter_map(|line| line.split("version=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The number of Postgres migrations in the repository.
fn migration_count() -> usize {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/postgres");
    std::fs::read_dir(directory)
        .unwrap()
        .filter(|entry| entry.as_ref().is_ok_and(|entry| entry.path().is_dir()))
        .count()
}

/// Redeems `code` at `server` with the PKCE verifier.
fn redeem(server: &Server, client: &Registered, code: &str, pkce: &Pkce) -> Response {
    server.token(client, &redeem_form(code, pkce))
}

fn redeem_form(code: &str, pkce: &Pkce) -> String {
    form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &pkce.verifier),
    ])
}

/// A code for `scope` from `server`, bound to a fresh PKCE challenge.
fn code_with_pkce(
    browser: &mut Browser,
    server: &Server,
    client: &Registered,
    scope: &str,
) -> (String, Pkce) {
    let pkce = Pkce::s256();
    let code = browser.authorize(
        server,
        client,
        &[
            ("scope", scope),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
            ("nonce", "n"),
        ],
    );
    (code, pkce)
}

fn string(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

#[test]
fn three_processes_on_one_postgres_database_serve_as_one() {
    let db = TestDb::empty(Backend::Postgres);

    // (a) Started together on an empty database, all three migrate it and serve.
    let cluster = Cluster::start(&db);
    for (name, server) in cluster.each() {
        let health = server.request("GET", "/healthz", "", "");
        assert_eq!(
            health.status, 200,
            "(a) process {name}'s /healthz after a simultaneous start: {}",
            health.body
        );
    }
    let applied: Vec<String> = cluster
        .each()
        .flat_map(|(_, server)| applied_migrations(server))
        .collect();
    let distinct: HashSet<&String> = applied.iter().collect();
    assert!(
        applied.len() == migration_count() && distinct.len() == applied.len(),
        "(a) every migration is applied exactly once among the three processes: {applied:?}"
    );
    let [a, b, c] = [0, 1, 2].map(|index| &cluster.servers[index]);

    // (b) A user and a client made with the command line while they run are known to all.
    let client = Registered::on(&db);
    for (name, server) in cluster.each() {
        let granted = server.token(&client, &client.password_form());
        assert_eq!(
            granted.status, 200,
            "(b) process {name} knows the new user and client (password grant): {}",
            granted.body
        );
    }

    // (c) A browser signed in on A is signed in on B and C with the same cookie.
    let mut browser = Browser::default();
    browser.sign_in(a, &client);
    for (name, server) in [("B", b), ("C", c)] {
        let account = browser.get(server, "/account");
        assert!(
            account.status == 200 && account.body.contains(client.username),
            "(c) the cookie from A's sign-in is signed in on {name}: {} {}",
            account.status,
            account.head
        );
        let stranger = Browser::default().get(server, "/account");
        assert_ne!(
            stranger.status, 200,
            "(c) {name}'s account page needs a sign-in"
        );
    }

    // (d) A code from A's consent page redeems at B's token endpoint, with PKCE.
    let (code, pkce) = code_with_pkce(&mut browser, a, &client, "profile");
    let from_code = redeem(b, &client, &code, &pkce);
    assert_eq!(
        from_code.status, 200,
        "(d) a code issued by A redeems at B: {}",
        from_code.body
    );
    let from_code = from_code.json();
    let access = string(&from_code, "access_token");

    // (e) One code sent to A, B and C at the same moment is redeemed exactly once.
    let (code, pkce) = code_with_pkce(&mut browser, a, &client, "profile");
    let body = redeem_form(&code, &pkce);
    let headers = format!(
        "{}Content-Type: application/x-www-form-urlencoded\r\n",
        client.basic()
    );
    let request = format!(
        "{}{body}",
        request_head("POST", "/oauth/token", &headers, body.len())
    );
    let barrier = Barrier::new(cluster.servers.len());
    let answers: Vec<Response> = std::thread::scope(|scope| {
        let racers: Vec<_> = cluster
            .servers
            .iter()
            .map(|server| {
                let (barrier, request) = (&barrier, &request);
                scope.spawn(move || {
                    let mut stream = server.connect().unwrap();
                    stream.set_read_timeout(Some(PATIENCE)).unwrap();
                    barrier.wait();
                    stream.write_all(request.as_bytes()).unwrap();
                    Response::read(stream)
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|racer| racer.join().unwrap())
            .collect()
    });
    let outcomes: Vec<(u16, String)> = answers
        .iter()
        .map(|answer| (answer.status, answer.body.clone()))
        .collect();
    let won = answers.iter().filter(|answer| answer.status == 200).count();
    let refused = answers
        .iter()
        .filter(|answer| answer.is_invalid_grant())
        .count();
    assert!(
        won == 1 && refused == 2,
        "(e) a code raced at A, B and C gives one 200 and two 400 invalid_grant: {outcomes:?}"
    );

    // (f) The JWK Set is the same on all three, and an ID token from B verifies with A's.
    let jwks: Vec<Value> = cluster
        .each()
        .map(|(_, server)| server.request("GET", "/oauth/jwks", "", "").json())
        .collect();
    assert!(
        jwks[0]["keys"]
            .as_array()
            .is_some_and(|keys| !keys.is_empty())
            && jwks.iter().all(|set| *set == jwks[0]),
        "(f) A, B and C publish one JWK Set: {jwks:?}"
    );
    let (code, pkce) = code_with_pkce(&mut browser, b, &client, "openid profile");
    let with_id_token = redeem(b, &client, &code, &pkce).tokens();
    let (_, claims) = id_token::verify(
        &string(&with_id_token, "id_token"),
        &jwks[0],
        Algorithm::RS256,
        ISSUER,
        &client.client_id,
    );
    assert_eq!(claims["nonce"], "n", "(f) B's ID token: {claims}");

    // (g) An access token revoked at A is refused at once by B and C.
    for (name, server) in [("B", b), ("C", c)] {
        assert_eq!(
            server.api_me(&access),
            200,
            "(g) {name} accepts the token before it is revoked"
        );
    }
    let revoked = a.post_as(&client, "/oauth/revoke", &form(&[("token", &access)]));
    assert_eq!(revoked.status, 200, "(g) revocation at A: {}", revoked.body);
    for (name, server) in [("B", b), ("C", c)] {
        assert_eq!(
            server.api_me(&access),
            401,
            "(g) {name} refuses the token A revoked, with no delay"
        );
    }
    assert!(
        !b.active(&client, &access),
        "(g) B's introspection says the token A revoked is not active"
    );

    // (h) A refresh token rotated on A cannot be rotated again on C.
    let refresh = string(&with_id_token, "refresh_token");
    let refresh_form = form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
    let rotated = a.token(&client, &refresh_form);
    assert_eq!(
        rotated.status, 200,
        "(h) A rotates the refresh token: {}",
        rotated.body
    );
    let again = c.token(&client, &refresh_form);
    assert!(
        again.is_invalid_grant(),
        "(h) C refuses the refresh token A rotated with 400 invalid_grant: {} {}",
        again.status,
        again.body
    );
    assert!(
        !b.active(&client, &string(&rotated.json(), "refresh_token")),
        "(h) the replay on C revoked the chain, as B sees"
    );

    cluster.stop();
}
