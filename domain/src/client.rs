//! OAuth clients (RFC 6749 §2) and their registration metadata (RFC 7591 §2).

use chrono::{DateTime, Utc};
use rand::distributions::{Alphanumeric, DistString as _};

use crate::error::{ErrorCode, OAuthError};
use crate::jwt_access_token::AccessTokenFormat;
use crate::policy::Policy;
use crate::redirect_uri::RedirectUri;
use crate::scope::Scope;
use crate::secret::{Secret, TokenDigest};
use crate::signing::SigningAlg;
use crate::user::UserId;

/// How a client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with `client_id:client_secret` (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A public client: `client_id` only, and PKCE in place of a secret.
    None,
}

impl AuthMethod {
    /// Every method, in the order metadata lists them.
    pub const ALL: [Self; 3] = [Self::ClientSecretBasic, Self::ClientSecretPost, Self::None];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == text)
    }
}

/// A grant type the token endpoint understands (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1, with PKCE.
    AuthorizationCode,
    /// RFC 6749 §4.2: tokens straight from the authorization endpoint.
    Implicit,
    /// RFC 6749 §4.3: the resource owner's username and password.
    Password,
    /// RFC 6749 §4.4: the client acting for itself.
    ClientCredentials,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 8628: a device without a browser, approved by its user elsewhere.
    DeviceCode,
}

/// The wire name of the device authorization grant (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl GrantType {
    /// Every grant type, in the order metadata lists them.
    pub const ALL: [Self; 6] = [
        Self::AuthorizationCode,
        Self::Implicit,
        Self::Password,
        Self::ClientCredentials,
        Self::RefreshToken,
        Self::DeviceCode,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::Password => "password",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::DeviceCode => DEVICE_CODE_GRANT,
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.as_str() == text)
    }
}

/// A response type of the authorization endpoint (RFC 6749 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// An authorization code.
    Code,
    /// An access token in the fragment (implicit grant).
    Token,
}

impl ResponseType {
    /// Every response type, in the order metadata lists them.
    pub const ALL: [Self; 2] = [Self::Code, Self::Token];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Token => "token",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The public identifier, `client_id`.
    pub id: String,
    /// The user who registered it; `None` for clients made on the command line.
    pub owner_id: Option<UserId>,
    /// Digest of the secret; `None` for public clients.
    pub secret_digest: Option<TokenDigest>,
    /// Display name shown on the consent page.
    pub name: String,
    /// Home page of the client, if given.
    pub uri: Option<String>,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<RedirectUri>,
    /// Authorization types it may use.
    pub grant_types: Vec<GrantType>,
    /// Response types it may request.
    pub response_types: Vec<ResponseType>,
    /// The most it may ask for.
    pub scope: Scope,
    /// Its one way of authenticating.
    pub auth_method: AuthMethod,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// How its ID tokens are signed (`id_token_signed_response_alg`, OpenID Connect Dynamic
    /// Client Registration §2).
    pub id_token_alg: SigningAlg,
    /// Where RP-initiated logout may send the user afterwards, matched exactly
    /// (`post_logout_redirect_uris`, OpenID Connect RP-Initiated Logout 1.0 §3.1).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// How its access tokens look (`access_token_format`); `None` follows the server's
    /// `TESSERA_ACCESS_TOKEN_FORMAT`.
    pub access_token_format: Option<AccessTokenFormat>,
    /// Whether it must push its authorization requests (RFC 9126
    /// `require_pushed_authorization_requests`); `None` follows the server's
    /// `TESSERA_REQUIRE_PAR`.
    pub require_pushed_requests: Option<bool>,
    /// What else it says about itself, for the consent page.
    pub details: ClientDetails,
    /// Digest of its registration access token (RFC 7592); `None` for a client that cannot
    /// be managed over HTTP.
    pub registration_token_digest: Option<TokenDigest>,
    /// Whether it registered itself at the registration endpoint (RFC 7591).
    pub registered_dynamically: bool,
}

/// What a client says about itself beyond its name and home page (RFC 7591 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientDetails {
    /// `logo_uri`: an image the consent page may show.
    pub logo_uri: Option<String>,
    /// `tos_uri`: its terms of service.
    pub tos_uri: Option<String>,
    /// `policy_uri`: how it uses people's data.
    pub policy_uri: Option<String>,
    /// `contacts`: whom to reach about it, usually e-mail addresses.
    pub contacts: Vec<String>,
}

/// The most `contacts` a client may list.
pub const MAX_CONTACTS: usize = 10;

/// Where a client is registered from, which decides its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOrigin {
    /// The client pages, by the signed-in user who then owns it.
    Page(UserId),
    /// `tessera client add`: no owner.
    CommandLine,
    /// The registration endpoint (RFC 7591): no owner until a user claims it; the name may
    /// be left out (it is then the `client_id`).
    Dynamic,
}

/// A client as just registered or updated, with the secrets its holder sees this once.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The client as stored.
    pub client: Client,
    /// A new client secret, when the client has just become confidential.
    pub secret: Option<Secret>,
    /// Its new registration access token (RFC 7592).
    pub registration_token: Secret,
}

impl Client {
    /// Whether it is a public client (no secret, PKCE required).
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    /// Whether it may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether it may request `response_type`.
    pub fn allows_response_type(&self, response_type: ResponseType) -> bool {
        self.response_types.contains(&response_type)
    }

    /// Gives a confidential client a new secret; the old one stops working.
    pub fn rotate_secret(&mut self) -> Option<Secret> {
        if self.is_public() {
            return None;
        }
        let secret = Secret::generate();
        self.secret_digest = Some(secret.digest());
        Some(secret)
    }

    /// Its metadata as a registration holds it: what [`ClientRegistration::edit`] takes
    /// back without changing anything (the edit page's form and `tessera client update`
    /// start from it).
    pub fn registration(&self) -> ClientRegistration {
        let uris = |uris: &[RedirectUri]| uris.iter().map(|uri| uri.as_str().to_owned()).collect();
        ClientRegistration {
            name: self.name.clone(),
            uri: self.uri.clone().unwrap_or_default(),
            redirect_uris: uris(&self.redirect_uris),
            grant_types: self
                .grant_types
                .iter()
                .map(|grant| grant.as_str().to_owned())
                .collect(),
            response_types: self
                .response_types
                .iter()
                .map(|kind| kind.as_str().to_owned())
                .collect(),
            scope: self.scope.to_string(),
            auth_method: self.auth_method.as_str().to_owned(),
            id_token_signed_response_alg: self.id_token_alg.as_str().to_owned(),
            post_logout_redirect_uris: uris(&self.post_logout_redirect_uris),
            access_token_format: self
                .access_token_format
                .map(|format| format.as_str().to_owned())
                .unwrap_or_default(),
            require_pushed_requests: self.require_pushed_requests == Some(true),
            logo_uri: self.details.logo_uri.clone().unwrap_or_default(),
            tos_uri: self.details.tos_uri.clone().unwrap_or_default(),
            policy_uri: self.details.policy_uri.clone().unwrap_or_default(),
            contacts: self.details.contacts.clone(),
        }
    }
}

/// A client as just edited by its owner or an operator.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The client as it is to be stored.
    pub client: Client,
    /// A new client secret, when the client has just become confidential (shown once).
    pub secret: Option<Secret>,
}

/// Client metadata as offered by a person or an app, before validation.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistration {
    /// `client_name`.
    pub name: String,
    /// `client_uri`; empty means none.
    pub uri: String,
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// `grant_types`; empty means `authorization_code`.
    pub grant_types: Vec<String>,
    /// `response_types`; empty means `code` when the authorization-code grant is registered.
    pub response_types: Vec<String>,
    /// `scope`, space separated.
    pub scope: String,
    /// `token_endpoint_auth_method`; empty means `client_secret_basic`.
    pub auth_method: String,
    /// `id_token_signed_response_alg`; empty means `RS256`.
    pub id_token_signed_response_alg: String,
    /// `post_logout_redirect_uris`.
    pub post_logout_redirect_uris: Vec<String>,
    /// `access_token_format`: `opaque` or `jwt`; empty means the server's default.
    pub access_token_format: String,
    /// `require_pushed_authorization_requests` (RFC 9126 §6): only pushed authorization
    /// requests are accepted for it.
    pub require_pushed_requests: bool,
    /// `logo_uri`; empty means none.
    pub logo_uri: String,
    /// `tos_uri`; empty means none.
    pub tos_uri: String,
    /// `policy_uri`; empty means none.
    pub policy_uri: String,
    /// `contacts`.
    pub contacts: Vec<String>,
}

impl ClientRegistration {
    /// Validates the metadata and creates the client with a fresh `client_id`, a
    /// registration access token and, for a confidential client, a secret (both returned in
    /// plain text this once).
    pub fn register(
        self,
        origin: ClientOrigin,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Registered, OAuthError> {
        let id = Alphanumeric.sample_string(&mut rand::thread_rng(), 24);
        let owner_id = match origin {
            ClientOrigin::Page(owner) => Some(owner),
            ClientOrigin::CommandLine | ClientOrigin::Dynamic => None,
        };
        let dynamic = origin == ClientOrigin::Dynamic;
        let mut client = self.into_client(id, dynamic, policy)?;
        client.owner_id = owner_id;
        client.created_at = now;
        client.registered_dynamically = dynamic;
        let secret = (!client.is_public()).then(Secret::generate);
        client.secret_digest = secret.as_ref().map(Secret::digest);
        Ok(with_new_registration_token(client, secret))
    }

    /// RFC 7592 §2.2: this metadata replaces all of `current`'s (what is left out goes back to
    /// its default). The `client_id`, owner and registration time stay; the secret stays
    /// while the client stays confidential, and a client that becomes confidential gets one;
    /// the registration access token is always new.
    pub fn revise(self, current: &Client, policy: &Policy) -> Result<Registered, OAuthError> {
        let Edited { client, secret } = self.replacing(current, true, policy)?;
        Ok(with_new_registration_token(client, secret))
    }

    /// An edit of `current` by its owner (the edit page) or an operator (`tessera client
    /// update`): validated by the same rules as a registration (a name is required), this
    /// metadata replaces all of `current`'s. The `client_id`, owner, registration time,
    /// registration access token and whether it registered dynamically stay; the secret
    /// stays while the client stays confidential, goes when it becomes public, and a client
    /// that becomes confidential gets one.
    pub fn edit(self, current: &Client, policy: &Policy) -> Result<Edited, OAuthError> {
        let mut edited = self.replacing(current, false, policy)?;
        edited.client.registration_token_digest = current.registration_token_digest;
        Ok(edited)
    }

    /// The validated metadata in place of `current`'s, keeping its id, owner, registration
    /// time, origin and (while it stays confidential) secret; the registration access token
    /// is left for the caller.
    fn replacing(
        self,
        current: &Client,
        unnamed_allowed: bool,
        policy: &Policy,
    ) -> Result<Edited, OAuthError> {
        let mut client = self.into_client(current.id.clone(), unnamed_allowed, policy)?;
        client.owner_id = current.owner_id;
        client.created_at = current.created_at;
        client.registered_dynamically = current.registered_dynamically;
        let secret = match (client.is_public(), current.secret_digest) {
            (true, _) => None,
            (false, Some(kept)) => {
                client.secret_digest = Some(kept);
                None
            }
            (false, None) => Some(Secret::generate()),
        };
        if let Some(secret) = &secret {
            client.secret_digest = Some(secret.digest());
        }
        Ok(Edited { client, secret })
    }

    /// The validated metadata as a client named `id` when no name is given and
    /// `unnamed_allowed`; owner, secrets and registration time are left for the caller.
    fn into_client(
        self,
        id: String,
        unnamed_allowed: bool,
        policy: &Policy,
    ) -> Result<Client, OAuthError> {
        let name = match self.name.trim() {
            "" if unnamed_allowed => id.clone(),
            name => name.to_owned(),
        };
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(metadata_error(
                "client_name",
                "must be 1 to 100 characters, without control characters",
            ));
        }
        let uri = parse_web_uri("client_uri", &self.uri)?;
        let details = ClientDetails {
            logo_uri: parse_web_uri("logo_uri", &self.logo_uri)?,
            tos_uri: parse_web_uri("tos_uri", &self.tos_uri)?,
            policy_uri: parse_web_uri("policy_uri", &self.policy_uri)?,
            contacts: parse_contacts(&self.contacts)?,
        };
        let auth_method = match self.auth_method.trim() {
            "" => AuthMethod::ClientSecretBasic,
            text => AuthMethod::parse(text).ok_or_else(|| {
                metadata_error(
                    "token_endpoint_auth_method",
                    format!("unknown value {text:?}"),
                )
            })?,
        };
        let grant_types = parse_list(&self.grant_types, GrantType::parse, "grant_types")?
            .unwrap_or_else(|| vec![GrantType::AuthorizationCode]);
        let default_response_types = if grant_types.contains(&GrantType::AuthorizationCode) {
            vec![ResponseType::Code]
        } else {
            Vec::new()
        };
        let response_types =
            parse_list(&self.response_types, ResponseType::parse, "response_types")?
                .unwrap_or(default_response_types);
        check_consistency(&grant_types, &response_types, auth_method)?;
        let id_token_alg = match self.id_token_signed_response_alg.trim() {
            "" => SigningAlg::default(),
            text => SigningAlg::parse(text).ok_or_else(|| {
                metadata_error(
                    "id_token_signed_response_alg",
                    format!("unknown value {text:?}"),
                )
            })?,
        };
        let access_token_format = match self.access_token_format.trim() {
            "" => None,
            text => Some(AccessTokenFormat::parse(text).ok_or_else(|| {
                metadata_error(
                    "access_token_format",
                    format!("unknown value {text:?} (opaque or jwt)"),
                )
            })?),
        };
        let insecure = policy.insecure_transport;
        let redirect_uris = parse_uris("redirect_uris", &self.redirect_uris, insecure)?;
        let post_logout_redirect_uris = parse_uris(
            "post_logout_redirect_uris",
            &self.post_logout_redirect_uris,
            insecure,
        )?;
        if redirect_uris.is_empty() && !response_types.is_empty() {
            return Err(OAuthError::new(
                ErrorCode::InvalidRedirectUri,
                "redirect_uris: at least one is needed for the authorization endpoint",
            ));
        }
        let scope = Scope::parse(&self.scope)
            .map_err(|error| metadata_error("scope", error.description))?;
        Ok(Client {
            id,
            owner_id: None,
            secret_digest: None,
            name,
            uri,
            redirect_uris,
            grant_types,
            response_types,
            scope,
            auth_method,
            created_at: DateTime::UNIX_EPOCH,
            id_token_alg,
            post_logout_redirect_uris,
            access_token_format,
            require_pushed_requests: self.require_pushed_requests.then_some(true),
            details,
            registration_token_digest: None,
            registered_dynamically: false,
        })
    }
}

/// `client` with a fresh registration access token, returned beside it in plain text.
fn with_new_registration_token(mut client: Client, secret: Option<Secret>) -> Registered {
    let registration_token = Secret::generate();
    client.registration_token_digest = Some(registration_token.digest());
    Registered {
        client,
        secret,
        registration_token,
    }
}

/// An optional http(s) URL of the metadata field `field`; blank means none.
fn parse_web_uri(field: &str, text: &str) -> Result<Option<String>, OAuthError> {
    match text.trim() {
        "" => Ok(None),
        uri if uri.chars().any(|c| c.is_control() || c.is_whitespace()) => Err(metadata_error(
            field,
            "must not contain spaces or control characters",
        )),
        uri => url::Url::parse(uri)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .map(|_| Some(uri.to_owned()))
            .ok_or_else(|| metadata_error(field, "must be an http(s) URL")),
    }
}

/// `contacts`: at most [`MAX_CONTACTS`], each 1 to 254 characters without spaces or control
/// characters.
fn parse_contacts(contacts: &[String]) -> Result<Vec<String>, OAuthError> {
    if contacts.len() > MAX_CONTACTS {
        return Err(metadata_error(
            "contacts",
            format!("at most {MAX_CONTACTS} addresses"),
        ));
    }
    contacts
        .iter()
        .map(|contact| {
            let contact = contact.trim();
            let valid = !contact.is_empty()
                && contact.chars().count() <= 254
                && !contact.chars().any(|c| c.is_control() || c.is_whitespace());
            valid.then(|| contact.to_owned()).ok_or_else(|| {
                metadata_error(
                    "contacts",
                    "each must be 1 to 254 characters, without spaces or control characters",
                )
            })
        })
        .collect()
}

/// `invalid_client_metadata` about the metadata field `field`: the description is `field`, a
/// colon and `message`, so that a form can show `message` next to that field.
fn metadata_error(field: &str, message: impl std::fmt::Display) -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidClientMetadata,
        format!("{field}: {message}"),
    )
}

/// Parses the redirect URIs of the metadata field `field` by the registration rules, dropping
/// blank lines; the error description starts with `field` and a colon.
fn parse_uris(
    field: &'static str,
    uris: &[String],
    insecure_transport: bool,
) -> Result<Vec<RedirectUri>, OAuthError> {
    uris.iter()
        .map(|uri| uri.trim())
        .filter(|uri| !uri.is_empty())
        .map(|uri| {
            RedirectUri::parse(uri, insecure_transport).map_err(|reason| {
                OAuthError::new(
                    ErrorCode::InvalidRedirectUri,
                    format!("{field}: each URI {reason}"),
                )
            })
        })
        .collect()
}

/// Parses the list of wire names of the metadata field `field`, dropping blanks and repeats;
/// `None` when nothing was given.
fn parse_list<T: PartialEq>(
    values: &[String],
    parse: fn(&str) -> Option<T>,
    field: &str,
) -> Result<Option<Vec<T>>, OAuthError> {
    let mut parsed = Vec::new();
    for value in values.iter().flat_map(|value| value.split_whitespace()) {
        let item = parse(value)
            .ok_or_else(|| metadata_error(field, format!("unknown value {value:?}")))?;
        if !parsed.contains(&item) {
            parsed.push(item);
        }
    }
    Ok((!parsed.is_empty()).then_some(parsed))
}

/// RFC 7591 §2.1: response types need their grants; the implicit grant is for public clients
/// only; client credentials need a client that can authenticate.
fn check_consistency(
    grants: &[GrantType],
    response_types: &[ResponseType],
    auth_method: AuthMethod,
) -> Result<(), OAuthError> {
    let pairs = [
        (ResponseType::Code, GrantType::AuthorizationCode),
        (ResponseType::Token, GrantType::Implicit),
    ];
    for (response_type, grant) in pairs {
        if response_types.contains(&response_type) != grants.contains(&grant) {
            return Err(metadata_error(
                "grant_types",
                format!(
                    "the response type {} and the grant type {} go together",
                    response_type.as_str(),
                    grant.as_str()
                ),
            ));
        }
    }
    if auth_method != AuthMethod::None && grants.contains(&GrantType::Implicit) {
        return Err(metadata_error(
            "grant_types",
            "the implicit grant is only for public clients (token_endpoint_auth_method none)",
        ));
    }
    if auth_method == AuthMethod::None && grants.contains(&GrantType::ClientCredentials) {
        return Err(metadata_error(
            "grant_types",
            "client_credentials needs a confidential client",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> ClientRegistration {
        ClientRegistration {
            name: "Demo".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            grant_types: vec!["authorization_code\r\npassword".into()],
            response_types: vec!["code".into()],
            scope: "profile".into(),
            ..ClientRegistration::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn confidential_registration_gets_an_id_and_a_secret_stored_as_digest() {
        let Registered {
            client,
            secret,
            registration_token,
        } = registration()
            .register(ClientOrigin::CommandLine, now(), &Policy::default())
            .unwrap();
        let secret = secret.unwrap();
        assert!(client
            .registration_token_digest
            .unwrap()
            .matches(registration_token.expose()));
        assert_eq!(client.owner_id, None);
        assert!(!client.registered_dynamically);
        assert_eq!(client.id.len(), 24);
        assert_eq!(client.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(
            client.grant_types,
            [GrantType::AuthorizationCode, GrantType::Password]
        );
        assert!(client.secret_digest.unwrap().matches(secret.expose()));
    }

    #[test]
    fn public_registration_has_no_secret() {
        let Registered { client, secret, .. } = ClientRegistration {
            auth_method: "none".into(),
            ..registration()
        }
        .register(ClientOrigin::CommandLine, now(), &Policy::default())
        .unwrap();
        assert!(secret.is_none());
        assert!(client.secret_digest.is_none());
        assert!(client.is_public());
    }

    #[test]
    fn inconsistent_metadata_is_refused_with_rfc_7591_codes() {
        let cases = [
            (
                ClientRegistration {
                    name: " ".into(),
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    name: "a\0b".into(),
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    uri: "https://app.example/\0".into(),
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    grant_types: vec!["magic".into()],
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    response_types: vec!["token".into()],
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    grant_types: vec!["implicit".into()],
                    response_types: vec!["token".into()],
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    redirect_uris: vec!["/relative".into()],
                    ..registration()
                },
                ErrorCode::InvalidRedirectUri,
            ),
            (
                ClientRegistration {
                    redirect_uris: vec![],
                    ..registration()
                },
                ErrorCode::InvalidRedirectUri,
            ),
            (
                ClientRegistration {
                    access_token_format: "JWT".into(),
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                ClientRegistration {
                    auth_method: "none".into(),
                    grant_types: vec!["client_credentials".into()],
                    response_types: vec![],
                    ..registration()
                },
                ErrorCode::InvalidClientMetadata,
            ),
        ];
        for (registration, code) in cases {
            let error = registration
                .clone()
                .register(ClientOrigin::CommandLine, now(), &Policy::default())
                .unwrap_err();
            assert_eq!(error.code, code, "{registration:?}");
        }
    }

    #[test]
    fn weak_redirect_uris_are_refused_naming_their_field_unless_transport_is_insecure() {
        let plain_http = |field: &str| {
            let mut registration = registration();
            if field == "redirect_uris" {
                registration.redirect_uris = vec!["http://app.example/cb".into()];
            } else {
                registration.post_logout_redirect_uris = vec!["http://app.example/bye".into()];
            }
            registration
        };
        for field in ["redirect_uris", "post_logout_redirect_uris"] {
            let error = plain_http(field)
                .register(ClientOrigin::CommandLine, now(), &Policy::default())
                .unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRedirectUri);
            assert!(
                error.description.starts_with(&format!("{field}: ")),
                "{}",
                error.description
            );
            let insecure = Policy {
                insecure_transport: true,
                ..Policy::default()
            };
            assert!(plain_http(field)
                .register(ClientOrigin::CommandLine, now(), &insecure)
                .is_ok());
        }
    }

    #[test]
    fn the_access_token_format_is_the_servers_unless_the_client_chooses() {
        let register = |format: &str| {
            ClientRegistration {
                access_token_format: format.into(),
                ..registration()
            }
            .register(ClientOrigin::CommandLine, now(), &Policy::default())
            .unwrap()
            .client
            .access_token_format
        };
        assert_eq!(register(""), None);
        assert_eq!(register(" jwt "), Some(AccessTokenFormat::Jwt));
        assert_eq!(register("opaque"), Some(AccessTokenFormat::Opaque));
    }

    #[test]
    fn rotating_a_secret_invalidates_the_old_one() {
        let Registered {
            mut client,
            secret: old,
            ..
        } = registration()
            .register(ClientOrigin::CommandLine, now(), &Policy::default())
            .unwrap();
        let new = client.rotate_secret().unwrap();
        let digest = client.secret_digest.unwrap();
        assert!(digest.matches(new.expose()));
        assert!(!digest.matches(old.unwrap().expose()));
    }

    #[test]
    fn only_a_dynamic_registration_may_leave_out_the_name_which_is_then_the_client_id() {
        let unnamed = || ClientRegistration {
            name: String::new(),
            ..registration()
        };
        let error = unnamed()
            .register(ClientOrigin::CommandLine, now(), &Policy::default())
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidClientMetadata);
        let Registered { client, .. } = unnamed()
            .register(ClientOrigin::Dynamic, now(), &Policy::default())
            .unwrap();
        assert_eq!(client.name, client.id);
        assert!(client.registered_dynamically);
        assert_eq!(client.owner_id, None);
    }

    #[test]
    fn details_are_validated_like_the_client_uri() {
        let with = |change: fn(&mut ClientRegistration)| {
            let mut registration = registration();
            change(&mut registration);
            registration.register(ClientOrigin::CommandLine, now(), &Policy::default())
        };
        let Registered { client, .. } = with(|r| {
            r.logo_uri = "https://app.example/logo.png".into();
            r.tos_uri = "https://app.example/tos".into();
            r.policy_uri = "https://app.example/policy".into();
            r.contacts = vec![" ops@app.example ".into()];
        })
        .unwrap();
        assert_eq!(
            client.details,
            ClientDetails {
                logo_uri: Some("https://app.example/logo.png".into()),
                tos_uri: Some("https://app.example/tos".into()),
                policy_uri: Some("https://app.example/policy".into()),
                contacts: vec!["ops@app.example".into()],
            }
        );
        let refused: [fn(&mut ClientRegistration); 5] = [
            |r| r.logo_uri = "javascript:alert(1)".into(),
            |r| r.tos_uri = "ftp://app.example/tos".into(),
            |r| r.policy_uri = "https://app.example/ policy".into(),
            |r| r.contacts = vec![String::new()],
            |r| r.contacts = vec!["a@b.example".into(); MAX_CONTACTS + 1],
        ];
        for change in refused {
            assert_eq!(
                with(change).unwrap_err().code,
                ErrorCode::InvalidClientMetadata
            );
        }
    }

    #[test]
    fn a_revision_keeps_identity_and_secret_and_always_rotates_the_registration_token() {
        let registered = registration()
            .register(ClientOrigin::Dynamic, now(), &Policy::default())
            .unwrap();
        let current = registered.client.clone();
        let revised = ClientRegistration {
            name: "Renamed".into(),
            ..registration()
        }
        .revise(&current, &Policy::default())
        .unwrap();
        assert_eq!(revised.client.id, current.id);
        assert_eq!(revised.client.created_at, current.created_at);
        assert!(revised.client.registered_dynamically);
        assert_eq!(revised.client.name, "Renamed");
        assert!(revised.secret.is_none());
        assert_eq!(revised.client.secret_digest, current.secret_digest);
        assert_ne!(
            revised.client.registration_token_digest,
            current.registration_token_digest
        );
        assert!(revised
            .client
            .registration_token_digest
            .unwrap()
            .matches(revised.registration_token.expose()));

        let public = ClientRegistration {
            auth_method: "none".into(),
            ..registration()
        }
        .revise(&current, &Policy::default())
        .unwrap();
        assert!(public.client.secret_digest.is_none() && public.secret.is_none());
        let confidential_again = registration()
            .revise(&public.client, &Policy::default())
            .unwrap();
        let secret = confidential_again.secret.unwrap();
        assert!(confidential_again
            .client
            .secret_digest
            .unwrap()
            .matches(secret.expose()));
    }

    #[test]
    fn a_client_edited_with_its_own_registration_is_unchanged() {
        let full = ClientRegistration {
            uri: "https://app.example".into(),
            auth_method: "client_secret_post".into(),
            post_logout_redirect_uris: vec!["https://app.example/bye".into()],
            access_token_format: "jwt".into(),
            id_token_signed_response_alg: "ES256".into(),
            require_pushed_requests: true,
            logo_uri: "https://app.example/logo.png".into(),
            contacts: vec!["ops@app.example".into()],
            ..registration()
        };
        let mut registered = full
            .register(ClientOrigin::Dynamic, now(), &Policy::default())
            .unwrap();
        registered.client.owner_id = Some(UserId::generate());
        let client = registered.client;
        let edited = client
            .registration()
            .edit(&client, &Policy::default())
            .unwrap();
        assert_eq!(edited.client, client);
        assert!(edited.secret.is_none());
    }

    #[test]
    fn an_edit_keeps_the_identity_and_gives_a_secret_only_to_a_newly_confidential_client() {
        let public = ClientRegistration {
            auth_method: "none".into(),
            grant_types: vec!["authorization_code".into()],
            ..registration()
        }
        .register(ClientOrigin::CommandLine, now(), &Policy::default())
        .unwrap()
        .client;
        let renamed = ClientRegistration {
            name: "Renamed".into(),
            redirect_uris: vec!["https://app.example/other".into()],
            ..public.registration()
        }
        .edit(&public, &Policy::default())
        .unwrap();
        assert_eq!(renamed.client.name, "Renamed");
        assert_eq!(renamed.client.id, public.id);
        assert_eq!(
            renamed.client.registration_token_digest,
            public.registration_token_digest
        );
        assert!(renamed.secret.is_none() && renamed.client.secret_digest.is_none());

        let confidential = ClientRegistration {
            auth_method: "client_secret_basic".into(),
            ..public.registration()
        }
        .edit(&public, &Policy::default())
        .unwrap();
        let secret = confidential.secret.unwrap();
        assert_eq!(confidential.client.secret_digest, Some(secret.digest()));
        assert_eq!(confidential.client.created_at, public.created_at);

        let kept = confidential
            .client
            .registration()
            .edit(&confidential.client, &Policy::default())
            .unwrap();
        assert!(kept.secret.is_none());
        assert_eq!(kept.client.secret_digest, Some(secret.digest()));
    }

    #[test]
    fn an_edit_is_checked_like_a_registration_and_needs_a_name() {
        let client = registration()
            .register(ClientOrigin::Dynamic, now(), &Policy::default())
            .unwrap()
            .client;
        let unnamed = ClientRegistration {
            name: String::new(),
            ..client.registration()
        };
        assert_eq!(
            unnamed.edit(&client, &Policy::default()).unwrap_err().code,
            ErrorCode::InvalidClientMetadata
        );
        let bad_uri = ClientRegistration {
            redirect_uris: vec!["https://app.example/cb#fragment".into()],
            ..client.registration()
        };
        assert_eq!(
            bad_uri.edit(&client, &Policy::default()).unwrap_err().code,
            ErrorCode::InvalidRedirectUri
        );
    }
}
