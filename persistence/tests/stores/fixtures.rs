//! Domain values to store, at fixed times (the clock is never read in these tests).

#![expect(
    clippy::unwrap_used,
    reason = "a fixture that cannot be built fails the test"
)]

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection as _, PgConnection, RunQueryDsl as _, SqliteConnection};
use tessera_domain::client::{AuthMethod, Client, GrantType, ResponseType};
use tessera_domain::code::AuthorizationCode;
use tessera_domain::grant::Grant;
use tessera_domain::pkce::{ChallengeMethod, CodeChallenge};
use tessera_domain::redirect_uri::RedirectUri;
use tessera_domain::store::{ClientStore as _, GrantStore as _, UserStore as _};
use tessera_domain::token::{Token, TokenKind};
use tessera_domain::{OAuthError, Scope, Secret, User, UserId};
use tessera_persistence::test_db::TestDb;
use tessera_persistence::{Backend, Database};

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
            RedirectUri::parse("https://app.example/cb").unwrap(),
            RedirectUri::parse("https://app.example/cb?x=1&y=two").unwrap(),
        ],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        response_types: vec![ResponseType::Code],
        scope: scope("profile email openid"),
        auth_method: AuthMethod::ClientSecretBasic,
        created_at: t0(),
    }
}

pub fn grant(client: &Client, user: Option<&User>) -> Grant {
    Grant::new(
        &client.id,
        user.map(|user| user.id),
        scope("profile email"),
        t0(),
    )
}

/// A code with PKCE and a nonce, valid for five minutes from `t0`.
pub fn code(grant: &Grant) -> AuthorizationCode {
    AuthorizationCode {
        digest: Secret::generate().digest(),
        grant_id: grant.id,
        client_id: grant.client_id.clone(),
        user_id: grant.user_id.unwrap(),
        redirect_uri: Some("https://app.example/cb".to_owned()),
        scope: grant.scope.clone(),
        challenge: Some(CodeChallenge {
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
            method: ChallengeMethod::S256,
        }),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        created_at: t0(),
        expires_at: at(300),
    }
}

/// An active token of `kind`, issued at `t0`, expiring an hour later.
pub fn token(kind: TokenKind, grant: &Grant) -> Token {
    Token {
        digest: Secret::generate().digest(),
        kind,
        grant_id: grant.id,
        client_id: grant.client_id.clone(),
        user_id: grant.user_id,
        scope: grant.scope.clone(),
        issued_at: t0(),
        expires_at: at(3600),
        revoked_at: None,
        rotated_at: None,
    }
}

/// A mint that makes no tokens, for tests about the outcome alone.
pub fn no_tokens<T>(_: &T) -> Result<Vec<Token>, OAuthError> {
    Ok(Vec::new())
}

/// A mint for calls that must not win: the test fails if it is called.
#[expect(
    clippy::panic,
    reason = "a mint called for a call that should lose fails the test"
)]
pub fn must_not_mint<T: std::fmt::Debug>(value: &T) -> Result<Vec<Token>, OAuthError> {
    panic!("minted for {value:?}, but this call should not have won")
}

/// A user, their client and a grant, stored.
pub struct Seeded {
    pub user: User,
    pub client: Client,
    pub grant: Grant,
}

pub fn seed(db: &Database) -> Seeded {
    let user = user("alice");
    db.insert_user(&user).unwrap();
    let client = client("client-a", Some(user.id));
    db.insert_client(&client).unwrap();
    let grant = grant(&client, Some(&user));
    db.insert_grant(&grant).unwrap();
    Seeded {
        user,
        client,
        grant,
    }
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
