//! The domain's store traits, implemented on [`Database`](crate::Database): one module per
//! table, each with its row struct, the row's `TryFrom` into the domain type, and the trait.
//!
//! Every method checks out its own connection. Races are decided by the row count of one
//! conditional `UPDATE` (no `RETURNING`, so the same SQL runs on both engines), then the row
//! is read back. Redeeming a code and rotating a refresh token run in one transaction that
//! also stores the tokens minted for the winner, with that `UPDATE` as its first statement.

mod authorization_codes;
mod clients;
mod grants;
mod settings;
mod signing_keys;
mod tokens;
mod users;

use chrono::{DateTime, Utc};
use diesel::Connection as _;
use tessera_domain::scope::Scope;
use tessera_domain::secret::TokenDigest;
use tessera_domain::StoreError;
use uuid::Uuid;

use crate::connection::DbConnection;
use crate::error::{corrupt, TransactionError};

/// Runs `body` in one transaction: commits if it returns `Ok`, rolls everything back if it
/// returns `Err` (or if the commit fails), and reports any failure as a [`StoreError`].
///
/// A plain `BEGIN`, so on SQLite the write lock is taken by the first write; callers that race
/// make that write their first statement, before any read could pin an older snapshot.
fn in_transaction<T>(
    connection: &mut DbConnection,
    body: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection
        .transaction(|connection| body(connection).map_err(TransactionError::Store))
        .map_err(TransactionError::into_store)
}

/// A time as stored: whole seconds since the Unix epoch (sub-second parts are dropped).
fn epoch(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

/// A stored time back as a `DateTime`.
fn time(table: &str, seconds: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| corrupt(table, format_args!("time {seconds} out of range")))
}

/// A stored optional time back as a `DateTime`.
fn optional_time(table: &str, seconds: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    seconds.map(|seconds| time(table, seconds)).transpose()
}

/// A stored UUID (users and grants).
fn uuid(table: &str, text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| corrupt(table, format_args!("id {text:?} is not a UUID")))
}

/// A stored digest (codes, tokens, client secrets).
fn digest(table: &str, hex: &str) -> Result<TokenDigest, StoreError> {
    TokenDigest::from_hex(hex).ok_or_else(|| corrupt(table, "digest is not 64 hex digits"))
}

/// A stored scope.
fn scope(table: &str, text: &str) -> Result<Scope, StoreError> {
    Scope::parse(text).map_err(|error| corrupt(table, error.description))
}
