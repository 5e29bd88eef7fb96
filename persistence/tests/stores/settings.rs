use std::sync::Barrier;

use tessera_domain::store::SettingStore as _;
use tessera_persistence::test_db::TestDb;
use tessera_persistence::{both_backends, Database, DatabaseUrl, PoolOptions};

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
        let url = DatabaseUrl::parse(&db.url()).unwrap();
        // Separate pools, as separate server processes would have.
        let processes: Vec<Database> = (0..8)
            .map(|_| Database::connect(&url, PoolOptions::default()).unwrap())
            .collect();
        let barrier = Barrier::new(processes.len());
        let values: Vec<String> = std::thread::scope(|scope| {
            let racers: Vec<_> = processes
                .iter()
                .enumerate()
                .map(|(index, process)| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        barrier.wait();
                        process
                            .setting_or_insert("cookie_key", &format!("value-{index}"))
                            .unwrap()
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap())
                .collect()
        });
        assert!(values.iter().all(|value| *value == values[0]), "{values:?}");
        let stored = db
            .database()
            .setting_or_insert("cookie_key", "late")
            .unwrap();
        assert_eq!(stored, values[0]);
    }
);
