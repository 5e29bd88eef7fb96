//! Contract tests of the stores, on SQLite and (with `--features postgres-tests`) on Postgres.
//! One test binary; every test gets its own database from `TestDb`.

mod authorizations;
mod clients;
mod codes;
mod consents;
mod contract;
mod database;
mod fixtures;
mod query_plans;
mod settings;
mod signing_keys;
mod sqlite_files;
mod tokens;
mod urls;
mod users;
