//! The `authorization_codes` table. A code is used up by one conditional `UPDATE`; its row
//! count decides which of any number of concurrent redemptions wins, and the same transaction
//! stores the tokens minted for the winner ([`claim_once`](super::claim_once)).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::authorization::AuthorizationId;
use tessera_domain::claim::Claim;
use tessera_domain::code::AuthorizationCode;
use tessera_domain::pkce::{ChallengeMethod, CodeChallenge};
use tessera_domain::secret::TokenDigest;
use tessera_domain::store::CodeStore;
use tessera_domain::token::Token;
use tessera_domain::user::UserId;
use tessera_domain::StoreError;

use super::tokens;
use super::{claim_once, digest, epoch, optional_time, scope, time, uuid};
use crate::connection::DbConnection;
use crate::error::{corrupt, from_diesel};
use crate::schema::authorization_codes as codes;
use crate::Database;

const TABLE: &str = "authorization_codes";

/// A row of `authorization_codes`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = codes)]
struct CodeRow {
    digest: String,
    authorization_id: String,
    client_id: String,
    user_id: String,
    redirect_uri: Option<String>,
    scope: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl From<&AuthorizationCode> for CodeRow {
    fn from(code: &AuthorizationCode) -> Self {
        Self {
            digest: code.digest.to_hex(),
            authorization_id: code.authorization_id.0.to_string(),
            client_id: code.client_id.clone(),
            user_id: code.user_id.to_string(),
            redirect_uri: code.redirect_uri.clone(),
            scope: code.scope.to_string(),
            code_challenge: code
                .challenge
                .as_ref()
                .map(|challenge| challenge.value.clone()),
            code_challenge_method: code
                .challenge
                .as_ref()
                .map(|challenge| challenge.method.as_str().to_owned()),
            created_at: epoch(code.created_at),
            expires_at: epoch(code.expires_at),
            used_at: code.used_at.map(epoch),
        }
    }
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> Result<Self, StoreError> {
        let challenge = match (row.code_challenge, row.code_challenge_method) {
            (None, None) => None,
            (Some(value), Some(method)) => Some(CodeChallenge {
                value,
                method: ChallengeMethod::parse(&method).ok_or_else(|| {
                    corrupt(TABLE, format_args!("unknown challenge method {method:?}"))
                })?,
            }),
            _ => {
                return Err(corrupt(
                    TABLE,
                    "challenge without method, or method without challenge",
                ))
            }
        };
        Ok(Self {
            digest: digest(TABLE, &row.digest)?,
            authorization_id: AuthorizationId(uuid(TABLE, &row.authorization_id)?),
            client_id: row.client_id,
            user_id: UserId(uuid(TABLE, &row.user_id)?),
            redirect_uri: row.redirect_uri,
            scope: scope(TABLE, &row.scope)?,
            challenge,
            created_at: time(TABLE, row.created_at)?,
            expires_at: time(TABLE, row.expires_at)?,
            used_at: optional_time(TABLE, row.used_at)?,
        })
    }
}

impl CodeStore for Database {
    fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        let row = CodeRow::from(code);
        self.write_statement(move |connection| {
            diesel::insert_into(codes::table)
                .values(row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn find_code(&self, digest: &TokenDigest) -> Result<Option<AuthorizationCode>, StoreError> {
        let mut connection = self.connection()?;
        read_code(&mut connection, &digest.to_hex())
    }

    /// `UPDATE ... SET used_at = now WHERE digest matches AND used_at IS NULL AND expires_at >
    /// now`, in the transaction that stores `tokens` when it wins.
    fn claim_code(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        tokens: &[Token],
    ) -> Result<Claim<AuthorizationCode>, StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        let rows = tokens::rows(tokens);
        self.write_statement(move |connection| {
            claim_once(
                connection,
                |connection| {
                    diesel::update(
                        codes::table
                            .filter(codes::digest.eq(&hex))
                            .filter(codes::used_at.is_null())
                            .filter(codes::expires_at.gt(now)),
                    )
                    .set(codes::used_at.eq(now))
                    .execute(connection)
                    .map_err(from_diesel)
                },
                |connection| read_code(connection, &hex),
                |code| code.used_at.is_some(),
                &rows,
            )
        })
    }
}

/// The code with this digest (hex), used or not.
fn read_code(
    connection: &mut DbConnection,
    hex: &str,
) -> Result<Option<AuthorizationCode>, StoreError> {
    codes::table
        .find(hex)
        .select(CodeRow::as_select())
        .first(connection)
        .optional()
        .map_err(from_diesel)?
        .map(AuthorizationCode::try_from)
        .transpose()
}
