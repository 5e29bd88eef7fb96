use tessera_domain::store::UserStore as _;
use tessera_domain::{StoreError, User, UserId};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{raw_execute, t0, user};

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

both_backends!(
    the_tokens_valid_after_migration_keeps_the_disable_of_users_disabled_before_it,
    |db: TestDb| {
        let database = db.database();
        let disabled_at = t0() + chrono::Duration::minutes(5);
        let disabled = User {
            disabled_at: Some(disabled_at),
            ..user("alice")
        };
        let enabled = user("bob");
        database.insert_user(&disabled).unwrap();
        database.insert_user(&enabled).unwrap();
        // As the database was before the migration: no column, the migration not run.
        raw_execute(&db, "ALTER TABLE users DROP COLUMN tokens_valid_after");
        raw_execute(
            &db,
            "DELETE FROM __diesel_schema_migrations WHERE version = '20261210000002'",
        );
        database.migrate().unwrap();
        let found = database.find_user(disabled.id).unwrap();
        let expected = User {
            tokens_valid_after: Some(disabled_at),
            ..disabled
        };
        assert_eq!(found, Some(expected));
        assert_eq!(database.find_user(enabled.id).unwrap(), Some(enabled));
    }
);
