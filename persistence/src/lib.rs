//! # tessera-persistence: Tessera's storage, on SQLite or Postgres
//!
//! The only crate that names Diesel. [`Database`] is an r2d2 pool over one connection type for
//! both engines, chosen by the URL's scheme ([`DatabaseUrl`]), and it implements every store
//! trait of `tessera_domain::store`. The web layer calls it off the async executor.
//!
//! Rules this crate keeps:
//! - Only `sqlite://relative/path`, `sqlite:///absolute/path` and `postgres://...` are
//!   accepted; anything else is a [`ConfigError`] before anything is opened.
//! - One portable schema (TEXT ids, BIGINT epoch seconds) and the same migration versions
//!   under `migrations/sqlite` and `migrations/postgres`, embedded and run by
//!   [`Database::migrate`] (under an advisory lock on Postgres).
//! - SQLite runs in WAL mode with a busy timeout and foreign keys on; never `:memory:`. Its
//!   file and the `-wal` and `-shm` next to it are created mode 0600 (unix).
//! - Redeeming a code or rotating a refresh token is one conditional `UPDATE` whose row count
//!   decides the winner; no `RETURNING`, so the same SQL runs on both engines. The same
//!   transaction stores the tokens minted for the winner, so a storage failure leaves the
//!   code or refresh token as it was and a retry can still win.
//! - Each store method's reads check out their own connection and give it back before
//!   returning. Its writes are one all-or-none unit: on SQLite it joins the group commit of
//!   one writer thread (module `group_commit`: concurrent writes share one transaction, each in a
//!   savepoint, and are answered once it committed); on Postgres it is a transaction of its
//!   own on a pooled connection, or no transaction at all when it is one statement (issuing
//!   a token family is one: the family's `INSERT` in a `WITH`).
//! - A checkout waits at most the pool's connection timeout. A Postgres connection answers a
//!   ping first unless it was in use within the last second and its socket holds nothing from
//!   the server (no notice, no hang-up); the work done on it is cut off by a
//!   watchdog after the operation timeout, so a server that stops answering costs a 503,
//!   never a request that hangs. A connection that lost its server, or that cannot write the
//!   SQLite file, is dropped and replaced rather than pooled again.
//! - Failures become the domain's `StoreError` in one place: a uniqueness violation is
//!   `Conflict`; a pool timeout, a lost connection or a locked or read-only file is `Unavailable`; a row
//!   that does not convert back is `Other`, never a panic.
//!
//! - A purge deletes in batches of at most 1000 rows, each statement committed on its own, and
//!   every purge statement, like the refresh token's rotation, is served by an index.
//!
//! - [`telemetry`]: the pool's connections, checkout waits and the writer's batch sizes,
//!   through the `metrics` facade.
//!
//! With the `testing` feature, `test_db::TestDb` gives each test its own database on either
//! engine, and `query_plans` shows how the engine runs the statements that must use an index.

mod connection;
mod database;
mod error;
mod group_commit;
mod schema;
mod socket;
mod sqlite_file;
mod store;
pub mod telemetry;
mod url;
mod watchdog;

#[cfg(feature = "testing")]
pub mod test_db;

#[cfg(feature = "testing")]
pub use store::query_plans::{query_plans, QueryPlan};

pub use database::{Database, PoolOptions};
pub use url::{Backend, ConfigError, DatabaseUrl};
