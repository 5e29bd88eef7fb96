//! The `authorizations` table: token families. An authorization's `revoked_at` revokes every
//! token issued under it; codes and tokens go when their authorization goes
//! (`ON DELETE CASCADE`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::authorization::{Authorization, AuthorizationId};
use tessera_domain::store::AuthorizationStore;
use tessera_domain::token::Token;
use tessera_domain::StoreError;

use super::tokens;
use super::{epoch, optional_time, optional_user, scope, time, uuid};
use crate::error::from_diesel;
use crate::schema::authorizations;
use crate::Database;

const TABLE: &str = "authorizations";

/// A row of `authorizations`, without its revocation (which is read through its tokens).
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorizations)]
struct AuthorizationRow {
    id: String,
    client_id: String,
    user_id: Option<String>,
    scope: String,
    created_at: i64,
    auth_time: Option<i64>,
    nonce: Option<String>,
    session_id: Option<String>,
}

impl From<&Authorization> for AuthorizationRow {
    fn from(authorization: &Authorization) -> Self {
        Self {
            id: authorization.id.0.to_string(),
            client_id: authorization.client_id.clone(),
            user_id: authorization.user_id.map(|user| user.to_string()),
            scope: authorization.scope.to_string(),
            created_at: epoch(authorization.created_at),
            auth_time: authorization.auth_time.map(epoch),
            nonce: authorization.nonce.clone(),
            session_id: authorization.session_id.clone(),
        }
    }
}

impl TryFrom<AuthorizationRow> for Authorization {
    type Error = StoreError;

    fn try_from(row: AuthorizationRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: AuthorizationId(uuid(TABLE, &row.id)?),
            client_id: row.client_id,
            user_id: optional_user(TABLE, row.user_id.as_deref())?,
            scope: scope(TABLE, &row.scope)?,
            auth_time: optional_time(TABLE, row.auth_time)?,
            nonce: row.nonce,
            session_id: row.session_id,
            created_at: time(TABLE, row.created_at)?,
        })
    }
}

impl AuthorizationStore for Database {
    fn insert_authorization(&self, authorization: &Authorization) -> Result<(), StoreError> {
        let row = AuthorizationRow::from(authorization);
        self.write(move |connection| {
            diesel::insert_into(authorizations::table)
                .values(row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn insert_authorization_with_tokens(
        &self,
        authorization: &Authorization,
        tokens: &[Token],
    ) -> Result<(), StoreError> {
        let row = AuthorizationRow::from(authorization);
        let rows = tokens::rows(tokens);
        self.write(move |connection| {
            diesel::insert_into(authorizations::table)
                .values(row)
                .execute(connection)
                .map_err(from_diesel)?;
            tokens::insert_all(connection, &rows)
        })
    }

    fn find_authorization(&self, id: AuthorizationId) -> Result<Option<Authorization>, StoreError> {
        let mut connection = self.connection()?;
        let row = authorizations::table
            .find(id.0.to_string())
            .select(AuthorizationRow::as_select())
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?;
        drop(connection);
        row.map(Authorization::try_from).transpose()
    }

    /// Keeps the first revocation time when it was revoked before; an unknown authorization
    /// is no error.
    fn revoke_authorization(
        &self,
        id: AuthorizationId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = id.0.to_string();
        let now = epoch(now);
        self.write(move |connection| {
            diesel::update(
                authorizations::table
                    .filter(authorizations::id.eq(id))
                    .filter(authorizations::revoked_at.is_null()),
            )
            .set(authorizations::revoked_at.eq(now))
            .execute(connection)
            .map(drop)
            .map_err(from_diesel)
        })
    }
}
