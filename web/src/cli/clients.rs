//! `tessera client add|list|show|update|delete|rotate-secret`, and the flags that give a
//! client's metadata.

use anyhow::{bail, Context as _};
use serde_json::{Map, Value};
use tessera_domain::{Client, ClientOrigin, ClientRegistration, Provider};
use tessera_persistence::Database;

use super::{print_json, shown, ClientCommand};
use crate::config::Config;
use crate::routes::clients::client_metadata;
use crate::routes::register::client_information;
use crate::startup::{open_database, provider};

const CANNOT_READ: &str = "TESSERA_DATABASE_URL: cannot read the clients";
const CANNOT_WRITE: &str = "TESSERA_DATABASE_URL: cannot change the client";

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

/// `tessera client update CLIENT_ID ...`: the flags of `client add`, each optional. A flag
/// given replaces its field; an empty value clears it or returns it to its default; a list
/// flag replaces the whole list, whose empty values are dropped (so `--contact ''` empties
/// it).
#[derive(Debug, clap::Args)]
pub struct ClientUpdateArgs {
    /// The `client_id` of the client to change.
    client_id: String,
    /// `client_name`.
    #[arg(long)]
    name: Option<String>,
    /// `client_uri`; `''` for none.
    #[arg(long)]
    uri: Option<String>,
    /// A redirect URI (repeatable; replaces them all; `''` alone for none).
    #[arg(long = "redirect-uri")]
    redirect_uris: Option<Vec<String>>,
    /// A grant type (repeatable; replaces them all; `''` alone for the default,
    /// `authorization_code`).
    #[arg(long = "grant-type")]
    grant_types: Option<Vec<String>>,
    /// A response type (repeatable; replaces them all; `''` alone for the default).
    #[arg(long = "response-type")]
    response_types: Option<Vec<String>>,
    /// The most the client may ask for, space separated.
    #[arg(long)]
    scope: Option<String>,
    /// `client_secret_basic`, `client_secret_post` or `none`; `''` for the default
    /// (`client_secret_basic`). A public client made confidential gets a secret.
    #[arg(long = "auth-method")]
    auth_method: Option<String>,
    /// Where RP-initiated logout may return (repeatable; replaces them all; `''` alone for
    /// none).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Option<Vec<String>>,
    /// `RS256`, `ES256` or `EdDSA`; `''` for the default (`RS256`).
    #[arg(long = "id-token-alg")]
    id_token_alg: Option<String>,
    /// `opaque` or `jwt`; `''` to follow the server's `TESSERA_ACCESS_TOKEN_FORMAT`.
    #[arg(long = "access-token-format")]
    access_token_format: Option<String>,
    /// `true` (the same as the bare flag) or `false`: whether only pushed authorization
    /// requests are accepted for it.
    #[arg(
        long = "require-par",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_parser = clap::value_parser!(bool),
    )]
    require_par: Option<bool>,
    /// `logo_uri`; `''` for none.
    #[arg(long = "logo-uri")]
    logo_uri: Option<String>,
    /// `tos_uri`; `''` for none.
    #[arg(long = "tos-uri")]
    tos_uri: Option<String>,
    /// `policy_uri`; `''` for none.
    #[arg(long = "policy-uri")]
    policy_uri: Option<String>,
    /// Whom to reach about it (repeatable; replaces them all; `''` alone for none).
    #[arg(long = "contact")]
    contacts: Option<Vec<String>>,
}

impl ClientUpdateArgs {
    /// `current` with the fields these flags give replaced.
    fn applied_to(self, current: ClientRegistration) -> ClientRegistration {
        /// A list flag's values without the empty ones.
        fn list(values: Vec<String>) -> Vec<String> {
            values
                .into_iter()
                .filter(|value| !value.trim().is_empty())
                .collect()
        }
        ClientRegistration {
            name: self.name.unwrap_or(current.name),
            uri: self.uri.unwrap_or(current.uri),
            redirect_uris: self.redirect_uris.map_or(current.redirect_uris, list),
            grant_types: self.grant_types.map_or(current.grant_types, list),
            response_types: self.response_types.map_or(current.response_types, list),
            scope: self.scope.unwrap_or(current.scope),
            auth_method: self.auth_method.unwrap_or(current.auth_method),
            id_token_signed_response_alg: self
                .id_token_alg
                .unwrap_or(current.id_token_signed_response_alg),
            post_logout_redirect_uris: self
                .post_logout_redirect_uris
                .map_or(current.post_logout_redirect_uris, list),
            access_token_format: self
                .access_token_format
                .unwrap_or(current.access_token_format),
            require_pushed_requests: self.require_par.unwrap_or(current.require_pushed_requests),
            logo_uri: self.logo_uri.unwrap_or(current.logo_uri),
            tos_uri: self.tos_uri.unwrap_or(current.tos_uri),
            policy_uri: self.policy_uri.unwrap_or(current.policy_uri),
            contacts: self.contacts.map_or(current.contacts, list),
        }
    }
}

/// Runs one `tessera client` command.
pub(super) fn run(config: &Config, command: ClientCommand) -> anyhow::Result<()> {
    let provider = provider(config, open_database(config)?)?;
    match command {
        ClientCommand::Add(args) => add(config, &provider, (*args).into()),
        ClientCommand::List { json } => list(&provider, json),
        ClientCommand::Show { client_id, json } => show(&provider, &client_id, json),
        ClientCommand::Update(args) => update(&provider, *args),
        ClientCommand::Delete { client_id, yes } => delete(&provider, &client_id, yes),
        ClientCommand::RotateSecret { client_id } => rotate_secret(&provider, &client_id),
    }
}

fn add(
    config: &Config,
    provider: &Provider<Database>,
    registration: ClientRegistration,
) -> anyhow::Result<()> {
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
    print_json(&json)
}

/// The client's username owner, if a user owns it.
fn owner_of(provider: &Provider<Database>, client: &Client) -> anyhow::Result<Option<String>> {
    Ok(match client.owner_id {
        Some(id) => provider
            .user(id)
            .context(CANNOT_READ)?
            .map(|user| user.username),
        None => None,
    })
}

/// A client as `client show --json` and `client list --json` print it: its metadata with
/// `owner` (a username or null) and `registered_dynamically`.
fn described(client: &Client, owner: Option<String>) -> Map<String, Value> {
    let mut metadata = client_metadata(client);
    metadata.insert("owner".to_owned(), owner.into());
    metadata.insert(
        "registered_dynamically".to_owned(),
        client.registered_dynamically.into(),
    );
    metadata
}

/// The client `client_id`, or a one-line refusal naming `command`.
fn find(provider: &Provider<Database>, command: &str, client_id: &str) -> anyhow::Result<Client> {
    provider
        .client(client_id)
        .context(CANNOT_READ)?
        .with_context(|| format!("{command}: there is no client {client_id:?}"))
}

fn list(provider: &Provider<Database>, json: bool) -> anyhow::Result<()> {
    let clients = provider.all_clients().context(CANNOT_READ)?;
    let mut listed = Vec::with_capacity(clients.len());
    for client in clients {
        let owner = owner_of(provider, &client)?;
        listed.push((client, owner));
    }
    if json {
        let array: Vec<_> = listed
            .into_iter()
            .map(|(client, owner)| described(&client, owner))
            .collect();
        return print_json(&array);
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

fn show(provider: &Provider<Database>, client_id: &str, json: bool) -> anyhow::Result<()> {
    let client = find(provider, "client show", client_id)?;
    let owner = owner_of(provider, &client)?;
    let metadata = described(&client, owner);
    if json {
        return print_json(&metadata);
    }
    for (name, value) in &metadata {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect::<Vec<_>>()
                .join(" "),
            Value::Null => "-".to_owned(),
            other => other.to_string(),
        };
        println!("{name}: {text}");
    }
    Ok(())
}

fn update(provider: &Provider<Database>, args: ClientUpdateArgs) -> anyhow::Result<()> {
    let client_id = args.client_id.clone();
    let current = find(provider, "client update", &client_id)?;
    let registration = args.applied_to(current.registration());
    let edited = match provider.edit_client(None, &client_id, registration) {
        Ok(Some(edited)) => edited,
        Ok(None) => bail!("client update: there is no client {client_id:?}"),
        Err(tessera_domain::Error::OAuth(error)) => {
            bail!("client update: {}", error.description)
        }
        Err(tessera_domain::Error::Store(error)) => return Err(error).context(CANNOT_WRITE),
    };
    let owner = owner_of(provider, &edited.client)?;
    let mut json = described(&edited.client, owner);
    if let Some(secret) = &edited.secret {
        json.insert("client_secret".to_owned(), secret.expose().into());
    }
    print_json(&json)
}

fn delete(provider: &Provider<Database>, client_id: &str, yes: bool) -> anyhow::Result<()> {
    let client = find(provider, "client delete", client_id)?;
    if !yes {
        bail!(
            "client delete: this deletes {client_id} ({:?}) with every code, token and consent issued to it; pass --yes to do it",
            client.name
        );
    }
    if !provider
        .delete_any_client(client_id)
        .context(CANNOT_WRITE)?
    {
        bail!("client delete: there is no client {client_id:?}");
    }
    println!("deleted client {client_id}");
    Ok(())
}

fn rotate_secret(provider: &Provider<Database>, client_id: &str) -> anyhow::Result<()> {
    let client = find(provider, "client rotate-secret", client_id)?;
    if client.is_public() {
        bail!("client rotate-secret: {client_id} is a public client (token_endpoint_auth_method none) and has no secret");
    }
    let (client, secret) = provider
        .rotate_any_client_secret(client_id)
        .context(CANNOT_WRITE)?
        .with_context(|| format!("client rotate-secret: there is no client {client_id:?}"))?;
    print_json(&serde_json::json!({
        "client_id": client.id,
        "client_secret": secret.expose(),
    }))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::super::{Cli, ClientCommand, Command};
    use super::*;

    fn update_args(args: &[&str]) -> ClientUpdateArgs {
        let mut argv = vec!["tessera", "client", "update", "the-id"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Client {
                command: ClientCommand::Update(args),
            }) => *args,
            other => panic!("{other:?}"),
        }
    }

    fn current() -> ClientRegistration {
        ClientRegistration {
            name: "App".into(),
            uri: "https://app.example".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            contacts: vec!["ops@app.example".into()],
            require_pushed_requests: true,
            ..ClientRegistration::default()
        }
    }

    #[test]
    fn flags_not_given_keep_their_fields() {
        let kept = update_args(&[]).applied_to(current());
        assert_eq!(kept.name, "App");
        assert_eq!(kept.redirect_uris, ["https://app.example/cb"]);
        assert!(kept.require_pushed_requests);
    }

    #[test]
    fn flags_given_replace_and_empty_values_clear() {
        let changed = update_args(&[
            "--name",
            "New",
            "--uri",
            "",
            "--redirect-uri",
            "https://a.example/1",
            "--redirect-uri",
            "https://a.example/2",
            "--contact",
            "",
            "--require-par",
            "false",
        ])
        .applied_to(current());
        assert_eq!(changed.name, "New");
        assert_eq!(changed.uri, "");
        assert_eq!(
            changed.redirect_uris,
            ["https://a.example/1", "https://a.example/2"]
        );
        assert!(changed.contacts.is_empty());
        assert!(!changed.require_pushed_requests);
        let bare = update_args(&["--require-par"]).applied_to(ClientRegistration::default());
        assert!(bare.require_pushed_requests);
    }
}
