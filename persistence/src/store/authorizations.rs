//! The `authorizations` table: token families. An authorization's `revoked_at` revokes every
//! token issued under it; codes and tokens go when their authorization goes
//! (`ON DELETE CASCADE`).

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use tessera_domain::authorization::{Authorization, AuthorizationId};
use tessera_domain::store::AuthorizationStore;
use tessera_domain::token::Token;
use tessera_domain::StoreError;

use super::tokens::{self, TokenRow};
use super::{epoch, optional_time, optional_user, scope, time, uuid};
use crate::connection::DbConnection;
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

/// Inserts `authorization` on `connection` (inside the caller's transaction).
pub(super) fn insert_one(
    connection: &mut DbConnection,
    authorization: &Authorization,
) -> Result<(), StoreError> {
    diesel::insert_into(authorizations::table)
        .values(AuthorizationRow::from(authorization))
        .execute(connection)
        .map(drop)
        .map_err(from_diesel)
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

/// On Postgres, an authorization and its first tokens in one statement (the authorization's
/// `INSERT` in a `WITH`), which is all or none by itself: one round trip, no transaction.
fn insert_family_in_one_statement(
    connection: &mut PgConnection,
    family: AuthorizationRow,
    tokens: Vec<TokenRow>,
) -> Result<(), StoreError> {
    const FAMILY_COLUMNS: usize = 8;
    const TOKEN_COLUMNS: usize = 11;
    let placeholders = |first: usize, count: usize| {
        let list: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
        format!("({})", list.join(", "))
    };
    let token_values: Vec<String> = (0..tokens.len())
        .map(|index| placeholders(FAMILY_COLUMNS + 1 + index * TOKEN_COLUMNS, TOKEN_COLUMNS))
        .collect();
    let sql = format!(
        "WITH family AS (INSERT INTO authorizations \
         (id, client_id, user_id, scope, created_at, auth_time, nonce, session_id) VALUES {}) \
         INSERT INTO tokens (digest, kind, authorization_id, client_id, user_id, scope, \
         issued_at, expires_at, revoked_at, rotated_at, parent_digest) VALUES {}",
        placeholders(1, FAMILY_COLUMNS),
        token_values.join(", ")
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<Text, _>(family.id)
        .bind::<Text, _>(family.client_id)
        .bind::<Nullable<Text>, _>(family.user_id)
        .bind::<Text, _>(family.scope)
        .bind::<BigInt, _>(family.created_at)
        .bind::<Nullable<BigInt>, _>(family.auth_time)
        .bind::<Nullable<Text>, _>(family.nonce)
        .bind::<Nullable<Text>, _>(family.session_id);
    for token in tokens {
        query = query
            .bind::<Text, _>(token.digest)
            .bind::<Text, _>(token.kind)
            .bind::<Text, _>(token.authorization_id)
            .bind::<Text, _>(token.client_id)
            .bind::<Nullable<Text>, _>(token.user_id)
            .bind::<Text, _>(token.scope)
            .bind::<BigInt, _>(token.issued_at)
            .bind::<BigInt, _>(token.expires_at)
            .bind::<Nullable<BigInt>, _>(token.revoked_at)
            .bind::<Nullable<BigInt>, _>(token.rotated_at)
            .bind::<Nullable<Text>, _>(token.parent_digest);
    }
    query.execute(connection).map(drop).map_err(from_diesel)
}

impl AuthorizationStore for Database {
    fn insert_authorization(&self, authorization: &Authorization) -> Result<(), StoreError> {
        let row = AuthorizationRow::from(authorization);
        self.write_statement(move |connection| {
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
        self.write_statement(move |connection| match connection {
            DbConnection::Postgres(postgres) if !rows.is_empty() => {
                insert_family_in_one_statement(postgres, row, rows)
            }
            // In a savepoint of the writer's batch, so all or none.
            connection => {
                diesel::insert_into(authorizations::table)
                    .values(row)
                    .execute(connection)
                    .map_err(from_diesel)?;
                tokens::insert_all(connection, &rows)
            }
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
        self.write_statement(move |connection| {
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
