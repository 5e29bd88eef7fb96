//! What this server supports, as discovery documents list it (RFC 8414 §2, OpenID Connect
//! Discovery 1.0 §3). Every list comes from the one the code dispatches on, so nothing is
//! advertised that does not work.

use crate::client::{AuthMethod, ResponseType};
use crate::pkce::ChallengeMethod;
use crate::policy::Policy;
use crate::provider::Provider;
use crate::signing::SigningAlg;
use crate::store::Store;
use crate::token_endpoint::TOKEN_GRANTS;

/// The scopes Tessera knows out of the box (OpenID Connect Core §5.4, §11); clients may
/// register others.
pub const STANDARD_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The claims ID tokens and UserInfo may carry.
pub const CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "amr",
    "preferred_username",
    "email",
    "email_verified",
];

/// The `prompt` values the authorization endpoint understands.
pub const PROMPT_VALUES: [&str; 4] = ["none", "login", "consent", "select_account"];

/// What the server supports, by wire name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `grant_types_supported`: the token endpoint's grants.
    pub grant_types: Vec<&'static str>,
    /// `response_types_supported`.
    pub response_types: Vec<&'static str>,
    /// `response_modes_supported`.
    pub response_modes: Vec<&'static str>,
    /// `token_endpoint_auth_methods_supported` (also for revocation and introspection).
    pub auth_methods: Vec<&'static str>,
    /// `code_challenge_methods_supported`.
    pub pkce_methods: Vec<&'static str>,
    /// `id_token_signing_alg_values_supported`.
    pub signing_algs: Vec<&'static str>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5): every client must push.
    pub require_pushed_requests: bool,
    /// Whether the registration endpoint (RFC 7591) exists (`registration_endpoint`).
    pub registration: bool,
}

impl Capabilities {
    /// What a server with `policy` supports.
    pub fn of(policy: &Policy) -> Self {
        let mut pkce_methods = vec![ChallengeMethod::S256.as_str()];
        if policy.allow_plain_pkce {
            pkce_methods.push(ChallengeMethod::Plain.as_str());
        }
        Self {
            grant_types: TOKEN_GRANTS.iter().map(|grant| grant.as_str()).collect(),
            response_types: ResponseType::ALL.iter().map(|kind| kind.as_str()).collect(),
            response_modes: vec!["query", "fragment"],
            auth_methods: AuthMethod::ALL
                .iter()
                .map(|method| method.as_str())
                .collect(),
            pkce_methods,
            signing_algs: SigningAlg::ALL.iter().map(|alg| alg.as_str()).collect(),
            require_pushed_requests: policy.require_pushed_requests,
            registration: policy.registration.is_on(),
        }
    }
}

impl<S: Store> Provider<S> {
    /// What this server supports.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities::of(&self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::GrantType;

    #[test]
    fn implicit_is_a_response_type_not_an_advertised_grant() {
        let capabilities = Capabilities::of(&Policy::default());
        assert!(!capabilities
            .grant_types
            .contains(&GrantType::Implicit.as_str()));
        assert!(capabilities.response_types.contains(&"token"));
        assert_eq!(capabilities.pkce_methods, vec!["S256"]);
        let plain = Capabilities::of(&Policy {
            allow_plain_pkce: true,
            ..Policy::default()
        });
        assert_eq!(plain.pkce_methods, vec!["S256", "plain"]);
    }

    #[test]
    fn pushed_requests_are_required_only_when_the_server_says_so() {
        assert!(!Capabilities::of(&Policy::default()).require_pushed_requests);
        let required = Capabilities::of(&Policy {
            require_pushed_requests: true,
            ..Policy::default()
        });
        assert!(required.require_pushed_requests);
    }
}
