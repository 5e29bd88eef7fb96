//! The `revoked_jwts` table, the deny-list of JWT access tokens revoked before their expiry,
//! and the one read that checks what a JWT access token refers to: its client (by primary
//! key), its user, its family and its `jti` on the deny-list, each by primary key.

use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::query_dsl::LoadQuery;
use tessera_domain::jwt_access_token::{JwtAccessToken, JwtStanding};
use tessera_domain::store::RevokedJwtStore;
use tessera_domain::user::User;
use tessera_domain::StoreError;

use super::users::UserRow;
use super::{epoch, Statement};
use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::schema::{authorizations, clients, revoked_jwts, users};
use crate::Database;

/// What [`standing`] reads: denied, family live, the user.
pub(super) type StandingRow = (bool, bool, Option<UserRow>);

/// The standing of `token` as one `SELECT` from `clients` (no row when the client is gone):
/// whether its `jti` is denied, whether its family is live and its client's, and its user
/// (joined by id, so `NULL` when it names none or the user is gone).
pub(super) fn standing(
    token: &JwtAccessToken,
) -> impl Statement + LoadQuery<'static, DbConnection, StandingRow> {
    let denied = exists(revoked_jwts::table.filter(revoked_jwts::jti.eq(token.jti.clone())));
    let family_live = exists(
        authorizations::table
            .filter(
                authorizations::id
                    .nullable()
                    .eq(token.family.map(|family| family.0.to_string())),
            )
            .filter(authorizations::client_id.eq(token.client_id.clone()))
            .filter(authorizations::revoked_at.is_null()),
    );
    let user = token.user_id.map(|user| user.to_string());
    clients::table
        .left_join(users::table.on(users::id.nullable().eq(user)))
        .filter(clients::id.eq(token.client_id.clone()))
        .select((denied, family_live, Option::<UserRow>::as_select()))
}

impl RevokedJwtStore for Database {
    /// An `INSERT`; a `jti` already listed is a conflict, which leaves the first entry.
    fn revoke_jwt(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        let values = (
            revoked_jwts::jti.eq(jti.to_owned()),
            revoked_jwts::expires_at.eq(epoch(expires_at)),
        );
        let inserted = self.write(move |connection| {
            diesel::insert_into(revoked_jwts::table)
                .values(values)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        });
        match inserted {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn jwt_standing(&self, token: &JwtAccessToken) -> Result<Option<JwtStanding>, StoreError> {
        let mut connection = self.connection()?;
        let found = standing(token)
            .get_result::<StandingRow>(&mut *connection)
            .optional()
            .map_err(from_diesel)?;
        drop(connection);
        found
            .map(|(revoked, family_live, user)| {
                Ok(JwtStanding {
                    revoked,
                    family_live,
                    user: user.map(User::try_from).transpose()?,
                })
            })
            .transpose()
    }
}
