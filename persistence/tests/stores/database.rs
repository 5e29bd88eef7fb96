use std::path::Path;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl as _};
use tessera_domain::store::UserStore as _;
use tessera_domain::StoreError;
use tessera_persistence::test_db::TestDb;
use tessera_persistence::{both_backends, Backend, Database, DatabaseUrl, PoolOptions};

use crate::fixtures::{processes, race, sqlite_connection, user};

both_backends!(a_migrated_database_answers_ping, |db: TestDb| {
    db.database().ping().unwrap();
});

both_backends!(migrating_again_changes_nothing, |db: TestDb| {
    let db = db.database();
    db.insert_user(&user("alice")).unwrap();
    db.migrate().unwrap();
    assert!(db.find_user_by_name("alice").unwrap().is_some());
});

both_backends!(
    processes_migrating_an_empty_database_together_all_succeed,
    |db: TestDb| {
        let backend = db.backend();
        drop(db);
        let empty = TestDb::empty(backend);
        let processes = processes(&empty.url(), 4);
        race(&processes, |process| process.migrate().unwrap());
        empty.database().insert_user(&user("alice")).unwrap();
    }
);

both_backends!(
    pending_migrations_are_read_without_running_or_writing_anything,
    |db: TestDb| {
        let backend = db.backend();
        assert_eq!(
            db.database().pending_migrations().unwrap(),
            Vec::<String>::new()
        );
        drop(db);
        let empty = TestDb::empty(backend);
        let pending = empty.database().pending_migrations().unwrap();
        let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
        assert_eq!(pending.len(), std::fs::read_dir(directory).unwrap().count());
        let mut sorted = pending.clone();
        sorted.sort();
        assert_eq!(pending, sorted, "oldest first");
        let tables = match backend {
            Backend::Sqlite => "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'",
            Backend::Postgres => {
                "SELECT count(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema()"
            }
        };
        let count = |url: &str| -> i64 {
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let query = diesel::sql_query(tables);
            let counted: Count = match backend {
                Backend::Sqlite => {
                    let path = url.strip_prefix("sqlite://").unwrap();
                    let mut connection =
                        <diesel::SqliteConnection as diesel::Connection>::establish(path).unwrap();
                    query.get_result(&mut connection).unwrap()
                }
                Backend::Postgres => {
                    let mut connection =
                        <diesel::PgConnection as diesel::Connection>::establish(url).unwrap();
                    query.get_result(&mut connection).unwrap()
                }
            };
            counted.n
        };
        assert_eq!(count(&empty.url()), 0, "no table was made");
        empty.database().migrate().unwrap();
        assert!(empty.database().pending_migrations().unwrap().is_empty());
    }
);

#[test]
fn the_same_migration_versions_exist_for_sqlite_and_postgres() {
    let versions = |backend: &str| {
        let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&directory)
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_type().unwrap().is_dir())
            .map(|entry| entry.file_name().into_string().unwrap())
            .collect();
        names.sort();
        for name in &names {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    directory.join(name).join(file).is_file(),
                    "{backend}/{name}/{file}"
                );
            }
        }
        names
    };
    let sqlite = versions("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, versions("postgres"));
}

#[test]
fn the_default_pool_has_16_connections_and_a_3_second_timeout() {
    let options = PoolOptions::default();
    assert_eq!(options.max_size, 16);
    assert_eq!(options.connection_timeout, Duration::from_secs(3));
}

#[test]
fn an_unreachable_postgres_fails_fast_as_unavailable() {
    let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/tessera").unwrap();
    let options = PoolOptions {
        max_size: 2,
        connection_timeout: Duration::from_secs(1),
        ..PoolOptions::default()
    };
    let started = Instant::now();
    let error = Database::connect(&url, options).unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_sqlite_file_that_cannot_be_created_is_unavailable() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("missing/tessera.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", missing.display())).unwrap();
    let options = PoolOptions {
        max_size: 1,
        connection_timeout: Duration::from_secs(1),
        ..PoolOptions::default()
    };
    let error = Database::connect(&url, options).unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

#[test]
fn a_pool_without_connections_is_refused_not_a_panic() {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}/t.db", directory.path().display())).unwrap();
    for options in [
        PoolOptions {
            max_size: 0,
            ..PoolOptions::default()
        },
        PoolOptions {
            connection_timeout: Duration::ZERO,
            ..PoolOptions::default()
        },
        PoolOptions {
            operation_timeout: Duration::ZERO,
            ..PoolOptions::default()
        },
    ] {
        let error = Database::connect(&url, options).unwrap_err();
        assert!(matches!(error, StoreError::Other(_)), "{error:?}");
    }
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[test]
fn sqlite_runs_in_wal_mode() {
    let db = TestDb::sqlite();
    db.database().insert_user(&user("alice")).unwrap();
    let mut connection = sqlite_connection(&db);
    let mode: JournalMode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut connection)
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
}

#[test]
fn a_sqlite_write_blocked_past_the_busy_timeout_is_unavailable_then_recovers() {
    let db = TestDb::sqlite();
    let mut blocker = sqlite_connection(&db);
    blocker.batch_execute("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let error = db.database().insert_user(&user("alice")).unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "gave up before the busy timeout"
    );
    blocker.batch_execute("ROLLBACK").unwrap();
    db.database().insert_user(&user("alice")).unwrap();
}

#[cfg(feature = "postgres-tests")]
#[test]
fn postgres_connections_killed_by_the_server_are_replaced_without_errors() {
    use diesel::Connection as _;

    let db = TestDb::postgres();
    assert_eq!(db.backend(), Backend::Postgres);
    db.database().ping().unwrap();
    let mut admin = diesel::PgConnection::establish(&db.url()).unwrap();
    admin
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .unwrap();
    // Termination is asynchronous: wait until the server has closed every connection older
    // than this one. (A request on a connection the server is closing at that very moment
    // gets a 503, like any outage.)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let others: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_start < (SELECT backend_start FROM pg_stat_activity \
                                  WHERE pid = pg_backend_pid()))",
        ))
        .get_result(&mut admin)
        .unwrap();
        if others == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not close its connections"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    db.database().ping().unwrap();
    db.database().insert_user(&user("alice")).unwrap();
}

#[test]
fn a_test_database_reports_its_backend_and_url() {
    let db = TestDb::sqlite();
    assert_eq!(db.backend(), Backend::Sqlite);
    assert!(db.url().starts_with("sqlite:///"), "{}", db.url());
    assert_eq!(db.database().backend(), Backend::Sqlite);
}

both_backends!(
    an_outage_makes_storage_unavailable_until_the_guard_drops,
    |db: TestDb| {
        let url = DatabaseUrl::parse(&db.url()).unwrap();
        let options = PoolOptions {
            max_size: 2,
            connection_timeout: Duration::from_secs(1),
            ..PoolOptions::default()
        };
        let server = Database::connect(&url, options).unwrap();
        server.insert_user(&user("alice")).unwrap();

        let outage = db.outage().unwrap();
        let error = server.insert_user(&user("bob")).unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        drop(outage);

        server.insert_user(&user("bob")).unwrap();
        assert!(server.find_user_by_name("alice").unwrap().is_some());
    }
);
