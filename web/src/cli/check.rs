//! `tessera check`: a deployment health check that changes nothing. The configuration must
//! parse, the database must answer, and it must have no pending migrations (this command
//! never migrates; `tessera migrate` or `tessera serve` does). A missing SQLite file is a
//! failure, not a new empty database.

use std::path::Path;

use anyhow::{bail, Context as _};

use crate::config::Config;
use crate::startup::connect_database;

/// Checks the deployment and prints `ok`, or fails with one line saying what is wrong; with
/// `json` the answer is also printed on stdout as `{"ok": ...}`.
pub(super) fn run(json: bool, config_file: Option<&Path>) -> anyhow::Result<()> {
    match checked(config_file) {
        Ok(()) => {
            if json {
                println!("{}", serde_json::json!({ "ok": true }));
            } else {
                println!("ok");
            }
            Ok(())
        }
        Err(error) => {
            if json {
                let line = format!("{error:#}").replace('\n', " ");
                println!("{}", serde_json::json!({ "ok": false, "error": line }));
            }
            Err(error)
        }
    }
}

fn checked(config_file: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(config_file)?;
    let url = &config.database_url;
    if let Some(path) = url.sqlite_path() {
        if !Path::new(path).exists() {
            bail!(
                "TESSERA_DATABASE_URL: there is no database file at {path} (run `tessera migrate`)"
            );
        }
    }
    let database = connect_database(&config)?;
    database
        .ping()
        .with_context(|| format!("TESSERA_DATABASE_URL: {url} does not answer"))?;
    let pending = database
        .pending_migrations()
        .with_context(|| format!("TESSERA_DATABASE_URL: cannot read the migrations of {url}"))?;
    if !pending.is_empty() {
        bail!(
            "TESSERA_DATABASE_URL: {url} has {} pending migration(s), from {} (run `tessera migrate`)",
            pending.len(),
            pending.first().map_or("", String::as_str)
        );
    }
    Ok(())
}
