//! The token endpoint (RFC 6749 §3.2): the grants, each for an already authenticated client.

use chrono::{DateTime, Utc};

use crate::client::{Client, GrantType};
use crate::code::{AuthorizationCode, CodeRedemption};
use crate::error::{Error, ErrorCode, OAuthError, StoreError};
use crate::grant::{Grant, GrantId};
use crate::params::Params;
use crate::provider::Provider;
use crate::scope::Scope;
use crate::secret::{Secret, TokenDigest};
use crate::store::Store;
use crate::token::{RefreshRotation, Token, TokenKind, TokenResponse};
use crate::user::UserId;

/// A parsed token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 with RFC 7636 §4.5.
    AuthorizationCode {
        /// The code.
        code: String,
        /// Must repeat the authorization request's `redirect_uri`.
        redirect_uri: Option<String>,
        /// The PKCE verifier.
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// A narrower scope for the new access token.
        scope: Option<String>,
    },
    /// RFC 6749 §4.3.2.
    Password {
        /// The resource owner's username.
        username: String,
        /// The resource owner's password.
        password: String,
        /// The requested scope.
        scope: Option<String>,
    },
    /// RFC 6749 §4.4.2.
    ClientCredentials {
        /// The requested scope.
        scope: Option<String>,
    },
}

impl TokenRequest {
    /// Reads a token request; `unsupported_grant_type` for grants Tessera does not know.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let owned = |value: Option<&str>| value.map(str::to_owned);
        let grant_type = params.required("grant_type")?;
        match GrantType::parse(grant_type) {
            Some(GrantType::AuthorizationCode) => Ok(Self::AuthorizationCode {
                code: params.required("code")?.to_owned(),
                redirect_uri: owned(params.single("redirect_uri")?),
                code_verifier: owned(params.single("code_verifier")?),
            }),
            Some(GrantType::RefreshToken) => Ok(Self::RefreshToken {
                refresh_token: params.required("refresh_token")?.to_owned(),
                scope: owned(params.single("scope")?),
            }),
            Some(GrantType::Password) => Ok(Self::Password {
                username: params.required("username")?.to_owned(),
                password: params.required("password")?.to_owned(),
                scope: owned(params.single("scope")?),
            }),
            Some(GrantType::ClientCredentials) => Ok(Self::ClientCredentials {
                scope: owned(params.single("scope")?),
            }),
            Some(GrantType::Implicit) | None => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "The grant_type {:?} is not supported.",
                    grant_type.chars().take(60).collect::<String>()
                ),
            )),
        }
    }

    /// The grant type this request uses.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::Password { .. } => GrantType::Password,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
        }
    }
}

/// What a set of new tokens is issued for.
struct Issue<'a> {
    grant_id: GrantId,
    client: &'a Client,
    user_id: Option<UserId>,
    /// The grant's scope, which refresh tokens carry.
    grant_scope: &'a Scope,
    /// The access token's scope (the grant's, or narrower).
    access_scope: &'a Scope,
    with_refresh_token: bool,
}

impl<S: Store> Provider<S> {
    /// Answers a token request from an authenticated client.
    pub fn exchange(&self, client: &Client, request: TokenRequest) -> Result<TokenResponse, Error> {
        let grant_type = request.grant_type();
        if !client.allows_grant(grant_type) {
            return Err(OAuthError::unauthorized_client(format!(
                "This client may not use the {} grant.",
                grant_type.as_str()
            ))
            .into());
        }
        let now = self.now();
        match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => self.exchange_code(client, &code, redirect_uri, code_verifier, now),
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => self.refresh(client, &refresh_token, scope.as_deref(), now),
            TokenRequest::Password {
                username,
                password,
                scope,
            } => self.password(client, &username, &password, scope.as_deref(), now),
            TokenRequest::ClientCredentials { scope } => {
                let scope = Scope::requested_within(scope.as_deref(), &client.scope)?;
                let grant = Grant::new(&client.id, None, scope, now);
                self.store.insert_grant(&grant)?;
                self.issue(
                    &Issue {
                        grant_id: grant.id,
                        client,
                        user_id: None,
                        grant_scope: &grant.scope,
                        access_scope: &grant.scope,
                        with_refresh_token: false,
                    },
                    now,
                )
            }
        }
    }

    fn exchange_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        let mut response = None;
        let redemption =
            self.store
                .redeem_code(&TokenDigest::of(code), &client.id, now, &mut |code| {
                    check_code_binding(
                        client,
                        code,
                        redirect_uri.as_deref(),
                        code_verifier.as_deref(),
                    )?;
                    let (tokens, minted) = self.mint(
                        &Issue {
                            grant_id: code.grant_id,
                            client,
                            user_id: Some(code.user_id),
                            grant_scope: &code.scope,
                            access_scope: &code.scope,
                            with_refresh_token: client.allows_grant(GrantType::RefreshToken),
                        },
                        now,
                    );
                    response = Some(minted);
                    Ok(tokens)
                })?;
        match redemption {
            CodeRedemption::Redeemed(outcome) => minted(outcome, response),
            CodeRedemption::Reused(code) => {
                self.store.revoke_grant(code.grant_id, now)?;
                Err(OAuthError::invalid_grant(
                    "The authorization code was already used; the tokens issued for it are revoked.",
                )
                .into())
            }
            CodeRedemption::Unusable => Err(OAuthError::invalid_grant(
                "The authorization code is invalid, expired, or was issued to another client.",
            )
            .into()),
        }
    }

    fn refresh(
        &self,
        client: &Client,
        refresh_token: &str,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        let digest = TokenDigest::of(refresh_token);
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid or expired.");
        // Check the scope before rotating, so that a bad request does not burn the token.
        let current = self
            .store
            .find_token(&digest)?
            .filter(|token| token.kind == TokenKind::Refresh && token.client_id == client.id)
            .ok_or_else(invalid)?;
        let access_scope = match scope.map(Scope::parse).transpose()? {
            Some(requested) if !requested.is_empty() => {
                if !requested.is_subset_of(&current.scope) {
                    return Err(OAuthError::invalid_scope(
                        "The requested scope exceeds the scope originally granted.",
                    )
                    .into());
                }
                requested
            }
            _ => current.scope.clone(),
        };
        let issue_for = |token: &Token| Issue {
            grant_id: token.grant_id,
            client,
            user_id: token.user_id,
            grant_scope: &current.scope,
            access_scope: &access_scope,
            with_refresh_token: true,
        };
        let mut response = None;
        let rotation = self
            .store
            .rotate_refresh_token(&digest, &client.id, now, &mut |token| {
                let (tokens, minted) = self.mint(&issue_for(token), now);
                response = Some(minted);
                Ok(tokens)
            })?;
        match rotation {
            RefreshRotation::Rotated(outcome) => minted(outcome, response),
            RefreshRotation::AlreadyRotated(token) if self.within_reuse_grace(&token, now) => {
                self.issue(&issue_for(&token), now)
            }
            RefreshRotation::AlreadyRotated(token) => {
                self.store.revoke_grant(token.grant_id, now)?;
                Err(OAuthError::invalid_grant(
                    "The refresh token was already used; every token of this grant is revoked.",
                )
                .into())
            }
            RefreshRotation::Unusable => Err(invalid().into()),
        }
    }

    /// Whether a rotated refresh token may still be retried (`TESSERA_REFRESH_REUSE_GRACE_SECONDS`).
    fn within_reuse_grace(&self, token: &Token, now: DateTime<Utc>) -> bool {
        token.revoked_at.is_none()
            && token.expires_at > now
            && token
                .rotated_at
                .is_some_and(|rotated| now - rotated <= self.policy.refresh_reuse_grace)
            && self.policy.refresh_reuse_grace > chrono::Duration::zero()
    }

    fn password(
        &self,
        client: &Client,
        username: &str,
        password: &str,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        let scope = Scope::requested_within(scope, &client.scope)?;
        let user = self
            .sign_in(username, password)?
            .ok_or_else(|| OAuthError::invalid_grant("The username or password is incorrect."))?;
        let grant = Grant::new(&client.id, Some(user.id), scope, now);
        self.store.insert_grant(&grant)?;
        self.issue(
            &Issue {
                grant_id: grant.id,
                client,
                user_id: Some(user.id),
                grant_scope: &grant.scope,
                access_scope: &grant.scope,
                with_refresh_token: client.allows_grant(GrantType::RefreshToken),
            },
            now,
        )
    }

    /// Makes new tokens and the response that carries them, without storing anything.
    fn mint(&self, issue: &Issue<'_>, now: DateTime<Utc>) -> (Vec<Token>, TokenResponse) {
        let record = |secret: &Secret, kind, scope: &Scope, ttl| Token {
            digest: secret.digest(),
            kind,
            grant_id: issue.grant_id,
            client_id: issue.client.id.clone(),
            user_id: issue.user_id,
            scope: scope.clone(),
            issued_at: now,
            expires_at: now + ttl,
            revoked_at: None,
            rotated_at: None,
        };
        let access = Secret::generate();
        let mut tokens = vec![record(
            &access,
            TokenKind::Access,
            issue.access_scope,
            self.policy.access_token_ttl,
        )];
        let refresh = issue.with_refresh_token.then(Secret::generate);
        if let Some(refresh) = &refresh {
            tokens.push(record(
                refresh,
                TokenKind::Refresh,
                issue.grant_scope,
                self.policy.refresh_token_ttl,
            ));
        }
        let response = TokenResponse {
            access_token: access.expose().to_owned(),
            token_type: "Bearer",
            expires_in: self.policy.access_token_ttl.num_seconds(),
            scope: issue.access_scope.to_string(),
            refresh_token: refresh.map(|secret| secret.expose().to_owned()),
        };
        (tokens, response)
    }

    /// Makes new tokens and stores them.
    fn issue(&self, issue: &Issue<'_>, now: DateTime<Utc>) -> Result<TokenResponse, Error> {
        let (tokens, response) = self.mint(issue, now);
        self.store.insert_tokens(&tokens)?;
        Ok(response)
    }
}

/// The response minted inside a store transaction, or the refusal that stopped it.
fn minted(
    outcome: Result<(), OAuthError>,
    response: Option<TokenResponse>,
) -> Result<TokenResponse, Error> {
    outcome?;
    response
        .ok_or_else(|| StoreError::Other("the store reported tokens it never minted".into()).into())
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.6: the token request must repeat the redirect URI and
/// answer the PKCE challenge. The code is already used up when these fail.
fn check_code_binding(
    client: &Client,
    code: &AuthorizationCode,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    let redirect_ok = match (&code.redirect_uri, redirect_uri) {
        (Some(expected), Some(sent)) => expected == sent,
        (Some(_), None) => false,
        (None, Some(sent)) => client.redirect_uris.iter().any(|uri| uri.as_str() == sent),
        (None, None) => true,
    };
    if !redirect_ok {
        return Err(OAuthError::invalid_grant(
            "The redirect_uri does not match the authorization request.",
        ));
    }
    match (&code.challenge, code_verifier) {
        (Some(challenge), Some(verifier)) if challenge.verify(verifier) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant("The code_verifier is wrong.")),
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "The code_verifier is missing; this code was issued with a PKCE challenge.",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "A code_verifier was sent but the authorization request had no code_challenge.",
        )),
        (None, None) => Ok(()),
    }
}
