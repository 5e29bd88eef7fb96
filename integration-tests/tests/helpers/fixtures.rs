//! Users and OAuth clients registered through the pages, and the flows that use them.

use std::fmt;
use std::ops::Index;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{assert_token, json, query_param, spawn_app, unique_name, Backend, Pkce, TestApp};

/// The redirect URI every test client registers first.
pub const REDIRECT_URI: &str = "https://client.example/cb";

/// The `state` every test authorization request carries.
pub const STATE: &str = "xyz-state";

/// Form fields as `(name, value)` pairs.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// A user's credentials.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Unique per test.
    pub username: String,
    /// Plain password.
    pub password: String,
    /// The optional `email` of the sign-up form.
    pub email: Option<String>,
}

impl TestUser {
    /// Fresh credentials (not yet signed up).
    pub fn generate() -> Self {
        Self {
            username: unique_name("user"),
            password: "correct horse battery staple".to_owned(),
            email: None,
        }
    }

    /// These credentials with an email address (`<username>@example.com`).
    pub fn with_email(mut self) -> Self {
        self.email = Some(format!("{}@example.com", self.username));
        self
    }
}

/// What to register on `/create_client`.
#[derive(Debug, Clone)]
pub struct TestClient {
    /// `client_name`.
    pub name: String,
    /// `redirect_uris`, one per line.
    pub redirect_uris: Vec<String>,
    /// `grant_types`, one per line.
    pub grant_types: Vec<String>,
    /// `response_types`, one per line.
    pub response_types: Vec<String>,
    /// `scope`, space separated.
    pub scope: String,
    /// `token_endpoint_auth_method`.
    pub auth_method: String,
    /// `post_logout_redirect_uris`, one per line.
    pub post_logout_redirect_uris: Vec<String>,
    /// `id_token_signed_response_alg`; not sent when `None` (the server's default, RS256).
    pub id_token_alg: Option<String>,
    /// `access_token_format`; not sent when `None` (the server's default).
    pub access_token_format: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126).
    pub require_par: bool,
}

/// A client as registered: its credentials and metadata.
#[derive(Clone)]
pub struct RegisteredClient {
    /// `client_id`.
    pub id: String,
    /// `client_secret` (None for public clients).
    pub secret: Option<String>,
    /// The first registered redirect URI.
    pub redirect_uri: String,
    /// `token_endpoint_auth_method`.
    pub auth_method: String,
    /// The owner's browser (signed in), to manage the client.
    pub owner: TestApp,
}

impl TestClient {
    fn new(grants: &[&str], scope: &str, auth_method: &str) -> Self {
        Self {
            name: unique_name("client"),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            grant_types: grants.iter().map(|g| (*g).to_owned()).collect(),
            // RFC 7591 §2.1: `code` goes with `authorization_code`, `token` with `implicit`.
            response_types: grants
                .iter()
                .filter_map(|g| match *g {
                    "authorization_code" => Some("code".to_owned()),
                    "implicit" => Some("token".to_owned()),
                    _ => None,
                })
                .collect(),
            scope: scope.to_owned(),
            auth_method: auth_method.to_owned(),
            post_logout_redirect_uris: Vec::new(),
            id_token_alg: None,
            access_token_format: None,
            require_par: false,
        }
    }

    /// A `client_secret_basic` client with these grants and scope.
    pub fn confidential(grants: &[&str], scope: &str) -> Self {
        Self::new(grants, scope, "client_secret_basic")
    }

    /// A public (`none`) client with these grants and scope.
    pub fn public(grants: &[&str], scope: &str) -> Self {
        Self::new(grants, scope, "none")
    }

    /// Replaces the auth method.
    pub fn auth_method(mut self, method: &str) -> Self {
        method.clone_into(&mut self.auth_method);
        self
    }

    /// Replaces the response types.
    pub fn response_types(mut self, types: &[&str]) -> Self {
        self.response_types = types.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// Registers `id_token_signed_response_alg` (`RS256`, `ES256` or `EdDSA`).
    pub fn id_token_alg(mut self, alg: &str) -> Self {
        self.id_token_alg = Some(alg.to_owned());
        self
    }

    /// Registers `require_pushed_authorization_requests`: only pushed requests (RFC 9126).
    pub fn require_par(mut self) -> Self {
        self.require_par = true;
        self
    }

    /// Registers `access_token_format` (`opaque` or `jwt`).
    pub fn access_token_format(mut self, format: &str) -> Self {
        self.access_token_format = Some(format.to_owned());
        self
    }

    /// Adds a redirect URI.
    pub fn extra_redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uris.push(uri.to_owned());
        self
    }

    /// Adds a post-logout redirect URI.
    pub fn post_logout_redirect_uri(mut self, uri: &str) -> Self {
        self.post_logout_redirect_uris.push(uri.to_owned());
        self
    }

    /// The `/create_client` form fields (without `csrf_token`).
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("client_name", self.name.clone()),
            ("client_uri", "https://client.example".to_owned()),
            ("redirect_uris", self.redirect_uris.join("\n")),
            ("grant_types", self.grant_types.join("\n")),
            ("response_types", self.response_types.join("\n")),
            ("scope", self.scope.clone()),
            ("token_endpoint_auth_method", self.auth_method.clone()),
            (
                "post_logout_redirect_uris",
                self.post_logout_redirect_uris.join("\n"),
            ),
        ];
        if let Some(alg) = &self.id_token_alg {
            form.push(("id_token_signed_response_alg", alg.clone()));
        }
        if let Some(format) = &self.access_token_format {
            form.push(("access_token_format", format.clone()));
        }
        if self.require_par {
            form.push(("require_pushed_authorization_requests", "1".to_owned()));
        }
        form
    }

    /// `POST /create_client` of this client from `owner`, a signed-in browser (the raw answer).
    pub async fn submit(&self, owner: &TestApp) -> Response {
        owner.post_create_client(&borrowed(&self.form())).await
    }

    /// Registers the client as a freshly signed-up owner in a separate browser.
    pub async fn register(self, app: &TestApp) -> RegisteredClient {
        let owner = app.another_browser();
        owner.signed_up_user().await;
        self.register_as(&owner).await
    }

    /// Registers the client from `owner`, a signed-in browser.
    pub async fn register_as(self, owner: &TestApp) -> RegisteredClient {
        let (id, secret) = owner.create_client(&borrowed(&self.form())).await;
        if self.auth_method == "none" {
            assert!(secret.is_none(), "a public client got a secret");
        } else {
            assert!(secret.is_some(), "a confidential client got no secret");
        }
        RegisteredClient {
            id,
            secret,
            redirect_uri: self.redirect_uris[0].clone(),
            auth_method: self.auth_method,
            owner: owner.clone(),
        }
    }
}

/// A fresh server on `backend`, and `client` registered there by its own owner; the returned
/// browser is signed out.
pub async fn app_with_client(backend: Backend, client: TestClient) -> (TestApp, RegisteredClient) {
    let app = spawn_app(backend).await;
    let client = client.register(&app).await;
    (app, client)
}

/// A fresh server on `backend` whose browser is signed in as a new user, and `client`
/// registered there by another user.
pub async fn app_with_user_and_client(
    backend: Backend,
    client: TestClient,
) -> (TestApp, TestUser, RegisteredClient) {
    let app = spawn_app(backend).await;
    let (user, client) = app.user_and_client(client).await;
    (app, user, client)
}

/// [`app_with_user_and_client`], and the user's password-grant tokens for `scope`.
pub async fn app_with_password_tokens(
    backend: Backend,
    client: TestClient,
    scope: &str,
) -> (TestApp, TestUser, RegisteredClient, Tokens) {
    let (app, user, client) = app_with_user_and_client(backend, client).await;
    let tokens = client.password_tokens(&app, &user, scope).await;
    (app, user, client, tokens)
}

impl TestApp {
    /// Signs a new user up (and so in) in this browser, then registers `client` as another user.
    pub async fn user_and_client(&self, client: TestClient) -> (TestUser, RegisteredClient) {
        let user = self.signed_up_user().await;
        let client = client.register(self).await;
        (user, client)
    }
}

impl RegisteredClient {
    /// `(client_id, client_secret)` for HTTP Basic.
    pub fn basic(&self) -> (&str, &str) {
        (&self.id, self.secret.as_deref().unwrap_or(""))
    }

    /// This client presenting `secret` instead of its own.
    pub fn with_secret(&self, secret: &str) -> Self {
        Self {
            secret: Some(secret.to_owned()),
            ..self.clone()
        }
    }

    /// The form plus this client's authentication, as its registered method wants it.
    fn authenticated<'a>(
        &'a self,
        form: &[(&'a str, &'a str)],
    ) -> (Fields<'a>, Option<(&'a str, &'a str)>) {
        let mut full = form.to_vec();
        match self.auth_method.as_str() {
            "client_secret_basic" => return (full, Some(self.basic())),
            "client_secret_post" => {
                full.push(("client_id", &self.id));
                full.push(("client_secret", self.secret.as_deref().unwrap_or("")));
            }
            _ => full.push(("client_id", &self.id)),
        }
        (full, None)
    }

    /// `POST /oauth/token` authenticated with the registered method.
    pub async fn post_token(&self, app: &TestApp, form: &[(&str, &str)]) -> Response {
        let (full, basic) = self.authenticated(form);
        app.post_token(&full, basic).await
    }

    /// `POST /oauth/revoke` authenticated with the registered method.
    pub async fn post_revoke(&self, app: &TestApp, form: &[(&str, &str)]) -> Response {
        let (full, basic) = self.authenticated(form);
        app.post_revoke(&full, basic).await
    }

    /// `POST /oauth/introspect` authenticated with the registered method.
    pub async fn post_introspect(&self, app: &TestApp, form: &[(&str, &str)]) -> Response {
        let (full, basic) = self.authenticated(form);
        app.post_introspect(&full, basic).await
    }

    /// `POST /oauth/par` (RFC 9126) authenticated with the registered method.
    pub async fn post_par(&self, app: &TestApp, form: &[(&str, &str)]) -> Response {
        let (full, basic) = self.authenticated(form);
        app.post_par(&full, basic).await
    }

    /// `POST /oauth/device_authorization` (RFC 8628) authenticated with the registered method.
    pub async fn post_device_authorization(
        &self,
        app: &TestApp,
        form: &[(&str, &str)],
    ) -> Response {
        let (full, basic) = self.authenticated(form);
        app.post_device_authorization(&full, basic).await
    }

    /// Introspects `token` (no hint), expecting 200; returns the JSON.
    pub async fn introspect(&self, app: &TestApp, token: &str) -> Value {
        let (status, _, body) = json(self.post_introspect(app, &[("token", token)]).await).await;
        assert_eq!(status, StatusCode::OK, "introspection: {body}");
        body
    }

    /// `POST /oauth/token` with `grant_type=password` for `user`.
    pub async fn password_grant(&self, app: &TestApp, user: &TestUser, scope: &str) -> Response {
        self.password_grant_as(app, &user.username, &user.password, scope)
            .await
    }

    /// `POST /oauth/token` with `grant_type=password` and these credentials.
    pub async fn password_grant_as(
        &self,
        app: &TestApp,
        username: &str,
        password: &str,
        scope: &str,
    ) -> Response {
        let form = [
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", scope),
        ];
        self.post_token(app, &form).await
    }

    /// A password-grant token for `user` (expects 200).
    pub async fn password_token(&self, app: &TestApp, user: &TestUser, scope: &str) -> Value {
        assert_token(self.password_grant(app, user, scope).await).await
    }

    /// [`Self::password_token`] as [`Tokens`].
    pub async fn password_tokens(&self, app: &TestApp, user: &TestUser, scope: &str) -> Tokens {
        Tokens::from(self.password_token(app, user, scope).await)
    }

    /// `POST /oauth/token` with `grant_type=client_credentials`.
    pub async fn client_credentials(&self, app: &TestApp, scope: &str) -> Response {
        let form = [("grant_type", "client_credentials"), ("scope", scope)];
        self.post_token(app, &form).await
    }

    /// A client-credentials token (expects 200).
    pub async fn client_credentials_token(&self, app: &TestApp, scope: &str) -> Value {
        assert_token(self.client_credentials(app, scope).await).await
    }

    /// The `/oauth/authorize` query for the code flow (with an S256 challenge when given).
    pub fn code_query<'a>(
        &'a self,
        scope: &'a str,
        pkce: Option<&'a Pkce>,
    ) -> Vec<(&'a str, &'a str)> {
        match pkce {
            Some(pkce) => self.code_query_with_challenge(scope, &pkce.challenge, Some("S256")),
            None => authorize_query("code", &self.id, &self.redirect_uri, scope),
        }
    }

    /// The code-flow query with this `code_challenge` and, when given, `code_challenge_method`.
    pub fn code_query_with_challenge<'a>(
        &'a self,
        scope: &'a str,
        challenge: &'a str,
        method: Option<&'a str>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut query = authorize_query("code", &self.id, &self.redirect_uri, scope);
        query.push(("code_challenge", challenge));
        query.extend(method.map(|method| ("code_challenge_method", method)));
        query
    }

    /// The `/oauth/authorize` query for the implicit flow (`response_type=token`).
    pub fn token_query<'a>(&'a self, scope: &'a str) -> Vec<(&'a str, &'a str)> {
        authorize_query("token", &self.id, &self.redirect_uri, scope)
    }

    /// Runs /authorize + Allow in `app`'s (signed-in) browser and returns the code.
    pub async fn authorization_code(
        &self,
        app: &TestApp,
        scope: &str,
        pkce: Option<&Pkce>,
    ) -> String {
        self.authorization_code_for(app, &self.code_query(scope, pkce))
            .await
    }

    /// Runs /authorize with `query` (a code-flow query with [`STATE`]) + Allow in `app`'s
    /// (signed-in) browser and returns the code.
    pub async fn authorization_code_for(&self, app: &TestApp, query: &[(&str, &str)]) -> String {
        let location = app.consent_redirect(query, true).await;
        assert_eq!(
            query_param(&location, "error"),
            None,
            "authorize error: {location}"
        );
        assert_eq!(query_param(&location, "state").as_deref(), Some(STATE));
        query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
    }

    /// `POST /oauth/token` with `grant_type=authorization_code` (and the verifier when given).
    pub async fn redeem_code(&self, app: &TestApp, code: &str, verifier: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        form.extend(verifier.map(|verifier| ("code_verifier", verifier)));
        self.post_token(app, &form).await
    }

    /// `POST /oauth/token` with `grant_type=refresh_token` (and a scope when given).
    pub async fn refresh(
        &self,
        app: &TestApp,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        form.extend(scope.map(|scope| ("scope", scope)));
        self.post_token(app, &form).await
    }

    /// [`Self::refresh`], expecting new tokens.
    pub async fn refreshed(
        &self,
        app: &TestApp,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Tokens {
        assert_tokens(self.refresh(app, refresh_token, scope).await).await
    }

    /// The client's page, `/clients/{id}`.
    pub fn page(&self) -> String {
        format!("/clients/{}", self.id)
    }

    /// `POST /clients/{id}/{action}` from the owner's browser, with `csrf_token` when given.
    pub async fn manage(&self, action: &str, csrf: Option<&str>) -> Response {
        self.manage_from(&self.owner, action, csrf).await
    }

    /// `POST /clients/{id}/{action}` from `browser`, with `csrf_token` when given.
    pub async fn manage_from(
        &self,
        browser: &TestApp,
        action: &str,
        csrf: Option<&str>,
    ) -> Response {
        let form: Vec<(&str, &str)> = csrf.map(|csrf| ("csrf_token", csrf)).into_iter().collect();
        browser
            .post_form(&format!("{}/{action}", self.page()), &form)
            .await
    }
}

/// An `/oauth/authorize` query with [`STATE`].
pub fn authorize_query<'a>(
    response_type: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", response_type),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", STATE),
    ]
}

/// A form of owned values borrowed as the `(&str, &str)` pairs the request helpers take.
fn borrowed<'a>(form: &'a [(&'a str, String)]) -> Fields<'a> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A token response's JSON and the tokens in it; indexing and `Display` show the JSON.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The whole response body.
    pub body: Value,
    /// `access_token`.
    pub access: String,
    /// `refresh_token`, when one was issued.
    pub refresh: Option<String>,
}

impl Tokens {
    /// The refresh token (panics when none was issued).
    pub fn refresh_token(&self) -> &str {
        self.refresh
            .as_deref()
            .unwrap_or_else(|| panic!("no refresh_token: {}", self.body))
    }
}

impl From<Value> for Tokens {
    fn from(body: Value) -> Self {
        let (access, refresh) = tokens(&body);
        Self {
            body,
            access,
            refresh,
        }
    }
}

impl fmt::Display for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.body.fmt(f)
    }
}

impl Index<&str> for Tokens {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        &self.body[key]
    }
}

/// Asserts a 200 token response and returns its [`Tokens`].
pub async fn assert_tokens(response: Response) -> Tokens {
    Tokens::from(assert_token(response).await)
}

/// The `access_token` and `refresh_token` strings of a token response.
pub fn tokens(body: &Value) -> (String, Option<String>) {
    (
        body["access_token"].as_str().unwrap_or_default().to_owned(),
        body["refresh_token"].as_str().map(ToOwned::to_owned),
    )
}
