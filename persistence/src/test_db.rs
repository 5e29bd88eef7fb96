//! Throw-away databases for tests (feature `testing`): each [`TestDb`] is a new, migrated
//! database of its own, removed when the guard drops, so tests never share state.
//!
//! - SQLite: a file in a fresh temporary directory (never `:memory:`, which a pool would turn
//!   into one empty database per connection).
//! - Postgres: `CREATE DATABASE t_<uuid>` on the server named by `TESSERA_TEST_POSTGRES_URL`
//!   (default [`DEFAULT_POSTGRES_URL`]), dropped `WITH (FORCE)` on drop. A server that is down
//!   fails the test; it is never skipped.
//!
//! [`TestDb::outage`] makes the database unavailable until its [`Outage`] guard drops, for
//! tests of what the server answers meanwhile and of how it recovers.

use std::marker::PhantomData;
use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection, RunQueryDsl as _, SqliteConnection};
use uuid::Uuid;

use crate::{Backend, Database, DatabaseUrl, PoolOptions};

/// The Postgres server the tests use when `TESSERA_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The environment variable naming the Postgres server for tests.
pub const POSTGRES_URL_VARIABLE: &str = "TESSERA_TEST_POSTGRES_URL";

/// A migrated database that exists as long as this guard does.
#[derive(Debug)]
pub struct TestDb {
    // Declared before `cleanup` so the pool closes before the database is removed.
    database: Database,
    url: String,
    cleanup: Cleanup,
}

/// Whether a new test database gets the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    /// Run every migration (what tests of the stores want).
    Yes,
    /// Leave it empty (for tests of the migrations themselves).
    No,
}

/// What to remove on drop.
#[derive(Debug)]
enum Cleanup {
    /// The directory holding the SQLite file (and its WAL files).
    Sqlite { _directory: tempfile::TempDir },
    /// The database made on the test server.
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A new SQLite database in a temporary directory.
    pub fn sqlite() -> Self {
        Self::new(Backend::Sqlite)
    }

    /// A new database on the test Postgres server; panics (failing the test) if the server
    /// cannot be reached.
    pub fn postgres() -> Self {
        Self::new(Backend::Postgres)
    }

    /// A new, migrated database on `backend`; panics (failing the test) if it cannot be made.
    pub fn new(backend: Backend) -> Self {
        Self::unwrap(backend, Self::try_new(backend, Migrated::Yes))
    }

    /// A new database on `backend` with no tables yet, for testing migrations; panics
    /// (failing the test) if it cannot be made.
    pub fn empty(backend: Backend) -> Self {
        Self::unwrap(backend, Self::try_new(backend, Migrated::No))
    }

    /// A new database on `backend`, or why it could not be made.
    pub fn try_new(backend: Backend, migrated: Migrated) -> Result<Self, String> {
        match backend {
            Backend::Sqlite => Self::try_sqlite(migrated),
            Backend::Postgres => Self::try_postgres(migrated),
        }
    }

    #[expect(
        clippy::panic,
        reason = "a test database that cannot be made must fail the test"
    )]
    fn unwrap(backend: Backend, made: Result<Self, String>) -> Self {
        made.unwrap_or_else(|error| panic!("cannot make a {backend:?} test database: {error}"))
    }

    /// The URL of this database, for `TESSERA_DATABASE_URL` (e.g. `sqlite:///tmp/.../tessera.db`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The pooled, migrated database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Which engine it runs on.
    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// Makes the database unavailable until the returned guard drops, without touching the
    /// pools already open on it (the server under test must notice and recover by itself):
    ///
    /// - SQLite: another connection holds the write lock (`BEGIN IMMEDIATE`). In WAL mode
    ///   reads still work; every write waits out the busy timeout and fails with "database is
    ///   locked". Dropping the guard rolls that transaction back.
    /// - Postgres: the database stops accepting connections (`ALLOW_CONNECTIONS false`) and
    ///   every session on it is terminated, so pooled connections are broken and new ones are
    ///   refused. Dropping the guard allows connections again (the database itself is still
    ///   dropped when this [`TestDb`] is).
    pub fn outage(&self) -> Result<Outage<'_>, String> {
        let kind = match &self.cleanup {
            Cleanup::Sqlite { .. } => {
                let url = DatabaseUrl::parse(&self.url).map_err(|error| error.to_string())?;
                let path = url.sqlite_path().ok_or("not a SQLite URL")?;
                let mut connection = SqliteConnection::establish(path)
                    .map_err(|error| format!("cannot open {path}: {error}"))?;
                // Waits for a write the server may be finishing, then keeps the lock.
                connection
                    .batch_execute("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;")
                    .map_err(|error| format!("cannot lock {path}: {error}"))?;
                OutageKind::Sqlite(connection)
            }
            Cleanup::Postgres { admin_url, name } => {
                let mut admin = PgConnection::establish(admin_url)
                    .map_err(|error| format!("cannot connect to the test server: {error}"))?;
                admin
                    .batch_execute(&format!(
                        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                         SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid();"
                    ))
                    .map_err(|error| format!("cannot cut database {name} off: {error}"))?;
                OutageKind::Postgres {
                    admin,
                    name: name.clone(),
                }
            }
        };
        Ok(Outage {
            kind,
            _db: PhantomData,
        })
    }

    fn try_sqlite(migrated: Migrated) -> Result<Self, String> {
        let directory = tempfile::Builder::new()
            .prefix("tessera-test-")
            .tempdir()
            .map_err(|error| format!("cannot make a temporary directory: {error}"))?;
        let path = directory.path().join("tessera.db");
        let path = path
            .to_str()
            .ok_or("the temporary directory's path is not UTF-8")?;
        let url = format!("sqlite://{path}");
        let database = open(&url, migrated)?;
        Ok(Self {
            database,
            url,
            cleanup: Cleanup::Sqlite {
                _directory: directory,
            },
        })
    }

    fn try_postgres(migrated: Migrated) -> Result<Self, String> {
        let admin_url = without_transport_encryption(
            &std::env::var(POSTGRES_URL_VARIABLE)
                .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned()),
        );
        let shown = DatabaseUrl::parse(&admin_url)
            .map_err(|error| format!("{POSTGRES_URL_VARIABLE}: {error}"))?
            .to_string();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url).map_err(|error| {
            format!("cannot connect to {shown} (set {POSTGRES_URL_VARIABLE}): {error}")
        })?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .map_err(|error| format!("cannot create database {name} on {shown}: {error}"))?;
        drop(admin);
        // From here on the guard exists, so the database is dropped even if migrating fails.
        let cleanup = Cleanup::Postgres {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let url = with_database_name(&admin_url, &name);
        let database = open(&url, migrated)?;
        Ok(Self {
            database,
            url,
            cleanup,
        })
    }
}

/// A database outage made by [`TestDb::outage`]; it ends when this guard drops.
#[must_use = "the outage ends as soon as the guard drops"]
pub struct Outage<'db> {
    kind: OutageKind,
    /// The database must outlive its outage (and so is dropped only after it ends).
    _db: PhantomData<&'db TestDb>,
}

/// What holds the outage up, and so what undoes it.
enum OutageKind {
    /// The connection holding SQLite's write lock.
    Sqlite(SqliteConnection),
    /// A connection to the server's maintenance database, and the database cut off.
    Postgres { admin: PgConnection, name: String },
}

impl std::fmt::Debug for Outage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.kind {
            OutageKind::Sqlite(_) => Backend::Sqlite,
            OutageKind::Postgres { .. } => Backend::Postgres,
        };
        f.debug_struct("Outage").field("backend", &backend).finish()
    }
}

impl Drop for Outage<'_> {
    fn drop(&mut self) {
        let ended = match &mut self.kind {
            OutageKind::Sqlite(connection) => connection.batch_execute("ROLLBACK"),
            OutageKind::Postgres { admin, name } => {
                admin.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            }
        };
        if let Err(error) = ended {
            eprintln!("could not end the database outage: {error}");
        }
    }
}

/// Connects with a pool large enough for the race tests, and migrates if asked to.
fn open(url: &str, migrated: Migrated) -> Result<Database, String> {
    let parsed = DatabaseUrl::parse(url).map_err(|error| error.to_string())?;
    let options = PoolOptions {
        max_size: 24,
        connection_timeout: Duration::from_secs(10),
        ..PoolOptions::default()
    };
    let database = Database::connect(&parsed, options)
        .map_err(|error| format!("cannot open {parsed}: {error}"))?;
    if migrated == Migrated::Yes {
        database
            .migrate()
            .map_err(|error| format!("cannot migrate {parsed}: {error}"))?;
    }
    Ok(database)
}

/// `url` with `sslmode=disable` and `gssencmode=disable` unless it sets them: the test
/// server is local, and libpq's TLS and Kerberos libraries tear their state down at process
/// exit while the pools of servers a test binary leaves running may still be reconnecting
/// (after a test database is dropped), which crashes the process as it exits.
fn without_transport_encryption(url: &str) -> String {
    let mut url = url.to_owned();
    for (name, value) in [("sslmode", "disable"), ("gssencmode", "disable")] {
        let query = url.split_once('?').map_or("", |(_, query)| query);
        let set = query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(name));
        if !set {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{name}={value}"));
        }
    }
    url
}

/// `postgres://user@host:5432/postgres?x=y` with the database `name` in place of `postgres`.
fn with_database_name(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |start| &tail[start..]);
    format!("{scheme}://{authority}/{name}{query}")
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Self::Postgres { admin_url, name } = self else {
            return; // the TempDir removes itself
        };
        let dropped = PgConnection::establish(admin_url)
            .map_err(|error| error.to_string())
            .and_then(|mut admin| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("could not drop test database {name}: {error}");
        }
    }
}

/// Runs a test body on SQLite and, with the calling crate's `postgres-tests` feature, on
/// Postgres too, each time with a fresh [`TestDb`]. The body is a closure taking the `TestDb`:
///
/// ```no_run
/// use tessera_domain::store::SettingStore as _;
/// use tessera_persistence::both_backends;
/// use tessera_persistence::test_db::TestDb;
///
/// both_backends!(the_first_value_of_a_setting_is_kept, |db: TestDb| {
///     let db = db.database();
///     assert_eq!(db.setting_or_insert("key", "a").ok().as_deref(), Some("a"));
///     assert_eq!(db.setting_or_insert("key", "b").ok().as_deref(), Some("a"));
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports, reason = "the body may not need the parent's items")]
            use super::*;

            #[test]
            fn sqlite() {
                ($body)($crate::test_db::TestDb::sqlite())
            }

            #[cfg(feature = "postgres-tests")]
            #[test]
            fn postgres() {
                ($body)($crate::test_db::TestDb::postgres())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_database_replaces_the_servers_default_database() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            with_database_name("postgresql://u:p@db?sslmode=disable", "t_1"),
            "postgresql://u:p@db/t_1?sslmode=disable"
        );
    }

    #[test]
    fn test_connections_go_without_tls_or_gssapi_unless_the_url_says() {
        assert_eq!(
            without_transport_encryption("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&gssencmode=disable"
        );
        assert_eq!(
            without_transport_encryption("postgres://db/x?sslmode=require"),
            "postgres://db/x?sslmode=require&gssencmode=disable"
        );
    }
}
