use tessera_domain::authorization::Authorization;
use tessera_domain::consent::Consent;
use tessera_domain::store::{
    AuthorizationStore as _, ClientStore as _, ConsentStore as _, UserStore as _,
};
use tessera_domain::token::TokenKind;
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{at, client, scope, seed, stored, stored_token, t0, user, Seeded};

fn consent(seeded: &Seeded, text: &str, when: i64) -> Consent {
    Consent {
        user_id: seeded.user.id,
        client_id: seeded.client.id.clone(),
        scope: scope(text),
        granted_at: at(when),
    }
}

both_backends!(a_recorded_consent_replaces_the_earlier_one, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    assert_eq!(
        db.find_consent(seeded.user.id, &seeded.client.id).unwrap(),
        None
    );

    db.record_consent(&consent(&seeded, "profile", 1)).unwrap();
    let wider = consent(&seeded, "openid profile email", 2);
    db.record_consent(&wider).unwrap();
    assert_eq!(
        db.find_consent(seeded.user.id, &seeded.client.id).unwrap(),
        Some(wider.clone())
    );
    assert_eq!(db.consents_of(seeded.user.id).unwrap(), vec![wider]);
});

both_backends!(consents_are_listed_per_user_newest_first, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let other = client("client-b", None);
    db.insert_client(&other).unwrap();
    let bob = user("bob");
    db.insert_user(&bob).unwrap();

    let first = consent(&seeded, "profile", 1);
    let second = Consent {
        client_id: other.id.clone(),
        ..consent(&seeded, "email", 5)
    };
    let bobs = Consent {
        user_id: bob.id,
        ..consent(&seeded, "profile", 3)
    };
    for consent in [&first, &second, &bobs] {
        db.record_consent(consent).unwrap();
    }
    assert_eq!(db.consents_of(seeded.user.id).unwrap(), vec![second, first]);
    assert_eq!(db.consents_of(bob.id).unwrap(), vec![bobs]);
});

both_backends!(
    withdrawing_a_consent_revokes_that_clients_tokens_for_that_user_only,
    |db: TestDb| {
        let db = db.database();
        let seeded = seed(db);
        let mine = stored_token(db, TokenKind::Refresh, &seeded.grant);
        let bob = user("bob");
        db.insert_user(&bob).unwrap();
        let bobs_grant =
            Authorization::new(&seeded.client.id, Some(bob.id), scope("profile"), t0());
        db.insert_authorization(&bobs_grant).unwrap();
        let bobs = stored_token(db, TokenKind::Access, &bobs_grant);
        db.record_consent(&consent(&seeded, "profile", 1)).unwrap();

        assert!(db
            .withdraw_consent(seeded.user.id, &seeded.client.id, at(7))
            .unwrap());
        assert_eq!(
            db.find_consent(seeded.user.id, &seeded.client.id).unwrap(),
            None
        );
        assert_eq!(stored(db, &mine).revoked_at, Some(at(7)));
        assert_eq!(stored(db, &bobs).revoked_at, None);
        // Nothing left to withdraw, and nothing more changes.
        assert!(!db
            .withdraw_consent(seeded.user.id, &seeded.client.id, at(9))
            .unwrap());
        assert_eq!(stored(db, &mine).revoked_at, Some(at(7)));
    }
);

both_backends!(a_deleted_client_takes_its_consents_along, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    db.record_consent(&consent(&seeded, "profile", 1)).unwrap();
    assert!(db.delete_client(&seeded.client.id, seeded.user.id).unwrap());
    assert_eq!(db.consents_of(seeded.user.id).unwrap(), vec![]);
});
