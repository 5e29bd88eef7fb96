//! Proof Key for Code Exchange (RFC 7636).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::error::OAuthError;

/// How the challenge was derived from the verifier (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    /// `BASE64URL(SHA256(verifier))`.
    S256,
    /// The verifier itself; accepted only when configured.
    Plain,
}

impl ChallengeMethod {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// A code challenge sent at the authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    /// The challenge value.
    pub value: String,
    /// How it was derived.
    pub method: ChallengeMethod,
}

impl CodeChallenge {
    /// Reads `code_challenge` and `code_challenge_method`. A challenge without a method is
    /// `plain` (RFC 7636 §4.3), which is refused unless `allow_plain`.
    pub fn from_request(
        challenge: Option<&str>,
        method: Option<&str>,
        allow_plain: bool,
    ) -> Result<Option<Self>, OAuthError> {
        let Some(value) = challenge else {
            return match method {
                Some(_) => Err(OAuthError::invalid_request(
                    "code_challenge_method was sent without code_challenge",
                )),
                None => Ok(None),
            };
        };
        let method = match method {
            None => ChallengeMethod::Plain,
            Some(text) => ChallengeMethod::parse(text)
                .ok_or_else(|| OAuthError::invalid_request("code_challenge_method must be S256"))?,
        };
        if method == ChallengeMethod::Plain && !allow_plain {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256 (plain is not allowed)",
            ));
        }
        if !is_pkce_string(value) {
            return Err(OAuthError::invalid_request(
                "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
            ));
        }
        Ok(Some(Self {
            value: value.to_owned(),
            method,
        }))
    }

    /// Whether `verifier` answers this challenge; compared in constant time.
    pub fn verify(&self, verifier: &str) -> bool {
        if !is_pkce_string(verifier) {
            return false;
        }
        let derived = match self.method {
            ChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            ChallengeMethod::Plain => verifier.to_owned(),
        };
        derived.as_bytes().ct_eq(self.value.as_bytes()).into()
    }
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn is_pkce_string(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn s256_accepts_the_rfc_7636_appendix_b_example() {
        let challenge = CodeChallenge::from_request(Some(CHALLENGE), Some("S256"), false)
            .unwrap()
            .unwrap();
        assert!(challenge.verify(VERIFIER));
        assert!(!challenge.verify(&VERIFIER.replace('d', "e")));
        assert!(!challenge.verify("short"));
    }

    #[test]
    fn a_challenge_without_method_is_plain_and_plain_needs_configuration() {
        let refused = CodeChallenge::from_request(Some(VERIFIER), None, false).unwrap_err();
        assert_eq!(refused.code, crate::ErrorCode::InvalidRequest);
        let plain = CodeChallenge::from_request(Some(VERIFIER), None, true)
            .unwrap()
            .unwrap();
        assert_eq!(plain.method, ChallengeMethod::Plain);
        assert!(plain.verify(VERIFIER));
    }

    #[test]
    fn malformed_challenges_and_methods_are_invalid_request() {
        for (challenge, method) in [
            (Some("short"), Some("S256")),
            (Some(CHALLENGE), Some("S512")),
            (None, Some("S256")),
        ] {
            let error = CodeChallenge::from_request(challenge, method, true).unwrap_err();
            assert_eq!(error.code, crate::ErrorCode::InvalidRequest);
        }
        assert_eq!(
            CodeChallenge::from_request(None, None, false).unwrap(),
            None
        );
    }
}
