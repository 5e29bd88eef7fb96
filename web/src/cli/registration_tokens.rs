//! `tessera registration-token create`: initial access tokens for dynamic registration.

use anyhow::Context as _;
use chrono::Duration;
use tessera_domain::registration::RegistrationMode;

use super::{print_json, rfc3339};
use crate::config::Config;
use crate::startup::{open_database, provider};

/// Makes an initial access token and prints it as JSON; warns on stderr when the server's
/// registration mode does not use it.
pub(super) fn create(
    config: &Config,
    expires_in: Option<u32>,
    uses: Option<u32>,
) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let provider = provider(config, database)?;
    let made = provider
        .create_registration_token(expires_in.map(|s| Duration::seconds(s.into())), uses)
        .context("TESSERA_DATABASE_URL: cannot store the initial access token")?;
    print_json(&serde_json::json!({
        "initial_access_token": made.token.expose(),
        "expires_at": made.expires_at.map(rfc3339),
        "uses": made.uses,
    }))?;
    if config.policy.registration != RegistrationMode::Token {
        eprintln!(
            "tessera: the token works only while TESSERA_REGISTRATION=token (now {})",
            match config.policy.registration {
                RegistrationMode::Open => "open: no token is needed",
                RegistrationMode::Off => "off: registration is closed",
                RegistrationMode::Token => "token",
            }
        );
    }
    Ok(())
}
