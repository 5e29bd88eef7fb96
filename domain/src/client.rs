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
}

impl ClientRegistration {
    /// Validates the metadata and creates the client with a fresh `client_id` and, for a
    /// confidential client, a fresh secret (returned in plain text this once).
    pub fn register(
        self,
        owner_id: Option<UserId>,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<(Client, Option<Secret>), OAuthError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(metadata_error(
                "client_name must be 1 to 100 characters, without control characters",
            ));
        }
        let uri = match self.uri.trim() {
            "" => None,
            uri if uri.chars().any(|c| c.is_control() || c.is_whitespace()) => {
                return Err(metadata_error(
                    "client_uri must not contain spaces or control characters",
                ))
            }
            uri => Some(
                url::Url::parse(uri)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "http" | "https"))
                    .map(|_| uri.to_owned())
                    .ok_or_else(|| metadata_error("client_uri must be an http(s) URL"))?,
            ),
        };
        let auth_method = match self.auth_method.trim() {
            "" => AuthMethod::ClientSecretBasic,
            text => AuthMethod::parse(text).ok_or_else(|| {
                metadata_error(format!("unknown token_endpoint_auth_method {text:?}"))
            })?,
        };
        let grant_types = parse_list(&self.grant_types, GrantType::parse, "grant type")?
            .unwrap_or_else(|| vec![GrantType::AuthorizationCode]);
        let default_response_types = if grant_types.contains(&GrantType::AuthorizationCode) {
            vec![ResponseType::Code]
        } else {
            Vec::new()
        };
        let response_types =
            parse_list(&self.response_types, ResponseType::parse, "response type")?
                .unwrap_or(default_response_types);
        check_consistency(&grant_types, &response_types, auth_method)?;
        let id_token_alg = match self.id_token_signed_response_alg.trim() {
            "" => SigningAlg::default(),
            text => SigningAlg::parse(text).ok_or_else(|| {
                metadata_error(format!("unknown id_token_signed_response_alg {text:?}"))
            })?,
        };
        let access_token_format = match self.access_token_format.trim() {
            "" => None,
            text => Some(AccessTokenFormat::parse(text).ok_or_else(|| {
                metadata_error(format!(
                    "unknown access_token_format {text:?} (opaque or jwt)"
                ))
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
                "at least one redirect URI is needed for the authorization endpoint",
            ));
        }
        let scope = Scope::parse(&self.scope)
            .map_err(|error| metadata_error(error.description.into_owned()))?;
        let secret = (auth_method != AuthMethod::None).then(Secret::generate);
        let client = Client {
            id: Alphanumeric.sample_string(&mut rand::thread_rng(), 24),
            owner_id,
            secret_digest: secret.as_ref().map(Secret::digest),
            name,
            uri,
            redirect_uris,
            grant_types,
            response_types,
            scope,
            auth_method,
            created_at: now,
            id_token_alg,
            post_logout_redirect_uris,
            access_token_format,
            require_pushed_requests: self.require_pushed_requests.then_some(true),
        };
        Ok((client, secret))
    }
}

fn metadata_error(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
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
                OAuthError::new(ErrorCode::InvalidRedirectUri, format!("{field}: {reason}"))
            })
        })
        .collect()
}

/// Parses a list of wire names, dropping blanks and repeats; `None` when nothing was given.
fn parse_list<T: PartialEq>(
    values: &[String],
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<Vec<T>>, OAuthError> {
    let mut parsed = Vec::new();
    for value in values.iter().flat_map(|value| value.split_whitespace()) {
        let item =
            parse(value).ok_or_else(|| metadata_error(format!("unknown {what} {value:?}")))?;
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
            return Err(metadata_error(format!(
                "response type {:?} and grant type {:?} go together",
                response_type.as_str(),
                grant.as_str()
            )));
        }
    }
    if auth_method != AuthMethod::None && grants.contains(&GrantType::Implicit) {
        return Err(metadata_error(
            "the implicit grant is only for public clients (token_endpoint_auth_method none)",
        ));
    }
    if auth_method == AuthMethod::None && grants.contains(&GrantType::ClientCredentials) {
        return Err(metadata_error(
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
        let (client, secret) = registration()
            .register(None, now(), &Policy::default())
            .unwrap();
        let secret = secret.unwrap();
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
        let (client, secret) = ClientRegistration {
            auth_method: "none".into(),
            ..registration()
        }
        .register(None, now(), &Policy::default())
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
                .register(None, now(), &Policy::default())
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
                .register(None, now(), &Policy::default())
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
            assert!(plain_http(field).register(None, now(), &insecure).is_ok());
        }
    }

    #[test]
    fn the_access_token_format_is_the_servers_unless_the_client_chooses() {
        let register = |format: &str| {
            ClientRegistration {
                access_token_format: format.into(),
                ..registration()
            }
            .register(None, now(), &Policy::default())
            .unwrap()
            .0
            .access_token_format
        };
        assert_eq!(register(""), None);
        assert_eq!(register(" jwt "), Some(AccessTokenFormat::Jwt));
        assert_eq!(register("opaque"), Some(AccessTokenFormat::Opaque));
    }

    #[test]
    fn rotating_a_secret_invalidates_the_old_one() {
        let (mut client, old) = registration()
            .register(None, now(), &Policy::default())
            .unwrap();
        let new = client.rotate_secret().unwrap();
        let digest = client.secret_digest.unwrap();
        assert!(digest.matches(new.expose()));
        assert!(!digest.matches(old.unwrap().expose()));
    }
}
