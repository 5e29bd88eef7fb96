//! The provider's flows end to end against the in-memory store and a fixed clock.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest as _, Sha256};

use crate::authorize::{AuthorizationRequest, AuthorizeError};
use crate::client::ClientOrigin;
use crate::client_auth::ClientCredentials;
use crate::clock::Clock as _;
use crate::memory_store::{ClearSigner, MemoryStore, PlainHasher};
use crate::prompt::{AuthorizeOutcome, SignedIn};
use crate::store::{AuthorizationStore as _, TokenStore as _};
use crate::token_endpoint::TokenRequest;
use crate::{
    Client, ClientRegistration, Error, ErrorCode, FixedClock, Params, Policy, Provider, Secret,
    User,
};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT: &str = "https://app.example/cb";

/// A provider over the in-memory store at a fixed time, with Alice signed up; shared by the
/// domain's test modules.
pub(crate) struct World {
    pub(crate) provider: Provider<MemoryStore>,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) user: User,
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

pub(crate) fn world_with(policy: Policy) -> World {
    let clock = Arc::new(FixedClock::at(start()));
    let provider = Provider::new(
        MemoryStore::default(),
        clock.clone(),
        Arc::new(PlainHasher),
        policy,
        "https://tessera.example",
        Arc::new(ClearSigner),
    );
    let user = provider.sign_up("alice", "correct horse", None).unwrap();
    World {
        provider,
        clock,
        user,
    }
}

pub(crate) fn world() -> World {
    world_with(Policy::default())
}

pub(crate) fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn code_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The `error` parameter of a redirect, from the query or (implicit grant) the fragment.
fn error_of(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let fragment = url.fragment().unwrap_or_default().to_owned();
    url.query_pairs()
        .chain(url::form_urlencoded::parse(fragment.as_bytes()))
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

pub(crate) fn oauth_code(result: Result<impl std::fmt::Debug, Error>) -> ErrorCode {
    match result {
        Err(Error::OAuth(error)) => error.code,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

/// A parameter of a redirect's query.
fn param_of(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `error` of an outcome that must be a redirect.
fn redirect_error(outcome: &AuthorizeOutcome) -> String {
    match outcome {
        AuthorizeOutcome::Redirect(url) => error_of(url),
        other => panic!("expected a redirect, got {other:?}"),
    }
}

impl World {
    /// Alice, signed in just now.
    pub(crate) fn signed_in(&self) -> SignedIn<'_> {
        SignedIn {
            user: &self.user,
            auth_time: self.clock.now(),
            session_id: Some("browser-session"),
        }
    }

    /// What a request for `client` with `extra` parameters gets.
    fn decide(
        &self,
        client: &Client,
        extra: &[(&str, &str)],
        signed_in: Option<SignedIn<'_>>,
    ) -> AuthorizeOutcome {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("state", "xyz"),
        ];
        pairs.extend_from_slice(extra);
        let params = params(&pairs);
        let request = self.provider.validate_authorization(&params).unwrap();
        self.provider.decide(&request, &params, signed_in).unwrap()
    }

    pub(crate) fn client(&self, auth_method: &str, grants: &str) -> (Client, Option<Secret>) {
        self.client_with(ClientRegistration {
            auth_method: auth_method.into(),
            grant_types: vec![grants.into()],
            ..ClientRegistration::default()
        })
    }

    /// Registers `registration` for Alice, with a name, the test redirect URI and scope
    /// `profile email` where it gives none.
    pub(crate) fn client_with(&self, registration: ClientRegistration) -> (Client, Option<Secret>) {
        let or = |given: String, default: &str| {
            if given.is_empty() {
                default.to_owned()
            } else {
                given
            }
        };
        let redirect_uris = if registration.redirect_uris.is_empty() {
            vec![REDIRECT.into()]
        } else {
            registration.redirect_uris
        };
        let registered = self
            .provider
            .register_client(
                ClientOrigin::Page(self.user.id),
                ClientRegistration {
                    name: or(registration.name, "Demo"),
                    scope: or(registration.scope, "profile email"),
                    redirect_uris,
                    ..registration
                },
            )
            .unwrap();
        (registered.client, registered.secret)
    }

    fn authorize(&self, client: &Client, extra: &[(&str, &str)]) -> AuthorizationRequest {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("state", "xyz"),
        ];
        pairs.extend_from_slice(extra);
        self.provider
            .validate_authorization(&params(&pairs))
            .unwrap()
    }

    pub(crate) fn code_for(&self, client: &Client, extra: &[(&str, &str)]) -> String {
        let request = self.authorize(client, extra);
        code_of(&self.provider.allow(&request, self.signed_in()).unwrap())
    }

    pub(crate) fn exchange(
        &self,
        client: &Client,
        pairs: &[(&str, &str)],
    ) -> Result<crate::token::TokenResponse, Error> {
        let request = TokenRequest::parse(&params(pairs))?;
        self.provider.exchange(client, request)
    }

    pub(crate) fn me(&self, access_token: &str) -> Result<User, Error> {
        self.provider.resource_owner(access_token, "profile")
    }
}

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

#[test]
fn authorization_code_with_pkce_yields_tokens_for_the_user() {
    let w = world();
    let (client, _) = w.client("none", "authorization_code refresh_token");
    let code = w.code_for(
        &client,
        &[
            ("code_challenge", &challenge()),
            ("code_challenge_method", "S256"),
        ],
    );
    let tokens = w
        .exchange(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
            ],
        )
        .unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 3600);
    assert_eq!(tokens.scope, "email profile");
    assert!(tokens.refresh_token.is_some());
    assert_eq!(w.me(&tokens.access_token).unwrap().username, "alice");
}

#[test]
fn code_redeemed_twice_revokes_its_tokens() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code refresh_token");
    let code = w.code_for(&client, &[]);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
    ];
    let tokens = w.exchange(&client, &pairs).unwrap();
    assert_eq!(
        oauth_code(w.exchange(&client, &pairs)),
        ErrorCode::InvalidGrant
    );
    assert_eq!(
        oauth_code(w.me(&tokens.access_token)),
        ErrorCode::InvalidToken
    );
    let refresh = tokens.refresh_token.unwrap();
    let refreshed = w.exchange(
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(oauth_code(refreshed), ErrorCode::InvalidGrant);
}

#[test]
fn code_presented_by_another_client_is_refused_and_not_burned() {
    let w = world();
    let (owner, _) = w.client("client_secret_basic", "authorization_code");
    let (thief, _) = w.client("client_secret_basic", "authorization_code");
    let code = w.code_for(&owner, &[]);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
    ];
    assert_eq!(
        oauth_code(w.exchange(&thief, &pairs)),
        ErrorCode::InvalidGrant
    );
    assert!(w.exchange(&owner, &pairs).is_ok());
}

#[test]
fn a_wrong_verifier_burns_the_code() {
    let w = world();
    let (client, _) = w.client("none", "authorization_code");
    let code = w.code_for(
        &client,
        &[
            ("code_challenge", &challenge()),
            ("code_challenge_method", "S256"),
        ],
    );
    let wrong = "x".repeat(43);
    let attempt = |verifier: &str| {
        w.exchange(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", verifier),
            ],
        )
    };
    assert_eq!(oauth_code(attempt(&wrong)), ErrorCode::InvalidGrant);
    assert_eq!(oauth_code(attempt(VERIFIER)), ErrorCode::InvalidGrant);
}

#[test]
fn a_verifier_without_a_challenge_is_invalid_request() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let code = w.code_for(&client, &[]);
    let result = w.exchange(
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(oauth_code(result), ErrorCode::InvalidRequest);
}

#[test]
fn the_token_request_must_repeat_the_redirect_uri() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let code = w.code_for(&client, &[("redirect_uri", REDIRECT)]);
    let without = w.exchange(
        &client,
        &[("grant_type", "authorization_code"), ("code", &code)],
    );
    assert_eq!(oauth_code(without), ErrorCode::InvalidGrant);
    let code = w.code_for(&client, &[("redirect_uri", REDIRECT)]);
    let with = w.exchange(
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert!(with.is_ok());
}

#[test]
fn codes_expire_after_their_lifetime() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let code = w.code_for(&client, &[]);
    w.clock.advance(Duration::minutes(5) + Duration::seconds(1));
    let result = w.exchange(
        &client,
        &[("grant_type", "authorization_code"), ("code", &code)],
    );
    assert_eq!(oauth_code(result), ErrorCode::InvalidGrant);
}

#[test]
fn unknown_clients_and_unregistered_redirect_uris_are_shown_not_redirected() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let cases = [
        params(&[("response_type", "code"), ("client_id", "nobody")]),
        params(&[("response_type", "code")]),
        params(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", "https://evil.example/cb"),
        ]),
        params(&[
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("redirect_uri", REDIRECT),
        ]),
    ];
    for case in cases {
        let result = w.provider.validate_authorization(&case);
        assert!(matches!(result, Err(AuthorizeError::Page(_))), "{case:?}");
    }
}

#[test]
fn later_authorization_errors_go_back_to_the_client_with_state() {
    let w = world();
    let (confidential, _) = w.client("client_secret_basic", "authorization_code");
    let (public, _) = w.client("none", "authorization_code");
    type Case<'a> = (&'a Client, &'a [(&'a str, &'a str)], &'a str);
    let table: [Case; 6] = [
        (
            &confidential,
            &[("response_type", "magic")],
            "unsupported_response_type",
        ),
        (
            &confidential,
            &[("response_type", "token")],
            "unauthorized_client",
        ),
        (
            &confidential,
            &[("response_type", "code"), ("scope", "admin")],
            "invalid_scope",
        ),
        (&public, &[("response_type", "code")], "invalid_request"),
        (
            &public,
            &[
                ("response_type", "code"),
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &confidential,
            &[("response_type", "code"), ("scope", "a"), ("scope", "b")],
            "invalid_request",
        ),
    ];
    for (client, extra, expected) in table {
        let mut pairs = vec![("client_id", client.id.as_str()), ("state", "s1")];
        pairs.extend_from_slice(extra);
        match w.provider.validate_authorization(&params(&pairs)) {
            Err(AuthorizeError::Redirect(url)) => {
                assert!(url.starts_with(REDIRECT), "{url}");
                assert_eq!(error_of(&url), expected, "{extra:?}");
                assert!(url.contains("state=s1"), "{url}");
            }
            other => panic!("{extra:?}: expected a redirect, got {other:?}"),
        }
    }
}

#[test]
fn deny_redirects_with_state_and_iss() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let request = w.authorize(&client, &[]);
    assert_eq!(error_of(&request.deny()), "access_denied");
    assert!(request.deny().contains("state=xyz"));
    assert_eq!(
        param_of(&request.deny(), "iss").as_deref(),
        Some("https://tessera.example")
    );
}

#[test]
fn a_signed_out_user_signs_in_and_prompt_none_gets_login_required() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let extra = [("login_hint", "alice")];
    let outcome = w.decide(&client, &extra, None);
    match outcome {
        AuthorizeOutcome::SignIn { login_hint, resume } => {
            assert_eq!(login_hint.as_deref(), Some("alice"));
            assert_eq!(
                resume.single("client_id").unwrap(),
                Some(client.id.as_str())
            );
        }
        other => panic!("expected SignIn, got {other:?}"),
    }
    let none = w.decide(&client, &[("prompt", "none")], None);
    assert_eq!(redirect_error(&none), "login_required");
}

#[test]
fn consent_is_asked_once_then_remembered_until_prompt_consent_or_a_wider_scope() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let profile = [("scope", "profile")];
    let signed_in = Some(w.signed_in());
    assert_eq!(
        w.decide(&client, &profile, signed_in),
        AuthorizeOutcome::AskConsent
    );
    let silent = [("scope", "profile"), ("prompt", "none")];
    assert_eq!(
        redirect_error(&w.decide(&client, &silent, signed_in)),
        "consent_required"
    );

    w.code_for(&client, &profile);
    let remembered = w.decide(&client, &silent, signed_in);
    match &remembered {
        AuthorizeOutcome::Redirect(url) => assert!(param_of(url, "code").is_some(), "{url}"),
        other => panic!("expected a code, got {other:?}"),
    }
    let again = [("scope", "profile"), ("prompt", "consent")];
    assert_eq!(
        w.decide(&client, &again, signed_in),
        AuthorizeOutcome::AskConsent
    );
    let wider = [("scope", "profile email")];
    assert_eq!(
        w.decide(&client, &wider, signed_in),
        AuthorizeOutcome::AskConsent
    );
}

#[test]
fn prompt_login_and_an_old_sign_in_past_max_age_ask_to_sign_in_again() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    w.code_for(&client, &[("scope", "profile")]);
    let an_hour_ago = SignedIn {
        auth_time: w.clock.now() - Duration::hours(1),
        ..w.signed_in()
    };
    let fresh = [("scope", "profile"), ("max_age", "7200")];
    assert!(matches!(
        w.decide(&client, &fresh, Some(an_hour_ago)),
        AuthorizeOutcome::Redirect(_)
    ));
    let stale = [("scope", "profile"), ("max_age", "60")];
    match w.decide(&client, &stale, Some(an_hour_ago)) {
        AuthorizeOutcome::SignIn { resume, .. } => {
            assert_eq!(resume.single("max_age").unwrap(), None);
        }
        other => panic!("expected SignIn, got {other:?}"),
    }
    let stale_silent = [("scope", "profile"), ("max_age", "60"), ("prompt", "none")];
    assert_eq!(
        redirect_error(&w.decide(&client, &stale_silent, Some(an_hour_ago))),
        "login_required"
    );
    let login = [("scope", "profile"), ("prompt", "login")];
    match w.decide(&client, &login, Some(w.signed_in())) {
        AuthorizeOutcome::SignIn { resume, .. } => {
            assert_eq!(resume.single("prompt").unwrap(), None);
        }
        other => panic!("expected SignIn, got {other:?}"),
    }
}

#[test]
fn request_objects_and_bad_prompt_or_max_age_are_redirected_errors() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    for (extra, expected) in [
        (
            ("request", "eyJhbGciOiJub25lIn0.e30."),
            "request_not_supported",
        ),
        (
            ("request_uri", "https://app.example/r"),
            "request_uri_not_supported",
        ),
        (("prompt", "none login"), "invalid_request"),
        (("max_age", "-1"), "invalid_request"),
        (("max_age", "soon"), "invalid_request"),
    ] {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("state", "s1"),
        ];
        pairs.push(extra);
        match w.provider.validate_authorization(&params(&pairs)) {
            Err(AuthorizeError::Redirect(url)) => {
                assert_eq!(error_of(&url), expected, "{extra:?}");
                assert!(param_of(&url, "iss").is_some(), "{url}");
            }
            other => panic!("{extra:?}: expected a redirect, got {other:?}"),
        }
    }
}

#[test]
fn withdrawing_consent_revokes_the_clients_tokens_and_forgets_it() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let code = w.code_for(&client, &[("scope", "profile")]);
    let tokens = w
        .provider
        .exchange(
            &client,
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri: None,
                code_verifier: None,
            },
        )
        .unwrap();
    let approved = w.provider.approved_clients(w.user.id).unwrap();
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].client.id, client.id);
    assert!(w.provider.withdraw_consent(w.user.id, &client.id).unwrap());
    assert!(w.provider.approved_clients(w.user.id).unwrap().is_empty());
    let introspected = w.provider.resource_owner(&tokens.access_token, "profile");
    assert_eq!(oauth_code(introspected), ErrorCode::InvalidToken);
    let silent = [("scope", "profile"), ("prompt", "none")];
    assert_eq!(
        redirect_error(&w.decide(&client, &silent, Some(w.signed_in()))),
        "consent_required"
    );
}

#[test]
fn the_implicit_grant_puts_the_token_in_the_fragment() {
    let w = world();
    let client = w
        .provider
        .register_client(
            ClientOrigin::CommandLine,
            ClientRegistration {
                name: "SPA".into(),
                redirect_uris: vec![REDIRECT.into()],
                grant_types: vec!["implicit".into()],
                response_types: vec!["token".into()],
                scope: "profile".into(),
                auth_method: "none".into(),
                ..ClientRegistration::default()
            },
        )
        .unwrap()
        .client;
    let request = w
        .provider
        .validate_authorization(&params(&[
            ("response_type", "token"),
            ("client_id", &client.id),
        ]))
        .unwrap();
    let url = w.provider.allow(&request, w.signed_in()).unwrap();
    let fragment = url::Url::parse(&url)
        .unwrap()
        .fragment()
        .unwrap()
        .to_owned();
    let token = url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(w.me(&token).unwrap().username, "alice");
}

#[test]
fn password_grant_checks_the_password_and_scope() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "password");
    let ok = w
        .exchange(
            &client,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse"),
                ("scope", "profile"),
            ],
        )
        .unwrap();
    assert_eq!(ok.scope, "profile");
    assert!(ok.refresh_token.is_none());
    let wrong = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "nope"),
    ];
    assert_eq!(
        oauth_code(w.exchange(&client, &wrong)),
        ErrorCode::InvalidGrant
    );
    let unknown = [
        ("grant_type", "password"),
        ("username", "bob"),
        ("password", "x"),
    ];
    assert_eq!(
        oauth_code(w.exchange(&client, &unknown)),
        ErrorCode::InvalidGrant
    );
    let scope = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "correct horse"),
        ("scope", "admin"),
    ];
    assert_eq!(
        oauth_code(w.exchange(&client, &scope)),
        ErrorCode::InvalidScope
    );
}

#[test]
fn grants_the_client_did_not_register_are_unauthorized_client() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    let result = w.exchange(&client, &[("grant_type", "client_credentials")]);
    assert_eq!(oauth_code(result), ErrorCode::UnauthorizedClient);
    let unknown = TokenRequest::parse(&params(&[("grant_type", "magic")])).unwrap_err();
    assert_eq!(unknown.code, ErrorCode::UnsupportedGrantType);
}

#[test]
fn client_credentials_tokens_have_no_refresh_token_and_no_user() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "client_credentials refresh_token");
    let tokens = w
        .exchange(&client, &[("grant_type", "client_credentials")])
        .unwrap();
    assert!(tokens.refresh_token.is_none());
    assert_eq!(
        oauth_code(w.me(&tokens.access_token)),
        ErrorCode::InsufficientScope
    );
    assert!(w
        .provider
        .authenticate_bearer(&tokens.access_token, "profile")
        .is_ok());
}

fn password_tokens(w: &World, client: &Client) -> crate::token::TokenResponse {
    w.exchange(
        client,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "correct horse"),
        ],
    )
    .unwrap()
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_whole_chain() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "password refresh_token");
    let first = password_tokens(&w, &client);
    let old_refresh = first.refresh_token.unwrap();
    let refresh = |token: &str| {
        w.exchange(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
    };
    let second = refresh(&old_refresh).unwrap();
    let new_refresh = second.refresh_token.clone().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert!(w.me(&second.access_token).is_ok());
    assert_eq!(oauth_code(refresh(&old_refresh)), ErrorCode::InvalidGrant);
    assert_eq!(
        oauth_code(w.me(&second.access_token)),
        ErrorCode::InvalidToken
    );
    assert_eq!(oauth_code(refresh(&new_refresh)), ErrorCode::InvalidGrant);
}

/// A world with a 10 s refresh grace period, a password-grant client and a refresh token.
fn grace_world() -> (World, Client, String) {
    let w = world_with(Policy {
        refresh_reuse_grace: Duration::seconds(10),
        ..Policy::default()
    });
    let (client, _) = w.client("client_secret_basic", "password refresh_token");
    let refresh_token = password_tokens(&w, &client).refresh_token.unwrap();
    (w, client, refresh_token)
}

#[test]
fn a_retry_within_the_grace_period_replaces_the_earlier_pair_so_the_chain_never_forks() {
    let (w, client, refresh_token) = grace_world();
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
    ];
    let first = w.exchange(&client, &pairs).unwrap();
    w.clock.advance(Duration::seconds(5));
    let retry = w.exchange(&client, &pairs).unwrap();
    assert!(
        w.me(&first.access_token).is_err(),
        "the earlier pair lives on"
    );
    assert!(w.me(&retry.access_token).is_ok());
    let first_refresh = first.refresh_token.unwrap();
    let refresh_first = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first_refresh.as_str()),
    ];
    assert_eq!(
        oauth_code(w.exchange(&client, &refresh_first)),
        ErrorCode::InvalidGrant
    );
    w.clock.advance(Duration::seconds(6));
    assert_eq!(
        oauth_code(w.exchange(&client, &pairs)),
        ErrorCode::InvalidGrant
    );
    assert!(
        w.me(&retry.access_token).is_err(),
        "a reuse revokes the chain"
    );
}

#[test]
fn a_retry_after_the_new_pair_was_rotated_is_a_reuse() {
    let (w, client, refresh_token) = grace_world();
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
    ];
    let first = w.exchange(&client, &pairs).unwrap();
    let next_refresh = first.refresh_token.unwrap();
    let next = w
        .exchange(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", next_refresh.as_str()),
            ],
        )
        .unwrap();
    assert_eq!(
        oauth_code(w.exchange(&client, &pairs)),
        ErrorCode::InvalidGrant
    );
    assert!(
        w.me(&next.access_token).is_err(),
        "the chain was not revoked"
    );
}

#[test]
fn refresh_may_narrow_but_not_widen_the_scope() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "password refresh_token");
    let tokens = password_tokens(&w, &client);
    let refresh_token = tokens.refresh_token.unwrap();
    let wider = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("scope", "profile admin"),
    ];
    assert_eq!(
        oauth_code(w.exchange(&client, &wider)),
        ErrorCode::InvalidScope
    );
    let narrower = w
        .exchange(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
                ("scope", "email"),
            ],
        )
        .unwrap();
    assert_eq!(narrower.scope, "email");
    let again = w
        .exchange(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &narrower.refresh_token.unwrap()),
            ],
        )
        .unwrap();
    assert_eq!(again.scope, "email profile");
}

#[test]
fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "password refresh_token");
    let tokens = password_tokens(&w, &client);
    let refresh_token = tokens.refresh_token.unwrap();
    w.provider
        .revoke(
            &client,
            &params(&[("token", &refresh_token), ("token_type_hint", "bogus")]),
        )
        .unwrap();
    assert_eq!(
        oauth_code(w.me(&tokens.access_token)),
        ErrorCode::InvalidToken
    );
}

#[test]
fn revoking_another_clients_token_is_refused_and_leaves_it_valid() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "password");
    let (other, _) = w.client("client_secret_basic", "password");
    let tokens = password_tokens(&w, &client);
    let result = w
        .provider
        .revoke(&other, &params(&[("token", &tokens.access_token)]));
    assert_eq!(oauth_code(result), ErrorCode::UnauthorizedClient);
    assert!(w.me(&tokens.access_token).is_ok());
    assert!(w
        .provider
        .revoke(&other, &params(&[("token", "unknown")]))
        .is_ok());
}

#[test]
fn access_tokens_expire_after_their_lifetime() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "password");
    let tokens = password_tokens(&w, &client);
    w.clock.advance(Duration::hours(1));
    assert_eq!(
        oauth_code(w.me(&tokens.access_token)),
        ErrorCode::InvalidToken
    );
}

#[test]
fn client_authentication_accepts_only_the_registered_method() {
    let w = world();
    let (basic, basic_secret) = w.client("client_secret_basic", "client_credentials");
    let (post, post_secret) = w.client("client_secret_post", "client_credentials");
    let (public, _) = w.client("none", "authorization_code");
    let basic_secret = basic_secret.unwrap().expose().to_owned();
    let post_secret = post_secret.unwrap().expose().to_owned();
    let creds =
        |basic: Option<(&str, &str)>, id: Option<&str>, secret: Option<&str>| ClientCredentials {
            basic: basic.map(|(i, s)| (i.to_owned(), s.to_owned())),
            client_id: id.map(str::to_owned),
            client_secret: secret.map(str::to_owned),
        };
    let accepted = [
        creds(Some((&basic.id, &basic_secret)), None, None),
        creds(Some((&basic.id, &basic_secret)), Some(&basic.id), None),
        creds(None, Some(&post.id), Some(&post_secret)),
        creds(None, Some(&public.id), None),
    ];
    for credentials in accepted {
        assert!(
            w.provider.authenticate_client(&credentials).is_ok(),
            "{credentials:?}"
        );
    }
    let refused = [
        creds(None, None, None),
        creds(Some((&basic.id, "wrong")), None, None),
        creds(Some((&basic.id, &basic_secret)), None, Some(&basic_secret)),
        creds(Some((&basic.id, &basic_secret)), Some(&post.id), None),
        creds(None, Some(&basic.id), Some(&basic_secret)),
        creds(Some((&post.id, &post_secret)), None, None),
        creds(None, Some(&basic.id), None),
        creds(None, Some("nobody"), None),
        creds(None, None, Some(&post_secret)),
    ];
    for credentials in refused {
        let result = w.provider.authenticate_client(&credentials);
        assert_eq!(
            oauth_code(result),
            ErrorCode::InvalidClient,
            "{credentials:?}"
        );
    }
}

#[test]
fn only_the_owner_manages_a_client() {
    let w = world();
    let intruder = w
        .provider
        .sign_up("mallory", "another password", None)
        .unwrap();
    let (client, secret) = w.client("client_secret_basic", "client_credentials");
    assert!(w
        .provider
        .owned_client(intruder.id, &client.id)
        .unwrap()
        .is_none());
    assert!(w
        .provider
        .rotate_client_secret(intruder.id, &client.id)
        .unwrap()
        .is_none());
    assert!(!w.provider.delete_client(intruder.id, &client.id).unwrap());
    let (_, new_secret) = w
        .provider
        .rotate_client_secret(w.user.id, &client.id)
        .unwrap()
        .unwrap();
    let stored = w
        .provider
        .owned_client(w.user.id, &client.id)
        .unwrap()
        .unwrap();
    let digest = stored.secret_digest.unwrap();
    assert!(digest.matches(new_secret.expose()));
    assert!(!digest.matches(secret.unwrap().expose()));
    assert!(w.provider.delete_client(w.user.id, &client.id).unwrap());
}

#[test]
fn a_rotation_by_the_owner_or_an_operator_keeps_an_edit_made_since_its_read() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "client_credentials");
    let rotations: [&dyn Fn() -> Option<(Client, Secret)>; 2] = [
        &|| {
            w.provider
                .rotate_client_secret(w.user.id, &client.id)
                .unwrap()
        },
        &|| w.provider.rotate_any_client_secret(&client.id).unwrap(),
    ];
    for (round, rotate) in rotations.into_iter().enumerate() {
        let edited = Client {
            name: format!("Renamed meanwhile {round}"),
            ..w.provider.client(&client.id).unwrap().unwrap()
        };
        w.provider.store.edit_after_next_read(edited.clone());
        let (_, secret) = rotate().unwrap();
        let stored = w.provider.client(&client.id).unwrap().unwrap();
        let expected = Client {
            secret_digest: Some(secret.digest()),
            ..edited
        };
        assert_eq!(stored, expected, "round {round}");
    }

    // Made public meanwhile: no secret is stored.
    let public = Client {
        auth_method: crate::client::AuthMethod::None,
        secret_digest: None,
        ..w.provider.client(&client.id).unwrap().unwrap()
    };
    for rotate in rotations {
        w.provider.store.edit_after_next_read(public.clone());
        assert!(rotate().is_none());
        assert_eq!(w.provider.client(&client.id).unwrap(), Some(public.clone()));
    }
}

#[test]
fn sign_in_refuses_wrong_passwords_and_unknown_users() {
    let w = world();
    assert!(w
        .provider
        .sign_in("alice", "correct horse")
        .unwrap()
        .is_some());
    assert!(w
        .provider
        .sign_in("alice", "wrong horse")
        .unwrap()
        .is_none());
    assert!(w
        .provider
        .sign_in("nobody", "correct horse")
        .unwrap()
        .is_none());
    assert!(matches!(
        w.provider.sign_up("alice", "whatever123", None),
        Err(crate::accounts::SignUpError::UsernameTaken)
    ));
}

#[test]
fn public_clients_must_use_s256_even_when_plain_is_allowed() {
    let w = world_with(Policy {
        allow_plain_pkce: true,
        ..Policy::default()
    });
    let (public, _) = w.client("none", "authorization_code");
    let (confidential, _) = w.client("client_secret_basic", "authorization_code");
    let plain = [
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ];
    let mut pairs = vec![("response_type", "code"), ("client_id", public.id.as_str())];
    pairs.extend_from_slice(&plain);
    match w.provider.validate_authorization(&params(&pairs)) {
        Err(AuthorizeError::Redirect(url)) => assert_eq!(error_of(&url), "invalid_request"),
        other => panic!("expected a redirect, got {other:?}"),
    }
    let code = w.code_for(&confidential, &plain);
    let tokens = w.exchange(
        &confidential,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
    );
    assert!(tokens.is_ok());
}

/// A confidential OpenID client that may refresh and use the password grant.
fn openid_client(w: &World, id_token_alg: &str) -> Client {
    w.provider
        .register_client(
            ClientOrigin::Page(w.user.id),
            ClientRegistration {
                name: "RP".into(),
                redirect_uris: vec![REDIRECT.into()],
                grant_types: vec![
                    "authorization_code".into(),
                    "refresh_token".into(),
                    "password".into(),
                    "client_credentials".into(),
                ],
                scope: "openid profile email".into(),
                auth_method: "client_secret_basic".into(),
                id_token_signed_response_alg: id_token_alg.into(),
                ..ClientRegistration::default()
            },
        )
        .unwrap()
        .client
}

fn id_claims(response: &crate::token::TokenResponse) -> serde_json::Value {
    ClearSigner::claims(response.id_token.as_deref().expect("an id_token")).unwrap()
}

#[test]
fn the_code_exchange_with_openid_gives_an_id_token_with_the_nonce_and_at_hash() {
    let w = world();
    let client = openid_client(&w, "");
    let code = w.code_for(
        &client,
        &[
            ("scope", "openid profile"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("redirect_uri", REDIRECT),
        ],
    );
    let response = w
        .exchange(
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .unwrap();
    let claims = id_claims(&response);
    let now = w.clock.now().timestamp();
    assert_eq!(claims["iss"], "https://tessera.example");
    assert_eq!(claims["sub"], w.user.id.to_string());
    assert_eq!(claims["aud"], client.id);
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["auth_time"], now);
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 3600);
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    let full = Sha256::digest(response.access_token.as_bytes());
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&full[..16]));
    // The family remembers the sign-in it came from.
    let store = &w.provider.store;
    let access = store
        .find_token(&crate::TokenDigest::of(&response.access_token))
        .unwrap()
        .unwrap();
    let family = store
        .find_authorization(access.authorization_id)
        .unwrap()
        .unwrap();
    assert_eq!(family.session_id.as_deref(), Some("browser-session"));
    assert_eq!(family.auth_time, Some(w.clock.now()));

    // Refresh: the same subject and sign-in time, no nonce, a fresh at_hash.
    w.clock.advance(Duration::minutes(10));
    let refreshed = w
        .exchange(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", response.refresh_token.as_deref().unwrap()),
            ],
        )
        .unwrap();
    let again = id_claims(&refreshed);
    assert_eq!(again["sub"], claims["sub"]);
    assert_eq!(again["auth_time"], claims["auth_time"]);
    assert_eq!(again["iat"], now + 600);
    assert!(again.get("nonce").is_none(), "{again}");
    assert_ne!(again["at_hash"], claims["at_hash"]);
}

#[test]
fn id_tokens_follow_the_clients_algorithm_and_only_come_with_openid_and_a_user() {
    let w = world();
    let client = openid_client(&w, "EdDSA");
    let password = |scope: &str| {
        w.exchange(
            &client,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse"),
                ("scope", scope),
            ],
        )
        .unwrap()
    };
    let with_openid = password("openid");
    let token = with_openid.id_token.as_deref().unwrap();
    let header = URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let claims = id_claims(&with_openid);
    assert_eq!(claims["auth_time"], w.clock.now().timestamp());
    let full = sha2::Sha512::digest(with_openid.access_token.as_bytes());
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&full[..32]));

    assert_eq!(password("profile").id_token, None);
    let machine = w
        .exchange(
            &client,
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .unwrap();
    assert_eq!(machine.id_token, None);
}
