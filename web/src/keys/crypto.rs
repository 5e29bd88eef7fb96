//! The key pairs themselves: generating RS256 (RSA 2048), ES256 (P-256) and EdDSA (Ed25519)
//! keys with the RustCrypto crates, their public JWKs (RFC 7517 §4, RFC 7518 §6, RFC 8037
//! §2), and the `jsonwebtoken` keys that sign and verify with them.
//!
//! A private key is handled as PKCS#8 DER for every algorithm; the public JWK is always
//! derived from it, so a stored JWK that does not match its private key is caught on load.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::rngs::OsRng;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use tessera_domain::signing::SigningAlg;

use super::KeyError;

/// The RSA modulus size for RS256 keys, in bits.
pub const RSA_BITS: usize = 2048;

/// A private key in PKCS#8 DER, with the algorithm it is for.
pub struct PrivateKey {
    /// The algorithm the key signs with.
    pub alg: SigningAlg,
    /// PKCS#8 `PrivateKeyInfo`, DER encoded.
    pub pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn crypto(what: &str, error: impl std::fmt::Display) -> KeyError {
    KeyError::Crypto(format!("{what}: {error}"))
}

impl PrivateKey {
    /// A fresh random key for `alg`, from the operating system's generator.
    pub fn generate(alg: SigningAlg) -> Result<Self, KeyError> {
        let document = match alg {
            SigningAlg::Rs256 => rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                .map_err(|error| crypto("RSA key generation", error))?
                .to_pkcs8_der(),
            SigningAlg::Es256 => p256::ecdsa::SigningKey::random(&mut OsRng).to_pkcs8_der(),
            SigningAlg::EdDsa => ed25519_dalek::SigningKey::generate(&mut OsRng).to_pkcs8_der(),
        }
        .map_err(|error| crypto("PKCS#8 encoding", error))?;
        Ok(Self {
            alg,
            pkcs8_der: document.as_bytes().to_vec(),
        })
    }

    /// The public JWK of this key: `kty` and the public members only (RSA `n`, `e`; EC
    /// `crv`, `x`, `y`; OKP `crv`, `x`), each base64url without padding.
    pub fn public_jwk(&self) -> Result<Value, KeyError> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let invalid = |error: &dyn std::fmt::Display| crypto("invalid private key", error);
        Ok(match self.alg {
            SigningAlg::Rs256 => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(&self.pkcs8_der)
                    .map_err(|error| invalid(&error))?;
                json!({
                    "kty": "RSA",
                    "n": b64(&key.n().to_bytes_be()),
                    "e": b64(&key.e().to_bytes_be()),
                })
            }
            SigningAlg::Es256 => {
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(&self.pkcs8_der)
                    .map_err(|error| invalid(&error))?;
                let point = key.verifying_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(invalid(&"the P-256 point has no coordinates"));
                };
                json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)})
            }
            SigningAlg::EdDsa => {
                let key = ed25519_dalek::SigningKey::from_pkcs8_der(&self.pkcs8_der)
                    .map_err(|error| invalid(&error))?;
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes())})
            }
        })
    }

    /// The `jsonwebtoken` key that signs with this key.
    pub fn encoding_key(&self) -> Result<EncodingKey, KeyError> {
        Ok(match self.alg {
            // jsonwebtoken reads RSA keys as PKCS#1.
            SigningAlg::Rs256 => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(&self.pkcs8_der)
                    .map_err(|error| crypto("invalid private key", error))?;
                let pkcs1 = key
                    .to_pkcs1_der()
                    .map_err(|error| crypto("PKCS#1 encoding", error))?;
                EncodingKey::from_rsa_der(pkcs1.as_bytes())
            }
            SigningAlg::Es256 => EncodingKey::from_ec_der(&self.pkcs8_der),
            SigningAlg::EdDsa => EncodingKey::from_ed_der(&self.pkcs8_der),
        })
    }
}

/// The `jsonwebtoken` algorithm for `alg`.
pub fn algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Rs256 => Algorithm::RS256,
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::EdDsa => Algorithm::EdDSA,
    }
}

/// A public JWK as `jsonwebtoken` reads it.
fn parse_jwk(public_jwk: &Value) -> Result<Jwk, KeyError> {
    serde_json::from_value(public_jwk.clone()).map_err(|error| crypto("unreadable JWK", error))
}

/// The key id for a public JWK: its RFC 7638 SHA-256 thumbprint, unique per key.
pub fn thumbprint(public_jwk: &Value) -> Result<String, KeyError> {
    Ok(parse_jwk(public_jwk)?.thumbprint(ThumbprintHash::SHA256))
}

/// The `jsonwebtoken` key that verifies signatures of the key with this public JWK.
pub fn decoding_key(public_jwk: &Value) -> Result<DecodingKey, KeyError> {
    DecodingKey::from_jwk(&parse_jwk(public_jwk)?).map_err(|error| crypto("unusable JWK", error))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Header, Validation};

    use super::*;

    fn members(jwk: &Value) -> Vec<&str> {
        let mut names: Vec<&str> = jwk
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default();
        names.sort_unstable();
        names
    }

    #[test]
    fn each_algorithm_signs_what_its_public_jwk_verifies() {
        for alg in SigningAlg::ALL {
            let key = PrivateKey::generate(alg).unwrap();
            let jwk = key.public_jwk().unwrap();
            let claims = json!({"sub": "alice", "n": 1});
            let header = Header::new(algorithm(alg));
            let jws = jsonwebtoken::encode(&header, &claims, &key.encoding_key().unwrap()).unwrap();

            let mut validation = Validation::new(algorithm(alg));
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            let decoded =
                jsonwebtoken::decode::<Value>(&jws, &decoding_key(&jwk).unwrap(), &validation)
                    .unwrap();
            assert_eq!(decoded.claims, claims, "{alg:?}");

            let other = PrivateKey::generate(alg).unwrap().public_jwk().unwrap();
            assert!(
                jsonwebtoken::decode::<Value>(&jws, &decoding_key(&other).unwrap(), &validation)
                    .is_err(),
                "{alg:?}: another key must not verify"
            );
        }
    }

    #[test]
    fn public_jwks_have_only_the_public_members_of_their_key_type() {
        let shapes = [
            (SigningAlg::Rs256, vec!["e", "kty", "n"], "RSA"),
            (SigningAlg::Es256, vec!["crv", "kty", "x", "y"], "EC"),
            (SigningAlg::EdDsa, vec!["crv", "kty", "x"], "OKP"),
        ];
        for (alg, expected, kty) in shapes {
            let jwk = PrivateKey::generate(alg).unwrap().public_jwk().unwrap();
            assert_eq!(members(&jwk), expected, "{alg:?}");
            assert_eq!(jwk["kty"], kty);
        }
        let rsa = PrivateKey::generate(SigningAlg::Rs256)
            .unwrap()
            .public_jwk()
            .unwrap();
        let modulus = URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap();
        assert_eq!(modulus.len() * 8, RSA_BITS);
        assert_eq!(rsa["e"], "AQAB");
    }

    #[test]
    fn thumbprints_tell_keys_apart_and_are_stable() {
        let jwk = PrivateKey::generate(SigningAlg::EdDsa)
            .unwrap()
            .public_jwk()
            .unwrap();
        let other = PrivateKey::generate(SigningAlg::EdDsa)
            .unwrap()
            .public_jwk()
            .unwrap();
        assert_eq!(thumbprint(&jwk).unwrap(), thumbprint(&jwk).unwrap());
        assert_ne!(thumbprint(&jwk).unwrap(), thumbprint(&other).unwrap());
        assert_eq!(thumbprint(&jwk).unwrap().len(), 43);
    }

    #[test]
    fn a_key_of_the_wrong_algorithm_is_an_error_not_a_panic() {
        let ec = PrivateKey::generate(SigningAlg::Es256).unwrap();
        let confused = PrivateKey {
            alg: SigningAlg::Rs256,
            pkcs8_der: ec.pkcs8_der,
        };
        assert!(matches!(confused.public_jwk(), Err(KeyError::Crypto(_))));
        assert!(matches!(confused.encoding_key(), Err(KeyError::Crypto(_))));
    }
}
