//! Dynamic client registration (RFC 7591) and client management (RFC 7592).
//!
//! A registration request is a JSON object of client metadata ([`RegistrationRequest`]);
//! the server's [`RegistrationMode`] decides who may send one. Every client gets a
//! registration access token (stored as its digest, replaced on each update) with which its
//! holder reads, updates and deletes it at its registration client URI. In `token` mode a
//! registration also spends one use of an initial access token
//! ([`Provider::create_registration_token`]). Registrations are throttled per address.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use crate::client::{Client, ClientOrigin, ClientRegistration, GrantType, Registered};
use crate::error::{ErrorCode, OAuthError, StoreError};
use crate::metadata::STANDARD_SCOPES;
use crate::provider::Provider;
use crate::secret::{Secret, TokenDigest};
use crate::store::Store;
use crate::throttle::ThrottleKey;
use crate::user::UserId;

/// Who may register clients at the registration endpoint (`TESSERA_REGISTRATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationMode {
    /// Anyone (the default).
    #[default]
    Open,
    /// Only the holder of an initial access token.
    Token,
    /// Nobody: the endpoint does not exist. Registered clients can still be managed.
    Off,
}

impl RegistrationMode {
    /// Parses `open`, `token` or `off`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "token" => Some(Self::Token),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    /// The setting's name: `open`, `token` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Token => "token",
            Self::Off => "off",
        }
    }

    /// Whether the registration endpoint exists.
    pub fn is_on(self) -> bool {
        self != Self::Off
    }
}

/// An initial access token just made, in plain text this once.
#[derive(Debug, Clone)]
pub struct InitialAccessToken {
    /// The token, sent as a bearer token to the registration endpoint.
    pub token: Secret,
    /// When it stops working; `None` means never.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many registrations it allows; `None` means any number.
    pub uses: Option<u32>,
}

/// An initial access token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInitialAccessToken {
    /// The token's digest.
    pub digest: TokenDigest,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working; `None` means never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Registrations it still allows; `None` means any number.
    pub uses_left: Option<u32>,
}

/// A registration or update request (RFC 7591 §2, RFC 7592 §2.2), parsed from JSON.
#[derive(Debug, Clone, Default)]
pub struct RegistrationRequest {
    /// The client metadata offered.
    pub metadata: ClientRegistration,
    /// `client_id`, which an update must repeat.
    pub client_id: Option<String>,
    /// `client_secret`, which an update may repeat (then it must be the current one).
    pub client_secret: Option<String>,
}

/// Registrations per address within the throttle window, as a multiple of
/// `TESSERA_MAX_FAILURES`.
pub const REGISTRATIONS_PER_FAILURE_LIMIT: u32 = 4;

impl RegistrationRequest {
    /// Parses a JSON body. Unknown fields are ignored and `null` counts as absent; a field of
    /// the wrong type is `invalid_client_metadata` naming it. Tessera trusts no issuer of
    /// software statements: one that is not a compact JWS is `invalid_software_statement`,
    /// any other `unapproved_software_statement`. Without `scope`, the client may ask for
    /// the standard scopes.
    pub fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|error| metadata_error(format!("the body is not valid JSON ({error})")))?;
        let Value::Object(fields) = value else {
            return Err(metadata_error("the body must be a JSON object"));
        };
        if let Some(statement) = field(&fields, "software_statement") {
            return Err(software_statement_error(statement));
        }
        let metadata = ClientRegistration {
            name: string(&fields, "client_name")?.unwrap_or_default(),
            uri: string(&fields, "client_uri")?.unwrap_or_default(),
            redirect_uris: strings(&fields, "redirect_uris")?,
            grant_types: strings(&fields, "grant_types")?,
            response_types: strings(&fields, "response_types")?,
            scope: string(&fields, "scope")?.unwrap_or_else(|| STANDARD_SCOPES.join(" ")),
            auth_method: string(&fields, "token_endpoint_auth_method")?.unwrap_or_default(),
            id_token_signed_response_alg: string(&fields, "id_token_signed_response_alg")?
                .unwrap_or_default(),
            post_logout_redirect_uris: strings(&fields, "post_logout_redirect_uris")?,
            access_token_format: string(&fields, "access_token_format")?.unwrap_or_default(),
            require_pushed_requests: boolean(&fields, "require_pushed_authorization_requests")?,
            logo_uri: string(&fields, "logo_uri")?.unwrap_or_default(),
            tos_uri: string(&fields, "tos_uri")?.unwrap_or_default(),
            policy_uri: string(&fields, "policy_uri")?.unwrap_or_default(),
            contacts: strings(&fields, "contacts")?,
        };
        Ok(Self {
            metadata,
            client_id: string(&fields, "client_id")?,
            client_secret: string(&fields, "client_secret")?,
        })
    }
}

/// The field's value unless absent or `null`.
fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|value| !value.is_null())
}

fn string(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, OAuthError> {
    match field(fields, name) {
        None => Ok(None),
        Some(Value::String(text)) => no_nul(name, text).map(|()| Some(text.clone())),
        Some(_) => Err(metadata_error(format!("{name} must be a string"))),
    }
}

/// An array of non-blank strings; absent is empty.
fn strings(fields: &Map<String, Value>, name: &str) -> Result<Vec<String>, OAuthError> {
    let wrong = || metadata_error(format!("{name} must be an array of non-empty strings"));
    match field(fields, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) if !text.trim().is_empty() => {
                    no_nul(name, text).map(|()| text.clone())
                }
                _ => Err(wrong()),
            })
            .collect(),
        Some(_) => Err(wrong()),
    }
}

fn boolean(fields: &Map<String, Value>, name: &str) -> Result<bool, OAuthError> {
    match field(fields, name) {
        None => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(metadata_error(format!("{name} must be true or false"))),
    }
}

/// Text the database can store: no NUL character.
fn no_nul(name: &str, text: &str) -> Result<(), OAuthError> {
    if text.contains('\0') {
        return Err(metadata_error(format!(
            "{name} must not contain NUL characters"
        )));
    }
    Ok(())
}

fn software_statement_error(statement: &Value) -> OAuthError {
    let is_base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    let compact_jws = statement
        .as_str()
        .map(|text| text.split('.').collect::<Vec<_>>())
        .is_some_and(|parts| parts.len() == 3 && parts.iter().all(|part| is_base64url(part)));
    if compact_jws {
        OAuthError::new(
            ErrorCode::UnapprovedSoftwareStatement,
            "this server accepts no software statements",
        )
    } else {
        OAuthError::new(
            ErrorCode::InvalidSoftwareStatement,
            "software_statement must be a signed JWT (compact serialization)",
        )
    }
}

/// The grants the OAuth 2.0 Security Best Current Practice (RFC 9700 §2.1.2, §2.4) says not
/// to use: the pages and the command line still offer them to a client's owner or the
/// operator, who can judge, but an app registering itself over HTTP cannot have them.
const LEGACY_GRANTS: [GrantType; 2] = [GrantType::Password, GrantType::Implicit];

fn refuse_legacy_grants(metadata: &ClientRegistration) -> Result<(), OAuthError> {
    let asked = metadata
        .grant_types
        .iter()
        .flat_map(|grant| grant.split_whitespace())
        .filter_map(GrantType::parse)
        .find(|grant| LEGACY_GRANTS.contains(grant));
    match asked {
        Some(grant) => Err(metadata_error(format!(
            "the {} grant is not offered to clients registered over HTTP (RFC 9700)",
            grant.as_str()
        ))),
        None => Ok(()),
    }
}

fn metadata_error(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

/// Why a registration or management request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The metadata was refused (RFC 7591 §3.2.2): 400.
    #[error("{0}")]
    Refused(OAuthError),
    /// A credential is needed and none was sent: 401 with a bare bearer challenge.
    #[error("a bearer token is required")]
    Unauthenticated,
    /// The initial or registration access token is unknown, expired, used up, or not this
    /// client's: 401 `invalid_token`.
    #[error("the access token is invalid")]
    InvalidToken,
    /// Registration is off: the endpoint does not exist.
    #[error("registration is off")]
    Disabled,
    /// Too many registrations from this address: try again after this many seconds.
    #[error("too many registrations; retry in {0} s")]
    Throttled(u64),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OAuthError> for RegistrationError {
    fn from(error: OAuthError) -> Self {
        Self::Refused(error)
    }
}

impl<S: Store> Provider<S> {
    /// Who may register clients.
    pub fn registration_mode(&self) -> RegistrationMode {
        self.policy.registration
    }

    /// Makes an initial access token for `token` mode, working for `expires_in` (or for
    /// ever) and for `uses` registrations (or any number).
    pub fn create_registration_token(
        &self,
        expires_in: Option<Duration>,
        uses: Option<u32>,
    ) -> Result<InitialAccessToken, StoreError> {
        let now = self.now();
        let token = Secret::generate();
        let expires_at = expires_in.map(|lifetime| now + lifetime);
        self.store
            .insert_registration_token(&StoredInitialAccessToken {
                digest: token.digest(),
                created_at: now,
                expires_at,
                uses_left: uses,
            })?;
        Ok(InitialAccessToken {
            token,
            expires_at,
            uses,
        })
    }

    /// RFC 7591 §3: registers a client from the JSON `body`, sent from `address` with the
    /// bearer token `bearer` if any. Every attempt counts against the address's registration
    /// throttle. In `token` mode the bearer must be a live initial access token, one of
    /// whose uses the registration spends (a refused request spends none).
    pub fn register_dynamically(
        &self,
        body: &[u8],
        bearer: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Registered, RegistrationError> {
        let mode = self.registration_mode();
        if mode == RegistrationMode::Off {
            return Err(RegistrationError::Disabled);
        }
        let initial_token = match (mode, bearer) {
            (RegistrationMode::Token, None) => return Err(RegistrationError::Unauthenticated),
            (RegistrationMode::Token, Some(token)) => Some(TokenDigest::of(token)),
            _ => None,
        };
        if let Some(address) = address {
            let key = [ThrottleKey::Registration(address)];
            if let Some(retry_after) = self.locked_for(&key)? {
                return Err(RegistrationError::Throttled(retry_after));
            }
            self.record_failure(&key)?;
        }
        let request = RegistrationRequest::from_json(body)?;
        refuse_legacy_grants(&request.metadata)?;
        let registered =
            request
                .metadata
                .register(ClientOrigin::Dynamic, self.now(), &self.policy)?;
        match initial_token {
            Some(digest) => {
                if !self.store.insert_client_spending_token(
                    &registered.client,
                    &digest,
                    self.now(),
                )? {
                    return Err(RegistrationError::InvalidToken);
                }
            }
            None => self.store.insert_client(&registered.client)?,
        }
        tracing::info!(client_id = %registered.client.id, "client registered dynamically");
        Ok(registered)
    }

    /// RFC 7592 §2.1: the client `client_id` if `token` is its registration access token
    /// (compared in constant time).
    pub fn managed_client(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<Client, RegistrationError> {
        self.store
            .find_client(client_id)?
            .filter(|client| {
                client
                    .registration_token_digest
                    .is_some_and(|digest| digest.matches(token))
            })
            .ok_or(RegistrationError::InvalidToken)
    }

    /// RFC 7592 §2.2: replaces the metadata of the client `client_id`, managed with
    /// `token`, by the JSON `body` (which must name the client and may repeat its current
    /// secret), and gives it a new registration access token. Of two updates made with one
    /// token, one succeeds.
    pub fn update_managed_client(
        &self,
        client_id: &str,
        token: &str,
        body: &[u8],
    ) -> Result<Registered, RegistrationError> {
        let current = self.managed_client(client_id, token)?;
        let request = RegistrationRequest::from_json(body)?;
        refuse_legacy_grants(&request.metadata)?;
        if request.client_id.as_deref() != Some(current.id.as_str()) {
            return Err(metadata_error("client_id must be the client's own").into());
        }
        if let Some(secret) = &request.client_secret {
            let matches = current
                .secret_digest
                .is_some_and(|digest| digest.matches(secret));
            if !matches {
                return Err(metadata_error(
                    "client_secret must be the client's current secret (it cannot be chosen)",
                )
                .into());
            }
        }
        let revised = request.metadata.revise(&current, &self.policy)?;
        if !self
            .store
            .update_client(&revised.client, &TokenDigest::of(token))?
        {
            return Err(RegistrationError::InvalidToken);
        }
        tracing::info!(client_id = %current.id, "client updated through its registration URI");
        Ok(revised)
    }

    /// RFC 7592 §2.3: deletes the client `client_id`, managed with `token`, with everything
    /// issued to it.
    pub fn delete_managed_client(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<(), RegistrationError> {
        self.managed_client(client_id, token)?;
        if !self
            .store
            .delete_managed_client(client_id, &TokenDigest::of(token))?
        {
            return Err(RegistrationError::InvalidToken);
        }
        tracing::info!(client_id, "client deleted through its registration URI");
        Ok(())
    }

    /// Makes `owner` the owner of the client `client_id`, which must have none yet, when
    /// `token` is its registration access token; false otherwise, and nothing changes.
    pub fn claim_client(
        &self,
        owner: UserId,
        client_id: &str,
        token: &str,
    ) -> Result<bool, StoreError> {
        match self.managed_client(client_id, token) {
            Ok(client) if client.owner_id.is_none() => {
                self.store
                    .claim_client(client_id, &TokenDigest::of(token), owner)
            }
            Ok(_) | Err(RegistrationError::InvalidToken) => Ok(false),
            Err(RegistrationError::Store(error)) => Err(error),
            Err(other) => Err(StoreError::Other(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(json: &str) -> Result<RegistrationRequest, OAuthError> {
        RegistrationRequest::from_json(json.as_bytes())
    }

    #[test]
    fn metadata_fields_are_read_and_unknown_ones_ignored() {
        let request = parsed(
            r#"{"client_name": "App", "redirect_uris": ["https://app.example/cb"],
                "grant_types": ["authorization_code", "refresh_token"], "contacts": ["a@b.example"],
                "require_pushed_authorization_requests": true, "logo_uri": null,
                "client_id": "abc", "frobnicate": {"x": 1}}"#,
        )
        .unwrap();
        assert_eq!(request.metadata.name, "App");
        assert_eq!(request.metadata.redirect_uris, ["https://app.example/cb"]);
        assert_eq!(
            request.metadata.grant_types,
            ["authorization_code", "refresh_token"]
        );
        assert_eq!(request.metadata.contacts, ["a@b.example"]);
        assert!(request.metadata.require_pushed_requests);
        assert_eq!(request.metadata.logo_uri, "");
        assert_eq!(request.client_id.as_deref(), Some("abc"));
        assert_eq!(
            request.metadata.scope,
            "openid profile email offline_access"
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_in_the_error() {
        let cases = [
            (
                r#"{"redirect_uris": "https://app.example/cb"}"#,
                "redirect_uris",
            ),
            (r#"{"redirect_uris": [""]}"#, "redirect_uris"),
            (r#"{"grant_types": [1]}"#, "grant_types"),
            (r#"{"client_name": 7}"#, "client_name"),
            (r#"{"scope": ["openid"]}"#, "scope"),
            (
                r#"{"require_pushed_authorization_requests": "yes"}"#,
                "require_pushed_authorization_requests",
            ),
            (r#"{"client_name": "a\u0000b"}"#, "client_name"),
        ];
        for (json, name) in cases {
            let error = parsed(json).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidClientMetadata, "{json}");
            assert!(error.description.contains(name), "{json}: {error:?}");
        }
        for json in ["[]", "\"x\"", "{", ""] {
            assert_eq!(
                parsed(json).unwrap_err().code,
                ErrorCode::InvalidClientMetadata,
                "{json}"
            );
        }
    }

    #[test]
    fn software_statements_are_never_approved() {
        let unapproved = parsed(r#"{"software_statement": "eyJh.eyJi.c2ln"}"#).unwrap_err();
        assert_eq!(unapproved.code, ErrorCode::UnapprovedSoftwareStatement);
        for statement in [r#""not a jwt""#, r#""a.b""#, "42", r#""a..c""#] {
            let error = parsed(&format!(r#"{{"software_statement": {statement}}}"#)).unwrap_err();
            assert_eq!(
                error.code,
                ErrorCode::InvalidSoftwareStatement,
                "{statement}"
            );
        }
    }

    #[test]
    fn apps_registering_themselves_cannot_have_the_password_or_implicit_grant() {
        for grants in [
            vec!["password".to_owned()],
            vec!["authorization_code".to_owned(), "implicit".to_owned()],
        ] {
            let metadata = ClientRegistration {
                grant_types: grants.clone(),
                ..ClientRegistration::default()
            };
            let error = refuse_legacy_grants(&metadata).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidClientMetadata, "{grants:?}");
        }
        let modern = ClientRegistration {
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            ..ClientRegistration::default()
        };
        assert!(refuse_legacy_grants(&modern).is_ok());
    }

    #[test]
    fn modes_parse_from_their_names() {
        assert_eq!(
            RegistrationMode::parse("open"),
            Some(RegistrationMode::Open)
        );
        assert_eq!(
            RegistrationMode::parse("token"),
            Some(RegistrationMode::Token)
        );
        assert_eq!(RegistrationMode::parse("off"), Some(RegistrationMode::Off));
        assert_eq!(RegistrationMode::parse("Open"), None);
        for mode in [
            RegistrationMode::Open,
            RegistrationMode::Token,
            RegistrationMode::Off,
        ] {
            assert_eq!(RegistrationMode::parse(mode.as_str()), Some(mode));
        }
        assert!(!RegistrationMode::Off.is_on());
        assert_eq!(RegistrationMode::default(), RegistrationMode::Open);
    }
}
