//! The `device_codes` table (RFC 8628). A user's answer is one conditional `UPDATE` (pending
//! and unexpired); the redemption is another (approved, unredeemed, unexpired) whose row
//! count decides the one winner, in the transaction that stores the tokens
//! ([`claim_once`](super::claim_once)).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use tessera_domain::authorization::Authorization;
use tessera_domain::claim::Claim;
use tessera_domain::device_code::{DeviceAnswer, DeviceCode, DeviceStatus};
use tessera_domain::secret::TokenDigest;
use tessera_domain::store::DeviceCodeStore;
use tessera_domain::token::Token;
use tessera_domain::StoreError;

use super::{
    authorizations, claim_once, digest, epoch, optional_time, optional_user, scope, time, tokens,
};
use crate::connection::DbConnection;
use crate::error::{corrupt, from_diesel};
use crate::schema::device_codes as device;
use crate::Database;

const TABLE: &str = "device_codes";

/// A row of `device_codes`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = device)]
struct DeviceRow {
    digest: String,
    user_code_digest: String,
    client_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    interval_seconds: i64,
    last_polled_at: Option<i64>,
    status: String,
    user_id: Option<String>,
    auth_time: Option<i64>,
    redeemed_at: Option<i64>,
}

impl From<&DeviceCode> for DeviceRow {
    fn from(code: &DeviceCode) -> Self {
        Self {
            digest: code.digest.to_hex(),
            user_code_digest: code.user_code_digest.to_hex(),
            client_id: code.client_id.clone(),
            scope: code.scope.to_string(),
            created_at: epoch(code.created_at),
            expires_at: epoch(code.expires_at),
            interval_seconds: code.interval.num_seconds(),
            last_polled_at: code.last_polled_at.map(epoch),
            status: code.status.as_str().to_owned(),
            user_id: code.user_id.map(|user| user.to_string()),
            auth_time: code.auth_time.map(epoch),
            redeemed_at: code.redeemed_at.map(epoch),
        }
    }
}

impl TryFrom<DeviceRow> for DeviceCode {
    type Error = StoreError;

    fn try_from(row: DeviceRow) -> Result<Self, StoreError> {
        Ok(Self {
            digest: digest(TABLE, &row.digest)?,
            user_code_digest: digest(TABLE, &row.user_code_digest)?,
            client_id: row.client_id,
            scope: scope(TABLE, &row.scope)?,
            created_at: time(TABLE, row.created_at)?,
            expires_at: time(TABLE, row.expires_at)?,
            interval: Duration::try_seconds(row.interval_seconds)
                .ok_or_else(|| corrupt(TABLE, "interval out of range"))?,
            last_polled_at: optional_time(TABLE, row.last_polled_at)?,
            status: DeviceStatus::parse(&row.status)
                .ok_or_else(|| corrupt(TABLE, format_args!("unknown status {:?}", row.status)))?,
            user_id: optional_user(TABLE, row.user_id.as_deref())?,
            auth_time: optional_time(TABLE, row.auth_time)?,
            redeemed_at: optional_time(TABLE, row.redeemed_at)?,
        })
    }
}

impl DeviceCodeStore for Database {
    fn insert_device_code(&self, code: &DeviceCode) -> Result<(), StoreError> {
        let row = DeviceRow::from(code);
        self.write_statement(move |connection| {
            diesel::insert_into(device::table)
                .values(row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn find_device_code(&self, digest: &TokenDigest) -> Result<Option<DeviceCode>, StoreError> {
        let mut connection = self.connection()?;
        read_device(&mut connection, By::Digest(digest.to_hex()))
    }

    fn find_device_code_by_user_code(
        &self,
        user_code: &TokenDigest,
    ) -> Result<Option<DeviceCode>, StoreError> {
        let mut connection = self.connection()?;
        read_device(&mut connection, By::UserCode(user_code.to_hex()))
    }

    /// `UPDATE ... SET status, user_id, auth_time WHERE user_code_digest matches AND status =
    /// 'pending' AND expires_at > now`.
    fn answer_device_code(
        &self,
        user_code: &TokenDigest,
        answer: &DeviceAnswer,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let hex = user_code.to_hex();
        let status = answer.status.as_str();
        let user_id = answer.user_id.to_string();
        let auth_time = answer.auth_time.map(epoch);
        let now = epoch(now);
        self.write_statement(move |connection| {
            diesel::update(
                device::table
                    .filter(device::user_code_digest.eq(&hex))
                    .filter(device::status.eq(DeviceStatus::Pending.as_str()))
                    .filter(device::expires_at.gt(now)),
            )
            .set((
                device::status.eq(status),
                device::user_id.eq(Some(user_id)),
                device::auth_time.eq(auth_time),
            ))
            .execute(connection)
            .map(|changed| changed == 1)
            .map_err(from_diesel)
        })
    }

    fn record_device_poll(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        interval: Duration,
    ) -> Result<(), StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        let interval = interval.num_seconds();
        self.write_statement(move |connection| {
            diesel::update(device::table.find(&hex))
                .set((
                    device::last_polled_at.eq(Some(now)),
                    device::interval_seconds.eq(interval),
                ))
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    /// `UPDATE ... SET redeemed_at = now WHERE digest matches AND status = 'approved' AND
    /// redeemed_at IS NULL AND expires_at > now`; the winner inserts the family and tokens in
    /// the same transaction.
    fn claim_device_code(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        authorization: Option<&Authorization>,
        issued: &[Token],
    ) -> Result<Claim<DeviceCode>, StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        let authorization = authorization.cloned();
        let rows = tokens::rows(issued);
        self.write_statement(move |connection| {
            claim_once(
                connection,
                |connection| {
                    let claimed = diesel::update(
                        device::table
                            .filter(device::digest.eq(&hex))
                            .filter(device::status.eq(DeviceStatus::Approved.as_str()))
                            .filter(device::redeemed_at.is_null())
                            .filter(device::expires_at.gt(now)),
                    )
                    .set(device::redeemed_at.eq(Some(now)))
                    .execute(connection)
                    .map_err(from_diesel)?;
                    if claimed == 1 {
                        if let Some(authorization) = &authorization {
                            authorizations::insert_one(connection, authorization)?;
                        }
                    }
                    Ok(claimed)
                },
                |connection| read_device(connection, By::Digest(hex.clone())),
                |code| code.redeemed_at.is_some(),
                &rows,
            )
        })
    }
}

/// Which unique digest a device code is read by.
enum By {
    /// The `device_code`'s.
    Digest(String),
    /// The normalized `user_code`'s.
    UserCode(String),
}

/// The device code with this digest (hex), in any state.
fn read_device(connection: &mut DbConnection, by: By) -> Result<Option<DeviceCode>, StoreError> {
    let query = device::table.select(DeviceRow::as_select());
    let row = match by {
        By::Digest(hex) => query.filter(device::digest.eq(hex)).first(connection),
        By::UserCode(hex) => query
            .filter(device::user_code_digest.eq(hex))
            .first(connection),
    };
    row.optional()
        .map_err(from_diesel)?
        .map(DeviceCode::try_from)
        .transpose()
}
