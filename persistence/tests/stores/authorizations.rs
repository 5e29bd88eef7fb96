use tessera_domain::authorization::{Authorization, AuthorizationId};
use tessera_domain::store::{AuthorizationStore as _, TokenStore as _};
use tessera_domain::token::TokenKind;
use tessera_domain::StoreError;
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{at, scope, seeded_token, seeded_tokens, stored, stored_token, t0};

both_backends!(
    revoking_an_authorization_shows_every_token_of_it_as_revoked,
    |db: TestDb| {
        let db = db.database();
        let (seeded, [access, refresh]) =
            seeded_tokens(db, [TokenKind::Access, TokenKind::Refresh]);
        let other_grant = Authorization::new(
            &seeded.client.id,
            Some(seeded.user.id),
            scope("profile"),
            t0(),
        );
        db.insert_authorization(&other_grant).unwrap();
        let unrelated = stored_token(db, TokenKind::Access, &other_grant);

        db.revoke_authorization(seeded.grant.id, at(5)).unwrap();

        for revoked in [&access, &refresh] {
            let found = stored(db, revoked);
            assert_eq!(found.revoked_at, Some(at(5)));
            assert!(!found.is_active(at(6)));
        }
        assert_eq!(stored(db, &unrelated).revoked_at, None);
    }
);

both_backends!(
    revoking_an_authorization_twice_keeps_the_first_time,
    |db: TestDb| {
        let db = db.database();
        let (seeded, access) = seeded_token(db, TokenKind::Access);
        db.revoke_authorization(seeded.grant.id, at(5)).unwrap();
        db.revoke_authorization(seeded.grant.id, at(9)).unwrap();
        assert_eq!(stored(db, &access).revoked_at, Some(at(5)));
    }
);

both_backends!(
    a_token_revoked_before_its_grant_keeps_its_own_time,
    |db: TestDb| {
        let db = db.database();
        let (seeded, access) = seeded_token(db, TokenKind::Access);
        db.revoke_token(&access.digest, at(2)).unwrap();
        db.revoke_authorization(seeded.grant.id, at(5)).unwrap();
        assert_eq!(stored(db, &access).revoked_at, Some(at(2)));
    }
);

both_backends!(
    revoking_an_unknown_authorization_is_not_an_error,
    |db: TestDb| {
        db.database()
            .revoke_authorization(AuthorizationId::generate(), t0())
            .unwrap();
    }
);

both_backends!(
    an_authorization_for_an_unknown_client_is_refused,
    |db: TestDb| {
        let db = db.database();
        let orphan = Authorization::new("no-such-client", None, scope("profile"), t0());
        let error = db.insert_authorization(&orphan).unwrap_err();
        assert!(matches!(error, StoreError::Other(_)), "{error:?}");
    }
);

both_backends!(
    an_authorization_reads_back_with_its_sign_in_time_and_nonce,
    |db: TestDb| {
        let db = db.database();
        let (seeded, _) = seeded_token(db, TokenKind::Access);
        let found = db.find_authorization(seeded.grant.id).unwrap();
        assert_eq!(found, Some(seeded.grant.clone()));
        assert!(seeded.grant.auth_time.is_some() && seeded.grant.nonce.is_some());
        assert_eq!(
            db.find_authorization(AuthorizationId::generate()).unwrap(),
            None
        );
    }
);
