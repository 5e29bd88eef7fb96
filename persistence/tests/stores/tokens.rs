use std::sync::Barrier;

use tessera_domain::grant::Grant;
use tessera_domain::store::{ClientStore as _, GrantStore as _, TokenStore as _};
use tessera_domain::token::{RefreshRotation, Token, TokenKind};
use tessera_domain::{Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{at, client, raw_execute, scope, seed, t0, token};

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
        let first = db
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(10))
            .unwrap();
        assert_eq!(first, RefreshRotation::Rotated(rotated.clone()));
        let second = db
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(11))
            .unwrap();
        assert_eq!(second, RefreshRotation::AlreadyRotated(rotated.clone()));
        assert_eq!(db.find_token(&refresh.digest).unwrap(), Some(rotated));
    }
);

both_backends!(
    twenty_threads_rotating_one_refresh_token_produce_exactly_one_rotation,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let refresh = token(TokenKind::Refresh, &seeded.grant);
        db.insert_tokens(std::slice::from_ref(&refresh)).unwrap();
        let barrier = Barrier::new(20);
        let outcomes: Vec<RefreshRotation> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..20)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        db.rotate_refresh_token(&refresh.digest, &seeded.client.id, at(1))
                            .unwrap()
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap())
                .collect()
        });
        let rotated = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, RefreshRotation::Rotated(_)))
            .count();
        let already = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, RefreshRotation::AlreadyRotated(_)))
            .count();
        assert_eq!((rotated, already), (1, 19), "{outcomes:?}");
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
            .rotate_refresh_token(&refresh.digest, "client-b", at(1))
            .unwrap();
        assert_eq!(stolen, RefreshRotation::Unusable);
        assert_eq!(
            db.find_token(&refresh.digest).unwrap(),
            Some(refresh.clone())
        );
        db.rotate_refresh_token(&refresh.digest, &seeded.client.id, at(2))
            .unwrap();
        let after = db
            .rotate_refresh_token(&refresh.digest, "client-b", at(3))
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
            let outcome = db.rotate_refresh_token(&token.digest, client, now).unwrap();
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
            .rotate_refresh_token(&refresh.digest, &seeded.client.id, at(2))
            .unwrap();
        assert_eq!(outcome, RefreshRotation::Unusable);
    }
);

both_backends!(an_unknown_refresh_token_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let outcome = db
        .rotate_refresh_token(&Secret::generate().digest(), &seeded.client.id, t0())
        .unwrap();
    assert_eq!(outcome, RefreshRotation::Unusable);
});

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
