//! Building the application in one place: the database and its pool, the [`Provider`], the
//! session middleware (and, around it, [`SessionKeyRotation`]), the security headers every
//! response carries, request ids and the access log ([`AccessLog`]), and every route, served
//! by actix-web; and, when `TESSERA_METRICS_BIND` is set, the metrics on a listener of their
//! own ([`prometheus`]).
//!
//! Request parameters are read by [`crate::params`] (its own size limit and error answers),
//! so no actix `FormConfig`, `QueryConfig` or `JsonConfig` is registered. The server runs
//! `TESSERA_WORKERS` workers with [`BLOCKING_THREADS_PER_WORKER`] blocking threads each, as
//! many bcrypt threads, and a connection pool of `TESSERA_POOL_SIZE` (by default one
//! connection for each of those threads and the purge); see [`crate::off_executor`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer, ResponseError as _};
use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use tessera_domain::signing::Signer;
use tessera_domain::store::SettingStore as _;
use tessera_domain::{Clock, Provider, SystemClock};
use tessera_persistence::{Database, PoolOptions};

use crate::access_log::AccessLog;
use crate::bcrypt_pool::BcryptPool;
use crate::config::{Config, MIN_SECRET_KEY_BYTES};
use crate::content_security_policy;
use crate::error::PageError;
use crate::keys::at_rest::AtRest;
use crate::keys::{KeySettings, Keyring, RELOAD_INTERVAL};
use crate::off_executor::{off_executor, BLOCKING_THREADS_PER_WORKER};
use crate::password::BcryptHasher;
use crate::prometheus;
use crate::purge::PurgeTask;
use crate::routes;
use crate::session_key_rotation::SessionKeyRotation;
use crate::state::AppState;
use crate::templates::Templates;

/// How long a request waits for a pooled connection before answering 503.
pub const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

/// The name of the database setting that holds the session cookie key.
const SESSION_KEY_SETTING: &str = "session_key";

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";

/// Opens and migrates the database, with a pool of `TESSERA_POOL_SIZE` connections (by
/// default one per blocking thread of the server and per [`BcryptPool`] thread, and one for
/// the background purge, [`PurgeTask`]); migrating takes one more connection of its own for
/// a moment. Blocking: call it off the executor in the server.
pub fn open_database(config: &Config) -> anyhow::Result<Database> {
    let url = &config.database_url;
    let database = connect_database(config)?;
    database
        .migrate()
        .with_context(|| format!("TESSERA_DATABASE_URL: cannot migrate {url}"))?;
    Ok(database)
}

/// Opens the pool on `TESSERA_DATABASE_URL` without migrating; an unreachable database
/// fails within [`POOL_CHECKOUT_TIMEOUT`], naming the setting. Blocking.
pub fn connect_database(config: &Config) -> anyhow::Result<Database> {
    let url = &config.database_url;
    let options = PoolOptions {
        max_size: config.pool_size,
        connection_timeout: POOL_CHECKOUT_TIMEOUT,
        ..PoolOptions::default()
    };
    Database::connect(url, options)
        .with_context(|| format!("TESSERA_DATABASE_URL: cannot open {url}"))
}

/// The provider over `database` with the configured bcrypt cost and policy, on the system
/// clock, signing with the database's keys (generated when there are none). Blocking.
pub fn provider(config: &Config, database: Database) -> anyhow::Result<Provider<Database>> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let signer = keyring(config, database.clone(), Arc::clone(&clock))?;
    Ok(provider_with(config, database, clock, Arc::new(signer)))
}

/// The provider over `database`, reading the time from `clock` and signing with `signer`.
pub fn provider_with(
    config: &Config,
    database: Database,
    clock: Arc<dyn Clock>,
    signer: Arc<dyn Signer>,
) -> Provider<Database> {
    Provider::new(
        database,
        clock,
        Arc::new(BcryptHasher {
            cost: config.bcrypt_cost,
        }),
        config.policy.clone(),
        &config.issuer,
        signer,
    )
}

/// The keyring over `database`: sealed under `TESSERA_SECRET_KEY` when set (keys sealed
/// under `TESSERA_SECRET_KEY_PREVIOUS` are re-sealed under it), signing keys generated for
/// every algorithm that has none. Blocking.
pub fn keyring(
    config: &Config,
    database: Database,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Keyring> {
    let mut at_rest = AtRest::new(config.secret_key_bytes())
        .context("TESSERA_SECRET_KEY: cannot derive the key-encryption key")?;
    if let Some(previous) = config.secret_key_previous_bytes() {
        at_rest = at_rest
            .with_previous(previous)
            .context("TESSERA_SECRET_KEY_PREVIOUS: cannot derive the key-encryption key")?;
    }
    let settings = KeySettings {
        activation_delay: config.key_activation_delay,
        token_ttl: config.policy.signed_token_ttl(),
        reload_interval: RELOAD_INTERVAL,
    };
    Keyring::open(Arc::new(database), clock, at_rest, settings)
        .context("cannot load the signing keys")
}

/// The session cookie keys: the current one, and the one it replaced, still accepted.
struct SessionKeys {
    current: Key,
    previous: Option<Key>,
}

/// The session cookie keys: derived from `TESSERA_SECRET_KEY` (and the previous one from
/// `TESSERA_SECRET_KEY_PREVIOUS`), or else a random 64-byte key kept in the database so that
/// every process shares it. Blocking.
fn session_keys(config: &Config, database: &Database) -> anyhow::Result<SessionKeys> {
    if let Some(secret) = config.secret_key_bytes() {
        let previous = config
            .secret_key_previous_bytes()
            .map(|previous| {
                cookie_key(previous).context("TESSERA_SECRET_KEY_PREVIOUS: unusable key")
            })
            .transpose()?;
        return Ok(SessionKeys {
            current: cookie_key(secret).context("TESSERA_SECRET_KEY: unusable key")?,
            previous,
        });
    }
    let mut fresh = [0u8; 64];
    OsRng.fill_bytes(&mut fresh);
    let stored = database
        .setting_or_insert(SESSION_KEY_SETTING, &STANDARD.encode(fresh))
        .context("TESSERA_DATABASE_URL: cannot load the session key")?;
    let bytes = STANDARD
        .decode(stored.trim())
        .context("the stored session key is not base64")?;
    let current = Key::try_from(bytes.as_slice())
        .context("the stored session key is shorter than 64 bytes")?;
    Ok(SessionKeys {
        current,
        previous: None,
    })
}

/// The cookie key of a configured secret: the secret itself when it has 64 bytes or more,
/// else expanded from it (it needs at least [`MIN_SECRET_KEY_BYTES`]).
fn cookie_key(secret: &[u8]) -> anyhow::Result<Key> {
    if let Ok(key) = Key::try_from(secret) {
        return Ok(key);
    }
    anyhow::ensure!(
        secret.len() >= MIN_SECRET_KEY_BYTES,
        "shorter than {MIN_SECRET_KEY_BYTES} bytes"
    );
    Ok(Key::derive_from(secret))
}

/// `Strict-Transport-Security` when the issuer is https: two years, subdomains included.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// Headers on every response: the default Content-Security-Policy
/// ([`content_security_policy::DEFAULT`]), no framing by other sites (clickjacking), no
/// MIME sniffing, no `Referer` leaking codes or tokens in URLs to other sites, and HSTS when
/// the issuer is `https`.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy::DEFAULT,
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY))
    } else {
        headers
    }
}

/// A running server.
pub struct Application {
    port: u16,
    server: Server,
    /// The metrics server and its port, when `TESSERA_METRICS_BIND` is set.
    metrics: Option<(u16, Server)>,
    keyring: Arc<Keyring>,
    /// Stops with the application.
    _purge: PurgeTask,
}

impl Application {
    /// Opens and migrates the database, loads the session key and the signing keys, binds
    /// `TESSERA_BIND` (and `TESSERA_METRICS_BIND` when set, installing the metrics recorder)
    /// and starts the background purge. Each failure names the setting at fault.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Self::build`], with the provider and the keyring reading the time from `clock`
    /// (tests pass a `FixedClock`).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let templates = Templates::shared().map_err(anyhow::Error::msg)?;
        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("TESSERA_BIND: cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = config
            .metrics_bind
            .as_ref()
            .map(|bind| {
                TcpListener::bind(bind)
                    .with_context(|| format!("TESSERA_METRICS_BIND: cannot listen on {bind}"))
            })
            .transpose()?;
        let metrics_recorder = metrics_listener
            .as_ref()
            .map(|_| prometheus::recorder().context("TESSERA_METRICS_BIND"))
            .transpose()?;
        let mut config = config;
        if config.issuer_from_bind {
            config.issuer = format!("http://{}", listener.local_addr()?);
        }
        let config = Arc::new(config);
        if config.secret_key_previous.is_some() {
            tracing::warn!(
                "TESSERA_SECRET_KEY_PREVIOUS is set: session cookies under the previous secret \
                 are still accepted; remove it once they have expired (TESSERA_SESSION_TTL)"
            );
        }
        let (database, keys, keyring) = {
            let config = Arc::clone(&config);
            let clock = Arc::clone(&clock);
            off_executor(move || {
                let database = open_database(&config)?;
                let keys = session_keys(&config, &database)?;
                let keyring = keyring(&config, database.clone(), clock)?;
                Ok::<_, anyhow::Error>((database, keys, Arc::new(keyring)))
            })
            .await?
        };
        let state = web::Data::new(AppState {
            provider: Arc::new(provider_with(
                &config,
                database.clone(),
                clock,
                Arc::clone(&keyring) as Arc<dyn Signer>,
            )),
            database,
            keyring: Arc::clone(&keyring),
            bcrypt: Arc::new(
                BcryptPool::start(config.workers).context("cannot start the bcrypt threads")?,
            ),
            config: Arc::clone(&config),
            templates,
        });
        let metrics = match (metrics_listener, metrics_recorder) {
            (Some(listener), Some(recorder)) => {
                let metrics_port = listener.local_addr()?.port();
                let server = prometheus::serve(listener, recorder, state.database.clone())?;
                tracing::info!(port = metrics_port, "serving metrics");
                Some((metrics_port, server))
            }
            _ => None,
        };
        let purge = PurgeTask::start(Arc::clone(&state.provider));
        let secure = config.secure_cookies();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(
                    SessionMiddleware::builder(CookieSessionStore::default(), keys.current.clone())
                        .cookie_name(SESSION_COOKIE.to_owned())
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_secure(secure)
                        .cookie_content_security(CookieContentSecurity::Private)
                        .build(),
                )
                .wrap(SessionKeyRotation::new(
                    SESSION_COOKIE,
                    keys.current.clone(),
                    keys.previous.clone(),
                    secure,
                ))
                .wrap(security_headers(secure))
                .wrap(AccessLog)
                .configure(routes::configure)
                .default_service(web::to(|| async { PageError::NotFound.error_response() }))
        })
        .client_request_timeout(
            config
                .request_timeout
                .to_std()
                .unwrap_or(Duration::from_secs(10)),
        )
        .workers(config.workers)
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        .listen(listener)
        .with_context(|| format!("TESSERA_BIND: cannot listen on {}", config.bind))?
        .run();
        tracing::info!(
            port,
            issuer = %config.issuer,
            workers = config.workers,
            pool_size = config.pool_size,
            "listening"
        );
        Ok(Self {
            port,
            server,
            metrics,
            keyring,
            _purge: purge,
        })
    }

    /// The server's signing keys (the same keyring its handlers use).
    pub fn keyring(&self) -> Arc<Keyring> {
        Arc::clone(&self.keyring)
    }

    /// The port it listens on (useful with `TESSERA_BIND=127.0.0.1:0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port the metrics listen on, when `TESSERA_METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until the server is stopped; the metrics server stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some((_, metrics)) = self.metrics else {
            return self.server.await;
        };
        let metrics_handle = metrics.handle();
        let served = async move {
            let served = self.server.await;
            metrics_handle.stop(true).await;
            served
        };
        let (served, _) = futures_util::future::join(served, metrics).await;
        served
    }
}
