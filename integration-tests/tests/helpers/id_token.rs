//! ID tokens checked as a relying party would (OpenID Connect Core §3.1.3.7), and JWT access
//! tokens as a resource server would (RFC 9068 §4): the signature against the published JWK
//! Set, `iss`, `aud` and `exp`, and `at_hash` computed here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

/// The header and claims of `jws` once its signature verifies against the key of `jwks`
/// that its `kid` names, for `alg` only, issued by `issuer` for `audience` and not expired.
/// Panics with the reason otherwise.
pub fn verify(
    jws: &str,
    jwks: &Value,
    alg: Algorithm,
    issuer: &str,
    audience: &str,
) -> (Header, Value) {
    let header = jsonwebtoken::decode_header(jws).expect("a JWS header");
    assert_eq!(header.alg, alg, "the JWT's alg");
    let kid = header.kid.clone().expect("a kid in the JWT's header");
    let jwk = jwks["keys"]
        .as_array()
        .expect("a keys array")
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWK Set {jwks}"));
    let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK jsonwebtoken reads");
    let key = DecodingKey::from_jwk(&jwk).expect("a usable JWK");
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .unwrap_or_else(|error| panic!("the JWT does not verify: {error}"));
    (header, data.claims)
}

/// `at_hash` for `access_token` under `alg` (Core §3.1.3.6): the left half of its SHA-256
/// (SHA-512 for EdDSA with Ed25519), base64url.
pub fn at_hash(alg: Algorithm, access_token: &str) -> String {
    let full = match alg {
        Algorithm::EdDSA => Sha512::digest(access_token.as_bytes()).to_vec(),
        _ => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&full[..full.len() / 2])
}

/// The `jsonwebtoken` algorithm of a JWS `alg` name.
pub fn algorithm(name: &str) -> Algorithm {
    match name {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => panic!("not an algorithm Tessera signs with: {other}"),
    }
}
