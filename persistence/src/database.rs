//! [`Database`]: the connection pool, its migrations and its health check. The store traits
//! are implemented on it in [`crate::store`].

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::migration::MigrationSource;
use diesel::r2d2::R2D2Connection as _;
use diesel::RunQueryDsl as _;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use tessera_domain::StoreError;

use crate::connection::{ConnectionManager, DbConnection};
use crate::error::{from_diesel, from_migration, from_open, from_pool, TransactionError};
use crate::group_commit::{in_transaction, Writer};
use crate::socket::Socket;
use crate::telemetry;
use crate::url::{Backend, DatabaseUrl};
use crate::watchdog::{self, Armed};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// The Postgres advisory lock key held while migrating ("tessera" in ASCII), so that servers
/// starting together migrate one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x0074_6573_7365_7261;

/// How the connection pool is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// The most connections open at once (at least 1).
    pub max_size: u32,
    /// How long a caller waits for a free, working connection before getting
    /// [`StoreError::Unavailable`] (more than zero); also how long opening a Postgres
    /// connection may take (at least 2 s, libpq's least).
    pub connection_timeout: Duration,
    /// How long one checked-out Postgres connection may be used (its check and the store
    /// method's queries) before its socket is shut down, so that a server that stopped
    /// answering costs a 503, not a request that never ends.
    pub operation_timeout: Duration,
}

impl Default for PoolOptions {
    /// 16 connections, a 3-second checkout timeout, so overload turns into a quick 503, and
    /// 10 seconds for the work done on one checkout.
    fn default() -> Self {
        Self {
            max_size: 16,
            connection_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(10),
        }
    }
}

/// A pooled SQLite or Postgres database; cheap to clone, and every clone shares the pool
/// (and, on SQLite, its group-commit writer). Each store method checks a connection out and
/// returns it before it returns, or hands its writes to the writer.
#[derive(Clone)]
pub struct Database {
    connections: Connections,
    url: DatabaseUrl,
    /// On SQLite, the group-commit writer every write goes through.
    writer: Option<Arc<Writer>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}

impl Database {
    /// Opens a pool on `url` and checks one connection out, so an unreachable database fails
    /// here with [`StoreError::Unavailable`] within `options.connection_timeout`. A missing
    /// SQLite file is created (its directory must exist).
    pub fn connect(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, StoreError> {
        if options.max_size == 0
            || options.connection_timeout.is_zero()
            || options.operation_timeout.is_zero()
        {
            return Err(StoreError::Other(
                "the pool needs at least one connection and non-zero timeouts".into(),
            ));
        }
        let backend = url.backend();
        // On SQLite the writer holds one more connection while it commits a batch.
        let writer_connections = u32::from(backend == Backend::Sqlite);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size.saturating_add(writer_connections))
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            // `connection` checks each connection itself, under the watchdog.
            .test_on_check_out(false)
            .error_handler(Box::new(TracingErrorHandler))
            .build_unchecked(ConnectionManager::new(
                url.clone(),
                options.connection_timeout,
            ));
        let connections = Connections {
            pool,
            options,
            ping: backend == Backend::Postgres,
        };
        drop(connections.checkout()?);
        let writer = match backend {
            Backend::Sqlite => Some(Arc::new(Writer::start(connections.clone()).map_err(
                |error| StoreError::Other(format!("cannot start the database writer: {error}")),
            )?)),
            Backend::Postgres => None,
        };
        Ok(Self {
            connections,
            url: url.clone(),
            writer,
        })
    }

    /// Applies the embedded migrations that have not run yet. On Postgres this holds an
    /// advisory lock, on SQLite a write transaction, so processes starting together are safe.
    pub fn migrate(&self) -> Result<(), StoreError> {
        // A connection of its own, closed afterwards: a session lock can never stay behind
        // on a pooled connection.
        let timeout = self.connections.options.connection_timeout;
        let mut pooled = ConnectionManager::new(self.url.clone(), timeout)
            .open()
            .map_err(from_open)?;
        let applied = match &mut pooled.connection {
            DbConnection::Sqlite(connection) => connection
                .immediate_transaction(|connection| {
                    run_pending(connection, SQLITE_MIGRATIONS).map_err(TransactionError::Store)
                })
                .map_err(TransactionError::into_store)?,
            DbConnection::Postgres(connection) => {
                let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})");
                let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})");
                connection.batch_execute(&lock).map_err(from_diesel)?;
                let applied = run_pending(connection, POSTGRES_MIGRATIONS);
                let unlocked = connection.batch_execute(&unlock);
                let applied = applied?;
                unlocked.map_err(from_diesel)?;
                applied
            }
        };
        for version in applied {
            tracing::info!(%version, "applied migration");
        }
        Ok(())
    }

    /// The versions of the embedded migrations that have not run yet, oldest first, without
    /// running any or writing anything (for `tessera check`): on a database never migrated
    /// (no diesel bookkeeping table) every one is pending.
    pub fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let bookkeeping = match self.backend() {
            Backend::Sqlite => {
                "SELECT count(*) AS n FROM sqlite_master \
                 WHERE type = 'table' AND name = '__diesel_schema_migrations'"
            }
            Backend::Postgres => {
                "SELECT count(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() \
                 AND table_name = '__diesel_schema_migrations'"
            }
        };
        let mut connection = self.connection()?;
        let tables: Count = diesel::sql_query(bookkeeping)
            .get_result(&mut *connection)
            .map_err(from_diesel)?;
        let migrated = tables.n > 0;
        match &mut *connection {
            DbConnection::Sqlite(connection) if migrated => connection
                .pending_migrations(SQLITE_MIGRATIONS)
                .map(|pending| versions(&pending)),
            DbConnection::Sqlite(_) => {
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                    .map(|all| versions(&all))
            }
            DbConnection::Postgres(connection) if migrated => connection
                .pending_migrations(POSTGRES_MIGRATIONS)
                .map(|pending| versions(&pending)),
            DbConnection::Postgres(_) => {
                MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                    .map(|all| versions(&all))
            }
        }
        .map_err(from_migration)
    }

    /// Whether the database answers `SELECT 1` (for `/healthz`).
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *connection)
            .map(drop)
            .map_err(from_diesel)
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The URL it was opened with (shown without a password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Records the pool's open connections, idle and in use, in
    /// [`POOL_CONNECTIONS`](crate::telemetry::POOL_CONNECTIONS) (the SQLite writer's own
    /// connection among them); the metrics endpoint calls it before each scrape.
    pub fn record_pool_state(&self) {
        let state = self.connections.pool.state();
        telemetry::pool_state(state.connections, state.idle_connections);
    }

    /// The pool, as the writer checks connections out of it.
    #[cfg(test)]
    pub(crate) fn connections(&self) -> &Connections {
        &self.connections
    }

    /// Checks a working connection out of the pool ([`Connections::checkout`]).
    pub(crate) fn connection(&self) -> Result<Checkout, StoreError> {
        self.connections.checkout()
    }

    /// Runs `work` as one all-or-none unit of writes and returns its result once committed.
    /// On SQLite it joins the writer's next batch ([`crate::group_commit`]); on Postgres,
    /// where concurrent transactions commit side by side and the server groups their WAL
    /// flushes itself, it runs in a transaction of its own on a pooled connection.
    pub(crate) fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work),
            None => in_transaction(&mut *self.connection()?, work),
        }
    }

    /// [`Self::write`] for work that is all-or-none by itself (one statement, or a
    /// transaction of its own): on Postgres it runs without another transaction around it,
    /// which would cost two more round trips.
    pub(crate) fn write_statement<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work),
            None => work(&mut *self.connection()?),
        }
    }
}

/// The pool and how it is checked out of; shared by every clone of a [`Database`] and by
/// its writer.
#[derive(Clone)]
pub(crate) struct Connections {
    pool: r2d2::Pool<ConnectionManager>,
    options: PoolOptions,
    /// Whether a connection is pinged before it is handed out: on Postgres, whose
    /// connections can be lost while they sit in the pool; a SQLite connection cannot.
    ping: bool,
}

/// How long a Postgres connection may sit in the pool and still be handed out without a
/// ping first, if its socket is quiet ([`Socket::is_quiet`](crate::socket)): one that was in
/// use this recently and has heard nothing from its server since still works, so a busy
/// server pays no extra round trip per checkout.
const TRUSTED_IDLE: Duration = Duration::from_secs(1);

impl Connections {
    /// Checks a working connection out of the pool, within `connection_timeout`; it goes
    /// back when dropped. A Postgres connection is first checked with a ping unless it was in
    /// use within [`TRUSTED_IDLE`] and its socket is quiet, and it is cut off if
    /// the ping and the caller's work take longer than `operation_timeout`. A SQLite
    /// connection that could only open its file read-only is passed over once the file is
    /// writable again.
    pub(crate) fn checkout(&self) -> Result<Checkout, StoreError> {
        let started = Instant::now();
        let checkout = self.checkout_since(started);
        telemetry::checkout_waited(started.elapsed());
        checkout
    }

    /// [`Self::checkout`], asked for at `started`.
    fn checkout_since(&self, started: Instant) -> Result<Checkout, StoreError> {
        loop {
            let waited = started.elapsed();
            let remaining = self.options.connection_timeout.saturating_sub(waited);
            let mut pooled = self.pool.get_timeout(remaining).map_err(from_pool)?;
            if pooled.is_needlessly_read_only() {
                // Spoiled from the start, so the pool drops it.
                drop(pooled);
                continue;
            }
            let deadline = pooled.socket.and_then(|socket| {
                watchdog::arm(socket, Instant::now() + self.options.operation_timeout)
            });
            let trusted = pooled.returned_at.elapsed() <= TRUSTED_IDLE
                && pooled.socket.is_some_and(Socket::is_quiet);
            let checked = if self.ping && !trusted {
                pooled.connection.ping()
            } else {
                Ok(())
            };
            let checkout = Checkout {
                _deadline: deadline,
                pooled,
            };
            match checked {
                Ok(()) => return Ok(checkout),
                Err(error) => {
                    // Dropped by the pool, which opens a replacement.
                    checkout.pooled.spoil();
                    drop(checkout);
                    if started.elapsed() >= self.options.connection_timeout {
                        return Err(from_diesel(error));
                    }
                }
            }
        }
    }
}

/// A connection checked out of the pool, and the deadline of the work done on it.
pub(crate) struct Checkout {
    // Declared first so it is disarmed before the connection goes back to the pool.
    _deadline: Option<Armed>,
    pooled: r2d2::PooledConnection<ConnectionManager>,
}

impl Deref for Checkout {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.pooled.connection
    }
}

impl Checkout {
    /// Marks the connection as not to be pooled again: it is closed when dropped.
    pub(crate) fn spoil(&self) {
        self.pooled.spoil();
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        self.pooled.returned_at = Instant::now();
    }
}

impl DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.pooled.connection
    }
}

/// Runs the pending migrations of one set and says which versions ran.
fn run_pending<C>(
    connection: &mut C,
    migrations: EmbeddedMigrations,
) -> Result<Vec<String>, StoreError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    connection
        .run_pending_migrations(migrations)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(from_migration)
}

/// A row count, read by [`Database::pending_migrations`].
#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The versions of `migrations`.
fn versions<DB: diesel::backend::Backend>(
    migrations: &[Box<dyn diesel::migration::Migration<DB>>],
) -> Vec<String> {
    migrations
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect()
}

/// Sends r2d2's background connection failures to `tracing` (r2d2 itself uses `log`).
#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<diesel::r2d2::Error> for TracingErrorHandler {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(%error, "database connection failed");
    }
}
