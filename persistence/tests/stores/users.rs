use tessera_domain::store::UserStore as _;
use tessera_domain::{StoreError, UserId};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::user;

both_backends!(a_user_is_found_by_id_and_by_name, |db: TestDb| {
    let db = db.database();
    let alice = user("alice");
    db.insert_user(&alice).unwrap();
    assert_eq!(db.find_user(alice.id).unwrap(), Some(alice.clone()));
    assert_eq!(db.find_user_by_name("alice").unwrap(), Some(alice));
});

both_backends!(unknown_users_are_none, |db: TestDb| {
    let db = db.database();
    db.insert_user(&user("alice")).unwrap();
    assert_eq!(db.find_user(UserId::generate()).unwrap(), None);
    assert_eq!(db.find_user_by_name("bob").unwrap(), None);
    assert_eq!(db.find_user_by_name("ALICE").unwrap(), None);
});

both_backends!(a_taken_username_is_a_conflict, |db: TestDb| {
    let db = db.database();
    db.insert_user(&user("alice")).unwrap();
    let error = db.insert_user(&user("alice")).unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
});
