//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).
//! A client uses exactly its registered method; credentials in two places are refused.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::client::{AuthMethod, Client};
use crate::error::{Error, ErrorCode, OAuthError};
use crate::params::{decode_form_component, Params};
use crate::provider::Provider;
use crate::store::Store;
use crate::throttle::ThrottleKey;

/// The credentials a request presented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    /// `client_id` and `client_secret` from HTTP Basic, already decoded.
    pub basic: Option<(String, String)>,
    /// `client_id` from the body.
    pub client_id: Option<String>,
    /// `client_secret` from the body.
    pub client_secret: Option<String>,
}

impl ClientCredentials {
    /// Reads the `Authorization` header value (if any) and the body parameters.
    pub fn from_request(authorization: Option<&str>, params: &Params) -> Result<Self, OAuthError> {
        let basic = match authorization {
            Some(value) => match value.split_once(' ') {
                Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => {
                    Some(decode_basic(encoded.trim())?)
                }
                _ => None,
            },
            None => None,
        };
        Ok(Self {
            basic,
            client_id: params.single("client_id")?.map(str::to_owned),
            client_secret: params.single("client_secret")?.map(str::to_owned),
        })
    }
}

/// RFC 6749 §2.3.1: Basic credentials are base64 of `urlencode(id):urlencode(secret)`. Each
/// side is decoded whole (a raw `&` or `=` is itself) and must be UTF-8 once decoded.
fn decode_basic(encoded: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed HTTP Basic credentials");
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |text: &str| decode_form_component(text.as_bytes()).ok_or_else(malformed);
    Ok((unescape(id)?, unescape(secret)?))
}

impl<S: Store> Provider<S> {
    /// The client these credentials prove, or `invalid_client`.
    pub fn authenticate_client(&self, credentials: &ClientCredentials) -> Result<Client, Error> {
        let (client_id, secret, method) = match (&credentials.basic, &credentials.client_secret) {
            (Some(_), Some(_)) => {
                return Err(OAuthError::invalid_client(
                    "client credentials were sent both in HTTP Basic and in the body",
                )
                .into())
            }
            (Some((id, secret)), None) => {
                if credentials
                    .client_id
                    .as_ref()
                    .is_some_and(|body_id| body_id != id)
                {
                    return Err(OAuthError::invalid_client(
                        "client_id in the body differs from the HTTP Basic client",
                    )
                    .into());
                }
                (id, Some(secret), AuthMethod::ClientSecretBasic)
            }
            (None, Some(secret)) => match &credentials.client_id {
                Some(id) => (id, Some(secret), AuthMethod::ClientSecretPost),
                None => {
                    return Err(
                        OAuthError::invalid_client("client_secret without client_id").into(),
                    )
                }
            },
            (None, None) => match &credentials.client_id {
                Some(id) => (id, None, AuthMethod::None),
                None => {
                    return Err(
                        OAuthError::invalid_client("client authentication is required").into(),
                    )
                }
            },
        };
        let key = ThrottleKey::Client(client_id.clone());
        if let Some(retry_after) = self.locked_for(std::slice::from_ref(&key))? {
            return Err(OAuthError::locked(ErrorCode::InvalidClient, retry_after).into());
        }
        let unknown = || -> Result<Client, Error> {
            self.record_failure(std::slice::from_ref(&key))?;
            Err(OAuthError::invalid_client("client authentication failed").into())
        };
        let Some(client) = self.store.find_client(client_id)? else {
            return unknown();
        };
        let proven = match (secret, &client.secret_digest) {
            (None, None) => true,
            (Some(secret), Some(digest)) => digest.matches(secret),
            _ => false,
        };
        if !proven {
            return unknown();
        }
        // Only a caller who proved the secret learns which method the client registered;
        // to anyone else the answer is the same as for an unknown client.
        if client.auth_method != method {
            return Err(OAuthError::invalid_client(format!(
                "this client must authenticate with {}",
                client.auth_method.as_str()
            ))
            .into());
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let encoded = STANDARD.encode("my%20id:s%3Acret+x");
        let credentials =
            ClientCredentials::from_request(Some(&format!("Basic {encoded}")), &Params::default())
                .unwrap();
        assert_eq!(
            credentials.basic,
            Some(("my id".to_owned(), "s:cret x".to_owned()))
        );
    }

    #[test]
    fn unescaped_ampersands_are_kept_and_invalid_utf8_escapes_refused() {
        let header = format!("Basic {}", STANDARD.encode("a&b=c:s&t"));
        let credentials =
            ClientCredentials::from_request(Some(&header), &Params::default()).unwrap();
        assert_eq!(
            credentials.basic,
            Some(("a&b=c".to_owned(), "s&t".to_owned()))
        );
    }

    #[test]
    fn malformed_basic_credentials_are_invalid_client() {
        let invalid_utf8 = format!("Basic {}", STANDARD.encode("id:%FF"));
        for header in ["Basic !!!", "Basic aGVsbG8=", invalid_utf8.as_str()] {
            let error =
                ClientCredentials::from_request(Some(header), &Params::default()).unwrap_err();
            assert_eq!(error.code, crate::ErrorCode::InvalidClient, "{header}");
        }
    }
}
