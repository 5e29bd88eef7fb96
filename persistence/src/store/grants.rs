//! The `grants` table. A grant's `revoked_at` revokes every token issued under it; codes and
//! tokens go when their grant goes (`ON DELETE CASCADE`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::grant::{Grant, GrantId};
use tessera_domain::store::GrantStore;
use tessera_domain::StoreError;

use super::epoch;
use crate::error::from_diesel;
use crate::schema::grants;
use crate::Database;

/// A new row of `grants` (grants are only read through their tokens' `revoked_at`).
#[derive(Debug, Insertable)]
#[diesel(table_name = grants)]
struct NewGrantRow {
    id: String,
    client_id: String,
    user_id: Option<String>,
    scope: String,
    created_at: i64,
}

impl From<&Grant> for NewGrantRow {
    fn from(grant: &Grant) -> Self {
        Self {
            id: grant.id.0.to_string(),
            client_id: grant.client_id.clone(),
            user_id: grant.user_id.map(|user| user.to_string()),
            scope: grant.scope.to_string(),
            created_at: epoch(grant.created_at),
        }
    }
}

impl GrantStore for Database {
    fn insert_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::insert_into(grants::table)
            .values(NewGrantRow::from(grant))
            .execute(&mut *connection)
            .map(drop)
            .map_err(from_diesel)
    }

    /// Keeps the first revocation time when the grant was revoked before; an unknown grant
    /// is no error.
    fn revoke_grant(&self, id: GrantId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::update(
            grants::table
                .filter(grants::id.eq(id.0.to_string()))
                .filter(grants::revoked_at.is_null()),
        )
        .set(grants::revoked_at.eq(epoch(now)))
        .execute(&mut *connection)
        .map(drop)
        .map_err(from_diesel)
    }
}
