//! Where each stored key is in its rotation, for `tessera keys list`; read from the records
//! alone, so no private key is opened.

use chrono::{DateTime, Duration, Utc};
use tessera_domain::signing_key::{self, KeyState, SigningKey};

/// A key's place in the rotation, for `tessera keys list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    /// The key's record.
    pub key: SigningKey,
    /// Its state now.
    pub state: KeyState,
    /// When a newer key of its algorithm takes over, if one exists.
    pub superseded_at: Option<DateTime<Utc>>,
    /// When it leaves the JWK Set, if a newer key exists.
    pub leaves_jwks_at: Option<DateTime<Utc>>,
}

/// Every key in `keys` with its state at `now` (oldest first; no private key is opened).
pub fn key_statuses(
    keys: &[SigningKey],
    now: DateTime<Utc>,
    token_ttl: Duration,
) -> Vec<KeyStatus> {
    keys.iter()
        .map(|key| KeyStatus {
            key: key.clone(),
            state: signing_key::key_state(keys, key, now, token_ttl),
            superseded_at: signing_key::superseded_at(keys, key),
            leaves_jwks_at: signing_key::leaves_jwks_at(keys, key, token_ttl),
        })
        .collect()
}
