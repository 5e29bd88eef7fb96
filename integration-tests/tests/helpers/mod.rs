//! The spawned server, one "browser" per reqwest client, and one helper per route.

#[cfg(feature = "postgres-tests")]
pub mod fault_proxy;
pub mod fixtures;
pub mod html;
pub mod id_token;
pub mod log_capture;
pub mod pkce;
pub mod raw_http;

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::header::{
    HeaderMap, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE,
};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tessera_domain::purge::Purged;
use tessera_domain::registration::InitialAccessToken;
use tessera_domain::signing::{JwtType, Signer, SigningAlg};
use tessera_domain::signing_key::SigningKey;
use tessera_domain::store::{CodeStore as _, TokenStore as _};
use tessera_domain::{Clock, Provider, SystemClock, TokenDigest};
use tessera_persistence::test_db::TestDb;
use tessera_persistence::Database;
use tessera_web::config::Config;
use tessera_web::error::ServerFault;
use tessera_web::keys::Keyring;
use tessera_web::purge::purge_once;
use tessera_web::startup::{provider_with, Application, SESSION_COOKIE};
use url::Url;

pub use fixtures::{
    app_with_client, app_with_password_tokens, app_with_user_and_client, assert_tokens,
    RegisteredClient, TestClient, TestUser, Tokens,
};
pub use pkce::Pkce;

/// Runs a test body once per database backend: `both_backends!(name, |backend| async move { .. });`
///
/// Expands to `mod name { async fn sqlite(); async fn postgres(); }`, the second only with
/// the `postgres-tests` feature (which fails, not skips, when Postgres is down).
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::helpers::Backend::Sqlite).await;
            }

            #[cfg(feature = "postgres-tests")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::helpers::Backend::Postgres).await;
            }
        }
    };
}
pub(crate) use both_backends;

/// The database a spawned app runs on.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    not(feature = "postgres-tests"),
    expect(
        dead_code,
        reason = "Postgres runs only with the postgres-tests feature"
    )
)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the Postgres server, dropped afterwards.
    Postgres,
}

/// Keeps the server task and its database alive; stops the server before dropping the
/// database (which other servers on it may share).
struct Running {
    server: tokio::task::JoinHandle<()>,
    db: Arc<TestDb>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A running Tessera seen through one browser (a reqwest client with its own cookie jar).
#[derive(Clone)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// `http://127.0.0.1:<port>` of the metrics listener, when `TESSERA_METRICS_BIND` is set.
    pub metrics_address: Option<String>,
    /// Keeps cookies, never follows redirects.
    pub client: reqwest::Client,
    running: Arc<Running>,
    /// The server's own keyring (as its handlers use it).
    keyring: Arc<Keyring>,
    /// The configuration it started with, for more servers on the same database.
    config: Arc<Config>,
    /// The clock it reads the time from.
    clock: Arc<dyn Clock>,
}

/// Starts Tessera on a fresh database, port 0, bcrypt cost 4.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Like [`spawn_app`], with extra `TESSERA_*` settings (short lifetimes...).
pub async fn spawn_app_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    spawn_app_with_clock(backend, env, Arc::new(SystemClock)).await
}

/// Like [`spawn_app_with`], the server reading the time from `clock` (a `FixedClock` that
/// the test moves).
pub async fn spawn_app_with_clock(
    backend: Backend,
    env: &[(&str, &str)],
    clock: Arc<dyn Clock>,
) -> TestApp {
    let db = Arc::new(test_db(backend));
    start(Arc::new(test_config(&db.url(), env)), db, clock).await
}

/// Starts Tessera on a fresh Postgres database that it reaches only through a new
/// [`fault_proxy::FaultProxy`], which the test then switches to a fault.
#[cfg(feature = "postgres-tests")]
pub async fn spawn_app_behind_proxy() -> (TestApp, fault_proxy::FaultProxy) {
    let db = Arc::new(TestDb::postgres());
    let mut url = Url::parse(&db.url()).expect("the test database URL parses");
    let host = url.host_str().expect("the test database URL names a host");
    let port = url.port().unwrap_or(5432);
    let upstream = tokio::net::lookup_host((host, port))
        .await
        .expect("the test database's host resolves")
        .next()
        .expect("the test database's host has an address");
    let proxy = fault_proxy::FaultProxy::start(upstream).await;
    url.set_host(Some(&proxy.address().ip().to_string()))
        .expect("the proxy's host goes in the URL");
    url.set_port(Some(proxy.address().port()))
        .expect("the proxy's port goes in the URL");
    let config = Arc::new(test_config(url.as_str(), &[]));
    (start(config, db, Arc::new(SystemClock)).await, proxy)
}

/// `count` servers started at the same moment on one fresh, empty-keyed database, as
/// processes of one deployment starting together would be.
pub async fn spawn_apps_together(
    backend: Backend,
    count: usize,
    clock: Arc<dyn Clock>,
) -> Vec<TestApp> {
    let db = Arc::new(test_db(backend));
    let config = Arc::new(test_config(&db.url(), &[]));
    let starts =
        (0..count).map(|_| start(Arc::clone(&config), Arc::clone(&db), Arc::clone(&clock)));
    futures_util::future::join_all(starts).await
}

fn test_db(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => TestDb::sqlite(),
        Backend::Postgres => TestDb::postgres(),
    }
}

fn test_config(database_url: &str, env: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("TESSERA_BIND".into(), "127.0.0.1:0".into());
    vars.insert("TESSERA_DATABASE_URL".into(), database_url.to_owned());
    vars.insert("TESSERA_BCRYPT_COST".into(), "4".into());
    for (key, value) in env {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|key: &str| vars.get(key).cloned())
        .expect("the test configuration is valid")
}

async fn start(config: Arc<Config>, db: Arc<TestDb>, clock: Arc<dyn Clock>) -> TestApp {
    let application = Application::build_with_clock((*config).clone(), Arc::clone(&clock))
        .await
        .expect("the application builds");
    let port = application.port();
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let keyring = application.keyring();
    let server = tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        metrics_address,
        client: browser(),
        running: Arc::new(Running { server, db }),
        keyring,
        config,
        clock,
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client builds")
}

/// A fresh username (unique per call).
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..12])
}

impl TestApp {
    /// The same server seen from a new browser with an empty cookie jar.
    pub fn another_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            metrics_address: self.metrics_address.clone(),
            client: browser(),
            running: Arc::clone(&self.running),
            keyring: Arc::clone(&self.keyring),
            config: Arc::clone(&self.config),
            clock: Arc::clone(&self.clock),
        }
    }

    /// A second server process on this server's database, with the test settings and `env`
    /// (instead of this server's own extra settings), on the system clock.
    pub async fn another_process_with(&self, env: &[(&str, &str)]) -> TestApp {
        let db = Arc::clone(&self.running.db);
        start(
            Arc::new(test_config(&db.url(), env)),
            db,
            Arc::new(SystemClock),
        )
        .await
    }

    /// `GET path` from a browser whose only cookie is the session cookie `value` (a fresh
    /// client, so nothing else of this browser is sent).
    pub async fn get_with_session_cookie(&self, path: &str, value: &str) -> Response {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client builds")
            .get(self.url(path))
            .header(COOKIE, format!("{SESSION_COOKIE}={value}"))
            .send()
            .await
            .expect("GET with a session cookie")
    }

    /// A second server process on this server's database, with the same settings and the
    /// time from `clock`.
    pub async fn another_process(&self, clock: Arc<dyn Clock>) -> TestApp {
        start(
            Arc::clone(&self.config),
            Arc::clone(&self.running.db),
            clock,
        )
        .await
    }

    /// `GET /oauth/jwks`, expecting 200: the headers and the JWK Set.
    pub async fn get_jwks(&self) -> (HeaderMap, Value) {
        let (status, headers, body) = json(self.get_page("/oauth/jwks").await).await;
        assert_eq!(status, StatusCode::OK, "/oauth/jwks: {body}");
        (headers, body)
    }

    /// The server's keyring signs `claims` for `alg` as an ID token (off the test's executor).
    pub async fn sign(&self, alg: SigningAlg, claims: Value) -> String {
        self.sign_as(alg, JwtType::IdToken, claims).await
    }

    /// The server's keyring signs `claims` for `alg` as a JWT of type `typ`.
    pub async fn sign_as(&self, alg: SigningAlg, typ: JwtType, claims: Value) -> String {
        let keyring = Arc::clone(&self.keyring);
        tokio::task::spawn_blocking(move || keyring.sign(alg, typ, &claims))
            .await
            .expect("the signing task ends")
            .expect("the keyring signs")
    }

    /// The claims of `jws` if the server's keyring verifies it as an ID token.
    pub async fn verify(&self, jws: &str) -> Option<Value> {
        let keyring = Arc::clone(&self.keyring);
        let jws = jws.to_owned();
        tokio::task::spawn_blocking(move || keyring.verify(&jws, JwtType::IdToken))
            .await
            .expect("the verifying task ends")
            .expect("the keyring verifies")
    }

    /// Rotates the key of `alg`, as `tessera keys rotate` does; returns the new key.
    pub async fn rotate_key(&self, alg: SigningAlg) -> SigningKey {
        let keyring = Arc::clone(&self.keyring);
        tokio::task::spawn_blocking(move || keyring.rotate(alg))
            .await
            .expect("the rotating task ends")
            .expect("the key rotates")
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET /metrics` on the metrics listener (the app must have `TESSERA_METRICS_BIND`),
    /// expecting 200 in the Prometheus text format; the body.
    pub async fn scrape_metrics(&self) -> String {
        let address = self
            .metrics_address
            .as_ref()
            .expect("the app was started with TESSERA_METRICS_BIND");
        let response = self
            .client
            .get(format!("{address}/metrics"))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[CONTENT_TYPE]
            .to_str()
            .expect("a text content type")
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        response.text().await.expect("the metrics")
    }

    /// `GET path`.
    pub async fn get_page(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// `GET path`, expecting 200, returning the body.
    pub async fn get_html(&self, path: &str) -> String {
        let response = self.get_page(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.expect("body")
    }

    /// The CSRF token of the form on `path` (this browser's session).
    pub async fn csrf_token(&self, path: &str) -> String {
        let page = self.get_html(path).await;
        html::input_value(&page, "csrf_token")
            .unwrap_or_else(|| panic!("no csrf_token input on {path}: {page}"))
    }

    /// `POST path` with an urlencoded form.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// `GET location` of a redirect response, in this browser.
    pub async fn follow(&self, response: Response) -> Response {
        if response.status().is_redirection() {
            let target = self.location(&response);
            self.client.get(target).send().await.expect("GET Location")
        } else {
            response
        }
    }

    /// The absolute `Location` of a response (panics when absent).
    pub fn location(&self, response: &Response) -> Url {
        let raw = response
            .headers()
            .get(LOCATION)
            .unwrap_or_else(|| panic!("no Location header (status {})", response.status()))
            .to_str()
            .expect("ASCII Location");
        Url::parse(&self.address)
            .expect("base URL")
            .join(raw)
            .expect("Location is a URL")
    }

    /// `POST /signup` with a fresh CSRF token.
    pub async fn signup(&self, username: &str, password: &str) -> Response {
        self.signup_with_email(username, password, None).await
    }

    /// `POST /signup` with a fresh CSRF token and, when given, the optional `email`.
    pub async fn signup_with_email(
        &self,
        username: &str,
        password: &str,
        email: Option<&str>,
    ) -> Response {
        let csrf = self.csrf_token("/signup").await;
        let mut form = vec![
            ("username", username),
            ("password", password),
            ("csrf_token", csrf.as_str()),
        ];
        form.extend(email.map(|email| ("email", email)));
        self.post_form("/signup", &form).await
    }

    /// `POST /login` with a fresh CSRF token and an optional `next`.
    pub async fn login(&self, username: &str, password: &str, next: Option<&str>) -> Response {
        let csrf = self.csrf_token("/login").await;
        let mut form = vec![
            ("username", username),
            ("password", password),
            ("csrf_token", csrf.as_str()),
        ];
        if let Some(next) = next {
            form.push(("next", next));
        }
        self.post_form("/login", &form).await
    }

    /// `POST /logout` with the CSRF token of the home page.
    pub async fn logout(&self) -> Response {
        let csrf = self.csrf_token("/").await;
        self.post_form("/logout", &[("csrf_token", &csrf)]).await
    }

    /// Signs up a fresh user in this browser, which is then signed in.
    pub async fn signed_up_user(&self) -> TestUser {
        self.signed_up(TestUser::generate()).await
    }

    /// Signs `user` up (with their email, when set) in this browser, which is then signed in.
    pub async fn signed_up(&self, user: TestUser) -> TestUser {
        let response = self
            .signup_with_email(&user.username, &user.password, user.email.as_deref())
            .await;
        assert!(
            response.status().is_redirection(),
            "sign-up should redirect, got {}",
            response.status()
        );
        user
    }

    /// `POST /create_client` with a fresh CSRF token (the raw answer).
    pub async fn post_create_client(&self, form: &[(&str, &str)]) -> Response {
        let csrf = self.csrf_token("/create_client").await;
        let mut full: Vec<(&str, &str)> = form.to_vec();
        full.push(("csrf_token", &csrf));
        self.post_form("/create_client", &full).await
    }

    /// `POST /create_client` (signed in), returning `(client_id, client_secret)` from the client page.
    pub async fn create_client(&self, form: &[(&str, &str)]) -> (String, Option<String>) {
        let response = self.post_create_client(form).await;
        let response = self.follow(response).await;
        let status = response.status();
        let page = response.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "create_client failed: {page}");
        let client_id = html::element_text(&page, "client_id")
            .unwrap_or_else(|| panic!("no id=\"client_id\" on the client page: {page}"));
        let secret = html::element_text(&page, "client_secret").filter(|s| !s.is_empty());
        (client_id, secret)
    }

    /// `GET /oauth/authorize?query`.
    pub async fn get_authorize(&self, query: &[(&str, &str)]) -> Response {
        self.client
            .get(self.url("/oauth/authorize"))
            .query(query)
            .send()
            .await
            .expect("GET /oauth/authorize")
    }

    /// `POST /oauth/authorize` with the given form.
    pub async fn post_consent(&self, form: &[(String, String)]) -> Response {
        self.client
            .post(self.url("/oauth/authorize"))
            .form(form)
            .send()
            .await
            .expect("POST /oauth/authorize")
    }

    /// The hidden fields of the consent form for `query` (signed in; expects the consent page).
    pub async fn consent_form(&self, query: &[(&str, &str)]) -> Vec<(String, String)> {
        let response = self.get_authorize(query).await;
        let status = response.status();
        let page = response.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "expected the consent page: {page}");
        let form = html::form_hidden_inputs(&page, "/oauth/authorize");
        assert!(
            !form.is_empty(),
            "no consent form posting to /oauth/authorize: {page}"
        );
        form
    }

    /// Shows the consent page for `query` and answers Allow (`true`) or Deny (`false`).
    pub async fn consent(&self, query: &[(&str, &str)], allow: bool) -> Response {
        let mut form = self.consent_form(query).await;
        form.push(("confirm".into(), if allow { "yes" } else { "no" }.into()));
        self.post_consent(&form).await
    }

    /// [`Self::consent`], expecting a 303 redirect; returns its `Location`.
    pub async fn consent_redirect(&self, query: &[(&str, &str)], allow: bool) -> Url {
        let response = self.consent(query, allow).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "consent redirect");
        self.location(&response)
    }

    /// `POST /oauth/token` (urlencoded), with optional HTTP Basic `(client_id, secret)`.
    pub async fn post_token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        self.post_client_endpoint("/oauth/token", form, basic).await
    }

    /// `POST /oauth/revoke` (urlencoded), with optional HTTP Basic `(client_id, secret)`.
    pub async fn post_revoke(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        self.post_client_endpoint("/oauth/revoke", form, basic)
            .await
    }

    /// `POST /oauth/par` (urlencoded), with optional HTTP Basic `(client_id, secret)`.
    pub async fn post_par(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        self.post_client_endpoint("/oauth/par", form, basic).await
    }

    /// `POST /oauth/device_authorization` (urlencoded), with optional HTTP Basic
    /// `(client_id, secret)`.
    pub async fn post_device_authorization(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        self.post_client_endpoint("/oauth/device_authorization", form, basic)
            .await
    }

    /// `POST /oauth/introspect` (urlencoded), with optional HTTP Basic `(client_id, secret)`.
    pub async fn post_introspect(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        self.post_client_endpoint("/oauth/introspect", form, basic)
            .await
    }

    async fn post_client_endpoint(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        let mut request = self.client.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.expect("POST")
    }

    /// `GET /api/me` with `Authorization: Bearer token`.
    pub async fn get_api_me(&self, token: &str) -> Response {
        self.get_api_me_with(|request| request.bearer_auth(token))
            .await
    }

    /// `GET /api/me`, the request first shaped by `build` (credentials, query...).
    pub async fn get_api_me_with(
        &self,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Response {
        build(self.client.get(self.url("/api/me")))
            .send()
            .await
            .expect("GET /api/me")
    }

    /// `GET path` of a discovery document, expecting 200 JSON; returns it.
    pub async fn get_metadata(&self, path: &str) -> Value {
        let (status, _, body) = json(self.get_page(path).await).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// `GET /.well-known/openid-configuration`, expecting 200 JSON.
    pub async fn get_discovery(&self) -> Value {
        self.get_metadata("/.well-known/openid-configuration").await
    }

    /// `GET /oauth/userinfo` with `Authorization: Bearer token`.
    pub async fn get_userinfo(&self, token: &str) -> Response {
        self.userinfo_with(reqwest::Method::GET, |request| request.bearer_auth(token))
            .await
    }

    /// `POST /oauth/userinfo` with `Authorization: Bearer token` (and an empty form).
    pub async fn post_userinfo(&self, token: &str) -> Response {
        self.userinfo_with(reqwest::Method::POST, |request| {
            request
                .bearer_auth(token)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        })
        .await
    }

    /// `/oauth/userinfo` with `method`, the request first shaped by `build`.
    pub async fn userinfo_with(
        &self,
        method: reqwest::Method,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Response {
        build(self.client.request(method, self.url("/oauth/userinfo")))
            .send()
            .await
            .expect("/oauth/userinfo")
    }

    /// `GET` and `POST /oauth/userinfo` for this token, expecting 200 and the same claims
    /// from both; returns them.
    pub async fn assert_userinfo_ok(&self, token: &str) -> Value {
        let (status, headers, got) = json(self.get_userinfo(token).await).await;
        assert_eq!(status, StatusCode::OK, "GET /oauth/userinfo: {got}");
        assert_eq!(headers["cache-control"], "no-store");
        let (status, _, posted) = json(self.post_userinfo(token).await).await;
        assert_eq!(status, StatusCode::OK, "POST /oauth/userinfo: {posted}");
        assert_eq!(got, posted, "GET and POST disagree");
        got
    }

    /// Asserts `/api/me` answers 200 for this token; returns the JSON.
    pub async fn assert_api_me_ok(&self, token: &str) -> Value {
        let (status, _, body) = json(self.get_api_me(token).await).await;
        assert_eq!(status, StatusCode::OK, "/api/me: {body}");
        body
    }

    /// Asserts `/api/me` refuses this token with `status` (and nothing more).
    pub async fn assert_api_me_status(&self, token: &str, status: StatusCode, why: &str) {
        assert_eq!(self.get_api_me(token).await.status(), status, "{why}");
    }

    /// Asserts `/api/me` refuses this token: [`assert_bearer_error`] with `status` and `error`.
    pub async fn assert_api_me_error(&self, token: &str, status: StatusCode, error: &str) {
        assert_bearer_error(&self.get_api_me(token).await, status, error);
    }

    /// Asserts `/api/me` answers 401 `invalid_token` for this token.
    pub async fn assert_api_me_unauthorized(&self, token: &str) {
        self.assert_api_me_error(token, StatusCode::UNAUTHORIZED, "invalid_token")
            .await;
    }

    /// Asserts `/api/me` answers 403 `insufficient_scope` for this token.
    pub async fn assert_api_me_insufficient_scope(&self, token: &str) {
        self.assert_api_me_error(token, StatusCode::FORBIDDEN, "insufficient_scope")
            .await;
    }
}

/// Status, headers and JSON body of a response.
pub async fn json(response: Response) -> (StatusCode, HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("expected JSON ({status}): {e}: {text}"));
    (status, headers, body)
}

/// Asserts an RFC 6749 JSON error with this status and `error` code; returns the headers.
pub async fn assert_oauth_error(response: Response, status: StatusCode, error: &str) -> HeaderMap {
    let (got_status, headers, body) = json(response).await;
    assert_eq!(
        (got_status, body["error"].as_str()),
        (status, Some(error)),
        "expected {status} {error}, got {got_status} {body}"
    );
    headers
}

/// Asserts the token endpoint's answer while storage is unavailable (DESIGN §4): 503
/// `temporarily_unavailable` with a positive `Retry-After`, never cached.
pub async fn assert_temporarily_unavailable(response: Response) {
    let headers = assert_oauth_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
    )
    .await;
    assert_retry_after(&headers);
    assert_eq!(headers[CACHE_CONTROL], "no-store");
}

/// Asserts any other route's answer while storage is unavailable: 503 with a positive
/// `Retry-After`.
pub fn assert_unavailable(response: &Response) {
    assert_eq!(
        response.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.url()
    );
    assert_retry_after(response.headers());
}

fn assert_retry_after(headers: &HeaderMap) {
    let retry_after = headers
        .get(RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .expect("ASCII Retry-After");
    assert!(
        retry_after.parse::<u32>().is_ok_and(|seconds| seconds > 0),
        "Retry-After: {retry_after}"
    );
}

/// Asserts a 200 token response and returns its JSON.
pub async fn assert_token(response: Response) -> Value {
    let (status, _, body) = json(response).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "expected a token, got {status} {body}"
    );
    assert!(body["access_token"].is_string(), "no access_token: {body}");
    body
}

/// Asserts a token response may not be cached: `Cache-Control: no-store`, `Pragma: no-cache`.
pub fn assert_token_not_cached(headers: &HeaderMap) {
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
}

/// Asserts a Bearer failure with this status and `WWW-Authenticate` error code.
pub fn assert_bearer_error(response: &Response, status: StatusCode, error: &str) {
    assert_eq!(response.status(), status, "bearer status");
    let challenge = www_authenticate(response.headers());
    assert!(
        challenge.starts_with("Bearer") && challenge.contains(&format!("error=\"{error}\"")),
        "expected WWW-Authenticate: Bearer error=\"{error}\", got {challenge:?}"
    );
}

/// The `WWW-Authenticate` header, or "" when absent.
pub fn www_authenticate(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
        .unwrap_or_default()
}

/// The `Set-Cookie` headers of a response that set the session cookie, whole.
pub fn session_set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| value.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(ToOwned::to_owned)
        .collect()
}

/// The value of the session cookie a response sets, if it sets one.
pub fn session_cookie(response: &Response) -> Option<String> {
    session_set_cookies(response).first().and_then(|header| {
        let pair = header.split(';').next()?;
        pair.split_once('=').map(|(_, value)| value.to_owned())
    })
}

/// A query parameter of a URL.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A parameter of a URL's `#fragment` (implicit grant).
pub fn fragment_param(url: &Url, name: &str) -> Option<String> {
    url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A parameter of the query or, failing that, the fragment.
pub fn redirect_param(url: &Url, name: &str) -> Option<String> {
    query_param(url, name).or_else(|| fragment_param(url, name))
}

impl TestApp {
    /// The database the server runs on, e.g. to cut it off with `app.database().outage()`.
    pub fn database(&self) -> &TestDb {
        &self.running.db
    }

    /// Runs one purge now by the server's clock, as its background task does every ten
    /// minutes (with a provider of the same settings over the same database).
    pub async fn purge(&self) -> Result<Purged, ServerFault> {
        let provider = provider_with(
            &self.config,
            self.running.db.database().clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.keyring) as Arc<dyn Signer>,
        );
        purge_once(Arc::new(provider)).await
    }

    /// Runs `work` off the executor on a provider over the app's database and clock, as the
    /// command line does (`tessera user disable` and the like).
    pub async fn operator<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Provider<Database>) -> T + Send + 'static,
    ) -> T {
        let provider = provider_with(
            &self.config,
            self.running.db.database().clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.keyring) as Arc<dyn Signer>,
        );
        tokio::task::spawn_blocking(move || work(&provider))
            .await
            .expect("the operator's task ends")
    }

    /// The id of the user named `username`.
    pub async fn user_id(&self, username: &str) -> tessera_domain::UserId {
        let username = username.to_owned();
        self.operator(move |provider| provider.user_by_name(&username))
            .await
            .expect("the users are readable")
            .expect("the user exists")
            .id
    }

    /// Creates an initial access token for `POST /oauth/register` (`TESSERA_REGISTRATION=token`)
    /// by the server's clock, as `tessera registration-token create` does: valid for
    /// `expires_in` (forever when `None`) and for `uses` registrations (any number when `None`).
    /// Returns its text.
    pub async fn registration_token(
        &self,
        expires_in: Option<chrono::Duration>,
        uses: Option<u32>,
    ) -> String {
        let provider = provider_with(
            &self.config,
            self.running.db.database().clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.keyring) as Arc<dyn Signer>,
        );
        let created: InitialAccessToken = tokio::task::spawn_blocking(move || {
            provider.create_registration_token(expires_in, uses)
        })
        .await
        .expect("the creating task ends")
        .expect("the initial access token is stored");
        assert_eq!(created.uses, uses, "the token's uses");
        created.token.expose().to_owned()
    }

    /// Whether a token with this value is stored (expired or not), read behind the server's
    /// back.
    pub async fn token_is_stored(&self, token: &str) -> bool {
        let db = Arc::clone(&self.running.db);
        let digest = TokenDigest::of(token);
        tokio::task::spawn_blocking(move || db.database().find_token(&digest))
            .await
            .expect("the reading task ends")
            .expect("the token table is readable")
            .is_some()
    }

    /// Whether an authorization code with this value is stored (used or not), read behind
    /// the server's back.
    pub async fn code_is_stored(&self, code: &str) -> bool {
        let db = Arc::clone(&self.running.db);
        let digest = TokenDigest::of(code);
        tokio::task::spawn_blocking(move || db.database().find_code(&digest))
            .await
            .expect("the reading task ends")
            .expect("the code table is readable")
            .is_some()
    }
}
