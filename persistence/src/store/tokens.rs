//! The `tokens` table. A token is revoked when it or its authorization is; a refresh token is used up
//! by one conditional `UPDATE` whose row count decides which concurrent refresh wins, in the
//! same transaction that stores the tokens minted for the winner.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::authorization::AuthorizationId;
use tessera_domain::claim::Claim;
use tessera_domain::secret::TokenDigest;
use tessera_domain::store::TokenStore;
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::user::User;
use tessera_domain::StoreError;

use super::users::UserRow;
use super::{
    claim_once, digest, epoch, optional_time, optional_user, run, scope, time, uuid, Statement,
};
use crate::connection::DbConnection;
use crate::error::{corrupt, from_diesel};
use crate::schema::{authorizations, tokens, users};
use crate::Database;

const TABLE: &str = "tokens";
const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

/// A row of `tokens`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
pub(super) struct TokenRow {
    pub(super) digest: String,
    pub(super) kind: String,
    pub(super) authorization_id: String,
    pub(super) client_id: String,
    pub(super) user_id: Option<String>,
    pub(super) scope: String,
    pub(super) issued_at: i64,
    pub(super) expires_at: i64,
    pub(super) revoked_at: Option<i64>,
    pub(super) rotated_at: Option<i64>,
    pub(super) parent_digest: Option<String>,
}

impl From<&Token> for TokenRow {
    fn from(token: &Token) -> Self {
        Self {
            digest: token.digest.to_hex(),
            kind: match token.kind {
                TokenKind::Access => ACCESS,
                TokenKind::Refresh => REFRESH,
            }
            .to_owned(),
            authorization_id: token.authorization_id.0.to_string(),
            client_id: token.client_id.clone(),
            user_id: token.user_id.map(|user| user.to_string()),
            scope: token.scope.to_string(),
            issued_at: epoch(token.issued_at),
            expires_at: epoch(token.expires_at),
            revoked_at: token.revoked_at.map(epoch),
            rotated_at: token.rotated_at.map(epoch),
            parent_digest: token.parent.as_ref().map(TokenDigest::to_hex),
        }
    }
}

impl TryFrom<TokenRow> for Token {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(Self {
            digest: digest(TABLE, &row.digest)?,
            kind: match row.kind.as_str() {
                ACCESS => TokenKind::Access,
                REFRESH => TokenKind::Refresh,
                other => return Err(corrupt(TABLE, format_args!("unknown kind {other:?}"))),
            },
            authorization_id: AuthorizationId(uuid(TABLE, &row.authorization_id)?),
            client_id: row.client_id,
            user_id: optional_user(TABLE, row.user_id.as_deref())?,
            scope: scope(TABLE, &row.scope)?,
            issued_at: time(TABLE, row.issued_at)?,
            expires_at: time(TABLE, row.expires_at)?,
            revoked_at: optional_time(TABLE, row.revoked_at)?,
            rotated_at: optional_time(TABLE, row.rotated_at)?,
            parent: row
                .parent_digest
                .as_deref()
                .map(|hex| digest(TABLE, hex))
                .transpose()?,
        })
    }
}

/// A token row with its authorization's revocation folded into `revoked_at`.
fn read_token(connection: &mut DbConnection, hex: &str) -> Result<Option<TokenRow>, StoreError> {
    let found = tokens::table
        .inner_join(authorizations::table)
        .filter(tokens::digest.eq(hex))
        .select((TokenRow::as_select(), authorizations::revoked_at))
        .first::<(TokenRow, Option<i64>)>(connection)
        .optional()
        .map_err(from_diesel)?;
    Ok(found.map(|(mut row, grant_revoked_at)| {
        row.revoked_at = row.revoked_at.or(grant_revoked_at);
        row
    }))
}

/// [`read_token`] with the token's user, if it has one that still exists, in one query.
fn read_token_and_user(
    connection: &mut DbConnection,
    hex: &str,
) -> Result<Option<(TokenRow, Option<UserRow>)>, StoreError> {
    let found = tokens::table
        .inner_join(authorizations::table)
        .left_join(users::table.on(tokens::user_id.eq(users::id.nullable())))
        .filter(tokens::digest.eq(hex))
        .select((
            TokenRow::as_select(),
            authorizations::revoked_at,
            Option::<UserRow>::as_select(),
        ))
        .first::<(TokenRow, Option<i64>, Option<UserRow>)>(connection)
        .optional()
        .map_err(from_diesel)?;
    Ok(found.map(|(mut row, grant_revoked_at, user)| {
        row.revoked_at = row.revoked_at.or(grant_revoked_at);
        (row, user)
    }))
}

/// The claim of the refresh token with digest `hex` at `now`: marks it rotated if it is an
/// unrotated, unrevoked, unexpired refresh token of an unrevoked authorization. It finds the
/// token by digest and its authorization by primary key (a correlated lookup), so it costs
/// the same however many tokens and authorizations there are.
pub(super) fn rotation(hex: String, now: i64) -> impl Statement {
    let authorization_live = diesel::dsl::exists(
        authorizations::table
            .filter(authorizations::id.eq(tokens::authorization_id))
            .filter(authorizations::revoked_at.is_null()),
    );
    diesel::update(
        tokens::table
            .filter(tokens::digest.eq(hex))
            .filter(tokens::kind.eq(REFRESH))
            .filter(tokens::rotated_at.is_null())
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt(now))
            .filter(authorization_live),
    )
    .set(tokens::rotated_at.eq(now))
}

/// Revokes, at `now`, the unrevoked tokens minted by a rotation of the refresh token with
/// digest `parent` (found by `parent_digest`).
pub(super) fn revoke_minted_from(parent: String, now: i64) -> impl Statement {
    diesel::update(
        tokens::table
            .filter(tokens::parent_digest.eq(parent))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(now))
}

/// The rows of `tokens`, to be inserted by [`insert_all`] (owned, so a write can carry them
/// to the writer).
pub(super) fn rows(tokens: &[Token]) -> Vec<TokenRow> {
    tokens.iter().map(TokenRow::from).collect()
}

/// Inserts token rows on a connection that is already in a transaction.
pub(super) fn insert_all(
    connection: &mut DbConnection,
    rows: &[TokenRow],
) -> Result<(), StoreError> {
    for row in rows {
        diesel::insert_into(tokens::table)
            .values(row)
            .execute(connection)
            .map_err(from_diesel)?;
    }
    Ok(())
}

impl TokenStore for Database {
    fn insert_tokens(&self, tokens: &[Token]) -> Result<(), StoreError> {
        let rows = rows(tokens);
        self.write(move |connection| insert_all(connection, &rows))
    }

    fn find_token(&self, digest: &TokenDigest) -> Result<Option<Token>, StoreError> {
        let mut connection = self.connection()?;
        let row = read_token(&mut connection, &digest.to_hex())?;
        drop(connection);
        row.map(Token::try_from).transpose()
    }

    fn find_token_and_user(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<(Token, Option<User>)>, StoreError> {
        let mut connection = self.connection()?;
        let found = read_token_and_user(&mut connection, &digest.to_hex())?;
        drop(connection);
        found
            .map(|(token, user)| Ok((token.try_into()?, user.map(User::try_from).transpose()?)))
            .transpose()
    }

    /// `UPDATE ... SET rotated_at = now` where the refresh token is unrotated, unrevoked and
    /// unexpired and its authorization unrevoked, in the transaction that stores `tokens` when
    /// it wins.
    fn claim_refresh_token(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<Claim<Token>, StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        let rows = rows(tokens);
        self.write_statement(move |connection| {
            claim_once(
                connection,
                |connection| run(connection, rotation(hex.clone(), now)),
                |connection| {
                    read_token(connection, &hex)?
                        .map(Token::try_from)
                        .transpose()
                },
                |token| token.kind == TokenKind::Refresh && token.rotated_at.is_some(),
                &rows,
            )
        })
    }

    /// Keeps the first revocation time; an unknown token is no error.
    fn revoke_token(&self, digest: &TokenDigest, now: DateTime<Utc>) -> Result<(), StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        self.write_statement(move |connection| {
            diesel::update(
                tokens::table
                    .filter(tokens::digest.eq(hex))
                    .filter(tokens::revoked_at.is_null()),
            )
            .set(tokens::revoked_at.eq(now))
            .execute(connection)
            .map(drop)
            .map_err(from_diesel)
        })
    }

    /// Takes the parent's row lock first (a no-op `UPDATE`), so concurrent retries of one
    /// rotation run one after the other on both backends.
    fn retry_rotation(
        &self,
        parent: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<bool, StoreError> {
        let parent = parent.to_hex();
        let now = epoch(now);
        let rows = rows(tokens);
        self.write(move |connection| {
            diesel::update(tokens::table.filter(tokens::digest.eq(&parent)))
                .set(tokens::rotated_at.eq(tokens::rotated_at))
                .execute(connection)
                .map_err(from_diesel)?;
            let moved_on = diesel::select(diesel::dsl::exists(
                tokens::table
                    .filter(tokens::parent_digest.eq(&parent))
                    .filter(tokens::rotated_at.is_not_null()),
            ))
            .get_result::<bool>(connection)
            .map_err(from_diesel)?;
            if moved_on {
                return Ok(false);
            }
            run(connection, revoke_minted_from(parent.clone(), now))?;
            insert_all(connection, &rows)?;
            Ok(true)
        })
    }
}
