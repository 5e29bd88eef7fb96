//! `tessera keys rotate|list`: the signing keys.

use std::sync::Arc;

use anyhow::Context as _;
use tessera_domain::signing::SigningAlg;
use tessera_domain::store::SigningKeyStore as _;
use tessera_domain::{Clock as _, SystemClock};

use super::shown;
use crate::config::Config;
use crate::keys::key_statuses;
use crate::startup::{keyring, open_database};

/// `tessera keys rotate`: adds a key of `alg`.
pub(super) fn rotate(config: &Config, alg: SigningAlg) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let keyring = keyring(config, database, Arc::new(SystemClock))?;
    let key = keyring
        .rotate(alg)
        .context("TESSERA_DATABASE_URL: cannot store the new signing key")?;
    println!(
        "added {} key {}: published now, signing from {}",
        alg.as_str(),
        key.kid,
        shown(Some(key.signs_from))
    );
    Ok(())
}

/// `tessera keys list`: one line per key.
pub(super) fn list(config: &Config) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let keys = database
        .signing_keys()
        .context("TESSERA_DATABASE_URL: cannot read the signing keys")?;
    let now = SystemClock.now();
    for status in key_statuses(&keys, now, config.policy.signed_token_ttl()) {
        println!(
            "{} {} {} created={} signs_from={} superseded={} leaves_jwks={}",
            status.key.kid,
            status.key.alg.as_str(),
            status.state.as_str(),
            shown(Some(status.key.created_at)),
            shown(Some(status.key.signs_from)),
            shown(status.superseded_at),
            shown(status.leaves_jwks_at),
        );
    }
    Ok(())
}
