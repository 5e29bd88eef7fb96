//! The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1). The client and redirect URI
//! are checked first: while either is in doubt nothing may be sent to the redirect URI, so
//! those errors are shown to the user. Every later error goes back to the client.

use crate::authorization::Authorization;
use crate::claim::Claim;
use crate::client::{Client, GrantType, ResponseType};
use crate::code::AuthorizationCode;
use crate::error::{Error, ErrorCode, OAuthError, StoreError};
use crate::issuer::Issue;
use crate::params::Params;
use crate::pkce::{ChallengeMethod, CodeChallenge};
use crate::prompt::{Prompt, SignedIn};
use crate::provider::Provider;
use crate::pushed_request::{request_uri_digest, PushedRequest, REQUEST_URI_PREFIX};
use crate::redirect_uri::{self, RedirectUri};
use crate::scope::Scope;
use crate::secret::{Secret, TokenDigest};
use crate::store::Store;
use crate::telemetry;

/// A validated authorization request, ready for the user's consent.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The requesting client.
    pub client: Client,
    /// What it asks for.
    pub response_type: ResponseType,
    /// Where the answer goes.
    pub redirect_uri: RedirectUri,
    /// The `redirect_uri` parameter as sent, which the token request must repeat.
    pub redirect_uri_param: Option<String>,
    /// The scope to approve.
    pub scope: Scope,
    /// The client's `state`, returned unchanged.
    pub state: Option<String>,
    /// The OpenID Connect `nonce`.
    pub nonce: Option<String>,
    /// The PKCE challenge.
    pub challenge: Option<CodeChallenge>,
    /// The OpenID Connect `prompt`.
    pub prompt: Prompt,
    /// The OpenID Connect `max_age`: the oldest sign-in, in seconds, that may be used.
    pub max_age: Option<i64>,
    /// The OpenID Connect `login_hint`, which prefills the sign-in page.
    pub login_hint: Option<String>,
    /// This server's issuer, sent as `iss` with every response (RFC 9207).
    pub issuer: String,
    /// The pushed request it came from (RFC 9126), used up when the request is answered.
    pub pushed: Option<PushedFrom>,
}

/// Where a request pushed beforehand (RFC 9126) is stored, and when it was pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushedFrom {
    /// The digest of its `request_uri`.
    pub digest: TokenDigest,
    /// When it was pushed: a sign-in after that satisfies its `prompt=login` and `max_age`.
    pub pushed_at: chrono::DateTime<chrono::Utc>,
}

/// How a request reached the server.
#[derive(Debug, Clone, Copy)]
enum Arrival {
    /// Its parameters came with the browser.
    Direct,
    /// Its parameters were pushed before (RFC 9126), and the browser brought the `request_uri`.
    Pushed(PushedFrom),
    /// It is being pushed now.
    Pushing,
}

/// Why validation refused a request, before the refusal is shaped for its endpoint.
enum Refusal {
    /// The client or redirect URI is in doubt.
    Unsafe(OAuthError),
    /// Anything later, which the client may be told at its redirect URI.
    Client(Box<AuthorizationRequest>, OAuthError),
    /// Storage failed.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Why an authorization request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// The client or redirect URI is invalid: show an error page, never redirect.
    #[error("{0}")]
    Page(OAuthError),
    /// Send the user agent to this URL, which carries `error` and `state`.
    #[error("redirect to the client with an error")]
    Redirect(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthorizationRequest {
    /// Whether answers travel in the fragment (implicit grant) rather than the query.
    fn uses_fragment(&self) -> bool {
        self.response_type == ResponseType::Token
    }

    /// The redirect that carries `params`, `state` and `iss` (RFC 9207).
    fn redirect_with(&self, params: &[(&str, &str)]) -> String {
        let mut params = params.to_vec();
        if let Some(state) = &self.state {
            params.push(("state", state));
        }
        params.push(("iss", &self.issuer));
        self.redirect_uri.with_params(&params, self.uses_fragment())
    }

    /// The redirect that tells the client about an error.
    pub fn error_redirect(&self, code: ErrorCode, description: &str) -> String {
        self.redirect_with(&[("error", code.as_str()), ("error_description", description)])
    }

    /// The redirect that tells the client the user said no.
    pub fn deny(&self) -> String {
        self.error_redirect(ErrorCode::AccessDenied, "The user denied the request.")
    }
}

impl<S: Store> Provider<S> {
    /// Validates an authorization request in RFC order: client, redirect URI, then the rest.
    /// A `request_uri` handed out by [`Provider::push_authorization_request`] (RFC 9126) stands
    /// for the parameters its client pushed, which are validated again; every other parameter
    /// sent with it but `client_id` is ignored. Any other `request_uri` (a request object by
    /// reference) is `request_uri_not_supported`.
    pub fn validate_authorization(
        &self,
        params: &Params,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let request_uri = params.single("request_uri").map_err(AuthorizeError::Page)?;
        let validated = match request_uri {
            // Not one of ours: a request object by reference, which is not supported.
            None => self.build_request(params, Arrival::Direct),
            Some(request_uri) if !request_uri.starts_with(REQUEST_URI_PREFIX) => {
                self.build_request(params, Arrival::Direct)
            }
            Some(request_uri) => {
                let pushed = self.pushed_request(params, request_uri)?;
                let from = PushedFrom {
                    digest: pushed.digest,
                    pushed_at: pushed.created_at,
                };
                self.build_request(&pushed.params, Arrival::Pushed(from))
            }
        };
        validated.map_err(|refusal| match refusal {
            Refusal::Unsafe(error) => AuthorizeError::Page(error),
            Refusal::Client(request, error) => {
                AuthorizeError::Redirect(request.error_redirect(error.code, &error.description))
            }
            Refusal::Store(error) => AuthorizeError::Store(error),
        })
    }

    /// Validates a request being pushed (RFC 9126 §2.1) by the same rules; every refusal is
    /// the error the authorization endpoint would give.
    pub(crate) fn validate_pushed(&self, params: &Params) -> Result<AuthorizationRequest, Error> {
        self.build_request(params, Arrival::Pushing)
            .map_err(|refusal| match refusal {
                Refusal::Unsafe(error) | Refusal::Client(_, error) => Error::OAuth(error),
                Refusal::Store(error) => Error::Store(error),
            })
    }

    /// The pushed request `request_uri` names, if `params`' `client_id` may still use it;
    /// otherwise an error page (the parameters, redirect URI included, are unknown).
    fn pushed_request(
        &self,
        params: &Params,
        request_uri: &str,
    ) -> Result<PushedRequest, AuthorizeError> {
        let client_id = params.required("client_id").map_err(AuthorizeError::Page)?;
        let unusable = || {
            AuthorizeError::Page(OAuthError::invalid_request(
                "The request_uri is unknown, expired or already used.",
            ))
        };
        let digest = request_uri_digest(request_uri).ok_or_else(unusable)?;
        self.store
            .find_pushed_request(&digest)?
            .filter(|pushed| pushed.usable_by(client_id, self.now()))
            .ok_or_else(unusable)
    }

    fn build_request(
        &self,
        params: &Params,
        arrival: Arrival,
    ) -> Result<AuthorizationRequest, Refusal> {
        let client_id = params.required("client_id").map_err(Refusal::Unsafe)?;
        let client = self.store.find_client(client_id)?.ok_or_else(|| {
            Refusal::Unsafe(OAuthError::invalid_client("The client is not registered."))
        })?;
        let redirect_param = params.single("redirect_uri").map_err(Refusal::Unsafe)?;
        let openid = params
            .single("scope")
            .ok()
            .flatten()
            .is_some_and(|scope| scope.split(' ').any(|token| token == "openid"));
        let redirect_uri = redirect_uri::resolve(&client.redirect_uris, redirect_param, openid)
            .cloned()
            .ok_or_else(|| {
                Refusal::Unsafe(OAuthError::invalid_request(match redirect_param {
                    Some(_) => "The redirect_uri is not registered for this client.",
                    None => "The redirect_uri is required for this client.",
                }))
            })?;

        // From here on, errors are sent to the client. A repeated `state` cannot be echoed.
        let state = params.single("state").ok().flatten().map(str::to_owned);
        let response_type_param = params.single("response_type").ok().flatten();
        let mut request = AuthorizationRequest {
            client,
            response_type: response_type_param
                .and_then(ResponseType::parse)
                .unwrap_or(ResponseType::Code),
            redirect_uri,
            redirect_uri_param: redirect_param.map(str::to_owned),
            scope: Scope::default(),
            state,
            nonce: None,
            challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            issuer: self.issuer().to_owned(),
            pushed: match arrival {
                Arrival::Pushed(from) => Some(from),
                Arrival::Direct | Arrival::Pushing => None,
            },
        };
        if let Err(error) = self.check_request(params, &mut request, arrival) {
            return Err(Refusal::Client(Box::new(request), error));
        }
        Ok(request)
    }

    fn check_request(
        &self,
        params: &Params,
        request: &mut AuthorizationRequest,
        arrival: Arrival,
    ) -> Result<(), OAuthError> {
        params.single("state")?;
        if params.single("request")?.is_some() {
            return Err(OAuthError::new(
                ErrorCode::RequestNotSupported,
                "Request objects are not supported; send the parameters directly.",
            ));
        }
        if params.single("request_uri")?.is_some() {
            return Err(match arrival {
                Arrival::Pushing => OAuthError::invalid_request(
                    "A pushed authorization request may not hold a request_uri.",
                ),
                Arrival::Direct | Arrival::Pushed(_) => OAuthError::new(
                    ErrorCode::RequestUriNotSupported,
                    "Only request_uri values from the pushed authorization request endpoint are \
                     supported.",
                ),
            });
        }
        if matches!(arrival, Arrival::Direct) && self.requires_pushed_requests(&request.client) {
            return Err(OAuthError::invalid_request(
                "This client must push its authorization requests (RFC 9126).",
            ));
        }
        let response_type = params.required("response_type")?;
        request.response_type = ResponseType::parse(response_type).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "The response_type must be code or token.",
            )
        })?;
        if !request.client.allows_response_type(request.response_type) {
            return Err(OAuthError::unauthorized_client(format!(
                "This client may not use response_type {}.",
                request.response_type.as_str()
            )));
        }
        request.scope = Scope::requested_within(params.single("scope")?, &request.client.scope)?;
        request.nonce = params.single("nonce")?.map(str::to_owned);
        request.prompt = Prompt::parse(params.single("prompt")?)?;
        request.max_age = params
            .single("max_age")?
            .map(|text| {
                text.parse::<u32>().map(i64::from).map_err(|_| {
                    OAuthError::invalid_request("max_age must be a number of seconds.")
                })
            })
            .transpose()?;
        request.login_hint = params.single("login_hint")?.map(str::to_owned);
        if request.response_type == ResponseType::Code {
            request.challenge = CodeChallenge::from_request(
                params.single("code_challenge")?,
                params.single("code_challenge_method")?,
                self.policy.allow_plain_pkce,
            )?;
            let s256 = request
                .challenge
                .as_ref()
                .is_some_and(|challenge| challenge.method == ChallengeMethod::S256);
            if request.client.is_public() && !s256 {
                return Err(OAuthError::invalid_request(
                    "Public clients must send a PKCE code_challenge with method S256.",
                ));
            }
        }
        Ok(())
    }

    /// The user chose Allow: remembers the consent, then records the approval and answers with the redirect that carries the code or token.
    pub fn allow(
        &self,
        request: &AuthorizationRequest,
        signed_in: SignedIn<'_>,
    ) -> Result<String, AuthorizeError> {
        self.remember_consent(signed_in.user.id, &request.client.id, &request.scope)?;
        self.approve(request, signed_in)
    }

    /// The user chose Deny: uses up the pushed request it came from, if any, and answers with
    /// the redirect that says `access_denied`.
    pub fn deny(&self, request: &AuthorizationRequest) -> Result<String, AuthorizeError> {
        self.use_up_pushed(request)?;
        Ok(request.deny())
    }

    /// Claims the pushed request `request` came from, if any: of concurrent answers to one
    /// pushed request, one goes on and the others get an error page.
    fn use_up_pushed(&self, request: &AuthorizationRequest) -> Result<(), AuthorizeError> {
        let Some(from) = request.pushed else {
            return Ok(());
        };
        match self.store.claim_pushed_request(&from.digest, self.now())? {
            Claim::Won(_) => Ok(()),
            Claim::Taken(_) | Claim::Unusable => Err(AuthorizeError::Page(
                OAuthError::invalid_request("The request_uri is expired or already used."),
            )),
        }
    }

    /// Records an approved request and returns the redirect that carries the code (or, for
    /// the implicit grant, the access token in the fragment).
    pub(crate) fn approve(
        &self,
        request: &AuthorizationRequest,
        signed_in: SignedIn<'_>,
    ) -> Result<String, AuthorizeError> {
        self.use_up_pushed(request)?;
        let now = self.now();
        let user = signed_in.user;
        let authorization = Authorization {
            auth_time: Some(signed_in.auth_time),
            nonce: request.nonce.clone(),
            session_id: signed_in.session_id.map(str::to_owned),
            ..Authorization::new(
                &request.client.id,
                Some(user.id),
                request.scope.clone(),
                now,
            )
        };
        self.store.insert_authorization(&authorization)?;
        match request.response_type {
            ResponseType::Code => {
                let secret = Secret::generate();
                self.store.insert_code(&AuthorizationCode {
                    digest: secret.digest(),
                    authorization_id: authorization.id,
                    client_id: request.client.id.clone(),
                    user_id: user.id,
                    redirect_uri: request.redirect_uri_param.clone(),
                    scope: request.scope.clone(),
                    challenge: request.challenge.clone(),
                    created_at: now,
                    expires_at: now + self.policy.code_ttl,
                    used_at: None,
                })?;
                Ok(request.redirect_with(&[("code", secret.expose())]))
            }
            ResponseType::Token => {
                let minted = self.issuer.mint(
                    &Issue {
                        authorization_id: Some(authorization.id),
                        client: &request.client,
                        user_id: Some(user.id),
                        granted_scope: &request.scope,
                        access_scope: &request.scope,
                        with_refresh_token: false,
                        rotated_from: None,
                    },
                    now,
                )?;
                if !minted.tokens.is_empty() {
                    self.store.insert_tokens(&minted.tokens)?;
                }
                telemetry::token_issued(GrantType::Implicit);
                let response = minted.response;
                let expires_in = response.expires_in.to_string();
                Ok(request.redirect_with(&[
                    ("access_token", &response.access_token),
                    ("token_type", response.token_type),
                    ("expires_in", &expires_in),
                    ("scope", &response.scope),
                ]))
            }
        }
    }
}
