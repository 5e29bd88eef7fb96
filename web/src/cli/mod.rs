//! The `tessera` command line: the clap types and the dispatch; each command group lives in
//! a module of its own. `serve` is the default; `migrate` and `check` look after the
//! database; `user`, `client`, `sessions`, `keys`, `registration-token` and `purge` are the
//! operator's daily work. Configuration comes from the environment (see [`crate::config`]).
//! A failure is reported by `main` as one line on stderr, with exit code 1; commands whose
//! output a script reads take `--json`.

mod check;
mod clients;
mod keys;
mod purge;
mod registration_tokens;
mod sessions;
mod settings;
mod users;

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use serde::Serialize;
use tessera_domain::signing::SigningAlg;

pub use self::clients::{ClientAddArgs, ClientUpdateArgs};
use crate::config::Config;
use crate::startup::{open_database, Application};

/// Tessera, an OAuth 2.0 authorization server.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    /// A TOML configuration file (instead of TESSERA_CONFIG); the environment wins over it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve HTTP on TESSERA_BIND.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the deployment without changing it: the configuration parses, the database
    /// answers and has no pending migrations. Prints `ok` (exit 0) or what failed (one line
    /// on stderr, exit 1).
    Check {
        /// Print `{"ok": true}` or `{"ok": false, "error": "..."}` on stdout as well.
        #[arg(long)]
        json: bool,
    },
    /// Print every setting's effective value and where it came from (environment, file or
    /// default); secrets show as `(set)`, a database password as `***`.
    Config {
        /// Print one JSON object: each setting's `value` and `source`.
        #[arg(long)]
        json: bool,
    },
    /// Manage users: add, list, show, disable, enable, set-password, delete.
    User {
        /// The user command.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage clients: add, list, show, update, delete, rotate-secret.
    Client {
        /// The client command.
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// List and end users' browser sessions.
    Sessions {
        /// The sessions command.
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Make initial access tokens for dynamic registration (TESSERA_REGISTRATION=token).
    RegistrationToken {
        /// The registration-token command.
        #[command(subcommand)]
        command: RegistrationTokenCommand,
    },
    /// Manage the signing keys.
    Keys {
        /// The keys command.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Delete the codes, tokens, authorizations, throttle counters, sessions, revoked-JWT
    /// entries and pushed authorization requests past their use now (the server also does
    /// every ten minutes) and print how many went.
    Purge {
        /// Print one JSON object with a count per table instead of a sentence.
        #[arg(long)]
        json: bool,
    },
}

/// `tessera user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        /// The new username.
        username: String,
        /// Read the password from standard input (one trailing newline is dropped).
        #[arg(long)]
        password_stdin: bool,
        /// The user's email address (the OpenID `email` claim).
        #[arg(long)]
        email: Option<String>,
    },
    /// List every user, oldest first: username, id, creation time, email and whether the
    /// account is disabled.
    List {
        /// Print a JSON array of users (`username`, `id`, `created_at`, `email`,
        /// `disabled`, `disabled_at`).
        #[arg(long)]
        json: bool,
    },
    /// Show one user, with the clients they own, how many live sessions they have and the
    /// apps they approved.
    Show {
        /// The username.
        username: String,
        /// Print one JSON object: the fields of `user list --json` with `clients`,
        /// `live_sessions` and `approved_clients`.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: they cannot sign in or use the password grant, their browser
    /// sessions end at once and every authorization and token of theirs is revoked.
    Disable {
        /// The username.
        username: String,
    },
    /// Let a disabled user sign in again (revoked tokens stay revoked).
    Enable {
        /// The username.
        username: String,
    },
    /// Give a user a new password, read from standard input; every session of theirs
    /// ends.
    SetPassword {
        /// The username.
        username: String,
        /// Read the password from standard input (one trailing newline is dropped).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user for good, with their sessions, consents, authorizations and tokens,
    /// and the clients they own (with everything issued to those).
    Delete {
        /// The username.
        username: String,
        /// Really delete (without it the command refuses and says what would go).
        #[arg(long)]
        yes: bool,
    },
}

/// `tessera client ...`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client and print it as JSON (with its secret, shown once).
    Add(Box<ClientAddArgs>),
    /// List every client, oldest first: its id, name, owner (a username, `-` for a client
    /// made here, `registered-dynamically` for one that registered itself) and creation time.
    List {
        /// Print a JSON array of the clients' metadata, each with `owner` and
        /// `registered_dynamically`.
        #[arg(long)]
        json: bool,
    },
    /// Show one client's metadata, owner and origin.
    Show {
        /// The `client_id`.
        client_id: String,
        /// Print one JSON object, as an element of `client list --json`.
        #[arg(long)]
        json: bool,
    },
    /// Change a client's metadata, checked as a registration is, and print it as JSON.
    /// Each flag given replaces that field; fields whose flag is not given keep their
    /// value. An empty value clears a field or returns it to its default (`--uri ''`,
    /// `--auth-method ''`); a list flag replaces the whole list, and one empty value
    /// (`--redirect-uri ''`) empties it. A client made confidential gets a secret, printed
    /// this once as `client_secret`.
    Update(Box<ClientUpdateArgs>),
    /// Delete a client, whoever owns it, with everything issued to it (codes, tokens,
    /// consents, pending requests).
    Delete {
        /// The `client_id`.
        client_id: String,
        /// Really delete (without it the command refuses).
        #[arg(long)]
        yes: bool,
    },
    /// Give a confidential client a new secret, printed as JSON (`client_id`,
    /// `client_secret`); the old one stops working. Public clients have none.
    RotateSecret {
        /// The `client_id`.
        client_id: String,
    },
}

/// `tessera sessions ...`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List live browser sessions, the most recently started first: id, user, start,
    /// last visit and user agent.
    List {
        /// Only this user's sessions.
        #[arg(long)]
        user: Option<String>,
        /// Print a JSON array (`id`, `user`, `user_id`, `started_at`, `last_seen_at`,
        /// `user_agent`).
        #[arg(long)]
        json: bool,
    },
    /// End one session (`sessions end ID`) or every session of a user (`sessions end
    /// --user NAME`): that browser is signed out at its next request.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "user"])))]
    End {
        /// The session's id, as `sessions list` shows it.
        id: Option<String>,
        /// End every session of this user instead.
        #[arg(long)]
        user: Option<String>,
    },
}

/// `tessera registration-token ...`.
#[derive(Debug, Subcommand)]
pub enum RegistrationTokenCommand {
    /// Make an initial access token, printed (this once) as JSON: `initial_access_token`,
    /// `expires_at` and `uses`. Apps send it as a bearer token to /oauth/register.
    Create {
        /// Seconds until it stops working; never when not given.
        #[arg(long = "expires-in", value_parser = clap::value_parser!(u32).range(1..))]
        expires_in: Option<u32>,
        /// How many registrations it allows; any number when not given.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        uses: Option<u32>,
    },
}

/// `tessera keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a signing key: published at once, signing after TESSERA_KEY_ACTIVATION_DELAY.
    Rotate {
        /// The algorithm: RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256", value_parser = parse_alg)]
        alg: SigningAlg,
    },
    /// Print one line per key: kid, alg, state and times.
    List,
}

/// A `--alg` value, spelled as the JWS algorithm names are.
fn parse_alg(text: &str) -> Result<SigningAlg, String> {
    SigningAlg::parse(text).ok_or_else(|| {
        let names: Vec<&str> = SigningAlg::ALL.iter().map(|alg| alg.as_str()).collect();
        format!("{text:?} is not one of {}", names.join(", "))
    })
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    let config_file = cli.config.as_deref();
    match command {
        // Reports a configuration error itself, as its answer.
        Command::Check { json } => return check::run(json, config_file),
        Command::Config { json } => return settings::show(config_file, json),
        _ => {}
    }
    let config = Config::load(config_file)?;
    crate::logging::init(&config)?;
    match command {
        Command::Serve => serve(config),
        Command::Migrate => {
            open_database(&config)?;
            eprintln!("tessera: the database is migrated");
            Ok(())
        }
        // Answered above, before the configuration was read.
        Command::Check { .. } | Command::Config { .. } => Ok(()),
        Command::User { command } => users::run(&config, command),
        Command::Client { command } => clients::run(&config, command),
        Command::Sessions { command } => sessions::run(&config, command),
        Command::RegistrationToken {
            command: RegistrationTokenCommand::Create { expires_in, uses },
        } => registration_tokens::create(&config, expires_in, uses),
        Command::Keys {
            command: KeysCommand::Rotate { alg },
        } => keys::rotate(&config, alg),
        Command::Keys {
            command: KeysCommand::List,
        } => keys::list(&config),
        Command::Purge { json } => purge::run(&config, json),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(config).await?;
        application
            .run_until_stopped()
            .await
            .context("the server stopped with an error")
    })
}

/// A time as the commands print it: RFC 3339 in whole seconds, `-` for none.
fn shown(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(|| "-".to_owned(), rfc3339)
}

/// A time as JSON output carries it.
fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["tessera"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from([
            "tessera",
            "client",
            "add",
            "--name",
            "x",
            "--redirect-uri",
            "a",
            "--redirect-uri",
            "b",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::Client { .. })));
    }

    #[test]
    fn keys_rotate_defaults_to_rs256_and_refuses_unknown_algorithms() {
        let cli = Cli::try_parse_from(["tessera", "keys", "rotate"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Keys {
                command: KeysCommand::Rotate {
                    alg: SigningAlg::Rs256
                }
            })
        ));
        let cli = Cli::try_parse_from(["tessera", "keys", "rotate", "--alg", "EdDSA"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Keys {
                command: KeysCommand::Rotate {
                    alg: SigningAlg::EdDsa
                }
            })
        ));
        assert!(Cli::try_parse_from(["tessera", "keys", "rotate", "--alg", "HS256"]).is_err());
    }

    #[test]
    fn sessions_end_takes_an_id_or_a_user_but_not_neither_or_both() {
        assert!(Cli::try_parse_from(["tessera", "sessions", "end", "some-id"]).is_ok());
        assert!(Cli::try_parse_from(["tessera", "sessions", "end", "--user", "alice"]).is_ok());
        assert!(Cli::try_parse_from(["tessera", "sessions", "end"]).is_err());
        assert!(
            Cli::try_parse_from(["tessera", "sessions", "end", "x", "--user", "alice"]).is_err()
        );
    }

    #[test]
    fn every_command_has_help() {
        use clap::CommandFactory as _;
        fn check(command: &clap::Command, path: &str) {
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                assert!(sub.get_about().is_some(), "{path} has no help");
                check(sub, &path);
            }
        }
        Cli::command().debug_assert();
        check(&Cli::command(), "tessera");
    }
}
