//! DESIGN §4 under injected faults: whatever goes wrong between Tessera and its database,
//! what needs the database answers 503 with `Retry-After` (the token endpoint's JSON
//! `temporarily_unavailable`), never an answer that makes a client drop good credentials
//! (`invalid_grant`, `invalid_client`, 401) nor another 5xx, and never hangs; when the fault
//! ends the same server serves again, and a code or refresh token presented during the
//! fault was not spent.
//!
//! - Postgres, through a [`FaultProxy`](crate::helpers::fault_proxy::FaultProxy): the server
//!   is refused, reset, or met with silence (a blackhole: connections accepted, nothing
//!   answered, which only Tessera's own deadline on database work ends).
//! - SQLite: the database file and its directory become read-only under the running server;
//!   reads go on, writes answer 503.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use tessera_persistence::DatabaseUrl;

use crate::helpers::fixtures::{app_with_user_and_client, assert_tokens};
use crate::helpers::{
    assert_temporarily_unavailable, assert_unavailable, Backend, TestClient, TestUser,
};

/// A client that uses every grant these tests need.
fn every_grant() -> TestClient {
    TestClient::confidential(
        &["authorization_code", "password", "refresh_token"],
        "profile",
    )
}

#[cfg(feature = "postgres-tests")]
mod through_a_proxy {
    use std::time::Duration;

    use super::*;
    use crate::helpers::fault_proxy::Fault;
    use crate::helpers::spawn_app_behind_proxy;

    /// How long a request may take during a fault before it counts as hung: far more than
    /// the pool's checkout timeout plus the deadline on database work.
    const HUNG: Duration = Duration::from_secs(30);

    /// Everything that needs the database answers 503 in bounded time while `fault` lasts;
    /// afterwards the same server serves, and the code and refresh token presented during
    /// the fault still work.
    async fn a_fault_costs_503s_and_nothing_else(fault: Fault) {
        let (app, proxy) = spawn_app_behind_proxy().await;
        let (user, client) = app.user_and_client(every_grant()).await;
        let tokens = client.password_tokens(&app, &user, "profile").await;
        let refresh = tokens.refresh_token();
        let code = client.authorization_code(&app, "profile", None).await;

        proxy.set(fault);
        let during = async {
            tokio::join!(
                client.password_grant(&app, &user, "profile"),
                client.redeem_code(&app, &code, None),
                client.refresh(&app, refresh, None),
                app.get_page("/"),
                app.get_api_me(&tokens.access),
            )
        };
        let (password, redeemed, refreshed, home, me) = tokio::time::timeout(HUNG, during)
            .await
            .unwrap_or_else(|_| panic!("requests hung during {fault:?}"));
        assert_temporarily_unavailable(password).await;
        assert_temporarily_unavailable(redeemed).await;
        assert_temporarily_unavailable(refreshed).await;
        assert_unavailable(&home);
        assert_unavailable(&me);
        let injected = proxy.injected();
        eprintln!("{fault:?}: faults injected on {injected} connections");
        assert!(injected > 0, "the fault hit no connection");
        proxy.set(Fault::Pass);

        let from_code = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        let rotated = client.refreshed(&app, refresh, None).await;
        assert_tokens(client.password_grant(&app, &user, "profile").await).await;
        for access in [&tokens.access, &from_code.access, &rotated.access] {
            app.assert_api_me_ok(access).await;
        }
        assert_eq!(app.get_page("/").await.status(), StatusCode::OK);
    }

    mod refused_connections {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            super::a_fault_costs_503s_and_nothing_else(super::Fault::Refuse).await;
        }
    }

    mod a_blackhole {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            super::a_fault_costs_503s_and_nothing_else(super::Fault::Blackhole).await;
        }
    }

    mod reset_connections {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            super::a_fault_costs_503s_and_nothing_else(super::Fault::Reset).await;
        }
    }
}

/// The SQLite file, its WAL file and their directory, immutable (`chattr +i`) until dropped.
/// Permission bits would not do: the tests run as root, whom they do not stop, while the
/// immutable flag stops everyone. The shared-memory file stays writable: SQLite maps it into
/// memory, and writing to a mapping of an immutable file kills the process (SIGBUS); it
/// holds only the WAL's index, no data.
struct ReadOnly {
    /// In the order they were made immutable.
    paths: Vec<PathBuf>,
}

impl ReadOnly {
    fn new(database: &Path) -> Self {
        let name = database.to_str().expect("a UTF-8 path");
        let directory = database.parent().expect("the file's directory");
        let paths = vec![
            database.to_path_buf(),
            PathBuf::from(format!("{name}-wal")),
            directory.to_path_buf(),
        ];
        let mut made = Self { paths: Vec::new() };
        for path in paths {
            assert!(
                chattr("+i", &path),
                "cannot make {} immutable",
                path.display()
            );
            made.paths.push(path);
        }
        made
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        for path in self.paths.iter().rev() {
            if !chattr("-i", path) {
                eprintln!("cannot make {} writable again", path.display());
            }
        }
    }
}

/// Runs `chattr flag path`; whether it worked.
fn chattr(flag: &str, path: &Path) -> bool {
    Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .is_ok_and(|status| status.success())
}

mod a_read_only_sqlite_file {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let (app, user, client) = app_with_user_and_client(Backend::Sqlite, every_grant()).await;
        let tokens = client.password_tokens(&app, &user, "profile").await;
        let refresh = tokens.refresh_token();
        let code = client.authorization_code(&app, "profile", None).await;
        let url = DatabaseUrl::parse(&app.database().url()).expect("the database URL");
        let file = Path::new(url.sqlite_path().expect("a SQLite file"));

        let read_only = ReadOnly::new(file);
        // Writes fail; each failed write also drops the connection that made it, so the
        // pool keeps opening new ones, which the file now opens read-only.
        assert_temporarily_unavailable(client.password_grant(&app, &user, "profile").await).await;
        assert_temporarily_unavailable(client.redeem_code(&app, &code, None).await).await;
        assert_temporarily_unavailable(client.refresh(&app, refresh, None).await).await;
        let revoke = [("token", tokens.access.as_str())];
        assert_temporarily_unavailable(client.post_revoke(&app, &revoke).await).await;
        let newcomer = TestUser::generate();
        let signup = app
            .another_browser()
            .signup(&newcomer.username, &newcomer.password)
            .await;
        assert_unavailable(&signup);
        // Reads go on, on old connections and new ones alike.
        for _ in 0..3 {
            app.assert_api_me_ok(&tokens.access).await;
            assert_eq!(
                client.introspect(&app, &tokens.access).await["active"],
                true
            );
            assert_eq!(app.get_page("/").await.status(), StatusCode::OK);
        }
        drop(read_only);

        // The read-only connections were not kept: writes work again at once.
        let from_code = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        let rotated = client.refreshed(&app, refresh, None).await;
        assert_tokens(client.password_grant(&app, &user, "profile").await).await;
        for access in [&tokens.access, &from_code.access, &rotated.access] {
            app.assert_api_me_ok(access).await;
        }
    }
}
