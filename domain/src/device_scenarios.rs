//! The device authorization grant (RFC 8628) end to end against the in-memory store and a
//! fixed clock.

use chrono::Duration;

use crate::clock::Clock as _;
use crate::device_code::{
    DeviceAnswer, DeviceAuthorizationResponse, DeviceStatus, UserCodeLookup, DEFAULT_INTERVAL,
};
use crate::scenarios::{oauth_code, params, world, World};
use crate::token_endpoint::TokenRequest;
use crate::{Client, ClientRegistration, ErrorCode};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl World {
    fn device_client(&self) -> Client {
        self.client_with(ClientRegistration {
            grant_types: vec![DEVICE_GRANT.into(), "refresh_token".into()],
            scope: "openid profile".into(),
            ..ClientRegistration::default()
        })
        .0
    }

    /// Starts a device authorization of `client` with no parameters.
    fn start(&self, client: &Client) -> DeviceAuthorizationResponse {
        self.provider
            .device_authorization(client, &params(&[]))
            .unwrap()
    }

    fn poll(
        &self,
        client: &Client,
        device_code: &str,
    ) -> Result<crate::token::TokenResponse, crate::Error> {
        self.provider.exchange(
            client,
            TokenRequest::DeviceCode {
                device_code: device_code.to_owned(),
            },
        )
    }

    fn answer(&self, user_code: &str, status: DeviceStatus) -> bool {
        self.provider
            .answer_device_code(
                user_code,
                &DeviceAnswer {
                    status,
                    user_id: self.user.id,
                    auth_time: Some(self.clock.now()),
                },
            )
            .unwrap()
    }
}

#[test]
fn an_approved_device_code_gives_the_users_tokens_once() {
    let w = world();
    let client = w.device_client();
    let started = w
        .provider
        .device_authorization(&client, &params(&[("scope", "openid profile")]))
        .unwrap();
    assert_eq!(started.interval, DEFAULT_INTERVAL.num_seconds());
    assert_eq!(
        oauth_code(w.poll(&client, &started.device_code)),
        ErrorCode::AuthorizationPending
    );
    let typed = started.user_code.to_lowercase().replace('-', "");
    match w.provider.find_user_code(&typed, "session").unwrap() {
        UserCodeLookup::Found(found) => {
            let (code, found) = *found;
            assert_eq!(found.id, client.id);
            assert_eq!(code.scope.to_string(), "openid profile");
        }
        other => panic!("expected the device code, got {other:?}"),
    }
    assert!(w.answer(&typed, DeviceStatus::Approved));
    assert!(!w.answer(&typed, DeviceStatus::Denied), "answered once");
    w.clock.advance(DEFAULT_INTERVAL);
    let tokens = w.poll(&client, &started.device_code).unwrap();
    assert_eq!(tokens.scope, "openid profile");
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.id_token.is_some());
    w.clock.advance(DEFAULT_INTERVAL);
    assert_eq!(
        oauth_code(w.poll(&client, &started.device_code)),
        ErrorCode::InvalidGrant
    );
}

#[test]
fn an_approval_given_before_the_user_was_disabled_stays_refused_after_enabling() {
    let w = world();
    let client = w.device_client();
    let started = w.start(&client);
    assert!(w.answer(&started.user_code, DeviceStatus::Approved));
    w.clock.advance(Duration::seconds(1));
    assert!(w.provider.disable_user(w.user.id).unwrap());
    w.clock.advance(Duration::seconds(1));
    assert!(w.provider.enable_user(w.user.id).unwrap());
    w.clock.advance(DEFAULT_INTERVAL);
    assert_eq!(
        oauth_code(w.poll(&client, &started.device_code)),
        ErrorCode::InvalidGrant
    );

    // An approval given after enabling goes through.
    let again = w.start(&client);
    w.clock.advance(Duration::seconds(1));
    assert!(w.answer(&again.user_code, DeviceStatus::Approved));
    w.clock.advance(DEFAULT_INTERVAL);
    assert!(w.poll(&client, &again.device_code).is_ok());
}

#[test]
fn polling_too_soon_grows_the_interval_and_expiry_ends_polling() {
    let w = world();
    let client = w.device_client();
    let started = w.start(&client);
    let poll = || oauth_code(w.poll(&client, &started.device_code));
    assert_eq!(poll(), ErrorCode::AuthorizationPending);
    assert_eq!(poll(), ErrorCode::SlowDown);
    w.clock.advance(Duration::seconds(9));
    assert_eq!(poll(), ErrorCode::SlowDown, "the interval is now 10 s");
    w.clock.advance(Duration::seconds(15));
    assert_eq!(poll(), ErrorCode::AuthorizationPending);
    w.clock.advance(Duration::seconds(600));
    assert_eq!(poll(), ErrorCode::ExpiredToken);
    assert!(!w.answer(&started.user_code, DeviceStatus::Approved));
}

#[test]
fn wrong_user_codes_lock_the_session_after_the_limit() {
    let w = world();
    let client = w.device_client();
    let started = w.start(&client);
    for _ in 0..5 {
        assert_eq!(
            w.provider.find_user_code("BCDF-GHJK", "s").unwrap(),
            UserCodeLookup::Wrong
        );
    }
    assert!(matches!(
        w.provider.find_user_code(&started.user_code, "s").unwrap(),
        UserCodeLookup::Locked { .. }
    ));
    assert!(matches!(
        w.provider
            .find_user_code(&started.user_code, "other")
            .unwrap(),
        UserCodeLookup::Found(_)
    ));
}

#[test]
fn only_clients_registered_for_the_grant_start_it() {
    let w = world();
    let (client, _) = w.client("client_secret_basic", "authorization_code");
    assert_eq!(
        oauth_code(w.provider.device_authorization(&client, &params(&[]))),
        ErrorCode::UnauthorizedClient
    );
    let device = w.device_client();
    assert_eq!(
        oauth_code(
            w.provider
                .device_authorization(&device, &params(&[("scope", "admin")]))
        ),
        ErrorCode::InvalidScope
    );
}
