//! The server's signing keys as stored records, and the rules of their rotation (RFC 7517
//! key sets, OpenID Connect Core §10.1.1): which key signs for an algorithm, which keys the
//! JWK Set publishes, and when a retired key leaves it.
//!
//! A key's life, for one algorithm:
//! 1. **Pending**: added by a rotation, published at once but not yet signing, so that
//!    relying parties fetch it before they meet a token signed with it.
//! 2. **Signing**: from its `signs_from` on, it signs every new JWS for its algorithm, until
//!    a newer key of that algorithm starts signing.
//! 3. **Retiring**: superseded at the newer key's `signs_from`; it signs no more but stays
//!    published while tokens it signed can still be valid (`token_ttl` after it stopped).
//! 4. **Retired**: no longer published, so nothing it signed verifies any more.
//!
//! Every state is derived from the records and a time; rotating is only adding a record.

use chrono::{DateTime, Duration, Utc};

use crate::signing::SigningAlg;

/// How a stored private key is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyProtection {
    /// Stored as it is (no `TESSERA_SECRET_KEY` was configured when it was made).
    Plain,
    /// Encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from `TESSERA_SECRET_KEY`.
    Aes256Gcm,
}

impl KeyProtection {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Aes256Gcm => "aes256gcm",
        }
    }

    /// The protection with this stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Plain, Self::Aes256Gcm]
            .into_iter()
            .find(|known| known.as_str() == name)
    }
}

/// One signing key as stored: its public half as published, and its private half as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The key id (`kid`), unique among all keys.
    pub kid: String,
    /// The one algorithm the key signs with.
    pub alg: SigningAlg,
    /// The public JWK (RFC 7517 §4) with `kty` and its public members, as published.
    pub public_jwk: serde_json::Value,
    /// The private key as stored: base64 text whose meaning `protection` gives.
    pub private_key: String,
    /// How `private_key` is protected.
    pub protection: KeyProtection,
    /// When the key was made.
    pub created_at: DateTime<Utc>,
    /// When it starts signing (its activation time); published from `created_at` on.
    pub signs_from: DateTime<Utc>,
}

/// Where a key is in its life at some time (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet.
    Pending,
    /// Published and signing.
    Signing,
    /// Published, no longer signing; leaves the JWK Set at `until`.
    Retiring {
        /// When it leaves the JWK Set.
        until: DateTime<Utc>,
    },
    /// No longer published.
    Retired,
}

impl KeyState {
    /// The state's name, for listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signing => "signing",
            Self::Retiring { .. } => "retiring",
            Self::Retired => "retired",
        }
    }

    /// Whether the JWK Set publishes a key in this state.
    pub fn is_published(self) -> bool {
        !matches!(self, Self::Retired)
    }
}

/// The order in which keys of one algorithm take over: by activation, then creation, then kid.
fn activation_order(key: &SigningKey) -> (DateTime<Utc>, DateTime<Utc>, &str) {
    (key.signs_from, key.created_at, key.kid.as_str())
}

/// The key that signs for `alg` at `now`: of the keys of `alg` already active, the one that
/// activated last. `None` when no key of `alg` is active yet.
pub fn signing_key(
    keys: &[SigningKey],
    alg: SigningAlg,
    now: DateTime<Utc>,
) -> Option<&SigningKey> {
    keys.iter()
        .filter(|key| key.alg == alg && key.signs_from <= now)
        .max_by(|a, b| activation_order(a).cmp(&activation_order(b)))
}

/// When `key` stops signing: the activation of the next key of its algorithm, if any.
pub fn superseded_at(keys: &[SigningKey], key: &SigningKey) -> Option<DateTime<Utc>> {
    keys.iter()
        .filter(|other| other.alg == key.alg && activation_order(other) > activation_order(key))
        .map(|other| other.signs_from)
        .min()
}

/// When `key` leaves the JWK Set: `token_ttl` after it stops signing, when every token it
/// signed has expired. `None` while no newer key of its algorithm exists.
pub fn leaves_jwks_at(
    keys: &[SigningKey],
    key: &SigningKey,
    token_ttl: Duration,
) -> Option<DateTime<Utc>> {
    superseded_at(keys, key).map(|stopped| stopped + token_ttl)
}

/// Where `key` is in its life at `now`, given the other keys and the lifetime of the tokens
/// it signs.
pub fn key_state(
    keys: &[SigningKey],
    key: &SigningKey,
    now: DateTime<Utc>,
    token_ttl: Duration,
) -> KeyState {
    if now < key.signs_from {
        return KeyState::Pending;
    }
    match superseded_at(keys, key) {
        Some(stopped) if now >= stopped => {
            let until = stopped + token_ttl;
            if now < until {
                KeyState::Retiring { until }
            } else {
                KeyState::Retired
            }
        }
        _ => KeyState::Signing,
    }
}

/// The keys the JWK Set publishes at `now` (pending, signing and retiring ones), in the
/// order given.
pub fn published_keys(
    keys: &[SigningKey],
    now: DateTime<Utc>,
    token_ttl: Duration,
) -> Vec<&SigningKey> {
    keys.iter()
        .filter(|key| key_state(keys, key, now, token_ttl).is_published())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        t0() + Duration::seconds(seconds)
    }

    fn key(kid: &str, alg: SigningAlg, created: i64, signs_from: i64) -> SigningKey {
        SigningKey {
            kid: kid.to_owned(),
            alg,
            public_jwk: serde_json::json!({"kty": "OKP"}),
            private_key: String::new(),
            protection: KeyProtection::Plain,
            created_at: at(created),
            signs_from: at(signs_from),
        }
    }

    const TTL: Duration = Duration::seconds(600);

    /// `old` signing since t0; `new` rotated in at 100, active from 3700.
    fn rotated() -> Vec<SigningKey> {
        vec![
            key("old", SigningAlg::Rs256, 0, 0),
            key("ec", SigningAlg::Es256, 0, 0),
            key("new", SigningAlg::Rs256, 100, 3700),
        ]
    }

    fn kids(keys: Vec<&SigningKey>) -> Vec<&str> {
        keys.into_iter().map(|key| key.kid.as_str()).collect()
    }

    #[test]
    fn a_rotated_key_is_published_at_once_but_signs_only_from_its_activation() {
        let keys = rotated();
        assert_eq!(
            kids(published_keys(&keys, at(100), TTL)),
            ["old", "ec", "new"]
        );
        assert_eq!(
            signing_key(&keys, SigningAlg::Rs256, at(3699)).map(|k| k.kid.as_str()),
            Some("old")
        );
        assert_eq!(
            signing_key(&keys, SigningAlg::Rs256, at(3700)).map(|k| k.kid.as_str()),
            Some("new")
        );
        assert_eq!(key_state(&keys, &keys[2], at(3699), TTL), KeyState::Pending);
        assert_eq!(key_state(&keys, &keys[2], at(3700), TTL), KeyState::Signing);
    }

    #[test]
    fn the_previous_key_stays_published_until_its_last_token_expires() {
        let keys = rotated();
        let old = &keys[0];
        assert_eq!(superseded_at(&keys, old), Some(at(3700)));
        assert_eq!(leaves_jwks_at(&keys, old, TTL), Some(at(4300)));
        assert_eq!(
            key_state(&keys, old, at(4299), TTL),
            KeyState::Retiring { until: at(4300) }
        );
        assert_eq!(
            kids(published_keys(&keys, at(4299), TTL)),
            ["old", "ec", "new"]
        );
        assert_eq!(key_state(&keys, old, at(4300), TTL), KeyState::Retired);
        assert_eq!(kids(published_keys(&keys, at(4300), TTL)), ["ec", "new"]);
    }

    #[test]
    fn a_rotation_of_one_algorithm_leaves_the_others_alone() {
        let keys = rotated();
        assert_eq!(superseded_at(&keys, &keys[1]), None);
        assert_eq!(leaves_jwks_at(&keys, &keys[1], TTL), None);
        assert_eq!(
            key_state(&keys, &keys[1], at(1_000_000), TTL),
            KeyState::Signing
        );
        assert_eq!(
            signing_key(&keys, SigningAlg::Es256, at(1_000_000)).map(|k| k.kid.as_str()),
            Some("ec")
        );
        assert!(signing_key(&keys, SigningAlg::EdDsa, at(0)).is_none());
    }

    #[test]
    fn nothing_signs_before_the_first_key_activates() {
        let keys = vec![key("late", SigningAlg::EdDsa, 0, 50)];
        assert!(signing_key(&keys, SigningAlg::EdDsa, at(49)).is_none());
        assert_eq!(
            signing_key(&keys, SigningAlg::EdDsa, at(50)).map(|k| k.kid.as_str()),
            Some("late")
        );
    }

    #[test]
    fn a_pending_key_rotated_again_signs_only_until_the_next_one_activates() {
        let mut keys = rotated();
        keys.push(key("newest", SigningAlg::Rs256, 200, 3800));
        let new = &keys[2];
        assert_eq!(superseded_at(&keys, new), Some(at(3800)));
        assert_eq!(
            signing_key(&keys, SigningAlg::Rs256, at(3750)).map(|k| k.kid.as_str()),
            Some("new")
        );
        assert_eq!(
            signing_key(&keys, SigningAlg::Rs256, at(3800)).map(|k| k.kid.as_str()),
            Some("newest")
        );
        // The first key stopped when "new" activated, not when "newest" did.
        assert_eq!(leaves_jwks_at(&keys, &keys[0], TTL), Some(at(4300)));
    }

    #[test]
    fn keys_activating_together_are_ordered_by_creation_then_kid() {
        let keys = vec![
            key("b", SigningAlg::Rs256, 0, 10),
            key("a", SigningAlg::Rs256, 0, 10),
        ];
        assert_eq!(
            signing_key(&keys, SigningAlg::Rs256, at(10)).map(|k| k.kid.as_str()),
            Some("b")
        );
        assert_eq!(
            key_state(&keys, &keys[1], at(10), TTL),
            KeyState::Retiring { until: at(610) }
        );
    }

    #[test]
    fn protections_parse_back_from_their_names() {
        for protection in [KeyProtection::Plain, KeyProtection::Aes256Gcm] {
            assert_eq!(KeyProtection::parse(protection.as_str()), Some(protection));
        }
        assert_eq!(KeyProtection::parse("rot13"), None);
    }
}
