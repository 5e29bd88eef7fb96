//! The purge's deletes, the refresh token's rotation and the check of a JWT access token are
//! served by index lookups on both engines, never by reading a whole table or index:
//! `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on Postgres (with sequential scans and hash and
//! merge joins switched off, so that on these small tables the plan shows whether indexes can
//! serve every step at all).

use tessera_persistence::test_db::TestDb;
use tessera_persistence::{both_backends, query_plans, Backend, QueryPlan};

/// The indexes each statement's plan must name, on either engine.
fn expected_indexes(statement: &str, backend: Backend) -> Option<Vec<&'static str>> {
    Some(match (statement, backend) {
        ("purge unused codes" | "purge used codes", _) => {
            vec!["authorization_codes_used_at_expires_at"]
        }
        ("purge unrotated tokens" | "purge rotated tokens", _) => {
            vec!["tokens_rotated_at_expires_at"]
        }
        ("purge authorizations", _) => vec![
            "authorizations_created_at",
            "tokens_authorization_id",
            "authorization_codes_authorization_id",
        ],
        ("purge throttle counters", _) => vec!["throttles_window_started_at"],
        ("purge ended sessions", _) => vec!["sessions_ended_at"],
        ("purge expired sessions", _) => vec!["sessions_started_at"],
        ("purge revoked JWTs", _) => vec!["revoked_jwts_expires_at"],
        ("purge pushed requests", _) => vec!["pushed_requests_expires_at"],
        ("purge device codes", _) => vec!["device_codes_expires_at"],
        ("purge initial access tokens", _) => vec![
            "registration_tokens_expires_at",
            "registration_tokens_uses_left",
        ],
        // The primary keys of the client, the deny-list, the family and the user.
        ("check a JWT access token", Backend::Sqlite) => vec![
            "sqlite_autoindex_clients_1",
            "sqlite_autoindex_revoked_jwts_1",
            "sqlite_autoindex_authorizations_1",
            "sqlite_autoindex_users_1",
        ],
        ("check a JWT access token", Backend::Postgres) => vec![
            "clients_pkey",
            "revoked_jwts_pkey",
            "grants_pkey",
            "users_pkey",
        ],
        // The primary keys: the token by digest, its authorization (first named grants) by id.
        ("claim a refresh token", Backend::Sqlite) => {
            vec![
                "sqlite_autoindex_tokens_1",
                "sqlite_autoindex_authorizations_1",
            ]
        }
        ("claim a refresh token", Backend::Postgres) => vec!["tokens_pkey", "grants_pkey"],
        ("retry a rotation", _) => vec!["tokens_parent_digest"],
        _ => return None,
    })
}

/// The step of `plan` that reads a whole table or a whole index, if any. SQLite says `SCAN`
/// for that (and `SEARCH` for a lookup); on Postgres it is a `Seq Scan`, or an index scan
/// without an `Index Cond`.
fn full_scan(plan: &str, backend: Backend) -> Option<&str> {
    let lines: Vec<&str> = plan.lines().map(str::trim).collect();
    lines.iter().enumerate().find_map(|(index, line)| {
        let full = match backend {
            Backend::Sqlite => line.starts_with("SCAN "),
            Backend::Postgres => {
                line.contains("Seq Scan")
                    || (line.contains("Index Scan") || line.contains("Index Only Scan"))
                        && !lines
                            .get(index + 1)
                            .is_some_and(|next| next.starts_with("Index Cond:"))
            }
        };
        full.then_some(*line)
    })
}

both_backends!(
    purge_deletes_rotation_and_jwt_checks_are_served_by_indexes,
    |db: TestDb| {
        let backend = db.backend();
        let plans = query_plans(db.database()).unwrap();
        assert_eq!(plans.len(), 15);
        for QueryPlan { statement, plan } in plans {
            let indexes = expected_indexes(statement, backend)
                .unwrap_or_else(|| panic!("no expectation for {statement:?}"));
            for index in indexes {
                assert!(plan.contains(index), "{statement}: no {index} in\n{plan}");
            }
            assert_eq!(
                full_scan(&plan, backend),
                None,
                "{statement} reads a whole table or index:\n{plan}"
            );
        }
    }
);
