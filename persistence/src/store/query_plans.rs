//! The plans the engine chooses for the statements that must never scan a whole table as the
//! tables grow (feature `testing`): every purge batch, the claim and retry of a refresh
//! token rotation, and the check of a JWT access token. The very statements the stores run are explained, so a check of their
//! plans cannot drift from the code.

use diesel::connection::SimpleConnection as _;
use diesel::deserialize::{self, QueryableByName};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::row::NamedRow;
use diesel::sql_types::{Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};
use tessera_domain::authorization::AuthorizationId;
use tessera_domain::jwt_access_token::JwtAccessToken;
use tessera_domain::scope::Scope;
use tessera_domain::user::UserId;
use tessera_domain::StoreError;

use super::{in_transaction, purge, revoked_jwts, tokens};
use crate::connection::MultiBackend;
use crate::error::from_diesel;
use crate::{Backend, Database};

/// What the engine plans for one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPlan {
    /// What the statement does.
    pub statement: &'static str,
    /// The plan, one line per step: SQLite's `EXPLAIN QUERY PLAN` details, or Postgres's
    /// `EXPLAIN` text.
    pub plan: String,
}

/// `EXPLAIN` in front of a statement.
struct Explain<'a> {
    prefix: &'static str,
    statement: &'a dyn QueryFragment<MultiBackend>,
}

impl QueryFragment<MultiBackend> for Explain<'_> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        pass.push_sql(self.prefix);
        self.statement.walk_ast(pass.reborrow())
    }
}

impl QueryId for Explain<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Explain<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Explain<'_> {}

/// One line of a plan: SQLite names it `detail`, Postgres `QUERY PLAN`.
struct PlanLine(String);

impl QueryableByName<MultiBackend> for PlanLine {
    fn build<'a>(row: &impl NamedRow<'a, MultiBackend>) -> deserialize::Result<Self> {
        NamedRow::get::<Text, String>(row, "detail")
            .or_else(|_| NamedRow::get::<Text, String>(row, "QUERY PLAN"))
            .map(Self)
    }
}

/// On Postgres, for the transaction that explains: no sequential scans, and no hash or merge
/// joins (which read a whole index). On small test tables those are cheaper, so without this
/// the plan would not show whether indexes can serve every step as a lookup.
const POSTGRES_LOOKUPS_ONLY: &str = "SET LOCAL enable_seqscan = off; \
     SET LOCAL enable_hashjoin = off; \
     SET LOCAL enable_mergejoin = off;";

/// The plan of every statement that must be served by index lookups.
pub fn query_plans(database: &Database) -> Result<Vec<QueryPlan>, StoreError> {
    const SOME_TIME: i64 = 1_900_000_000;
    let digest = "0".repeat(64);
    let jwt = JwtAccessToken {
        jti: "jti".to_owned(),
        client_id: "client".to_owned(),
        user_id: Some(UserId::generate()),
        family: Some(AuthorizationId::generate()),
        scope: Scope::default(),
        issued_at: chrono::DateTime::UNIX_EPOCH,
        expires_at: chrono::DateTime::UNIX_EPOCH,
    };
    let statements: [(&'static str, Box<dyn QueryFragment<MultiBackend>>); 15] = [
        (
            "purge unused codes",
            Box::new(purge::unused_codes(SOME_TIME)),
        ),
        ("purge used codes", Box::new(purge::used_codes(SOME_TIME))),
        (
            "purge unrotated tokens",
            Box::new(purge::unrotated_tokens(SOME_TIME)),
        ),
        (
            "purge rotated tokens",
            Box::new(purge::rotated_tokens(SOME_TIME, SOME_TIME)),
        ),
        (
            "purge authorizations",
            Box::new(purge::unreferenced_authorizations(SOME_TIME)),
        ),
        (
            "purge throttle counters",
            Box::new(purge::spent_throttles(SOME_TIME, SOME_TIME)),
        ),
        (
            "purge ended sessions",
            Box::new(purge::ended_sessions(SOME_TIME)),
        ),
        (
            "purge expired sessions",
            Box::new(purge::expired_sessions(SOME_TIME)),
        ),
        (
            "purge revoked JWTs",
            Box::new(purge::expired_revoked_jwts(SOME_TIME)),
        ),
        (
            "purge pushed requests",
            Box::new(purge::expired_pushed_requests(SOME_TIME)),
        ),
        (
            "purge device codes",
            Box::new(purge::expired_device_codes(SOME_TIME)),
        ),
        (
            "purge initial access tokens",
            Box::new(purge::spent_registration_tokens(SOME_TIME)),
        ),
        (
            "check a JWT access token",
            Box::new(revoked_jwts::standing(&jwt)),
        ),
        (
            "claim a refresh token",
            Box::new(tokens::rotation(digest.clone(), SOME_TIME)),
        ),
        (
            "retry a rotation",
            Box::new(tokens::revoke_minted_from(digest, SOME_TIME)),
        ),
    ];
    let backend = database.backend();
    let prefix = match backend {
        Backend::Sqlite => "EXPLAIN QUERY PLAN ",
        Backend::Postgres => "EXPLAIN ",
    };
    let mut connection = database.connection()?;
    in_transaction(&mut connection, |connection| {
        if backend == Backend::Postgres {
            connection
                .batch_execute(POSTGRES_LOOKUPS_ONLY)
                .map_err(from_diesel)?;
        }
        statements
            .iter()
            .map(|(statement, query)| {
                let explain = Explain {
                    prefix,
                    statement: query.as_ref(),
                };
                let lines = explain.load::<PlanLine>(connection).map_err(from_diesel)?;
                Ok(QueryPlan {
                    statement,
                    plan: lines
                        .into_iter()
                        .map(|PlanLine(line)| line)
                        .collect::<Vec<_>>()
                        .join("\n"),
                })
            })
            .collect()
    })
}
