//! The domain's store contract (`tessera_domain::store_contract`), on both databases: the same
//! checks the in-memory fake passes.

use tessera_domain::store_contract::{self, CHECKS};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

macro_rules! contract {
    ($($check:ident),* $(,)?) => {
        $(
            both_backends!($check, |db: TestDb| {
                store_contract::$check(db.database()).unwrap();
            });
        )*

        #[test]
        fn every_check_of_the_contract_runs_here() {
            let here = [$(stringify!($check)),*];
            let all: Vec<&str> = CHECKS.iter().map(|(name, _)| *name).collect();
            assert_eq!(here.to_vec(), all);
        }
    };
}

contract!(
    duplicates_are_conflicts,
    tokens_are_stored_all_or_none,
    a_token_is_found_with_its_user,
    a_jwt_standing_is_read_with_its_family_user_and_revocation,
    a_code_is_claimed_once,
    a_client_is_managed_only_with_its_registration_token,
    an_initial_access_token_is_spent_once_per_use,
    a_client_without_an_owner_is_claimed_once,
    a_pushed_request_is_claimed_once,
    a_device_code_is_answered_polled_and_claimed_once,
    a_refresh_token_is_claimed_once,
    a_rotation_retry_replaces_the_earlier_pair,
    a_deleted_client_takes_what_it_was_issued,
    withdrawing_consent_revokes_that_users_tokens_only,
    a_throttle_locks_at_its_limit_with_doubling_lockouts,
    sessions_end_as_selected_and_only_their_users,
    a_password_hash_is_replaced,
    a_disabled_user_is_signed_out_and_loses_its_tokens,
    a_deleted_user_takes_everything_of_theirs,
    a_client_is_edited_by_its_owner_or_an_operator,
    a_client_secret_is_replaced_alone_by_its_owner_or_an_operator,
    a_resealed_signing_key_changes_only_its_private_key,
    a_purge_deletes_rows_past_their_use_and_keeps_reuse_evidence,
);
