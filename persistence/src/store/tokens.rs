//! The `tokens` table. A token is revoked when it or its grant is; a refresh token is used up
//! by one conditional `UPDATE` whose row count decides which concurrent refresh wins, in the
//! same transaction that stores the tokens minted for the winner.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::grant::GrantId;
use tessera_domain::secret::TokenDigest;
use tessera_domain::store::{Mint, TokenStore};
use tessera_domain::token::{RefreshRotation, Token, TokenKind};
use tessera_domain::user::UserId;
use tessera_domain::{OAuthError, StoreError};

use super::{digest, epoch, in_transaction, optional_time, scope, time, uuid};
use crate::connection::DbConnection;
use crate::error::{corrupt, from_diesel};
use crate::schema::{grants, tokens};
use crate::Database;

const TABLE: &str = "tokens";
const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

/// A row of `tokens`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    digest: String,
    kind: String,
    grant_id: String,
    client_id: String,
    user_id: Option<String>,
    scope: String,
    issued_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    rotated_at: Option<i64>,
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
            grant_id: token.grant_id.0.to_string(),
            client_id: token.client_id.clone(),
            user_id: token.user_id.map(|user| user.to_string()),
            scope: token.scope.to_string(),
            issued_at: epoch(token.issued_at),
            expires_at: epoch(token.expires_at),
            revoked_at: token.revoked_at.map(epoch),
            rotated_at: token.rotated_at.map(epoch),
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
            grant_id: GrantId(uuid(TABLE, &row.grant_id)?),
            client_id: row.client_id,
            user_id: row
                .user_id
                .as_deref()
                .map(|user| uuid(TABLE, user).map(UserId))
                .transpose()?,
            scope: scope(TABLE, &row.scope)?,
            issued_at: time(TABLE, row.issued_at)?,
            expires_at: time(TABLE, row.expires_at)?,
            revoked_at: optional_time(TABLE, row.revoked_at)?,
            rotated_at: optional_time(TABLE, row.rotated_at)?,
        })
    }
}

/// A token row with its grant's revocation folded into `revoked_at`.
fn read_token(connection: &mut DbConnection, hex: &str) -> Result<Option<TokenRow>, StoreError> {
    let found = tokens::table
        .inner_join(grants::table)
        .filter(tokens::digest.eq(hex))
        .select((TokenRow::as_select(), grants::revoked_at))
        .first::<(TokenRow, Option<i64>)>(connection)
        .optional()
        .map_err(from_diesel)?;
    Ok(found.map(|(mut row, grant_revoked_at)| {
        row.revoked_at = row.revoked_at.or(grant_revoked_at);
        row
    }))
}

/// Inserts tokens on a connection that is already in a transaction.
pub(super) fn insert_all(
    connection: &mut DbConnection,
    tokens: &[Token],
) -> Result<(), StoreError> {
    for token in tokens {
        diesel::insert_into(tokens::table)
            .values(TokenRow::from(token))
            .execute(connection)
            .map_err(from_diesel)?;
    }
    Ok(())
}

/// Runs `mint` for a row this transaction just won and stores what it makes; a refusal is
/// passed back with nothing stored (the won row stays marked).
pub(super) fn store_minted<T>(
    connection: &mut DbConnection,
    mint: Mint<'_, T>,
    won: &T,
) -> Result<Result<(), OAuthError>, StoreError> {
    match mint(won) {
        Ok(minted) => Ok(Ok(insert_all(connection, &minted)?)),
        Err(refused) => Ok(Err(refused)),
    }
}

impl TokenStore for Database {
    fn insert_tokens(&self, tokens: &[Token]) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        in_transaction(&mut connection, |connection| insert_all(connection, tokens))
    }

    fn find_token(&self, digest: &TokenDigest) -> Result<Option<Token>, StoreError> {
        let mut connection = self.connection()?;
        let row = read_token(&mut connection, &digest.to_hex())?;
        drop(connection);
        row.map(Token::try_from).transpose()
    }

    /// In one transaction: `UPDATE ... SET rotated_at = now` where the refresh token is this
    /// client's, not rotated, not revoked, unexpired, and its grant is not revoked; one row
    /// means this call won, so the token is read back, handed to `mint`, and the tokens it
    /// makes are stored (a refusal commits the rotation alone). Otherwise a token of this
    /// client that was rotated before is reported as such, and anything else changes nothing.
    /// Any storage failure rolls it all back, so the token can still be rotated.
    fn rotate_refresh_token(
        &self,
        digest: &TokenDigest,
        client_id: &str,
        now: DateTime<Utc>,
        mint: Mint<'_, Token>,
    ) -> Result<RefreshRotation, StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        let mut connection = self.connection()?;
        in_transaction(&mut connection, |connection| {
            let live_grants = grants::table
                .filter(grants::revoked_at.is_null())
                .select(grants::id);
            let updated = diesel::update(
                tokens::table
                    .filter(tokens::digest.eq(&hex))
                    .filter(tokens::client_id.eq(client_id))
                    .filter(tokens::kind.eq(REFRESH))
                    .filter(tokens::rotated_at.is_null())
                    .filter(tokens::revoked_at.is_null())
                    .filter(tokens::expires_at.gt(now))
                    .filter(tokens::grant_id.eq_any(live_grants)),
            )
            .set(tokens::rotated_at.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            let row = read_token(connection, &hex)?;
            Ok(match row {
                Some(row) if updated == 1 => {
                    let token = Token::try_from(row)?;
                    RefreshRotation::Rotated(store_minted(connection, mint, &token)?)
                }
                None if updated == 1 => {
                    return Err(StoreError::Other(
                        "the rotated refresh token could not be read back".into(),
                    ))
                }
                Some(row) if row.client_id == client_id && row.rotated_at.is_some() => {
                    RefreshRotation::AlreadyRotated(row.try_into()?)
                }
                // Unknown, expired, revoked, not a refresh token, another client's, or deleted
                // with its client just now.
                _ => RefreshRotation::Unusable,
            })
        })
    }

    /// Keeps the first revocation time; an unknown token is no error.
    fn revoke_token(&self, digest: &TokenDigest, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::update(
            tokens::table
                .filter(tokens::digest.eq(digest.to_hex()))
                .filter(tokens::revoked_at.is_null()),
        )
        .set(tokens::revoked_at.eq(epoch(now)))
        .execute(&mut *connection)
        .map(drop)
        .map_err(from_diesel)
    }
}
