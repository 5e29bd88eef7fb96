//! `GET /oauth/jwks` and the keyring behind it: the published keys, signatures that verify
//! against them, rotation (moved by a fixed clock, never by sleeping), and several server
//! processes on one database agreeing on one key set.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use tessera_domain::signing::SigningAlg;
use tessera_domain::FixedClock;

use crate::helpers::{
    both_backends, spawn_app, spawn_app_with_clock, spawn_apps_together, Backend, TestApp,
};

/// The members a public JWK may have; anything else (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k`...)
/// would be private material.
const PUBLIC_MEMBERS: [&str; 9] = ["kty", "kid", "use", "alg", "n", "e", "crv", "x", "y"];

/// A fixed start for the clock (2030-03-17).
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).expect("a valid time")
}

fn keys(jwks: &Value) -> Vec<Value> {
    jwks["keys"].as_array().cloned().expect("a keys array")
}

fn kids(jwks: &Value) -> Vec<String> {
    let mut kids: Vec<String> = keys(jwks)
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect();
    kids.sort();
    kids
}

fn header_of(jws: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(jws).expect("a JWS header")
}

/// The claims of `jws` verified (signature only) against the key the JWK Set names in its
/// header, as a relying party would; `None` when the set lacks that key or it does not verify.
fn verify_with_jwks(jws: &str, jwks: &Value) -> Option<Value> {
    let header = header_of(jws);
    let jwk = keys(jwks)
        .into_iter()
        .find(|key| key["kid"].as_str() == header.kid.as_deref())?;
    let jwk: Jwk = serde_json::from_value(jwk).expect("a JWK jsonwebtoken reads");
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = DecodingKey::from_jwk(&jwk).expect("a usable JWK");
    jsonwebtoken::decode::<Value>(jws, &key, &validation)
        .ok()
        .map(|data| data.claims)
}

fn jws_algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Rs256 => Algorithm::RS256,
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::EdDsa => Algorithm::EdDSA,
    }
}

both_backends!(
    the_jwks_publishes_one_public_key_per_algorithm,
    |backend: Backend| async move {
        let app = spawn_app(backend).await;
        let (headers, jwks) = app.get_jwks().await;
        assert_eq!(headers["cache-control"], "public, max-age=3000");
        let published = keys(&jwks);
        assert_eq!(published.len(), 3, "{jwks}");

        let mut seen_kids = HashSet::new();
        let mut algs = HashSet::new();
        for key in &published {
            assert!(
                seen_kids.insert(key["kid"].as_str().expect("a kid")),
                "{jwks}"
            );
            algs.insert(key["alg"].as_str().expect("an alg").to_owned());
            assert_eq!(key["use"], "sig", "{key}");
            let members: HashSet<&str> = key
                .as_object()
                .expect("a JWK object")
                .keys()
                .map(String::as_str)
                .collect();
            assert!(
                members.iter().all(|member| PUBLIC_MEMBERS.contains(member)),
                "private or unknown members in {key}"
            );
            let expected: &[&str] = match key["kty"].as_str() {
                Some("RSA") => &["n", "e"],
                Some("EC") => &["crv", "x", "y"],
                Some("OKP") => &["crv", "x"],
                other => panic!("unexpected kty {other:?}"),
            };
            assert_eq!(members.len(), 4 + expected.len(), "{key}");
        }
        let expected: HashSet<String> = ["RS256", "ES256", "EdDSA"].map(String::from).into();
        assert_eq!(algs, expected);
        let ec = published
            .iter()
            .find(|key| key["kty"] == "EC")
            .expect("an EC key");
        assert_eq!(ec["crv"], "P-256");
        let okp = published
            .iter()
            .find(|key| key["kty"] == "OKP")
            .expect("an OKP key");
        assert_eq!(okp["crv"], "Ed25519");
    }
);

both_backends!(
    signatures_of_the_keyring_verify_against_the_published_jwks,
    |backend: Backend| async move {
        let app = spawn_app(backend).await;
        let (_, jwks) = app.get_jwks().await;
        for alg in SigningAlg::ALL {
            let claims = json!({"sub": "alice", "alg_used": alg.as_str()});
            let jws = app.sign(alg, claims.clone()).await;
            let header = header_of(&jws);
            assert_eq!(header.alg, jws_algorithm(alg));
            assert_eq!(header.typ.as_deref(), Some("JWT"));
            let kid = header.kid.clone().expect("a kid in the header");
            assert!(kids(&jwks).contains(&kid), "{kid} is not published");
            assert_eq!(
                verify_with_jwks(&jws, &jwks),
                Some(claims.clone()),
                "{alg:?}"
            );
            assert_eq!(app.verify(&jws).await, Some(claims), "{alg:?}");

            // A changed payload with the same signature verifies nowhere.
            let mut parts: Vec<&str> = jws.split('.').collect();
            let forged_payload = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                br#"{"sub":"mallory"}"#,
            );
            parts[1] = &forged_payload;
            let forged = parts.join(".");
            assert_eq!(verify_with_jwks(&forged, &jwks), None);
            assert_eq!(app.verify(&forged).await, None);
        }
        assert_eq!(app.verify("not a jws").await, None);
    }
);

both_backends!(
    a_rotated_key_is_published_at_once_signs_after_the_delay_and_the_old_one_retires,
    |backend: Backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(
            backend,
            &[
                ("TESSERA_ACCESS_TOKEN_TTL", "600"),
                ("TESSERA_KEY_ACTIVATION_DELAY", "3600"),
            ],
            clock.clone(),
        )
        .await;
        let claims = json!({"sub": "alice"});
        let before = app.sign(SigningAlg::Rs256, claims.clone()).await;
        let old_kid = header_of(&before).kid.expect("a kid");

        let new = app.rotate_key(SigningAlg::Rs256).await;
        assert_eq!(new.signs_from, t0() + Duration::seconds(3600));
        let (_, jwks) = app.get_jwks().await;
        assert_eq!(keys(&jwks).len(), 4, "{jwks}");
        assert!(
            kids(&jwks).contains(&new.kid),
            "the new key is published at once"
        );

        clock.advance(Duration::seconds(3599));
        let still_old = app.sign(SigningAlg::Rs256, claims.clone()).await;
        assert_eq!(header_of(&still_old).kid.as_deref(), Some(old_kid.as_str()));

        clock.advance(Duration::seconds(1));
        let signed_by_new = app.sign(SigningAlg::Rs256, claims.clone()).await;
        assert_eq!(
            header_of(&signed_by_new).kid.as_deref(),
            Some(new.kid.as_str())
        );
        let (_, jwks) = app.get_jwks().await;
        assert_eq!(
            verify_with_jwks(&signed_by_new, &jwks),
            Some(claims.clone())
        );
        // Tokens the old key signed still verify while they can be valid...
        assert_eq!(verify_with_jwks(&still_old, &jwks), Some(claims.clone()));
        assert_eq!(app.verify(&still_old).await, Some(claims.clone()));
        // ...other algorithms are untouched...
        let ec = app.sign(SigningAlg::Es256, claims.clone()).await;
        assert_eq!(verify_with_jwks(&ec, &jwks), Some(claims.clone()));

        clock.advance(Duration::seconds(599));
        let (_, jwks) = app.get_jwks().await;
        assert!(
            kids(&jwks).contains(&old_kid),
            "published until its last token expires"
        );

        // ...and once they have all expired, the old key leaves the JWK Set.
        clock.advance(Duration::seconds(1));
        let (_, jwks) = app.get_jwks().await;
        assert_eq!(keys(&jwks).len(), 3, "{jwks}");
        assert!(!kids(&jwks).contains(&old_kid));
        assert_eq!(verify_with_jwks(&still_old, &jwks), None);
        assert_eq!(app.verify(&still_old).await, None);
        assert_eq!(app.verify(&signed_by_new).await, Some(claims));
    }
);

/// Every algorithm signs on `signer` and verifies on `verifier`, by its keyring and by the
/// verifier's published JWK Set.
async fn assert_signatures_cross(signer: &TestApp, verifier: &TestApp) {
    let (_, jwks) = verifier.get_jwks().await;
    for alg in SigningAlg::ALL {
        let claims = json!({"sub": "bob", "alg_used": alg.as_str()});
        let jws = signer.sign(alg, claims.clone()).await;
        assert_eq!(verifier.verify(&jws).await, Some(claims.clone()), "{alg:?}");
        assert_eq!(verify_with_jwks(&jws, &jwks), Some(claims), "{alg:?}");
    }
}

both_backends!(
    two_processes_on_one_database_publish_the_same_keys_and_verify_each_other,
    |backend: Backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let first = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let second = first.another_process(clock.clone()).await;
        assert_ne!(first.address, second.address);
        let (_, first_jwks) = first.get_jwks().await;
        let (_, second_jwks) = second.get_jwks().await;
        assert_eq!(kids(&first_jwks), kids(&second_jwks));
        assert_eq!(keys(&first_jwks).len(), 3);
        assert_signatures_cross(&first, &second).await;
        assert_signatures_cross(&second, &first).await;

        // A rotation in one process reaches the other within its reload interval.
        let new = first.rotate_key(SigningAlg::EdDsa).await;
        clock.advance(Duration::seconds(60));
        let (_, second_jwks) = second.get_jwks().await;
        assert!(kids(&second_jwks).contains(&new.kid), "{second_jwks}");
        let (_, first_jwks) = first.get_jwks().await;
        assert_eq!(kids(&first_jwks), kids(&second_jwks));
    }
);

both_backends!(
    processes_starting_together_agree_on_one_key_per_algorithm,
    |backend: Backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let apps = spawn_apps_together(backend, 4, clock).await;
        let (_, jwks) = apps[0].get_jwks().await;
        assert_eq!(keys(&jwks).len(), 3, "{jwks}");
        for app in &apps[1..] {
            let (_, other) = app.get_jwks().await;
            assert_eq!(kids(&other), kids(&jwks));
        }
        assert_signatures_cross(&apps[3], &apps[0]).await;
    }
);
