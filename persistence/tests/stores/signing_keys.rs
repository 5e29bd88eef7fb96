use chrono::Duration;
use serde_json::json;
use tessera_domain::signing::SigningAlg;
use tessera_domain::signing_key::{KeyProtection, SigningKey};
use tessera_domain::store::SigningKeyStore as _;
use tessera_domain::StoreError;
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{at, processes, race, raw_execute, t0};

fn key(kid: &str, alg: SigningAlg, created: i64) -> SigningKey {
    SigningKey {
        kid: kid.to_owned(),
        alg,
        public_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": kid}),
        private_key: format!("private-{kid}"),
        protection: KeyProtection::Aes256Gcm,
        created_at: at(created),
        signs_from: at(created) + Duration::hours(1),
    }
}

both_backends!(a_stored_key_reads_back_unchanged, |db: TestDb| {
    let db = db.database();
    let first = SigningKey {
        protection: KeyProtection::Plain,
        signs_from: t0(),
        ..key("k1", SigningAlg::EdDsa, 0)
    };
    let rotated = key("k2", SigningAlg::EdDsa, 10);
    assert!(db.insert_first_signing_key(&first).unwrap());
    db.insert_signing_key(&rotated).unwrap();
    assert_eq!(db.signing_keys().unwrap(), [first, rotated]);
});

both_backends!(keys_are_listed_oldest_first, |db: TestDb| {
    let db = db.database();
    db.insert_signing_key(&key("late", SigningAlg::Rs256, 50))
        .unwrap();
    db.insert_signing_key(&key("early", SigningAlg::Es256, 5))
        .unwrap();
    let kids: Vec<String> = db
        .signing_keys()
        .unwrap()
        .into_iter()
        .map(|key| key.kid)
        .collect();
    assert_eq!(kids, ["early", "late"]);
});

both_backends!(a_taken_kid_is_a_conflict, |db: TestDb| {
    let db = db.database();
    db.insert_signing_key(&key("same", SigningAlg::Rs256, 0))
        .unwrap();
    let error = db
        .insert_signing_key(&key("same", SigningAlg::Es256, 1))
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
    assert_eq!(db.signing_keys().unwrap().len(), 1);
});

both_backends!(only_one_first_key_per_algorithm_is_stored, |db: TestDb| {
    let db = db.database();
    assert!(db
        .insert_first_signing_key(&key("rsa-1", SigningAlg::Rs256, 0))
        .unwrap());
    assert!(!db
        .insert_first_signing_key(&key("rsa-2", SigningAlg::Rs256, 0))
        .unwrap());
    assert!(db
        .insert_first_signing_key(&key("ec-1", SigningAlg::Es256, 0))
        .unwrap());
    // Rotated keys do not take the slot, however many there are.
    db.insert_signing_key(&key("rsa-3", SigningAlg::Rs256, 1))
        .unwrap();
    db.insert_signing_key(&key("rsa-4", SigningAlg::Rs256, 2))
        .unwrap();
    let kids: Vec<String> = db
        .signing_keys()
        .unwrap()
        .into_iter()
        .map(|key| key.kid)
        .collect();
    assert_eq!(kids, ["ec-1", "rsa-1", "rsa-3", "rsa-4"]);
});

both_backends!(
    processes_racing_to_store_the_first_key_store_exactly_one,
    |db: TestDb| {
        let processes = processes(&db.url(), 8);
        let racers: Vec<_> = processes.iter().enumerate().collect();
        let stored: Vec<bool> = race(&racers, |(index, process)| {
            process
                .insert_first_signing_key(&key(&format!("k{index}"), SigningAlg::Rs256, 0))
                .unwrap()
        });
        assert_eq!(stored.iter().filter(|won| **won).count(), 1, "{stored:?}");
        let keys = db.database().signing_keys().unwrap();
        assert_eq!(keys.len(), 1);
        let winner = stored.iter().position(|won| *won).unwrap();
        assert_eq!(keys[0].kid, format!("k{winner}"));
    }
);

both_backends!(
    a_row_with_an_unknown_alg_is_an_error_not_a_panic,
    |db: TestDb| {
        raw_execute(
            &db,
            "INSERT INTO signing_keys \
             (kid, alg, public_jwk, private_key, protection, first_for, created_at, signs_from) \
             VALUES ('bad', 'HS256', '{}', 'x', 'plain', NULL, 0, 0)",
        );
        let error = db.database().signing_keys().unwrap_err();
        assert!(
            matches!(&error, StoreError::Other(text) if text.contains("HS256")),
            "{error:?}"
        );
    }
);
