//! Black-box tests of Tessera over HTTP: one binary, every test on SQLite and (with the
//! `postgres-tests` feature) on Postgres, each against its own server and database.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on any surprise"
)]

mod helpers;

mod account;
mod api_me;
mod approval_pages;
mod authorize;
mod body_limits;
mod client_auth;
mod client_credentials;
mod clients;
mod concurrency;
mod device;
mod disabled_users;
mod edit_client;
mod end_session;
mod faults;
mod fuzz;
mod headers;
mod health;
mod interop_oauth2;
mod interop_openidconnect;
mod introspect;
mod jwks;
mod jwt_access_tokens;
mod lifetimes;
mod log_secrecy;
mod max_age;
mod negative;
mod observability;
mod openid;
mod outage;
mod pages;
mod par;
mod protect_api;
mod purge;
mod redirect_uri_rules;
mod refresh;
mod registration;
mod revoke;
mod robustness;
mod secret_rotation;
mod sessions;
mod throttle;
mod token_code;
mod token_password;
