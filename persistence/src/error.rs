//! The one place where Diesel and r2d2 failures become the domain's [`StoreError`]:
//! a broken uniqueness rule is `Conflict`; anything that a retry later could cure (pool
//! timeout, lost or refused connection, a locked SQLite file) is `Unavailable`; the rest is
//! `Other`, with the database's message for the logs.

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use tessera_domain::StoreError;

/// Messages of failures that go away when the database comes back or gets less busy. SQLite
/// reports `SQLITE_BUSY`/`SQLITE_LOCKED` and Postgres reports shutdowns and connection limits
/// with no kind of their own, so the text is all there is.
const TRANSIENT_MESSAGES: &[&str] = &[
    "database is locked",
    "database table is locked",
    "database schema is locked",
    "database is busy",
    "server closed the connection",
    "no connection to the server",
    "terminating connection",
    "the database system is",
    "too many clients",
    "too many connections",
    "connection refused",
    "could not connect",
    "connection timed out",
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
        DieselError::DatabaseError(_, info) if is_transient(info.message()) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Other(error.to_string()),
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

fn is_transient(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    TRANSIENT_MESSAGES
        .iter()
        .any(|pattern| message.contains(pattern))
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
