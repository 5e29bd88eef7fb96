use std::sync::Barrier;

use tessera_domain::code::{AuthorizationCode, CodeRedemption};
use tessera_domain::store::{ClientStore as _, CodeStore as _};
use tessera_domain::{Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{at, client, code, raw_execute, seed, t0};

both_backends!(
    a_code_is_redeemed_once_then_reported_as_reused,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();

        let first = db
            .redeem_code(&code.digest, &seeded.client.id, at(10))
            .unwrap();
        assert_eq!(first, CodeRedemption::Redeemed(code.clone()));
        let second = db
            .redeem_code(&code.digest, &seeded.client.id, at(11))
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
    let redeemed = db
        .redeem_code(&plain.digest, &seeded.client.id, t0())
        .unwrap();
    assert_eq!(redeemed, CodeRedemption::Redeemed(plain));
});

both_backends!(
    a_code_presented_by_another_client_is_unusable_and_not_burned,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        db.insert_client(&client("client-b", None)).unwrap();
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();

        let stolen = db.redeem_code(&code.digest, "client-b", at(10)).unwrap();
        assert_eq!(stolen, CodeRedemption::Unusable);
        let owner = db
            .redeem_code(&code.digest, &seeded.client.id, at(11))
            .unwrap();
        assert_eq!(owner, CodeRedemption::Redeemed(code.clone()));
        // Even once used, another client learns nothing from it.
        let again = db.redeem_code(&code.digest, "client-b", at(12)).unwrap();
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
            .redeem_code(&code.digest, &seeded.client.id, now)
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
        db.redeem_code(&code.digest, &seeded.client.id, at(1))
            .unwrap();
        let late = db
            .redeem_code(&code.digest, &seeded.client.id, at(10_000))
            .unwrap();
        assert_eq!(late, CodeRedemption::Reused(code));
    }
);

both_backends!(an_unknown_code_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let unknown = Secret::generate().digest();
    let redemption = db.redeem_code(&unknown, &seeded.client.id, t0()).unwrap();
    assert_eq!(redemption, CodeRedemption::Unusable);
});

both_backends!(a_code_of_an_unknown_grant_is_refused, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let orphan = AuthorizationCode {
        grant_id: tessera_domain::grant::GrantId::generate(),
        ..code(&seeded.grant)
    };
    let error = db.insert_code(&orphan).unwrap_err();
    assert!(matches!(error, StoreError::Other(_)), "{error:?}");
});

both_backends!(
    twenty_threads_redeeming_one_code_produce_exactly_one_redemption,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let code = code(&seeded.grant);
        db.insert_code(&code).unwrap();
        let barrier = Barrier::new(20);
        let outcomes: Vec<CodeRedemption> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..20)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        db.redeem_code(&code.digest, &seeded.client.id, at(1))
                            .unwrap()
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap())
                .collect()
        });
        let redeemed = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, CodeRedemption::Redeemed(_)))
            .count();
        let reused = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, CodeRedemption::Reused(_)))
            .count();
        assert_eq!((redeemed, reused), (1, 19), "{outcomes:?}");
    }
);

both_backends!(a_corrupt_row_is_a_store_error_not_a_panic, |db: TestDb| {
    let seeded = seed(db.database());
    let code = code(&seeded.grant);
    db.database().insert_code(&code).unwrap();
    raw_execute(
        &db,
        "UPDATE authorization_codes SET code_challenge_method = 'S512'",
    );
    let error = db
        .database()
        .redeem_code(&code.digest, &seeded.client.id, at(1))
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Other(text) if text.contains("S512")),
        "{error:?}"
    );
});
