//! One connection type over both engines (Diesel's `MultiConnection`) and the r2d2 manager
//! that opens it by URL scheme. Every SQLite connection is set up here for concurrent use,
//! and its files kept private ([`sqlite_file`]).

use std::path::Path;

use diesel::connection::SimpleConnection as _;
use diesel::r2d2::R2D2Connection as _;
use diesel::result::ConnectionError;
use diesel::{Connection as _, PgConnection, SqliteConnection};

use crate::sqlite_file;
use crate::url::{Backend, DatabaseUrl};

/// A connection to whichever engine the URL named.
#[derive(diesel::MultiConnection)]
pub(crate) enum DbConnection {
    /// A Postgres session.
    Postgres(PgConnection),
    /// A SQLite file handle.
    Sqlite(SqliteConnection),
}

/// Set on every SQLite connection: readers never block the writer (WAL), a writer waits up to
/// five seconds for another instead of failing at once, foreign keys (and so the cascades)
/// are enforced, and commits sync at checkpoints only, which WAL keeps safe.
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON;";

/// Opens connections for the pool.
#[derive(Debug)]
pub(crate) struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    /// A manager for `url`.
    pub(crate) fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens and sets up one connection.
    pub(crate) fn open(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        let target = self.url.connection_string();
        match self.url.backend() {
            Backend::Postgres => PgConnection::establish(target)
                .map(DbConnection::Postgres)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let path = Path::new(target);
                sqlite_file::create_private(path).map_err(|error| {
                    diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(format!(
                        "cannot create the SQLite file {}: {error}",
                        path.display()
                    )))
                })?;
                let mut connection = SqliteConnection::establish(target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                connection
                    .batch_execute(SQLITE_SETUP)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                sqlite_file::keep_private(path);
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.open()
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), Self::Error> {
        connection.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        connection.is_broken()
    }
}
