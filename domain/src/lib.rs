//! # tessera-domain: the OAuth 2.0 rules, with no I/O
//!
//! This crate is where Tessera's behaviour is decided. It knows nothing of HTTP or SQL: the web
//! layer parses requests into these types and calls the [`Provider`] off the async executor;
//! the persistence layer implements the [`store`] traits.
//!
//! The model, in the order a request meets it:
//! - [`client`]: registered clients, their one [`AuthMethod`], grant and response types, scope.
//! - [`client_auth`]: who is calling the token endpoint (RFC 6749 §2.3).
//! - [`redirect_uri`]: redirect URIs, matched exactly (RFC 9700 §2.1).
//! - [`scope`]: scope sets; a request beyond the registered scope is `invalid_scope`.
//! - [`authorize`]: the authorization endpoint (RFC 6749 §4.1.1, §4.2.1): which errors may be
//!   redirected, and what the consent page approves.
//! - [`pushed_request`]: authorization requests pushed by the client beforehand (RFC 9126),
//!   referred to by a single-use `request_uri`.
//! - [`device_code`]: the device authorization grant (RFC 8628): device and user codes,
//!   the user's answer on `/device`, and what each poll of the token endpoint gets.
//! - [`pkce`]: S256 challenges (RFC 7636), required for public clients.
//! - [`authorization`], [`code`], [`token`]: a family of tokens (one approval), its
//!   single-use code, and the access and refresh tokens issued under it. Tokens rotate on
//!   refresh; a code or refresh token presented twice revokes the whole family. [`claim`]:
//!   how a single-use credential is used up, once, with its tokens stored in the same step.
//! - [`consent`]: what a user agreed to share with a client, remembered across requests.
//! - [`issuer`]: the one place tokens and token responses are minted.
//! - [`jwt_access_token`]: access tokens as signed JWTs (RFC 9068), opt-in per client or
//!   server-wide: stored nowhere, revoked by a deny-list of their `jti`.
//! - [`token_endpoint`]: the grants `authorization_code`, `refresh_token`, `password`,
//!   `client_credentials` (RFC 6749 §4, §6) and the device code (RFC 8628 §3.4).
//! - [`revocation`] (RFC 7009), [`introspection`] (RFC 7662) and [`bearer`] (RFC 6750):
//!   ending, describing and checking tokens.
//! - [`id_token`] and [`userinfo`]: what OpenID Connect tells a client about its user.
//! - [`prompt`]: what the authorization endpoint does with a valid request (sign in, consent
//!   page, or straight back to the client).
//! - [`metadata`]: what the server supports, as discovery documents list it.
//! - [`accounts`]: sign-up and sign-in; passwords go through a [`PasswordHasher`].
//! - [`browser_session`]: each sign-in recorded, so sign-out and password changes end it
//!   everywhere.
//! - [`user_admin`]: what an operator does to accounts: disable (sign-in refused, sessions
//!   ended, tokens revoked), enable, reset a password, delete; sessions across users.
//! - [`secret`]: every token, code and client secret is 256 random bits, stored as SHA-256.
//! - [`signing`] and [`signing_key`]: the JWS algorithms, the [`signing::Signer`] that holds
//!   the server's keys, and the rules of key rotation (which key signs, which are published).
//! - [`purge`]: which rows a purge deletes once past their use, keeping what reuse detection
//!   needs.
//! - [`telemetry`]: what the rules count (tokens issued, replays, throttled attempts)
//!   through the `metrics` facade, recorded only when the server exports metrics.
//! - [`error`]: the RFC error codes; [`clock`] and [`policy`]: time and lifetimes.

pub mod accounts;
pub mod authorization;
pub mod authorize;
pub mod bearer;
pub mod browser_session;
pub mod claim;
pub mod client;
pub mod client_auth;
pub mod client_registry;
pub mod clock;
pub mod code;
pub mod consent;
pub mod device_code;
pub mod error;
pub mod id_token;
pub mod introspection;
pub mod issuer;
pub mod jwt_access_token;
pub mod logout;
pub mod metadata;
pub mod params;
pub mod pkce;
pub mod policy;
pub mod prompt;
pub mod provider;
pub mod purge;
pub mod pushed_request;
pub mod redirect_uri;
pub mod registration;
pub mod revocation;
pub mod scope;
pub mod secret;
pub mod signing;
pub mod signing_key;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod store_contract;
pub mod telemetry;
pub mod throttle;
pub mod token;
pub mod token_endpoint;
pub mod user;
pub mod user_admin;
pub mod userinfo;

#[cfg(test)]
mod device_scenarios;
#[cfg(test)]
mod jwt_scenarios;
#[cfg(test)]
mod memory_store;
#[cfg(test)]
mod par_scenarios;
#[cfg(test)]
mod scenarios;

pub use client::{
    AuthMethod, Client, ClientOrigin, ClientRegistration, GrantType, Registered, ResponseType,
};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ErrorCode, OAuthError, StoreError};
pub use params::Params;
pub use policy::Policy;
pub use provider::Provider;

pub use scope::Scope;
pub use secret::{Secret, TokenDigest};
pub use user::{PasswordHasher, User, UserId};
