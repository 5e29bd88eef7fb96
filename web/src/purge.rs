//! The background purge: every [`PURGE_INTERVAL`], each server process deletes the rows past
//! their use ([`tessera_domain::purge`]) off the async executor, and logs what went at `info`.
//! A failing purge is logged at `warn` and tried again at the next interval; it never stops
//! the server. The first purge runs one interval after start, so a test that moves a fixed
//! clock is never overtaken by one. `tessera purge` runs the same purge once, now.

use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::time::sleep;
use tessera_domain::purge::Purged;
use tessera_domain::Provider;
use tessera_persistence::Database;

use crate::error::ServerFault;
use crate::off_executor::off_executor;

/// How often a server process purges.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// The running background purge; it stops when this is dropped.
#[derive(Debug)]
pub struct PurgeTask(tokio::task::JoinHandle<()>);

impl PurgeTask {
    /// Purges through `provider` [`PURGE_INTERVAL`] from now, and again that long after each
    /// purge ends. Call it inside a Tokio runtime (the server's).
    pub fn start(provider: Arc<Provider<Database>>) -> Self {
        Self(tokio::spawn(async move {
            loop {
                sleep(PURGE_INTERVAL).await;
                // Logged there; the next purge is the retry.
                let _ = purge_once(Arc::clone(&provider)).await;
            }
        }))
    }
}

impl Drop for PurgeTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One purge through `provider` off the executor, logged: the counts at `info`, a failure at
/// `warn`.
pub async fn purge_once(provider: Arc<Provider<Database>>) -> Result<Purged, ServerFault> {
    let purged = off_executor(move || provider.purge().map_err(ServerFault::from)).await;
    match &purged {
        Ok(purged) => tracing::info!("purged {purged}"),
        Err(fault) => tracing::warn!(error = %fault, "purge failed; trying again later"),
    }
    purged
}
