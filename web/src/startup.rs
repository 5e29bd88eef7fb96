//! Building the application in one place: the database, the [`Provider`], the session
//! middleware, the extractor limits, and every route, served by actix-web.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, Service as _};
use actix_web::{web, App, HttpServer, ResponseError as _};
use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use tessera_domain::store::SettingStore as _;
use tessera_domain::{Provider, SystemClock};
use tessera_persistence::{Database, PoolOptions};
use tracing::Instrument as _;

use crate::config::Config;
use crate::error::{PageError, TokenError};
use crate::off_executor::{off_executor, BLOCKING_THREADS_PER_WORKER};
use crate::params::BODY_LIMIT;
use crate::password::BcryptHasher;
use crate::routes;
use crate::templates::Templates;

/// How long a request waits for a pooled connection before answering 503.
pub const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

/// The name of the database setting that holds the session cookie key.
const SESSION_KEY_SETTING: &str = "session_key";

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";

/// What every handler shares, registered once as `web::Data<AppState>`.
pub struct AppState {
    /// The authorization server over the database.
    pub provider: Arc<Provider<Database>>,
    /// The database itself, for health checks.
    pub database: Database,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// The page templates.
    pub templates: &'static Templates,
}

/// Opens and migrates the database. Blocking: call it off the executor in the server.
pub fn open_database(config: &Config) -> anyhow::Result<Database> {
    let url = &config.database_url;
    let options = PoolOptions {
        max_size: u32::try_from(BLOCKING_THREADS_PER_WORKER).unwrap_or(16),
        connection_timeout: POOL_CHECKOUT_TIMEOUT,
    };
    let database = Database::connect(url, options)
        .with_context(|| format!("TESSERA_DATABASE_URL: cannot open {url}"))?;
    database
        .migrate()
        .with_context(|| format!("TESSERA_DATABASE_URL: cannot migrate {url}"))?;
    Ok(database)
}

/// The provider over `database` with the configured bcrypt cost and policy.
pub fn provider(config: &Config, database: Database) -> Provider<Database> {
    Provider::new(
        database,
        Arc::new(SystemClock),
        Arc::new(BcryptHasher {
            cost: config.bcrypt_cost,
        }),
        config.policy.clone(),
    )
}

/// The session cookie key: derived from `TESSERA_SECRET_KEY`, or else a random 64-byte key
/// kept in the database so that every process shares it. Blocking.
fn session_key(config: &Config, database: &Database) -> anyhow::Result<Key> {
    if let Some(secret) = config.secret_key_bytes() {
        return Key::try_from(secret)
            .or_else(|_| Ok::<_, anyhow::Error>(Key::derive_from(secret)))
            .context("TESSERA_SECRET_KEY: unusable key");
    }
    let mut fresh = [0u8; 64];
    OsRng.fill_bytes(&mut fresh);
    let stored = database
        .setting_or_insert(SESSION_KEY_SETTING, &STANDARD.encode(fresh))
        .context("TESSERA_DATABASE_URL: cannot load the session key")?;
    let bytes = STANDARD
        .decode(stored.trim())
        .context("the stored session key is not base64")?;
    Key::try_from(bytes.as_slice()).context("the stored session key is shorter than 64 bytes")
}

/// A running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Opens and migrates the database, loads the session key, and binds `TESSERA_BIND`.
    /// Each failure names the setting at fault.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let templates = Templates::shared().map_err(anyhow::Error::msg)?;
        let config = Arc::new(config);
        let (database, key) = {
            let config = Arc::clone(&config);
            off_executor(move || {
                let database = open_database(&config)?;
                let key = session_key(&config, &database)?;
                Ok::<_, anyhow::Error>((database, key))
            })
            .await?
        };
        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("TESSERA_BIND: cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            provider: Arc::new(provider(&config, database.clone())),
            database,
            config: Arc::clone(&config),
            templates,
        });
        let secure = config.secure_cookies();
        let server =
            HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(web::PayloadConfig::new(BODY_LIMIT))
                    .app_data(web::FormConfig::default().limit(BODY_LIMIT).error_handler(
                        |error, _| TokenError::invalid_request(error.to_string()).into(),
                    ))
                    .app_data(web::QueryConfig::default().error_handler(|error, _| {
                        TokenError::invalid_request(error.to_string()).into()
                    }))
                    .app_data(web::JsonConfig::default().limit(BODY_LIMIT).error_handler(
                        |error, _| TokenError::invalid_request(error.to_string()).into(),
                    ))
                    .app_data(
                        web::PathConfig::default().error_handler(|_, _| PageError::NotFound.into()),
                    )
                    .wrap(
                        SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                            .cookie_name(SESSION_COOKIE.to_owned())
                            .cookie_http_only(true)
                            .cookie_same_site(SameSite::Lax)
                            .cookie_secure(secure)
                            .cookie_content_security(CookieContentSecurity::Private)
                            .build(),
                    )
                    .wrap_fn(|req, service| {
                        let span = tracing::info_span!(
                            "request",
                            method = %req.method(),
                            path = %req.path(),
                        );
                        let response = service.call(req);
                        async move {
                            let response = response.await;
                            match &response {
                                Ok(response) => {
                                    tracing::info!(status = response.status().as_u16(), "answered");
                                }
                                Err(error) => tracing::info!(
                                    status = error.as_response_error().status_code().as_u16(),
                                    "answered"
                                ),
                            }
                            response
                        }
                        .instrument(span)
                    })
                    .configure(routes::configure)
                    .default_service(web::to(|| async { PageError::NotFound.error_response() }))
            })
            .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
            .listen(listener)
            .with_context(|| format!("TESSERA_BIND: cannot listen on {}", config.bind))?
            .run();
        tracing::info!(port, issuer = %config.issuer, "listening");
        Ok(Self { port, server })
    }

    /// The port it listens on (useful with `TESSERA_BIND=127.0.0.1:0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
