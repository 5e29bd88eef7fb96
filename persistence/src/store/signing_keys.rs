//! The `signing_keys` table. Rows are only added; a row's private key may be sealed again
//! under a new secret. The first key of each algorithm also takes
//! that algorithm's `first_for` slot (a unique column), so processes starting together on an
//! empty database store exactly one first key per algorithm.

use diesel::prelude::*;
use tessera_domain::signing::SigningAlg;
use tessera_domain::signing_key::{KeyProtection, SigningKey};
use tessera_domain::store::SigningKeyStore;
use tessera_domain::StoreError;

use super::{epoch, time};
use crate::error::{corrupt, from_diesel};
use crate::schema::signing_keys;
use crate::Database;

const TABLE: &str = "signing_keys";

/// A row of `signing_keys`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
struct SigningKeyRow {
    kid: String,
    alg: String,
    public_jwk: String,
    private_key: String,
    protection: String,
    first_for: Option<String>,
    created_at: i64,
    signs_from: i64,
}

impl SigningKeyRow {
    /// The row for `key`; `first` takes the first-key slot of its algorithm.
    fn new(key: &SigningKey, first: bool) -> Self {
        Self {
            kid: key.kid.clone(),
            alg: key.alg.as_str().to_owned(),
            public_jwk: key.public_jwk.to_string(),
            private_key: key.private_key.clone(),
            protection: key.protection.as_str().to_owned(),
            first_for: first.then(|| key.alg.as_str().to_owned()),
            created_at: epoch(key.created_at),
            signs_from: epoch(key.signs_from),
        }
    }
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = StoreError;

    fn try_from(row: SigningKeyRow) -> Result<Self, StoreError> {
        let alg = SigningAlg::parse(&row.alg)
            .ok_or_else(|| corrupt(TABLE, format_args!("unknown alg {:?}", row.alg)))?;
        let protection = KeyProtection::parse(&row.protection).ok_or_else(|| {
            corrupt(
                TABLE,
                format_args!("unknown protection {:?}", row.protection),
            )
        })?;
        let public_jwk = serde_json::from_str(&row.public_jwk)
            .map_err(|error| corrupt(TABLE, format_args!("public_jwk: {error}")))?;
        Ok(Self {
            kid: row.kid,
            alg,
            public_jwk,
            private_key: row.private_key,
            protection,
            created_at: time(TABLE, row.created_at)?,
            signs_from: time(TABLE, row.signs_from)?,
        })
    }
}

impl SigningKeyStore for Database {
    fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::insert_into(signing_keys::table)
            .values(SigningKeyRow::new(key, false))
            .execute(&mut *connection)
            .map(drop)
            .map_err(from_diesel)
    }

    /// A plain insert whose unique `first_for` decides: a `Conflict` means another process
    /// stored the first key of this algorithm (or this kid) first.
    fn insert_first_signing_key(&self, key: &SigningKey) -> Result<bool, StoreError> {
        let mut connection = self.connection()?;
        let inserted = diesel::insert_into(signing_keys::table)
            .values(SigningKeyRow::new(key, true))
            .execute(&mut *connection)
            .map_err(from_diesel);
        match inserted {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let mut connection = self.connection()?;
        signing_keys::table
            .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
            .select(SigningKeyRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?
            .into_iter()
            .map(SigningKey::try_from)
            .collect()
    }

    /// One conditional `UPDATE`: the row count says whether this call replaced the key.
    fn reseal_signing_key(&self, resealed: &SigningKey, was: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection()?;
        diesel::update(
            signing_keys::table
                .filter(signing_keys::kid.eq(&resealed.kid))
                .filter(signing_keys::private_key.eq(was)),
        )
        .set((
            signing_keys::private_key.eq(&resealed.private_key),
            signing_keys::protection.eq(resealed.protection.as_str()),
        ))
        .execute(&mut *connection)
        .map(|rows| rows == 1)
        .map_err(from_diesel)
    }
}
