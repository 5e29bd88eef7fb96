//! The keyring over an in-memory store, on a fixed clock.

use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use tessera_domain::signing_key::{KeyProtection, KeyState};
use tessera_domain::FixedClock;

use super::*;

/// Keys in a vector; the first-key slot is the first key of each algorithm.
#[derive(Default)]
struct VecStore(Mutex<Vec<SigningKey>>);

impl VecStore {
    fn keys(&self) -> std::sync::MutexGuard<'_, Vec<SigningKey>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SigningKeyStore for VecStore {
    fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        self.keys().push(key.clone());
        Ok(())
    }

    fn insert_first_signing_key(&self, key: &SigningKey) -> Result<bool, StoreError> {
        let mut keys = self.keys();
        if keys.iter().any(|stored| stored.alg == key.alg) {
            return Ok(false);
        }
        keys.push(key.clone());
        Ok(true)
    }

    fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        Ok(self.keys().clone())
    }

    fn reseal_signing_key(&self, resealed: &SigningKey, was: &str) -> Result<bool, StoreError> {
        let mut keys = self.keys();
        let Some(stored) = keys
            .iter_mut()
            .find(|key| key.kid == resealed.kid && key.private_key == was)
        else {
            return Ok(false);
        };
        stored.private_key.clone_from(&resealed.private_key);
        stored.protection = resealed.protection;
        Ok(true)
    }
}

const SECRET: &[u8] = b"a test secret key of at least 32 bytes";

fn settings() -> KeySettings {
    KeySettings {
        activation_delay: Duration::hours(1),
        token_ttl: Duration::minutes(10),
        reload_interval: RELOAD_INTERVAL,
    }
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at(
        DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
    ))
}

fn open(store: &Arc<VecStore>, secret: Option<&[u8]>) -> Result<Keyring, KeyError> {
    open_with(store, AtRest::new(secret).unwrap())
}

fn open_with(store: &Arc<VecStore>, at_rest: AtRest) -> Result<Keyring, KeyError> {
    Keyring::open(
        Arc::clone(store) as Arc<dyn SigningKeyStore>,
        clock(),
        at_rest,
        settings(),
    )
}

/// The secret that replaces [`SECRET`].
const NEW_SECRET: &[u8] = b"the secret that replaces the test secret key";

/// Sealed under [`NEW_SECRET`], still opening what [`SECRET`] sealed.
fn rotated_secret() -> AtRest {
    AtRest::new(Some(NEW_SECRET))
        .unwrap()
        .with_previous(SECRET)
        .unwrap()
}

/// A writer into a shared buffer, for capturing what a subscriber logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `run` logs at TRACE and above on this thread, and what it returned.
fn logged<T>(run: impl FnOnce() -> T) -> (String, T) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let returned = tracing::subscriber::with_default(subscriber, run);
    let bytes = captured
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    (String::from_utf8(bytes).unwrap(), returned)
}

#[test]
fn a_second_keyring_on_the_same_store_uses_the_keys_already_there() {
    let store = Arc::new(VecStore::default());
    let first = open(&store, Some(SECRET)).unwrap();
    let stored = store.signing_keys().unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored
        .iter()
        .all(|key| key.protection == KeyProtection::Aes256Gcm));
    let second = open(&store, Some(SECRET)).unwrap();
    assert_eq!(store.signing_keys().unwrap(), stored);
    assert_eq!(first.jwks().unwrap(), second.jwks().unwrap());
    let jws = first
        .sign(SigningAlg::Es256, JwtType::IdToken, &json!({"sub": "a"}))
        .unwrap();
    assert_eq!(
        second.verify(&jws, JwtType::IdToken).unwrap(),
        Some(json!({"sub": "a"}))
    );
}

#[test]
fn a_keyring_under_another_secret_refuses_to_open() {
    let store = Arc::new(VecStore::default());
    open(&store, Some(SECRET)).unwrap();
    let error = open(&store, Some(b"another secret key of at least 32 bytes")).unwrap_err();
    assert!(
        matches!(error, KeyError::WrongSecretKey { .. }),
        "{error:?}"
    );
    let error = open(&store, None).unwrap_err();
    assert!(
        matches!(error, KeyError::SecretKeyMissing { .. }),
        "{error:?}"
    );
}

#[test]
fn a_stored_public_key_that_is_not_its_private_keys_is_refused() {
    let store = Arc::new(VecStore::default());
    open(&store, None).unwrap();
    let other = PrivateKey::generate(SigningAlg::EdDsa)
        .unwrap()
        .public_jwk()
        .unwrap();
    for key in store.keys().iter_mut() {
        if key.alg == SigningAlg::EdDsa {
            key.public_jwk = other.clone();
        }
    }
    assert!(matches!(open(&store, None), Err(KeyError::Corrupt(_))));
}

#[test]
fn a_signature_under_another_header_alg_or_kid_does_not_verify() {
    let store = Arc::new(VecStore::default());
    let keyring = open(&store, None).unwrap();
    let jws = keyring
        .sign(SigningAlg::Rs256, JwtType::IdToken, &json!({"sub": "a"}))
        .unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap();
    for changed in [
        json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
        json!({"alg": "RS256", "kid": "unknown", "typ": "JWT"}),
        json!({"alg": "RS256", "typ": "JWT"}),
    ] {
        let header = URL_SAFE_NO_PAD.encode(changed.to_string());
        let forged = format!("{header}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            keyring.verify(&forged, JwtType::IdToken).unwrap(),
            None,
            "{changed}"
        );
    }
    assert_eq!(
        keyring.verify(&jws, JwtType::IdToken).unwrap(),
        Some(json!({"sub": "a"}))
    );
}

#[test]
fn a_jwt_verifies_only_as_the_type_it_was_signed_as() {
    let store = Arc::new(VecStore::default());
    let keyring = open(&store, None).unwrap();
    let claims = json!({"sub": "a"});
    let access = keyring
        .sign(SigningAlg::EdDsa, JwtType::AccessToken, &claims)
        .unwrap();
    let header = jsonwebtoken::decode_header(&access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(
        keyring.verify(&access, JwtType::AccessToken).unwrap(),
        Some(claims.clone())
    );
    assert_eq!(keyring.verify(&access, JwtType::IdToken).unwrap(), None);
    let id_token = keyring
        .sign(SigningAlg::EdDsa, JwtType::IdToken, &claims)
        .unwrap();
    assert_eq!(
        keyring.verify(&id_token, JwtType::AccessToken).unwrap(),
        None
    );
}

#[test]
fn rotating_adds_a_pending_key_without_changing_the_signer() {
    let store = Arc::new(VecStore::default());
    let keyring = open(&store, None).unwrap();
    let before = keyring
        .sign(SigningAlg::EdDsa, JwtType::IdToken, &json!({}))
        .unwrap();
    let new = keyring.rotate(SigningAlg::EdDsa).unwrap();
    let statuses = keyring.statuses().unwrap();
    let state = |kid: &str| {
        statuses
            .iter()
            .find(|status| status.key.kid == kid)
            .map(|status| status.state)
    };
    assert_eq!(state(&new.kid), Some(KeyState::Pending));
    let after = keyring
        .sign(SigningAlg::EdDsa, JwtType::IdToken, &json!({}))
        .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&before).unwrap().kid,
        jsonwebtoken::decode_header(&after).unwrap().kid
    );
    assert_eq!(
        keyring.jwks().unwrap()["keys"].as_array().map(Vec::len),
        Some(4)
    );
}

#[test]
fn the_previous_secret_opens_the_keys_once_and_they_are_resealed_under_the_new_one() {
    let store = Arc::new(VecStore::default());
    let before = open(&store, Some(SECRET)).unwrap();
    let jws = before
        .sign(SigningAlg::Rs256, JwtType::IdToken, &json!({"sub": "a"}))
        .unwrap();
    let sealed_before = store.signing_keys().unwrap();
    assert!(matches!(
        open(&store, Some(NEW_SECRET)),
        Err(KeyError::WrongSecretKey { .. })
    ));

    let (log, rotated) = logged(|| open_with(&store, rotated_secret()));
    let rotated = rotated.unwrap();
    let resealed = store.signing_keys().unwrap();
    assert_eq!(resealed.len(), sealed_before.len());
    for (old, new) in sealed_before.iter().zip(&resealed) {
        assert_eq!(
            (&new.kid, &new.public_jwk, new.protection),
            (&old.kid, &old.public_jwk, KeyProtection::Aes256Gcm),
            "the same key, not a new one"
        );
        assert_ne!(new.private_key, old.private_key, "{}", old.kid);
        assert!(
            !log.contains(&old.private_key) && !log.contains(&new.private_key),
            "{log}"
        );
    }
    assert!(
        log.contains("signing keys re-sealed under the new secret") && log.contains("count=3"),
        "{log}"
    );
    assert_eq!(
        rotated.verify(&jws, JwtType::IdToken).unwrap(),
        Some(json!({"sub": "a"}))
    );
    assert_eq!(rotated.jwks().unwrap(), before.jwks().unwrap());

    // The previous secret is needed no more, and no longer opens the keys.
    let after = open(&store, Some(NEW_SECRET)).unwrap();
    assert_eq!(
        after.verify(&jws, JwtType::IdToken).unwrap(),
        Some(json!({"sub": "a"}))
    );
    assert!(matches!(
        open(&store, Some(SECRET)),
        Err(KeyError::WrongSecretKey { .. })
    ));
    // Starting again with both secrets re-seals nothing.
    let (log, again) = logged(|| open_with(&store, rotated_secret()));
    again.unwrap();
    assert_eq!(store.signing_keys().unwrap(), resealed);
    assert!(!log.contains("re-sealed"), "{log}");
}
