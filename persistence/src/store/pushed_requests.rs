//! The `pushed_requests` table (RFC 9126). The parameters are stored as a JSON array of
//! `[name, value]` pairs, in the order pushed. A request is used up by one conditional
//! `UPDATE` whose row count decides the one winner ([`claim_once`](super::claim_once)).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::claim::Claim;
use tessera_domain::pushed_request::PushedRequest;
use tessera_domain::secret::TokenDigest;
use tessera_domain::store::PushedRequestStore;
use tessera_domain::{Params, StoreError};

use super::{claim_once, digest, epoch, optional_time, time};
use crate::connection::DbConnection;
use crate::error::{corrupt, from_diesel};
use crate::schema::pushed_requests as pushed;
use crate::Database;

const TABLE: &str = "pushed_requests";

/// A row of `pushed_requests`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pushed)]
struct PushedRow {
    digest: String,
    client_id: String,
    params: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<&PushedRequest> for PushedRow {
    type Error = StoreError;

    fn try_from(request: &PushedRequest) -> Result<Self, StoreError> {
        Ok(Self {
            digest: request.digest.to_hex(),
            client_id: request.client_id.clone(),
            params: serde_json::to_string(request.params.pairs())
                .map_err(|error| StoreError::Other(error.to_string()))?,
            created_at: epoch(request.created_at),
            expires_at: epoch(request.expires_at),
            used_at: request.used_at.map(epoch),
        })
    }
}

impl TryFrom<PushedRow> for PushedRequest {
    type Error = StoreError;

    fn try_from(row: PushedRow) -> Result<Self, StoreError> {
        let pairs: Vec<(String, String)> = serde_json::from_str(&row.params)
            .map_err(|_| corrupt(TABLE, "params are not a JSON array of pairs"))?;
        Ok(Self {
            digest: digest(TABLE, &row.digest)?,
            client_id: row.client_id,
            params: Params::new(pairs),
            created_at: time(TABLE, row.created_at)?,
            expires_at: time(TABLE, row.expires_at)?,
            used_at: optional_time(TABLE, row.used_at)?,
        })
    }
}

impl PushedRequestStore for Database {
    fn insert_pushed_request(&self, request: &PushedRequest) -> Result<(), StoreError> {
        let row = PushedRow::try_from(request)?;
        self.write_statement(move |connection| {
            diesel::insert_into(pushed::table)
                .values(row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn find_pushed_request(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PushedRequest>, StoreError> {
        let mut connection = self.connection()?;
        read_pushed(&mut connection, &digest.to_hex())
    }

    /// `UPDATE ... SET used_at = now WHERE digest matches AND used_at IS NULL AND expires_at >
    /// now`, then the row read back.
    fn claim_pushed_request(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Claim<PushedRequest>, StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        self.write_statement(move |connection| {
            claim_once(
                connection,
                |connection| {
                    diesel::update(
                        pushed::table
                            .filter(pushed::digest.eq(&hex))
                            .filter(pushed::used_at.is_null())
                            .filter(pushed::expires_at.gt(now)),
                    )
                    .set(pushed::used_at.eq(now))
                    .execute(connection)
                    .map_err(from_diesel)
                },
                |connection| read_pushed(connection, &hex),
                |request| request.used_at.is_some(),
                &[],
            )
        })
    }
}

/// The pushed request with this digest (hex), used or not.
fn read_pushed(
    connection: &mut DbConnection,
    hex: &str,
) -> Result<Option<PushedRequest>, StoreError> {
    pushed::table
        .find(hex)
        .select(PushedRow::as_select())
        .first(connection)
        .optional()
        .map_err(from_diesel)?
        .map(PushedRequest::try_from)
        .transpose()
}
