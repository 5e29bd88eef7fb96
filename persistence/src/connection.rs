//! One connection type over both engines (Diesel's `MultiConnection`) and the r2d2 manager
//! that opens it by URL scheme. Every SQLite connection is set up here for concurrent use,
//! and its files kept private ([`sqlite_file`]); every Postgres connection gets a connect
//! timeout and has its socket found for the [`crate::watchdog`]. A connection that failed in
//! a way that spoils it is dropped by the pool instead of being handed out again.

use std::path::Path;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection as _};
use diesel::r2d2::R2D2Connection as _;
use diesel::result::ConnectionError;
use diesel::{Connection as _, PgConnection, SqliteConnection};

use crate::error::spoils_connection;
use crate::socket::{Socket, SocketFinder};
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

/// libpq's `connect_timeout` (whole seconds, at least 2), added to a Postgres URL that sets
/// none: a server that accepts the connection but never answers fails it instead of holding
/// one of the pool's connecting threads forever.
const CONNECT_TIMEOUT_PARAMETER: &str = "connect_timeout";

/// One open connection as the pool keeps it.
pub(crate) struct Pooled {
    /// The connection itself.
    pub(crate) connection: DbConnection,
    /// Its socket, when it has one and it could be found (see [`crate::socket`]).
    pub(crate) socket: Option<Socket>,
    /// Set when a query failed in a way that spoils the connection, when it failed its
    /// check before being handed out, or when SQLite had to open the file read-only.
    spoiled: Arc<AtomicBool>,
    /// The SQLite file, when it could only be opened read-only.
    read_only: Option<String>,
    /// When the connection last went back to the pool (or was opened).
    pub(crate) returned_at: Instant,
}

impl Pooled {
    /// Marks the connection as not to be pooled again.
    pub(crate) fn spoil(&self) {
        self.spoiled.store(true, Ordering::Relaxed);
    }

    /// Whether this connection is read-only but its file can now be written (a new
    /// connection would be writable).
    pub(crate) fn is_needlessly_read_only(&self) -> bool {
        self.read_only.as_deref().is_some_and(writable)
    }
}

/// Opens connections for the pool.
#[derive(Debug)]
pub(crate) struct ConnectionManager {
    url: DatabaseUrl,
    /// What libpq or SQLite is given (the URL, plus a Postgres connect timeout).
    target: String,
    /// Finds the socket of each new Postgres connection.
    sockets: SocketFinder,
}

impl ConnectionManager {
    /// A manager for `url`; a Postgres connection that takes longer than `connect_timeout`
    /// to open fails.
    pub(crate) fn new(url: DatabaseUrl, connect_timeout: Duration) -> Self {
        let target = match url.backend() {
            Backend::Sqlite => url.connection_string().to_owned(),
            Backend::Postgres => with_connect_timeout(url.connection_string(), connect_timeout),
        };
        let sockets = SocketFinder::new(url.postgres_port());
        Self {
            url,
            target,
            sockets,
        }
    }

    /// Opens and sets up one connection.
    pub(crate) fn open(&self) -> Result<Pooled, diesel::r2d2::Error> {
        let spoiled = Arc::new(AtomicBool::new(false));
        let mut read_only = None;
        let (connection, socket) = match self.url.backend() {
            Backend::Postgres => {
                let (connection, socket) = self
                    .sockets
                    .opened_by(|| PgConnection::establish(&self.target));
                let mut connection = connection.map_err(diesel::r2d2::Error::ConnectionError)?;
                connection.set_instrumentation(spoiled_by_failures(&spoiled));
                (DbConnection::Postgres(connection), socket)
            }
            Backend::Sqlite => {
                let path = Path::new(&self.target);
                sqlite_file::create_private(path).map_err(|error| {
                    diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(format!(
                        "cannot create the SQLite file {}: {error}",
                        path.display()
                    )))
                })?;
                let mut connection = SqliteConnection::establish(&self.target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                connection
                    .batch_execute(SQLITE_SETUP)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                sqlite_file::keep_private(path);
                connection.set_instrumentation(spoiled_by_failures(&spoiled));
                // SQLite opens a file it may not write read-only, and such a connection
                // stays read-only: it is not pooled again after use, and is not handed out
                // once the file is writable again, so writes resume at once.
                if !writable(&self.target) {
                    spoiled.store(true, Ordering::Relaxed);
                    read_only = Some(self.target.clone());
                }
                (DbConnection::Sqlite(connection), None)
            }
        };
        Ok(Pooled {
            connection,
            socket,
            spoiled,
            read_only,
            returned_at: Instant::now(),
        })
    }
}

/// Watches a connection's queries and sets `spoiled` when one fails in a way that spoils it.
fn spoiled_by_failures(spoiled: &Arc<AtomicBool>) -> impl Instrumentation {
    let spoiled = Arc::clone(spoiled);
    move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::FinishQuery {
            error: Some(error), ..
        } = event
        {
            if spoils_connection(error) {
                spoiled.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Whether this process may write the file at `path` (opening it for writing changes nothing).
fn writable(path: &str) -> bool {
    std::fs::OpenOptions::new().write(true).open(path).is_ok()
}

/// `url` with `connect_timeout` set, unless it sets one already.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let already_set = query
        .split('&')
        .any(|pair| pair.split('=').next() == Some(CONNECT_TIMEOUT_PARAMETER));
    if already_set {
        return url.to_owned();
    }
    // libpq counts whole seconds and treats anything below 2 as 2.
    let seconds = (timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0)).max(2);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{CONNECT_TIMEOUT_PARAMETER}={seconds}")
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        self.open()
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        pooled
            .connection
            .ping()
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.spoiled.load(Ordering::Relaxed) || pooled.connection.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_gets_a_connect_timeout_unless_it_has_one() {
        let timeout = Duration::from_millis(2500);
        assert_eq!(
            with_connect_timeout("postgres://u@db/tessera", timeout),
            "postgres://u@db/tessera?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@db/t?sslmode=require", Duration::from_secs(1)),
            "postgres://u@db/t?sslmode=require&connect_timeout=2"
        );
        let set = "postgres://u@db/t?connect_timeout=30";
        assert_eq!(with_connect_timeout(set, timeout), set);
    }
}
