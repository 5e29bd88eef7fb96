//! The `tessera` command line: `serve` (the default), `migrate`, `user add`, `client add`,
//! `client list`, `registration-token create`, `keys rotate`, `keys list` and `purge`.
//! Configuration comes from the environment (see [`crate::config`]); a failure is reported by
//! `main` as one line naming the setting, with exit code 1.

use std::io::Read as _;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use tessera_domain::accounts::SignUpError;
use tessera_domain::registration::RegistrationMode;
use tessera_domain::signing::SigningAlg;
use tessera_domain::store::SigningKeyStore as _;
use tessera_domain::user::MAX_PASSWORD_BYTES;
use tessera_domain::{ClientOrigin, ClientRegistration, Clock as _, SystemClock};

use crate::config::Config;
use crate::keys::key_statuses;
use crate::routes::clients::client_metadata;
use crate::routes::register::client_information;
use crate::startup::{keyring, open_database, provider, Application};

/// Tessera, an OAuth 2.0 authorization server.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
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
    /// Manage users.
    User {
        /// The user command.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage clients.
    Client {
        /// The client command.
        #[command(subcommand)]
        command: ClientCommand,
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
    /// entries and pushed authorization requests past their use now (the server also does every ten minutes) and print how
    /// many went.
    Purge {
        /// Print one JSON object with a count per table instead of a sentence.
        #[arg(long)]
        json: bool,
    },
}

/// `tessera client add ...`.
#[derive(Debug, clap::Args)]
pub struct ClientAddArgs {
    /// `client_name`.
    #[arg(long)]
    name: String,
    /// `client_uri`.
    #[arg(long, default_value = "")]
    uri: String,
    /// A redirect URI (repeatable).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A grant type (repeatable; `urn:ietf:params:oauth:grant-type:device_code` for the
    /// device flow); `authorization_code` when none.
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// A response type (repeatable).
    #[arg(long = "response-type")]
    response_types: Vec<String>,
    /// The most the client may ask for, space separated.
    #[arg(long, default_value = "")]
    scope: String,
    /// `client_secret_basic` (default), `client_secret_post` or `none`.
    #[arg(long = "auth-method", default_value = "")]
    auth_method: String,
    /// Where RP-initiated logout may return (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// How its ID tokens are signed: `RS256` (default), `ES256` or `EdDSA`.
    #[arg(long = "id-token-alg", default_value = "")]
    id_token_alg: String,
    /// How its access tokens look: `opaque` or `jwt`; the server's
    /// `TESSERA_ACCESS_TOKEN_FORMAT` when not given.
    #[arg(long = "access-token-format", default_value = "")]
    access_token_format: String,
    /// Only pushed authorization requests (RFC 9126, `/oauth/par`) are accepted for it
    /// (`require_pushed_authorization_requests`).
    #[arg(long = "require-par")]
    require_par: bool,
    /// `logo_uri`, shown on the consent page.
    #[arg(long = "logo-uri", default_value = "")]
    logo_uri: String,
    /// `tos_uri`: its terms of service.
    #[arg(long = "tos-uri", default_value = "")]
    tos_uri: String,
    /// `policy_uri`: its privacy policy.
    #[arg(long = "policy-uri", default_value = "")]
    policy_uri: String,
    /// Whom to reach about it (repeatable).
    #[arg(long = "contact")]
    contacts: Vec<String>,
}

impl From<ClientAddArgs> for ClientRegistration {
    fn from(args: ClientAddArgs) -> Self {
        Self {
            name: args.name,
            uri: args.uri,
            redirect_uris: args.redirect_uris,
            grant_types: args.grant_types,
            response_types: args.response_types,
            scope: args.scope,
            auth_method: args.auth_method,
            id_token_signed_response_alg: args.id_token_alg,
            post_logout_redirect_uris: args.post_logout_redirect_uris,
            access_token_format: args.access_token_format,
            require_pushed_requests: args.require_par,
            logo_uri: args.logo_uri,
            tos_uri: args.tos_uri,
            policy_uri: args.policy_uri,
            contacts: args.contacts,
        }
    }
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
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    crate::logging::init(&config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            open_database(&config)?;
            eprintln!("tessera: the database is migrated");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    password_stdin,
                    email,
                },
        } => add_user(&config, &username, password_stdin, email.as_deref()),
        Command::Client {
            command: ClientCommand::Add(args),
        } => add_client(&config, (*args).into()),
        Command::Client {
            command: ClientCommand::List { json },
        } => list_clients(&config, json),
        Command::RegistrationToken {
            command: RegistrationTokenCommand::Create { expires_in, uses },
        } => create_registration_token(&config, expires_in, uses),
        Command::Keys {
            command: KeysCommand::Rotate { alg },
        } => rotate_key(&config, alg),
        Command::Keys {
            command: KeysCommand::List,
        } => list_keys(&config),
        Command::Purge { json } => purge(&config, json),
    }
}

fn purge(config: &Config, json: bool) -> anyhow::Result<()> {
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

/// A time as the key commands print it.
fn shown(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "-".to_owned(),
        |time| time.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

fn rotate_key(config: &Config, alg: SigningAlg) -> anyhow::Result<()> {
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

fn list_keys(config: &Config) -> anyhow::Result<()> {
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

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(config).await?;
        application
            .run_until_stopped()
            .await
            .context("the server stopped with an error")
    })
}

/// The password from standard input without one trailing newline.
pub fn password_from(input: &str) -> &str {
    let input = input.strip_suffix('\n').unwrap_or(input);
    input.strip_suffix('\r').unwrap_or(input)
}

fn add_user(
    config: &Config,
    username: &str,
    password_stdin: bool,
    email: Option<&str>,
) -> anyhow::Result<()> {
    if !password_stdin {
        bail!("user add: pass --password-stdin and write the password to standard input");
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("user add: cannot read the password from standard input")?;
    let password = password_from(&input);
    if password.len() > MAX_PASSWORD_BYTES {
        bail!(
            "user add: the password is {} bytes long; bcrypt reads at most {MAX_PASSWORD_BYTES} bytes, so choose a shorter one",
            password.len()
        );
    }
    let database = open_database(config)?;
    let provider = provider(config, database)?;
    match provider.sign_up(username, password, email) {
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

fn add_client(config: &Config, registration: ClientRegistration) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let provider = provider(config, database)?;
    let registered = match provider.register_client(ClientOrigin::CommandLine, registration) {
        Ok(registered) => registered,
        Err(tessera_domain::Error::OAuth(error)) => {
            bail!("client add: {}", error.description)
        }
        Err(tessera_domain::Error::Store(error)) => {
            return Err(error).context("TESSERA_DATABASE_URL: cannot store the client")
        }
    };
    let json = client_information(
        &config.issuer,
        &registered.client,
        registered.secret.as_ref(),
        Some(&registered.registration_token),
    );
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

fn list_clients(config: &Config, json: bool) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let provider = provider(config, database)?;
    let cannot_read = "TESSERA_DATABASE_URL: cannot read the clients";
    let clients = provider.all_clients().context(cannot_read)?;
    let mut listed = Vec::with_capacity(clients.len());
    for client in clients {
        let owner = match client.owner_id {
            Some(id) => provider
                .user(id)
                .context(cannot_read)?
                .map(|user| user.username),
            None => None,
        };
        listed.push((client, owner));
    }
    if json {
        let array: Vec<_> = listed
            .iter()
            .map(|(client, owner)| {
                let mut metadata = client_metadata(client);
                metadata.insert("owner".to_owned(), owner.clone().into());
                metadata.insert(
                    "registered_dynamically".to_owned(),
                    client.registered_dynamically.into(),
                );
                metadata
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&array)?);
        return Ok(());
    }
    for (client, owner) in &listed {
        let owner = match owner {
            Some(username) => username.as_str(),
            None if client.registered_dynamically => "registered-dynamically",
            None => "-",
        };
        println!(
            "{} {:?} owner={owner} created={}",
            client.id,
            client.name,
            shown(Some(client.created_at)),
        );
    }
    Ok(())
}

fn create_registration_token(
    config: &Config,
    expires_in: Option<u32>,
    uses: Option<u32>,
) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let provider = provider(config, database)?;
    let made = provider
        .create_registration_token(expires_in.map(|s| Duration::seconds(s.into())), uses)
        .context("TESSERA_DATABASE_URL: cannot store the initial access token")?;
    let json = serde_json::json!({
        "initial_access_token": made.token.expose(),
        "expires_at": made.expires_at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        "uses": made.uses,
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
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
}
