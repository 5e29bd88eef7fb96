use tessera_domain::authorization::{Authorization, AuthorizationId};
use tessera_domain::claim::Claim;
use tessera_domain::code::AuthorizationCode;
use tessera_domain::store::CodeStore as _;
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::{Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    assert_stored, at, claim, code, count_tokens, failed_storage_then_retry, raw_execute, seed,
    seeded_code, seeded_code_and_token, t0, token, twenty_racers_one_winner, used,
};

both_backends!(
    a_code_is_claimed_once_then_reported_as_taken,
    |db: TestDb| {
        let db = db.database();
        let (_, code) = seeded_code(db);
        assert_eq!(db.find_code(&code.digest).unwrap(), Some(code.clone()));

        let first = claim(db, &code.digest, at(10), &[]);
        assert_eq!(first, Claim::Won(used(&code, at(10))));
        let second = claim(db, &code.digest, at(11), &[]);
        assert_eq!(second, Claim::Taken(used(&code, at(10))));
        assert_eq!(
            db.find_code(&code.digest).unwrap(),
            Some(used(&code, at(10)))
        );
    }
);

both_backends!(a_code_without_pkce_round_trips, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let plain = AuthorizationCode {
        redirect_uri: None,
        challenge: None,
        ..code(&seeded.grant)
    };
    db.insert_code(&plain).unwrap();
    assert_eq!(db.find_code(&plain.digest).unwrap(), Some(plain.clone()));
    assert_eq!(
        claim(db, &plain.digest, t0(), &[]),
        Claim::Won(used(&plain, t0()))
    );
});

both_backends!(a_duplicate_code_is_a_conflict, |db: TestDb| {
    let db = db.database();
    let (_, code) = seeded_code(db);
    let error = db.insert_code(&code).unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
});

both_backends!(an_expired_code_cannot_be_claimed, |db: TestDb| {
    let db = db.database();
    let (_, code) = seeded_code(db);
    for now in [code.expires_at, at(301), at(100_000)] {
        assert_eq!(
            claim(db, &code.digest, now, &[]),
            Claim::Unusable,
            "at {now}"
        );
        assert_eq!(db.find_code(&code.digest).unwrap(), Some(code.clone()));
    }
});

both_backends!(
    a_used_code_is_reported_as_taken_even_after_expiry,
    |db: TestDb| {
        let db = db.database();
        let (_, code) = seeded_code(db);
        claim(db, &code.digest, at(1), &[]);
        let late = claim(db, &code.digest, at(10_000), &[]);
        assert_eq!(late, Claim::Taken(used(&code, at(1))));
    }
);

both_backends!(an_unknown_code_is_unusable, |db: TestDb| {
    let db = db.database();
    seed(db);
    let unknown = Secret::generate().digest();
    assert_eq!(db.find_code(&unknown).unwrap(), None);
    assert_eq!(claim(db, &unknown, t0(), &[]), Claim::Unusable);
});

both_backends!(
    a_code_of_an_unknown_authorization_is_refused,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let orphan = AuthorizationCode {
            authorization_id: AuthorizationId::generate(),
            ..code(&seeded.grant)
        };
        let error = db.insert_code(&orphan).unwrap_err();
        assert!(matches!(error, StoreError::Other(_)), "{error:?}");
    }
);

both_backends!(
    the_tokens_of_a_won_claim_are_stored_and_a_lost_claim_stores_none,
    |db: TestDb| {
        let store = db.database();
        let (seeded, code) = seeded_code(store);
        let access = token(TokenKind::Access, &seeded.grant);
        let refresh = token(TokenKind::Refresh, &seeded.grant);

        let won = claim(
            store,
            &code.digest,
            at(1),
            &[access.clone(), refresh.clone()],
        );
        assert_eq!(won, Claim::Won(used(&code, at(1))));
        assert_stored(store, &access);
        assert_stored(store, &refresh);

        let late = token(TokenKind::Access, &seeded.grant);
        let lost = claim(store, &code.digest, at(2), std::slice::from_ref(&late));
        assert_eq!(lost, Claim::Taken(used(&code, at(1))));
        assert_eq!(count_tokens(&db), 2);
    }
);

/// Claims `code` with `minted`, which cannot be stored, and checks that the call fails with
/// `expected` and leaves the code claimable.
fn failed_storage_leaves_the_code_unused(
    db: &TestDb,
    grant: &Authorization,
    code: &AuthorizationCode,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
) {
    let access = token(TokenKind::Access, grant);
    let retry = failed_storage_then_retry(db, minted, expected, &[], &access, |now, tokens| {
        db.database().claim_code(&code.digest, now, tokens)
    });
    assert_eq!(retry, Claim::Won(used(code, at(2))));
}

both_backends!(
    a_code_stays_claimable_when_its_tokens_name_an_unknown_authorization,
    |db: TestDb| {
        let (seeded, code) = seeded_code(db.database());
        let access = token(TokenKind::Access, &seeded.grant);
        let orphan = Token {
            authorization_id: AuthorizationId::generate(),
            ..token(TokenKind::Refresh, &seeded.grant)
        };
        failed_storage_leaves_the_code_unused(
            &db,
            &seeded.grant,
            &code,
            &[access, orphan],
            |error| matches!(error, StoreError::Other(_)),
        );
    }
);

both_backends!(
    a_code_stays_claimable_when_its_tokens_repeat_a_stored_digest,
    |db: TestDb| {
        let (seeded, code, existing) = seeded_code_and_token(db.database(), TokenKind::Access);
        let fresh = token(TokenKind::Access, &seeded.grant);
        failed_storage_leaves_the_code_unused(
            &db,
            &seeded.grant,
            &code,
            &[fresh, existing],
            |error| matches!(error, StoreError::Conflict),
        );
    }
);

both_backends!(
    twenty_threads_claiming_one_code_produce_exactly_one_winner_whose_tokens_are_stored,
    |db: TestDb| {
        let db = db.database();
        let (seeded, code) = seeded_code(db);
        let (winner, losers) = twenty_racers_one_winner(
            db,
            TokenKind::Access,
            &seeded.grant,
            |tokens| claim(db, &code.digest, at(1), tokens),
            |outcome| matches!(outcome, Claim::Won(_)),
        );
        assert_eq!(winner, Claim::Won(used(&code, at(1))));
        for outcome in losers {
            assert_eq!(outcome, Claim::Taken(used(&code, at(1))));
        }
    }
);

both_backends!(
    a_corrupt_row_is_a_store_error_that_leaves_the_code_unused,
    |db: TestDb| {
        let store = db.database();
        let (_, code) = seeded_code(store);
        let set_method = |method: &str| {
            raw_execute(
                &db,
                &format!("UPDATE authorization_codes SET code_challenge_method = '{method}'"),
            );
        };
        set_method("S512");
        let error = store.claim_code(&code.digest, at(1), &[]).unwrap_err();
        assert!(
            matches!(&error, StoreError::Other(text) if text.contains("S512")),
            "{error:?}"
        );
        set_method("S256");
        let repaired = claim(store, &code.digest, at(2), &[]);
        assert_eq!(repaired, Claim::Won(used(&code, at(2))));
    }
);
