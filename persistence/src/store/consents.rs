//! The `consents` table: one remembered consent per user and client. Withdrawing one revokes
//! the user's authorizations for that client in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::consent::Consent;
use tessera_domain::store::ConsentStore;
use tessera_domain::user::UserId;
use tessera_domain::StoreError;

use super::{epoch, scope, time, uuid};
use crate::error::from_diesel;
use crate::schema::{authorizations, consents};
use crate::Database;

const TABLE: &str = "consents";

/// A row of `consents`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = consents)]
struct ConsentRow {
    user_id: String,
    client_id: String,
    scope: String,
    granted_at: i64,
}

impl From<&Consent> for ConsentRow {
    fn from(consent: &Consent) -> Self {
        Self {
            user_id: consent.user_id.to_string(),
            client_id: consent.client_id.clone(),
            scope: consent.scope.to_string(),
            granted_at: epoch(consent.granted_at),
        }
    }
}

impl TryFrom<ConsentRow> for Consent {
    type Error = StoreError;

    fn try_from(row: ConsentRow) -> Result<Self, StoreError> {
        Ok(Self {
            user_id: UserId(uuid(TABLE, &row.user_id)?),
            client_id: row.client_id,
            scope: scope(TABLE, &row.scope)?,
            granted_at: time(TABLE, row.granted_at)?,
        })
    }
}

impl ConsentStore for Database {
    /// Replaces the earlier row in one transaction (a portable upsert).
    fn record_consent(&self, consent: &Consent) -> Result<(), StoreError> {
        let row = ConsentRow::from(consent);
        self.write(move |connection| {
            diesel::delete(
                consents::table
                    .filter(consents::user_id.eq(&row.user_id))
                    .filter(consents::client_id.eq(&row.client_id)),
            )
            .execute(connection)
            .map_err(from_diesel)?;
            diesel::insert_into(consents::table)
                .values(&row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn find_consent(
        &self,
        user_id: UserId,
        client_id: &str,
    ) -> Result<Option<Consent>, StoreError> {
        let mut connection = self.connection()?;
        let row = consents::table
            .filter(consents::user_id.eq(user_id.to_string()))
            .filter(consents::client_id.eq(client_id))
            .select(ConsentRow::as_select())
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?;
        drop(connection);
        row.map(Consent::try_from).transpose()
    }

    fn consents_of(&self, user_id: UserId) -> Result<Vec<Consent>, StoreError> {
        let mut connection = self.connection()?;
        let rows = consents::table
            .filter(consents::user_id.eq(user_id.to_string()))
            .order(consents::granted_at.desc())
            .select(ConsentRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?;
        drop(connection);
        rows.into_iter().map(Consent::try_from).collect()
    }

    fn withdraw_consent(
        &self,
        user_id: UserId,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (user, client_id, now) = (user_id.to_string(), client_id.to_owned(), epoch(now));
        self.write(move |connection| {
            let deleted = diesel::delete(
                consents::table
                    .filter(consents::user_id.eq(&user))
                    .filter(consents::client_id.eq(&client_id)),
            )
            .execute(connection)
            .map_err(from_diesel)?;
            if deleted == 0 {
                return Ok(false);
            }
            diesel::update(
                authorizations::table
                    .filter(authorizations::user_id.eq(&user))
                    .filter(authorizations::client_id.eq(&client_id))
                    .filter(authorizations::revoked_at.is_null()),
            )
            .set(authorizations::revoked_at.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            Ok(true)
        })
    }
}
