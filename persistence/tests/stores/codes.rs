use tessera_domain::code::{AuthorizationCode, CodeRedemption};
use tessera_domain::grant::{Grant, GrantId};
use tessera_domain::store::{ClientStore as _, CodeStore as _};
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::{OAuthError, Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    assert_stored, at, client, code, count_tokens, failed_storage_then_retry, must_not_mint,
    no_tokens, raw_execute, recording, redeem, seed, seeded_code, seeded_code_and_token, t0, token,
    twenty_racers_one_winner,
};

both_backends!(
    a_code_is_redeemed_once_then_reported_as_reused,
    |db: TestDb| {
        let db = db.database();
        let (seeded, code) = seeded_code(db);
        let client = &seeded.client.id;

        let mut minted_for = None;
        let first = redeem(
            db,
            &code.digest,
            client,
            at(10),
            &mut recording(&mut minted_for),
        );
        assert_eq!(first, CodeRedemption::Redeemed(Ok(())));
        assert_eq!(minted_for, Some(code.clone()));
        let second = redeem(db, &code.digest, client, at(11), &mut must_not_mint);
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
    let client = &seeded.client.id;
    let redeemed = redeem(
        db,
        &plain.digest,
        client,
        t0(),
        &mut recording(&mut minted_for),
    );
    assert_eq!(redeemed, CodeRedemption::Redeemed(Ok(())));
    assert_eq!(minted_for, Some(plain));
});

both_backends!(
    a_code_presented_by_another_client_is_unusable_and_not_burned,
    |db: TestDb| {
        let db = db.database();
        let (seeded, code) = seeded_code(db);
        db.insert_client(&client("client-b", None)).unwrap();

        let stolen = redeem(db, &code.digest, "client-b", at(10), &mut must_not_mint);
        assert_eq!(stolen, CodeRedemption::Unusable);
        let owner = redeem(db, &code.digest, &seeded.client.id, at(11), &mut no_tokens);
        assert_eq!(owner, CodeRedemption::Redeemed(Ok(())));
        // Even once used, another client learns nothing from it.
        let again = redeem(db, &code.digest, "client-b", at(12), &mut must_not_mint);
        assert_eq!(again, CodeRedemption::Unusable);
    }
);

both_backends!(an_expired_code_is_unusable, |db: TestDb| {
    let db = db.database();
    let (seeded, code) = seeded_code(db);
    for now in [code.expires_at, at(301), at(100_000)] {
        let late = redeem(db, &code.digest, &seeded.client.id, now, &mut must_not_mint);
        assert_eq!(late, CodeRedemption::Unusable, "at {now}");
    }
});

both_backends!(
    a_used_code_is_reported_as_reused_even_after_expiry,
    |db: TestDb| {
        let db = db.database();
        let (seeded, code) = seeded_code(db);
        let client = &seeded.client.id;
        redeem(db, &code.digest, client, at(1), &mut no_tokens);
        let late = redeem(db, &code.digest, client, at(10_000), &mut must_not_mint);
        assert_eq!(late, CodeRedemption::Reused(code));
    }
);

both_backends!(an_unknown_code_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let unknown = Secret::generate().digest();
    let redemption = redeem(db, &unknown, &seeded.client.id, t0(), &mut must_not_mint);
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
        let (seeded, code) = seeded_code(db);
        let access = token(TokenKind::Access, &seeded.grant);
        let refresh = token(TokenKind::Refresh, &seeded.grant);

        let redemption = redeem(db, &code.digest, &seeded.client.id, at(1), &mut |_| {
            Ok(vec![access.clone(), refresh.clone()])
        });
        assert_eq!(redemption, CodeRedemption::Redeemed(Ok(())));
        assert_stored(db, &access);
        assert_stored(db, &refresh);
    }
);

both_backends!(
    a_refused_mint_uses_the_code_up_and_stores_no_tokens,
    |db: TestDb| {
        let store = db.database();
        let (seeded, code) = seeded_code(store);
        let client = &seeded.client.id;
        let refusal = OAuthError::invalid_grant("The code verifier does not match.");

        let redemption = redeem(store, &code.digest, client, at(1), &mut |_| {
            Err(refusal.clone())
        });
        assert_eq!(redemption, CodeRedemption::Redeemed(Err(refusal)));
        assert_eq!(count_tokens(&db), 0);
        let retry = redeem(store, &code.digest, client, at(2), &mut must_not_mint);
        assert_eq!(retry, CodeRedemption::Reused(code));
    }
);

/// Redeems `code` with a mint that makes `minted`, which cannot be stored, and checks that
/// the call fails with `expected` and leaves the code redeemable.
fn failed_storage_leaves_the_code_unused(
    db: &TestDb,
    grant: &Grant,
    code: &AuthorizationCode,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
) {
    let access = token(TokenKind::Access, grant);
    let retry = failed_storage_then_retry(db, minted, expected, &[], &access, |now, mint| {
        db.database()
            .redeem_code(&code.digest, &code.client_id, now, mint)
    });
    assert_eq!(retry, CodeRedemption::Redeemed(Ok(())));
}

both_backends!(
    a_code_stays_redeemable_when_its_tokens_name_an_unknown_grant,
    |db: TestDb| {
        let (seeded, code) = seeded_code(db.database());
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
    twenty_threads_redeeming_one_code_produce_exactly_one_redemption_whose_tokens_are_stored,
    |db: TestDb| {
        let db = db.database();
        let (seeded, code) = seeded_code(db);
        let (winner, losers) = twenty_racers_one_winner(
            db,
            TokenKind::Access,
            &seeded.grant,
            |mint| redeem(db, &code.digest, &seeded.client.id, at(1), mint),
            |outcome| matches!(outcome, CodeRedemption::Redeemed(_)),
        );
        assert_eq!(winner, CodeRedemption::Redeemed(Ok(())));
        for outcome in losers {
            assert_eq!(outcome, CodeRedemption::Reused(code.clone()));
        }
    }
);

both_backends!(
    a_corrupt_row_is_a_store_error_that_leaves_the_code_unused,
    |db: TestDb| {
        let store = db.database();
        let (seeded, code) = seeded_code(store);
        let client = &seeded.client.id;
        let set_method = |method: &str| {
            raw_execute(
                &db,
                &format!("UPDATE authorization_codes SET code_challenge_method = '{method}'"),
            );
        };
        set_method("S512");
        let error = store
            .redeem_code(&code.digest, client, at(1), &mut must_not_mint)
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Other(text) if text.contains("S512")),
            "{error:?}"
        );
        set_method("S256");
        let repaired = redeem(store, &code.digest, client, at(2), &mut no_tokens);
        assert_eq!(repaired, CodeRedemption::Redeemed(Ok(())));
    }
);
