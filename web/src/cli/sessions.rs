//! `tessera sessions list|end`: browser sessions across users.

use std::collections::HashMap;

use anyhow::{bail, Context as _};
use serde_json::json;
use tessera_domain::browser_session::{SessionId, SessionSelection};
use tessera_domain::{Provider, User};
use tessera_persistence::Database;

use super::{print_json, rfc3339, shown, SessionsCommand};
use crate::config::Config;
use crate::startup::{open_database, provider};

const CANNOT_READ: &str = "TESSERA_DATABASE_URL: cannot read the sessions";
const CANNOT_WRITE: &str = "TESSERA_DATABASE_URL: cannot end the sessions";

/// Runs one `tessera sessions` command.
pub(super) fn run(config: &Config, command: SessionsCommand) -> anyhow::Result<()> {
    let provider = provider(config, open_database(config)?)?;
    match command {
        SessionsCommand::List { user, json } => list(&provider, user.as_deref(), json),
        SessionsCommand::End { id: Some(id), .. } => end_one(&provider, &id),
        SessionsCommand::End {
            user: Some(user), ..
        } => end_all_of(&provider, &user),
        SessionsCommand::End {
            id: None,
            user: None,
        } => bail!("sessions end: give a session id or --user NAME"),
    }
}

/// The user named `username`, or a one-line refusal naming `command`.
fn named(provider: &Provider<Database>, command: &str, username: &str) -> anyhow::Result<User> {
    provider
        .user_by_name(username)
        .context(CANNOT_READ)?
        .with_context(|| format!("{command}: there is no user named {username:?}"))
}

fn list(provider: &Provider<Database>, username: Option<&str>, json: bool) -> anyhow::Result<()> {
    let sessions = match username {
        Some(username) => {
            let user = named(provider, "sessions list", username)?;
            provider.sessions_of(user.id).context(CANNOT_READ)?
        }
        None => provider.all_sessions().context(CANNOT_READ)?,
    };
    let names: HashMap<_, _> = provider
        .all_users()
        .context(CANNOT_READ)?
        .into_iter()
        .map(|user| (user.id, user.username))
        .collect();
    let name_of = |session: &tessera_domain::browser_session::BrowserSession| {
        names
            .get(&session.user_id)
            .cloned()
            .unwrap_or_else(|| "-".to_owned())
    };
    if json {
        let array: Vec<_> = sessions
            .iter()
            .map(|session| {
                json!({
                    "id": session.id.to_string(),
                    "user": name_of(session),
                    "user_id": session.user_id.to_string(),
                    "started_at": rfc3339(session.started_at),
                    "last_seen_at": rfc3339(session.last_seen_at),
                    "user_agent": session.user_agent,
                })
            })
            .collect();
        return print_json(&array);
    }
    for session in &sessions {
        println!(
            "{} user={} started={} last_seen={} agent={:?}",
            session.id,
            name_of(session),
            shown(Some(session.started_at)),
            shown(Some(session.last_seen_at)),
            session.user_agent.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}

fn end_one(provider: &Provider<Database>, id: &str) -> anyhow::Result<()> {
    let session = SessionId::parse(id)
        .map(|id| provider.session(id))
        .transpose()
        .context(CANNOT_READ)?
        .flatten()
        .with_context(|| format!("sessions end: there is no session {id:?}"))?;
    let ended = provider
        .end_sessions(session.user_id, SessionSelection::One(session.id))
        .context(CANNOT_WRITE)?;
    if ended == 0 {
        println!("session {id} had already ended");
    } else {
        println!("ended session {id}");
    }
    Ok(())
}

fn end_all_of(provider: &Provider<Database>, username: &str) -> anyhow::Result<()> {
    let user = named(provider, "sessions end", username)?;
    let ended = provider
        .end_sessions(user.id, SessionSelection::All)
        .context(CANNOT_WRITE)?;
    println!("ended {ended} session(s) of {username}");
    Ok(())
}
