//! Users and OAuth clients registered through the pages, and the flows that use them.

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{assert_token, query_param, unique_name, Pkce, TestApp};

/// The redirect URI every test client registers first.
pub const REDIRECT_URI: &str = "https://client.example/cb";

/// Form fields as `(name, value)` pairs.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// A user's credentials.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Unique per test.
    pub username: String,
    /// Plain password.
    pub password: String,
}

impl TestUser {
    /// Fresh credentials (not yet signed up).
    pub fn generate() -> Self {
        Self {
            username: unique_name("user"),
            password: "correct horse battery staple".to_owned(),
        }
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

    /// Adds a redirect URI.
    pub fn extra_redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uris.push(uri.to_owned());
        self
    }

    /// The `/create_client` form fields (without `csrf_token`).
    pub fn form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("client_name", self.name.clone()),
            ("client_uri", "https://client.example".to_owned()),
            ("redirect_uris", self.redirect_uris.join("\n")),
            ("grant_types", self.grant_types.join("\n")),
            ("response_types", self.response_types.join("\n")),
            ("scope", self.scope.clone()),
            ("token_endpoint_auth_method", self.auth_method.clone()),
        ]
    }

    /// Registers the client as a freshly signed-up owner in a separate browser.
    pub async fn register(self, app: &TestApp) -> RegisteredClient {
        let owner = app.another_browser();
        owner.signed_up_user().await;
        self.register_as(&owner).await
    }

    /// Registers the client from `owner`, a signed-in browser.
    pub async fn register_as(self, owner: &TestApp) -> RegisteredClient {
        let form = self.form();
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (id, secret) = owner.create_client(&fields).await;
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

impl RegisteredClient {
    /// `(client_id, client_secret)` for HTTP Basic.
    pub fn basic(&self) -> (&str, &str) {
        (&self.id, self.secret.as_deref().unwrap_or(""))
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

    /// A password-grant token for `user` (expects 200).
    pub async fn password_token(&self, app: &TestApp, user: &TestUser, scope: &str) -> Value {
        let response = self
            .post_token(
                app,
                &[
                    ("grant_type", "password"),
                    ("username", &user.username),
                    ("password", &user.password),
                    ("scope", scope),
                ],
            )
            .await;
        assert_token(response).await
    }

    /// A client-credentials token (expects 200).
    pub async fn client_credentials_token(&self, app: &TestApp, scope: &str) -> Value {
        let response = self
            .post_token(
                app,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_token(response).await
    }

    /// The `/oauth/authorize` query for the code flow (with an S256 challenge when given).
    pub fn code_query<'a>(
        &'a self,
        scope: &'a str,
        pkce: Option<&'a Pkce>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", self.id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", scope),
            ("state", "xyz-state"),
        ];
        if let Some(pkce) = pkce {
            query.push(("code_challenge", &pkce.challenge));
            query.push(("code_challenge_method", "S256"));
        }
        query
    }

    /// Runs /authorize + Allow in `app`'s (signed-in) browser and returns the code.
    pub async fn authorization_code(
        &self,
        app: &TestApp,
        scope: &str,
        pkce: Option<&Pkce>,
    ) -> String {
        let response = app.consent(&self.code_query(scope, pkce), true).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "consent redirect");
        let location = app.location(&response);
        assert_eq!(
            query_param(&location, "error"),
            None,
            "authorize error: {location}"
        );
        assert_eq!(
            query_param(&location, "state").as_deref(),
            Some("xyz-state")
        );
        query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
    }

    /// `POST /oauth/token` with `grant_type=authorization_code` (and the verifier when given).
    pub async fn redeem_code(&self, app: &TestApp, code: &str, verifier: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
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
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token(app, &form).await
    }
}

/// The `access_token` and `refresh_token` strings of a token response.
pub fn tokens(body: &Value) -> (String, Option<String>) {
    (
        body["access_token"].as_str().unwrap_or_default().to_owned(),
        body["refresh_token"].as_str().map(ToOwned::to_owned),
    )
}
