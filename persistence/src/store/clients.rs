//! The `clients` table and initial access tokens (`registration_tokens`). List-valued
//! metadata is stored as text: redirect URIs and contacts one per line, grant and response
//! types as space-separated wire names.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use tessera_domain::client::{AuthMethod, Client, ClientDetails, GrantType, ResponseType};
use tessera_domain::jwt_access_token::AccessTokenFormat;
use tessera_domain::redirect_uri::RedirectUri;
use tessera_domain::registration::StoredInitialAccessToken;
use tessera_domain::secret::TokenDigest;
use tessera_domain::signing::SigningAlg;
use tessera_domain::store::{ClientStore, RegistrationTokenStore};
use tessera_domain::user::UserId;
use tessera_domain::StoreError;

use super::{digest, epoch, scope, time, uuid};
use crate::error::{corrupt, from_diesel};
use crate::schema::{clients, registration_tokens};
use crate::Database;

/// A row of `clients`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
struct ClientRow {
    id: String,
    owner_id: Option<String>,
    secret_digest: Option<String>,
    name: String,
    uri: Option<String>,
    redirect_uris: String,
    grant_types: String,
    response_types: String,
    scope: String,
    auth_method: String,
    created_at: i64,
    id_token_signed_response_alg: String,
    post_logout_redirect_uris: String,
    access_token_format: Option<String>,
    require_pushed_requests: Option<bool>,
    logo_uri: Option<String>,
    tos_uri: Option<String>,
    policy_uri: Option<String>,
    contacts: String,
    registration_token_digest: Option<String>,
    registered_dynamically: bool,
}

impl TryFrom<&Client> for ClientRow {
    type Error = StoreError;

    /// Refuses a redirect URI that could not be read back (empty or spanning lines).
    fn try_from(client: &Client) -> Result<Self, StoreError> {
        if let Some(bad) = client
            .redirect_uris
            .iter()
            .chain(&client.post_logout_redirect_uris)
            .map(RedirectUri::as_str)
            .chain(client.details.contacts.iter().map(String::as_str))
            .find(|line| line.is_empty() || line.contains(['\n', '\r']))
        {
            return Err(StoreError::Other(format!(
                "{bad:?} cannot be stored one per line (empty or contains a line break)"
            )));
        }
        Ok(Self {
            id: client.id.clone(),
            owner_id: client.owner_id.map(|owner| owner.to_string()),
            secret_digest: client.secret_digest.as_ref().map(TokenDigest::to_hex),
            name: client.name.clone(),
            uri: client.uri.clone(),
            redirect_uris: join(client.redirect_uris.iter().map(RedirectUri::as_str), "\n"),
            grant_types: join(client.grant_types.iter().map(|grant| grant.as_str()), " "),
            response_types: join(client.response_types.iter().map(|kind| kind.as_str()), " "),
            scope: client.scope.to_string(),
            auth_method: client.auth_method.as_str().to_owned(),
            created_at: epoch(client.created_at),
            id_token_signed_response_alg: client.id_token_alg.as_str().to_owned(),
            post_logout_redirect_uris: join(
                client
                    .post_logout_redirect_uris
                    .iter()
                    .map(RedirectUri::as_str),
                "\n",
            ),
            access_token_format: client
                .access_token_format
                .map(|format| format.as_str().to_owned()),
            require_pushed_requests: client.require_pushed_requests,
            logo_uri: client.details.logo_uri.clone(),
            tos_uri: client.details.tos_uri.clone(),
            policy_uri: client.details.policy_uri.clone(),
            contacts: client.details.contacts.join("\n"),
            registration_token_digest: client
                .registration_token_digest
                .as_ref()
                .map(TokenDigest::to_hex),
            registered_dynamically: client.registered_dynamically,
        })
    }
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        Ok(Self {
            owner_id: row
                .owner_id
                .as_deref()
                .map(|owner| uuid("clients", owner).map(UserId))
                .transpose()?,
            secret_digest: row
                .secret_digest
                .as_deref()
                .map(|hex| digest("clients", hex))
                .transpose()?,
            redirect_uris: uri_lines(&row.redirect_uris),
            post_logout_redirect_uris: uri_lines(&row.post_logout_redirect_uris),
            grant_types: parse_words(&row.grant_types, GrantType::parse, "grant type")?,
            response_types: parse_words(&row.response_types, ResponseType::parse, "response type")?,
            scope: scope("clients", &row.scope)?,
            auth_method: AuthMethod::parse(&row.auth_method).ok_or_else(|| {
                corrupt(
                    "clients",
                    format_args!("unknown auth method {:?}", row.auth_method),
                )
            })?,
            created_at: time("clients", row.created_at)?,
            id_token_alg: SigningAlg::parse(&row.id_token_signed_response_alg).ok_or_else(
                || {
                    corrupt(
                        "clients",
                        format_args!(
                            "unknown ID token algorithm {:?}",
                            row.id_token_signed_response_alg
                        ),
                    )
                },
            )?,
            access_token_format: row
                .access_token_format
                .as_deref()
                .map(|name| {
                    AccessTokenFormat::parse(name).ok_or_else(|| {
                        corrupt(
                            "clients",
                            format_args!("unknown access token format {name:?}"),
                        )
                    })
                })
                .transpose()?,
            require_pushed_requests: row.require_pushed_requests,
            registration_token_digest: row
                .registration_token_digest
                .as_deref()
                .map(|hex| digest("clients", hex))
                .transpose()?,
            registered_dynamically: row.registered_dynamically,
            details: ClientDetails {
                logo_uri: row.logo_uri,
                tos_uri: row.tos_uri,
                policy_uri: row.policy_uri,
                contacts: row
                    .contacts
                    .split('\n')
                    .filter(|contact| !contact.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            id: row.id,
            name: row.name,
            uri: row.uri,
        })
    }
}

/// The columns an edit replaces: the metadata and the secret digest, not the client's id,
/// owner, registration time or registration token (`None` sets NULL).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct MetadataChanges {
    secret_digest: Option<String>,
    name: String,
    uri: Option<String>,
    redirect_uris: String,
    grant_types: String,
    response_types: String,
    scope: String,
    auth_method: String,
    id_token_signed_response_alg: String,
    post_logout_redirect_uris: String,
    access_token_format: Option<String>,
    require_pushed_requests: Option<bool>,
    logo_uri: Option<String>,
    tos_uri: Option<String>,
    policy_uri: Option<String>,
    contacts: String,
}

impl From<ClientRow> for MetadataChanges {
    fn from(row: ClientRow) -> Self {
        Self {
            secret_digest: row.secret_digest,
            name: row.name,
            uri: row.uri,
            redirect_uris: row.redirect_uris,
            grant_types: row.grant_types,
            response_types: row.response_types,
            scope: row.scope,
            auth_method: row.auth_method,
            id_token_signed_response_alg: row.id_token_signed_response_alg,
            post_logout_redirect_uris: row.post_logout_redirect_uris,
            access_token_format: row.access_token_format,
            require_pushed_requests: row.require_pushed_requests,
            logo_uri: row.logo_uri,
            tos_uri: row.tos_uri,
            policy_uri: row.policy_uri,
            contacts: row.contacts,
        }
    }
}

/// `owner_id = ? OR ?`, which holds for the clients of `owner` or, when it is `None` (an
/// operator), for every client.
type OfOwner = diesel::dsl::Or<
    diesel::dsl::Eq<clients::owner_id, Option<String>>,
    diesel::dsl::AsExprOf<bool, Bool>,
>;

/// `OfOwner` for `owner`.
fn of_owner(owner: Option<UserId>) -> OfOwner {
    let anyone = owner.is_none();
    clients::owner_id
        .eq(owner.map(|owner| owner.to_string()))
        .or(anyone.into_sql::<Bool>())
}

fn join<'a>(items: impl Iterator<Item = &'a str>, separator: &str) -> String {
    items.collect::<Vec<_>>().join(separator)
}

fn parse_words<T>(
    text: &str,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<Vec<T>, StoreError> {
    text.split_whitespace()
        .map(|word| {
            parse(word).ok_or_else(|| corrupt("clients", format_args!("unknown {what} {word:?}")))
        })
        .collect()
}

impl ClientStore for Database {
    fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        let row = ClientRow::try_from(client)?;
        let mut connection = self.connection()?;
        diesel::insert_into(clients::table)
            .values(row)
            .execute(&mut *connection)
            .map(drop)
            .map_err(from_diesel)
    }

    fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let mut connection = self.connection()?;
        clients::table
            .find(client_id)
            .select(ClientRow::as_select())
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?
            .map(Client::try_from)
            .transpose()
    }

    /// Oldest first; clients registered within the same second come in `client_id` order.
    fn clients_of(&self, owner: UserId) -> Result<Vec<Client>, StoreError> {
        let mut connection = self.connection()?;
        clients::table
            .filter(clients::owner_id.eq(owner.to_string()))
            .order((clients::created_at.asc(), clients::id.asc()))
            .select(ClientRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?
            .into_iter()
            .map(Client::try_from)
            .collect()
    }

    fn delete_client(&self, client_id: &str, owner: UserId) -> Result<bool, StoreError> {
        let mut connection = self.connection()?;
        let deleted = diesel::delete(
            clients::table
                .filter(clients::id.eq(client_id))
                .filter(clients::owner_id.eq(owner.to_string())),
        )
        .execute(&mut *connection)
        .map_err(from_diesel)?;
        Ok(deleted == 1)
    }

    /// One `UPDATE ... WHERE id = ? AND (owner_id = ? OR ?)` (`of_owner`) of the metadata
    /// columns and `secret_digest`.
    fn edit_client(&self, client: &Client, owner: Option<UserId>) -> Result<bool, StoreError> {
        let row = ClientRow::try_from(client)?;
        let updated = self.write_statement(move |connection| {
            let client = clients::table
                .filter(clients::id.eq(row.id.clone()))
                .filter(of_owner(owner));
            diesel::update(client)
                .set(MetadataChanges::from(row))
                .execute(connection)
                .map_err(from_diesel)
        })?;
        Ok(updated == 1)
    }

    fn delete_any_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let id = client_id.to_owned();
        let deleted = self.write_statement(move |connection| {
            diesel::delete(clients::table.filter(clients::id.eq(id)))
                .execute(connection)
                .map_err(from_diesel)
        })?;
        Ok(deleted == 1)
    }

    fn all_clients(&self) -> Result<Vec<Client>, StoreError> {
        let mut connection = self.connection()?;
        clients::table
            .order((clients::created_at.asc(), clients::id.asc()))
            .select(ClientRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?
            .into_iter()
            .map(Client::try_from)
            .collect()
    }

    /// One `UPDATE ... WHERE id = ? AND registration_token_digest = ?` of every column but
    /// `id`, `owner_id` and `created_at`.
    fn update_client(&self, client: &Client, token: &TokenDigest) -> Result<bool, StoreError> {
        let row = ClientRow::try_from(client)?;
        let token = token.to_hex();
        let updated = self.write_statement(move |connection| {
            diesel::update(
                clients::table
                    .filter(clients::id.eq(row.id.clone()))
                    .filter(clients::registration_token_digest.eq(token)),
            )
            .set((
                clients::registration_token_digest.eq(row.registration_token_digest.clone()),
                clients::registered_dynamically.eq(row.registered_dynamically),
                MetadataChanges::from(row),
            ))
            .execute(connection)
            .map_err(from_diesel)
        })?;
        Ok(updated == 1)
    }

    fn delete_managed_client(
        &self,
        client_id: &str,
        token: &TokenDigest,
    ) -> Result<bool, StoreError> {
        let (id, token) = (client_id.to_owned(), token.to_hex());
        let deleted = self.write_statement(move |connection| {
            diesel::delete(
                clients::table
                    .filter(clients::id.eq(id))
                    .filter(clients::registration_token_digest.eq(token)),
            )
            .execute(connection)
            .map_err(from_diesel)
        })?;
        Ok(deleted == 1)
    }

    fn claim_client(
        &self,
        client_id: &str,
        token: &TokenDigest,
        owner: UserId,
    ) -> Result<bool, StoreError> {
        let (id, token) = (client_id.to_owned(), token.to_hex());
        let claimed = self.write_statement(move |connection| {
            diesel::update(
                clients::table
                    .filter(clients::id.eq(id))
                    .filter(clients::owner_id.is_null())
                    .filter(clients::registration_token_digest.eq(token)),
            )
            .set(clients::owner_id.eq(owner.to_string()))
            .execute(connection)
            .map_err(from_diesel)
        })?;
        Ok(claimed == 1)
    }

    /// One `UPDATE clients SET secret_digest = ? WHERE id = ? AND auth_method <> 'none' AND
    /// (owner_id = ? OR ?)` (`of_owner`).
    fn set_client_secret(
        &self,
        client_id: &str,
        owner: Option<UserId>,
        digest: &TokenDigest,
    ) -> Result<bool, StoreError> {
        let (id, digest) = (client_id.to_owned(), digest.to_hex());
        let updated = self.write_statement(move |connection| {
            let client = clients::table
                .filter(clients::id.eq(id))
                .filter(clients::auth_method.ne(AuthMethod::None.as_str()))
                .filter(of_owner(owner));
            diesel::update(client)
                .set(clients::secret_digest.eq(digest))
                .execute(connection)
                .map_err(from_diesel)
        })?;
        Ok(updated == 1)
    }
}

/// Stored URIs, one per line.
fn uri_lines(text: &str) -> Vec<RedirectUri> {
    text.split('\n')
        .filter(|uri| !uri.is_empty())
        .map(|uri| RedirectUri::from_stored(uri.to_owned()))
        .collect()
}

/// A row of `registration_tokens`.
#[derive(Debug, Insertable)]
#[diesel(table_name = registration_tokens)]
struct RegistrationTokenRow {
    digest: String,
    created_at: i64,
    expires_at: Option<i64>,
    uses_left: Option<i32>,
}

impl RegistrationTokenStore for Database {
    fn insert_registration_token(
        &self,
        token: &StoredInitialAccessToken,
    ) -> Result<(), StoreError> {
        let row = RegistrationTokenRow {
            digest: token.digest.to_hex(),
            created_at: epoch(token.created_at),
            expires_at: token.expires_at.map(epoch),
            uses_left: token
                .uses_left
                .map(|uses| i32::try_from(uses).unwrap_or(i32::MAX)),
        };
        self.write_statement(move |connection| {
            diesel::insert_into(registration_tokens::table)
                .values(row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    /// In one transaction: `UPDATE registration_tokens SET uses_left = uses_left - 1` (when
    /// counted) where the token is live, whose row count decides, then the client's INSERT.
    fn insert_client_spending_token(
        &self,
        client: &Client,
        token: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let row = ClientRow::try_from(client)?;
        let (token, now) = (token.to_hex(), epoch(now));
        self.write(move |connection| {
            let live = registration_tokens::table
                .filter(registration_tokens::digest.eq(token))
                .filter(
                    registration_tokens::expires_at
                        .is_null()
                        .or(registration_tokens::expires_at.gt(now)),
                );
            let spent = diesel::update(live.clone().filter(registration_tokens::uses_left.gt(0)))
                .set(registration_tokens::uses_left.eq(registration_tokens::uses_left - 1))
                .execute(connection)
                .map_err(from_diesel)?;
            let unlimited = if spent == 0 {
                diesel::select(diesel::dsl::exists(
                    live.filter(registration_tokens::uses_left.is_null()),
                ))
                .get_result::<bool>(connection)
                .map_err(from_diesel)?
            } else {
                false
            };
            if spent == 0 && !unlimited {
                return Ok(false);
            }
            diesel::insert_into(clients::table)
                .values(row)
                .execute(connection)
                .map_err(from_diesel)?;
            Ok(true)
        })
    }
}
