//! The server's signing keys: the [`Keyring`] that signs JWTs and publishes the JWK Set,
//! shared by every process on one database.
//!
//! - Keys live in the database ([`SigningKeyStore`]); each process caches them and reloads
//!   every [`RELOAD_INTERVAL`] (by its clock) and when it meets a `kid` it does not know, so
//!   all processes serve the same key set.
//! - On first start each algorithm gets one key; processes starting together agree on one
//!   per algorithm ([`SigningKeyStore::insert_first_signing_key`]).
//! - [`Keyring::rotate`] adds a key that is published at once and signs only after
//!   `TESSERA_KEY_ACTIVATION_DELAY`; the rules of what signs and what is published are the
//!   domain's ([`tessera_domain::signing_key`]).
//! - Private keys are sealed at rest under `TESSERA_SECRET_KEY` ([`at_rest`]); keys still
//!   sealed under `TESSERA_SECRET_KEY_PREVIOUS` are sealed again under the current secret
//!   when a keyring opens. Key pairs and JWKs are made in [`crypto`].
//!
//! Every method may block on the database: call them off the executor.

pub mod at_rest;
pub mod crypto;
mod error;
mod status;
#[cfg(test)]
mod tests;

pub use error::KeyError;
pub use status::{key_statuses, KeyStatus};

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use tessera_domain::signing::{JwtType, Signer, SigningAlg};
use tessera_domain::signing_key::{self, SigningKey};
use tessera_domain::store::SigningKeyStore;
use tessera_domain::{Clock, StoreError};

use self::at_rest::AtRest;
use self::crypto::PrivateKey;

/// How long relying parties may cache the JWK Set (`Cache-Control: max-age`): 50 minutes, so
/// that the default activation delay (one hour) covers a cache fetched just before a
/// rotation plus [`RELOAD_INTERVAL`] for the other processes to see the new key.
pub const JWKS_MAX_AGE: Duration = Duration::seconds(3000);

/// How often a process reloads the keys from the database.
pub const RELOAD_INTERVAL: Duration = Duration::seconds(60);

/// The default `TESSERA_KEY_ACTIVATION_DELAY`: one hour.
pub const DEFAULT_ACTIVATION_DELAY: Duration = Duration::hours(1);

/// The least real time between two reloads caused by unknown `kid`s, so that forged tokens
/// cannot turn into a stream of database reads.
const FORCED_RELOAD_SPACING: std::time::Duration = std::time::Duration::from_secs(1);

/// The timing rules of a keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySettings {
    /// `TESSERA_KEY_ACTIVATION_DELAY`: how long after a rotation the new key starts signing.
    pub activation_delay: Duration,
    /// How long the tokens a key signs stay valid (the longer of `TESSERA_ACCESS_TOKEN_TTL`,
    /// which ID tokens live, and `TESSERA_JWT_ACCESS_TOKEN_TTL`), and so how
    /// long a superseded key stays published.
    pub token_ttl: Duration,
    /// How often the keys are reloaded from the database.
    pub reload_interval: Duration,
}

/// One key as the JWK Set and the verifier need it: its record and usable keys.
struct LoadedKey {
    record: SigningKey,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// The keys as last loaded.
struct Cache {
    loaded_at: DateTime<Utc>,
    /// Every stored key, oldest first.
    records: Vec<SigningKey>,
    /// The usable keys, by kid (only those still published when loaded or later).
    keys: HashMap<String, Arc<LoadedKey>>,
}

/// The server's signing keys, cached from the database; implements [`Signer`].
pub struct Keyring {
    store: Arc<dyn SigningKeyStore>,
    clock: Arc<dyn Clock>,
    at_rest: AtRest,
    settings: KeySettings,
    cache: RwLock<Cache>,
    last_forced_reload: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("settings", &self.settings)
            .field("at_rest", &self.at_rest)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Loads the keys from `store`, first generating and storing one for every algorithm
    /// that has none, and re-sealing under the current secret every key sealed under the
    /// previous one. Fails with a message naming `TESSERA_SECRET_KEY` when a key does not
    /// open under `at_rest`. Blocking.
    pub fn open(
        store: Arc<dyn SigningKeyStore>,
        clock: Arc<dyn Clock>,
        at_rest: AtRest,
        settings: KeySettings,
    ) -> Result<Self, KeyError> {
        let now = clock.now();
        let keyring = Self {
            store,
            clock,
            at_rest,
            settings,
            cache: RwLock::new(Cache {
                loaded_at: now,
                records: Vec::new(),
                keys: HashMap::new(),
            }),
            last_forced_reload: Mutex::new(None),
        };
        let stored = keyring.store.signing_keys()?;
        for alg in SigningAlg::ALL {
            if !stored.iter().any(|key| key.alg == alg) {
                let first = keyring.new_key(alg, now)?;
                if keyring.store.insert_first_signing_key(&first)? {
                    tracing::info!(kid = %first.kid, alg = alg.as_str(), "generated a signing key");
                }
            }
        }
        keyring.reseal(&stored)?;
        keyring.reload()?;
        Ok(keyring)
    }

    /// Seals again under the current secret every key of `stored` that is sealed under the
    /// previous one, and logs how many this process re-sealed.
    fn reseal(&self, stored: &[SigningKey]) -> Result<(), KeyError> {
        let mut count = 0_usize;
        for key in stored {
            if let Some(resealed) = self.at_rest.reseal(key)? {
                if self.store.reseal_signing_key(&resealed, &key.private_key)? {
                    count += 1;
                }
            }
        }
        if count > 0 {
            tracing::warn!(count, "signing keys re-sealed under the new secret");
        }
        Ok(())
    }

    /// The timing rules this keyring follows.
    pub fn settings(&self) -> KeySettings {
        self.settings
    }

    /// Adds a new key for `alg`, published at once and signing after the activation delay;
    /// the current key of `alg` signs until then. Returns the new key's record.
    pub fn rotate(&self, alg: SigningAlg) -> Result<SigningKey, KeyError> {
        let now = self.now();
        let key = self.new_key(alg, now + self.settings.activation_delay)?;
        self.store.insert_signing_key(&key)?;
        tracing::warn!(
            kid = %key.kid,
            alg = alg.as_str(),
            signs_from = %key.signs_from,
            "signing key rotated"
        );
        self.reload()?;
        Ok(key)
    }

    /// The JWK Set (RFC 7517 §5): `{"keys": [...]}` with the public JWK of every published
    /// key, each with its `kid`, `use: "sig"` and `alg`.
    pub fn jwks(&self) -> Result<Value, KeyError> {
        self.reload_if_due()?;
        let now = self.now();
        let cache = self.read();
        let keys: Vec<Value> =
            signing_key::published_keys(&cache.records, now, self.settings.token_ttl)
                .into_iter()
                .map(|key| {
                    let mut jwk = key.public_jwk.clone();
                    if let Some(members) = jwk.as_object_mut() {
                        members.insert("kid".into(), key.kid.clone().into());
                        members.insert("use".into(), "sig".into());
                        members.insert("alg".into(), key.alg.as_str().into());
                    }
                    jwk
                })
                .collect();
        Ok(json!({ "keys": keys }))
    }

    /// Every stored key with its state now.
    pub fn statuses(&self) -> Result<Vec<KeyStatus>, KeyError> {
        self.reload_if_due()?;
        Ok(key_statuses(
            &self.read().records,
            self.now(),
            self.settings.token_ttl,
        ))
    }

    /// Reads the keys from the database again, opening the private keys it did not know.
    pub fn reload(&self) -> Result<(), KeyError> {
        let now = self.now();
        let records = self.store.signing_keys()?;
        let known: HashMap<String, Arc<LoadedKey>> = self.read().keys.clone();
        let mut keys = HashMap::new();
        for record in signing_key::published_keys(&records, now, self.settings.token_ttl) {
            let loaded = match known.get(&record.kid) {
                Some(loaded) if loaded.record == *record => Arc::clone(loaded),
                _ => Arc::new(self.load(record)?),
            };
            keys.insert(record.kid.clone(), loaded);
        }
        *self.write() = Cache {
            loaded_at: now,
            records,
            keys,
        };
        Ok(())
    }

    /// A new key for `alg` that signs from `signs_from`, sealed as configured.
    fn new_key(&self, alg: SigningAlg, signs_from: DateTime<Utc>) -> Result<SigningKey, KeyError> {
        let private = PrivateKey::generate(alg)?;
        let public_jwk = private.public_jwk()?;
        let kid = crypto::thumbprint(&public_jwk)?;
        let (private_key, protection) = self.at_rest.seal(&kid, &private.pkcs8_der)?;
        Ok(SigningKey {
            kid,
            alg,
            public_jwk,
            private_key,
            protection,
            created_at: self.now(),
            signs_from: whole_seconds(signs_from),
        })
    }

    /// Opens a stored key and checks that its public JWK is its private key's.
    fn load(&self, record: &SigningKey) -> Result<LoadedKey, KeyError> {
        let private = PrivateKey {
            alg: record.alg,
            pkcs8_der: self.at_rest.open(record)?,
        };
        if private.public_jwk()? != record.public_jwk {
            return Err(KeyError::Corrupt(format!(
                "the public JWK of {} does not match its private key",
                record.kid
            )));
        }
        Ok(LoadedKey {
            record: record.clone(),
            encoding: private.encoding_key()?,
            decoding: crypto::decoding_key(&record.public_jwk)?,
        })
    }

    /// The clock's time in whole seconds, as the database stores times.
    fn now(&self) -> DateTime<Utc> {
        whole_seconds(self.clock.now())
    }

    fn reload_if_due(&self) -> Result<(), KeyError> {
        let now = self.now();
        let loaded_at = self.read().loaded_at;
        if now < loaded_at || now - loaded_at >= self.settings.reload_interval {
            self.reload()?;
        }
        Ok(())
    }

    /// Reloads unless another forced reload ran within [`FORCED_RELOAD_SPACING`]; true if
    /// it reloaded.
    fn force_reload(&self) -> Result<bool, KeyError> {
        {
            let mut last = self
                .last_forced_reload
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < FORCED_RELOAD_SPACING) {
                return Ok(false);
            }
            *last = Some(Instant::now());
        }
        self.reload()?;
        Ok(true)
    }

    /// The usable key that signs for `alg` now.
    fn current(&self, alg: SigningAlg) -> Option<Arc<LoadedKey>> {
        let cache = self.read();
        let key = signing_key::signing_key(&cache.records, alg, self.now())?;
        cache.keys.get(&key.kid).cloned()
    }

    /// The usable key `kid`, if it is published now.
    fn published(&self, kid: &str) -> Option<Arc<LoadedKey>> {
        let now = self.now();
        let cache = self.read();
        let published: HashSet<&str> =
            signing_key::published_keys(&cache.records, now, self.settings.token_ttl)
                .into_iter()
                .map(|key| key.kid.as_str())
                .collect();
        published
            .contains(kid)
            .then(|| cache.keys.get(kid).cloned())
            .flatten()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `time` without its fraction of a second.
fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(Duration::seconds(1)).unwrap_or(time)
}

impl Signer for Keyring {
    fn sign(&self, alg: SigningAlg, typ: JwtType, claims: &Value) -> Result<String, StoreError> {
        self.reload_if_due()?;
        let key = match self.current(alg) {
            Some(key) => key,
            None => {
                self.reload()?;
                self.current(alg).ok_or_else(|| {
                    StoreError::Other(format!("no signing key is active for {}", alg.as_str()))
                })?
            }
        };
        let mut header = Header::new(crypto::algorithm(alg));
        header.kid = Some(key.record.kid.clone());
        header.typ = Some(typ.as_str().to_owned());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|error| StoreError::Other(format!("cannot sign: {error}")))
    }

    fn verify(&self, jws: &str, typ: JwtType) -> Result<Option<Value>, StoreError> {
        let Ok(header) = jsonwebtoken::decode_header(jws) else {
            return Ok(None);
        };
        if !typ.matches(header.typ.as_deref()) {
            return Ok(None);
        }
        let Some(kid) = header.kid else {
            return Ok(None);
        };
        self.reload_if_due()?;
        let key = match self.published(&kid) {
            Some(key) => key,
            None if self.force_reload()? => match self.published(&kid) {
                Some(key) => key,
                None => return Ok(None),
            },
            None => return Ok(None),
        };
        let algorithm = crypto::algorithm(key.record.alg);
        if header.alg != algorithm {
            return Ok(None);
        }
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Ok(
            jsonwebtoken::decode::<Value>(jws, &key.decoding, &validation)
                .ok()
                .map(|data| data.claims),
        )
    }
}
