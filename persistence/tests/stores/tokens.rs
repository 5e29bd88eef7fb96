use tessera_domain::grant::{Grant, GrantId};
use tessera_domain::store::{ClientStore as _, GrantStore as _, TokenStore as _};
use tessera_domain::token::{RefreshRotation, Token, TokenKind};
use tessera_domain::{OAuthError, Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    assert_not_stored, assert_stored, at, client, count_tokens, failed_storage_then_retry,
    must_not_mint, no_tokens, raw_execute, recording, rotate, rotated, scope, seed, seeded_token,
    seeded_tokens, stored, t0, token, twenty_racers_one_winner,
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
    let grant = Grant::new("machine", None, scope("reports"), t0());
    db.insert_grant(&grant).unwrap();
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
    a_refresh_token_rotates_once_then_reports_already_rotated,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        let client = &seeded.client.id;
        let rotated = rotated(&refresh, at(10));

        let mut minted_for = None;
        let first = rotate(
            db,
            &refresh.digest,
            client,
            at(10),
            &mut recording(&mut minted_for),
        );
        assert_eq!(first, RefreshRotation::Rotated(Ok(())));
        assert_eq!(minted_for, Some(rotated.clone()));
        let second = rotate(db, &refresh.digest, client, at(11), &mut must_not_mint);
        assert_eq!(second, RefreshRotation::AlreadyRotated(rotated.clone()));
        assert_stored(db, &rotated);
    }
);

both_backends!(
    twenty_threads_rotating_one_refresh_token_produce_exactly_one_rotation_whose_tokens_are_stored,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        let (winner, losers) = twenty_racers_one_winner(
            db,
            TokenKind::Refresh,
            &seeded.grant,
            |mint| rotate(db, &refresh.digest, &seeded.client.id, at(1), mint),
            |outcome| matches!(outcome, RefreshRotation::Rotated(_)),
        );
        assert_eq!(winner, RefreshRotation::Rotated(Ok(())));
        let rotated = rotated(&refresh, at(1));
        for outcome in losers {
            assert_eq!(outcome, RefreshRotation::AlreadyRotated(rotated.clone()));
        }
    }
);

both_backends!(
    a_refresh_token_presented_by_another_client_is_unusable_and_not_rotated,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        db.insert_client(&client("client-b", None)).unwrap();
        let stolen = rotate(db, &refresh.digest, "client-b", at(1), &mut must_not_mint);
        assert_eq!(stolen, RefreshRotation::Unusable);
        assert_stored(db, &refresh);
        let owner = rotate(
            db,
            &refresh.digest,
            &seeded.client.id,
            at(2),
            &mut no_tokens,
        );
        assert_eq!(owner, RefreshRotation::Rotated(Ok(())));
        let after = rotate(db, &refresh.digest, "client-b", at(3), &mut must_not_mint);
        assert_eq!(after, RefreshRotation::Unusable);
    }
);

both_backends!(
    expired_revoked_and_access_tokens_do_not_rotate,
    |db: TestDb| {
        let db = db.database();
        let kinds = [TokenKind::Refresh, TokenKind::Refresh, TokenKind::Access];
        let (seeded, [expired, revoked, access]) = seeded_tokens(db, kinds);
        db.revoke_token(&revoked.digest, at(1)).unwrap();
        let client = &seeded.client.id;
        let cases = [
            (&expired, expired.expires_at),
            (&revoked, at(2)),
            (&access, at(2)),
            (&expired, at(3600 * 24)),
        ];
        for (token, now) in cases {
            let outcome = rotate(db, &token.digest, client, now, &mut must_not_mint);
            assert_eq!(outcome, RefreshRotation::Unusable, "{token:?} at {now}");
            assert_eq!(stored(db, token).rotated_at, None);
        }
    }
);

both_backends!(
    a_refresh_token_of_a_revoked_grant_does_not_rotate,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        db.revoke_grant(seeded.grant.id, at(1)).unwrap();
        let outcome = rotate(
            db,
            &refresh.digest,
            &seeded.client.id,
            at(2),
            &mut must_not_mint,
        );
        assert_eq!(outcome, RefreshRotation::Unusable);
    }
);

both_backends!(an_unknown_refresh_token_is_unusable, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let unknown = Secret::generate().digest();
    let outcome = rotate(db, &unknown, &seeded.client.id, t0(), &mut must_not_mint);
    assert_eq!(outcome, RefreshRotation::Unusable);
});

both_backends!(
    the_tokens_minted_for_a_rotated_refresh_token_are_stored,
    |db: TestDb| {
        let db = db.database();
        let (seeded, refresh) = seeded_token(db, TokenKind::Refresh);
        let client = &seeded.client.id;
        let access = token(TokenKind::Access, &seeded.grant);
        let next = token(TokenKind::Refresh, &seeded.grant);

        let rotation = rotate(db, &refresh.digest, client, at(1), &mut |_| {
            Ok(vec![access.clone(), next.clone()])
        });
        assert_eq!(rotation, RefreshRotation::Rotated(Ok(())));
        assert_stored(db, &access);
        assert_stored(db, &next);
        assert_eq!(stored(db, &refresh).rotated_at, Some(at(1)));
        // The new refresh token rotates in its turn.
        let again = rotate(db, &next.digest, client, at(2), &mut no_tokens);
        assert_eq!(again, RefreshRotation::Rotated(Ok(())));
    }
);

both_backends!(
    a_refused_mint_rotates_the_refresh_token_and_stores_no_tokens,
    |db: TestDb| {
        let store = db.database();
        let (seeded, refresh) = seeded_token(store, TokenKind::Refresh);
        let client = &seeded.client.id;
        let refusal = OAuthError::invalid_scope("The scope exceeds the grant.");

        let rotation = rotate(store, &refresh.digest, client, at(1), &mut |_| {
            Err(refusal.clone())
        });
        assert_eq!(rotation, RefreshRotation::Rotated(Err(refusal)));
        assert_eq!(count_tokens(&db), 1);
        let rotated = rotated(&refresh, at(1));
        let retry = rotate(store, &refresh.digest, client, at(2), &mut must_not_mint);
        assert_eq!(retry, RefreshRotation::AlreadyRotated(rotated));
    }
);

/// Rotates `refresh` with a mint that makes `minted`, which cannot be stored, and checks that
/// the call fails with `expected` and leaves the refresh token as it was, still rotatable.
fn failed_storage_leaves_the_refresh_token_unrotated(
    db: &TestDb,
    grant: &Grant,
    refresh: &Token,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
) {
    let next = token(TokenKind::Refresh, grant);
    let retry = failed_storage_then_retry(db, minted, expected, &[refresh], &next, |now, mint| {
        db.database()
            .rotate_refresh_token(&refresh.digest, &refresh.client_id, now, mint)
    });
    assert_eq!(retry, RefreshRotation::Rotated(Ok(())));
}

both_backends!(
    a_refresh_token_stays_rotatable_when_its_tokens_name_an_unknown_grant,
    |db: TestDb| {
        let (seeded, refresh) = seeded_token(db.database(), TokenKind::Refresh);
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
