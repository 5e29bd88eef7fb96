//! Private signing keys at rest (DESIGN §5): with `TESSERA_SECRET_KEY` set they are sealed
//! with AES-256-GCM under a key derived from it with HKDF-SHA256; without it they are kept
//! as they are, marked [`KeyProtection::Plain`].
//!
//! A sealed key is stored as base64 of `nonce (12 bytes) || ciphertext || tag`, with the
//! key's `kid` as associated data, so a sealed key cannot be moved to another record.
//!
//! While the secret is rotated, `TESSERA_SECRET_KEY_PREVIOUS` names the secret it replaces:
//! keys sealed under it still open ([`AtRest::with_previous`]), and [`AtRest::reseal`] seals
//! them again under the current secret, so the previous one is soon needed no more.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::RngCore as _;
use sha2::Sha256;
use tessera_domain::signing_key::{KeyProtection, SigningKey};

use super::KeyError;

/// HKDF salt: names the application, so the derived key serves Tessera alone.
const HKDF_SALT: &[u8] = b"tessera";

/// HKDF info: names the purpose, so this key differs from any other derived from the secret.
const HKDF_INFO: &[u8] = b"tessera signing keys at rest v1";

/// The AES-GCM nonce length in bytes.
const NONCE_BYTES: usize = 12;

/// How private keys are protected in the database: sealed under `TESSERA_SECRET_KEY`, or not.
pub struct AtRest {
    cipher: Option<Aes256Gcm>,
    /// The cipher of `TESSERA_SECRET_KEY_PREVIOUS`, which only opens.
    previous: Option<Aes256Gcm>,
}

/// What a stored private key opened under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenedUnder {
    /// It was not sealed.
    Nothing,
    /// The current secret.
    Current,
    /// The previous secret.
    Previous,
}

impl std::fmt::Debug for AtRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtRest")
            .field("protection", &self.protection())
            .field("previous_secret", &self.previous.is_some())
            .finish()
    }
}

impl AtRest {
    /// Seals under a key derived from `secret` (the bytes of `TESSERA_SECRET_KEY`), or
    /// keeps keys plain when there is none.
    pub fn new(secret: Option<&[u8]>) -> Result<Self, KeyError> {
        Ok(Self {
            cipher: secret.map(cipher).transpose()?,
            previous: None,
        })
    }

    /// Also opens keys sealed under `previous` (the bytes of `TESSERA_SECRET_KEY_PREVIOUS`).
    pub fn with_previous(self, previous: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            previous: Some(cipher(previous)?),
            ..self
        })
    }

    /// How new keys are stored.
    pub fn protection(&self) -> KeyProtection {
        match self.cipher {
            Some(_) => KeyProtection::Aes256Gcm,
            None => KeyProtection::Plain,
        }
    }

    /// The private key `der` of key `kid` as stored: `(text, protection)`.
    pub fn seal(&self, kid: &str, der: &[u8]) -> Result<(String, KeyProtection), KeyError> {
        let Some(cipher) = &self.cipher else {
            return Ok((STANDARD.encode(der), KeyProtection::Plain));
        };
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: der,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|error| KeyError::Crypto(format!("AES-256-GCM: {error}")))?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok((STANDARD.encode(stored), KeyProtection::Aes256Gcm))
    }

    /// The private key of `key` as DER: decoded, and opened if it was sealed (under the
    /// current secret or the previous one).
    pub fn open(&self, key: &SigningKey) -> Result<Vec<u8>, KeyError> {
        self.open_telling_how(key).map(|(der, _)| der)
    }

    /// `key` sealed under the current secret, when it opens only under the previous one;
    /// `None` when it needs nothing (or there is no current secret to seal it under).
    pub fn reseal(&self, key: &SigningKey) -> Result<Option<SigningKey>, KeyError> {
        if self.cipher.is_none() {
            return Ok(None);
        }
        let (der, opened_under) = self.open_telling_how(key)?;
        if opened_under != OpenedUnder::Previous {
            return Ok(None);
        }
        let (private_key, protection) = self.seal(&key.kid, &der)?;
        Ok(Some(SigningKey {
            private_key,
            protection,
            ..key.clone()
        }))
    }

    /// [`Self::open`], and which secret opened it.
    fn open_telling_how(&self, key: &SigningKey) -> Result<(Vec<u8>, OpenedUnder), KeyError> {
        let bytes = STANDARD.decode(key.private_key.trim()).map_err(|_| {
            KeyError::Corrupt(format!("the private key of {} is not base64", key.kid))
        })?;
        match key.protection {
            KeyProtection::Plain => Ok((bytes, OpenedUnder::Nothing)),
            KeyProtection::Aes256Gcm => {
                if self.cipher.is_none() && self.previous.is_none() {
                    return Err(KeyError::SecretKeyMissing {
                        kid: key.kid.clone(),
                    });
                }
                if bytes.len() < NONCE_BYTES {
                    return Err(KeyError::Corrupt(format!(
                        "the sealed private key of {} is too short",
                        key.kid
                    )));
                }
                let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
                [
                    self.cipher
                        .as_ref()
                        .map(|cipher| (cipher, OpenedUnder::Current)),
                    self.previous
                        .as_ref()
                        .map(|cipher| (cipher, OpenedUnder::Previous)),
                ]
                .into_iter()
                .flatten()
                .find_map(|(cipher, under)| {
                    cipher
                        .decrypt(
                            Nonce::from_slice(nonce),
                            Payload {
                                msg: sealed,
                                aad: key.kid.as_bytes(),
                            },
                        )
                        .ok()
                        .map(|der| (der, under))
                })
                .ok_or_else(|| KeyError::WrongSecretKey {
                    kid: key.kid.clone(),
                })
            }
        }
    }
}

/// The AES-256-GCM cipher keyed by HKDF-SHA256 of `secret`.
fn cipher(secret: &[u8]) -> Result<Aes256Gcm, KeyError> {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(HKDF_SALT), secret)
        .expand(HKDF_INFO, &mut key)
        .map_err(|error| KeyError::Crypto(format!("HKDF: {error}")))?;
    Aes256Gcm::new_from_slice(&key)
        .map_err(|error| KeyError::Crypto(format!("AES-256-GCM key: {error}")))
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;
    use tessera_domain::signing::SigningAlg;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-one";
    const OTHER: &[u8] = b"0123456789abcdef0123456789abcdef-two";

    fn stored(at_rest: &AtRest, kid: &str, der: &[u8]) -> SigningKey {
        let (private_key, protection) = at_rest.seal(kid, der).unwrap();
        SigningKey {
            kid: kid.to_owned(),
            alg: SigningAlg::EdDsa,
            public_jwk: json!({}),
            private_key,
            protection,
            created_at: DateTime::UNIX_EPOCH,
            signs_from: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_sealed_key_opens_under_the_same_secret_and_hides_its_bytes() {
        let at_rest = AtRest::new(Some(SECRET)).unwrap();
        let der = b"private key bytes that must not show".to_vec();
        let key = stored(&at_rest, "k1", &der);
        assert_eq!(key.protection, KeyProtection::Aes256Gcm);
        let raw = STANDARD.decode(&key.private_key).unwrap();
        assert!(!raw.windows(der.len()).any(|window| window == der));
        assert_eq!(at_rest.open(&key).unwrap(), der);
        // Two seals of one key differ (fresh nonces).
        assert_ne!(stored(&at_rest, "k1", &der).private_key, key.private_key);
    }

    #[test]
    fn a_key_sealed_under_another_secret_is_an_error_naming_the_setting() {
        let key = stored(&AtRest::new(Some(SECRET)).unwrap(), "k1", b"der");
        let error = AtRest::new(Some(OTHER)).unwrap().open(&key).unwrap_err();
        assert!(
            matches!(error, KeyError::WrongSecretKey { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("TESSERA_SECRET_KEY"), "{error}");
        let error = AtRest::new(None).unwrap().open(&key).unwrap_err();
        assert!(
            matches!(error, KeyError::SecretKeyMissing { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("TESSERA_SECRET_KEY"), "{error}");
    }

    #[test]
    fn a_sealed_key_moved_to_another_kid_does_not_open() {
        let at_rest = AtRest::new(Some(SECRET)).unwrap();
        let moved = SigningKey {
            kid: "k2".to_owned(),
            ..stored(&at_rest, "k1", b"der")
        };
        assert!(matches!(
            at_rest.open(&moved),
            Err(KeyError::WrongSecretKey { .. })
        ));
    }

    fn rotated() -> AtRest {
        AtRest::new(Some(OTHER))
            .unwrap()
            .with_previous(SECRET)
            .unwrap()
    }

    #[test]
    fn a_key_sealed_under_the_previous_secret_opens_and_reseals_under_the_current_one() {
        let der = b"private key bytes".to_vec();
        let old = stored(&AtRest::new(Some(SECRET)).unwrap(), "k1", &der);
        let at_rest = rotated();
        assert_eq!(at_rest.open(&old).unwrap(), der);
        let resealed = at_rest
            .reseal(&old)
            .unwrap()
            .expect("sealed under the previous secret");
        assert_ne!(resealed.private_key, old.private_key);
        assert_eq!(resealed.protection, KeyProtection::Aes256Gcm);
        assert_eq!(
            SigningKey {
                private_key: old.private_key.clone(),
                ..resealed.clone()
            },
            old,
            "only the private key changes"
        );
        // The current secret alone opens the re-sealed key; the previous one no longer does.
        assert_eq!(
            AtRest::new(Some(OTHER)).unwrap().open(&resealed).unwrap(),
            der
        );
        assert!(matches!(
            AtRest::new(Some(SECRET)).unwrap().open(&resealed),
            Err(KeyError::WrongSecretKey { .. })
        ));
        assert_eq!(at_rest.reseal(&resealed).unwrap(), None);
    }

    #[test]
    fn plain_keys_and_keys_under_neither_secret_are_not_resealed() {
        let at_rest = rotated();
        let plain = stored(&AtRest::new(None).unwrap(), "k1", b"der");
        assert_eq!(at_rest.reseal(&plain).unwrap(), None);
        let third = b"a third secret, not one of the two".as_slice();
        let foreign = stored(&AtRest::new(Some(third)).unwrap(), "k1", b"der");
        assert!(matches!(
            at_rest.open(&foreign),
            Err(KeyError::WrongSecretKey { .. })
        ));
        assert!(matches!(
            at_rest.reseal(&foreign),
            Err(KeyError::WrongSecretKey { .. })
        ));
    }

    #[test]
    fn without_a_secret_keys_are_stored_plain_and_still_read_with_one() {
        let key = stored(&AtRest::new(None).unwrap(), "k1", b"der");
        assert_eq!(key.protection, KeyProtection::Plain);
        assert_eq!(AtRest::new(None).unwrap().open(&key).unwrap(), b"der");
        assert_eq!(
            AtRest::new(Some(SECRET)).unwrap().open(&key).unwrap(),
            b"der"
        );
    }
}
