//! The token endpoint (RFC 6749 §3.2): the grants, each for an already authenticated client.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::accounts::SignIn;
use crate::authorization::{Authorization, AuthorizationId};
use crate::claim::Claim;
use crate::client::{Client, GrantType};
use crate::code::{AuthorizationCode, CodeStatus};
use crate::device_code::PollOutcome;
use crate::error::{Error, ErrorCode, OAuthError, StoreError};
use crate::id_token::{IdTokenSubject, OPENID_SCOPE};
use crate::issuer::Issue;
use crate::params::Params;
use crate::provider::Provider;
use crate::scope::Scope;
use crate::secret::TokenDigest;
use crate::store::Store;
use crate::telemetry::{self, Replay};
use crate::token::{RefreshStatus, Token, TokenResponse};
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
    /// RFC 8628 §3.4.
    DeviceCode {
        /// The device code from the device authorization response.
        device_code: String,
    },
}

/// The grants the token endpoint answers, in the order metadata lists them (the implicit
/// grant is a response type of the authorization endpoint, not a token request).
pub const TOKEN_GRANTS: [GrantType; 5] = [
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::ClientCredentials,
    GrantType::Password,
    GrantType::DeviceCode,
];

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
            Some(GrantType::DeviceCode) => Ok(Self::DeviceCode {
                device_code: params.required("device_code")?.to_owned(),
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
            Self::DeviceCode { .. } => GrantType::DeviceCode,
        }
    }
}

impl<S: Store> Provider<S> {
    /// Answers a token request from an authenticated client.
    pub fn exchange(&self, client: &Client, request: TokenRequest) -> Result<TokenResponse, Error> {
        self.exchange_from(client, request, None)
    }

    /// [`Self::exchange`] for a request from `address`, which the password grant's
    /// brute-force throttle counts failures against.
    pub fn exchange_from(
        &self,
        client: &Client,
        request: TokenRequest,
        address: Option<IpAddr>,
    ) -> Result<TokenResponse, Error> {
        let grant_type = request.grant_type();
        if !client.allows_grant(grant_type) {
            return Err(OAuthError::unauthorized_client(format!(
                "This client may not use the {} grant.",
                grant_type.as_str()
            ))
            .into());
        }
        let now = self.now();
        let response = match request {
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
            } => self.password(
                client,
                (&username, &password),
                address,
                scope.as_deref(),
                now,
            ),
            TokenRequest::ClientCredentials { scope } => {
                let scope = Scope::requested_within(scope.as_deref(), &client.scope)?;
                let authorization = Authorization::new(&client.id, None, scope, now);
                self.start_family(&authorization, client, false, now)
            }
            TokenRequest::DeviceCode { device_code } => {
                self.exchange_device_code(client, &device_code, now)
            }
        }?;
        telemetry::token_issued(grant_type);
        Ok(response)
    }

    /// RFC 8628 §3.4, §3.5: a poll with a device code. Each unanswered poll is recorded, so
    /// the next one too soon gets `slow_down` and a longer interval. Approved, the tokens
    /// belong to the user who approved, and only one poll (one conditional write) gets them.
    fn exchange_device_code(
        &self,
        client: &Client,
        device_code: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        let digest = TokenDigest::of(device_code);
        let invalid = || {
            OAuthError::invalid_grant(
                "The device code is invalid, was redeemed, or was issued to another client.",
            )
        };
        let stored = self.store.find_device_code(&digest)?.ok_or_else(invalid)?;
        match stored.poll(&client.id, now) {
            PollOutcome::Invalid => Err(invalid().into()),
            PollOutcome::Expired => Err(OAuthError::new(
                ErrorCode::ExpiredToken,
                "The device code has expired; start a new device authorization.",
            )
            .into()),
            PollOutcome::Denied => Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "The user denied the device authorization.",
            )
            .into()),
            PollOutcome::SlowDown(interval) => {
                self.store.record_device_poll(&digest, now, interval)?;
                Err(OAuthError::new(
                    ErrorCode::SlowDown,
                    format!(
                        "Polling too fast; wait {} seconds between polls.",
                        interval.num_seconds()
                    ),
                )
                .into())
            }
            PollOutcome::Pending => {
                self.store
                    .record_device_poll(&digest, now, stored.interval)?;
                Err(OAuthError::new(
                    ErrorCode::AuthorizationPending,
                    "The user has not answered yet.",
                )
                .into())
            }
            PollOutcome::Approved => {
                // The user signed in to approve (auth_time); a device code's creation
                // stands in when none was recorded.
                let approved_at = stored.auth_time.unwrap_or(stored.created_at);
                if !self.user_may_act(stored.user_id, approved_at)? {
                    return Err(invalid().into());
                }
                let authorization = Authorization {
                    auth_time: stored.auth_time,
                    ..Authorization::new(&client.id, stored.user_id, stored.scope.clone(), now)
                };
                let with_refresh_token = client.allows_grant(GrantType::RefreshToken);
                let needs_family = self.issuer.needs_family(client, with_refresh_token);
                let family = self.fresh_family(&authorization, client, with_refresh_token);
                let issue = if needs_family {
                    family
                } else {
                    Issue {
                        authorization_id: None,
                        ..family
                    }
                };
                let minted = self.issuer.mint(&issue, now)?;
                match self.store.claim_device_code(
                    &digest,
                    now,
                    needs_family.then_some(&authorization),
                    &minted.tokens,
                )? {
                    Claim::Won(_) => {
                        self.with_id_token_of(minted.response, client, &authorization, false, now)
                    }
                    Claim::Taken(_) | Claim::Unusable => Err(invalid().into()),
                }
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
        let digest = TokenDigest::of(code);
        let unusable = || {
            OAuthError::invalid_grant(
                "The authorization code is invalid, expired, or was issued to another client.",
            )
        };
        let stored = self.store.find_code(&digest)?.ok_or_else(unusable)?;
        match stored.status_for(&client.id, now) {
            CodeStatus::Redeemable => {}
            CodeStatus::Replayed => return self.replayed_code(&stored, now),
            CodeStatus::Unusable => return Err(unusable().into()),
        }
        if !self.user_may_act(Some(stored.user_id), stored.created_at)? {
            return Err(unusable().into());
        }
        if let Err(refusal) = check_code_binding(
            client,
            &stored,
            redirect_uri.as_deref(),
            code_verifier.as_deref(),
        ) {
            // The code was presented, so it is burned (RFC 9700 §4.8.1).
            return match self.store.claim_code(&digest, now, &[])? {
                Claim::Taken(code) => self.replayed_code(&code, now),
                Claim::Won(_) | Claim::Unusable => Err(refusal.into()),
            };
        }
        let minted = self.issuer.mint(
            &Issue {
                authorization_id: Some(stored.authorization_id),
                client,
                user_id: Some(stored.user_id),
                granted_scope: &stored.scope,
                access_scope: &stored.scope,
                with_refresh_token: client.allows_grant(GrantType::RefreshToken),
                rotated_from: None,
            },
            now,
        )?;
        match self.store.claim_code(&digest, now, &minted.tokens)? {
            Claim::Won(_) => {
                self.with_id_token(minted.response, client, stored.authorization_id, true, now)
            }
            Claim::Taken(code) => self.replayed_code(&code, now),
            Claim::Unusable => Err(unusable().into()),
        }
    }

    /// Adds an ID token to `response` when its scope holds `openid` and a user is behind it,
    /// with the family's `auth_time` (and its `nonce`, on the code exchange).
    fn with_id_token(
        &self,
        response: TokenResponse,
        client: &Client,
        family: AuthorizationId,
        with_nonce: bool,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        if !wants_id_token(&response) {
            return Ok(response);
        }
        match self.store.find_authorization(family)? {
            Some(authorization) => {
                self.with_id_token_of(response, client, &authorization, with_nonce, now)
            }
            None => Ok(response),
        }
    }

    /// [`Self::with_id_token`] for a family already at hand.
    fn with_id_token_of(
        &self,
        mut response: TokenResponse,
        client: &Client,
        authorization: &Authorization,
        with_nonce: bool,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        if !wants_id_token(&response) {
            return Ok(response);
        }
        let Some(user_id) = authorization.user_id else {
            return Ok(response);
        };
        let nonce = authorization.nonce.as_deref().filter(|_| with_nonce);
        response.id_token = Some(self.issuer.id_token(
            &IdTokenSubject {
                client,
                user_id,
                auth_time: authorization.auth_time,
                nonce,
                access_token: &response.access_token,
            },
            now,
        )?);
        Ok(response)
    }

    /// RFC 6749 §4.1.2: a code used twice revokes every token issued from it.
    fn replayed_code(
        &self,
        code: &AuthorizationCode,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        self.store
            .revoke_authorization(code.authorization_id, now)?;
        tracing::warn!(
            client_id = %code.client_id,
            authorization_id = %code.authorization_id.0,
            "authorization code presented again: the tokens issued for it are revoked"
        );
        telemetry::replay_detected(Replay::AuthorizationCode);
        Err(OAuthError::invalid_grant(
            "The authorization code was already used; the tokens issued for it are revoked.",
        )
        .into())
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
        let current = self.store.find_token(&digest)?.ok_or_else(invalid)?;
        let status = current.refresh_status_for(&client.id, now);
        if status == RefreshStatus::Unusable {
            return Err(invalid().into());
        }
        // Check the scope before rotating, so that a bad request does not burn the token.
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
        let issue = Issue {
            authorization_id: Some(current.authorization_id),
            client,
            user_id: current.user_id,
            granted_scope: &current.scope,
            access_scope: &access_scope,
            with_refresh_token: true,
            rotated_from: Some(&digest),
        };
        if status == RefreshStatus::Rotated {
            return self.reused_refresh_token(&current, &issue, now);
        }
        let minted = self.issuer.mint(&issue, now)?;
        match self
            .store
            .claim_refresh_token(&digest, now, &minted.tokens)?
        {
            Claim::Won(_) => self.with_id_token(
                minted.response,
                client,
                current.authorization_id,
                false,
                now,
            ),
            Claim::Taken(token) => self.reused_refresh_token(&token, &issue, now),
            Claim::Unusable => Err(invalid().into()),
        }
    }

    /// RFC 9700 §4.14.2: a rotated refresh token presented again revokes its whole family,
    /// unless it is a retry within `TESSERA_REFRESH_REUSE_GRACE_SECONDS`: then the pair the
    /// earlier attempt minted is revoked and a fresh one replaces it, so the chain never
    /// forks. A retry after that pair was itself rotated is a reuse like any other.
    fn reused_refresh_token(
        &self,
        token: &Token,
        retry: &Issue<'_>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        if self.within_reuse_grace(token, now) {
            let minted = self.issuer.mint(retry, now)?;
            if self
                .store
                .retry_rotation(&token.digest, now, &minted.tokens)?
            {
                return self.with_id_token(
                    minted.response,
                    retry.client,
                    token.authorization_id,
                    false,
                    now,
                );
            }
        }
        self.store
            .revoke_authorization(token.authorization_id, now)?;
        tracing::warn!(
            client_id = %token.client_id,
            authorization_id = %token.authorization_id.0,
            "rotated refresh token presented again: every token of its authorization is revoked"
        );
        telemetry::replay_detected(Replay::RefreshToken);
        Err(OAuthError::invalid_grant(
            "The refresh token was already used; every token of this grant is revoked.",
        )
        .into())
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

    /// Whether tokens may still be issued for `user` on an approval given at `approved_at`:
    /// the user exists, is not disabled, and was not disabled since (a code or device
    /// approval given before the account was disabled is refused, even once it is enabled
    /// again).
    fn user_may_act(
        &self,
        user: Option<UserId>,
        approved_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(user) = user else {
            return Ok(false);
        };
        Ok(self
            .store
            .find_user(user)?
            .is_some_and(|user| user.accepts_token_issued_at(approved_at)))
    }

    fn password(
        &self,
        client: &Client,
        (username, password): (&str, &str),
        address: Option<IpAddr>,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        let scope = Scope::requested_within(scope, &client.scope)?;
        let user = match self.sign_in_throttled(username, password, address)? {
            SignIn::User(user) => user,
            SignIn::Refused { .. } => {
                return Err(
                    OAuthError::invalid_grant("The username or password is incorrect.").into(),
                )
            }
            SignIn::Locked { retry_after } => {
                return Err(OAuthError::locked(ErrorCode::InvalidGrant, retry_after).into())
            }
        };
        let authorization = Authorization {
            auth_time: Some(now),
            ..Authorization::new(&client.id, Some(user.id), scope, now)
        };
        let with_refresh_token = client.allows_grant(GrantType::RefreshToken);
        let response = self.start_family(&authorization, client, with_refresh_token, now)?;
        self.with_id_token_of(response, client, &authorization, false, now)
    }

    /// The first tokens of a new family: the whole scope.
    fn fresh_family<'a>(
        &self,
        authorization: &'a Authorization,
        client: &'a Client,
        with_refresh_token: bool,
    ) -> Issue<'a> {
        Issue {
            authorization_id: Some(authorization.id),
            client,
            user_id: authorization.user_id,
            granted_scope: &authorization.scope,
            access_scope: &authorization.scope,
            with_refresh_token,
            rotated_from: None,
        }
    }

    /// Starts a token family: mints its first tokens and stores them with `authorization`,
    /// in one write. A JWT access token alone needs no family: then nothing is written at
    /// all, and the token names no family.
    fn start_family(
        &self,
        authorization: &Authorization,
        client: &Client,
        with_refresh_token: bool,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, Error> {
        let issue = self.fresh_family(authorization, client, with_refresh_token);
        if !self.issuer.needs_family(client, with_refresh_token) {
            let stateless = Issue {
                authorization_id: None,
                ..issue
            };
            return Ok(self.issuer.mint(&stateless, now)?.response);
        }
        let minted = self.issuer.mint(&issue, now)?;
        self.store
            .insert_authorization_with_tokens(authorization, &minted.tokens)?;
        Ok(minted.response)
    }
}

/// Whether a token response's scope asks for an ID token.
fn wants_id_token(response: &TokenResponse) -> bool {
    response.scope.split(' ').any(|scope| scope == OPENID_SCOPE)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_endpoint_parses_exactly_the_grants_it_advertises() {
        for grant in GrantType::ALL {
            let params = Params::new(vec![
                ("grant_type".to_owned(), grant.as_str().to_owned()),
                ("code".to_owned(), "c".to_owned()),
                ("refresh_token".to_owned(), "r".to_owned()),
                ("username".to_owned(), "u".to_owned()),
                ("password".to_owned(), "p".to_owned()),
                ("device_code".to_owned(), "d".to_owned()),
            ]);
            let parsed = TokenRequest::parse(&params).map(|request| request.grant_type());
            assert_eq!(
                parsed.ok(),
                TOKEN_GRANTS.contains(&grant).then_some(grant),
                "{grant:?}"
            );
        }
    }
}
