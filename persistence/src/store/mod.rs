//! The domain's store traits, implemented on [`Database`](crate::Database): one module per
//! table, each with its row struct, the row's `TryFrom` into the domain type, and the trait.
//!
//! Every method checks out its own connection. Races are decided by the row count of one
//! conditional `UPDATE` (no `RETURNING`, so the same SQL runs on both engines), then the row
//! is read back. Claiming a code or a refresh token ([`claim_once`]) runs in one transaction
//! that also stores the tokens minted for the winner, with that `UPDATE` as its first
//! statement.

mod authorization_codes;
mod authorizations;
mod clients;
mod consents;
mod device_codes;
mod purge;
mod pushed_requests;
#[cfg(feature = "testing")]
pub(crate) mod query_plans;
mod revoked_jwts;
mod sessions;
mod settings;
mod signing_keys;
mod throttles;
mod tokens;
mod users;

use chrono::{DateTime, Utc};
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use tessera_domain::claim::Claim;
use tessera_domain::scope::Scope;
use tessera_domain::secret::TokenDigest;
use tessera_domain::user::UserId;
use tessera_domain::StoreError;
use uuid::Uuid;

use crate::connection::{DbConnection, MultiBackend};
use crate::error::{corrupt, from_diesel};
pub(crate) use crate::group_commit::in_transaction;

/// A statement that runs on either engine through [`DbConnection`], built by a function so
/// that the code running it and the query-plan checks explain the same SQL.
pub(crate) trait Statement: QueryFragment<MultiBackend> + QueryId {}

impl<T: QueryFragment<MultiBackend> + QueryId> Statement for T {}

/// Executes `statement`; the number of rows it changed.
fn run(connection: &mut DbConnection, statement: impl Statement) -> Result<usize, StoreError> {
    ExecuteDsl::execute(statement, connection).map_err(from_diesel)
}

/// Claims a single-use row in one transaction: `claim` is the conditional `UPDATE` whose row
/// count decides the one winner; the winner stores `tokens` with it. `read` reads the row back
/// and `taken` tells a row claimed before from one that cannot be claimed (expired, revoked).
/// Any storage failure rolls everything back, so the row can still be claimed.
fn claim_once<T>(
    connection: &mut DbConnection,
    claim: impl FnOnce(&mut DbConnection) -> Result<usize, StoreError>,
    read: impl Fn(&mut DbConnection) -> Result<Option<T>, StoreError>,
    taken: impl FnOnce(&T) -> bool,
    tokens: &[tokens::TokenRow],
) -> Result<Claim<T>, StoreError> {
    in_transaction(connection, |connection| {
        if claim(connection)? == 1 {
            tokens::insert_all(connection, tokens)?;
            let claimed = read(connection)?
                .ok_or_else(|| StoreError::Other("a claimed row could not be read back".into()))?;
            return Ok(Claim::Won(claimed));
        }
        Ok(match read(connection)? {
            Some(row) if taken(&row) => Claim::Taken(row),
            _ => Claim::Unusable,
        })
    })
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

/// A stored UUID (users and authorizations).
fn uuid(table: &str, text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| corrupt(table, format_args!("id {text:?} is not a UUID")))
}

/// A stored optional user id (tokens and authorizations of client credentials have none).
fn optional_user(table: &str, text: Option<&str>) -> Result<Option<UserId>, StoreError> {
    text.map(|user| uuid(table, user).map(UserId)).transpose()
}

/// A stored digest (codes, tokens, client secrets).
fn digest(table: &str, hex: &str) -> Result<TokenDigest, StoreError> {
    TokenDigest::from_hex(hex).ok_or_else(|| corrupt(table, "digest is not 64 hex digits"))
}

/// A stored scope.
fn scope(table: &str, text: &str) -> Result<Scope, StoreError> {
    Scope::parse(text).map_err(|error| corrupt(table, error.description))
}
