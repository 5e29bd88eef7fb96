//! [`AppState`]: what every handler shares, registered once as `web::Data<AppState>` by
//! [`crate::startup`].

use std::sync::Arc;

use tessera_domain::Provider;
use tessera_persistence::Database;

use crate::bcrypt_pool::BcryptPool;
use crate::config::Config;
use crate::keys::Keyring;
use crate::templates::Templates;

/// What every handler shares, registered once as `web::Data<AppState>`.
pub struct AppState {
    /// The authorization server over the database.
    pub provider: Arc<Provider<Database>>,
    /// The database itself, for health checks.
    pub database: Database,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// The server's signing keys (the JWK Set, and the [`Signer`](tessera_domain::signing::Signer) of JWTs).
    pub keyring: Arc<Keyring>,
    /// The threads that run every request's work that may bcrypt.
    pub bcrypt: Arc<BcryptPool>,
    /// The page templates.
    pub templates: &'static Templates,
}
