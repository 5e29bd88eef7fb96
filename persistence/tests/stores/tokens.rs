use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;

use tessera_domain::grant::{Grant, GrantId};
use tessera_domain::store::{ClientStore as _, GrantStore as _, TokenStore as _};
use tessera_domain::token::{RefreshRotation, Token, TokenKind};
use tessera_domain::{OAuthError, Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    at, client, count_tokens, must_not_mint, no_tokens, raw_execute, scope, seed, t0, token,
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
    assert_eq!(db.find_token(&access.digest).unwrap(), Some(access));
    assert_eq!(db.find_token(&refresh.digest).unwrap(), Some(refresh));
    assert_eq!(db.find_token(&Secret::generate().digest()).unwrap(), None);
    db.insert_tokens(&[]).unwrap();
});

both_backends!(a_client_credentials_token_has_no_user, |db: TestDb| {
    let db = db.database();
    db.insert_client(&client("machine", None)).unwrap();
    let grant = Grant::new("machine", None, scope("reports"), t0());
    db.insert_grant(&grant).unwrap();
    let access = token(TokenKind::Access, &grant);
    db.insert_tokens(std::slice::from_ref(&access)).unwrap();
    let found = db.find_token(&access.digest).unwrap().unwrap();
    assert_eq!(found.user_id, None);
    assert_eq!(found, access);
});

both_backends!(tokens_are_inserted_all_or_none, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let existing = token(TokenKind::Access, &seeded.grant);
    db.insert_tokens(std::slice::from_ref(&existing)).unwrap();
    let fresh = token(TokenKind::Refresh, &seeded.grant);
    let error = db.insert_tokens(&[fresh.clone(), existing]).unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
    assert_eq!(db.find_token(&fresh.digest).unwrap(), None);
});

both_backends!(
    a_refresh_token_rotates_once_then_reports_already_rotated,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.insert_tokens(std::slice::from_ref(&refresh)).unwrap();

        let rotated = Token {
            rotated_at: Some(at(10)),
            ..refresh.clone()
        };
        let mut minted_for = None;
        let first = db
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(10), &mut |used| {
                minted_for = Some(used.clone());
                Ok(Vec::new())
            })
            .unwrap();
        assert_eq!(first, RefreshRotation::Rotated(Ok(())));
        assert_eq!(minted_for, Some(rotated.clone()));
        let second = db
            .rotate_refresh_token(
                &refresh.digest,
                &seeded.client.id,
                at(11),
                &mut must_not_mint,
            )
            .unwrap();
        assert_eq!(second, RefreshRotation::AlreadyRotated(rotated.clone()));
        assert_eq!(db.find_token(&refresh.digest).unwrap(), Some(rotated));
    }
);

both_backends!(
    twenty_threads_rotating_one_refresh_token_produce_exactly_one_rotation_whose_tokens_are_stored,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.insert_tokens(std::slice::from_ref(&refresh)).unwrap();
        let barrier = Barrier::new(20);
        let mints = AtomicUsize::new(0);
        let outcomes: Vec<(RefreshRotation, Token)> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..20)
                .map(|_| {
                    scope.spawn(|| {
                        let next = token(TokenKind::Refresh, &seeded.grant);
                        barrier.wait();
                        let outcome = db
                            .rotate_refresh_token(
                                &refresh.digest,
                                &seeded.client.id,
                                at(1),
                                &mut |_| {
                                    mints.fetch_add(1, Ordering::SeqCst);
                                    Ok(vec![next.clone()])
                                },
                            )
                            .unwrap();
                        (outcome, next)
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
            .partition(|(outcome, _)| matches!(outcome, RefreshRotation::Rotated(_)));
        assert_eq!((winners.len(), losers.len()), (1, 19), "{outcomes:?}");
        assert_eq!(mints.load(Ordering::SeqCst), 1);
        let (outcome, next) = winners[0];
        assert_eq!(*outcome, RefreshRotation::Rotated(Ok(())));
        assert_eq!(db.find_token(&next.digest).unwrap(), Some(next.clone()));
        let rotated = Token {
            rotated_at: Some(at(1)),
            ..refresh.clone()
        };
        for (outcome, next) in losers {
            assert_eq!(*outcome, RefreshRotation::AlreadyRotated(rotated.clone()));
            assert_eq!(db.find_token(&next.digest).unwrap(), None);
        }
    }
);

both_backends!(
    a_refresh_token_presented_by_another_client_is_unusable_and_not_rotated,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        db.insert_client(&client("client-b", None)).unwrap();
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.insert_tokens(std::slice::from_ref(&refresh)).unwrap();
        let stolen = db
            .rotate_refresh_token(&refresh.digest, "client-b", at(1), &mut must_not_mint)
            .unwrap();
        assert_eq!(stolen, RefreshRotation::Unusable);
        assert_eq!(
            db.find_token(&refresh.digest).unwrap(),
            Some(refresh.clone())
        );
        let owner = db
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(2), &mut no_tokens)
            .unwrap();
        assert_eq!(owner, RefreshRotation::Rotated(Ok(())));
        let after = db
            .rotate_refresh_token(&refresh.digest, "client-b", at(3), &mut must_not_mint)
            .unwrap();
        assert_eq!(after, RefreshRotation::Unusable);
    }
);

both_backends!(
    expired_revoked_and_access_tokens_do_not_rotate,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let expired = token(TokenKind::Refresh, &seeded.grant);
        let revoked = token(TokenKind::Refresh, &seeded.grant);
        let access = token(TokenKind::Access, &seeded.grant);
        db.insert_tokens(&[expired.clone(), revoked.clone(), access.clone()])
            .unwrap();
        db.revoke_token(&revoked.digest, at(1)).unwrap();
        let client = &seeded.client.id;
        let cases = [
            (&expired, expired.expires_at),
            (&revoked, at(2)),
            (&access, at(2)),
            (&expired, at(3600 * 24)),
        ];
        for (token, now) in cases {
            let outcome = db
                .rotate_refresh_token(&token.digest, client, now, &mut must_not_mint)
                .unwrap();
            assert_eq!(outcome, RefreshRotation::Unusable, "{token:?} at {now}");
            let stored = db.find_token(&token.digest).unwrap().unwrap();
            assert_eq!(stored.rotated_at, None);
        }
    }
);

both_backends!(
    a_refresh_token_of_a_revoked_grant_does_not_rotate,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.insert_tokens(std::slice::from_ref(&refresh)).unwrap();
        db.revoke_grant(seeded.grant.id, at(1)).unwrap();
        let outcome = db
            .rotate_refresh_token(
                &refresh.digest,
                &seeded.client.id,
                at(2),
                &mut must_not_mint,
            )
            .unwrap();
        assert_eq!(outcome, RefreshRotation::Unusable);
    }
);

both_backends!(an_unknown_refresh_token_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let outcome = db
        .rotate_refresh_token(
            &Secret::generate().digest(),
            &seeded.client.id,
            t0(),
            &mut must_not_mint,
        )
        .unwrap();
    assert_eq!(outcome, RefreshRotation::Unusable);
});

both_backends!(
    the_tokens_minted_for_a_rotated_refresh_token_are_stored,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.insert_tokens(std::slice::from_ref(&refresh)).unwrap();
        let access = token(TokenKind::Access, &seeded.grant);
        let next = token(TokenKind::Refresh, &seeded.grant);

        let rotation = db
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(1), &mut |_| {
                Ok(vec![access.clone(), next.clone()])
            })
            .unwrap();
        assert_eq!(rotation, RefreshRotation::Rotated(Ok(())));
        assert_eq!(db.find_token(&access.digest).unwrap(), Some(access));
        assert_eq!(db.find_token(&next.digest).unwrap(), Some(next.clone()));
        let stored = db.find_token(&refresh.digest).unwrap().unwrap();
        assert_eq!(stored.rotated_at, Some(at(1)));
        // The new refresh token rotates in its turn.
        let again = db
            .rotate_refresh_token(&next.digest, &seeded.client.id, at(2), &mut no_tokens)
            .unwrap();
        assert_eq!(again, RefreshRotation::Rotated(Ok(())));
    }
);

both_backends!(
    a_refused_mint_rotates_the_refresh_token_and_stores_no_tokens,
    |db: TestDb| {
        let seeded = seed(db.database());
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.database()
            .insert_tokens(std::slice::from_ref(&refresh))
            .unwrap();
        let refusal = OAuthError::invalid_scope("The scope exceeds the grant.");

        let rotation = db
            .database()
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(1), &mut |_| {
                Err(refusal.clone())
            })
            .unwrap();
        assert_eq!(rotation, RefreshRotation::Rotated(Err(refusal)));
        assert_eq!(count_tokens(&db), 1);
        let rotated = Token {
            rotated_at: Some(at(1)),
            ..refresh.clone()
        };
        let retry = db
            .database()
            .rotate_refresh_token(
                &refresh.digest,
                &seeded.client.id,
                at(2),
                &mut must_not_mint,
            )
            .unwrap();
        assert_eq!(retry, RefreshRotation::AlreadyRotated(rotated));
    }
);

/// Rotates `refresh` with a mint that makes `minted`, which cannot be stored, and checks that
/// the call fails with `expected` and leaves the refresh token as it was, still rotatable.
#[expect(clippy::unwrap_used, reason = "part of a test: a failure fails it")]
fn failed_storage_leaves_the_refresh_token_unrotated(
    db: &TestDb,
    grant: &Grant,
    refresh: &Token,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
) {
    let stored_before = count_tokens(db);
    let error = db
        .database()
        .rotate_refresh_token(&refresh.digest, &refresh.client_id, at(1), &mut |_| {
            Ok(minted.to_vec())
        })
        .unwrap_err();
    assert!(expected(&error), "{error:?}");
    assert_eq!(count_tokens(db), stored_before);
    assert_eq!(
        db.database().find_token(&refresh.digest).unwrap(),
        Some(refresh.clone())
    );

    let next = token(TokenKind::Refresh, grant);
    let retry = db
        .database()
        .rotate_refresh_token(&refresh.digest, &refresh.client_id, at(2), &mut |_| {
            Ok(vec![next.clone()])
        })
        .unwrap();
    assert_eq!(retry, RefreshRotation::Rotated(Ok(())));
    assert_eq!(db.database().find_token(&next.digest).unwrap(), Some(next));
}

both_backends!(
    a_refresh_token_stays_rotatable_when_its_tokens_name_an_unknown_grant,
    |db: TestDb| {
        let seeded = seed(db.database());
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.database()
            .insert_tokens(std::slice::from_ref(&refresh))
            .unwrap();
        let access = token(TokenKind::Access, &seeded.grant);
        let orphan = Token {
            grant_id: GrantId::generate(),
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
    a_refresh_token_stays_rotatable_when_its_tokens_repeat_a_stored_digest,
    |db: TestDb| {
        let seeded = seed(db.database());
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.database()
            .insert_tokens(std::slice::from_ref(&refresh))
            .unwrap();
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
        let seeded = seed(db);
        let access = token(TokenKind::Access, &seeded.grant);
        let other = token(TokenKind::Access, &seeded.grant);
        db.insert_tokens(&[access.clone(), other.clone()]).unwrap();
        db.revoke_token(&access.digest, at(5)).unwrap();
        db.revoke_token(&access.digest, at(9)).unwrap();
        let found = db.find_token(&access.digest).unwrap().unwrap();
        assert_eq!(found.revoked_at, Some(at(5)));
        assert!(!found.is_active(at(6)));
        assert_eq!(db.find_token(&other.digest).unwrap(), Some(other));
        db.revoke_token(&Secret::generate().digest(), at(5))
            .unwrap();
    }
);

both_backends!(
    a_token_row_of_unknown_kind_is_a_store_error,
    |db: TestDb| {
        let seeded = seed(db.database());
        let access = token(TokenKind::Access, &seeded.grant);
        db.database()
            .insert_tokens(std::slice::from_ref(&access))
            .unwrap();
        raw_execute(&db, "UPDATE tokens SET kind = 'magic'");
        let error = db.database().find_token(&access.digest).unwrap_err();
        assert!(matches!(error, StoreError::Other(_)), "{error:?}");
    }
);
