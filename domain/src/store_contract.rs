//! The contract every [`Store`] keeps, as checks any implementation can run: the in-memory
//! fake of the domain's tests and the database (on SQLite and Postgres) run the same ones, so
//! the fake cannot drift looser than the real stores. Each check takes a fresh, empty store
//! and fails (panics) when the contract is broken; storage failures come back as errors.

use chrono::{DateTime, Duration, Utc};

use crate::authorization::Authorization;
use crate::browser_session::{BrowserSession, SessionId, SessionSelection};
use crate::claim::Claim;
use crate::client::{AuthMethod, Client, ClientDetails, GrantType, ResponseType};
use crate::code::AuthorizationCode;
use crate::consent::Consent;
use crate::device_code::{DeviceAnswer, DeviceCode, DeviceStatus};
use crate::error::StoreError;
use crate::jwt_access_token::{AccessTokenFormat, JwtAccessToken, JwtStanding};
use crate::params::Params;
use crate::policy::Policy;
use crate::purge::{purge, Purged};
use crate::pushed_request::PushedRequest;
use crate::redirect_uri::RedirectUri;
use crate::registration::StoredInitialAccessToken;
use crate::scope::Scope;
use crate::secret::Secret;
use crate::signing::SigningAlg;
use crate::signing_key::{KeyProtection, SigningKey};
use crate::store::Store;
use crate::token::{Token, TokenKind};
use crate::user::{User, UserId};

/// Every check, by name, for a runner that wants them all.
pub const CHECKS: [(&str, Check); 23] = [
    ("duplicates_are_conflicts", duplicates_are_conflicts),
    (
        "tokens_are_stored_all_or_none",
        tokens_are_stored_all_or_none,
    ),
    (
        "a_token_is_found_with_its_user",
        a_token_is_found_with_its_user,
    ),
    (
        "a_jwt_standing_is_read_with_its_family_user_and_revocation",
        a_jwt_standing_is_read_with_its_family_user_and_revocation,
    ),
    ("a_code_is_claimed_once", a_code_is_claimed_once),
    (
        "a_client_is_managed_only_with_its_registration_token",
        a_client_is_managed_only_with_its_registration_token,
    ),
    (
        "an_initial_access_token_is_spent_once_per_use",
        an_initial_access_token_is_spent_once_per_use,
    ),
    (
        "a_client_without_an_owner_is_claimed_once",
        a_client_without_an_owner_is_claimed_once,
    ),
    (
        "a_pushed_request_is_claimed_once",
        a_pushed_request_is_claimed_once,
    ),
    (
        "a_device_code_is_answered_polled_and_claimed_once",
        a_device_code_is_answered_polled_and_claimed_once,
    ),
    (
        "a_refresh_token_is_claimed_once",
        a_refresh_token_is_claimed_once,
    ),
    (
        "a_rotation_retry_replaces_the_earlier_pair",
        a_rotation_retry_replaces_the_earlier_pair,
    ),
    (
        "a_deleted_client_takes_what_it_was_issued",
        a_deleted_client_takes_what_it_was_issued,
    ),
    (
        "withdrawing_consent_revokes_that_users_tokens_only",
        withdrawing_consent_revokes_that_users_tokens_only,
    ),
    (
        "a_throttle_locks_at_its_limit_with_doubling_lockouts",
        a_throttle_locks_at_its_limit_with_doubling_lockouts,
    ),
    (
        "sessions_end_as_selected_and_only_their_users",
        sessions_end_as_selected_and_only_their_users,
    ),
    ("a_password_hash_is_replaced", a_password_hash_is_replaced),
    (
        "a_disabled_user_is_signed_out_and_loses_its_tokens",
        a_disabled_user_is_signed_out_and_loses_its_tokens,
    ),
    (
        "a_deleted_user_takes_everything_of_theirs",
        a_deleted_user_takes_everything_of_theirs,
    ),
    (
        "a_client_is_edited_by_its_owner_or_an_operator",
        a_client_is_edited_by_its_owner_or_an_operator,
    ),
    (
        "a_client_secret_is_replaced_alone_by_its_owner_or_an_operator",
        a_client_secret_is_replaced_alone_by_its_owner_or_an_operator,
    ),
    (
        "a_resealed_signing_key_changes_only_its_private_key",
        a_resealed_signing_key_changes_only_its_private_key,
    ),
    (
        "a_purge_deletes_rows_past_their_use_and_keeps_reuse_evidence",
        a_purge_deletes_rows_past_their_use_and_keeps_reuse_evidence,
    ),
];

/// One check: run on a fresh, empty store.
pub type Check = fn(&dyn Store) -> Result<(), StoreError>;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default()
}

fn scope(text: &str) -> Scope {
    Scope::parse(text).unwrap_or_default()
}

fn user(name: &str) -> User {
    User {
        id: UserId::generate(),
        username: name.to_owned(),
        password_hash: "hash".to_owned(),
        created_at: t0(),
        email: None,
        disabled_at: None,
        tokens_valid_after: None,
    }
}

fn client(id: &str, owner: &User) -> Client {
    Client {
        id: id.to_owned(),
        owner_id: Some(owner.id),
        secret_digest: Some(Secret::generate().digest()),
        name: id.to_owned(),
        uri: None,
        redirect_uris: RedirectUri::parse("https://app.example/cb", false)
            .into_iter()
            .collect(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        response_types: vec![ResponseType::Code],
        scope: scope("openid profile"),
        auth_method: AuthMethod::ClientSecretBasic,
        created_at: t0(),
        id_token_alg: SigningAlg::Rs256,
        post_logout_redirect_uris: Vec::new(),
        access_token_format: Some(AccessTokenFormat::Jwt),
        require_pushed_requests: Some(true),
        details: ClientDetails {
            logo_uri: Some("https://app.example/logo.png".to_owned()),
            tos_uri: Some("https://app.example/tos".to_owned()),
            policy_uri: None,
            contacts: vec!["ops@app.example".to_owned(), "dev@app.example".to_owned()],
        },
        registration_token_digest: Some(Secret::generate().digest()),
        registered_dynamically: false,
    }
}

fn token(kind: TokenKind, family: &Authorization) -> Token {
    Token {
        digest: Secret::generate().digest(),
        kind,
        authorization_id: family.id,
        client_id: family.client_id.clone(),
        user_id: family.user_id,
        scope: family.scope.clone(),
        issued_at: t0(),
        expires_at: t0() + Duration::hours(1),
        revoked_at: None,
        rotated_at: None,
        parent: None,
    }
}

/// A user, their client and an authorization, stored.
fn seed(store: &dyn Store, name: &str) -> Result<(User, Client, Authorization), StoreError> {
    let user = user(name);
    store.insert_user(&user)?;
    let client = client(&format!("{name}-client"), &user);
    store.insert_client(&client)?;
    let family = Authorization::new(&client.id, Some(user.id), scope("openid"), t0());
    store.insert_authorization(&family)?;
    Ok((user, client, family))
}

/// A second user or client with a taken name or id is [`StoreError::Conflict`].
pub fn duplicates_are_conflicts(store: &dyn Store) -> Result<(), StoreError> {
    let (user, client, _) = seed(store, "alice")?;
    let twin = User {
        id: UserId::generate(),
        ..user
    };
    assert!(matches!(
        store.insert_user(&twin),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.insert_client(&client),
        Err(StoreError::Conflict)
    ));
    Ok(())
}

/// A batch with a taken digest stores nothing of the batch; nor does a new family whose
/// first tokens include one, while a new family with fresh tokens stores them all.
pub fn tokens_are_stored_all_or_none(store: &dyn Store) -> Result<(), StoreError> {
    let (user, client, family) = seed(store, "alice")?;
    let existing = token(TokenKind::Access, &family);
    store.insert_tokens(std::slice::from_ref(&existing))?;
    let fresh = token(TokenKind::Refresh, &family);
    assert!(store
        .insert_tokens(&[fresh.clone(), existing.clone()])
        .is_err());
    assert_eq!(store.find_token(&fresh.digest)?, None);

    let second = Authorization::new(&client.id, Some(user.id), scope("openid"), t0());
    let clashing = token(TokenKind::Access, &second);
    let taken = Token {
        authorization_id: second.id,
        ..existing
    };
    assert!(store
        .insert_authorization_with_tokens(&second, &[clashing.clone(), taken])
        .is_err());
    assert_eq!(store.find_authorization(second.id)?, None);
    assert_eq!(store.find_token(&clashing.digest)?, None);

    let pair = [
        token(TokenKind::Access, &second),
        token(TokenKind::Refresh, &second),
    ];
    store.insert_authorization_with_tokens(&second, &pair)?;
    assert_eq!(store.find_authorization(second.id)?, Some(second));
    for stored in &pair {
        assert_eq!(store.find_token(&stored.digest)?.as_ref(), Some(stored));
    }
    Ok(())
}

/// A token is found with its user, revoked with its family; one of client credentials has
/// no user.
pub fn a_token_is_found_with_its_user(store: &dyn Store) -> Result<(), StoreError> {
    let (user, client, family) = seed(store, "alice")?;
    let hers = token(TokenKind::Access, &family);
    let machine = Authorization::new(&client.id, None, scope("openid"), t0());
    let machines = token(TokenKind::Access, &machine);
    store.insert_tokens(std::slice::from_ref(&hers))?;
    store.insert_authorization_with_tokens(&machine, std::slice::from_ref(&machines))?;

    assert_eq!(
        store.find_token_and_user(&hers.digest)?,
        Some((hers.clone(), Some(user)))
    );
    assert_eq!(
        store.find_token_and_user(&machines.digest)?,
        Some((machines, None))
    );
    assert_eq!(
        store.find_token_and_user(&Secret::generate().digest())?,
        None
    );
    let revoked_at = t0() + Duration::seconds(5);
    store.revoke_authorization(family.id, revoked_at)?;
    let found = store.find_token_and_user(&hers.digest)?;
    assert_eq!(
        found.and_then(|(token, _)| token.revoked_at),
        Some(revoked_at)
    );
    Ok(())
}

/// The client `family` was given to, as far as a [`JwtAccessToken`] names it.
fn client_of(family: &Authorization) -> Client {
    Client {
        id: family.client_id.clone(),
        ..client("", &user(""))
    }
}

/// A JWT access token of `family`, or of the client acting for itself when `family` is `None`.
fn jwt(client: &Client, family: Option<&Authorization>) -> JwtAccessToken {
    JwtAccessToken {
        jti: Secret::generate().expose().to_owned(),
        client_id: client.id.clone(),
        user_id: family.and_then(|family| family.user_id),
        family: family.map(|family| family.id),
        scope: scope("openid"),
        issued_at: t0(),
        expires_at: t0() + Duration::minutes(5),
    }
}

/// The standing of a JWT access token: its user and whether its family is live (unrevoked,
/// and its client's) and its `jti` denied, each read as it is now; nothing for a token of a
/// deleted client. Denying a `jti` twice keeps the first entry.
pub fn a_jwt_standing_is_read_with_its_family_user_and_revocation(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let (alice, client, family) = seed(store, "alice")?;
    let hers = jwt(&client, Some(&family));
    let live = JwtStanding {
        revoked: false,
        family_live: true,
        user: Some(alice.clone()),
    };
    assert_eq!(store.jwt_standing(&hers)?, Some(live.clone()));

    let machine = jwt(&client, None);
    let bare = JwtStanding {
        revoked: false,
        family_live: false,
        user: None,
    };
    assert_eq!(store.jwt_standing(&machine)?, Some(bare.clone()));

    let (_, other_client, others) = seed(store, "bob")?;
    let misfiled = JwtAccessToken {
        family: Some(others.id),
        ..hers.clone()
    };
    let nowhere = JwtAccessToken {
        family: Some(crate::authorization::AuthorizationId::generate()),
        user_id: Some(UserId::generate()),
        ..hers.clone()
    };
    assert_eq!(
        store.jwt_standing(&misfiled)?.map(|s| s.family_live),
        Some(false)
    );
    assert_eq!(
        store.jwt_standing(&nowhere)?,
        Some(JwtStanding {
            family_live: false,
            user: None,
            ..live.clone()
        })
    );

    store.revoke_jwt(&machine.jti, t0() + Duration::seconds(10))?;
    store.revoke_jwt(&machine.jti, t0() + Duration::hours(1))?;
    assert_eq!(
        store.jwt_standing(&machine)?,
        Some(JwtStanding {
            revoked: true,
            ..bare.clone()
        })
    );
    assert_eq!(store.jwt_standing(&hers)?, Some(live.clone()));
    let purged = purge(store, &Policy::default(), t0() + Duration::seconds(20))?;
    assert_eq!(purged.revoked_jwts, 1, "the first entry stays: {purged:?}");
    assert_eq!(store.jwt_standing(&machine)?, Some(bare));

    store.revoke_authorization(family.id, t0() + Duration::seconds(5))?;
    assert_eq!(
        store.jwt_standing(&hers)?,
        Some(JwtStanding {
            family_live: false,
            ..live
        })
    );
    assert!(store.delete_client(&client.id, alice.id)?);
    assert_eq!(store.jwt_standing(&hers)?, None);
    assert_eq!(store.jwt_standing(&machine)?, None);
    assert!(store.jwt_standing(&jwt(&other_client, None))?.is_some());
    Ok(())
}

/// A code is won once with its tokens; later claims are taken and store nothing; an expired
/// code cannot be claimed.
pub fn a_code_is_claimed_once(store: &dyn Store) -> Result<(), StoreError> {
    let (user, client, family) = seed(store, "alice")?;
    let code = |expires_in| AuthorizationCode {
        digest: Secret::generate().digest(),
        authorization_id: family.id,
        client_id: client.id.clone(),
        user_id: user.id,
        redirect_uri: None,
        scope: family.scope.clone(),
        challenge: None,
        created_at: t0(),
        expires_at: t0() + Duration::seconds(expires_in),
        used_at: None,
    };
    let live = code(300);
    store.insert_code(&live)?;
    let (first, second) = (
        token(TokenKind::Access, &family),
        token(TokenKind::Access, &family),
    );
    let at = t0() + Duration::seconds(1);
    let used = AuthorizationCode {
        used_at: Some(at),
        ..live.clone()
    };
    assert_eq!(
        store.claim_code(&live.digest, at, std::slice::from_ref(&first))?,
        Claim::Won(used.clone())
    );
    assert_eq!(
        store.claim_code(&live.digest, at, std::slice::from_ref(&second))?,
        Claim::Taken(used)
    );
    assert!(store.find_token(&first.digest)?.is_some());
    assert_eq!(store.find_token(&second.digest)?, None);
    let expired = code(0);
    store.insert_code(&expired)?;
    assert_eq!(
        store.claim_code(&expired.digest, t0(), &[])?,
        Claim::Unusable
    );
    Ok(())
}

fn pushed_request(client: &Client, created_at: DateTime<Utc>) -> PushedRequest {
    PushedRequest {
        digest: Secret::generate().digest(),
        client_id: client.id.clone(),
        params: Params::new(vec![
            ("client_id".to_owned(), client.id.clone()),
            ("response_type".to_owned(), "code".to_owned()),
            ("state".to_owned(), "caf\u{e9} & \"more\"".to_owned()),
            ("scope".to_owned(), "openid".to_owned()),
        ]),
        created_at,
        expires_at: created_at + Duration::seconds(60),
        used_at: None,
    }
}

fn device_code(client: &Client, created_at: DateTime<Utc>) -> DeviceCode {
    DeviceCode {
        digest: Secret::generate().digest(),
        user_code_digest: Secret::generate().digest(),
        client_id: client.id.clone(),
        scope: scope("openid profile"),
        created_at,
        expires_at: created_at + Duration::seconds(600),
        interval: Duration::seconds(5),
        last_polled_at: None,
        status: DeviceStatus::Pending,
        user_id: None,
        auth_time: None,
        redeemed_at: None,
    }
}

/// A device code is found by both its digests; a repeated user code is a conflict; it is
/// answered once while pending and unexpired; polls record the time and interval; an
/// approved one is claimed once, storing its family and tokens with the claim; deleting its
/// client deletes it.
pub fn a_device_code_is_answered_polled_and_claimed_once(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let (user, client, _) = seed(store, "alice")?;
    let live = device_code(&client, t0());
    store.insert_device_code(&live)?;
    assert_eq!(store.find_device_code(&live.digest)?.as_ref(), Some(&live));
    assert_eq!(
        store
            .find_device_code_by_user_code(&live.user_code_digest)?
            .as_ref(),
        Some(&live)
    );
    let same_user_code = DeviceCode {
        digest: Secret::generate().digest(),
        ..live.clone()
    };
    assert!(matches!(
        store.insert_device_code(&same_user_code),
        Err(StoreError::Conflict)
    ));
    let poll_at = t0() + Duration::seconds(3);
    store.record_device_poll(&live.digest, poll_at, Duration::seconds(10))?;
    assert!(
        store.claim_device_code(&live.digest, poll_at, None, &[])? == Claim::Unusable,
        "a pending code cannot be claimed"
    );
    let answer = DeviceAnswer {
        status: DeviceStatus::Approved,
        user_id: user.id,
        auth_time: Some(t0()),
    };
    assert!(store.answer_device_code(&live.user_code_digest, &answer, poll_at)?);
    let denied = DeviceAnswer {
        status: DeviceStatus::Denied,
        ..answer
    };
    assert!(!store.answer_device_code(&live.user_code_digest, &denied, poll_at)?);
    let approved = DeviceCode {
        status: DeviceStatus::Approved,
        user_id: Some(user.id),
        auth_time: Some(t0()),
        last_polled_at: Some(poll_at),
        interval: Duration::seconds(10),
        ..live.clone()
    };
    assert_eq!(
        store.find_device_code(&live.digest)?.as_ref(),
        Some(&approved)
    );

    let family = Authorization {
        auth_time: Some(t0()),
        ..Authorization::new(&client.id, Some(user.id), scope("openid profile"), poll_at)
    };
    let issued = token(TokenKind::Access, &family);
    let redeemed = DeviceCode {
        redeemed_at: Some(poll_at),
        ..approved
    };
    assert_eq!(
        store.claim_device_code(
            &live.digest,
            poll_at,
            Some(&family),
            std::slice::from_ref(&issued)
        )?,
        Claim::Won(redeemed.clone())
    );
    assert_eq!(store.find_authorization(family.id)?, Some(family.clone()));
    assert!(store.find_token(&issued.digest)?.is_some());
    let again = Authorization::new(&client.id, Some(user.id), scope("openid"), poll_at);
    assert_eq!(
        store.claim_device_code(&live.digest, poll_at, Some(&again), &[])?,
        Claim::Taken(redeemed)
    );
    assert_eq!(store.find_authorization(again.id)?, None);

    let expired = device_code(&client, t0() - Duration::seconds(600));
    store.insert_device_code(&expired)?;
    assert!(!store.answer_device_code(&expired.user_code_digest, &answer, t0())?);
    assert!(store.delete_client(&client.id, user.id)?);
    assert_eq!(store.find_device_code(&live.digest)?, None);
    Ok(())
}

/// A pushed request keeps its parameters byte for byte and in order; it is won once (with
/// them), later claims are taken; an expired one cannot be claimed; deleting its client
/// deletes it.
pub fn a_pushed_request_is_claimed_once(store: &dyn Store) -> Result<(), StoreError> {
    let (user, client, _) = seed(store, "alice")?;
    let live = pushed_request(&client, t0());
    store.insert_pushed_request(&live)?;
    assert_eq!(
        store.find_pushed_request(&live.digest)?.as_ref(),
        Some(&live)
    );
    assert!(matches!(
        store.insert_pushed_request(&live),
        Err(StoreError::Conflict)
    ));
    let at = t0() + Duration::seconds(1);
    let used = PushedRequest {
        used_at: Some(at),
        ..live.clone()
    };
    assert_eq!(
        store.claim_pushed_request(&live.digest, at)?,
        Claim::Won(used.clone())
    );
    assert_eq!(
        store.claim_pushed_request(&live.digest, at)?,
        Claim::Taken(used)
    );
    let expired = pushed_request(&client, t0() - Duration::seconds(60));
    store.insert_pushed_request(&expired)?;
    assert_eq!(
        store.claim_pushed_request(&expired.digest, t0())?,
        Claim::Unusable
    );
    assert_eq!(
        store.claim_pushed_request(&Secret::generate().digest(), t0())?,
        Claim::Unusable
    );
    assert!(store.delete_client(&client.id, user.id)?);
    assert_eq!(store.find_pushed_request(&live.digest)?, None);
    Ok(())
}

/// A refresh token is won once; a token of a revoked family cannot be claimed.
pub fn a_refresh_token_is_claimed_once(store: &dyn Store) -> Result<(), StoreError> {
    let (_, _, family) = seed(store, "alice")?;
    let refresh = token(TokenKind::Refresh, &family);
    let other = token(TokenKind::Refresh, &family);
    store.insert_tokens(&[refresh.clone(), other.clone()])?;
    let at = t0() + Duration::seconds(1);
    let rotated = Token {
        rotated_at: Some(at),
        ..refresh.clone()
    };
    assert_eq!(
        store.claim_refresh_token(&refresh.digest, at, &[])?,
        Claim::Won(rotated.clone())
    );
    assert_eq!(
        store.claim_refresh_token(&refresh.digest, at, &[])?,
        Claim::Taken(rotated)
    );
    store.revoke_authorization(family.id, at)?;
    assert_eq!(
        store.claim_refresh_token(&other.digest, at, &[])?,
        Claim::Unusable
    );
    Ok(())
}

/// A retry of a rotation revokes the pair minted from the same parent and stores the new
/// one; once that pair's refresh token was rotated in turn, a retry changes nothing.
pub fn a_rotation_retry_replaces_the_earlier_pair(store: &dyn Store) -> Result<(), StoreError> {
    let (_, _, family) = seed(store, "alice")?;
    let parent = token(TokenKind::Refresh, &family);
    let child = |kind| Token {
        parent: Some(parent.digest),
        ..token(kind, &family)
    };
    let first = [child(TokenKind::Access), child(TokenKind::Refresh)];
    let at = t0() + Duration::seconds(1);
    store.insert_tokens(std::slice::from_ref(&parent))?;
    assert!(matches!(
        store.claim_refresh_token(&parent.digest, at, &first)?,
        Claim::Won(_)
    ));

    let second = [child(TokenKind::Access), child(TokenKind::Refresh)];
    assert!(store.retry_rotation(&parent.digest, at, &second)?);
    for earlier in &first {
        let stored = store.find_token(&earlier.digest)?;
        assert_eq!(stored.and_then(|t| t.revoked_at), Some(at));
    }
    for fresh in &second {
        let stored = store.find_token(&fresh.digest)?;
        assert_eq!(
            stored.map(|t| (t.revoked_at, t.parent)),
            Some((None, Some(parent.digest)))
        );
    }

    assert!(matches!(
        store.claim_refresh_token(&second[1].digest, at, &[])?,
        Claim::Won(_)
    ));
    let third = [child(TokenKind::Access), child(TokenKind::Refresh)];
    assert!(!store.retry_rotation(&parent.digest, at, &third)?);
    assert_eq!(store.find_token(&third[0].digest)?, None);
    assert_eq!(
        store
            .find_token(&second[0].digest)?
            .and_then(|t| t.revoked_at),
        None
    );
    Ok(())
}

/// Deleting a client deletes its codes, tokens and consents.
pub fn a_deleted_client_takes_what_it_was_issued(store: &dyn Store) -> Result<(), StoreError> {
    let (user, client, family) = seed(store, "alice")?;
    let access = token(TokenKind::Access, &family);
    store.insert_tokens(std::slice::from_ref(&access))?;
    store.record_consent(&Consent {
        user_id: user.id,
        client_id: client.id.clone(),
        scope: family.scope.clone(),
        granted_at: t0(),
    })?;
    assert!(store.delete_client(&client.id, user.id)?);
    assert_eq!(store.find_token(&access.digest)?, None);
    assert_eq!(store.find_authorization(family.id)?, None);
    assert_eq!(store.consents_of(user.id)?, Vec::new());
    Ok(())
}

/// A client reads back with every field; an update replaces everything but its owner and
/// registration time, and only with its current registration token digest; a deletion needs
/// that digest too and takes what the client was issued.
pub fn a_client_is_managed_only_with_its_registration_token(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let (user, client, family) = seed(store, "alice")?;
    assert_eq!(store.find_client(&client.id)?.as_ref(), Some(&client));
    let current = client.registration_token_digest.ok_or_else(|| {
        StoreError::Other("the contract's client has a registration token".into())
    })?;
    let next = Secret::generate().digest();
    let revised = Client {
        owner_id: None,
        created_at: t0() + Duration::days(1),
        name: "Renamed".to_owned(),
        secret_digest: None,
        auth_method: AuthMethod::None,
        details: ClientDetails::default(),
        registration_token_digest: Some(next),
        registered_dynamically: true,
        access_token_format: None,
        require_pushed_requests: None,
        ..client.clone()
    };
    let stale = Secret::generate().digest();
    assert!(!store.update_client(&revised, &stale)?);
    assert_eq!(store.find_client(&client.id)?.as_ref(), Some(&client));
    assert!(store.update_client(&revised, &current)?);
    let expected = Client {
        owner_id: client.owner_id,
        created_at: client.created_at,
        ..revised.clone()
    };
    assert_eq!(store.find_client(&client.id)?, Some(expected.clone()));
    assert!(
        !store.update_client(&revised, &current)?,
        "the old token is spent"
    );
    assert_eq!(store.all_clients()?, vec![expected]);

    let access = token(TokenKind::Access, &family);
    store.insert_tokens(std::slice::from_ref(&access))?;
    assert!(!store.delete_managed_client(&client.id, &current)?);
    assert!(store.find_client(&client.id)?.is_some());
    assert!(store.delete_managed_client(&client.id, &next)?);
    assert_eq!(store.find_client(&client.id)?, None);
    assert_eq!(store.find_token(&access.digest)?, None);
    assert_eq!(store.clients_of(user.id)?, Vec::new());
    Ok(())
}

/// A registration spends one use of a live initial access token and stores the client in
/// the same step; an unknown, expired or used-up token stores nothing.
pub fn an_initial_access_token_is_spent_once_per_use(store: &dyn Store) -> Result<(), StoreError> {
    let owner = user("nobody");
    let dynamic = |id: &str| Client {
        owner_id: None,
        registered_dynamically: true,
        ..client(id, &owner)
    };
    let twice = StoredInitialAccessToken {
        digest: Secret::generate().digest(),
        created_at: t0(),
        expires_at: Some(t0() + Duration::hours(1)),
        uses_left: Some(2),
    };
    let unlimited = StoredInitialAccessToken {
        digest: Secret::generate().digest(),
        expires_at: None,
        uses_left: None,
        ..twice.clone()
    };
    store.insert_registration_token(&twice)?;
    store.insert_registration_token(&unlimited)?;
    assert!(matches!(
        store.insert_registration_token(&twice),
        Err(StoreError::Conflict)
    ));
    let now = t0() + Duration::minutes(1);
    assert!(store.insert_client_spending_token(&dynamic("one"), &twice.digest, now)?);
    assert!(store.insert_client_spending_token(&dynamic("two"), &twice.digest, now)?);
    assert!(!store.insert_client_spending_token(&dynamic("three"), &twice.digest, now)?);
    assert_eq!(store.find_client("three")?, None);
    let unknown = Secret::generate().digest();
    assert!(!store.insert_client_spending_token(&dynamic("four"), &unknown, now)?);
    assert_eq!(store.find_client("four")?, None);
    let later = t0() + Duration::days(365);
    assert!(store.insert_client_spending_token(&dynamic("five"), &unlimited.digest, later)?);
    let expired = StoredInitialAccessToken {
        digest: Secret::generate().digest(),
        uses_left: None,
        ..twice.clone()
    };
    store.insert_registration_token(&expired)?;
    let past_expiry = t0() + Duration::hours(1);
    assert!(!store.insert_client_spending_token(&dynamic("six"), &expired.digest, past_expiry)?);
    assert_eq!(store.find_client("six")?, None);
    let found = store.find_client("one")?.map(|c| c.registered_dynamically);
    assert_eq!(found, Some(true));
    Ok(())
}

/// A client without an owner is claimed with its registration token digest, once; a
/// client with an owner is never claimed.
pub fn a_client_without_an_owner_is_claimed_once(store: &dyn Store) -> Result<(), StoreError> {
    let (alice, owned, _) = seed(store, "alice")?;
    let bob = user("bob");
    store.insert_user(&bob)?;
    let orphan = Client {
        owner_id: None,
        ..client("orphan", &bob)
    };
    store.insert_client(&orphan)?;
    let (Some(orphan_token), Some(owned_token)) = (
        orphan.registration_token_digest,
        owned.registration_token_digest,
    ) else {
        return Err(StoreError::Other(
            "the contract's clients have tokens".into(),
        ));
    };
    assert!(!store.claim_client(&owned.id, &owned_token, bob.id)?);
    assert!(!store.claim_client(&orphan.id, &owned_token, bob.id)?);
    assert!(store.claim_client(&orphan.id, &orphan_token, bob.id)?);
    assert!(!store.claim_client(&orphan.id, &orphan_token, alice.id)?);
    let ids = |clients: Vec<Client>| clients.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(store.clients_of(bob.id)?), ["orphan"]);
    assert_eq!(ids(store.clients_of(alice.id)?), [owned.id]);
    Ok(())
}

/// Withdrawing a consent revokes that user's tokens of that client, and nobody else's.
pub fn withdrawing_consent_revokes_that_users_tokens_only(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let (alice, client, family) = seed(store, "alice")?;
    let bob = user("bob");
    store.insert_user(&bob)?;
    let bobs = Authorization::new(&client.id, Some(bob.id), scope("openid"), t0());
    store.insert_authorization(&bobs)?;
    let (hers, his) = (
        token(TokenKind::Access, &family),
        token(TokenKind::Access, &bobs),
    );
    store.insert_tokens(&[hers.clone(), his.clone()])?;
    for user in [alice.id, bob.id] {
        store.record_consent(&Consent {
            user_id: user,
            client_id: client.id.clone(),
            scope: scope("openid"),
            granted_at: t0(),
        })?;
    }
    let at = t0() + Duration::seconds(5);
    assert!(store.withdraw_consent(alice.id, &client.id, at)?);
    assert!(!store.withdraw_consent(alice.id, &client.id, at)?);
    assert_eq!(
        store.find_token(&hers.digest)?.and_then(|t| t.revoked_at),
        Some(at)
    );
    assert_eq!(
        store.find_token(&his.digest)?.and_then(|t| t.revoked_at),
        None
    );
    assert!(store.find_consent(bob.id, &client.id)?.is_some());
    Ok(())
}

/// Failures lock a key at the limit for a delay that doubles on the next run; failures
/// older than the window do not count; other keys are unaffected; a reset forgets it all.
pub fn a_throttle_locks_at_its_limit_with_doubling_lockouts(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let lockout = crate::throttle::ThrottleRules::lockout;
    let window = Duration::minutes(15);
    let fail = |key: &str, now: DateTime<Utc>| {
        store.record_throttle_failure(key, now, now - window, 3, lockout)
    };
    let t = t0();
    assert_eq!(fail("user:a", t)?, None);
    assert_eq!(fail("user:a", t)?, None);
    // A failure older than the window starts the count again.
    let later = t + Duration::minutes(16);
    assert_eq!(fail("user:a", later)?, None);
    assert_eq!(fail("user:a", later)?, None);
    assert_eq!(store.throttle_locked_until("user:a", later)?, None);
    let first = later + Duration::minutes(1);
    assert_eq!(fail("user:a", later)?, Some(first));
    assert_eq!(store.throttle_locked_until("user:a", later)?, Some(first));
    assert_eq!(store.throttle_locked_until("user:b", later)?, None);
    assert_eq!(store.throttle_locked_until("user:a", first)?, None);
    for _ in 0..2 {
        assert_eq!(fail("user:a", first)?, None);
    }
    assert_eq!(fail("user:a", first)?, Some(first + Duration::minutes(2)));
    store.reset_throttle("user:a")?;
    assert_eq!(store.throttle_locked_until("user:a", first)?, None);
    for _ in 0..2 {
        assert_eq!(fail("user:a", first)?, None);
    }
    assert_eq!(fail("user:a", first)?, Some(first + Duration::minutes(1)));
    Ok(())
}

fn browser_session(user: &User, started_at: DateTime<Utc>) -> BrowserSession {
    BrowserSession {
        id: SessionId::generate(),
        user_id: user.id,
        started_at,
        last_seen_at: started_at,
        ended_at: None,
        user_agent: Some("Agent/1.0 (é)".to_owned()),
    }
}

/// Sessions round-trip; a visit moves `last_seen_at`; ending one, all but one, or all ends
/// only that user's live sessions, each once; ended and old sessions are not listed.
pub fn sessions_end_as_selected_and_only_their_users(store: &dyn Store) -> Result<(), StoreError> {
    let (alice, bob) = (user("alice"), user("bob"));
    store.insert_user(&alice)?;
    store.insert_user(&bob)?;
    let sessions: Vec<_> = (0..4)
        .map(|minutes| browser_session(&alice, t0() + Duration::minutes(minutes)))
        .collect();
    let bobs = browser_session(&bob, t0());
    for session in sessions.iter().chain([&bobs]) {
        store.insert_session(session)?;
    }
    assert!(matches!(
        store.insert_session(&bobs),
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.find_session(sessions[0].id)?.as_ref(),
        Some(&sessions[0])
    );
    assert_eq!(store.find_session(SessionId::generate())?, None);

    let later = t0() + Duration::minutes(30);
    store.touch_session(sessions[1].id, later)?;
    let touched = store.find_session(sessions[1].id)?;
    assert_eq!(touched.map(|s| s.last_seen_at), Some(later));

    let live = |after: DateTime<Utc>| -> Result<Vec<SessionId>, StoreError> {
        let mut ids: Vec<_> = store
            .live_sessions_of(alice.id, after)?
            .iter()
            .map(|s| s.id)
            .collect();
        ids.sort_by_key(|id| id.0);
        Ok(ids)
    };
    let mut expected: Vec<_> = sessions.iter().map(|s| s.id).collect();
    expected.sort_by_key(|id| id.0);
    assert_eq!(live(t0() - Duration::seconds(1))?, expected);
    assert_eq!(live(t0() + Duration::minutes(2))?, vec![sessions[3].id]);

    assert_eq!(
        store.end_sessions(bob.id, SessionSelection::One(sessions[0].id), later)?,
        0
    );
    assert_eq!(
        store.end_sessions(alice.id, SessionSelection::One(sessions[0].id), later)?,
        1
    );
    assert_eq!(
        store.end_sessions(alice.id, SessionSelection::One(sessions[0].id), later)?,
        0
    );
    let ended = store.find_session(sessions[0].id)?;
    assert_eq!(ended.and_then(|s| s.ended_at), Some(later));
    assert_eq!(
        store.end_sessions(alice.id, SessionSelection::AllExcept(sessions[1].id), later)?,
        2
    );
    assert_eq!(live(t0() - Duration::seconds(1))?, vec![sessions[1].id]);
    assert_eq!(
        store.end_sessions(alice.id, SessionSelection::All, later)?,
        1
    );
    assert_eq!(live(t0() - Duration::seconds(1))?, Vec::new());
    let untouched = store.find_session(bobs.id)?;
    assert_eq!(untouched.and_then(|s| s.ended_at), None);
    Ok(())
}

/// A new password hash replaces the old one and nothing else about the user.
pub fn a_password_hash_is_replaced(store: &dyn Store) -> Result<(), StoreError> {
    let (alice, bob) = (user("alice"), user("bob"));
    store.insert_user(&alice)?;
    store.insert_user(&bob)?;
    store.set_password_hash(alice.id, "new hash")?;
    let changed = store.find_user(alice.id)?;
    assert_eq!(
        changed,
        Some(User {
            password_hash: "new hash".to_owned(),
            ..alice
        })
    );
    assert_eq!(store.find_user(bob.id)?, Some(bob));
    Ok(())
}

/// Users list oldest first, then by username. Disabling a user records the first time only
/// as `disabled_at` and the latest as `tokens_valid_after`, ends their unended sessions and
/// revokes their authorizations (so their tokens), and nobody else's; enabling clears
/// `disabled_at` and keeps `tokens_valid_after` and the revocations; an unknown user is false
/// for both.
pub fn a_disabled_user_is_signed_out_and_loses_its_tokens(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let (alice, _, alices_family) = seed(store, "alice")?;
    let (bob, _, bobs_family) = seed(store, "bob")?;
    let alices_token = token(TokenKind::Refresh, &alices_family);
    let bobs_token = token(TokenKind::Refresh, &bobs_family);
    store.insert_tokens(&[alices_token.clone(), bobs_token.clone()])?;
    let (alices_session, bobs_session) =
        (browser_session(&alice, t0()), browser_session(&bob, t0()));
    store.insert_session(&alices_session)?;
    store.insert_session(&bobs_session)?;
    let names: Vec<String> = store.all_users()?.into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["alice", "bob"]);

    let at = t0() + Duration::minutes(5);
    let again = at + Duration::minutes(1);
    assert!(store.disable_user(alice.id, at)?);
    assert!(store.disable_user(alice.id, again)?);
    let disabled = store.find_user(alice.id)?;
    assert_eq!(disabled.as_ref().and_then(|u| u.disabled_at), Some(at));
    assert_eq!(disabled.and_then(|u| u.tokens_valid_after), Some(again));
    // A clock behind the last disable does not move the mark back.
    assert!(store.disable_user(alice.id, at)?);
    let disabled = store.find_user(alice.id)?;
    assert_eq!(disabled.and_then(|u| u.tokens_valid_after), Some(again));
    assert_eq!(store.find_user(bob.id)?.and_then(|u| u.disabled_at), None);
    let revoked = store.find_token(&alices_token.digest)?;
    assert!(revoked.and_then(|t| t.revoked_at).is_some());
    let kept = store.find_token(&bobs_token.digest)?;
    assert_eq!(kept.and_then(|t| t.revoked_at), None);
    let ended = store.find_session(alices_session.id)?;
    assert_eq!(ended.and_then(|s| s.ended_at), Some(at));
    let live: Vec<SessionId> = store
        .all_live_sessions(t0() - Duration::seconds(1))?
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![bobs_session.id]);
    assert!(matches!(
        store.claim_refresh_token(&alices_token.digest, at, &[]),
        Ok(Claim::Unusable | Claim::Taken(_))
    ));

    assert!(store.enable_user(alice.id)?);
    let enabled = store.find_user(alice.id)?;
    let expected = User {
        tokens_valid_after: Some(again),
        ..alice
    };
    assert_eq!(enabled, Some(expected));
    let still = store.find_token(&alices_token.digest)?;
    assert!(still.and_then(|t| t.revoked_at).is_some());
    let nobody = UserId::generate();
    assert!(!store.disable_user(nobody, at)?);
    assert!(!store.enable_user(nobody)?);
    Ok(())
}

/// Deleting a user deletes their sessions, consents, authorizations with their tokens, and
/// the clients they own with what those were issued; other users' rows stay.
pub fn a_deleted_user_takes_everything_of_theirs(store: &dyn Store) -> Result<(), StoreError> {
    let (alice, alices_client, alices_family) = seed(store, "alice")?;
    let (bob, bobs_client, bobs_family) = seed(store, "bob")?;
    // Alice also approved Bob's client.
    let approval = Authorization::new(&bobs_client.id, Some(alice.id), scope("openid"), t0());
    store.insert_authorization(&approval)?;
    let (own, approved, bobs) = (
        token(TokenKind::Access, &alices_family),
        token(TokenKind::Access, &approval),
        token(TokenKind::Access, &bobs_family),
    );
    store.insert_tokens(&[own.clone(), approved.clone(), bobs.clone()])?;
    store.record_consent(&Consent {
        user_id: alice.id,
        client_id: bobs_client.id.clone(),
        scope: scope("openid"),
        granted_at: t0(),
    })?;
    let session = browser_session(&alice, t0());
    store.insert_session(&session)?;

    assert!(store.delete_user(alice.id)?);
    assert_eq!(store.find_user(alice.id)?, None);
    assert_eq!(store.find_client(&alices_client.id)?, None);
    assert_eq!(store.find_token(&own.digest)?, None);
    assert_eq!(store.find_token(&approved.digest)?, None);
    assert_eq!(store.find_authorization(approval.id)?, None);
    assert_eq!(store.consents_of(alice.id)?, Vec::new());
    assert_eq!(store.find_session(session.id)?, None);
    assert!(store.find_token(&bobs.digest)?.is_some());
    assert_eq!(store.find_client(&bobs_client.id)?, Some(bobs_client));
    assert_eq!(store.all_users()?, vec![bob]);
    assert!(!store.delete_user(alice.id)?);
    Ok(())
}

/// An edit replaces a client's metadata and secret digest but keeps its id, owner,
/// registration time, registration token digest and origin; with an owner it applies only
/// to that owner's client, without one to any. An operator's deletion takes any client with
/// what it was issued.
pub fn a_client_is_edited_by_its_owner_or_an_operator(store: &dyn Store) -> Result<(), StoreError> {
    let (alice, client, family) = seed(store, "alice")?;
    let bob = user("bob");
    store.insert_user(&bob)?;
    let edited = Client {
        owner_id: Some(bob.id),
        created_at: t0() + Duration::days(1),
        registration_token_digest: Some(Secret::generate().digest()),
        registered_dynamically: true,
        name: "Renamed".to_owned(),
        redirect_uris: RedirectUri::parse("https://app.example/other", false)
            .into_iter()
            .collect(),
        secret_digest: None,
        auth_method: AuthMethod::None,
        details: ClientDetails::default(),
        access_token_format: None,
        require_pushed_requests: None,
        id_token_alg: SigningAlg::Es256,
        ..client.clone()
    };
    assert!(!store.edit_client(&edited, Some(bob.id))?);
    assert_eq!(store.find_client(&client.id)?.as_ref(), Some(&client));
    assert!(store.edit_client(&edited, Some(alice.id))?);
    let expected = Client {
        owner_id: client.owner_id,
        created_at: client.created_at,
        registration_token_digest: client.registration_token_digest,
        registered_dynamically: client.registered_dynamically,
        ..edited.clone()
    };
    assert_eq!(store.find_client(&client.id)?.as_ref(), Some(&expected));
    let by_operator = Client {
        name: "By the operator".to_owned(),
        ..expected.clone()
    };
    assert!(store.edit_client(&by_operator, None)?);
    assert_eq!(store.find_client(&client.id)?, Some(by_operator.clone()));
    let unknown = Client {
        id: "unknown".to_owned(),
        ..by_operator
    };
    assert!(!store.edit_client(&unknown, None)?);

    let access = token(TokenKind::Access, &family);
    store.insert_tokens(std::slice::from_ref(&access))?;
    assert!(store.delete_any_client(&client.id)?);
    assert_eq!(store.find_client(&client.id)?, None);
    assert_eq!(store.find_token(&access.digest)?, None);
    assert!(!store.delete_any_client(&client.id)?);
    Ok(())
}

/// A new secret digest replaces a confidential client's and nothing else: every other field
/// stays as stored, whatever the caller read before. With an owner it applies only to that
/// owner's client, without one to any; a public client never gets one.
pub fn a_client_secret_is_replaced_alone_by_its_owner_or_an_operator(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let (alice, client, _) = seed(store, "alice")?;
    let stranger = UserId::generate();
    // Edited since the caller read `client`.
    let edited = Client {
        name: "Renamed".to_owned(),
        scope: scope("profile"),
        details: ClientDetails::default(),
        ..client.clone()
    };
    assert!(store.edit_client(&edited, None)?);
    let (by_stranger, by_alice, by_operator) = (
        Secret::generate().digest(),
        Secret::generate().digest(),
        Secret::generate().digest(),
    );
    assert!(!store.set_client_secret(&client.id, Some(stranger), &by_stranger)?);
    assert_eq!(store.find_client(&client.id)?.as_ref(), Some(&edited));
    for (owner, digest) in [(Some(alice.id), by_alice), (None, by_operator)] {
        assert!(store.set_client_secret(&client.id, owner, &digest)?);
        let expected = Client {
            secret_digest: Some(digest),
            ..edited.clone()
        };
        assert_eq!(store.find_client(&client.id)?, Some(expected));
    }
    assert!(!store.set_client_secret("unknown", None, &by_stranger)?);

    let public = Client {
        secret_digest: None,
        auth_method: AuthMethod::None,
        ..edited
    };
    assert!(store.edit_client(&public, None)?);
    for owner in [Some(alice.id), None] {
        assert!(!store.set_client_secret(&client.id, owner, &by_stranger)?);
    }
    assert_eq!(store.find_client(&client.id)?, Some(public));
    Ok(())
}

/// Re-sealing replaces one key's private key and protection, only while it is still the
/// one the caller read; every other field and every other key stay as they were.
pub fn a_resealed_signing_key_changes_only_its_private_key(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let key = |kid: &str| SigningKey {
        kid: kid.to_owned(),
        alg: SigningAlg::EdDsa,
        public_jwk: serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": kid}),
        private_key: format!("sealed-{kid}-under-the-old-secret"),
        protection: KeyProtection::Plain,
        created_at: t0(),
        signs_from: t0(),
    };
    let (first, second) = (key("k1"), key("k2"));
    assert!(store.insert_first_signing_key(&first)?);
    store.insert_signing_key(&second)?;
    let resealed = SigningKey {
        private_key: "sealed-k1-under-the-new-secret".to_owned(),
        protection: KeyProtection::Aes256Gcm,
        ..first.clone()
    };
    assert!(!store.reseal_signing_key(&resealed, "not what is stored")?);
    assert_eq!(store.signing_keys()?, [first.clone(), second.clone()]);
    assert!(store.reseal_signing_key(&resealed, &first.private_key)?);
    assert_eq!(store.signing_keys()?, [resealed.clone(), second.clone()]);
    // A second process that read the old private key finds the work done.
    assert!(!store.reseal_signing_key(&resealed, &first.private_key)?);
    let unknown = SigningKey {
        kid: "k3".to_owned(),
        ..resealed.clone()
    };
    assert!(!store.reseal_signing_key(&unknown, &first.private_key)?);
    assert_eq!(store.signing_keys()?, [resealed, second]);
    Ok(())
}

/// A code of `family`, given at `created_at` (living five minutes) and used at `used_at`.
fn code_at(
    family: &Authorization,
    created_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
) -> AuthorizationCode {
    AuthorizationCode {
        digest: Secret::generate().digest(),
        authorization_id: family.id,
        client_id: family.client_id.clone(),
        user_id: family.user_id.unwrap_or_else(UserId::generate),
        redirect_uri: None,
        scope: family.scope.clone(),
        challenge: None,
        created_at,
        expires_at: created_at + Duration::minutes(5),
        used_at,
    }
}

/// A token of `family` issued at `issued_at`, living `ttl`, rotated at `rotated_at`.
fn token_at(
    kind: TokenKind,
    family: &Authorization,
    issued_at: DateTime<Utc>,
    ttl: Duration,
    rotated_at: Option<DateTime<Utc>>,
) -> Token {
    Token {
        issued_at,
        expires_at: issued_at + ttl,
        rotated_at,
        ..token(kind, family)
    }
}

/// A purge at `now` (60 days after the seeded authorizations were given, default policy:
/// tokens live an hour and 30 days, so reuse evidence is kept 30 days) deletes unused codes
/// and tokens past their expiry, used codes and rotated refresh tokens used more than 30 days
/// ago, then the authorizations left with nothing; it keeps everything else, and a second
/// purge finds nothing. Throttle counters go once their window is over and their last lockout
/// ended an hour ago; a kept counter still doubles its next lockout and still counts. A
/// revoked JWT's deny-list entry goes once the JWT has expired; an initial access token once
/// it has expired or has no use left.
pub fn a_purge_deletes_rows_past_their_use_and_keeps_reuse_evidence(
    store: &dyn Store,
) -> Result<(), StoreError> {
    let policy = Policy::default();
    let now = t0() + Duration::days(60);
    let (hour, month) = (Duration::hours(1), Duration::days(30));
    let (alice, _, spent) = seed(store, "alice")?;
    let (_, _, alive) = seed(store, "bob")?;
    let signed_in = browser_session(&alice, now - hour);
    let signed_out = BrowserSession {
        ended_at: Some(now - Duration::minutes(30)),
        ..browser_session(&alice, now - hour)
    };
    let too_old = browser_session(&alice, now - policy.session_ttl);
    for session in [&signed_in, &signed_out, &too_old] {
        store.insert_session(session)?;
    }
    let fresh = Authorization::new(
        &alive.client_id,
        alive.user_id,
        alive.scope.clone(),
        now - Duration::days(1),
    );
    store.insert_authorization(&fresh)?;

    let gone_codes = [
        code_at(&spent, t0(), None),
        code_at(&spent, t0(), Some(t0() + Duration::minutes(1))),
    ];
    let used_recently = now - month + Duration::minutes(1);
    let kept_codes = [
        code_at(
            &alive,
            used_recently - Duration::minutes(1),
            Some(used_recently),
        ),
        code_at(&alive, now - Duration::minutes(1), None),
    ];
    let expired_revoked = Token {
        revoked_at: Some(now - Duration::days(2)),
        ..token_at(
            TokenKind::Access,
            &alive,
            now - Duration::days(2),
            hour,
            None,
        )
    };
    let gone_tokens = [
        token_at(TokenKind::Access, &spent, t0(), hour, None),
        token_at(
            TokenKind::Refresh,
            &spent,
            t0(),
            month,
            Some(t0() + Duration::days(1)),
        ),
        expired_revoked,
    ];
    let kept_tokens = [
        token_at(
            TokenKind::Refresh,
            &alive,
            now - Duration::days(31),
            month,
            Some(now - month + Duration::minutes(1)),
        ),
        token_at(TokenKind::Refresh, &alive, now - hour, month, None),
        token_at(
            TokenKind::Access,
            &alive,
            now - Duration::minutes(1),
            hour,
            None,
        ),
    ];
    for code in gone_codes.iter().chain(&kept_codes) {
        store.insert_code(code)?;
    }
    store.insert_tokens(&gone_tokens)?;
    store.insert_tokens(&kept_tokens)?;

    let lockout = crate::throttle::ThrottleRules::lockout;
    let window = policy.throttle.window;
    let fail = |key: &str, at: DateTime<Utc>| {
        store.record_throttle_failure(key, at, at - window, 3, lockout)
    };
    store.revoke_jwt("expired", now)?;
    store.revoke_jwt("alive", now + Duration::minutes(1))?;
    let alive_client = client_of(&alive);
    let expired_push = pushed_request(&alive_client, now - Duration::seconds(60));
    let live_push = pushed_request(&alive_client, now - Duration::seconds(59));
    store.insert_pushed_request(&expired_push)?;
    store.insert_pushed_request(&live_push)?;
    let expired_device = device_code(&alive_client, now - Duration::seconds(600));
    let live_device = device_code(&alive_client, now - Duration::seconds(599));
    store.insert_device_code(&expired_device)?;
    store.insert_device_code(&live_device)?;
    let initial_access_token = |expires_at, uses_left| StoredInitialAccessToken {
        digest: Secret::generate().digest(),
        created_at: t0(),
        expires_at,
        uses_left,
    };
    let gone_registration_tokens = [
        initial_access_token(Some(now), None),
        initial_access_token(Some(now + hour), Some(0)),
    ];
    let kept_registration_tokens = [
        initial_access_token(Some(now + Duration::seconds(1)), Some(1)),
        initial_access_token(None, None),
    ];
    for token in gone_registration_tokens
        .iter()
        .chain(&kept_registration_tokens)
    {
        store.insert_registration_token(token)?;
    }
    fail("user:stale", now - hour)?;
    fail("user:counting", now - Duration::minutes(5))?;
    for _ in 0..3 {
        fail("user:locked-long-ago", now - Duration::hours(3))?;
        fail("user:locked-lately", now - Duration::minutes(30))?;
    }

    assert_eq!(
        purge(store, &policy, now)?,
        Purged {
            authorization_codes: 2,
            tokens: 3,
            authorizations: 1,
            throttles: 2,
            sessions: 2,
            revoked_jwts: 1,
            pushed_requests: 1,
            device_codes: 1,
            registration_tokens: 2,
        }
    );
    assert_eq!(store.find_device_code(&expired_device.digest)?, None);
    assert_eq!(
        store.find_device_code(&live_device.digest)?.as_ref(),
        Some(&live_device)
    );
    assert_eq!(store.find_pushed_request(&expired_push.digest)?, None);
    assert_eq!(
        store.find_pushed_request(&live_push.digest)?.as_ref(),
        Some(&live_push)
    );
    assert_eq!(store.find_session(signed_in.id)?, Some(signed_in));
    assert_eq!(store.find_session(signed_out.id)?, None);
    assert_eq!(store.find_session(too_old.id)?, None);
    for code in &gone_codes {
        assert_eq!(store.find_code(&code.digest)?, None);
    }
    for code in &kept_codes {
        assert_eq!(store.find_code(&code.digest)?.as_ref(), Some(code));
    }
    for token in &gone_tokens {
        assert_eq!(store.find_token(&token.digest)?, None);
    }
    for token in &kept_tokens {
        assert_eq!(store.find_token(&token.digest)?.as_ref(), Some(token));
    }
    assert_eq!(store.find_authorization(spent.id)?, None);
    assert!(store.find_authorization(alive.id)?.is_some());
    assert!(store.find_authorization(fresh.id)?.is_some());
    let denied = |jti: &str| -> Result<bool, StoreError> {
        let token = JwtAccessToken {
            jti: jti.to_owned(),
            family: None,
            user_id: None,
            ..jwt(&client_of(&spent), None)
        };
        Ok(store.jwt_standing(&token)?.is_some_and(|s| s.revoked))
    };
    assert!(denied("alive")?);
    assert!(!denied("expired")?);
    assert_eq!(purge(store, &policy, now)?, Purged::default());
    // A kept token's digest is still taken; a purged one's is free again.
    for token in &kept_registration_tokens {
        let again = store.insert_registration_token(token);
        assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    }
    for token in &gone_registration_tokens {
        store.insert_registration_token(token)?;
    }

    for _ in 0..2 {
        assert_eq!(fail("user:locked-lately", now)?, None);
        assert_eq!(fail("user:locked-long-ago", now)?, None);
    }
    assert_eq!(
        fail("user:locked-lately", now)?,
        Some(now + Duration::minutes(2))
    );
    assert_eq!(
        fail("user:locked-long-ago", now)?,
        Some(now + Duration::minutes(1))
    );
    assert_eq!(fail("user:counting", now)?, None);
    assert_eq!(
        fail("user:counting", now)?,
        Some(now + Duration::minutes(1))
    );
    Ok(())
}
