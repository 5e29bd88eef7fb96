//! The `users` table.

use diesel::prelude::*;
use tessera_domain::store::UserStore;
use tessera_domain::user::{User, UserId};
use tessera_domain::StoreError;

use super::{epoch, time, uuid};
use crate::error::from_diesel;
use crate::schema::users;
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
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.clone(),
            password_hash: user.password_hash.clone(),
            created_at: epoch(user.created_at),
            email: user.email.clone(),
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
}
