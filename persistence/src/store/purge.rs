//! Purging rows past their use ([`tessera_domain::purge`]). Each table's rule is one or two
//! `DELETE` statements of at most [`BATCH`] rows each, repeated until a batch comes up short.
//! Every statement commits on its own, so a purge never holds the SQLite write lock for more
//! than one batch and other writers get in between. Each statement filters on an index (most
//! of the `purge_indexes` migration); `query_plans` shows the engines use it.

use diesel::dsl::{exists, not};
use diesel::prelude::*;
use tessera_domain::purge::{
    AuthorizationCutoff, CodeCutoff, DeviceCodeCutoff, PushedRequestCutoff,
    RegistrationTokenCutoff, RevokedJwtCutoff, SessionCutoff, ThrottleCutoff, TokenCutoff,
};
use tessera_domain::store::PurgeStore;
use tessera_domain::StoreError;

use super::{epoch, run, Statement};
use crate::schema::{
    authorization_codes as codes, authorizations, device_codes, pushed_requests,
    registration_tokens, revoked_jwts, sessions, throttles, tokens,
};
use crate::Database;

/// The most rows one statement deletes.
pub(super) const BATCH: i64 = 1000;

/// Runs `delete_batch` until it deletes fewer than `size` rows; the rows deleted in all.
fn in_batches(
    size: i64,
    mut delete_batch: impl FnMut() -> Result<usize, StoreError>,
) -> Result<u64, StoreError> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut total = 0_u64;
    loop {
        let deleted = delete_batch()?;
        total = total.saturating_add(u64::try_from(deleted).unwrap_or(u64::MAX));
        if deleted < size {
            return Ok(total);
        }
    }
}

/// Unused codes that expired at or before `expired_by` (index on `used_at, expires_at`).
pub(super) fn unused_codes(expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(codes as batch);
    diesel::delete(
        codes::table.filter(
            codes::digest.eq_any(
                batch
                    .select(batch.field(codes::digest))
                    .filter(batch.field(codes::used_at).is_null())
                    .filter(batch.field(codes::expires_at).le(expired_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Used codes used at or before `used_by` (index on `used_at, expires_at`).
pub(super) fn used_codes(used_by: i64) -> impl Statement {
    let batch = diesel::alias!(codes as batch);
    diesel::delete(
        codes::table.filter(
            codes::digest.eq_any(
                batch
                    .select(batch.field(codes::digest))
                    .filter(batch.field(codes::used_at).le(used_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Unrotated tokens that expired at or before `expired_by` (index on `rotated_at,
/// expires_at`).
pub(super) fn unrotated_tokens(expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(tokens as batch);
    diesel::delete(
        tokens::table.filter(
            tokens::digest.eq_any(
                batch
                    .select(batch.field(tokens::digest))
                    .filter(batch.field(tokens::rotated_at).is_null())
                    .filter(batch.field(tokens::expires_at).le(expired_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Rotated refresh tokens rotated at or before `rotated_by` and expired at or before
/// `expired_by` (index on `rotated_at, expires_at`).
pub(super) fn rotated_tokens(rotated_by: i64, expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(tokens as batch);
    diesel::delete(
        tokens::table.filter(
            tokens::digest.eq_any(
                batch
                    .select(batch.field(tokens::digest))
                    .filter(batch.field(tokens::rotated_at).le(rotated_by))
                    .filter(batch.field(tokens::expires_at).le(expired_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Authorizations given at or before `created_by` that no code or token refers to (index on
/// `created_at`; the references by the `authorization_id` indexes). Nothing is left for the
/// foreign keys to cascade to.
pub(super) fn unreferenced_authorizations(created_by: i64) -> impl Statement {
    let batch = diesel::alias!(authorizations as batch);
    let id = batch.field(authorizations::id);
    let has_codes = exists(codes::table.filter(codes::authorization_id.eq(id)));
    let has_tokens = exists(tokens::table.filter(tokens::authorization_id.eq(id)));
    diesel::delete(
        authorizations::table.filter(
            authorizations::id.eq_any(
                batch
                    .select(id)
                    .filter(batch.field(authorizations::created_at).le(created_by))
                    .filter(not(has_tokens))
                    .filter(not(has_codes))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Counters whose window started at or before `window_started_by` and that were never
/// locked or locked until at or before `unlocked_by` (index on `window_started_at`).
pub(super) fn spent_throttles(window_started_by: i64, unlocked_by: i64) -> impl Statement {
    let batch = diesel::alias!(throttles as batch);
    let locked_until = batch.field(throttles::locked_until);
    diesel::delete(
        throttles::table.filter(
            throttles::key.eq_any(
                batch
                    .select(batch.field(throttles::key))
                    .filter(
                        batch
                            .field(throttles::window_started_at)
                            .le(window_started_by),
                    )
                    .filter(locked_until.is_null().or(locked_until.le(unlocked_by)))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Sessions ended at or before `ended_by` (index on `ended_at`).
pub(super) fn ended_sessions(ended_by: i64) -> impl Statement {
    let batch = diesel::alias!(sessions as batch);
    diesel::delete(
        sessions::table.filter(
            sessions::id.eq_any(
                batch
                    .select(batch.field(sessions::id))
                    .filter(batch.field(sessions::ended_at).le(ended_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Sessions started at or before `started_by` (index on `started_at`).
pub(super) fn expired_sessions(started_by: i64) -> impl Statement {
    let batch = diesel::alias!(sessions as batch);
    diesel::delete(
        sessions::table.filter(
            sessions::id.eq_any(
                batch
                    .select(batch.field(sessions::id))
                    .filter(batch.field(sessions::started_at).le(started_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Deny-list entries of JWTs that expired at or before `expired_by` (index on `expires_at`).
pub(super) fn expired_revoked_jwts(expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(revoked_jwts as batch);
    diesel::delete(
        revoked_jwts::table.filter(
            revoked_jwts::jti.eq_any(
                batch
                    .select(batch.field(revoked_jwts::jti))
                    .filter(batch.field(revoked_jwts::expires_at).le(expired_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Pushed authorization requests that expired at or before `expired_by`, used or not (index on
/// `expires_at`).
pub(super) fn expired_pushed_requests(expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(pushed_requests as batch);
    diesel::delete(
        pushed_requests::table.filter(
            pushed_requests::digest.eq_any(
                batch
                    .select(batch.field(pushed_requests::digest))
                    .filter(batch.field(pushed_requests::expires_at).le(expired_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Device authorizations that expired at or before `expired_by`, whatever their state (index
/// on `expires_at`).
pub(super) fn expired_device_codes(expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(device_codes as batch);
    diesel::delete(
        device_codes::table.filter(
            device_codes::digest.eq_any(
                batch
                    .select(batch.field(device_codes::digest))
                    .filter(batch.field(device_codes::expires_at).le(expired_by))
                    .limit(BATCH),
            ),
        ),
    )
}

/// Initial access tokens that expired at or before `expired_by` or have no use left,
/// `uses_left = 0` (NULL in either column: never by that; an index on each).
pub(super) fn spent_registration_tokens(expired_by: i64) -> impl Statement {
    let batch = diesel::alias!(registration_tokens as batch);
    let expired = batch.field(registration_tokens::expires_at).le(expired_by);
    let used_up = batch.field(registration_tokens::uses_left).eq(0);
    diesel::delete(
        registration_tokens::table.filter(
            registration_tokens::digest.eq_any(
                batch
                    .select(batch.field(registration_tokens::digest))
                    .filter(expired.or(used_up))
                    .limit(BATCH),
            ),
        ),
    )
}

impl PurgeStore for Database {
    fn purge_codes(&self, cutoff: &CodeCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        let unused = in_batches(BATCH, || {
            run(&mut connection, unused_codes(epoch(cutoff.expired_by)))
        })?;
        let used = in_batches(BATCH, || {
            run(&mut connection, used_codes(epoch(cutoff.used_by)))
        })?;
        Ok(unused + used)
    }

    fn purge_tokens(&self, cutoff: &TokenCutoff) -> Result<u64, StoreError> {
        let expired_by = epoch(cutoff.expired_by);
        let mut connection = self.connection()?;
        let unrotated = in_batches(BATCH, || run(&mut connection, unrotated_tokens(expired_by)))?;
        let rotated = in_batches(BATCH, || {
            run(
                &mut connection,
                rotated_tokens(epoch(cutoff.rotated_by), expired_by),
            )
        })?;
        Ok(unrotated + rotated)
    }

    fn purge_authorizations(&self, cutoff: &AuthorizationCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        in_batches(BATCH, || {
            run(
                &mut connection,
                unreferenced_authorizations(epoch(cutoff.created_by)),
            )
        })
    }

    fn purge_throttles(&self, cutoff: &ThrottleCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        in_batches(BATCH, || {
            run(
                &mut connection,
                spent_throttles(epoch(cutoff.window_started_by), epoch(cutoff.unlocked_by)),
            )
        })
    }

    fn purge_sessions(&self, cutoff: &SessionCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        let ended = in_batches(BATCH, || {
            run(&mut connection, ended_sessions(epoch(cutoff.ended_by)))
        })?;
        let expired = in_batches(BATCH, || {
            run(&mut connection, expired_sessions(epoch(cutoff.started_by)))
        })?;
        Ok(ended + expired)
    }

    fn purge_revoked_jwts(&self, cutoff: &RevokedJwtCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        in_batches(BATCH, || {
            run(
                &mut connection,
                expired_revoked_jwts(epoch(cutoff.expired_by)),
            )
        })
    }

    fn purge_pushed_requests(&self, cutoff: &PushedRequestCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        in_batches(BATCH, || {
            run(
                &mut connection,
                expired_pushed_requests(epoch(cutoff.expired_by)),
            )
        })
    }

    fn purge_device_codes(&self, cutoff: &DeviceCodeCutoff) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        in_batches(BATCH, || {
            run(
                &mut connection,
                expired_device_codes(epoch(cutoff.expired_by)),
            )
        })
    }

    fn purge_registration_tokens(
        &self,
        cutoff: &RegistrationTokenCutoff,
    ) -> Result<u64, StoreError> {
        let mut connection = self.connection()?;
        in_batches(BATCH, || {
            run(
                &mut connection,
                spent_registration_tokens(epoch(cutoff.expired_by)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `in_batches` of 2 over batches that delete `sizes` rows in turn; the total and
    /// how many batches ran.
    fn batches(sizes: &[usize]) -> (u64, usize) {
        let mut ran = 0;
        let total = in_batches(2, || {
            ran += 1;
            Ok(sizes[ran - 1])
        })
        .unwrap();
        (total, ran)
    }

    #[test]
    fn batches_repeat_until_one_comes_up_short() {
        assert_eq!(batches(&[0]), (0, 1));
        assert_eq!(batches(&[1]), (1, 1));
        assert_eq!(batches(&[2, 2, 1]), (5, 3));
        assert_eq!(batches(&[2, 0]), (2, 2));
    }

    #[test]
    fn a_failing_batch_stops_the_purge_of_its_table() {
        let mut ran = 0;
        let result = in_batches(2, || {
            ran += 1;
            if ran == 1 {
                Ok(2)
            } else {
                Err(StoreError::Unavailable("locked".into()))
            }
        });
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
        assert_eq!(ran, 2);
    }
}
