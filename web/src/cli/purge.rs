//! `tessera purge`: deletes rows past their use now.

use anyhow::Context as _;
use tessera_domain::{Clock as _, SystemClock};

use crate::config::Config;
use crate::startup::open_database;

/// Purges once and prints how many rows went, as a sentence or (`json`) one JSON object.
pub(super) fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let purged = tessera_domain::purge::purge(&database, &config.policy, SystemClock.now())
        .context("TESSERA_DATABASE_URL: cannot purge")?;
    if json {
        println!("{}", serde_json::to_string(&purged)?);
    } else {
        println!("purged {purged}");
    }
    Ok(())
}
