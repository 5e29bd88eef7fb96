//! # tessera-web: Tessera's HTTP layer, pages and command line
//!
//! This crate turns HTTP into calls of the domain's [`Provider`](tessera_domain::Provider)
//! and back. It holds no OAuth rules and no SQL (it does not depend on Diesel). Its rules:
//! - A handler extracts ([`extract::ClientAuth`] for the endpoints apps call,
//!   [`extract::BearerToken`] for protected resources, [`params::PageForm`] for people's
//!   forms, [`session::TypedSession`]), calls the
//!   provider through [`off_executor::off_executor`] — the only way blocking database and
//!   bcrypt work runs — and maps the answer to a response.
//! - Errors are one type per response family ([`error`]): RFC JSON for apps, bearer
//!   challenges for resources, HTML pages for people. Internal failures are logged once with
//!   their cause chain and never shown; unavailable storage answers 503.
//! - Configuration ([`config`]) is read once from `TESSERA_*` variables and passed down;
//!   there are no global settings.
//! - Pages are Tera templates embedded in the binary ([`templates`]), auto-escaped and never
//!   cached; every form carries a CSRF token bound to the encrypted cookie session, and a
//!   sign-in expires after `TESSERA_SESSION_TTL`; a cookie under the key
//!   `TESSERA_SECRET_KEY_PREVIOUS` replaced is re-issued under the current one
//!   ([`session_key_rotation`]). Every response forbids framing and sniffing.
//! - [`keys`] holds the server's signing keys: generated on first start, sealed at rest under
//!   `TESSERA_SECRET_KEY`, rotated by `tessera keys rotate`, published at `/oauth/jwks`, and
//!   shared by every process through the database.
//! - [`purge`] deletes the rows past their use every ten minutes in the background, as
//!   `tessera purge` does on demand.
//! - [`logging`] writes `tracing` events to stderr as text or JSON; [`access_log`] gives
//!   every request an id (`X-Request-Id`), a span and one access log line, and counts it;
//!   [`prometheus`] serves the metrics on their own listener (`TESSERA_METRICS_BIND`).
//! - [`startup`] builds the whole application in one place; [`routes`] has one module per
//!   endpoint; [`cli`] is the `tessera` command line.

pub mod access_log;
pub mod bcrypt_pool;
pub mod cli;
pub mod config;
pub mod config_file;
pub mod content_security_policy;
pub mod error;
pub mod extract;
pub mod keys;
pub mod logging;
pub mod off_executor;
pub mod params;
pub mod password;
pub mod prometheus;
pub mod purge;
pub mod routes;
pub mod session;
pub mod session_key_rotation;
pub mod startup;
pub mod state;
pub mod templates;
