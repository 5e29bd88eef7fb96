//! The `tessera` binary's command line: exit codes and messages.

#![expect(clippy::unwrap_used, reason = "a failed step fails the test")]

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env(
                "TESSERA_DATABASE_URL",
                format!("sqlite://{}/tessera.db", self.dir.path().display()),
            )
            .env("TESSERA_BCRYPT_COST", "4")
            .env("RUST_LOG", "error");
        command
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
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
        child.wait_with_output().unwrap()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_one_clear_line(output: &Output, setting: &str) {
    assert!(!output.status.success());
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(output);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<_> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains(setting), "{stderr}");
}

#[test]
fn user_add_reads_the_password_from_stdin_and_refuses_a_taken_name() {
    let env = Env::new();
    let first = env.run(
        &["user", "add", "alice", "--password-stdin"],
        "password123\n",
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let second = env.run(
        &["user", "add", "alice", "--password-stdin"],
        "password123\n",
    );
    assert_eq!(second.status.code(), Some(1));
    assert!(stderr(&second).contains("taken"), "{}", stderr(&second));
}

#[test]
fn a_password_over_72_bytes_is_refused_not_truncated() {
    let env = Env::new();
    let password = format!("{}\n", "a".repeat(73));
    let output = env.run(&["user", "add", "bob", "--password-stdin"], &password);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert!(stderr.contains("72 bytes"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Exactly 72 bytes plus the newline is fine.
    let password = format!("{}\n", "a".repeat(72));
    let output = env.run(&["user", "add", "bob", "--password-stdin"], &password);
    assert!(output.status.success(), "{}", self::stderr(&output));
}

#[test]
fn client_add_prints_the_client_as_json_with_its_secret() {
    let env = Env::new();
    let output = env.run(
        &[
            "client",
            "add",
            "--name",
            "App",
            "--redirect-uri",
            "https://app.example/cb",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "password",
            "--response-type",
            "code",
            "--scope",
            "profile email",
        ],
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["client_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(json["client_secret"]
        .as_str()
        .is_some_and(|s| s.len() >= 43));
    assert_eq!(json["client_name"], "App");
    assert_eq!(json["redirect_uris"][0], "https://app.example/cb");
    assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");

    let public = env.run(
        &[
            "client",
            "add",
            "--name",
            "Public",
            "--redirect-uri",
            "https://app.example/cb",
            "--auth-method",
            "none",
        ],
        "",
    );
    assert!(public.status.success(), "{}", stderr(&public));
    let json: serde_json::Value = serde_json::from_slice(&public.stdout).unwrap();
    assert!(json.get("client_secret").is_none());
    assert_eq!(json["id_token_signed_response_alg"], "RS256");
    assert_eq!(json["access_token_format"], serde_json::Value::Null);
    assert_eq!(json["require_pushed_authorization_requests"], false);
}

#[test]
fn client_add_require_par_shows_in_the_client_json() {
    let env = Env::new();
    let output = env.run(
        &[
            "client",
            "add",
            "--name",
            "Pusher",
            "--redirect-uri",
            "https://app.example/cb",
            "--require-par",
        ],
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["require_pushed_authorization_requests"], true);
}

#[test]
fn client_add_takes_an_access_token_format_and_refuses_an_unknown_one() {
    let env = Env::new();
    let base = [
        "client",
        "add",
        "--name",
        "Service",
        "--grant-type",
        "client_credentials",
    ];
    let output = env.run(&[&base[..], &["--access-token-format", "jwt"]].concat(), "");
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["access_token_format"], "jwt");

    let refused = env.run(
        &[&base[..], &["--access-token-format", "paseto"]].concat(),
        "",
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("paseto"), "{}", stderr(&refused));
}

#[test]
fn client_add_takes_openid_metadata_and_refuses_an_unknown_algorithm() {
    let env = Env::new();
    let base = [
        "client",
        "add",
        "--name",
        "RP",
        "--redirect-uri",
        "https://rp.example/cb",
        "--scope",
        "openid profile",
        "--post-logout-redirect-uri",
        "https://rp.example/bye",
    ];
    let output = env.run(&[&base[..], &["--id-token-alg", "EdDSA"]].concat(), "");
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["id_token_signed_response_alg"], "EdDSA");
    assert_eq!(
        json["post_logout_redirect_uris"][0],
        "https://rp.example/bye"
    );

    let refused = env.run(&[&base[..], &["--id-token-alg", "HS256"]].concat(), "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("HS256"), "{}", stderr(&refused));
}

#[test]
fn user_add_takes_an_email_and_refuses_a_malformed_one() {
    let env = Env::new();
    let added = env.run(
        &[
            "user",
            "add",
            "carol",
            "--password-stdin",
            "--email",
            "carol@example.com",
        ],
        "password123\n",
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let refused = env.run(
        &[
            "user",
            "add",
            "dave",
            "--password-stdin",
            "--email",
            "not an address",
        ],
        "password123\n",
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("email"), "{}", stderr(&refused));
}

#[test]
fn an_unsupported_database_url_is_one_line_naming_the_setting() {
    let env = Env::new();
    let output = env
        .command(&["serve"])
        .env("TESSERA_DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert_one_clear_line(&output, "TESSERA_DATABASE_URL");
}

#[test]
fn a_port_in_use_is_one_line_naming_the_setting() {
    let env = Env::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = env
        .command(&["serve"])
        .env("TESSERA_BIND", &address)
        .output()
        .unwrap();
    assert_one_clear_line(&output, "TESSERA_BIND");
}

#[test]
fn a_metrics_port_in_use_is_one_line_naming_the_setting() {
    let env = Env::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = env
        .command(&["serve"])
        .env("TESSERA_BIND", "127.0.0.1:0")
        .env("TESSERA_METRICS_BIND", &address)
        .output()
        .unwrap();
    assert_one_clear_line(&output, "TESSERA_METRICS_BIND");
    let output = env
        .command(&["serve"])
        .env("TESSERA_BIND", "127.0.0.1:0")
        .env("TESSERA_METRICS_BIND", "192.0.2.1:9100")
        .output()
        .unwrap();
    assert_one_clear_line(&output, "TESSERA_METRICS_BIND");
}

#[test]
fn a_bad_setting_is_one_line_naming_it() {
    let env = Env::new();
    let output = env
        .command(&["migrate"])
        .env("TESSERA_BCRYPT_COST", "99")
        .output()
        .unwrap();
    assert_one_clear_line(&output, "TESSERA_BCRYPT_COST");
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn keys_rotate_adds_a_pending_key_that_keys_list_shows_beside_the_signing_ones() {
    let env = Env::new();
    let rotated = env.run(&["keys", "rotate", "--alg", "ES256"], "");
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let said = stdout_lines(&rotated).join("\n");
    assert!(said.starts_with("added ES256 key "), "{said}");
    let new_kid = said
        .trim_start_matches("added ES256 key ")
        .split(':')
        .next()
        .unwrap()
        .to_owned();

    let listed = env.run(&["keys", "list"], "");
    assert!(listed.status.success(), "{}", stderr(&listed));
    let lines = stdout_lines(&listed);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let fields =
        |line: &str| -> Vec<String> { line.split_whitespace().map(str::to_owned).collect() };
    let new = lines
        .iter()
        .map(|line| fields(line))
        .find(|fields| fields[0] == new_kid)
        .unwrap();
    assert_eq!(new[1..3], ["ES256", "pending"], "{new:?}");
    for alg in ["RS256", "ES256", "EdDSA"] {
        let first: Vec<Vec<String>> = lines
            .iter()
            .map(|line| fields(line))
            .filter(|fields| fields[0] != new_kid && fields[1] == alg)
            .collect();
        assert_eq!(first.len(), 1, "{lines:?}");
        assert_eq!(first[0][2], "signing", "{lines:?}");
        let superseded = first[0]
            .iter()
            .find(|f| f.starts_with("superseded="))
            .unwrap();
        assert_eq!(superseded == "superseded=-", alg != "ES256", "{lines:?}");
    }
}

#[test]
fn keys_rotate_twice_keeps_every_key_apart() {
    let env = Env::new();
    for _ in 0..2 {
        let output = env.run(&["keys", "rotate"], "");
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let lines = stdout_lines(&env.run(&["keys", "list"], ""));
    let mut kids: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(kids.len(), 5, "{lines:?}");
    kids.sort_unstable();
    kids.dedup();
    assert_eq!(kids.len(), 5, "{lines:?}");
    let rsa = lines.iter().filter(|line| line.contains(" RS256 ")).count();
    assert_eq!(rsa, 3, "{lines:?}");
}

#[test]
fn keys_sealed_under_another_secret_key_are_one_line_naming_it() {
    let env = Env::new();
    let first_secret = "first-secret-key-of-at-least-32-bytes!";
    let output = env
        .command(&["keys", "rotate"])
        .env("TESSERA_SECRET_KEY", first_secret)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    for command in [&["keys", "rotate"][..], &["serve"][..]] {
        let output = env
            .command(command)
            .env("TESSERA_BIND", "127.0.0.1:0")
            .env(
                "TESSERA_SECRET_KEY",
                "another-secret-key-of-at-least-32-bytes",
            )
            .output()
            .unwrap();
        assert_one_clear_line(&output, "TESSERA_SECRET_KEY");
        let output = env
            .command(command)
            .env("TESSERA_BIND", "127.0.0.1:0")
            .output()
            .unwrap();
        assert_one_clear_line(&output, "TESSERA_SECRET_KEY");
    }
    // Listing opens no private key, so it still works.
    let listed = env.run(&["keys", "list"], "");
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert_eq!(stdout_lines(&listed).len(), 4);
}

#[test]
fn client_add_refuses_weak_redirect_uris_unless_transport_is_insecure() {
    let env = Env::new();
    let add =
        |uri: &str| ["client", "add", "--name", "app", "--redirect-uri", uri].map(str::to_owned);
    for uri in ["file:///etc/passwd", "http://app.example/cb", "myapp:/cb"] {
        let args = add(uri);
        let refused = env.run(&args.each_ref().map(String::as_str), "");
        assert_eq!(refused.status.code(), Some(1), "{uri}");
        assert!(
            stderr(&refused).contains("redirect_uris"),
            "{}",
            stderr(&refused)
        );
    }
    let args = add("http://app.example/cb");
    let insecure = env
        .command(&args.each_ref().map(String::as_str))
        .env("TESSERA_INSECURE_TRANSPORT", "1")
        .output()
        .unwrap();
    assert!(insecure.status.success(), "{}", stderr(&insecure));
}

/// Stores, behind the command line's back, a client-credentials authorization given in 2001
/// with one access token that expired an hour later, and an initial access token that
/// expired then too.
fn store_expired_tokens(env: &Env) {
    use tessera_domain::authorization::Authorization;
    use tessera_domain::client::{AuthMethod, Client, GrantType};
    use tessera_domain::registration::StoredInitialAccessToken;
    use tessera_domain::signing::SigningAlg;
    use tessera_domain::store::{
        AuthorizationStore as _, ClientStore as _, RegistrationTokenStore as _, TokenStore as _,
    };
    use tessera_domain::token::{Token, TokenKind};
    use tessera_domain::{Scope, Secret};
    use tessera_persistence::{Database, DatabaseUrl, PoolOptions};

    let url = format!("sqlite://{}/tessera.db", env.dir.path().display());
    let database =
        Database::connect(&DatabaseUrl::parse(&url).unwrap(), PoolOptions::default()).unwrap();
    let then = chrono::DateTime::from_timestamp(1_000_000_000, 0).unwrap();
    let client = Client {
        id: "machine".to_owned(),
        owner_id: None,
        secret_digest: Some(Secret::generate().digest()),
        name: "machine".to_owned(),
        uri: None,
        redirect_uris: Vec::new(),
        grant_types: vec![GrantType::ClientCredentials],
        response_types: Vec::new(),
        scope: Scope::default(),
        auth_method: AuthMethod::ClientSecretBasic,
        created_at: then,
        id_token_alg: SigningAlg::Rs256,
        post_logout_redirect_uris: Vec::new(),
        access_token_format: None,
        require_pushed_requests: None,
        details: Default::default(),
        registration_token_digest: None,
        registered_dynamically: false,
    };
    database.insert_client(&client).unwrap();
    let authorization = Authorization::new("machine", None, Scope::default(), then);
    database.insert_authorization(&authorization).unwrap();
    database
        .insert_tokens(&[Token {
            digest: Secret::generate().digest(),
            kind: TokenKind::Access,
            authorization_id: authorization.id,
            client_id: "machine".to_owned(),
            user_id: None,
            scope: Scope::default(),
            issued_at: then,
            expires_at: then + chrono::Duration::hours(1),
            revoked_at: None,
            rotated_at: None,
            parent: None,
        }])
        .unwrap();
    database
        .insert_registration_token(&StoredInitialAccessToken {
            digest: Secret::generate().digest(),
            created_at: then,
            expires_at: Some(then + chrono::Duration::hours(1)),
            uses_left: None,
        })
        .unwrap();
}

#[test]
fn purge_prints_a_count_per_table_as_json_or_as_one_line() {
    let env = Env::new();
    let migrated = env.run(&["migrate"], "");
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    store_expired_tokens(&env);

    let json = env.run(&["purge", "--json"], "");
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let lines = stdout_lines(&json);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let counts: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(
        counts,
        serde_json::json!({
            "authorization_codes": 0,
            "tokens": 1,
            "authorizations": 1,
            "throttles": 0,
            "sessions": 0,
            "revoked_jwts": 0,
            "pushed_requests": 0,
            "device_codes": 0,
            "registration_tokens": 1,
        })
    );

    let again = env.run(&["purge"], "");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        stdout_lines(&again),
        ["purged 0 authorization codes, 0 tokens, 0 authorizations, 0 throttle counters, 0 sessions, 0 revoked JWTs, 0 pushed requests, 0 device codes, 0 initial access tokens"]
    );
}

#[test]
fn client_add_registers_a_device_client_without_a_redirect_uri() {
    let env = Env::new();
    let output = env.run(
        &[
            "client",
            "add",
            "--name",
            "TV",
            "--grant-type",
            "urn:ietf:params:oauth:grant-type:device_code",
            "--grant-type",
            "refresh_token",
            "--auth-method",
            "none",
            "--scope",
            "openid profile",
        ],
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["grant_types"],
        serde_json::json!([
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token"
        ])
    );
    assert_eq!(json["token_endpoint_auth_method"], "none");
}

#[test]
fn client_add_prints_a_registration_access_token_and_every_detail() {
    let env = Env::new();
    let output = env.run(
        &[
            "client",
            "add",
            "--name",
            "Detailed",
            "--redirect-uri",
            "https://app.example/cb",
            "--logo-uri",
            "https://app.example/logo.png",
            "--tos-uri",
            "https://app.example/tos",
            "--policy-uri",
            "https://app.example/privacy",
            "--contact",
            "ops@app.example",
            "--contact",
            "dev@app.example",
        ],
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = json["client_id"].as_str().unwrap();
    assert!(json["registration_access_token"]
        .as_str()
        .is_some_and(|token| token.len() >= 43));
    assert_eq!(
        json["registration_client_uri"],
        format!("http://127.0.0.1:5000/oauth/register/{id}").as_str()
    );
    assert_eq!(json["logo_uri"], "https://app.example/logo.png");
    assert_eq!(json["tos_uri"], "https://app.example/tos");
    assert_eq!(json["policy_uri"], "https://app.example/privacy");
    assert_eq!(
        json["contacts"],
        serde_json::json!(["ops@app.example", "dev@app.example"])
    );
    let refused = env.run(
        &[
            "client",
            "add",
            "--name",
            "Bad logo",
            "--redirect-uri",
            "https://app.example/cb",
            "--logo-uri",
            "javascript:alert(1)",
        ],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("logo_uri"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn client_list_names_every_clients_owner_or_origin() {
    use tessera_domain::store::{ClientStore as _, UserStore as _};
    use tessera_persistence::{Database, DatabaseUrl, PoolOptions};

    let env = Env::new();
    let made_here = env.run(
        &[
            "client",
            "add",
            "--name",
            "Made here",
            "--redirect-uri",
            "https://app.example/cb",
        ],
        "",
    );
    assert!(made_here.status.success(), "{}", stderr(&made_here));
    let made_here: serde_json::Value = serde_json::from_slice(&made_here.stdout).unwrap();
    let added = env.run(
        &["user", "add", "alice", "--password-stdin"],
        "pa55word-alice\n",
    );
    assert!(added.status.success(), "{}", stderr(&added));

    let url = format!("sqlite://{}/tessera.db", env.dir.path().display());
    let database =
        Database::connect(&DatabaseUrl::parse(&url).unwrap(), PoolOptions::default()).unwrap();
    let alice = database.find_user_by_name("alice").unwrap().unwrap();
    let mut clients = database.all_clients().unwrap();
    let template = clients.pop().unwrap();
    let owned = tessera_domain::Client {
        id: "owned-by-alice".to_owned(),
        owner_id: Some(alice.id),
        created_at: template.created_at + chrono::Duration::seconds(1),
        ..template.clone()
    };
    let dynamic = tessera_domain::Client {
        id: "self-registered".to_owned(),
        owner_id: None,
        registered_dynamically: true,
        created_at: template.created_at + chrono::Duration::seconds(2),
        ..template
    };
    database.insert_client(&owned).unwrap();
    database.insert_client(&dynamic).unwrap();
    drop(database);

    let listed = env.run(&["client", "list"], "");
    assert!(listed.status.success(), "{}", stderr(&listed));
    let lines: Vec<String> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let id = made_here["client_id"].as_str().unwrap();
    assert!(
        lines[0].starts_with(&format!("{id} \"Made here\" owner=- created=")),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("owned-by-alice \"Made here\" owner=alice "),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("self-registered \"Made here\" owner=registered-dynamically "),
        "{lines:?}"
    );

    let json = env.run(&["client", "list", "--json"], "");
    assert!(json.status.success(), "{}", stderr(&json));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let summary: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|client| {
            (
                client["client_id"].as_str().unwrap().to_owned(),
                client["owner"].clone(),
                client["registered_dynamically"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (id.to_owned(), serde_json::Value::Null, false.into()),
            ("owned-by-alice".to_owned(), "alice".into(), false.into()),
            (
                "self-registered".to_owned(),
                serde_json::Value::Null,
                true.into()
            ),
        ]
    );
    assert!(json[0].get("client_secret").is_none());
    assert!(json[0].get("registration_access_token").is_none());
}

#[test]
fn registration_token_create_prints_the_token_once_with_its_limits() {
    let env = Env::new();
    let made = env
        .command(&[
            "registration-token",
            "create",
            "--expires-in",
            "60",
            "--uses",
            "2",
        ])
        .env("TESSERA_REGISTRATION", "token")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    assert_eq!(stderr(&made).trim(), "");
    let json: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    assert!(json["initial_access_token"]
        .as_str()
        .is_some_and(|token| token.len() >= 43));
    assert_eq!(json["uses"], 2);
    let expires_at = chrono::DateTime::parse_from_rfc3339(json["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let left = expires_at - tessera_domain::Clock::now(&tessera_domain::SystemClock);
    assert!(
        left > chrono::Duration::seconds(50) && left <= chrono::Duration::seconds(60),
        "{left}"
    );

    let unlimited = env.run(&["registration-token", "create"], "");
    assert!(unlimited.status.success(), "{}", stderr(&unlimited));
    let json: serde_json::Value = serde_json::from_slice(&unlimited.stdout).unwrap();
    assert_eq!(json["expires_at"], serde_json::Value::Null);
    assert_eq!(json["uses"], serde_json::Value::Null);
    assert!(
        stderr(&unlimited).contains("TESSERA_REGISTRATION=token"),
        "the default open mode needs no token: {}",
        stderr(&unlimited)
    );

    for bad in [["--uses", "0"], ["--expires-in", "-5"]] {
        let refused = env.run(
            &[&["registration-token", "create"][..], &bad[..]].concat(),
            "",
        );
        assert!(!refused.status.success(), "{bad:?}");
    }
}

/// The test's database, opened behind the command line's back.
fn database(env: &Env) -> tessera_persistence::Database {
    use tessera_persistence::{Database, DatabaseUrl, PoolOptions};
    let url = format!("sqlite://{}/tessera.db", env.dir.path().display());
    Database::connect(&DatabaseUrl::parse(&url).unwrap(), PoolOptions::default()).unwrap()
}

/// Runs `args` and parses its stdout as JSON, failing the test if the command failed.
fn run_json(env: &Env, args: &[&str]) -> serde_json::Value {
    let output = env.run(args, "");
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Adds a user on the command line.
fn add_user(env: &Env, name: &str, extra: &[&str]) {
    let mut args = vec!["user", "add", name, "--password-stdin"];
    args.extend_from_slice(extra);
    let added = env.run(&args, "pa55word-long\n");
    assert!(added.status.success(), "{}", stderr(&added));
}

/// Records a live browser session of `username` behind the command line's back.
fn store_a_session(env: &Env, username: &str, agent: &str) -> String {
    use tessera_domain::browser_session::{BrowserSession, SessionId};
    use tessera_domain::store::{SessionStore as _, UserStore as _};
    use tessera_domain::{Clock as _, SystemClock};

    let database = database(env);
    let user = database.find_user_by_name(username).unwrap().unwrap();
    let now = SystemClock.now();
    let session = BrowserSession {
        id: SessionId::generate(),
        user_id: user.id,
        started_at: now,
        last_seen_at: now,
        ended_at: None,
        user_agent: Some(agent.to_owned()),
    };
    database.insert_session(&session).unwrap();
    session.id.to_string()
}

/// Gives `username` a client of their own and their consent to a command-line client, with
/// a refresh token under that consent, behind the command line's back. Returns the owned
/// client's id and the token's digest.
fn store_a_client_and_a_consent(
    env: &Env,
    username: &str,
    approved: &str,
) -> (String, tessera_domain::TokenDigest) {
    use tessera_domain::authorization::Authorization;
    use tessera_domain::consent::Consent;
    use tessera_domain::store::{
        AuthorizationStore as _, ClientStore as _, ConsentStore as _, TokenStore as _,
        UserStore as _,
    };
    use tessera_domain::token::{Token, TokenKind};
    use tessera_domain::{Clock as _, Scope, Secret, SystemClock};

    let database = database(env);
    let user = database.find_user_by_name(username).unwrap().unwrap();
    let template = database.find_client(approved).unwrap().unwrap();
    let owned = tessera_domain::Client {
        id: format!("owned-by-{username}"),
        owner_id: Some(user.id),
        name: format!("{username}'s app"),
        ..template.clone()
    };
    database.insert_client(&owned).unwrap();
    let now = SystemClock.now();
    let scope = Scope::parse("profile").unwrap();
    database
        .record_consent(&Consent {
            user_id: user.id,
            client_id: approved.to_owned(),
            scope: scope.clone(),
            granted_at: now,
        })
        .unwrap();
    let family = Authorization::new(approved, Some(user.id), scope.clone(), now);
    database.insert_authorization(&family).unwrap();
    let digest = Secret::generate().digest();
    database
        .insert_tokens(&[Token {
            digest,
            kind: TokenKind::Refresh,
            authorization_id: family.id,
            client_id: approved.to_owned(),
            user_id: Some(user.id),
            scope,
            issued_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
            rotated_at: None,
            parent: None,
        }])
        .unwrap();
    (owned.id, digest)
}

/// Adds a confidential command-line client and returns its JSON.
fn add_client(env: &Env, name: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "client",
        "add",
        "--name",
        name,
        "--redirect-uri",
        "https://app.example/cb",
        "--scope",
        "profile",
    ];
    args.extend_from_slice(extra);
    run_json(env, &args)
}

#[test]
fn user_list_and_show_print_every_user_as_text_or_json() {
    let env = Env::new();
    add_user(&env, "alice", &["--email", "alice@example.com"]);
    add_user(&env, "bob", &[]);
    let app = add_client(&env, "App", &[]);
    let app_id = app["client_id"].as_str().unwrap();
    let (owned, _) = store_a_client_and_a_consent(&env, "alice", app_id);
    store_a_session(&env, "alice", "Firefox");

    let users = run_json(&env, &["user", "list", "--json"]);
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[0]["email"], "alice@example.com");
    assert_eq!(users[0]["disabled"], false);
    assert_eq!(users[0]["disabled_at"], serde_json::Value::Null);
    assert_eq!(users[0]["tokens_valid_after"], serde_json::Value::Null);
    assert!(users[0]["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(users[0]["created_at"]
        .as_str()
        .is_some_and(|at| at.ends_with('Z')));
    assert_eq!(users[1]["username"], "bob");
    assert_eq!(users[1]["email"], serde_json::Value::Null);

    let text = env.run(&["user", "list"], "");
    let lines = stdout_lines(&text);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("alice "), "{lines:?}");
    assert!(
        lines[0].contains("email=alice@example.com") && lines[0].contains("disabled=no"),
        "{lines:?}"
    );
    assert!(lines[1].contains("email=-"), "{lines:?}");

    let alice = run_json(&env, &["user", "show", "alice", "--json"]);
    assert_eq!(alice["id"], users[0]["id"]);
    assert_eq!(
        alice["clients"],
        serde_json::json!([{"client_id": owned, "client_name": "alice's app"}])
    );
    assert_eq!(alice["live_sessions"], 1);
    assert_eq!(alice["approved_clients"][0]["client_id"], app_id);
    assert_eq!(alice["approved_clients"][0]["scope"], "profile");
    let bob = run_json(&env, &["user", "show", "bob", "--json"]);
    assert_eq!(bob["clients"], serde_json::json!([]));
    assert_eq!(bob["live_sessions"], 0);

    let shown = env.run(&["user", "show", "alice"], "");
    let lines = stdout_lines(&shown);
    assert!(lines.contains(&"live sessions: 1".to_owned()), "{lines:?}");
    assert!(lines.contains(&format!("clients: {owned}")), "{lines:?}");
}

#[test]
fn user_disable_signs_the_user_out_revokes_their_tokens_and_enable_undoes_the_mark() {
    use tessera_domain::store::TokenStore as _;

    let env = Env::new();
    add_user(&env, "alice", &[]);
    let app = add_client(&env, "App", &[]);
    let (_, refresh) =
        store_a_client_and_a_consent(&env, "alice", app["client_id"].as_str().unwrap());
    store_a_session(&env, "alice", "Firefox");

    let disabled = env.run(&["user", "disable", "alice"], "");
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let alice = run_json(&env, &["user", "show", "alice", "--json"]);
    assert_eq!(alice["disabled"], true);
    assert!(alice["disabled_at"].is_string());
    assert_eq!(alice["live_sessions"], 0);
    let token = database(&env).find_token(&refresh).unwrap().unwrap();
    assert!(token.revoked_at.is_some());
    let listed = stdout_lines(&env.run(&["user", "list"], ""));
    assert!(listed[0].contains("disabled=yes"), "{listed:?}");

    let enabled = env.run(&["user", "enable", "alice"], "");
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    let alice = run_json(&env, &["user", "show", "alice", "--json"]);
    assert_eq!(alice["disabled"], false);
    assert_eq!(alice["disabled_at"], serde_json::Value::Null);
    // Tokens from before the disable stay refused after it: the CLI shows since when.
    let valid_after = alice["tokens_valid_after"].as_str().expect("a time");
    assert!(valid_after.ends_with('Z'), "{valid_after}");
    let shown = stdout_lines(&env.run(&["user", "show", "alice"], ""));
    assert!(
        shown.contains(&format!("tokens valid after: {valid_after}")),
        "{shown:?}"
    );
    let token = database(&env).find_token(&refresh).unwrap().unwrap();
    assert!(token.revoked_at.is_some(), "revoked tokens stay revoked");
}

#[test]
fn user_set_password_reads_standard_input_checks_the_rules_and_ends_sessions() {
    use tessera_domain::store::UserStore as _;

    let env = Env::new();
    add_user(&env, "alice", &[]);
    store_a_session(&env, "alice", "Firefox");
    let changed = env.run(
        &["user", "set-password", "alice", "--password-stdin"],
        "a new passphrase\n",
    );
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert!(
        stdout_lines(&changed)[0].contains("1 session(s) ended"),
        "{:?}",
        stdout_lines(&changed)
    );
    let hash = database(&env)
        .find_user_by_name("alice")
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(bcrypt::verify("a new passphrase", &hash).unwrap());
    assert!(!bcrypt::verify("a new passphrase\n", &hash).unwrap());

    let short = env.run(
        &["user", "set-password", "alice", "--password-stdin"],
        "short\n",
    );
    assert_one_clear_line(&short, "at least 8");
    let long = env.run(
        &["user", "set-password", "alice", "--password-stdin"],
        &format!("{}\n", "a".repeat(73)),
    );
    assert_one_clear_line(&long, "72 bytes");
    let without = env.run(&["user", "set-password", "alice"], "whatever-long\n");
    assert_one_clear_line(&without, "--password-stdin");
    let hash_after = database(&env)
        .find_user_by_name("alice")
        .unwrap()
        .unwrap()
        .password_hash;
    assert_eq!(hash_after, hash, "a refused password changes nothing");
}

#[test]
fn user_delete_needs_yes_and_takes_the_users_clients_sessions_and_tokens() {
    use tessera_domain::store::{SessionStore as _, TokenStore as _};

    let env = Env::new();
    add_user(&env, "alice", &[]);
    add_user(&env, "bob", &[]);
    let app = add_client(&env, "App", &[]);
    let (owned, refresh) =
        store_a_client_and_a_consent(&env, "alice", app["client_id"].as_str().unwrap());
    let session = store_a_session(&env, "alice", "Firefox");

    let refused = env.run(&["user", "delete", "alice"], "");
    assert_one_clear_line(&refused, "--yes");
    assert!(
        stderr(&refused).contains("1 client(s)"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        run_json(&env, &["user", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let deleted = env.run(&["user", "delete", "alice", "--yes"], "");
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let users = run_json(&env, &["user", "list", "--json"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["username"], "bob");
    let clients = run_json(&env, &["client", "list", "--json"]);
    let ids: Vec<&str> = clients
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|client| client["client_id"].as_str())
        .collect();
    assert!(!ids.contains(&owned.as_str()), "{ids:?}");
    assert_eq!(ids.len(), 1);
    let database = database(&env);
    assert_eq!(database.find_token(&refresh).unwrap(), None);
    let session = tessera_domain::browser_session::SessionId::parse(&session).unwrap();
    assert_eq!(database.find_session(session).unwrap(), None);
}

#[test]
fn user_commands_refuse_an_unknown_user_with_one_line() {
    let env = Env::new();
    add_user(&env, "alice", &[]);
    for args in [
        &["user", "show", "nobody"][..],
        &["user", "show", "nobody", "--json"],
        &["user", "disable", "nobody"],
        &["user", "enable", "nobody"],
        &["user", "set-password", "nobody", "--password-stdin"],
        &["user", "delete", "nobody", "--yes"],
        &["sessions", "list", "--user", "nobody"],
        &["sessions", "end", "--user", "nobody"],
    ] {
        let output = env.run(args, "long enough password\n");
        assert_one_clear_line(&output, "\"nobody\"");
    }
}

#[test]
fn client_show_prints_the_metadata_owner_and_origin() {
    let env = Env::new();
    let app = add_client(&env, "App", &["--contact", "ops@app.example"]);
    let id = app["client_id"].as_str().unwrap();
    let shown = run_json(&env, &["client", "show", id, "--json"]);
    let listed = run_json(&env, &["client", "list", "--json"]);
    assert_eq!(shown, listed[0]);
    assert_eq!(shown["client_name"], "App");
    assert_eq!(shown["owner"], serde_json::Value::Null);
    assert_eq!(shown["registered_dynamically"], false);
    assert_eq!(shown["contacts"], serde_json::json!(["ops@app.example"]));
    assert!(shown.get("client_secret").is_none());

    let text = stdout_lines(&env.run(&["client", "show", id], ""));
    assert!(text.contains(&format!("client_id: {id}")), "{text:?}");
    assert!(
        text.contains(&"redirect_uris: https://app.example/cb".to_owned()),
        "{text:?}"
    );
    assert!(text.contains(&"owner: -".to_owned()), "{text:?}");
}

#[test]
fn client_update_replaces_the_fields_given_and_keeps_the_others() {
    let env = Env::new();
    let app = add_client(
        &env,
        "App",
        &[
            "--contact",
            "ops@app.example",
            "--logo-uri",
            "https://app.example/logo.png",
            "--require-par",
        ],
    );
    let id = app["client_id"].as_str().unwrap();
    let secret = app["client_secret"].as_str().unwrap().to_owned();

    let updated = run_json(
        &env,
        &[
            "client",
            "update",
            id,
            "--name",
            "Renamed",
            "--redirect-uri",
            "https://app.example/one",
            "--redirect-uri",
            "https://app.example/two",
            "--contact",
            "",
            "--logo-uri",
            "",
            "--require-par",
            "false",
        ],
    );
    assert_eq!(updated["client_id"], id);
    assert_eq!(updated["client_name"], "Renamed");
    assert_eq!(
        updated["redirect_uris"],
        serde_json::json!(["https://app.example/one", "https://app.example/two"])
    );
    assert!(updated.get("contacts").is_none(), "{updated}");
    assert!(updated.get("logo_uri").is_none(), "{updated}");
    assert_eq!(updated["require_pushed_authorization_requests"], false);
    assert_eq!(updated["scope"], "profile", "not given, so kept");
    assert_eq!(updated["token_endpoint_auth_method"], "client_secret_basic");
    assert!(updated.get("client_secret").is_none(), "the secret stays");
    assert_eq!(run_json(&env, &["client", "show", id, "--json"]), updated);

    let refused = env.run(
        &[
            "client",
            "update",
            id,
            "--redirect-uri",
            "http://evil.example/cb",
        ],
        "",
    );
    assert_one_clear_line(&refused, "client update:");
    assert!(
        stderr(&refused).contains("redirect_uris"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(run_json(&env, &["client", "show", id, "--json"]), updated);

    let public = run_json(&env, &["client", "update", id, "--auth-method", "none"]);
    assert_eq!(public["token_endpoint_auth_method"], "none");
    let confidential = run_json(
        &env,
        &[
            "client",
            "update",
            id,
            "--auth-method",
            "client_secret_post",
        ],
    );
    let new_secret = confidential["client_secret"].as_str().unwrap();
    assert!(new_secret.len() >= 43 && new_secret != secret);
}

#[test]
fn client_rotate_secret_prints_a_new_secret_and_refuses_public_clients() {
    let env = Env::new();
    let app = add_client(&env, "App", &[]);
    let id = app["client_id"].as_str().unwrap();
    let before = run_json(&env, &["client", "show", id, "--json"]);
    let rotated = run_json(&env, &["client", "rotate-secret", id]);
    assert_eq!(rotated["client_id"], id);
    let secret = rotated["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 43 && secret != app["client_secret"].as_str().unwrap());
    assert_eq!(rotated.as_object().unwrap().len(), 2, "{rotated}");
    assert_eq!(run_json(&env, &["client", "show", id, "--json"]), before);

    let public = add_client(&env, "Public", &["--auth-method", "none"]);
    let refused = env.run(
        &[
            "client",
            "rotate-secret",
            public["client_id"].as_str().unwrap(),
        ],
        "",
    );
    assert_one_clear_line(&refused, "public client");
}

#[test]
fn client_delete_needs_yes_and_refuses_unknown_clients() {
    let env = Env::new();
    let app = add_client(&env, "App", &[]);
    let id = app["client_id"].as_str().unwrap();
    let refused = env.run(&["client", "delete", id], "");
    assert_one_clear_line(&refused, "--yes");
    run_json(&env, &["client", "show", id, "--json"]);
    let deleted = env.run(&["client", "delete", id, "--yes"], "");
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert_eq!(
        run_json(&env, &["client", "list", "--json"]),
        serde_json::json!([])
    );
    for args in [
        &["client", "show", id][..],
        &["client", "update", id, "--name", "x"],
        &["client", "delete", id, "--yes"],
        &["client", "rotate-secret", id],
    ] {
        assert_one_clear_line(&env.run(args, ""), "there is no client");
    }
}

#[test]
fn sessions_list_shows_live_sessions_and_end_ends_one_or_all_of_a_users() {
    let env = Env::new();
    add_user(&env, "alice", &[]);
    add_user(&env, "bob", &[]);
    let first = store_a_session(&env, "alice", "Firefox");
    store_a_session(&env, "alice", "Safari");
    store_a_session(&env, "bob", "curl");

    let all = run_json(&env, &["sessions", "list", "--json"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    let users: Vec<&str> = all.iter().filter_map(|s| s["user"].as_str()).collect();
    assert_eq!(users.iter().filter(|user| **user == "alice").count(), 2);
    let session = all.iter().find(|s| s["id"] == first.as_str()).unwrap();
    assert_eq!(session["user_agent"], "Firefox");
    assert!(session["started_at"].is_string() && session["last_seen_at"].is_string());
    assert!(session["user_id"].is_string());
    let alices = run_json(&env, &["sessions", "list", "--user", "alice", "--json"]);
    assert_eq!(alices.as_array().unwrap().len(), 2);
    let text = stdout_lines(&env.run(&["sessions", "list"], ""));
    assert_eq!(text.len(), 3, "{text:?}");
    assert!(text
        .iter()
        .any(|line| line.starts_with(&first) && line.contains("user=alice")));

    let ended = env.run(&["sessions", "end", &first], "");
    assert!(ended.status.success(), "{}", stderr(&ended));
    let alices = run_json(&env, &["sessions", "list", "--user", "alice", "--json"]);
    assert_eq!(alices.as_array().unwrap().len(), 1);
    let again = env.run(&["sessions", "end", &first], "");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout_lines(&again)[0].contains("already ended"));

    let all_of_bob = env.run(&["sessions", "end", "--user", "bob"], "");
    assert_eq!(stdout_lines(&all_of_bob), ["ended 1 session(s) of bob"]);
    assert_eq!(
        run_json(&env, &["sessions", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    for unknown in ["not-a-uuid", "0b8f2a52-7e43-4c53-9b0f-5a1c2f3d4e5f"] {
        assert_one_clear_line(&env.run(&["sessions", "end", unknown], ""), "no session");
    }
}

#[test]
fn check_answers_ok_on_a_migrated_database_without_changing_anything() {
    let env = Env::new();
    let missing = env.run(&["check"], "");
    assert_one_clear_line(&missing, "TESSERA_DATABASE_URL");
    assert!(
        !env.dir.path().join("tessera.db").exists(),
        "check makes no database"
    );
    assert!(env.run(&["migrate"], "").status.success());
    let ok = env.run(&["check"], "");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(stdout_lines(&ok), ["ok"]);
    let json = env.run(&["check", "--json"], "");
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let answer: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(answer, serde_json::json!({"ok": true}));
}

#[test]
fn check_fails_with_one_line_on_an_unmigrated_or_unreachable_database_or_bad_config() {
    let env = Env::new();
    std::fs::write(env.dir.path().join("tessera.db"), b"").unwrap();
    let unmigrated = env.run(&["check"], "");
    assert_one_clear_line(&unmigrated, "pending migration");
    let json = env.run(&["check", "--json"], "");
    assert_one_clear_line(&json, "pending migration");
    let answer: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(answer["ok"], false);
    assert!(answer["error"]
        .as_str()
        .is_some_and(|error| error.contains("TESSERA_DATABASE_URL")));
    let still = env.run(&["check"], "");
    assert_one_clear_line(&still, "pending migration");

    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = env
        .command(&["check"])
        .env(
            "TESSERA_DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{closed}/tessera?connect_timeout=1"),
        )
        .output()
        .unwrap();
    assert_one_clear_line(&unreachable, "TESSERA_DATABASE_URL");

    let bad = env
        .command(&["check", "--json"])
        .env("TESSERA_BCRYPT_COST", "lots")
        .output()
        .unwrap();
    assert_one_clear_line(&bad, "TESSERA_BCRYPT_COST");
    let answer: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(answer["ok"], false);
}

#[test]
fn every_command_has_a_help_page() {
    let env = Env::new();
    for args in [
        &["user", "--help"][..],
        &["user", "disable", "--help"],
        &["user", "delete", "--help"],
        &["client", "update", "--help"],
        &["sessions", "end", "--help"],
        &["check", "--help"],
    ] {
        let output = env.run(args, "");
        assert!(output.status.success(), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
    let delete = String::from_utf8(env.run(&["user", "delete", "--help"], "").stdout).unwrap();
    assert!(delete.contains("clients they own"), "{delete}");
}

#[test]
fn config_shows_each_setting_from_the_file_the_environment_or_the_default() {
    let env = Env::new();
    let file = env.dir.path().join("tessera.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:7001\"\ncode_ttl = 60\nrequire_par = true\nrust_log = \"debug\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let output = env
        .command(&["--config", &file, "config", "--json"])
        .env("TESSERA_BIND", "127.0.0.1:7002")
        .env("TESSERA_SECRET_KEY", "k".repeat(64))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let setting = |name: &str| (json[name]["value"].clone(), json[name]["source"].clone());
    assert_eq!(
        setting("TESSERA_BIND"),
        ("127.0.0.1:7002".into(), "environment".into())
    );
    assert_eq!(setting("TESSERA_CODE_TTL"), ("60".into(), "file".into()));
    assert_eq!(setting("TESSERA_REQUIRE_PAR"), ("1".into(), "file".into()));
    // The test environment sets RUST_LOG=error, which wins over the file's `debug`.
    assert_eq!(setting("RUST_LOG"), ("error".into(), "environment".into()));
    assert_eq!(
        setting("TESSERA_SECRET_KEY"),
        ("(set)".into(), "environment".into())
    );
    assert_eq!(
        setting("TESSERA_ACCESS_TOKEN_TTL"),
        ("3600".into(), "default".into())
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&"k".repeat(64)));

    let text = env
        .command(&["config"])
        .env("TESSERA_CONFIG", &file)
        .env(
            "TESSERA_DATABASE_URL",
            "postgres://tessera:hunter2@db.example/tessera",
        )
        .output()
        .unwrap();
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("TESSERA_CODE_TTL=60 (file)\n"), "{text}");
    assert!(
        text.contains("TESSERA_BIND=127.0.0.1:7001 (file)\n"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn a_configuration_file_with_an_unknown_key_stops_every_command_naming_it() {
    let env = Env::new();
    let file = env.dir.path().join("tessera.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:0\"\nacces_token_ttl = 60\n").unwrap();
    let file = file.display().to_string();
    for args in [
        vec!["--config", file.as_str(), "migrate"],
        vec!["--config", file.as_str(), "config"],
        vec!["--config", file.as_str(), "check"],
    ] {
        let output = env.run(&args, "");
        assert_one_clear_line(&output, "TESSERA_CONFIG");
        assert!(
            stderr(&output).contains("acces_token_ttl"),
            "{}",
            stderr(&output)
        );
    }
    let missing = env.run(&["--config", "/nonexistent/tessera.toml", "migrate"], "");
    assert_one_clear_line(&missing, "/nonexistent/tessera.toml");
}
