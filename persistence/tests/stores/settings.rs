use tessera_domain::store::SettingStore as _;
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{processes, race};

both_backends!(the_first_value_stored_for_a_setting_wins, |db: TestDb| {
    let db = db.database();
    assert_eq!(
        db.setting_or_insert("session_key", "first").unwrap(),
        "first"
    );
    assert_eq!(
        db.setting_or_insert("session_key", "second").unwrap(),
        "first"
    );
    assert_eq!(
        db.setting_or_insert("signing_key", "other").unwrap(),
        "other"
    );
});

both_backends!(
    processes_racing_to_store_a_setting_agree_on_one_value,
    |db: TestDb| {
        // Separate pools, as separate server processes would have.
        let processes = processes(&db.url(), 8);
        let racers: Vec<_> = processes.iter().enumerate().collect();
        let values: Vec<String> = race(&racers, |(index, process)| {
            process
                .setting_or_insert("cookie_key", &format!("value-{index}"))
                .unwrap()
        });
        assert!(values.iter().all(|value| *value == values[0]), "{values:?}");
        let stored = db
            .database()
            .setting_or_insert("cookie_key", "late")
            .unwrap();
        assert_eq!(stored, values[0]);
    }
);
