//! Configuration, read once from `TESSERA_*` environment variables, and from an optional TOML
//! file ([`crate::config_file`]; the environment wins), and passed down explicitly.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TESSERA_BIND` | address to listen on (`host:port`; port `0` picks a free one) | `127.0.0.1:5000` |
//! | `TESSERA_DATABASE_URL` | `sqlite://path` or `postgres://...` | `sqlite://tessera.db` |
//! | `TESSERA_ISSUER` | the server's public base URL | `http://<TESSERA_BIND>` |
//! | `TESSERA_SECRET_KEY` | cookie key material, at least 32 bytes (64 or more are used as the key itself, fewer are expanded with HKDF); when absent a random 64-byte key is kept in the database setting `session_key`, shared by every process | - |
//! | `TESSERA_SECRET_KEY_PREVIOUS` | the secret `TESSERA_SECRET_KEY` replaces, checked the same way: session cookies encrypted under it are still accepted (and re-issued under the new key), and signing keys sealed under it are re-sealed under the new one at start-up. Only read together with `TESSERA_SECRET_KEY`: set alone, start-up ends with an error | - |
//! | `TESSERA_INSECURE_TRANSPORT` | `1` allows a plain-http issuer that is not loopback | `0` |
//! | `TESSERA_BCRYPT_COST` | bcrypt cost for user passwords, 4 to 31 | `12` |
//! | `TESSERA_CODE_TTL` | authorization code lifetime, seconds | `300` |
//! | `TESSERA_ACCESS_TOKEN_TTL` | opaque access token (and ID token) lifetime, seconds | `3600` |
//! | `TESSERA_ACCESS_TOKEN_FORMAT` | `opaque` or `jwt` (RFC 9068, signed with the server's EdDSA key): how access tokens look for clients whose `access_token_format` is not set | `opaque` |
//! | `TESSERA_JWT_ACCESS_TOKEN_TTL` | JWT access token lifetime, seconds; short, because a resource server that validates JWTs itself learns of a revocation only at expiry | `300` |
//! | `TESSERA_REFRESH_TOKEN_TTL` | refresh token lifetime, seconds | `2592000` |
//! | `TESSERA_PKCE_ALLOW_PLAIN` | `1` accepts the PKCE `plain` method from confidential clients (public clients always need `S256`) | `0` |
//! | `TESSERA_DEVICE_CODE_TTL` | device code (and user code) lifetime, seconds (RFC 8628) | `600` |
//! | `TESSERA_REGISTRATION` | who may register clients at `/oauth/register` (RFC 7591): `open` (anyone), `token` (the holder of an initial access token from `tessera registration-token create`) or `off` (no endpoint; registered clients stay manageable) | `open` |
//! | `TESSERA_REQUIRE_PAR` | `1` requires every client to push its authorization requests (RFC 9126) to `/oauth/par`; `/oauth/authorize` then refuses a request without `request_uri`. Clients registered with `require_pushed_authorization_requests` must push either way | `0` |
//! | `TESSERA_REFRESH_REUSE_GRACE_SECONDS` | seconds during which a rotated refresh token may be retried | `0` |
//! | `TESSERA_SESSION_TTL` | seconds a browser sign-in lasts; older sessions count as signed out | `43200` |
//! | `TESSERA_KEY_ACTIVATION_DELAY` | seconds after `tessera keys rotate` before the new signing key signs (it is published at once); at least the JWK Set's cache lifetime, 3000 s, plus a minute | `3600` |
//! | `TESSERA_MAX_FAILURES` | failed sign-ins per username (or client authentications per client) in 15 minutes before a lockout (ten times as many per address); lockouts last 1 minute, doubling up to 1 hour | `5` |
//! | `TESSERA_TRUSTED_PROXIES` | comma-separated IPs and CIDRs of reverse proxies whose `X-Forwarded-For` names the client address | - |
//! | `TESSERA_REQUEST_TIMEOUT` | seconds a client has to send its request headers, and its whole body; a stalled body gets 408 | `10` |
//! | `TESSERA_WORKERS` | actix workers (event loops) of this process, 1 to 1024; each has [`BLOCKING_THREADS_PER_WORKER`](crate::off_executor::BLOCKING_THREADS_PER_WORKER) blocking threads, and the bcrypt pool has one thread per worker | available CPUs |
//! | `TESSERA_POOL_SIZE` | database connections of this process, 2 to 10000; below the default, a request may wait under load for a connection another holds, and gets a 503 after [`POOL_CHECKOUT_TIMEOUT`](crate::startup::POOL_CHECKOUT_TIMEOUT) (see [`crate::off_executor`]) | [`default_pool_size`]: `9 × TESSERA_WORKERS + 1` |
//! | `RUST_LOG` | log filter (tracing `EnvFilter` syntax); the access log, one line per request, has the target `tessera::access` | `info` |
//! | `TESSERA_LOG_FORMAT` | `text` or `json`: how log lines on stderr are written ([`crate::logging`]) | `text` on a terminal, else `json` |
//! | `TESSERA_METRICS_BIND` | address (`host:port`) of a listener of its own serving Prometheus metrics at `GET /metrics` ([`crate::prometheus`]); never served on `TESSERA_BIND`. Keep it private: loopback, or a network only the scraper reaches | off |
//! | `TESSERA_CONFIG` | a TOML file with any of the settings above, keyed without the `TESSERA_` prefix in lower case (`bind = "0.0.0.0:5000"`, `access_token_ttl = 900`, `rust_log = "debug"`); `tessera --config PATH` names it too. The environment wins; an unknown key is an error naming it | - |

use std::net::IpAddr;

use chrono::Duration;
use ipnet::IpNet;
use secrecy::{ExposeSecret as _, SecretString};
use tessera_domain::jwt_access_token::AccessTokenFormat;
use tessera_domain::registration::RegistrationMode;
use tessera_domain::throttle::ThrottleRules;
use tessera_domain::Policy;
use tessera_persistence::DatabaseUrl;
use url::Url;

use crate::config_file::Layered;
use crate::keys::DEFAULT_ACTIVATION_DELAY;
use crate::logging::LogFormat;
use crate::off_executor::blocking_threads;

/// How long a browser sign-in lasts by default: 12 hours. Cookie sessions cannot be revoked
/// on the server, so each one carries its sign-in time and expires on its own.
pub const DEFAULT_SESSION_TTL: Duration = Duration::hours(12);
/// The default `TESSERA_REQUEST_TIMEOUT`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::seconds(10);

/// The smallest `TESSERA_SECRET_KEY` accepted, in bytes.
pub const MIN_SECRET_KEY_BYTES: usize = 32;

/// The range of `TESSERA_WORKERS`.
pub const WORKERS_RANGE: std::ops::RangeInclusive<usize> = 1..=1024;

/// The range of `TESSERA_POOL_SIZE`: at least 2, so that the background purge never holds
/// the only connection while requests wait.
pub const POOL_SIZE_RANGE: std::ops::RangeInclusive<u32> = 2..=10_000;

/// The default `TESSERA_WORKERS`: one per available CPU (1 if that cannot be known).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The default `TESSERA_POOL_SIZE` for `workers` actix workers: one connection per thread
/// that may use one at a time — the [`blocking_threads`] of every worker, the bcrypt pool's
/// one thread per worker, and the background purge.
pub fn default_pool_size(workers: usize) -> u32 {
    let connections = blocking_threads(workers) + workers + 1;
    u32::try_from(connections).unwrap_or(u32::MAX)
}

/// A configuration value that could not be used; `Display` is one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// Every setting [`Config::from_lookup`] reads, by environment variable name.
pub const SETTINGS: [&str; 27] = [
    "TESSERA_BIND",
    "TESSERA_DATABASE_URL",
    "TESSERA_ISSUER",
    "TESSERA_SECRET_KEY",
    "TESSERA_SECRET_KEY_PREVIOUS",
    "TESSERA_INSECURE_TRANSPORT",
    "TESSERA_BCRYPT_COST",
    "TESSERA_CODE_TTL",
    "TESSERA_ACCESS_TOKEN_TTL",
    "TESSERA_ACCESS_TOKEN_FORMAT",
    "TESSERA_JWT_ACCESS_TOKEN_TTL",
    "TESSERA_REFRESH_TOKEN_TTL",
    "TESSERA_PKCE_ALLOW_PLAIN",
    "TESSERA_DEVICE_CODE_TTL",
    "TESSERA_REGISTRATION",
    "TESSERA_REQUIRE_PAR",
    "TESSERA_REFRESH_REUSE_GRACE_SECONDS",
    "TESSERA_SESSION_TTL",
    "TESSERA_KEY_ACTIVATION_DELAY",
    "TESSERA_MAX_FAILURES",
    "TESSERA_TRUSTED_PROXIES",
    "TESSERA_REQUEST_TIMEOUT",
    "TESSERA_WORKERS",
    "TESSERA_POOL_SIZE",
    "RUST_LOG",
    "TESSERA_LOG_FORMAT",
    "TESSERA_METRICS_BIND",
];

impl ConfigError {
    /// A problem with `variable`.
    pub(crate) fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// Everything the server needs to start, validated.
#[derive(Clone)]
pub struct Config {
    /// `TESSERA_BIND`: the `host:port` to listen on.
    pub bind: String,
    /// `TESSERA_DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `TESSERA_ISSUER`: the public base URL, exactly as configured (without a trailing
    /// slash); when unset, `http://` and the address the server listens on.
    pub issuer: String,
    /// Whether `issuer` was derived from `TESSERA_BIND` (and so follows the real port when
    /// the bind port is 0).
    pub issuer_from_bind: bool,
    /// `TESSERA_SECRET_KEY`: cookie key material; `None` keeps a random key in the database.
    pub secret_key: Option<SecretString>,
    /// `TESSERA_SECRET_KEY_PREVIOUS`: the secret `secret_key` replaces, still accepted for
    /// reading cookies and signing keys (never set without `secret_key`).
    pub secret_key_previous: Option<SecretString>,
    /// `TESSERA_INSECURE_TRANSPORT`.
    pub insecure_transport: bool,
    /// `TESSERA_BCRYPT_COST`.
    pub bcrypt_cost: u32,
    /// Lifetimes and switches from `TESSERA_*_TTL` (`TESSERA_SESSION_TTL` among them),
    /// `TESSERA_ACCESS_TOKEN_FORMAT`, `TESSERA_PKCE_ALLOW_PLAIN` and
    /// `TESSERA_REFRESH_REUSE_GRACE_SECONDS`.
    pub policy: Policy,
    /// `TESSERA_KEY_ACTIVATION_DELAY`: how long a rotated-in signing key is published
    /// before it signs.
    pub key_activation_delay: Duration,
    /// `TESSERA_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// `TESSERA_REQUEST_TIMEOUT`: how long reading a request's headers, and its body, may take.
    pub request_timeout: Duration,
    /// `TESSERA_WORKERS`: the actix workers of this process, and the bcrypt pool's threads.
    pub workers: usize,
    /// `TESSERA_POOL_SIZE`: the most database connections this process opens.
    pub pool_size: u32,
    /// `RUST_LOG`.
    pub log_filter: String,
    /// `TESSERA_LOG_FORMAT`; `None` chooses by whether stderr is a terminal.
    pub log_format: Option<LogFormat>,
    /// `TESSERA_METRICS_BIND`: the `host:port` of the metrics listener; `None` serves no
    /// metrics.
    pub metrics_bind: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url.to_string())
            .field("issuer", &self.issuer)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "secret_key_previous",
                &self.secret_key_previous.as_ref().map(|_| "[redacted]"),
            )
            .field("insecure_transport", &self.insecure_transport)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("policy", &self.policy)
            .field("key_activation_delay", &self.key_activation_delay)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("request_timeout", &self.request_timeout)
            .field("workers", &self.workers)
            .field("pool_size", &self.pool_size)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("metrics_bind", &self.metrics_bind)
            .finish()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the environment and the configuration file `--config` or `TESSERA_CONFIG`
    /// names, the environment winning.
    pub fn load(config_file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let layered = Layered::load(config_file)?;
        Self::from_lookup(|name| layered.lookup(name).0)
    }

    /// Each setting's effective value (secrets shown as `(set)`, a database password as
    /// `***`), for `tessera config`.
    pub fn effective_settings(&self) -> Vec<(&'static str, String)> {
        SETTINGS
            .iter()
            .map(|setting| (*setting, self.effective_value(setting).unwrap_or_default()))
            .collect()
    }

    fn effective_value(&self, setting: &str) -> Option<String> {
        let seconds = |duration: Duration| duration.num_seconds().to_string();
        let flag = |on: bool| if on { "1" } else { "0" }.to_owned();
        let secret =
            |key: &Option<SecretString>| if key.is_some() { "(set)" } else { "(unset)" }.to_owned();
        let policy = &self.policy;
        Some(match setting {
            "TESSERA_BIND" => self.bind.clone(),
            "TESSERA_DATABASE_URL" => self.database_url.to_string(),
            "TESSERA_ISSUER" => self.issuer.clone(),
            "TESSERA_SECRET_KEY" => secret(&self.secret_key),
            "TESSERA_SECRET_KEY_PREVIOUS" => secret(&self.secret_key_previous),
            "TESSERA_INSECURE_TRANSPORT" => flag(self.insecure_transport),
            "TESSERA_BCRYPT_COST" => self.bcrypt_cost.to_string(),
            "TESSERA_CODE_TTL" => seconds(policy.code_ttl),
            "TESSERA_ACCESS_TOKEN_TTL" => seconds(policy.access_token_ttl),
            "TESSERA_ACCESS_TOKEN_FORMAT" => policy.access_token_format.as_str().to_owned(),
            "TESSERA_JWT_ACCESS_TOKEN_TTL" => seconds(policy.jwt_access_token_ttl),
            "TESSERA_REFRESH_TOKEN_TTL" => seconds(policy.refresh_token_ttl),
            "TESSERA_PKCE_ALLOW_PLAIN" => flag(policy.allow_plain_pkce),
            "TESSERA_DEVICE_CODE_TTL" => seconds(policy.device_code_ttl),
            "TESSERA_REGISTRATION" => policy.registration.as_str().to_owned(),
            "TESSERA_REQUIRE_PAR" => flag(policy.require_pushed_requests),
            "TESSERA_REFRESH_REUSE_GRACE_SECONDS" => seconds(policy.refresh_reuse_grace),
            "TESSERA_SESSION_TTL" => seconds(policy.session_ttl),
            "TESSERA_KEY_ACTIVATION_DELAY" => seconds(self.key_activation_delay),
            "TESSERA_MAX_FAILURES" => policy.throttle.max_failures.to_string(),
            "TESSERA_TRUSTED_PROXIES" => self
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            "TESSERA_REQUEST_TIMEOUT" => seconds(self.request_timeout),
            "TESSERA_WORKERS" => self.workers.to_string(),
            "TESSERA_POOL_SIZE" => self.pool_size.to_string(),
            "RUST_LOG" => self.log_filter.clone(),
            "TESSERA_LOG_FORMAT" => self
                .log_format
                .map_or("text on a terminal, else json", LogFormat::as_str)
                .to_owned(),
            "TESSERA_METRICS_BIND" => self
                .metrics_bind
                .clone()
                .unwrap_or_else(|| "off".to_owned()),
            _ => return None,
        })
    }

    /// Reads variables through `lookup` (a test passes a map); unset and empty mean default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let bind = get("TESSERA_BIND").unwrap_or_else(|| "127.0.0.1:5000".to_owned());
        let bind = validate_bind("TESSERA_BIND", bind.trim())?;
        let metrics_bind = get("TESSERA_METRICS_BIND")
            .map(|text| validate_bind("TESSERA_METRICS_BIND", text.trim()))
            .transpose()?;
        let log_format = log_format(get("TESSERA_LOG_FORMAT"))?;

        let database_text =
            get("TESSERA_DATABASE_URL").unwrap_or_else(|| "sqlite://tessera.db".to_owned());
        let database_url = DatabaseUrl::parse(database_text.trim())
            .map_err(|error| ConfigError::new("TESSERA_DATABASE_URL", error.to_string()))?;

        let insecure_transport = flag(&get, "TESSERA_INSECURE_TRANSPORT")?;
        let configured_issuer = get("TESSERA_ISSUER");
        let issuer_from_bind = configured_issuer.is_none();
        let issuer_text = configured_issuer.unwrap_or_else(|| format!("http://{bind}"));
        let issuer = validate_issuer(issuer_text.trim(), insecure_transport)?;

        let secret_key = secret(&get, "TESSERA_SECRET_KEY")?;
        let secret_key_previous = secret(&get, "TESSERA_SECRET_KEY_PREVIOUS")?;
        if secret_key.is_none() && secret_key_previous.is_some() {
            return Err(ConfigError::new(
                "TESSERA_SECRET_KEY_PREVIOUS",
                "is only read together with TESSERA_SECRET_KEY (set that to the new secret)",
            ));
        }

        let bcrypt_cost = number(&get, "TESSERA_BCRYPT_COST", 12)?;
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(ConfigError::new(
                "TESSERA_BCRYPT_COST",
                format!("{bcrypt_cost} is outside bcrypt's range 4 to 31"),
            ));
        }

        let defaults = Policy::default();
        let policy = Policy {
            code_ttl: seconds(&get, "TESSERA_CODE_TTL", defaults.code_ttl, false)?,
            access_token_ttl: seconds(
                &get,
                "TESSERA_ACCESS_TOKEN_TTL",
                defaults.access_token_ttl,
                false,
            )?,
            jwt_access_token_ttl: seconds(
                &get,
                "TESSERA_JWT_ACCESS_TOKEN_TTL",
                defaults.jwt_access_token_ttl,
                false,
            )?,
            access_token_format: access_token_format(get("TESSERA_ACCESS_TOKEN_FORMAT"))?,
            refresh_token_ttl: seconds(
                &get,
                "TESSERA_REFRESH_TOKEN_TTL",
                defaults.refresh_token_ttl,
                false,
            )?,
            allow_plain_pkce: flag(&get, "TESSERA_PKCE_ALLOW_PLAIN")?,
            refresh_reuse_grace: seconds(
                &get,
                "TESSERA_REFRESH_REUSE_GRACE_SECONDS",
                defaults.refresh_reuse_grace,
                true,
            )?,
            insecure_transport,
            throttle: ThrottleRules {
                max_failures: number(&get, "TESSERA_MAX_FAILURES", defaults.throttle.max_failures)?
                    .max(1),
                ..defaults.throttle
            },
            session_ttl: seconds(&get, "TESSERA_SESSION_TTL", DEFAULT_SESSION_TTL, false)?,
            require_pushed_requests: flag(&get, "TESSERA_REQUIRE_PAR")?,
            device_code_ttl: seconds(
                &get,
                "TESSERA_DEVICE_CODE_TTL",
                defaults.device_code_ttl,
                false,
            )?,
            registration: registration_mode(get("TESSERA_REGISTRATION"))?,
        };
        let trusted_proxies = trusted_proxies(get("TESSERA_TRUSTED_PROXIES").as_deref())?;

        let request_timeout = seconds(
            &get,
            "TESSERA_REQUEST_TIMEOUT",
            DEFAULT_REQUEST_TIMEOUT,
            false,
        )?;
        let key_activation_delay = seconds(
            &get,
            "TESSERA_KEY_ACTIVATION_DELAY",
            DEFAULT_ACTIVATION_DELAY,
            true,
        )?;
        let workers = within(&get, "TESSERA_WORKERS", default_workers(), WORKERS_RANGE)?;
        let pool_size = within(
            &get,
            "TESSERA_POOL_SIZE",
            default_pool_size(workers),
            POOL_SIZE_RANGE,
        )?;

        Ok(Self {
            bind,
            database_url,
            issuer,
            issuer_from_bind,
            secret_key,
            secret_key_previous,
            insecure_transport,
            bcrypt_cost,
            policy,
            key_activation_delay,
            trusted_proxies,
            request_timeout,
            workers,
            pool_size,
            log_filter: get("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            log_format,
            metrics_bind,
        })
    }

    /// Whether cookies must carry `Secure` (the issuer is https).
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The secret key's bytes, if one was configured.
    pub fn secret_key_bytes(&self) -> Option<&[u8]> {
        self.secret_key
            .as_ref()
            .map(|key| key.expose_secret().as_bytes())
    }

    /// The previous secret key's bytes, if one was configured.
    pub fn secret_key_previous_bytes(&self) -> Option<&[u8]> {
        self.secret_key_previous
            .as_ref()
            .map(|key| key.expose_secret().as_bytes())
    }
}

/// A secret of at least [`MIN_SECRET_KEY_BYTES`] bytes, if set.
fn secret(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    match get(name) {
        Some(key) if key.len() < MIN_SECRET_KEY_BYTES => Err(ConfigError::new(
            name,
            format!("must be at least {MIN_SECRET_KEY_BYTES} bytes long"),
        )),
        Some(key) => Ok(Some(SecretString::from(key))),
        None => Ok(None),
    }
}

/// `opaque` (the default) or `jwt`, in any case.
fn access_token_format(text: Option<String>) -> Result<AccessTokenFormat, ConfigError> {
    let Some(text) = text else {
        return Ok(AccessTokenFormat::default());
    };
    AccessTokenFormat::parse(&text.trim().to_ascii_lowercase()).ok_or_else(|| {
        ConfigError::new(
            "TESSERA_ACCESS_TOKEN_FORMAT",
            format!("{text:?} is neither opaque nor jwt"),
        )
    })
}

/// `open` (the default), `token` or `off`, in any case.
fn registration_mode(text: Option<String>) -> Result<RegistrationMode, ConfigError> {
    let Some(text) = text else {
        return Ok(RegistrationMode::default());
    };
    RegistrationMode::parse(&text.trim().to_ascii_lowercase()).ok_or_else(|| {
        ConfigError::new(
            "TESSERA_REGISTRATION",
            format!("{text:?} is not one of open, token, off"),
        )
    })
}

/// Comma-separated IPs and CIDRs; a bare IP is a one-address network.
fn trusted_proxies(text: Option<&str>) -> Result<Vec<IpNet>, ConfigError> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "TESSERA_TRUSTED_PROXIES",
                        format!("{entry:?} is neither an IP address nor a CIDR network"),
                    )
                })
        })
        .collect()
}

/// `text` or `json`, in any case; `None` when unset.
fn log_format(text: Option<String>) -> Result<Option<LogFormat>, ConfigError> {
    let Some(text) = text else {
        return Ok(None);
    };
    LogFormat::parse(&text).map(Some).ok_or_else(|| {
        ConfigError::new(
            "TESSERA_LOG_FORMAT",
            format!("{text:?} is neither text nor json"),
        )
    })
}

/// A `host:port` for the setting `name`; port `0` picks a free one.
fn validate_bind(name: &'static str, bind: &str) -> Result<String, ConfigError> {
    let invalid = || {
        ConfigError::new(
            name,
            format!("{bind:?} is not host:port (for example 127.0.0.1:5000)"),
        )
    };
    let (host, port) = bind.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    Ok(bind.to_owned())
}

fn validate_issuer(text: &str, insecure_transport: bool) -> Result<String, ConfigError> {
    let issuer = Url::parse(text)
        .map_err(|error| ConfigError::new("TESSERA_ISSUER", format!("{text:?}: {error}")))?;
    match issuer.scheme() {
        "https" => {}
        "http" if insecure_transport || is_loopback(&issuer) => {}
        "http" => {
            return Err(ConfigError::new(
                "TESSERA_ISSUER",
                format!(
                    "{text} is plain http on a non-loopback host; use https or set TESSERA_INSECURE_TRANSPORT=1"
                ),
            ))
        }
        other => {
            return Err(ConfigError::new(
                "TESSERA_ISSUER",
                format!("the scheme {other:?} is not http or https"),
            ))
        }
    }
    if issuer.query().is_some() || issuer.fragment().is_some() {
        return Err(ConfigError::new(
            "TESSERA_ISSUER",
            "must not have a query or fragment",
        ));
    }
    Ok(text.strip_suffix('/').unwrap_or(text).to_owned())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn flag(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match get(name)
        .map(|value| value.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(ConfigError::new(
            name,
            format!("{other:?} is not a boolean (use 1 or 0)"),
        )),
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(name, format!("{text:?} is not a whole number"))),
    }
}

/// A whole number in `range`, or `default` when unset (a default outside the range is kept:
/// it was computed, not configured).
fn within<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(text) = get(name) else {
        return Ok(default);
    };
    let value: T = text
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(name, format!("{text:?} is not a whole number")))?;
    if !range.contains(&value) {
        return Err(ConfigError::new(
            name,
            format!(
                "{value} is out of range ({} to {})",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(value)
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
    zero_allowed: bool,
) -> Result<Duration, ConfigError> {
    let Some(text) = get(name) else {
        return Ok(default);
    };
    let value: i64 = text.trim().parse().map_err(|_| {
        ConfigError::new(name, format!("{text:?} is not a whole number of seconds"))
    })?;
    let minimum = i64::from(!zero_allowed);
    if !(minimum..=10 * 365 * 24 * 3600).contains(&value) {
        return Err(ConfigError::new(
            name,
            format!("{value} is out of range ({minimum} to 315360000 seconds)"),
        ));
    }
    Ok(Duration::seconds(value))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn trusted_proxies_are_ips_and_cidrs_and_max_failures_defaults_to_five() {
        let config = config(&[("TESSERA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]).unwrap();
        let expected: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        assert_eq!(config.trusted_proxies, expected);
        assert_eq!(config.policy.throttle.max_failures, 5);
        assert!(config_default_has_no_proxies());
        let error = self::config(&[("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8,proxy")]).err();
        assert_eq!(error.map(|e| e.variable), Some("TESSERA_TRUSTED_PROXIES"));
    }

    fn config_default_has_no_proxies() -> bool {
        config(&[]).unwrap().trusted_proxies.is_empty()
    }

    #[test]
    fn defaults_listen_on_loopback_with_a_local_sqlite_file() {
        let config = config(&[]).unwrap();
        assert_eq!(config.bind, "127.0.0.1:5000");
        assert_eq!(config.issuer, "http://127.0.0.1:5000");
        assert_eq!(config.bcrypt_cost, 12);
        assert!(!config.secure_cookies());
        assert!(config.secret_key.is_none());
        assert_eq!(config.policy.session_ttl, Duration::seconds(43_200));
        assert_eq!(config.key_activation_delay, Duration::seconds(3600));
        assert_eq!(config.policy.access_token_format, AccessTokenFormat::Opaque);
        assert_eq!(config.policy.jwt_access_token_ttl, Duration::seconds(300));
        assert!(!config.policy.require_pushed_requests);
    }

    #[test]
    fn port_zero_is_accepted() {
        assert!(config(&[("TESSERA_BIND", "127.0.0.1:0")]).is_ok());
    }

    #[test]
    fn each_error_names_its_variable() {
        for (name, value) in [
            ("TESSERA_BIND", "nonsense"),
            ("TESSERA_DATABASE_URL", "mysql://x"),
            ("TESSERA_ISSUER", "ftp://example.com"),
            ("TESSERA_SECRET_KEY", "short"),
            (
                "TESSERA_SECRET_KEY_PREVIOUS",
                "a previous secret without a current one",
            ),
            ("TESSERA_INSECURE_TRANSPORT", "maybe"),
            ("TESSERA_BCRYPT_COST", "3"),
            ("TESSERA_BCRYPT_COST", "twelve"),
            ("TESSERA_CODE_TTL", "0"),
            ("TESSERA_ACCESS_TOKEN_TTL", "-5"),
            ("TESSERA_REFRESH_TOKEN_TTL", "x"),
            ("TESSERA_JWT_ACCESS_TOKEN_TTL", "0"),
            ("TESSERA_ACCESS_TOKEN_FORMAT", "paseto"),
            ("TESSERA_PKCE_ALLOW_PLAIN", "2"),
            ("TESSERA_REFRESH_REUSE_GRACE_SECONDS", "-1"),
            ("TESSERA_SESSION_TTL", "0"),
            ("TESSERA_KEY_ACTIVATION_DELAY", "-1"),
            ("TESSERA_WORKERS", "0"),
            ("TESSERA_WORKERS", "many"),
            ("TESSERA_WORKERS", "1025"),
            ("TESSERA_POOL_SIZE", "1"),
            ("TESSERA_POOL_SIZE", "-4"),
            ("TESSERA_POOL_SIZE", "10001"),
            ("TESSERA_LOG_FORMAT", "logfmt"),
            ("TESSERA_METRICS_BIND", "9100"),
            ("TESSERA_METRICS_BIND", "127.0.0.1:port"),
        ] {
            let error = config(&[(name, value)]).unwrap_err();
            assert_eq!(error.variable, name, "{value}");
            let line = error.to_string();
            assert!(line.starts_with(name) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn a_previous_secret_is_checked_like_the_secret_and_never_shown() {
        let current = "the current secret, at least 32 bytes long";
        let previous = "the previous secret, at least 32 bytes long";
        let error = config(&[
            ("TESSERA_SECRET_KEY", current),
            ("TESSERA_SECRET_KEY_PREVIOUS", "short"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "TESSERA_SECRET_KEY_PREVIOUS");
        assert!(error.message.contains("32 bytes"), "{error}");
        let config = config(&[
            ("TESSERA_SECRET_KEY", current),
            ("TESSERA_SECRET_KEY_PREVIOUS", previous),
        ])
        .unwrap();
        assert_eq!(config.secret_key_bytes(), Some(current.as_bytes()));
        assert_eq!(
            config.secret_key_previous_bytes(),
            Some(previous.as_bytes())
        );
        let shown = format!("{config:?}");
        assert!(
            !shown.contains(current) && !shown.contains(previous),
            "{shown}"
        );
    }

    #[test]
    fn the_settings_list_is_what_the_configuration_reads_and_shows() {
        let read = std::cell::RefCell::new(Vec::new());
        Config::from_lookup(|name| {
            read.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        let mut read = read.into_inner();
        read.sort();
        read.dedup();
        let mut listed: Vec<String> = SETTINGS.iter().map(|s| (*s).to_owned()).collect();
        listed.sort();
        assert_eq!(read, listed);
        let config = config(&[]).unwrap();
        for setting in SETTINGS {
            assert!(config.effective_value(setting).is_some(), "{setting}");
        }
    }

    /// The names in the first column of the markdown table under `heading` in `text`.
    fn table_names(text: &str, heading: &str) -> Vec<String> {
        let start = text.find(heading).unwrap_or(0);
        text[start..]
            .lines()
            .skip_while(|line| !line.contains("| --- |"))
            .skip(1)
            .take_while(|line| line.trim_start_matches("//! ").starts_with('|'))
            .filter_map(|line| {
                let cell = line.trim_start_matches("//! ").split('|').nth(1)?;
                Some(cell.trim().trim_matches('`').to_owned())
            })
            .collect()
    }

    #[test]
    fn the_configuration_references_list_every_setting_and_no_other() {
        let mut expected: Vec<String> = SETTINGS.iter().map(|s| (*s).to_owned()).collect();
        expected.push(crate::config_file::CONFIG_VARIABLE.to_owned());
        expected.sort();
        let sources = [
            (
                "web/src/config.rs",
                include_str!("config.rs"),
                "| variable |",
            ),
            (
                "README.md",
                include_str!("../../README.md"),
                "## Configuration",
            ),
        ];
        for (name, text, heading) in sources {
            let mut documented = table_names(text, heading);
            documented.sort();
            assert_eq!(documented, expected, "the configuration table of {name}");
        }
    }

    #[test]
    fn registration_is_open_unless_set_to_token_or_off() {
        assert_eq!(
            config(&[]).unwrap().policy.registration,
            RegistrationMode::Open
        );
        let off = config(&[("TESSERA_REGISTRATION", "off")]).unwrap();
        assert_eq!(off.policy.registration, RegistrationMode::Off);
        let error = config(&[("TESSERA_REGISTRATION", "closed")]).unwrap_err();
        assert_eq!(error.variable, "TESSERA_REGISTRATION");
    }

    #[test]
    fn plain_http_off_loopback_needs_insecure_transport() {
        let error = config(&[("TESSERA_ISSUER", "http://auth.example.com")]).unwrap_err();
        assert_eq!(error.variable, "TESSERA_ISSUER");
        assert!(config(&[
            ("TESSERA_ISSUER", "http://auth.example.com"),
            ("TESSERA_INSECURE_TRANSPORT", "1"),
        ])
        .is_ok());
        let https = config(&[("TESSERA_ISSUER", "https://auth.example.com")]).unwrap();
        assert!(https.secure_cookies());
    }

    #[test]
    fn lifetimes_and_switches_reach_the_policy() {
        let config = config(&[
            ("TESSERA_CODE_TTL", "60"),
            ("TESSERA_ACCESS_TOKEN_TTL", "120"),
            ("TESSERA_REFRESH_TOKEN_TTL", "240"),
            ("TESSERA_PKCE_ALLOW_PLAIN", "1"),
            ("TESSERA_REFRESH_REUSE_GRACE_SECONDS", "0"),
            ("TESSERA_BCRYPT_COST", "4"),
            ("TESSERA_SESSION_TTL", "600"),
            ("TESSERA_KEY_ACTIVATION_DELAY", "0"),
            ("TESSERA_ACCESS_TOKEN_FORMAT", " JWT "),
            ("TESSERA_JWT_ACCESS_TOKEN_TTL", "60"),
            ("TESSERA_REQUIRE_PAR", "1"),
            ("TESSERA_DEVICE_CODE_TTL", "90"),
            ("TESSERA_REGISTRATION", " Token "),
        ])
        .unwrap();
        assert_eq!(config.policy.registration, RegistrationMode::Token);
        assert!(config.policy.require_pushed_requests);
        assert_eq!(config.policy.device_code_ttl, Duration::seconds(90));
        assert_eq!(config.policy.access_token_format, AccessTokenFormat::Jwt);
        assert_eq!(config.policy.jwt_access_token_ttl, Duration::seconds(60));
        assert_eq!(config.policy.code_ttl, Duration::seconds(60));
        assert_eq!(config.policy.access_token_ttl, Duration::seconds(120));
        assert_eq!(config.policy.refresh_token_ttl, Duration::seconds(240));
        assert!(config.policy.allow_plain_pkce);
        assert_eq!(config.bcrypt_cost, 4);
        assert_eq!(config.policy.session_ttl, Duration::seconds(600));
        assert_eq!(config.key_activation_delay, Duration::zero());
    }

    #[test]
    fn workers_default_to_the_cpus_and_the_pool_to_a_connection_per_thread() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.workers, default_workers());
        assert!(defaults.workers >= 1);
        assert_eq!(defaults.pool_size, default_pool_size(defaults.workers));
        // Eight blocking threads and one bcrypt thread per worker, and the purge.
        assert_eq!(default_pool_size(1), 10);
        assert_eq!(default_pool_size(4), 37);

        let three = config(&[("TESSERA_WORKERS", " 3 ")]).unwrap();
        assert_eq!((three.workers, three.pool_size), (3, 28));
    }

    #[test]
    fn a_pool_size_may_be_set_apart_from_the_workers() {
        let small = config(&[("TESSERA_WORKERS", "2"), ("TESSERA_POOL_SIZE", "2")]).unwrap();
        assert_eq!((small.workers, small.pool_size), (2, 2));
        let large = config(&[("TESSERA_POOL_SIZE", "10000")]).unwrap();
        assert_eq!(large.pool_size, 10_000);
        let error = config(&[("TESSERA_POOL_SIZE", "1")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "TESSERA_POOL_SIZE: 1 is out of range (2 to 10000)"
        );
    }

    #[test]
    fn the_log_format_is_chosen_by_the_terminal_unless_set() {
        assert_eq!(config(&[]).unwrap().log_format, None);
        let json = config(&[("TESSERA_LOG_FORMAT", " JSON ")]).unwrap();
        assert_eq!(json.log_format, Some(LogFormat::Json));
        let text = config(&[("TESSERA_LOG_FORMAT", "text")]).unwrap();
        assert_eq!(text.log_format, Some(LogFormat::Text));
        let error = config(&[("TESSERA_LOG_FORMAT", "yaml")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "TESSERA_LOG_FORMAT: \"yaml\" is neither text nor json"
        );
    }

    #[test]
    fn metrics_are_off_unless_a_metrics_address_is_set() {
        assert_eq!(config(&[]).unwrap().metrics_bind, None);
        let on = config(&[("TESSERA_METRICS_BIND", " 127.0.0.1:9100 ")]).unwrap();
        assert_eq!(on.metrics_bind.as_deref(), Some("127.0.0.1:9100"));
        let error = config(&[("TESSERA_METRICS_BIND", ":9100")]).unwrap_err();
        assert_eq!(error.variable, "TESSERA_METRICS_BIND");
    }
}
