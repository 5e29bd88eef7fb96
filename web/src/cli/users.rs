//! `tessera user add|list|show|disable|enable|set-password|delete`.

use std::io::Read as _;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use tessera_domain::accounts::SignUpError;
use tessera_domain::user::MAX_PASSWORD_BYTES;
use tessera_domain::user_admin::ResetError;
use tessera_domain::{Provider, User};
use tessera_persistence::Database;

use super::{print_json, rfc3339, shown, UserCommand};
use crate::config::Config;
use crate::startup::{open_database, provider};

const CANNOT_READ: &str = "TESSERA_DATABASE_URL: cannot read the users";
const CANNOT_WRITE: &str = "TESSERA_DATABASE_URL: cannot change the user";

/// Runs one `tessera user` command.
pub(super) fn run(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            username,
            password_stdin,
            email,
        } => add(config, &username, password_stdin, email.as_deref()),
        UserCommand::List { json } => list(config, json),
        UserCommand::Show { username, json } => show(config, &username, json),
        UserCommand::Disable { username } => disable(config, &username),
        UserCommand::Enable { username } => enable(config, &username),
        UserCommand::SetPassword {
            username,
            password_stdin,
        } => set_password(config, &username, password_stdin),
        UserCommand::Delete { username, yes } => delete(config, &username, yes),
    }
}

/// The password from standard input without one trailing newline.
pub(crate) fn password_from(input: &str) -> &str {
    let input = input.strip_suffix('\n').unwrap_or(input);
    input.strip_suffix('\r').unwrap_or(input)
}

/// Reads a new password from standard input for `command`, refusing one bcrypt would
/// truncate.
fn read_password(command: &str, password_stdin: bool) -> anyhow::Result<String> {
    if !password_stdin {
        bail!("{command}: pass --password-stdin and write the password to standard input");
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .with_context(|| format!("{command}: cannot read the password from standard input"))?;
    let password = password_from(&input);
    if password.len() > MAX_PASSWORD_BYTES {
        bail!(
            "{command}: the password is {} bytes long; bcrypt reads at most {MAX_PASSWORD_BYTES} bytes, so choose a shorter one",
            password.len()
        );
    }
    Ok(password.to_owned())
}

/// The provider and the user named `username`, or a one-line refusal naming `command`.
fn provider_and_user(
    config: &Config,
    command: &str,
    username: &str,
) -> anyhow::Result<(Provider<Database>, User)> {
    let provider = provider(config, open_database(config)?)?;
    let user = provider
        .user_by_name(username)
        .context(CANNOT_READ)?
        .with_context(|| format!("{command}: there is no user named {username:?}"))?;
    Ok((provider, user))
}

fn add(
    config: &Config,
    username: &str,
    password_stdin: bool,
    email: Option<&str>,
) -> anyhow::Result<()> {
    let password = read_password("user add", password_stdin)?;
    let provider = provider(config, open_database(config)?)?;
    match provider.sign_up(username, &password, email) {
        Ok(user) => {
            println!("created user {} ({})", user.username, user.id);
            Ok(())
        }
        Err(SignUpError::Invalid(message)) => bail!("user add: {message}"),
        Err(SignUpError::UsernameTaken) => bail!("user add: the username {username:?} is taken"),
        Err(SignUpError::Store(error)) => {
            Err(error).context("TESSERA_DATABASE_URL: cannot store the user")
        }
    }
}

/// A user as `user list --json` prints it.
fn user_json(user: &User) -> serde_json::Map<String, Value> {
    let mut object = serde_json::Map::new();
    object.insert("username".to_owned(), user.username.clone().into());
    object.insert("id".to_owned(), user.id.to_string().into());
    object.insert("created_at".to_owned(), rfc3339(user.created_at).into());
    object.insert("email".to_owned(), user.email.clone().into());
    object.insert("disabled".to_owned(), user.is_disabled().into());
    object.insert(
        "disabled_at".to_owned(),
        user.disabled_at.map(rfc3339).into(),
    );
    object.insert(
        "tokens_valid_after".to_owned(),
        user.tokens_valid_after.map(rfc3339).into(),
    );
    object
}

fn list(config: &Config, json: bool) -> anyhow::Result<()> {
    let provider = provider(config, open_database(config)?)?;
    let users = provider.all_users().context(CANNOT_READ)?;
    if json {
        let array: Vec<_> = users.iter().map(user_json).collect();
        return print_json(&array);
    }
    for user in &users {
        println!(
            "{} {} created={} email={} disabled={}",
            user.username,
            user.id,
            shown(Some(user.created_at)),
            user.email.as_deref().unwrap_or("-"),
            if user.is_disabled() { "yes" } else { "no" },
        );
    }
    Ok(())
}

fn show(config: &Config, username: &str, json: bool) -> anyhow::Result<()> {
    let (provider, user) = provider_and_user(config, "user show", username)?;
    let clients = provider.clients_of(user.id).context(CANNOT_READ)?;
    let sessions = provider.sessions_of(user.id).context(CANNOT_READ)?;
    let approved = provider.approved_clients(user.id).context(CANNOT_READ)?;
    if json {
        let mut object = user_json(&user);
        let clients: Vec<_> = clients
            .iter()
            .map(|client| json!({"client_id": client.id, "client_name": client.name}))
            .collect();
        let approved: Vec<_> = approved
            .iter()
            .map(|app| {
                json!({
                    "client_id": app.client.id,
                    "client_name": app.client.name,
                    "scope": app.consent.scope.to_string(),
                    "granted_at": rfc3339(app.consent.granted_at),
                })
            })
            .collect();
        object.insert("clients".to_owned(), clients.into());
        object.insert("live_sessions".to_owned(), sessions.len().into());
        object.insert("approved_clients".to_owned(), approved.into());
        return print_json(&object);
    }
    println!("username: {}", user.username);
    println!("id: {}", user.id);
    println!("created: {}", shown(Some(user.created_at)));
    println!("email: {}", user.email.as_deref().unwrap_or("-"));
    println!("disabled: {}", shown(user.disabled_at));
    // Tokens issued at or before this (the last disable) are refused.
    println!("tokens valid after: {}", shown(user.tokens_valid_after));
    let ids: Vec<&str> = clients.iter().map(|client| client.id.as_str()).collect();
    println!("clients: {}", list_or_dash(&ids));
    println!("live sessions: {}", sessions.len());
    let apps: Vec<&str> = approved.iter().map(|app| app.client.id.as_str()).collect();
    println!("approved clients: {}", list_or_dash(&apps));
    Ok(())
}

/// Space-separated items, `-` for none.
fn list_or_dash(items: &[&str]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(" ")
    }
}

fn disable(config: &Config, username: &str) -> anyhow::Result<()> {
    let (provider, user) = provider_and_user(config, "user disable", username)?;
    if !provider.disable_user(user.id).context(CANNOT_WRITE)? {
        bail!("user disable: there is no user named {username:?}");
    }
    println!("disabled user {username}: signed out everywhere, every token revoked");
    Ok(())
}

fn enable(config: &Config, username: &str) -> anyhow::Result<()> {
    let (provider, user) = provider_and_user(config, "user enable", username)?;
    if !provider.enable_user(user.id).context(CANNOT_WRITE)? {
        bail!("user enable: there is no user named {username:?}");
    }
    println!("enabled user {username}");
    Ok(())
}

fn set_password(config: &Config, username: &str, password_stdin: bool) -> anyhow::Result<()> {
    let password = read_password("user set-password", password_stdin)?;
    let (provider, user) = provider_and_user(config, "user set-password", username)?;
    match provider.reset_password(user.id, &password) {
        Ok(ended) => {
            println!("changed the password of {username}; {ended} session(s) ended");
            Ok(())
        }
        Err(ResetError::Invalid(message)) => bail!("user set-password: {message}"),
        Err(ResetError::Store(error)) => Err(error).context(CANNOT_WRITE),
    }
}

fn delete(config: &Config, username: &str, yes: bool) -> anyhow::Result<()> {
    let (provider, user) = provider_and_user(config, "user delete", username)?;
    if !yes {
        let owned = provider.clients_of(user.id).context(CANNOT_READ)?.len();
        bail!(
            "user delete: this deletes {username} with their sessions, consents and tokens and the {owned} client(s) they own; pass --yes to do it"
        );
    }
    if !provider.delete_user(user.id).context(CANNOT_WRITE)? {
        bail!("user delete: there is no user named {username:?}");
    }
    println!("deleted user {username}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_trailing_newline_is_dropped() {
        assert_eq!(password_from("secret\n"), "secret");
        assert_eq!(password_from("secret\r\n"), "secret");
        assert_eq!(password_from("secret\n\n"), "secret\n");
        assert_eq!(password_from("secret"), "secret");
    }
}
