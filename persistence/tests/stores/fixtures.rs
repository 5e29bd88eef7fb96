//! Domain values to store, at fixed times (the clock is never read in these tests).

#![expect(
    clippy::unwrap_used,
    reason = "a fixture that cannot be built fails the test"
)]

use std::fmt::Debug;
use std::sync::Barrier;

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection as _, PgConnection, RunQueryDsl as _, SqliteConnection};
use tessera_domain::authorization::Authorization;
use tessera_domain::claim::Claim;
use tessera_domain::client::{AuthMethod, Client, ClientDetails, GrantType, ResponseType};
use tessera_domain::code::AuthorizationCode;
use tessera_domain::pkce::{ChallengeMethod, CodeChallenge};
use tessera_domain::redirect_uri::RedirectUri;
use tessera_domain::signing::SigningAlg;
use tessera_domain::store::{
    AuthorizationStore as _, ClientStore as _, CodeStore as _, TokenStore as _, UserStore as _,
};
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::{Scope, Secret, StoreError, TokenDigest, User, UserId};
use tessera_persistence::test_db::TestDb;
use tessera_persistence::{Backend, Database, DatabaseUrl, PoolOptions};

/// A fixed "now" for the tests (2030-03-17, whole seconds as stored).
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).unwrap()
}

/// `t0` plus some seconds.
pub fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

pub fn scope(text: &str) -> Scope {
    Scope::parse(text).unwrap()
}

pub fn user(name: &str) -> User {
    User {
        id: UserId::generate(),
        username: name.to_owned(),
        password_hash: "$2b$04$abcdefghijklmnopqrstuuN2s6nW1oCm6m0oZ5nE0uJYp2cE6n1m".to_owned(),
        created_at: t0(),
        email: Some(format!("{name}@example.com")),
        disabled_at: None,
        tokens_valid_after: None,
    }
}

/// A confidential client with every piece of metadata set.
pub fn client(id: &str, owner: Option<UserId>) -> Client {
    Client {
        id: id.to_owned(),
        owner_id: owner,
        secret_digest: Some(Secret::generate().digest()),
        name: format!("Client {id}"),
        uri: Some("https://app.example".to_owned()),
        redirect_uris: vec![
            RedirectUri::parse("https://app.example/cb", false).unwrap(),
            RedirectUri::parse("https://app.example/cb?x=1&y=two", false).unwrap(),
        ],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        response_types: vec![ResponseType::Code],
        scope: scope("profile email openid"),
        auth_method: AuthMethod::ClientSecretBasic,
        created_at: t0(),
        id_token_alg: SigningAlg::Es256,
        post_logout_redirect_uris: vec![
            RedirectUri::parse("https://app.example/bye", false).unwrap(),
            RedirectUri::parse("https://app.example/bye?then=home", false).unwrap(),
        ],
        access_token_format: None,
        require_pushed_requests: None,
        details: ClientDetails {
            logo_uri: Some("https://app.example/logo.png".to_owned()),
            tos_uri: Some("https://app.example/tos".to_owned()),
            policy_uri: Some("https://app.example/privacy".to_owned()),
            contacts: vec!["ops@app.example".to_owned(), "+1 555 0100".to_owned()],
        },
        registration_token_digest: Some(Secret::generate().digest()),
        registered_dynamically: false,
    }
}

/// An authorization with a sign-in time and a nonce.
pub fn grant(client: &Client, user: Option<&User>) -> Authorization {
    Authorization {
        auth_time: Some(at(-60)),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        session_id: Some("session-1".to_owned()),
        ..Authorization::new(
            &client.id,
            user.map(|user| user.id),
            scope("profile email"),
            t0(),
        )
    }
}

/// An unused code with PKCE, valid for five minutes from `t0`.
pub fn code(grant: &Authorization) -> AuthorizationCode {
    AuthorizationCode {
        digest: Secret::generate().digest(),
        authorization_id: grant.id,
        client_id: grant.client_id.clone(),
        user_id: grant.user_id.unwrap(),
        redirect_uri: Some("https://app.example/cb".to_owned()),
        scope: grant.scope.clone(),
        challenge: Some(CodeChallenge {
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
            method: ChallengeMethod::S256,
        }),
        created_at: t0(),
        expires_at: at(300),
        used_at: None,
    }
}

/// `code` as it reads once used at `now`.
pub fn used(code: &AuthorizationCode, now: DateTime<Utc>) -> AuthorizationCode {
    AuthorizationCode {
        used_at: Some(now),
        ..code.clone()
    }
}

/// An active token of `kind`, issued at `t0`, expiring an hour later.
pub fn token(kind: TokenKind, grant: &Authorization) -> Token {
    Token {
        digest: Secret::generate().digest(),
        kind,
        authorization_id: grant.id,
        client_id: grant.client_id.clone(),
        user_id: grant.user_id,
        scope: grant.scope.clone(),
        issued_at: t0(),
        expires_at: at(3600),
        revoked_at: None,
        rotated_at: None,
        parent: None,
    }
}

/// `token` as it reads once rotated at `now`.
pub fn rotated(token: &Token, now: DateTime<Utc>) -> Token {
    Token {
        rotated_at: Some(now),
        ..token.clone()
    }
}

/// Claims the code with `digest` at `now`, storing `tokens` if it wins; the call itself must
/// not fail.
pub fn claim(
    db: &Database,
    digest: &TokenDigest,
    now: DateTime<Utc>,
    tokens: &[Token],
) -> Claim<AuthorizationCode> {
    db.claim_code(digest, now, tokens).unwrap()
}

/// Claims the refresh token with `digest` at `now`, storing `tokens` if it wins; the call
/// itself must not fail.
pub fn claim_refresh(
    db: &Database,
    digest: &TokenDigest,
    now: DateTime<Utc>,
    tokens: &[Token],
) -> Claim<Token> {
    db.claim_refresh_token(digest, now, tokens).unwrap()
}

/// A user, their client and a grant, stored.
pub struct Seeded {
    pub user: User,
    pub client: Client,
    pub grant: Authorization,
}

pub fn seed(db: &Database) -> Seeded {
    let user = user("alice");
    db.insert_user(&user).unwrap();
    let client = client("client-a", Some(user.id));
    db.insert_client(&client).unwrap();
    let grant = grant(&client, Some(&user));
    db.insert_authorization(&grant).unwrap();
    Seeded {
        user,
        client,
        grant,
    }
}

/// `seed`, and a stored token of `kind` for the seeded grant.
pub fn seeded_token(db: &Database, kind: TokenKind) -> (Seeded, Token) {
    let (seeded, [token]) = seeded_tokens(db, [kind]);
    (seeded, token)
}

/// `seed`, and stored tokens of `kinds` for the seeded grant, inserted together.
pub fn seeded_tokens<const N: usize>(db: &Database, kinds: [TokenKind; N]) -> (Seeded, [Token; N]) {
    let seeded = seed(db);
    let tokens = kinds.map(|kind| token(kind, &seeded.grant));
    db.insert_tokens(&tokens).unwrap();
    (seeded, tokens)
}

/// `seed`, and a stored code for the seeded grant.
pub fn seeded_code(db: &Database) -> (Seeded, AuthorizationCode) {
    let seeded = seed(db);
    let code = code(&seeded.grant);
    db.insert_code(&code).unwrap();
    (seeded, code)
}

/// `seeded_code`, and a stored token of `kind` for the seeded grant.
pub fn seeded_code_and_token(db: &Database, kind: TokenKind) -> (Seeded, AuthorizationCode, Token) {
    let (seeded, code) = seeded_code(db);
    let token = stored_token(db, kind, &seeded.grant);
    (seeded, code, token)
}

/// A token of `kind` for `grant`, stored.
pub fn stored_token(db: &Database, kind: TokenKind, grant: &Authorization) -> Token {
    let token = token(kind, grant);
    db.insert_tokens(std::slice::from_ref(&token)).unwrap();
    token
}

/// The stored row of `token`, which must exist.
pub fn stored(db: &Database, token: &Token) -> Token {
    db.find_token(&token.digest).unwrap().unwrap()
}

/// Fails unless `token` is stored exactly as it is.
#[track_caller]
pub fn assert_stored(db: &Database, token: &Token) {
    assert_eq!(db.find_token(&token.digest).unwrap(), Some(token.clone()));
}

/// Fails if a token with `token`'s digest is stored.
#[track_caller]
pub fn assert_not_stored(db: &Database, token: &Token) {
    assert_eq!(db.find_token(&token.digest).unwrap(), None);
}

/// `count` pools on the database at `url`, as separate server processes would have.
pub fn processes(url: &str, count: usize) -> Vec<Database> {
    let url = DatabaseUrl::parse(url).unwrap();
    (0..count)
        .map(|_| Database::connect(&url, PoolOptions::default()).unwrap())
        .collect()
}

/// Runs `attempt` for every one of `racers`, each on its own thread, all let go at once;
/// the outcomes come back in the racers' order.
pub fn race<R: Sync, O: Send>(racers: &[R], attempt: impl Fn(&R) -> O + Sync) -> Vec<O> {
    let barrier = Barrier::new(racers.len());
    std::thread::scope(|scope| {
        let threads: Vec<_> = racers
            .iter()
            .map(|racer| {
                let (barrier, attempt) = (&barrier, &attempt);
                scope.spawn(move || {
                    barrier.wait();
                    attempt(racer)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .collect()
    })
}

/// Twenty threads at once call `present`, which claims one code or refresh token, each
/// with one fresh token of `kind` for `grant` to store if it wins. Checks that exactly one
/// call `won`, and that the winner's token is stored and no loser's; gives back the winner's
/// outcome and the losers' outcomes.
pub fn twenty_racers_one_winner<O: Clone + Debug + Send>(
    db: &Database,
    kind: TokenKind,
    grant: &Authorization,
    present: impl Fn(&[Token]) -> O + Sync,
    won: impl Fn(&O) -> bool,
) -> (O, Vec<O>) {
    let minted: Vec<Token> = (0..20).map(|_| token(kind, grant)).collect();
    let outcomes = race(&minted, |token| {
        (present(std::slice::from_ref(token)), token.clone())
    });
    let (winners, losers): (Vec<_>, Vec<_>) =
        outcomes.iter().partition(|(outcome, _)| won(outcome));
    assert_eq!((winners.len(), losers.len()), (1, 19), "{outcomes:?}");
    let (winner, winners_token) = winners[0];
    assert_stored(db, winners_token);
    for (_, losers_token) in &losers {
        assert_not_stored(db, losers_token);
    }
    let losers = losers.into_iter().map(|(outcome, _)| outcome.clone());
    (winner.clone(), losers.collect())
}

/// Claims a code or refresh token through `present` (at a time, with tokens to store). First
/// at `at(1)` with `minted`, which cannot be stored: checks that the call fails with
/// `expected`, stores no token and leaves `untouched` as they were. Then at `at(2)` with
/// `fresh`: checks that `fresh` is stored, and gives back that outcome.
pub fn failed_storage_then_retry<O: Debug>(
    db: &TestDb,
    minted: &[Token],
    expected: fn(&StoreError) -> bool,
    untouched: &[&Token],
    fresh: &Token,
    present: impl Fn(DateTime<Utc>, &[Token]) -> Result<O, StoreError>,
) -> O {
    let stored_before = count_tokens(db);
    let error = present(at(1), minted).unwrap_err();
    assert!(expected(&error), "{error:?}");
    assert_eq!(count_tokens(db), stored_before);
    for token in untouched {
        assert_stored(db.database(), token);
    }

    let retry = present(at(2), std::slice::from_ref(fresh)).unwrap();
    assert_stored(db.database(), fresh);
    retry
}

/// Runs SQL on the test database behind the stores' back (to corrupt or lock it).
pub fn raw_execute(db: &TestDb, sql: &str) {
    let url = db.url();
    match db.backend() {
        Backend::Postgres => {
            let mut connection = PgConnection::establish(&url).unwrap();
            diesel::sql_query(sql).execute(&mut connection).unwrap();
        }
        Backend::Sqlite => {
            let mut connection = sqlite_connection(db);
            diesel::sql_query(sql).execute(&mut connection).unwrap();
        }
    }
}

/// A plain SQLite connection to the test database's file.
pub fn sqlite_connection(db: &TestDb) -> SqliteConnection {
    let url = db.url();
    let path = url.strip_prefix("sqlite://").unwrap();
    SqliteConnection::establish(path).unwrap()
}

/// How many tokens are stored, counted behind the stores' back.
pub fn count_tokens(db: &TestDb) -> i64 {
    let count = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT COUNT(*) FROM tokens)",
    ));
    match db.backend() {
        Backend::Postgres => {
            let mut connection = PgConnection::establish(&db.url()).unwrap();
            count.get_result(&mut connection).unwrap()
        }
        Backend::Sqlite => count.get_result(&mut sqlite_connection(db)).unwrap(),
    }
}
