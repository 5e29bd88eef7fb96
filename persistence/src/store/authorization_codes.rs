//! The `authorization_codes` table. A code is used up by one conditional `UPDATE`; its row
//! count decides which of any number of concurrent redemptions wins, and the same transaction
//! stores the tokens minted for the winner.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::code::{AuthorizationCode, CodeRedemption};
use tessera_domain::grant::GrantId;
use tessera_domain::pkce::{ChallengeMethod, CodeChallenge};
use tessera_domain::secret::TokenDigest;
use tessera_domain::store::{CodeStore, Mint};
use tessera_domain::user::UserId;
use tessera_domain::StoreError;

use super::tokens::store_minted;
use super::{digest, epoch, in_transaction, scope, time, uuid};
use crate::error::{corrupt, from_diesel};
use crate::schema::authorization_codes as codes;
use crate::Database;

const TABLE: &str = "authorization_codes";

/// A row of `authorization_codes`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = codes)]
struct CodeRow {
    digest: String,
    grant_id: String,
    client_id: String,
    user_id: String,
    redirect_uri: Option<String>,
    scope: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl From<&AuthorizationCode> for CodeRow {
    fn from(code: &AuthorizationCode) -> Self {
        Self {
            digest: code.digest.to_hex(),
            grant_id: code.grant_id.0.to_string(),
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
            nonce: code.nonce.clone(),
            created_at: epoch(code.created_at),
            expires_at: epoch(code.expires_at),
            used_at: None,
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
            grant_id: GrantId(uuid(TABLE, &row.grant_id)?),
            client_id: row.client_id,
            user_id: UserId(uuid(TABLE, &row.user_id)?),
            redirect_uri: row.redirect_uri,
            scope: scope(TABLE, &row.scope)?,
            challenge,
            nonce: row.nonce,
            created_at: time(TABLE, row.created_at)?,
            expires_at: time(TABLE, row.expires_at)?,
        })
    }
}

impl CodeStore for Database {
    fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::insert_into(codes::table)
            .values(CodeRow::from(code))
            .execute(&mut *connection)
            .map(drop)
            .map_err(from_diesel)
    }

    /// In one transaction: `UPDATE ... SET used_at = now WHERE digest, client_id match AND
    /// used_at IS NULL AND expires_at > now`; one row means this call won, so the code is read
    /// back, handed to `mint`, and the tokens it makes are stored (a refusal commits the mark
    /// alone). Otherwise the row tells a reuse by the same client (even after expiry) from
    /// everything else, which changes nothing. Any storage failure rolls it all back, so the
    /// code can still be redeemed.
    fn redeem_code(
        &self,
        digest: &TokenDigest,
        client_id: &str,
        now: DateTime<Utc>,
        mint: Mint<'_, AuthorizationCode>,
    ) -> Result<CodeRedemption, StoreError> {
        let hex = digest.to_hex();
        let now = epoch(now);
        let mut connection = self.connection()?;
        in_transaction(&mut connection, |connection| {
            let updated = diesel::update(
                codes::table
                    .filter(codes::digest.eq(&hex))
                    .filter(codes::client_id.eq(client_id))
                    .filter(codes::used_at.is_null())
                    .filter(codes::expires_at.gt(now)),
            )
            .set(codes::used_at.eq(now))
            .execute(connection)
            .map_err(from_diesel)?;
            let row = codes::table
                .find(&hex)
                .select(CodeRow::as_select())
                .first(connection)
                .optional()
                .map_err(from_diesel)?;
            Ok(match row {
                Some(row) if updated == 1 => {
                    let code = AuthorizationCode::try_from(row)?;
                    CodeRedemption::Redeemed(store_minted(connection, mint, &code)?)
                }
                None if updated == 1 => {
                    return Err(StoreError::Other(
                        "the redeemed code could not be read back".into(),
                    ))
                }
                Some(row) if row.client_id == client_id && row.used_at.is_some() => {
                    CodeRedemption::Reused(row.try_into()?)
                }
                // Unknown, expired, another client's, or deleted with its client just now.
                _ => CodeRedemption::Unusable,
            })
        })
    }
}
