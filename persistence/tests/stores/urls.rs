use tessera_persistence::{Backend, ConfigError, DatabaseUrl};

#[test]
fn sqlite_files_and_postgres_servers_are_accepted() {
    let cases = [
        ("sqlite://tessera.db", Backend::Sqlite),
        ("sqlite://data/tessera.db", Backend::Sqlite),
        ("sqlite:///var/lib/tessera/tessera.db", Backend::Sqlite),
        (
            "postgres://tessera:secret@db.internal:5432/tessera",
            Backend::Postgres,
        ),
        (
            "postgresql://tessera@localhost/tessera?sslmode=require",
            Backend::Postgres,
        ),
    ];
    for (text, backend) in cases {
        let url: DatabaseUrl = text.parse().unwrap();
        assert_eq!(url.backend(), backend, "{text}");
    }
}

#[test]
fn unparsable_or_unsupported_database_urls_are_refused_with_one_line() {
    let refused = [
        "",
        "   ",
        "tessera.db",
        "./tessera.db",
        ":memory:",
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://",
        "sqlite:tessera.db",
        "sqlite://file:tessera.db?mode=memory",
        "mysql://root@localhost/tessera",
        "http://example.com/db",
        "postgres:tessera",
    ];
    for text in refused {
        let error: ConfigError = DatabaseUrl::parse(text).unwrap_err();
        let line = error.to_string();
        assert!(!line.is_empty() && !line.contains('\n'), "{text:?}: {line}");
    }
}

#[test]
fn a_refused_url_does_not_echo_its_password() {
    let error = DatabaseUrl::parse("mysql://root:hunter2@db/tessera").unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
