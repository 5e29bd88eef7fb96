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
/// with one access token that expired an hour later.
fn store_an_expired_token(env: &Env) {
    use tessera_domain::authorization::Authorization;
    use tessera_domain::client::{AuthMethod, Client, GrantType};
    use tessera_domain::signing::SigningAlg;
    use tessera_domain::store::{AuthorizationStore as _, ClientStore as _, TokenStore as _};
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
}

#[test]
fn purge_prints_a_count_per_table_as_json_or_as_one_line() {
    let env = Env::new();
    let migrated = env.run(&["migrate"], "");
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    store_an_expired_token(&env);

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
        })
    );

    let again = env.run(&["purge"], "");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        stdout_lines(&again),
        ["purged 0 authorization codes, 0 tokens, 0 authorizations, 0 throttle counters, 0 sessions, 0 revoked JWTs, 0 pushed requests, 0 device codes"]
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
