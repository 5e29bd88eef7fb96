//! The one place where Diesel and r2d2 failures become the domain's [`StoreError`]:
//! a broken uniqueness rule is `Conflict`; anything that a retry later could cure (pool
//! timeout, lost or refused connection, a locked or read-only SQLite file) is `Unavailable`;
//! the rest is `Other`, with the database's message for the logs. [`spoils_connection`] tells
//! which of these failures also make the connection itself worth replacing.

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use tessera_domain::StoreError;

/// Messages of contention that goes away when the database gets less busy; the connection
/// stays good. SQLite reports `SQLITE_BUSY`/`SQLITE_LOCKED` with no kind of its own, so the
/// text is all there is.
const CONTENTION_MESSAGES: &[&str] = &[
    "database is locked",
    "database table is locked",
    "database schema is locked",
    "database is busy",
    "too many clients",
    "too many connections",
];

/// Messages of failures that go away when the database comes back, after which the
/// connection is of no further use: Postgres shutdowns and lost connections, and SQLite's
/// read-only file (`SQLITE_READONLY`: a connection opened while the file was not writable
/// stays read-only until it is reopened) and failed writes (`SQLITE_IOERR`, such as a file
/// system remounted read-only).
const LOST_MESSAGES: &[&str] = &[
    "server closed the connection",
    "no connection to the server",
    "terminating connection",
    "the database system is",
    "connection refused",
    "could not connect",
    "connection timed out",
    "attempt to write a readonly database",
    "disk i/o error",
];

/// Maps a query failure.
pub(crate) fn from_diesel(error: DieselError) -> StoreError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        )
        | DieselError::BrokenTransactionManager => StoreError::Unavailable(error.to_string()),
        DieselError::DatabaseError(_, info)
            if mentions(info.message(), CONTENTION_MESSAGES)
                || mentions(info.message(), LOST_MESSAGES) =>
        {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Other(error.to_string()),
    }
}

/// Whether a query failure means the connection should be dropped rather than pooled again:
/// it lost its server, or it cannot write the SQLite file (reopening, once the file is
/// writable again, makes a good one). Contention leaves the connection good.
pub(crate) fn spoils_connection(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => mentions(info.message(), LOST_MESSAGES),
        _ => false,
    }
}

/// Maps a failure to open a connection: the database is unreachable or refused us.
fn from_connection(error: ConnectionError) -> StoreError {
    match error {
        ConnectionError::CouldntSetupConfiguration(error) => from_diesel(error),
        error => StoreError::Unavailable(error.to_string()),
    }
}

/// Maps a failure to open or set up a connection outside the pool.
pub(crate) fn from_open(error: diesel::r2d2::Error) -> StoreError {
    match error {
        diesel::r2d2::Error::ConnectionError(error) => from_connection(error),
        diesel::r2d2::Error::QueryError(error) => from_diesel(error),
    }
}

/// Maps a pool checkout failure, which r2d2 reports only after its timeout.
pub(crate) fn from_pool(error: r2d2::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// Maps a failure reported by the migration harness.
pub(crate) fn from_migration(error: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    match error.downcast::<DieselError>() {
        Ok(error) => from_diesel(*error),
        Err(error) => StoreError::Other(format!("migration failed: {error}")),
    }
}

/// The error of a transaction: its body's own [`StoreError`], or Diesel's from beginning,
/// committing or rolling it back.
pub(crate) enum TransactionError {
    /// The body failed (and the transaction was rolled back).
    Store(StoreError),
    /// The transaction itself failed.
    Diesel(DieselError),
}

impl From<DieselError> for TransactionError {
    fn from(error: DieselError) -> Self {
        Self::Diesel(error)
    }
}

impl TransactionError {
    /// The failure as the domain sees it.
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::Diesel(error) => from_diesel(error),
        }
    }
}

/// A stored row that does not convert back to a domain value.
pub(crate) fn corrupt(table: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt row in {table}: {what}"))
}

/// Whether `message` contains one of `patterns` (which are lower case), ignoring case.
fn mentions(message: &str, patterns: &[&str]) -> bool {
    let message = message.to_ascii_lowercase();
    patterns.iter().any(|pattern| message.contains(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn unique_violations_are_conflicts() {
        let error = from_diesel(database_error(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: users.username",
        ));
        assert!(matches!(error, StoreError::Conflict));
    }

    #[test]
    fn locks_and_lost_connections_are_unavailable() {
        for error in [
            database_error(DatabaseErrorKind::Unknown, "database is locked"),
            database_error(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection",
            ),
            database_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            DieselError::BrokenTransactionManager,
            database_error(
                DatabaseErrorKind::Unknown,
                "attempt to write a readonly database",
            ),
            database_error(DatabaseErrorKind::Unknown, "disk I/O error"),
        ] {
            assert!(
                matches!(from_diesel(error), StoreError::Unavailable(_)),
                "should be unavailable"
            );
        }
        let refused = ConnectionError::BadConnection("connection refused".into());
        assert!(matches!(
            from_connection(refused),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn lost_connections_and_read_only_files_spoil_the_connection_but_locks_do_not() {
        for message in [
            "attempt to write a readonly database",
            "disk I/O error",
            "server closed the connection unexpectedly",
        ] {
            let error = database_error(DatabaseErrorKind::Unknown, message);
            assert!(spoils_connection(&error), "{message}");
        }
        assert!(spoils_connection(&database_error(
            DatabaseErrorKind::ClosedConnection,
            "",
        )));
        for error in [
            database_error(DatabaseErrorKind::Unknown, "database is locked"),
            database_error(
                DatabaseErrorKind::UniqueViolation,
                "UNIQUE constraint failed",
            ),
            DieselError::NotFound,
        ] {
            assert!(!spoils_connection(&error), "{error}");
        }
    }

    #[test]
    fn other_failures_keep_their_message() {
        let error = from_diesel(database_error(
            DatabaseErrorKind::ForeignKeyViolation,
            "FOREIGN KEY constraint failed",
        ));
        assert!(
            matches!(&error, StoreError::Other(text) if text.contains("FOREIGN KEY")),
            "{error:?}"
        );
        assert!(matches!(
            from_diesel(DieselError::NotFound),
            StoreError::Other(_)
        ));
    }
}
