//! Signing JWTs (RFC 7515, RFC 7519): the algorithms Tessera offers, the [`JwtType`] every
//! JWT it signs declares, and the [`Signer`] that holds the server's keys. The keys themselves (generation, storage,
//! rotation, the JWK Set) live outside the domain; the domain only asks for signatures.

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::StoreError;

/// A JWS algorithm Tessera signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the default, which every OpenID client can verify.
    #[default]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl SigningAlg {
    /// Every algorithm, the default first.
    pub const ALL: [Self; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The algorithm named `alg`, exactly as registered names are spelled.
    pub fn parse(alg: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.as_str() == alg)
    }

    /// The left half of the hash this algorithm signs with, over `value`: the `at_hash` and
    /// `c_hash` of OpenID Connect Core §3.1.3.6 (SHA-512 for Ed25519), before base64url.
    pub fn left_half_hash(self, value: &str) -> Vec<u8> {
        let full = match self {
            Self::Rs256 | Self::Es256 => Sha256::digest(value.as_bytes()).to_vec(),
            Self::EdDsa => Sha512::digest(value.as_bytes()).to_vec(),
        };
        full[..full.len() / 2].to_vec()
    }
}

/// What a JWT is, as its `typ` header says (explicit typing, RFC 8725 §3.11), so that one
/// kind of token is never accepted as another: an access token is no ID token, and an ID
/// token is no access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtType {
    /// An OpenID Connect ID token: `typ: JWT`.
    IdToken,
    /// A JWT access token (RFC 9068 §2.1): `typ: at+jwt`.
    AccessToken,
}

impl JwtType {
    /// The `typ` header value Tessera writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdToken => "JWT",
            Self::AccessToken => "at+jwt",
        }
    }

    /// Whether a header's `typ` declares this type: the value Tessera writes, compared
    /// without regard to case and with an optional `application/` prefix (RFC 7515 §4.1.9,
    /// RFC 9068 §4). A missing `typ` declares nothing.
    pub fn matches(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return false;
        };
        let media_type = typ
            .get(..12)
            .filter(|prefix| prefix.eq_ignore_ascii_case("application/"))
            .map_or(typ, |_| &typ[12..]);
        media_type.eq_ignore_ascii_case(self.as_str())
    }
}

/// Signs JWTs with the server's current keys, shared by every process.
pub trait Signer: Send + Sync {
    /// `claims` (a JSON object) as a compact JWS of type `typ` signed with the current key
    /// for `alg`, whose `kid` is in the header.
    fn sign(
        &self,
        alg: SigningAlg,
        typ: JwtType,
        claims: &serde_json::Value,
    ) -> Result<String, StoreError>;

    /// The claims of a JWS of type `typ` that this server signed with a key it still
    /// publishes, whatever its `exp`; `None` if the signature does not verify or the header
    /// declares another type.
    fn verify(&self, jws: &str, typ: JwtType) -> Result<Option<serde_json::Value>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_parses_back_from_its_name() {
        for alg in SigningAlg::ALL {
            assert_eq!(SigningAlg::parse(alg.as_str()), Some(alg));
        }
        assert_eq!(SigningAlg::parse("rs256"), None);
        assert_eq!(SigningAlg::parse("none"), None);
    }

    #[test]
    fn a_type_matches_its_own_typ_in_any_case_with_or_without_the_media_prefix() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+JWT",
        ] {
            assert!(JwtType::AccessToken.matches(Some(typ)), "{typ}");
        }
        for typ in [
            None,
            Some("JWT"),
            Some("at+jwt+x"),
            Some("application/"),
            Some("é"),
        ] {
            assert!(!JwtType::AccessToken.matches(typ), "{typ:?}");
        }
        assert!(JwtType::IdToken.matches(Some("JWT")));
        assert!(!JwtType::IdToken.matches(Some("at+jwt")));
        assert!(!JwtType::IdToken.matches(None));
    }

    #[test]
    fn left_half_hash_is_half_of_the_algorithms_hash() {
        assert_eq!(SigningAlg::Rs256.left_half_hash("token").len(), 16);
        assert_eq!(SigningAlg::Es256.left_half_hash("token").len(), 16);
        assert_eq!(SigningAlg::EdDsa.left_half_hash("token").len(), 32);
    }
}
