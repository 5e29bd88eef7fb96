//! Pushed authorization requests (RFC 9126) end to end against the in-memory store and a
//! fixed clock.

use chrono::Duration;

use crate::authorize::AuthorizeError;
use crate::clock::Clock as _;
use crate::prompt::{AuthorizeOutcome, SignedIn};
use crate::pushed_request::{PushedResponse, PUSHED_REQUEST_TTL, REQUEST_URI_PREFIX};
use crate::scenarios::{oauth_code, params, world, world_with, World};
use crate::{Client, ClientRegistration, ErrorCode, Params, Policy};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

impl World {
    fn confidential(&self, require_pushed_requests: bool) -> Client {
        self.client_with(ClientRegistration {
            grant_types: vec!["authorization_code".into()],
            require_pushed_requests,
            ..ClientRegistration::default()
        })
        .0
    }

    fn push(&self, client: &Client, pairs: &[(&str, &str)]) -> PushedResponse {
        self.provider
            .push_authorization_request(client, &params(pairs))
            .unwrap()
    }

    fn by_reference(&self, client_id: &str, request_uri: &str) -> Params {
        params(&[("client_id", client_id), ("request_uri", request_uri)])
    }
}

fn code_request() -> [(&'static str, &'static str); 5] {
    [
        ("response_type", "code"),
        ("scope", "profile"),
        ("state", "pushed-state"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

fn shown_page(result: Result<impl std::fmt::Debug, AuthorizeError>) -> ErrorCode {
    match result {
        Err(AuthorizeError::Page(error)) => error.code,
        other => panic!("expected an error page, got {other:?}"),
    }
}

#[test]
fn a_pushed_request_stands_for_its_parameters_once() {
    let w = world();
    let client = w.confidential(false);
    let pushed = w.push(&client, &code_request());
    assert!(pushed.request_uri.starts_with(REQUEST_URI_PREFIX));
    assert!(pushed.request_uri.len() >= REQUEST_URI_PREFIX.len() + 22);
    assert_eq!(pushed.expires_in, 60);

    let mut query = w.by_reference(&client.id, &pushed.request_uri);
    let extra = ("state".to_owned(), "ignored".to_owned());
    query = Params::new(query.pairs().iter().cloned().chain([extra]).collect());
    let request = w.provider.validate_authorization(&query).unwrap();
    assert_eq!(request.state.as_deref(), Some("pushed-state"));
    assert_eq!(request.scope.to_string(), "profile");
    assert!(request.challenge.is_some());

    // Read, not used, until answered: the consent page and its POST see it again.
    let again = w.provider.validate_authorization(&query).unwrap();
    let location = w.provider.allow(&again, w.signed_in()).unwrap();
    assert!(location.contains("code="), "{location}");
    assert!(location.contains("state=pushed-state"), "{location}");
    assert_eq!(
        shown_page(w.provider.validate_authorization(&query)),
        ErrorCode::InvalidRequest
    );
    assert!(matches!(
        w.provider.allow(&request, w.signed_in()),
        Err(AuthorizeError::Page(_))
    ));
}

#[test]
fn deny_uses_up_the_pushed_request() {
    let w = world();
    let client = w.confidential(false);
    let pushed = w.push(&client, &code_request());
    let query = w.by_reference(&client.id, &pushed.request_uri);
    let request = w.provider.validate_authorization(&query).unwrap();
    assert!(w
        .provider
        .deny(&request)
        .unwrap()
        .contains("error=access_denied"));
    shown_page(w.provider.validate_authorization(&query));
}

#[test]
fn a_request_uri_is_refused_for_another_client_after_expiry_or_unknown() {
    let w = world();
    let client = w.confidential(false);
    let other = w.confidential(false);
    let pushed = w.push(&client, &code_request());
    for query in [
        w.by_reference(&other.id, &pushed.request_uri),
        w.by_reference(&client.id, "urn:ietf:params:oauth:request_uri:unknown"),
        params(&[("request_uri", &pushed.request_uri)]),
    ] {
        shown_page(w.provider.validate_authorization(&query));
    }
    let query = w.by_reference(&client.id, &pushed.request_uri);
    w.clock.advance(PUSHED_REQUEST_TTL - Duration::seconds(1));
    assert!(w.provider.validate_authorization(&query).is_ok());
    w.clock.advance(Duration::seconds(1));
    shown_page(w.provider.validate_authorization(&query));
}

#[test]
fn pushed_parameters_are_validated_like_the_authorization_endpoints() {
    let w = world();
    let client = w.confidential(false);
    let public = w
        .client_with(ClientRegistration {
            auth_method: "none".into(),
            ..ClientRegistration::default()
        })
        .0;
    let push = |client: &Client, pairs: &[(&str, &str)]| {
        oauth_code(
            w.provider
                .push_authorization_request(client, &params(pairs)),
        )
    };
    let code = [("response_type", "code")];
    let with = |extra: (&'static str, &'static str)| {
        let mut pairs = code.to_vec();
        pairs.push(extra);
        pairs
    };
    assert_eq!(
        push(&client, &with(("scope", "admin"))),
        ErrorCode::InvalidScope
    );
    assert_eq!(
        push(&client, &with(("redirect_uri", "https://evil.example/cb"))),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        push(
            &client,
            &with(("request_uri", "urn:ietf:params:oauth:request_uri:x"))
        ),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        push(
            &client,
            &[("response_type", "code"), ("client_id", &public.id)]
        ),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        push(&client, &[("response_type", "device")]),
        ErrorCode::UnsupportedResponseType
    );
    assert_eq!(push(&public, &code), ErrorCode::InvalidRequest);
    let pkce = [
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    assert!(w
        .provider
        .push_authorization_request(&public, &params(&pkce))
        .is_ok());
}

#[test]
fn a_client_that_must_push_is_refused_a_direct_request() {
    for (server_requires, client_requires) in [(false, true), (true, false)] {
        let w = world_with(Policy {
            require_pushed_requests: server_requires,
            ..Policy::default()
        });
        let client = w.confidential(client_requires);
        let direct = params(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("state", "s"),
        ]);
        match w.provider.validate_authorization(&direct) {
            Err(AuthorizeError::Redirect(url)) => {
                assert!(url.contains("error=invalid_request"), "{url}");
                assert!(url.contains("state=s"), "{url}");
            }
            other => panic!("expected a redirect, got {other:?}"),
        }
        let pushed = w.push(&client, &code_request());
        let query = w.by_reference(&client.id, &pushed.request_uri);
        assert!(w.provider.validate_authorization(&query).is_ok());
    }
}

#[test]
fn a_sign_in_after_the_push_satisfies_its_prompt_login_and_max_age() {
    let w = world();
    let client = w.confidential(false);
    let mut pairs = code_request().to_vec();
    pairs.extend([("prompt", "login consent"), ("max_age", "0")]);
    let pushed = w.push(&client, &pairs);
    let query = w.by_reference(&client.id, &pushed.request_uri);
    let request = w.provider.validate_authorization(&query).unwrap();
    let before_push = SignedIn {
        auth_time: w.clock.now() - Duration::seconds(1),
        ..w.signed_in()
    };
    match w
        .provider
        .decide(&request, &query, Some(before_push))
        .unwrap()
    {
        AuthorizeOutcome::SignIn { resume, .. } => assert_eq!(resume, query),
        other => panic!("expected SignIn, got {other:?}"),
    }
    w.clock.advance(Duration::seconds(5));
    assert_eq!(
        w.provider
            .decide(&request, &query, Some(w.signed_in()))
            .unwrap(),
        AuthorizeOutcome::AskConsent
    );
}
