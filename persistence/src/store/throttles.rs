//! The `throttles` table: brute-force failure counters, shared by every process. Each step
//! is one conditional `UPDATE`, so concurrent failures each count once and one of them
//! engages a lockout.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::store::ThrottleStore;
use tessera_domain::StoreError;

use super::{epoch, in_transaction, optional_time, time};
use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::schema::throttles;
use crate::Database;

const TABLE: &str = "throttles";

impl ThrottleStore for Database {
    fn throttle_locked_until(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut connection = self.connection()?;
        let until: Option<Option<i64>> = throttles::table
            .find(key)
            .filter(throttles::locked_until.gt(epoch(now)))
            .select(throttles::locked_until)
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?;
        optional_time(TABLE, until.flatten())
    }

    fn record_throttle_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        limit: u32,
        lockout: fn(u32) -> chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = key.to_owned();
        self.write_statement(move |connection| {
            count_failure(connection, &key, now, window_start, limit, lockout)
        })
    }

    fn reset_throttle(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.write_statement(move |connection| {
            diesel::delete(throttles::table.find(key))
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }
}

/// [`ThrottleStore::record_throttle_failure`] on one connection.
fn count_failure(
    connection: &mut DbConnection,
    key: &str,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
    limit: u32,
    lockout: fn(u32) -> chrono::Duration,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    // In a savepoint of its own: on Postgres a taken key would otherwise abort the
    // whole transaction.
    let inserted = in_transaction(connection, |connection| {
        diesel::insert_into(throttles::table)
            .values((
                throttles::key.eq(key),
                throttles::failures.eq(0_i64),
                throttles::window_started_at.eq(epoch(now)),
                throttles::locked_until.eq(None::<i64>),
                throttles::lockouts.eq(0_i64),
            ))
            .execute(connection)
            .map_err(from_diesel)
    });
    match inserted {
        Ok(_) | Err(StoreError::Conflict) => {}
        Err(error) => return Err(error),
    }
    let row = throttles::table.find(key);
    // Count within the window, or start a new window; a racer may start it between
    // the two, so try again (it then counts within the new window).
    for _ in 0..3 {
        let counted =
            diesel::update(row.filter(throttles::window_started_at.gt(epoch(window_start))))
                .set(throttles::failures.eq(throttles::failures + 1))
                .execute(connection)
                .map_err(from_diesel)?;
        if counted == 1 {
            break;
        }
        let restarted =
            diesel::update(row.filter(throttles::window_started_at.le(epoch(window_start))))
                .set((
                    throttles::failures.eq(1_i64),
                    throttles::window_started_at.eq(epoch(now)),
                ))
                .execute(connection)
                .map_err(from_diesel)?;
        if restarted == 1 {
            break;
        }
    }
    let Some((failures, lockouts)) = row
        .select((throttles::failures, throttles::lockouts))
        .first::<(i64, i64)>(connection)
        .optional()
        .map_err(from_diesel)?
    else {
        return Ok(None);
    };
    if failures < i64::from(limit) {
        return Ok(None);
    }
    let until = now + lockout(u32::try_from(lockouts).unwrap_or(u32::MAX));
    let engaged = diesel::update(
        row.filter(throttles::failures.ge(i64::from(limit)))
            .filter(throttles::lockouts.eq(lockouts)),
    )
    .set((
        throttles::failures.eq(0_i64),
        throttles::window_started_at.eq(epoch(now)),
        throttles::locked_until.eq(Some(epoch(until))),
        throttles::lockouts.eq(throttles::lockouts + 1),
    ))
    .execute(connection)
    .map_err(from_diesel)?;
    if engaged == 1 {
        Ok(Some(time(TABLE, epoch(until))?))
    } else {
        Ok(None)
    }
}
