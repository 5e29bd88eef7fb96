//! The error vocabulary of OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1;
//! RFC 8628 §3.5; OpenID Connect Core §3.1.2.6) and the storage failures the domain can see.

use std::borrow::Cow;
use std::fmt;

/// An OAuth error code, spelled as the RFCs spell it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: a parameter is missing, repeated, or malformed.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the code, refresh token or resource-owner credentials are invalid.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 §5.2: the requested scope is invalid or exceeds what the client may ask for.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the resource owner denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: the server met an unexpected condition.
    ServerError,
    /// RFC 6749 §4.1.2.1: the server cannot answer now; try again later.
    TemporarilyUnavailable,
    /// RFC 6750 §3.1: the access token is expired, revoked, malformed or unknown.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks the scope the resource needs.
    InsufficientScope,
    /// RFC 7009 §2.2.1: the server cannot revoke this type of token.
    UnsupportedTokenType,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but nobody is signed in.
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but the user would have to be asked.
    ConsentRequired,
    /// OpenID Connect Core §3.1.2.6: the `request` parameter (a request object) is not supported.
    RequestNotSupported,
    /// OpenID Connect Core §3.1.2.6: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// RFC 8628 §3.5: the user has not answered the device authorization yet.
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polls faster than its interval; the interval grows by 5 s.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired before it was redeemed.
    ExpiredToken,
    /// RFC 7591 §3.2.2: a redirect URI offered at registration is invalid.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: other client metadata offered at registration is invalid.
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2: the software statement is not a valid signed statement.
    InvalidSoftwareStatement,
    /// RFC 7591 §3.2.2: the software statement is not approved by this server.
    UnapprovedSoftwareStatement,
}

impl ErrorCode {
    /// The code as it appears in the `error` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error answer: a code and a description that is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// Human-readable text for `error_description`; never contains secrets or internals.
    pub description: Cow<'static, str>,
    /// Seconds to wait before trying again, when the refusal is a brute-force lockout
    /// ([`crate::throttle`]): the answer is then 429 with `Retry-After`.
    pub retry_after: Option<u64>,
}

/// RFC 6749 §5.2: `error_description` holds only `%x20-21 / %x23-5B / %x5D-7E` (printable
/// ASCII without `"` and `\`). Any other character, such as echoed input, becomes `?`.
pub fn error_description(text: Cow<'static, str>) -> Cow<'static, str> {
    let allowed = |c: char| matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e');
    if text.chars().all(allowed) {
        return text;
    }
    text.chars()
        .map(|c| if allowed(c) { c } else { '?' })
        .collect::<String>()
        .into()
}

impl OAuthError {
    /// An error with the given code and description, kept to the characters RFC 6749 §5.2
    /// allows (see [`error_description`]).
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: error_description(description.into()),
            retry_after: None,
        }
    }

    /// `code` for a locked throttle key: try again after `retry_after` seconds.
    pub fn locked(code: ErrorCode, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                code,
                format!("Too many failed attempts; try again in {retry_after} seconds."),
            )
        }
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` with a description.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// `invalid_grant` with a description.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope` with a description.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `unauthorized_client` with a description.
    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }
}

/// Why a store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (for example a username that is taken).
    #[error("conflicting record")]
    Conflict,
    /// The database could not be reached, is locked, or the pool timed out: retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Any other storage failure; the text is for logs only.
    #[error("storage failure: {0}")]
    Other(String),
}

/// The failure of a domain operation: an answer for the caller, or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is refused with an OAuth error.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// Storage failed; the request may be retried.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Shorthand for results of domain operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_only_the_characters_rfc_6749_allows() {
        let error =
            OAuthError::invalid_request(format!("unknown value {:?}", "a\"b\\c\r\nd\u{e9}\u{7f}"));
        assert_eq!(error.description, "unknown value ?a??b??c?r?nd??u{7f}?");
        let raw = OAuthError::invalid_request("line\r\nbreak \"quoted\" caf\u{e9}");
        assert_eq!(raw.description, "line??break ?quoted? caf?");
        for c in error.description.chars() {
            assert!(
                matches!(c as u32, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e),
                "{c:?}"
            );
        }
        let plain = OAuthError::invalid_grant("The code is invalid (or expired).");
        assert_eq!(plain.description, "The code is invalid (or expired).");
    }
}
