use tessera_domain::authorization::{Authorization, AuthorizationId};
use tessera_domain::claim::Claim;
use tessera_domain::store::{AuthorizationStore as _, ClientStore as _, TokenStore as _};
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::{Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    assert_not_stored, assert_stored, at, claim_refresh, client, failed_storage_then_retry,
    raw_execute, rotated, scope, seed, seeded_token, seeded_tokens, stored, t0, token,
    twenty_racers_one_winner,
};

both_backends!(inserted_tokens_are_found_by_digest, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let access = token(TokenKind::Access, &seeded.grant);
    let refresh = Token {
        expires_at: at(30 * 86_400),
        ..token(TokenKind::Refresh, &seeded.grant)
    };
    db.insert_tokens(&[access.clone(), refresh.clone()])
        .unwrap();
    assert_stored(db, &access);
    assert_stored(db, &refresh);
    assert_eq!(db.find_token(&Secret::generate().digest()).unwrap(), None);
    db.insert_tokens(&[]).unwrap();
});

both_backends!(a_client_credentials_token_has_no_user, |db: TestDb| {
    let db = db.database();
    db.insert_client(&client("machine", None)).unwrap();
    let grant = Authorization::new("machine", None, scope("reports"), t0());
    db.insert_authorization(&grant).unwrap();
    let access = token(TokenKind::Access, &grant);
    db.insert_tokens(std::slice::from_ref(&access)).unwrap();
    let found = stored(db, &access);
    assert_eq!(found.user_id, None);
    assert_eq!(found, access);
});

both_backends!(tokens_are_inserted_all_or_none, |db: TestDb| {
    let db = db.database();
    let (seeded, existing) = seeded_token(db, TokenKind::Access);
    let fresh = token(TokenKind::Refresh, &seeded.grant);
    let error = db.insert_tokens(&[fresh.clone(), existing]).unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
    assert_not_stored(db, &fresh);
});

both_backends!(
    a_refresh_token_is_claimed_once_then_reported_as_taken,
    |db: TestDb| {
        let db = db.database();
        let (_, refresh) = seeded_token(db, TokenKind::Refresh);
        let rotated = rotated(&refresh, at(10));

        let first = claim_refresh(db, &refresh.digest, at(10), &[]);
        assert_eq!(first, Claim::Won(rotated.clone()));
        let second = claim_refresh(db, &refresh.digest, at(11), &[]);
        assert_eq!(second, Claim::Taken(rotated.clone()));
        assert_stored(db, &rotated);
    }
);

both_backends!(
    twenty_threads_claiming_one_refresh_token_produce_exactly_one_winner_whose_tokens_are_stored,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        let (winner, losers) = twenty_racers_one_winner(
            db,
            TokenKind::Refresh,
            &seeded.grant,
            |tokens| claim_refresh(db, &refresh.digest, at(1), tokens),
            |outcome| matches!(outcome, Claim::Won(_)),
        );
        let rotated = rotated(&refresh, at(1));
        assert_eq!(winner, Claim::Won(rotated.clone()));
        for outcome in losers {
            assert_eq!(outcome, Claim::Taken(rotated.clone()));
        }
    }
);

both_backends!(
    expired_revoked_and_access_tokens_cannot_be_claimed,
    |db: TestDb| {
        let db = db.database();
        let kinds = [TokenKind::Refresh, TokenKind::Refresh, TokenKind::Access];
        let (_, [expired, revoked, access]) = seeded_tokens(db, kinds);
        db.revoke_token(&revoked.digest, at(1)).unwrap();
        let cases = [
            (&expired, expired.expires_at),
            (&revoked, at(2)),
            (&access, at(2)),
            (&expired, at(3600 * 24)),
        ];
        for (token, now) in cases {
            let outcome = claim_refresh(db, &token.digest, now, &[]);
            assert_eq!(outcome, Claim::Unusable, "{token:?} at {now}");
            assert_eq!(stored(db, token).rotated_at, None);
        }
    }
);

both_backends!(
    a_refresh_token_of_a_revoked_authorization_cannot_be_claimed,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        db.revoke_authorization(seeded.grant.id, at(1)).unwrap();
        let outcome = claim_refresh(db, &refresh.digest, at(2), &[]);
        assert_eq!(outcome, Claim::Unusable);
        assert_eq!(stored(db, &refresh).revoked_at, Some(at(1)));
    }
);

both_backends!(an_unknown_refresh_token_is_unusable, |db: TestDb| {
    let db = db.database();
    seed(db);
    let unknown = Secret::generate().digest();
    assert_eq!(claim_refresh(db, &unknown, t0(), &[]), Claim::Unusable);
});

both_backends!(
    the_tokens_of_a_won_refresh_claim_are_stored,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        let access = token(TokenKind::Access, &seeded.grant);
        let next = token(TokenKind::Refresh, &seeded.grant);

        let claimed = claim_refresh(db, &refresh.digest, at(1), &[access.clone(), next.clone()]);
        assert_eq!(claimed, Claim::Won(rotated(&refresh, at(1))));
        assert_stored(db, &access);
        assert_stored(db, &next);
        // The new refresh token is claimed in its turn.
        let again = claim_refresh(db, &next.digest, at(2), &[]);
        assert_eq!(again, Claim::Won(rotated(&next, at(2))));
    }
);

/// Claims `refresh` with `minted`, which cannot be stored, and checks that the call fails
/// with `expected` and leaves the refresh token as it was, still claimable.
fn failed_storage_leaves_the_refresh_token_unrotated(
    db: &TestDb,
    grant: &Authorization,
    refresh: &Token,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
) {
    let next = token(TokenKind::Refresh, grant);
    let retry =
        failed_storage_then_retry(db, minted, expected, &[refresh], &next, |now, tokens| {
            db.database()
                .claim_refresh_token(&refresh.digest, now, tokens)
        });
    assert_eq!(retry, Claim::Won(rotated(refresh, at(2))));
}

both_backends!(
    a_refresh_token_stays_claimable_when_its_tokens_name_an_unknown_authorization,
    |db: TestDb| {
        let (seeded, refresh) = seeded_token(db.database(), TokenKind::Refresh);
        let access = token(TokenKind::Access, &seeded.grant);
        let orphan = Token {
            authorization_id: AuthorizationId::generate(),
            ..token(TokenKind::Refresh, &seeded.grant)
        };
        failed_storage_leaves_the_refresh_token_unrotated(
            &db,
            &seeded.grant,
            &refresh,
            &[access, orphan],
            |error| matches!(error, StoreError::Other(_)),
        );
    }
);

both_backends!(
    a_refresh_token_stays_claimable_when_its_tokens_repeat_a_stored_digest,
    |db: TestDb| {
        let (seeded, refresh) = seeded_token(db.database(), TokenKind::Refresh);
        let access = token(TokenKind::Access, &seeded.grant);
        // The presented token itself comes back: its digest is taken.
        failed_storage_leaves_the_refresh_token_unrotated(
            &db,
            &seeded.grant,
            &refresh,
            &[access, refresh.clone()],
            |error| matches!(error, StoreError::Conflict),
        );
    }
);

both_backends!(
    revoking_a_token_is_idempotent_and_keeps_the_first_time,
    |db: TestDb| {
        let db = db.database();
        let (_, [access, other]) = seeded_tokens(db, [TokenKind::Access, TokenKind::Access]);
        db.revoke_token(&access.digest, at(5)).unwrap();
        db.revoke_token(&access.digest, at(9)).unwrap();
        let found = stored(db, &access);
        assert_eq!(found.revoked_at, Some(at(5)));
        assert!(!found.is_active(at(6)));
        assert_stored(db, &other);
        db.revoke_token(&Secret::generate().digest(), at(5))
            .unwrap();
    }
);

both_backends!(
    a_token_row_of_unknown_kind_is_a_store_error,
    |db: TestDb| {
        let (_, access) = seeded_token(db.database(), TokenKind::Access);
        raw_execute(&db, "UPDATE tokens SET kind = 'magic'");
        let error = db.database().find_token(&access.digest).unwrap_err();
        assert!(matches!(error, StoreError::Other(_)), "{error:?}");
    }
);
