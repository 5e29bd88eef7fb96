//! The `users` table. Disabling a user also records when in `tokens_valid_after` (kept when
//! they are enabled again), ends their `sessions` and revokes their `authorizations`, in the
//! same transaction; deleting one relies on the schema's `ON DELETE CASCADE` for everything
//! of theirs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::store::UserStore;
use tessera_domain::user::{User, UserId};
use tessera_domain::StoreError;

use super::{epoch, time, uuid};
use crate::error::from_diesel;
use crate::schema::{authorizations, sessions, users};
use crate::Database;

/// A row of `users`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    id: String,
    username: String,
    password_hash: String,
    created_at: i64,
    email: Option<String>,
    disabled_at: Option<i64>,
    tokens_valid_after: Option<i64>,
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.clone(),
            password_hash: user.password_hash.clone(),
            created_at: epoch(user.created_at),
            email: user.email.clone(),
            disabled_at: user.disabled_at.map(epoch),
            tokens_valid_after: user.tokens_valid_after.map(epoch),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: UserId(uuid("users", &row.id)?),
            username: row.username,
            password_hash: row.password_hash,
            created_at: time("users", row.created_at)?,
            email: row.email,
            disabled_at: row.disabled_at.map(|at| time("users", at)).transpose()?,
            tokens_valid_after: row
                .tokens_valid_after
                .map(|at| time("users", at))
                .transpose()?,
        })
    }
}

impl UserStore for Database {
    fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::insert_into(users::table)
            .values(UserRow::from(user))
            .execute(&mut *connection)
            .map(drop)
            .map_err(from_diesel)
    }

    fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let mut connection = self.connection()?;
        users::table
            .find(id.to_string())
            .select(UserRow::as_select())
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?
            .map(User::try_from)
            .transpose()
    }

    fn find_user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        let mut connection = self.connection()?;
        users::table
            .filter(users::username.eq(username))
            .select(UserRow::as_select())
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?
            .map(User::try_from)
            .transpose()
    }

    fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::update(users::table.find(id.to_string()))
            .set(users::password_hash.eq(password_hash))
            .execute(&mut *connection)
            .map_err(from_diesel)?;
        Ok(())
    }

    /// Oldest first; users made within the same second come in username order.
    fn all_users(&self) -> Result<Vec<User>, StoreError> {
        let mut connection = self.connection()?;
        users::table
            .order((users::created_at.asc(), users::username.asc()))
            .select(UserRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    fn disable_user(&self, id: UserId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (id, now) = (id.to_string(), epoch(now));
        self.write(move |connection| {
            let exists = users::table
                .find(&id)
                .select(users::id)
                .first::<String>(connection)
                .optional()
                .map_err(from_diesel)?
                .is_some();
            if !exists {
                return Ok(false);
            }
            diesel::update(
                users::table
                    .filter(users::id.eq(&id))
                    .filter(users::disabled_at.is_null()),
            )
            .set(users::disabled_at.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            let valid_after = users::tokens_valid_after;
            diesel::update(
                users::table
                    .filter(users::id.eq(&id))
                    .filter(valid_after.is_null().or(valid_after.lt(now))),
            )
            .set(valid_after.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(&id))
                    .filter(sessions::ended_at.is_null()),
            )
            .set(sessions::ended_at.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            diesel::update(
                authorizations::table
                    .filter(authorizations::user_id.eq(&id))
                    .filter(authorizations::revoked_at.is_null()),
            )
            .set(authorizations::revoked_at.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            Ok(true)
        })
    }

    fn enable_user(&self, id: UserId) -> Result<bool, StoreError> {
        let id = id.to_string();
        let found = self.write_statement(move |connection| {
            diesel::update(users::table.find(id))
                .set(users::disabled_at.eq(None::<i64>))
                .execute(connection)
                .map_err(from_diesel)
        })?;
        Ok(found == 1)
    }

    /// One `DELETE`: sessions, consents, authorizations (with their codes and tokens),
    /// device authorizations and owned clients go by `ON DELETE CASCADE`.
    fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        let id = id.to_string();
        let deleted = self.write_statement(move |connection| {
            diesel::delete(users::table.find(id))
                .execute(connection)
                .map_err(from_diesel)
        })?;
        Ok(deleted == 1)
    }
}
