use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;

use tessera_domain::code::{AuthorizationCode, CodeRedemption};
use tessera_domain::grant::{Grant, GrantId};
use tessera_domain::store::{ClientStore as _, CodeStore as _, TokenStore as _};
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::{OAuthError, Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    at, client, code, count_tokens, must_not_mint, no_tokens, raw_execute, seed, t0, token,
};

both_backends!(
    a_code_is_redeemed_once_then_reported_as_reused,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();

        let mut minted_for = None;
        let first = db
            .redeem_code(&code.digest, &seeded.client.id, at(10), &mut |used| {
                minted_for = Some(used.clone());
                Ok(Vec::new())
            })
            .unwrap();
        assert_eq!(first, CodeRedemption::Redeemed(Ok(())));
        assert_eq!(minted_for, Some(code.clone()));
        let second = db
            .redeem_code(&code.digest, &seeded.client.id, at(11), &mut must_not_mint)
            .unwrap();
        assert_eq!(second, CodeRedemption::Reused(code));
    }
);

both_backends!(a_code_without_pkce_or_nonce_round_trips, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let plain = AuthorizationCode {
        redirect_uri: None,
        challenge: None,
        nonce: None,
        ..code(&seeded.grant)
    };
    db.insert_code(&plain).unwrap();
    let mut minted_for = None;
    let redeemed = db
        .redeem_code(&plain.digest, &seeded.client.id, t0(), &mut |used| {
            minted_for = Some(used.clone());
            Ok(Vec::new())
        })
        .unwrap();
    assert_eq!(redeemed, CodeRedemption::Redeemed(Ok(())));
    assert_eq!(minted_for, Some(plain));
});

both_backends!(
    a_code_presented_by_another_client_is_unusable_and_not_burned,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        db.insert_client(&client("client-b", None)).unwrap();
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();

        let stolen = db
            .redeem_code(&code.digest, "client-b", at(10), &mut must_not_mint)
            .unwrap();
        assert_eq!(stolen, CodeRedemption::Unusable);
        let owner = db
            .redeem_code(&code.digest, &seeded.client.id, at(11), &mut no_tokens)
            .unwrap();
        assert_eq!(owner, CodeRedemption::Redeemed(Ok(())));
        // Even once used, another client learns nothing from it.
        let again = db
            .redeem_code(&code.digest, "client-b", at(12), &mut must_not_mint)
            .unwrap();
        assert_eq!(again, CodeRedemption::Unusable);
    }
);

both_backends!(an_expired_code_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let code = code(&seeded.grant);
    db.insert_code(&code).unwrap();
    for now in [code.expires_at, at(301), at(100_000)] {
        let late = db
            .redeem_code(&code.digest, &seeded.client.id, now, &mut must_not_mint)
            .unwrap();
        assert_eq!(late, CodeRedemption::Unusable, "at {now}");
    }
});

both_backends!(
    a_used_code_is_reported_as_reused_even_after_expiry,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();
        db.redeem_code(&code.digest, &seeded.client.id, at(1), &mut no_tokens)
            .unwrap();
        let late = db
            .redeem_code(
                &code.digest,
                &seeded.client.id,
                at(10_000),
                &mut must_not_mint,
            )
            .unwrap();
        assert_eq!(late, CodeRedemption::Reused(code));
    }
);

both_backends!(an_unknown_code_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let unknown = Secret::generate().digest();
    let redemption = db
        .redeem_code(&unknown, &seeded.client.id, t0(), &mut must_not_mint)
        .unwrap();
    assert_eq!(redemption, CodeRedemption::Unusable);
});

both_backends!(a_code_of_an_unknown_grant_is_refused, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let orphan = AuthorizationCode {
        grant_id: GrantId::generate(),
        ..code(&seeded.grant)
    };
    let error = db.insert_code(&orphan).unwrap_err();
    assert!(matches!(error, StoreError::Other(_)), "{error:?}");
});

both_backends!(
    the_tokens_minted_for_a_redeemed_code_are_stored,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();
        let access = token(TokenKind::Access, &seeded.grant);
        let refresh = token(TokenKind::Refresh, &seeded.grant);

        let redemption = db
            .redeem_code(&code.digest, &seeded.client.id, at(1), &mut |_| {
                Ok(vec![access.clone(), refresh.clone()])
            })
            .unwrap();
        assert_eq!(redemption, CodeRedemption::Redeemed(Ok(())));
        assert_eq!(db.find_token(&access.digest).unwrap(), Some(access));
        assert_eq!(db.find_token(&refresh.digest).unwrap(), Some(refresh));
    }
);

both_backends!(
    a_refused_mint_uses_the_code_up_and_stores_no_tokens,
    |db: TestDb| {
        let seeded = seed(db.database());
        let code = code(&seeded.grant);
        db.database().insert_code(&code).unwrap();
        let refusal = OAuthError::invalid_grant("The code verifier does not match.");

        let redemption = db
            .database()
            .redeem_code(&code.digest, &seeded.client.id, at(1), &mut |_| {
                Err(refusal.clone())
            })
            .unwrap();
        assert_eq!(redemption, CodeRedemption::Redeemed(Err(refusal)));
        assert_eq!(count_tokens(&db), 0);
        let retry = db
            .database()
            .redeem_code(&code.digest, &seeded.client.id, at(2), &mut must_not_mint)
            .unwrap();
        assert_eq!(retry, CodeRedemption::Reused(code));
    }
);

/// Redeems `code` with a mint that makes `minted`, which cannot be stored, and checks that
/// the call fails with `expected` and leaves the code redeemable.
#[expect(clippy::unwrap_used, reason = "part of a test: a failure fails it")]
fn failed_storage_leaves_the_code_unused(
    db: &TestDb,
    grant: &Grant,
    code: &AuthorizationCode,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
) {
    let stored_before = count_tokens(db);
    let error = db
        .database()
        .redeem_code(&code.digest, &code.client_id, at(1), &mut |_| {
            Ok(minted.to_vec())
        })
        .unwrap_err();
    assert!(expected(&error), "{error:?}");
    assert_eq!(count_tokens(db), stored_before);

    let access = token(TokenKind::Access, grant);
    let retry = db
        .database()
        .redeem_code(&code.digest, &code.client_id, at(2), &mut |_| {
            Ok(vec![access.clone()])
        })
        .unwrap();
    assert_eq!(retry, CodeRedemption::Redeemed(Ok(())));
    assert_eq!(
        db.database().find_token(&access.digest).unwrap(),
        Some(access)
    );
}

both_backends!(
    a_code_stays_redeemable_when_its_tokens_name_an_unknown_grant,
    |db: TestDb| {
        let seeded = seed(db.database());
        let code = code(&seeded.grant);
        db.database().insert_code(&code).unwrap();
        let access = token(TokenKind::Access, &seeded.grant);
        let orphan = Token {
            grant_id: GrantId::generate(),
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
    a_code_stays_redeemable_when_its_tokens_repeat_a_stored_digest,
    |db: TestDb| {
        let seeded = seed(db.database());
        let code = code(&seeded.grant);
        db.database().insert_code(&code).unwrap();
        let existing = token(TokenKind::Access, &seeded.grant);
        db.database()
            .insert_tokens(std::slice::from_ref(&existing))
            .unwrap();
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
    twenty_threads_redeeming_one_code_produce_exactly_one_redemption_whose_tokens_are_stored,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();
        let barrier = Barrier::new(20);
        let mints = AtomicUsize::new(0);
        let outcomes: Vec<(CodeRedemption, Token)> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..20)
                .map(|_| {
                    scope.spawn(|| {
                        let access = token(TokenKind::Access, &seeded.grant);
                        barrier.wait();
                        let outcome = db
                            .redeem_code(&code.digest, &seeded.client.id, at(1), &mut |_| {
                                mints.fetch_add(1, Ordering::SeqCst);
                                Ok(vec![access.clone()])
                            })
                            .unwrap();
                        (outcome, access)
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap())
                .collect()
        });
        let (winners, losers): (Vec<_>, Vec<_>) = outcomes
            .iter()
            .partition(|(outcome, _)| matches!(outcome, CodeRedemption::Redeemed(_)));
        assert_eq!((winners.len(), losers.len()), (1, 19), "{outcomes:?}");
        assert_eq!(mints.load(Ordering::SeqCst), 1);
        let (outcome, access) = winners[0];
        assert_eq!(*outcome, CodeRedemption::Redeemed(Ok(())));
        assert_eq!(db.find_token(&access.digest).unwrap(), Some(access.clone()));
        for (outcome, access) in losers {
            assert_eq!(*outcome, CodeRedemption::Reused(code.clone()));
            assert_eq!(db.find_token(&access.digest).unwrap(), None);
        }
    }
);

both_backends!(
    a_corrupt_row_is_a_store_error_that_leaves_the_code_unused,
    |db: TestDb| {
        let seeded = seed(db.database());
        let code = code(&seeded.grant);
        db.database().insert_code(&code).unwrap();
        raw_execute(
            &db,
            "UPDATE authorization_codes SET code_challenge_method = 'S512'",
        );
        let error = db
            .database()
            .redeem_code(&code.digest, &seeded.client.id, at(1), &mut must_not_mint)
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Other(text) if text.contains("S512")),
            "{error:?}"
        );
        raw_execute(
            &db,
            "UPDATE authorization_codes SET code_challenge_method = 'S256'",
        );
        let repaired = db
            .database()
            .redeem_code(&code.digest, &seeded.client.id, at(2), &mut no_tokens)
            .unwrap();
        assert_eq!(repaired, CodeRedemption::Redeemed(Ok(())));
    }
);
