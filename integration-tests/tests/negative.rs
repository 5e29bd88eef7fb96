//! One table of hostile, confused and malformed requests against every endpoint, run on one
//! server per backend. Each case is a request (who sends it, method, path, headers, body) and
//! the exact answer DESIGN §3–§5 and the RFCs promise: the status, the `error` code (JSON
//! endpoints) or the kind of page or redirect, and the headers that must come with it
//! (`Cache-Control: no-store` on the endpoints apps call, `WWW-Authenticate` on Basic and
//! bearer failures, `Retry-After` on lockouts). Every case runs; every mismatch is reported
//! at once.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use url::Url;

use crate::helpers::fixtures::{REDIRECT_URI, STATE};
use crate::helpers::{
    both_backends, fragment_param, query_param, redirect_param, spawn_app_with, Backend, Pkce,
    RegisteredClient, TestApp, TestClient, TestUser, Tokens,
};

/// `TESSERA_MAX_FAILURES` of the server: high enough that the table's own wrong
/// credentials lock nothing, low enough that the lockout cases are quick to set up.
const MAX_FAILURES: usize = 40;

/// The second redirect URI of the main client (so `redirect_uri` may not be omitted).
const SECOND_URI: &str = "https://client.example/cb2";

/// The main client's registered post-logout redirect URI.
const BYE: &str = "https://client.example/bye";

const TOKEN: &str = "/oauth/token";
const REVOKE: &str = "/oauth/revoke";
const INTROSPECT: &str = "/oauth/introspect";
const AUTHORIZE: &str = "/oauth/authorize";
const END_SESSION: &str = "/oauth/logout";
const API_ME: &str = "/api/me";
const USERINFO: &str = "/oauth/userinfo";

/// The form content type.
const FORM: &str = "application/x-www-form-urlencoded";

/// A little over the 64 KiB body limit.
const OVERSIZED: usize = 70 * 1024;

/// The client-credentials request most client-authentication cases send.
const CC: [(&str, &str); 2] = [("grant_type", "client_credentials"), ("scope", "profile")];

/// Which browser sends a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// No session at all (apps calling endpoints, signed-out visitors of `/oauth/authorize`).
    Stranger,
    /// A signed-out browser with a session (and so a CSRF token).
    Visitor,
    /// A signed-in browser.
    Member,
}

/// What the answer must be, beyond its status.
#[derive(Debug, Clone)]
enum Answer {
    /// RFC 6749 / 6750 JSON with this `error`.
    Error(&'static str),
    /// Exactly this JSON.
    Json(Value),
    /// A token response.
    Token,
    /// A bearer challenge without an error code: `WWW-Authenticate: Bearer realm="tessera"`.
    BareChallenge,
    /// An HTML page, never cached, and no redirect.
    Page,
    /// A redirect to the client's [`REDIRECT_URI`] with this `error`, `iss`, no code, and
    /// the caller's `state` (`true`) or none (`false`).
    ClientError(&'static str, bool),
    /// A redirect to this path of the server.
    RedirectTo(&'static str),
    /// Only the status counts.
    Status,
}

/// A header the answer must carry (beyond those the [`Answer`] implies).
#[derive(Debug, Clone)]
enum Rule {
    /// Present with a whole number of seconds.
    Seconds(&'static str),
    /// Present.
    Present(&'static str),
}

/// The body of a case's request.
#[derive(Debug, Clone)]
enum Body {
    None,
    /// `application/x-www-form-urlencoded` pairs (client credentials may be added).
    Form(Vec<(String, String)>),
    /// A content type and raw bytes.
    Raw(String, Vec<u8>),
}

/// One request and the answer it must get.
struct Case {
    name: String,
    who: Who,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Body,
    status: StatusCode,
    answer: Answer,
    rules: Vec<Rule>,
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn urlencode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Case {
    fn new(name: impl Into<String>, method: Method, path: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            who: Who::Stranger,
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Body::None,
            status: StatusCode::OK,
            answer: Answer::Status,
            rules: Vec::new(),
        }
    }

    /// `GET path`.
    fn get(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, Method::GET, path)
    }

    /// `GET path?query`.
    fn get_query(name: impl Into<String>, path: &str, query: &[(&str, &str)]) -> Self {
        Self::get(name, format!("{path}?{}", urlencode(&owned(query))))
    }

    /// `POST path` with an urlencoded form.
    fn post(name: impl Into<String>, path: impl Into<String>, form: &[(&str, &str)]) -> Self {
        let mut case = Self::new(name, Method::POST, path);
        case.body = Body::Form(owned(form));
        case
    }

    /// `POST path` with this content type and body.
    fn post_raw(
        name: impl Into<String>,
        path: impl Into<String>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        let mut case = Self::new(name, Method::POST, path);
        case.body = Body::Raw(content_type.to_owned(), body.into());
        case
    }

    fn by(mut self, who: Who) -> Self {
        self.who = who;
        self
    }

    /// Adds a header with these raw bytes (which need not be text).
    fn header(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        let value = HeaderValue::from_bytes(value.as_ref())
            .unwrap_or_else(|e| panic!("{}: header value: {e}", self.name));
        self.headers.push((HeaderName::from_static(name), value));
        self
    }

    /// `Authorization: Basic base64(id:secret)`, neither part percent-encoded.
    fn basic(self, id: &str, secret: &str) -> Self {
        let encoded = STANDARD.encode(format!("{id}:{secret}"));
        self.header("authorization", format!("Basic {encoded}"))
    }

    /// `Authorization: Bearer token`.
    fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// Adds form fields.
    fn with(mut self, pairs: &[(&str, &str)]) -> Self {
        match &mut self.body {
            Body::Form(form) => form.extend(owned(pairs)),
            _ => panic!("{}: fields added to a non-form body", self.name),
        }
        self
    }

    /// The client's credentials, as its registered method sends them.
    fn authenticated_as(self, client: &RegisteredClient) -> Self {
        match client.auth_method.as_str() {
            "client_secret_basic" => {
                let (id, secret) = client.basic();
                self.basic(id, secret)
            }
            "client_secret_post" => self.with(&[
                ("client_id", &client.id),
                (
                    "client_secret",
                    client.secret.as_deref().unwrap_or_default(),
                ),
            ]),
            _ => self.with(&[("client_id", &client.id)]),
        }
    }

    fn answers(mut self, status: u16, answer: Answer) -> Self {
        self.status = StatusCode::from_u16(status).expect("a status code");
        self.answer = answer;
        self
    }

    fn must_have(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Whether the request tries HTTP Basic.
    fn tries_basic(&self) -> bool {
        self.headers.iter().any(|(name, value)| {
            name == "authorization"
                && value
                    .as_bytes()
                    .get(..6)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"basic "))
        })
    }

    /// Whether the path is an endpoint apps call, whose answers are never cached.
    fn is_app_endpoint(&self) -> bool {
        [TOKEN, REVOKE, INTROSPECT].contains(&self.path.as_str())
    }

    /// Whether the request asks the authorization endpoint for the implicit grant.
    fn is_implicit(&self) -> bool {
        Url::parse("http://tessera.test")
            .and_then(|base| base.join(&self.path))
            .is_ok_and(|url| query_param(&url, "response_type").as_deref() == Some("token"))
    }

    /// Whether the path is a bearer-protected resource.
    fn is_bearer_resource(&self) -> bool {
        let path = self.path.split('?').next().unwrap_or_default();
        [API_ME, USERINFO].contains(&path)
    }
}

/// The server, its browsers, and everything the cases present.
struct Fixtures {
    /// The stranger's browser (never signed in).
    app: TestApp,
    visitor: TestApp,
    visitor_csrf: String,
    member: TestApp,
    member_csrf: String,
    user: TestUser,
    /// Signed up and locked out of signing in (wrong passwords).
    lockee: TestUser,
    /// Confidential (Basic): code, refresh, password, client credentials; two redirect URIs.
    web: RegisteredClient,
    /// Confidential (Basic), another owner's app of the same kind: the thief.
    other: RegisteredClient,
    /// `client_secret_post`: password and client credentials.
    post: RegisteredClient,
    /// Public: code (PKCE) and refresh.
    spa: RegisteredClient,
    /// Confidential (Basic), client credentials only; never approved by anyone.
    machine: RegisteredClient,
    /// Confidential (Basic), locked out by wrong secrets.
    locked: RegisteredClient,
    pkce: Pkce,
    /// web's `profile` tokens for the member.
    profile: Tokens,
    /// web's `openid profile` tokens (with an ID token) for the member.
    openid: Tokens,
    /// web's `email` tokens (no `profile`, no `openid`).
    email_only: Tokens,
    /// web's client-credentials token (no user).
    machine_token: String,
    /// web's tokens whose refresh token a case tries to widen (never rotated).
    escalate: Tokens,
    /// web's first pair and the pair its refresh gave (the first refresh token is rotated).
    rotated: (Tokens, Tokens),
    /// web's tokens, revoked (refresh token revoked, so the access token too).
    revoked: Tokens,
    /// other's `profile` tokens for the member.
    foreign: Tokens,
    /// web codes for the member, each for one case: redeemed once already; presented by
    /// the thief (then by web); redeemed with the other redirect URI; without the
    /// redirect URI; with a verifier it never had; twice in one request.
    code_reused: String,
    code_stolen: String,
    code_wrong_redirect: String,
    code_missing_redirect: String,
    code_unexpected_verifier: String,
    code_duplicated: String,
    /// spa codes (challenge of [`Fixtures::pkce`]), one per PKCE case; `spa_code_kept` is
    /// presented without proper client authentication and then redeemed properly.
    spa_codes: Vec<String>,
    spa_code_kept: String,
}

/// A fresh code for the member from `client` (with `prompt=consent`, so the consent page shows
/// even after an earlier Allow).
async fn fresh_code(member: &TestApp, client: &RegisteredClient, pkce: Option<&Pkce>) -> String {
    let mut query = client.code_query("profile", pkce);
    query.push(("prompt", "consent"));
    client.authorization_code_for(member, &query).await
}

/// `len` characters that do not compress (hex digits of random UUIDs).
fn random_text(len: usize) -> String {
    let mut text = String::with_capacity(len + 32);
    while text.len() < len {
        text.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    text.truncate(len);
    text
}

/// Every byte as `%XX` (RFC 6749 §2.3.1 encodes the Basic credentials this way).
fn percent_all(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

async fn fixtures(backend: Backend) -> Fixtures {
    let max_failures = MAX_FAILURES.to_string();
    let app = spawn_app_with(backend, &[("TESSERA_MAX_FAILURES", &max_failures)]).await;
    let member = app.another_browser();
    let user = member.signed_up_user().await;
    let lockee = app.another_browser().signed_up_user().await;
    let owner = app.another_browser();
    owner.signed_up_user().await;
    let all_grants = [
        "authorization_code",
        "refresh_token",
        "password",
        "client_credentials",
    ];
    let web = TestClient::confidential(&all_grants, "openid profile email")
        .extra_redirect_uri(SECOND_URI)
        .post_logout_redirect_uri(BYE)
        .register_as(&owner)
        .await;
    let thief = app.another_browser();
    thief.signed_up_user().await;
    let other = TestClient::confidential(&all_grants, "profile")
        .register_as(&thief)
        .await;
    let post = TestClient::confidential(&["password", "client_credentials"], "profile")
        .auth_method("client_secret_post")
        .register_as(&owner)
        .await;
    let spa = TestClient::public(&["authorization_code", "refresh_token"], "openid profile")
        .register_as(&owner)
        .await;
    let machine = TestClient::confidential(&["client_credentials"], "profile")
        .register_as(&owner)
        .await;
    let locked = TestClient::confidential(&["client_credentials"], "profile")
        .register_as(&owner)
        .await;

    let profile = web.password_tokens(&app, &user, "profile").await;
    let openid = web.password_tokens(&app, &user, "openid profile").await;
    let email_only = web.password_tokens(&app, &user, "email").await;
    let machine_token = web.client_credentials_token(&app, "profile").await["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let escalate = web.password_tokens(&app, &user, "profile").await;
    let first = web.password_tokens(&app, &user, "profile").await;
    let second = web.refreshed(&app, first.refresh_token(), None).await;
    let revoked = web.password_tokens(&app, &user, "profile").await;
    let response = web
        .post_revoke(&app, &[("token", revoked.refresh_token())])
        .await;
    assert_eq!(response.status(), StatusCode::OK, "revoking the fixture");
    let foreign = other.password_tokens(&app, &user, "profile").await;

    let code_reused = fresh_code(&member, &web, None).await;
    crate::helpers::assert_token(web.redeem_code(&app, &code_reused, None).await).await;
    let code_stolen = fresh_code(&member, &web, None).await;
    let code_wrong_redirect = fresh_code(&member, &web, None).await;
    let code_missing_redirect = fresh_code(&member, &web, None).await;
    let code_unexpected_verifier = fresh_code(&member, &web, None).await;
    let code_duplicated = fresh_code(&member, &web, None).await;
    let pkce = Pkce::s256();
    let mut spa_codes = Vec::new();
    for _ in 0..6 {
        spa_codes.push(fresh_code(&member, &spa, Some(&pkce)).await);
    }
    let spa_code_kept = fresh_code(&member, &spa, Some(&pkce)).await;

    // Lock `locked` (wrong secrets) and `lockee` (wrong passwords).
    for _ in 0..MAX_FAILURES {
        let response = locked
            .with_secret("wrong")
            .client_credentials(&app, "profile")
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "locking a client"
        );
        let response = web
            .password_grant_as(&app, &lockee.username, "wrong password", "profile")
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "locking a user");
    }

    let member_csrf = member.csrf_token("/").await;
    let visitor = app.another_browser();
    let visitor_csrf = visitor.csrf_token("/login").await;
    Fixtures {
        app,
        visitor,
        visitor_csrf,
        member,
        member_csrf,
        user,
        lockee,
        web,
        other,
        post,
        spa,
        machine,
        locked,
        pkce,
        profile,
        openid,
        email_only,
        machine_token,
        escalate,
        rotated: (first, second),
        revoked,
        foreign,
        code_reused,
        code_stolen,
        code_wrong_redirect,
        code_missing_redirect,
        code_unexpected_verifier,
        code_duplicated,
        spa_codes,
        spa_code_kept,
    }
}

impl Fixtures {
    fn browser(&self, who: Who) -> &TestApp {
        match who {
            Who::Stranger => &self.app,
            Who::Visitor => &self.visitor,
            Who::Member => &self.member,
        }
    }

    /// The web client's code-flow query with these changes (`None` drops the parameter).
    fn web_query<'a>(&'a self, changes: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, &'a str)> {
        edit(self.web.code_query("profile", None), changes)
    }

    /// The public client's code-flow query (S256 challenge) with these changes.
    fn spa_query<'a>(&'a self, changes: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, &'a str)> {
        edit(self.spa.code_query("profile", Some(&self.pkce)), changes)
    }
}

/// `query` with `name` sent once more (RFC 6749 §3.1 forbids it).
fn twice<'a>(
    mut query: Vec<(&'a str, &'a str)>,
    name: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    query.push((name, value));
    query
}

/// `query` with each named parameter replaced (or dropped for `None`); names not in it are
/// appended.
fn edit<'a>(
    mut query: Vec<(&'a str, &'a str)>,
    changes: &[(&'a str, Option<&'a str>)],
) -> Vec<(&'a str, &'a str)> {
    for &(name, value) in changes {
        let at = query.iter().position(|(key, _)| *key == name);
        match (at, value) {
            (Some(at), Some(value)) => query[at].1 = value,
            (Some(at), None) => {
                query.remove(at);
            }
            (None, Some(value)) => query.push((name, value)),
            (None, None) => {}
        }
    }
    query
}

/// Client authentication at the token endpoint: one method, the registered one, one client.
fn client_auth_cases(f: &Fixtures) -> Vec<Case> {
    let (id, secret) = f.web.basic();
    let other_secret = f.other.secret.as_deref().expect("a secret");
    let post_secret = f.post.secret.as_deref().expect("a secret");
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", "x")];
    vec![
        Case::post("auth: Basic and client_secret in the body", TOKEN, &CC)
            .with(&[("client_secret", secret)])
            .basic(id, secret)
            .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "auth: Basic and the same client_id + client_secret in the body",
            TOKEN,
            &CC,
        )
        .with(&[("client_id", id), ("client_secret", secret)])
        .basic(id, secret)
        .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: Basic with another client_id in the body", TOKEN, &CC)
            .with(&[("client_id", &f.other.id)])
            .basic(id, secret)
            .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "control: Basic with the same client_id in the body",
            TOKEN,
            &CC,
        )
        .with(&[("client_id", id)])
        .basic(id, secret)
        .answers(200, Answer::Token),
        Case::post(
            "auth: a client_secret_basic client authenticating in the body",
            TOKEN,
            &CC,
        )
        .with(&[("client_id", id), ("client_secret", secret)])
        .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: a client_secret_post client using Basic", TOKEN, &CC)
            .basic(&f.post.id, post_secret)
            .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "control: the client_secret_post client in the body",
            TOKEN,
            &CC,
        )
        .authenticated_as(&f.post)
        .answers(200, Answer::Token),
        Case::post(
            "auth: a confidential client sending only its client_id",
            TOKEN,
            &CC,
        )
        .with(&[("client_id", id)])
        .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "auth: a public client presenting a client_secret",
            TOKEN,
            &refresh,
        )
        .with(&[("client_id", &f.spa.id), ("client_secret", "anything")])
        .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "auth: a public client using Basic with an empty secret",
            TOKEN,
            &refresh,
        )
        .basic(&f.spa.id, "")
        .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "auth: a public client presenting another client's secret",
            TOKEN,
            &refresh,
        )
        .with(&[("client_id", &f.spa.id), ("client_secret", secret)])
        .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: a client_id with another client's secret", TOKEN, &CC)
            .basic(id, other_secret)
            .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "auth: another client's id with this client's secret",
            TOKEN,
            &CC,
        )
        .basic(&f.other.id, secret)
        .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: an unknown client with Basic", TOKEN, &CC)
            .basic("no-such-client", "secret")
            .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: an unknown client_id alone", TOKEN, &CC)
            .with(&[("client_id", "no-such-client")])
            .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: no client credentials at all", TOKEN, &CC)
            .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: client_secret without client_id", TOKEN, &CC)
            .with(&[("client_secret", secret)])
            .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "auth: a bearer token instead of client credentials",
            TOKEN,
            &CC,
        )
        .bearer(&f.profile.access)
        .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: Basic with id and secret swapped", TOKEN, &CC)
            .basic(secret, id)
            .answers(401, Answer::Error("invalid_client")),
        Case::post("auth: the client_id twice in the body", TOKEN, &CC)
            .with(&[("client_id", &f.post.id), ("client_id", &f.post.id)])
            .with(&[("client_secret", post_secret)])
            .answers(400, Answer::Error("invalid_request")),
        Case::post("auth: the client_secret twice in the body", TOKEN, &CC)
            .with(&[("client_id", &f.post.id)])
            .with(&[
                ("client_secret", post_secret),
                ("client_secret", post_secret),
            ])
            .answers(400, Answer::Error("invalid_request")),
    ]
}

/// Malformed `Authorization` headers at the token endpoint (RFC 7617, RFC 6749 §2.3.1).
fn basic_header_cases(f: &Fixtures) -> Vec<Case> {
    let (id, secret) = f.web.basic();
    let encoded = STANDARD.encode(format!("{id}:{secret}"));
    let cc = |name: &str| Case::post(name, TOKEN, &CC);
    let refused = Answer::Error("invalid_client");
    let mut non_utf8 = b"\xff\xfe".to_vec();
    non_utf8.push(b':');
    non_utf8.extend_from_slice(secret.as_bytes());
    let mut raw_bytes = b"Basic ".to_vec();
    raw_bytes.extend_from_slice(b"\xff\xfe\xfd");
    vec![
        cc("basic: the scheme alone")
            .header("authorization", "Basic")
            .answers(401, refused.clone()),
        cc("basic: the scheme and a space")
            .header("authorization", "Basic ")
            .answers(401, refused.clone()),
        cc("basic: credentials that are not base64")
            .header("authorization", "Basic !!not*base64!!")
            .answers(401, refused.clone()),
        cc("basic: base64 without a colon")
            .header("authorization", format!("Basic {}", STANDARD.encode(id)))
            .answers(401, refused.clone()),
        cc("basic: base64 of bytes that are not UTF-8")
            .header(
                "authorization",
                format!("Basic {}", STANDARD.encode(&non_utf8)),
            )
            .answers(401, refused.clone()),
        cc("basic: raw bytes that are not ASCII in the header")
            .header("authorization", &raw_bytes)
            .answers(401, refused.clone()),
        cc("basic: a percent-encoded NUL in the client_id")
            .basic(&format!("{id}%00"), secret)
            .answers(401, refused.clone()),
        cc("basic: a wrong secret")
            .basic(id, "wrong-secret")
            .answers(401, refused.clone()),
        cc("basic: the secret with one more character")
            .basic(id, &format!("{secret}x"))
            .answers(401, refused.clone()),
        cc("basic: the secret one character short")
            .basic(id, &secret[..secret.len() - 1])
            .answers(401, refused.clone()),
        cc("basic: the secret followed by '+', which decodes to a space")
            .basic(id, &format!("{secret}+"))
            .answers(401, refused.clone()),
        cc("basic: a second colon and more after the secret")
            .basic(id, &format!("{secret}:{secret}"))
            .answers(401, refused.clone()),
        cc("basic: an empty secret for a confidential client")
            .basic(id, "")
            .answers(401, refused.clone()),
        cc("basic: a 20 KiB random client_id")
            .basic(&random_text(20 * 1024), secret)
            .answers(401, refused.clone()),
        cc("basic: the credentials without a scheme")
            .header("authorization", &encoded)
            .answers(401, refused.clone()),
        cc("basic: the credentials under the Bearer scheme")
            .header("authorization", format!("Bearer {encoded}"))
            .answers(401, refused.clone()),
        cc("basic: a percent-encoded client_id with a wrong secret")
            .basic(&percent_all(id), "wrong-secret")
            .answers(401, refused.clone()),
        cc("basic: two Authorization headers naming two clients")
            .basic(id, secret)
            .basic(&f.post.id, f.post.secret.as_deref().unwrap_or_default())
            .answers(401, refused.clone()),
        cc("control: the scheme in lower case")
            .header("authorization", format!("basic {encoded}"))
            .answers(200, Answer::Token),
        cc("control: the scheme in upper case")
            .header("authorization", format!("BASIC {encoded}"))
            .answers(200, Answer::Token),
        cc("control: several spaces after the scheme")
            .header("authorization", format!("Basic   {encoded}"))
            .answers(200, Answer::Token),
        cc("control: id and secret percent-encoded (RFC 6749 §2.3.1)")
            .basic(&percent_all(id), &percent_all(secret))
            .answers(200, Answer::Token),
        cc("basic: a 100 KiB Authorization header")
            .header(
                "authorization",
                format!("Basic {}", "QUFB".repeat(25 * 1024)),
            )
            .answers(401, refused.clone()),
        (0..100)
            .fold(cc("headers: 100 header fields"), |case, _| {
                case.header("x-filler", "x")
            })
            .header("connection", "close")
            .answers(431, Answer::Status),
    ]
}

/// The authorization code grant, PKCE included (DESIGN §4).
fn code_grant_cases(f: &Fixtures) -> Vec<Case> {
    let redeem = |name: &str, client: &RegisteredClient, code: &str| {
        Case::post(
            name,
            TOKEN,
            &[("grant_type", "authorization_code"), ("code", code)],
        )
        .with(&[("redirect_uri", REDIRECT_URI)])
        .authenticated_as(client)
    };
    let grant = Answer::Error("invalid_grant");
    let invalid = Answer::Error("invalid_request");
    let verifier = f.pkce.verifier.as_str();
    let [no_verifier, wrong, short, long, plain, bad_chars] =
        <[String; 6]>::try_from(f.spa_codes.clone()).expect("six spa codes");
    let pkce = |name: &str, code: &str, verifier: Option<&str>| {
        let case = redeem(name, &f.spa, code);
        match verifier {
            Some(verifier) => case.with(&[("code_verifier", verifier)]),
            None => case,
        }
    };
    vec![
        Case::post(
            "code: no code",
            TOKEN,
            &[("grant_type", "authorization_code")],
        )
        .authenticated_as(&f.web)
        .answers(400, invalid.clone()),
        redeem("code: an empty code", &f.web, "").answers(400, invalid.clone()),
        redeem("code: an unknown code", &f.web, "no-such-code").answers(400, grant.clone()),
        redeem("code: the code twice", &f.web, &f.code_duplicated)
            .with(&[("code", &f.code_duplicated)])
            .answers(400, invalid.clone()),
        redeem("code: the redirect_uri twice", &f.web, &f.code_duplicated)
            .with(&[("redirect_uri", REDIRECT_URI)])
            .answers(400, invalid.clone()),
        redeem("code: a code redeemed before", &f.web, &f.code_reused).answers(400, grant.clone()),
        redeem("code: another client's code", &f.other, &f.code_stolen).answers(400, grant.clone()),
        redeem(
            "control: its client redeems the code another client presented",
            &f.web,
            &f.code_stolen,
        )
        .answers(200, Answer::Token),
        Case::post(
            "code: another registered redirect_uri than the request's",
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &f.code_wrong_redirect),
                ("redirect_uri", SECOND_URI),
            ],
        )
        .authenticated_as(&f.web)
        .answers(400, grant.clone()),
        Case::post(
            "code: no redirect_uri although the request had one",
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &f.code_missing_redirect),
            ],
        )
        .authenticated_as(&f.web)
        .answers(400, grant.clone()),
        redeem(
            "code: a code_verifier for a code issued without a challenge",
            &f.web,
            &f.code_unexpected_verifier,
        )
        .with(&[("code_verifier", verifier)])
        .answers(400, invalid.clone()),
        redeem(
            "code: a refresh token as the code",
            &f.web,
            f.profile.refresh_token(),
        )
        .answers(400, grant.clone()),
        redeem(
            "code: a client not registered for the grant",
            &f.machine,
            "any-code",
        )
        .answers(400, Answer::Error("unauthorized_client")),
        pkce("pkce: no code_verifier", &no_verifier, None).answers(400, grant.clone()),
        pkce(
            "pkce: a wrong code_verifier",
            &wrong,
            Some(&Pkce::s256().verifier),
        )
        .answers(400, grant.clone()),
        pkce(
            "pkce: a 42-character code_verifier",
            &short,
            Some(&verifier[..42]),
        )
        .answers(400, grant.clone()),
        pkce(
            "pkce: a 129-character code_verifier",
            &long,
            Some(&format!("{verifier}{}", "a".repeat(129 - verifier.len()))),
        )
        .answers(400, grant.clone()),
        pkce(
            "pkce: the challenge as the verifier (a plain downgrade)",
            &plain,
            Some(&f.pkce.challenge),
        )
        .answers(400, grant.clone()),
        pkce(
            "pkce: a verifier with characters outside [A-Za-z0-9-._~]",
            &bad_chars,
            Some(&format!("{}+/=", &verifier[..40])),
        )
        .answers(400, grant.clone()),
        pkce(
            "pkce: the code_verifier twice",
            &f.spa_code_kept,
            Some(verifier),
        )
        .with(&[("code_verifier", verifier)])
        .answers(400, invalid.clone()),
        Case::post(
            "pkce: a public client's code without its client_id",
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &f.spa_code_kept),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ],
        )
        .answers(401, Answer::Error("invalid_client")),
        pkce(
            "pkce: a public client's code with a client_secret",
            &f.spa_code_kept,
            Some(verifier),
        )
        .with(&[("client_secret", "made-up")])
        .answers(401, Answer::Error("invalid_client")),
        pkce(
            "control: the right verifier after the refused attempts",
            &f.spa_code_kept,
            Some(verifier),
        )
        .answers(200, Answer::Token),
    ]
}

/// The refresh token grant: rotation, reuse, scope (DESIGN §4).
fn refresh_cases(f: &Fixtures) -> Vec<Case> {
    let refresh = |name: &str, client: &RegisteredClient, token: &str| {
        Case::post(
            name,
            TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
        .authenticated_as(client)
    };
    let grant = Answer::Error("invalid_grant");
    let invalid = Answer::Error("invalid_request");
    let escalate = f.escalate.refresh_token();
    let (first, second) = &f.rotated;
    vec![
        Case::post(
            "refresh: no refresh_token",
            TOKEN,
            &[("grant_type", "refresh_token")],
        )
        .authenticated_as(&f.web)
        .answers(400, invalid.clone()),
        refresh("refresh: an unknown refresh token", &f.web, "no-such-token")
            .answers(400, grant.clone()),
        refresh("refresh: the refresh_token twice", &f.web, escalate)
            .with(&[("refresh_token", escalate)])
            .answers(400, invalid.clone()),
        refresh("refresh: the scope twice", &f.web, escalate)
            .with(&[("scope", "profile"), ("scope", "profile")])
            .answers(400, invalid.clone()),
        refresh(
            "refresh: an access token as the refresh token",
            &f.web,
            &f.escalate.access,
        )
        .answers(400, grant.clone()),
        refresh(
            "refresh: another client's refresh token",
            &f.web,
            f.foreign.refresh_token(),
        )
        .answers(400, grant.clone()),
        refresh("refresh: a wider scope than granted", &f.web, escalate)
            .with(&[("scope", "profile email")])
            .answers(400, Answer::Error("invalid_scope")),
        refresh("refresh: a scope never registered", &f.web, escalate)
            .with(&[("scope", "profile admin")])
            .answers(400, Answer::Error("invalid_scope")),
        refresh(
            "refresh: a scope with a character RFC 6749 forbids",
            &f.web,
            escalate,
        )
        .with(&[("scope", "pro\\file")])
        .answers(400, Answer::Error("invalid_scope")),
        refresh(
            "refresh: a revoked refresh token",
            &f.web,
            f.revoked.refresh_token(),
        )
        .answers(400, grant.clone()),
        refresh(
            "refresh: a client not registered for the grant",
            &f.machine,
            escalate,
        )
        .answers(400, Answer::Error("unauthorized_client")),
        Case::post(
            "refresh: no client authentication",
            TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", escalate)],
        )
        .answers(401, Answer::Error("invalid_client")),
        refresh(
            "refresh: a rotated refresh token presented again",
            &f.web,
            first.refresh_token(),
        )
        .answers(400, grant.clone()),
        refresh(
            "refresh: the successor of a replayed refresh token (chain revoked)",
            &f.web,
            second.refresh_token(),
        )
        .answers(400, grant.clone()),
        Case::get(
            "refresh: the successor's access token is revoked too",
            API_ME,
        )
        .bearer(&second.access)
        .answers(401, Answer::Error("invalid_token")),
        refresh(
            "control: the widened token still refreshes",
            &f.web,
            escalate,
        )
        .answers(200, Answer::Token),
    ]
}

/// The password grant.
fn password_cases(f: &Fixtures) -> Vec<Case> {
    let password = |name: &str, username: &str, password: &str| {
        Case::post(
            name,
            TOKEN,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ],
        )
        .authenticated_as(&f.web)
    };
    let user = &f.user;
    let invalid = Answer::Error("invalid_request");
    vec![
        Case::post(
            "password: no username",
            TOKEN,
            &[("grant_type", "password"), ("password", &user.password)],
        )
        .authenticated_as(&f.web)
        .answers(400, invalid.clone()),
        Case::post(
            "password: no password",
            TOKEN,
            &[("grant_type", "password"), ("username", &user.username)],
        )
        .authenticated_as(&f.web)
        .answers(400, invalid.clone()),
        password(
            "password: the username twice",
            &user.username,
            &user.password,
        )
        .with(&[("username", &user.username)])
        .answers(400, invalid.clone()),
        password(
            "password: the password twice",
            &user.username,
            &user.password,
        )
        .with(&[("password", &user.password)])
        .answers(400, invalid.clone()),
        password(
            "password: a wrong password",
            &user.username,
            "not the password",
        )
        .answers(400, Answer::Error("invalid_grant")),
        password(
            "password: an unknown user",
            "nobody-at-all",
            "whatever it is",
        )
        .answers(400, Answer::Error("invalid_grant")),
        password(
            "password: an 8 KiB random username",
            &random_text(8 * 1024),
            "whatever",
        )
        .answers(400, Answer::Error("invalid_grant")),
        password(
            "password: a scope never registered",
            &user.username,
            &user.password,
        )
        .with(&[("scope", "profile admin")])
        .answers(400, Answer::Error("invalid_scope")),
        Case::post(
            "password: a client not registered for the grant",
            TOKEN,
            &[
                ("grant_type", "password"),
                ("username", &user.username),
                ("password", &user.password),
            ],
        )
        .authenticated_as(&f.machine)
        .answers(400, Answer::Error("unauthorized_client")),
    ]
}

/// `grant_type` itself, and the client credentials grant.
fn grant_type_cases(f: &Fixtures) -> Vec<Case> {
    let with_grant = |name: &str, grant: &str| {
        Case::post(name, TOKEN, &[("grant_type", grant), ("scope", "profile")])
            .authenticated_as(&f.web)
    };
    let unsupported = Answer::Error("unsupported_grant_type");
    vec![
        Case::post("grant: no grant_type", TOKEN, &[("scope", "profile")])
            .authenticated_as(&f.web)
            .answers(400, Answer::Error("invalid_request")),
        with_grant("grant: an empty grant_type", "").answers(400, Answer::Error("invalid_request")),
        with_grant("grant: grant_type twice", "client_credentials")
            .with(&[("grant_type", "client_credentials")])
            .answers(400, Answer::Error("invalid_request")),
        with_grant("grant: an unknown grant_type", "urn:example:magic")
            .answers(400, unsupported.clone()),
        with_grant("grant: implicit is no token request", "implicit")
            .answers(400, unsupported.clone()),
        with_grant(
            "grant: the device code grant, for a client not registered for it",
            "urn:ietf:params:oauth:grant-type:device_code",
        )
        .with(&[("device_code", "anything")])
        .answers(400, Answer::Error("unauthorized_client")),
        with_grant(
            "grant: the JWT bearer grant (not served)",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        )
        .answers(400, unsupported.clone()),
        with_grant("grant: a grant_type in another case", "Client_Credentials")
            .answers(400, unsupported.clone()),
        with_grant("cc: the scope twice", "client_credentials")
            .with(&[("scope", "profile")])
            .answers(400, Answer::Error("invalid_request")),
        Case::post(
            "cc: a scope never registered",
            TOKEN,
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .authenticated_as(&f.web)
        .answers(400, Answer::Error("invalid_scope")),
        Case::post(
            "cc: 60 KiB of random scope",
            TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("scope", &random_text(60 * 1024)),
            ],
        )
        .authenticated_as(&f.web)
        .answers(400, Answer::Error("invalid_scope")),
        Case::post("cc: a client not registered for the grant", TOKEN, &CC)
            .authenticated_as(&f.spa)
            .answers(400, Answer::Error("unauthorized_client")),
    ]
}

/// Content types, sizes and encodings of bodies, at the token endpoint and the pages.
fn body_cases(f: &Fixtures) -> Vec<Case> {
    let (id, secret) = f.web.basic();
    let invalid = Answer::Error("invalid_request");
    let multipart = |fields: &[(&str, &str)]| {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str("--XyZ--\r\n");
        body
    };
    let many: Vec<(String, String)> = (0..65).map(|i| (format!("f{i}"), "v".to_owned())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let unknown_params: String = (0..5000).map(|i| format!("&x{i}=1")).collect();
    let oversized = format!("grant_type=client_credentials&x={}", "a".repeat(OVERSIZED));
    let file_part = "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"; filename=\"g.txt\"\r\nContent-Type: text/plain\r\n\r\nclient_credentials\r\n--XyZ--\r\n";
    let mut cases = vec![
        Case::post_raw(
            "body: JSON at the token endpoint",
            TOKEN,
            "application/json",
            r#"{"grant_type":"client_credentials"}"#,
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: text/plain",
            TOKEN,
            "text/plain",
            "grant_type=client_credentials",
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: a multipart file part",
            TOKEN,
            "multipart/form-data; boundary=XyZ",
            file_part,
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: malformed multipart",
            TOKEN,
            "multipart/form-data; boundary=XyZ",
            "--XyZ\r\nno headers here",
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: multipart without a boundary",
            TOKEN,
            "multipart/form-data",
            multipart(&CC),
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: multipart with 65 fields",
            TOKEN,
            "multipart/form-data; boundary=XyZ",
            multipart(&many),
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: invalid UTF-8 after percent-decoding",
            TOKEN,
            FORM,
            "grant_type=client_credentials&scope=%FF%FE",
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "body: a NUL in a value",
            TOKEN,
            FORM,
            "grant_type=client_credentials&scope=pro%00file",
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::post_raw(
            "control: multipart/form-data",
            TOKEN,
            "multipart/form-data; boundary=XyZ",
            multipart(&CC),
        )
        .basic(id, secret)
        .answers(200, Answer::Token),
        Case::post_raw(
            "control: urlencoded with a charset",
            TOKEN,
            "application/x-www-form-urlencoded; charset=UTF-8",
            "grant_type=client_credentials&scope=profile",
        )
        .basic(id, secret)
        .answers(200, Answer::Token),
        Case::post_raw(
            "control: 5000 unknown parameters are ignored",
            TOKEN,
            FORM,
            format!("grant_type=client_credentials&scope=profile{unknown_params}"),
        )
        .basic(id, secret)
        .answers(200, Answer::Token),
    ];
    for path in [TOKEN, REVOKE, INTROSPECT] {
        cases.push(
            Case::post_raw(
                format!("body: a 70 KiB form at {path}"),
                path,
                FORM,
                oversized.clone(),
            )
            .basic(id, secret)
            .answers(413, invalid.clone()),
        );
    }
    for path in [
        "/login",
        "/signup",
        "/logout",
        "/create_client",
        AUTHORIZE,
        END_SESSION,
        "/clients/x/delete",
        "/clients/x/rotate_secret",
        "/account/apps/x/revoke",
    ] {
        let form = format!("csrf_token={}&x={}", f.member_csrf, "a".repeat(OVERSIZED));
        cases.push(
            Case::post_raw(format!("page: a 70 KiB form at {path}"), path, FORM, form)
                .by(Who::Member)
                .answers(413, Answer::Page),
        );
    }
    for path in ["/login", "/signup"] {
        cases.push(
            Case::post_raw(
                format!("page: a JSON body at {path}"),
                path,
                "application/json",
                format!(r#"{{"csrf_token":"{}"}}"#, f.visitor_csrf),
            )
            .by(Who::Visitor)
            .answers(400, Answer::Page),
        );
    }
    cases
}

/// Revocation (RFC 7009, DESIGN §4).
fn revoke_cases(f: &Fixtures) -> Vec<Case> {
    let (id, secret) = f.web.basic();
    let revoke =
        |name: &str, form: &[(&str, &str)]| Case::post(name, REVOKE, form).authenticated_as(&f.web);
    let invalid = Answer::Error("invalid_request");
    let token = f.escalate.access.as_str();
    vec![
        revoke("revoke: no token", &[]).answers(400, invalid.clone()),
        revoke("revoke: an empty token", &[("token", "")]).answers(400, invalid.clone()),
        revoke(
            "revoke: the token twice",
            &[("token", token), ("token", token)],
        )
        .answers(400, invalid.clone()),
        revoke(
            "revoke: token_type_hint twice",
            &[
                ("token", token),
                ("token_type_hint", "access_token"),
                ("token_type_hint", "access_token"),
            ],
        )
        .answers(400, invalid.clone()),
        revoke(
            "revoke: another client's access token",
            &[("token", &f.foreign.access)],
        )
        .answers(400, Answer::Error("unauthorized_client")),
        revoke(
            "revoke: another client's refresh token",
            &[("token", f.foreign.refresh_token())],
        )
        .answers(400, Answer::Error("unauthorized_client")),
        Case::get(
            "control: another client's token survives the refused revocations",
            API_ME,
        )
        .bearer(&f.foreign.access)
        .answers(200, Answer::Status),
        revoke("control: an unknown token", &[("token", "no-such-token")])
            .answers(200, Answer::Json(json!({}))),
        revoke(
            "control: an unknown token_type_hint",
            &[("token", "no-such-token"), ("token_type_hint", "banana")],
        )
        .answers(200, Answer::Json(json!({}))),
        Case::post(
            "revoke: no client authentication",
            REVOKE,
            &[("token", token)],
        )
        .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "revoke: a wrong secret with Basic",
            REVOKE,
            &[("token", token)],
        )
        .basic(id, "wrong-secret")
        .answers(401, Answer::Error("invalid_client")),
        Case::post("revoke: an unknown client", REVOKE, &[("token", token)])
            .basic("no-such-client", secret)
            .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "revoke: Basic and a client_secret in the body",
            REVOKE,
            &[("token", token)],
        )
        .with(&[("client_secret", secret)])
        .basic(id, secret)
        .answers(401, Answer::Error("invalid_client")),
        Case::post_raw(
            "revoke: a JSON body",
            REVOKE,
            "application/json",
            format!(r#"{{"token":"{token}"}}"#),
        )
        .basic(id, secret)
        .answers(400, invalid.clone()),
        Case::get(
            "control: the token of the refused requests is still active",
            API_ME,
        )
        .bearer(token)
        .answers(200, Answer::Status),
    ]
}

/// Introspection (RFC 7662, DESIGN §4).
fn introspect_cases(f: &Fixtures) -> Vec<Case> {
    let (id, _) = f.web.basic();
    let introspect = |name: &str, form: &[(&str, &str)]| {
        Case::post(name, INTROSPECT, form).authenticated_as(&f.web)
    };
    let inactive = || Answer::Json(json!({"active": false}));
    let token = f.escalate.access.as_str();
    vec![
        introspect("introspect: no token", &[]).answers(400, Answer::Error("invalid_request")),
        introspect(
            "introspect: the token twice",
            &[("token", token), ("token", token)],
        )
        .answers(400, Answer::Error("invalid_request")),
        introspect(
            "introspect: another client's access token",
            &[("token", &f.foreign.access)],
        )
        .answers(200, inactive()),
        introspect(
            "introspect: another client's refresh token",
            &[("token", f.foreign.refresh_token())],
        )
        .answers(200, inactive()),
        introspect(
            "introspect: an unknown token",
            &[("token", "no-such-token")],
        )
        .answers(200, inactive()),
        introspect(
            "introspect: a rotated refresh token",
            &[("token", f.rotated.0.refresh_token())],
        )
        .answers(200, inactive()),
        introspect(
            "introspect: a revoked access token",
            &[("token", &f.revoked.access)],
        )
        .answers(200, inactive()),
        Case::post(
            "introspect: no client authentication",
            INTROSPECT,
            &[("token", token)],
        )
        .answers(401, Answer::Error("invalid_client")),
        Case::post(
            "introspect: a wrong secret with Basic",
            INTROSPECT,
            &[("token", token)],
        )
        .basic(id, "wrong-secret")
        .answers(401, Answer::Error("invalid_client")),
    ]
}

/// Bearer-protected resources (RFC 6750): `/api/me` needs `profile`, UserInfo `openid`.
fn bearer_cases(f: &Fixtures) -> Vec<Case> {
    let mut cases = Vec::new();
    for (path, good, lacking) in [
        (API_ME, &f.profile.access, &f.email_only.access),
        (USERINFO, &f.openid.access, &f.profile.access),
    ] {
        let get = |what: &str| Case::get(format!("{path}: {what}"), path);
        let refused = || Answer::Error("invalid_token");
        let mut raw = b"Bearer ".to_vec();
        raw.extend_from_slice(b"\xff\xfe");
        cases.extend([
            get("no Authorization header").answers(401, Answer::BareChallenge),
            get("the Basic scheme")
                .basic(&f.user.username, &f.user.password)
                .answers(401, Answer::BareChallenge),
            get("the token without a scheme")
                .header("authorization", good)
                .answers(401, Answer::BareChallenge),
            get("the scheme alone")
                .header("authorization", "Bearer")
                .answers(401, Answer::BareChallenge),
            get("the scheme and a space")
                .header("authorization", "Bearer ")
                .answers(401, Answer::BareChallenge),
            get("a tab instead of the space")
                .header("authorization", format!("Bearer\t{good}"))
                .answers(401, Answer::BareChallenge),
            get("Bearer=token")
                .header("authorization", format!("Bearer={good}"))
                .answers(401, Answer::BareChallenge),
            get("raw bytes that are not ASCII")
                .header("authorization", &raw)
                .answers(401, Answer::BareChallenge),
            Case::get_query(
                format!("{path}: the token in the query string"),
                path,
                &[("access_token", good)],
            )
            .answers(401, Answer::BareChallenge),
            get("an unknown token")
                .bearer("no-such-token")
                .answers(401, refused()),
            get("the token and more after a space")
                .bearer(&format!("{good} {good}"))
                .answers(401, refused()),
            get("the token twice, comma separated")
                .bearer(&format!("{good}, Bearer {good}"))
                .answers(401, refused()),
            get("two Authorization headers, the valid one second")
                .bearer("no-such-token")
                .bearer(good)
                .answers(400, Answer::Error("invalid_request")),
            get("two Authorization headers, the valid one first")
                .bearer(good)
                .bearer("no-such-token")
                .answers(400, Answer::Error("invalid_request")),
            get("a revoked token")
                .bearer(&f.revoked.access)
                .answers(401, refused()),
            get("a refresh token")
                .bearer(f.profile.refresh_token())
                .answers(401, refused()),
            get("a 16 KiB token")
                .bearer(&random_text(16 * 1024))
                .answers(401, refused()),
            get("a token without the scope it needs")
                .bearer(lacking)
                .answers(403, Answer::Error("insufficient_scope")),
            get("a client-credentials token (no user)")
                .bearer(&f.machine_token)
                .answers(403, Answer::Error("insufficient_scope")),
            get("control: the scheme in lower case")
                .header("authorization", format!("bearer {good}"))
                .answers(200, Answer::Status),
            get("control: the scheme in upper case")
                .header("authorization", format!("BEARER {good}"))
                .answers(200, Answer::Status),
        ]);
    }
    cases
}

/// The authorization endpoint: error pages while the client or redirect URI is in doubt,
/// redirected errors afterwards (DESIGN §3, RFC 6749 §4.1.2.1, RFC 9700 exact matching).
fn authorize_cases(f: &Fixtures) -> Vec<Case> {
    let bad_uris = [
        ("an extra path segment", "https://client.example/cb/extra"),
        ("a trailing slash", "https://client.example/cb/"),
        (
            "a prefix of the registered path",
            "https://client.example/c",
        ),
        (
            "the default port written out",
            "https://client.example:443/cb",
        ),
        ("another port", "https://client.example:8443/cb"),
        ("a query added", "https://client.example/cb?x=1"),
        ("a fragment added", "https://client.example/cb#frag"),
        ("the host in upper case", "https://CLIENT.EXAMPLE/cb"),
        ("the path in upper case", "https://client.example/CB"),
        ("the scheme in upper case", "HTTPS://client.example/cb"),
        ("http instead of https", "http://client.example/cb"),
        ("another host", "https://evil.example/cb"),
        (
            "the host as a prefix",
            "https://client.example.evil.example/cb",
        ),
        ("a dot segment", "https://client.example/cb/../cb"),
        ("a percent-encoded path", "https://client.example/%63b"),
        ("userinfo added", "https://attacker@client.example/cb"),
        ("a leading space", " https://client.example/cb"),
        ("a scheme-relative URI", "//client.example/cb"),
        ("a javascript: URI", "javascript:alert(1)"),
        ("another client's URI scheme", "com.example.app:/cb"),
    ];
    let mut cases = Vec::new();
    for who in [Who::Stranger, Who::Member] {
        let label = if who == Who::Member {
            "signed in"
        } else {
            "signed out"
        };
        for (what, uri) in bad_uris {
            cases.push(
                Case::get_query(
                    format!("authorize ({label}): redirect_uri with {what}"),
                    AUTHORIZE,
                    &f.web_query(&[("redirect_uri", Some(uri))]),
                )
                .by(who)
                .answers(400, Answer::Page),
            );
        }
        let page = |what: &str, query: &[(&str, &str)]| {
            Case::get_query(format!("authorize ({label}): {what}"), AUTHORIZE, query)
                .by(who)
                .answers(400, Answer::Page)
        };
        let web_twice = twice(f.web_query(&[]), "client_id", &f.web.id);
        let uri_twice = twice(f.web_query(&[]), "redirect_uri", REDIRECT_URI);
        cases.extend([
            page(
                "an unknown client",
                &f.web_query(&[("client_id", Some("no-such-client"))]),
            ),
            page("no client_id", &f.web_query(&[("client_id", None)])),
            page(
                "an empty client_id",
                &f.web_query(&[("client_id", Some(""))]),
            ),
            page("client_id twice", &web_twice),
            page("redirect_uri twice", &uri_twice),
            page(
                "no redirect_uri for a client with two",
                &f.web_query(&[("redirect_uri", None)]),
            ),
            page(
                "no redirect_uri in an OpenID request",
                &f.spa_query(&[("redirect_uri", None), ("scope", Some("openid"))]),
            ),
            page(
                "another client's redirect_uri",
                &f.spa_query(&[("redirect_uri", Some(SECOND_URI))]),
            ),
        ]);
    }

    let redirected = |what: &str, query: &[(&str, &str)], error: &'static str| {
        Case::get_query(format!("authorize: {what}"), AUTHORIZE, query)
            .answers(302, Answer::ClientError(error, true))
    };
    let short_challenge = &f.pkce.challenge[..42];
    let long_challenge = format!("{}{}", f.pkce.challenge, "a".repeat(129 - 43));
    let bad_challenge = format!("{}+/=", &f.pkce.challenge[..40]);
    let state_twice = twice(f.web_query(&[]), "state", STATE);
    cases.extend([
        redirected(
            "no response_type",
            &f.web_query(&[("response_type", None)]),
            "invalid_request",
        ),
        redirected(
            "response_type twice",
            &twice(f.web_query(&[]), "response_type", "code"),
            "invalid_request",
        ),
        redirected(
            "response_type id_token",
            &f.web_query(&[("response_type", Some("id_token"))]),
            "unsupported_response_type",
        ),
        redirected(
            "response_type \"code token\"",
            &f.web_query(&[("response_type", Some("code token"))]),
            "unsupported_response_type",
        ),
        redirected(
            "response_type in upper case",
            &f.web_query(&[("response_type", Some("CODE"))]),
            "unsupported_response_type",
        ),
        redirected(
            "response_type token for a client registered for code",
            &f.web_query(&[("response_type", Some("token"))]),
            "unauthorized_client",
        ),
        redirected(
            "response_type token for a public code client",
            &f.spa_query(&[("response_type", Some("token"))]),
            "unauthorized_client",
        ),
        redirected(
            "a scope past the registered ones",
            &f.web_query(&[("scope", Some("profile admin"))]),
            "invalid_scope",
        ),
        redirected(
            "a scope with a character RFC 6749 forbids",
            &f.web_query(&[("scope", Some("pro\"file"))]),
            "invalid_scope",
        ),
        redirected(
            "scope twice",
            &twice(f.web_query(&[]), "scope", "profile"),
            "invalid_request",
        ),
        Case::get_query("authorize: state twice", AUTHORIZE, &state_twice)
            .answers(302, Answer::ClientError("invalid_request", false)),
        redirected(
            "nonce twice",
            &twice(f.web_query(&[("nonce", Some("n"))]), "nonce", "n"),
            "invalid_request",
        ),
        redirected(
            "an unknown prompt",
            &f.web_query(&[("prompt", Some("bogus"))]),
            "invalid_request",
        ),
        redirected(
            "prompt=none with login",
            &f.web_query(&[("prompt", Some("none login"))]),
            "invalid_request",
        ),
        redirected(
            "prompt twice",
            &twice(f.web_query(&[("prompt", Some("login"))]), "prompt", "login"),
            "invalid_request",
        ),
        redirected(
            "max_age not a number",
            &f.web_query(&[("max_age", Some("soon"))]),
            "invalid_request",
        ),
        redirected(
            "a negative max_age",
            &f.web_query(&[("max_age", Some("-1"))]),
            "invalid_request",
        ),
        redirected(
            "a request object",
            &f.web_query(&[("request", Some("eyJhbGciOiJub25lIn0.e30."))]),
            "request_not_supported",
        ),
        redirected(
            "a request_uri",
            &f.web_query(&[("request_uri", Some("https://client.example/r"))]),
            "request_uri_not_supported",
        ),
        redirected(
            "prompt=none while signed out",
            &f.web_query(&[("prompt", Some("none"))]),
            "login_required",
        ),
        redirected(
            "a public client without code_challenge",
            &f.spa_query(&[("code_challenge", None), ("code_challenge_method", None)]),
            "invalid_request",
        ),
        redirected(
            "a public client with code_challenge_method=plain",
            &f.spa_query(&[("code_challenge_method", Some("plain"))]),
            "invalid_request",
        ),
        redirected(
            "a public client's challenge without a method (plain)",
            &f.spa_query(&[("code_challenge_method", None)]),
            "invalid_request",
        ),
        redirected(
            "a confidential client with code_challenge_method=plain",
            &f.web_query(&[
                ("code_challenge", Some(f.pkce.verifier.as_str())),
                ("code_challenge_method", Some("plain")),
            ]),
            "invalid_request",
        ),
        redirected(
            "code_challenge_method without code_challenge",
            &f.web_query(&[("code_challenge_method", Some("S256"))]),
            "invalid_request",
        ),
        redirected(
            "an unknown code_challenge_method",
            &f.spa_query(&[("code_challenge_method", Some("S512"))]),
            "invalid_request",
        ),
        redirected(
            "a 42-character code_challenge",
            &f.spa_query(&[("code_challenge", Some(short_challenge))]),
            "invalid_request",
        ),
        redirected(
            "a 129-character code_challenge",
            &f.spa_query(&[("code_challenge", Some(long_challenge.as_str()))]),
            "invalid_request",
        ),
        redirected(
            "a code_challenge with characters outside [A-Za-z0-9-._~]",
            &f.spa_query(&[("code_challenge", Some(bad_challenge.as_str()))]),
            "invalid_request",
        ),
        redirected(
            "code_challenge twice",
            &twice(f.spa_query(&[]), "code_challenge", &f.pkce.challenge),
            "invalid_request",
        ),
        redirected(
            "code_challenge_method twice",
            &twice(f.spa_query(&[]), "code_challenge_method", "S256"),
            "invalid_request",
        ),
        Case::get_query(
            "control: a valid request from a signed-out browser goes to sign in",
            AUTHORIZE,
            &f.web_query(&[]),
        )
        .answers(302, Answer::RedirectTo("/login")),
    ]);
    cases.extend(consent_cases(f));
    cases
}

/// `POST /oauth/authorize`: the consent form, forged or tampered with.
fn consent_cases(f: &Fixtures) -> Vec<Case> {
    let consent = |what: &str, changes: &[(&str, Option<&str>)]| {
        Case::post(
            format!("consent: {what}"),
            AUTHORIZE,
            &edit(f.web_query(&[]), changes),
        )
        .by(Who::Member)
    };
    let csrf = f.member_csrf.as_str();
    vec![
        consent("no csrf_token", &[("confirm", Some("yes"))]).answers(403, Answer::Page),
        consent(
            "a wrong csrf_token",
            &[("csrf_token", Some("forged")), ("confirm", Some("yes"))],
        )
        .answers(403, Answer::Page),
        consent(
            "csrf_token twice",
            &[("csrf_token", Some(csrf)), ("confirm", Some("yes"))],
        )
        .with(&[("csrf_token", csrf)])
        .answers(403, Answer::Page),
        consent(
            "another session's csrf_token",
            &[
                ("csrf_token", Some(&f.visitor_csrf)),
                ("confirm", Some("yes")),
            ],
        )
        .answers(403, Answer::Page),
        consent(
            "the redirect_uri changed to an unregistered one",
            &[
                ("redirect_uri", Some("https://evil.example/cb")),
                ("csrf_token", Some(csrf)),
                ("confirm", Some("yes")),
            ],
        )
        .answers(400, Answer::Page),
        consent(
            "the client changed to an unknown one",
            &[
                ("client_id", Some("no-such-client")),
                ("csrf_token", Some(csrf)),
                ("confirm", Some("yes")),
            ],
        )
        .answers(400, Answer::Page),
        consent(
            "the scope widened past the registered ones",
            &[
                ("scope", Some("profile admin")),
                ("csrf_token", Some(csrf)),
                ("confirm", Some("yes")),
            ],
        )
        .answers(303, Answer::ClientError("invalid_scope", true)),
        consent("no confirm", &[("csrf_token", Some(csrf))]).answers(400, Answer::Page),
        consent(
            "confirm=maybe",
            &[("csrf_token", Some(csrf)), ("confirm", Some("maybe"))],
        )
        .answers(400, Answer::Page),
    ]
}

/// RP-Initiated Logout: invalid requests are error pages, never redirects.
fn end_session_cases(f: &Fixtures) -> Vec<Case> {
    let hint = f.openid["id_token"].as_str().expect("an ID token");
    let mut parts: Vec<&str> = hint.split('.').collect();
    parts[2] = "AAAA";
    let forged = parts.join(".");
    let page = |what: &str, query: &[(&str, &str)]| {
        Case::get_query(format!("end session: {what}"), END_SESSION, query)
            .answers(400, Answer::Page)
    };
    vec![
        page(
            "an unregistered post_logout_redirect_uri",
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
        ),
        page(
            "the redirect URI (not the logout one) as post_logout_redirect_uri",
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", REDIRECT_URI),
            ],
        ),
        page(
            "post_logout_redirect_uri without hint or client_id",
            &[("post_logout_redirect_uri", BYE)],
        ),
        page("a forged id_token_hint", &[("id_token_hint", &forged)]),
        page(
            "an id_token_hint that is no JWT",
            &[("id_token_hint", "not-a-jwt")],
        ),
        page(
            "an access token as id_token_hint",
            &[("id_token_hint", &f.openid.access)],
        ),
        page("an unknown client_id", &[("client_id", "no-such-client")]),
        page(
            "a client_id other than the hint's audience",
            &[("id_token_hint", hint), ("client_id", &f.other.id)],
        ),
        page(
            "post_logout_redirect_uri twice",
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", BYE),
                ("post_logout_redirect_uri", BYE),
            ],
        ),
        page(
            "id_token_hint twice",
            &[("id_token_hint", hint), ("id_token_hint", hint)],
        ),
        Case::post(
            "end session: POST without csrf_token",
            END_SESSION,
            &[("confirm", "yes")],
        )
        .by(Who::Member)
        .answers(403, Answer::Page),
        Case::post(
            "end session: POST with a wrong csrf_token",
            END_SESSION,
            &[("confirm", "yes"), ("csrf_token", "forged")],
        )
        .by(Who::Member)
        .answers(403, Answer::Page),
    ]
}

/// A page form: its path, who posts it, and its fields (without `csrf_token`).
type PageFormCase<'a> = (String, Who, Vec<(&'a str, &'a str)>);

/// The pages people use: CSRF on every form, ownership, validation.
fn page_cases(f: &Fixtures) -> Vec<Case> {
    let mut cases = Vec::new();
    let web_page = format!("/clients/{}", f.web.id);
    let forms: [PageFormCase<'_>; 7] = [
        (
            "/login".to_owned(),
            Who::Visitor,
            vec![
                ("username", f.user.username.as_str()),
                ("password", f.user.password.as_str()),
            ],
        ),
        (
            "/signup".to_owned(),
            Who::Visitor,
            vec![
                ("username", "fresh-name"),
                ("password", "a fine long password"),
            ],
        ),
        ("/logout".to_owned(), Who::Member, vec![]),
        (
            "/create_client".to_owned(),
            Who::Member,
            vec![("client_name", "x"), ("redirect_uris", REDIRECT_URI)],
        ),
        (format!("{web_page}/delete"), Who::Member, vec![]),
        (format!("{web_page}/rotate_secret"), Who::Member, vec![]),
        (
            format!("/account/apps/{}/revoke", f.web.id),
            Who::Member,
            vec![],
        ),
    ];
    for (path, who, form) in &forms {
        let (own, foreign) = match who {
            Who::Member => (&f.member_csrf, &f.visitor_csrf),
            _ => (&f.visitor_csrf, &f.member_csrf),
        };
        let post = |what: &str| Case::post(format!("{path}: {what}"), path.as_str(), form).by(*who);
        cases.extend([
            post("no csrf_token").answers(403, Answer::Page),
            post("a wrong csrf_token")
                .with(&[("csrf_token", "forged")])
                .answers(403, Answer::Page),
            post("an empty csrf_token")
                .with(&[("csrf_token", "")])
                .answers(403, Answer::Page),
            post("csrf_token twice")
                .with(&[("csrf_token", own), ("csrf_token", own)])
                .answers(403, Answer::Page),
            post("another session's csrf_token")
                .with(&[("csrf_token", foreign)])
                .answers(403, Answer::Page),
        ]);
    }

    let visitor = |what: &str, path: &str, form: &[(&str, &str)]| {
        Case::post(format!("{path}: {what}"), path, form)
            .with(&[("csrf_token", &f.visitor_csrf)])
            .by(Who::Visitor)
    };
    let member = |what: &str, path: &str, form: &[(&str, &str)]| {
        Case::post(format!("{path}: {what}"), path, form)
            .with(&[("csrf_token", &f.member_csrf)])
            .by(Who::Member)
    };
    let long_password = "p".repeat(73);
    let taken = f.user.username.as_str();
    let huge_name = random_text(8 * 1024);
    cases.extend([
        visitor(
            "a wrong password",
            "/login",
            &[("username", taken), ("password", "nope nope")],
        )
        .answers(400, Answer::Page),
        visitor(
            "an unknown user",
            "/login",
            &[("username", "nobody-at-all"), ("password", "x")],
        )
        .answers(400, Answer::Page),
        visitor(
            "an 8 KiB random username",
            "/login",
            &[("username", &huge_name), ("password", "whatever")],
        )
        .answers(400, Answer::Page),
        visitor(
            "a 73-byte password",
            "/signup",
            &[("username", "long-password"), ("password", &long_password)],
        )
        .answers(400, Answer::Page),
        visitor(
            "a username with a space",
            "/signup",
            &[
                ("username", "two words"),
                ("password", "a fine long password"),
            ],
        )
        .answers(400, Answer::Page),
        visitor(
            "a 41-character username",
            "/signup",
            &[
                ("username", &"u".repeat(41)),
                ("password", "a fine long password"),
            ],
        )
        .answers(400, Answer::Page),
        visitor(
            "an 8 KiB random username",
            "/signup",
            &[
                ("username", &huge_name),
                ("password", "a fine long password"),
            ],
        )
        .answers(400, Answer::Page),
        visitor(
            "a username that is taken",
            "/signup",
            &[("username", taken), ("password", "a fine long password")],
        )
        .answers(400, Answer::Page),
        visitor(
            "the username twice",
            "/signup",
            &[
                ("username", "twice-a"),
                ("username", "twice-b"),
                ("password", "a fine long password"),
            ],
        )
        .answers(400, Answer::Page),
        visitor(
            "an invalid email",
            "/signup",
            &[
                ("username", "with-email"),
                ("password", "a fine long password"),
                ("email", "not an email"),
            ],
        )
        .answers(400, Answer::Page),
        visitor(
            "signed out",
            "/create_client",
            &[("client_name", "x"), ("redirect_uris", REDIRECT_URI)],
        )
        .answers(303, Answer::RedirectTo("/login")),
        member(
            "a javascript: redirect URI",
            "/create_client",
            &[
                ("client_name", "x"),
                ("redirect_uris", "javascript:alert(1)"),
            ],
        )
        .answers(400, Answer::Page),
        member(
            "an http redirect URI off loopback",
            "/create_client",
            &[
                ("client_name", "x"),
                ("redirect_uris", "http://client.example/cb"),
            ],
        )
        .answers(400, Answer::Page),
        member(
            "a redirect URI with a fragment",
            "/create_client",
            &[
                ("client_name", "x"),
                ("redirect_uris", "https://client.example/cb#x"),
            ],
        )
        .answers(400, Answer::Page),
        member("another user's client", &format!("{web_page}/delete"), &[])
            .answers(404, Answer::Page),
        member(
            "another user's client",
            &format!("{web_page}/rotate_secret"),
            &[],
        )
        .answers(404, Answer::Page),
        member("an unknown client", "/clients/no-such-client/delete", &[])
            .answers(404, Answer::Page),
        member(
            "a client the user never approved",
            &format!("/account/apps/{}/revoke", f.machine.id),
            &[],
        )
        .answers(404, Answer::Page),
        Case::get("/clients/{id}: another user's client", web_page.as_str())
            .by(Who::Member)
            .answers(404, Answer::Page),
        Case::get(
            "/clients/{id}: an unknown client",
            "/clients/no-such-client",
        )
        .by(Who::Member)
        .answers(404, Answer::Page),
        Case::get("/clients/{id}: signed out", web_page.as_str())
            .by(Who::Visitor)
            .answers(303, Answer::RedirectTo("/login")),
        Case::get("/account: signed out", "/account")
            .by(Who::Visitor)
            .answers(303, Answer::RedirectTo("/login")),
        Case::get("/create_client: signed out", "/create_client")
            .by(Who::Visitor)
            .answers(303, Answer::RedirectTo("/login")),
        Case::get("an unknown path", "/no/such/page").answers(404, Answer::Page),
        Case::get("control: the member is still signed in", "/account")
            .by(Who::Member)
            .answers(200, Answer::Status),
        Case::post("control: the web client still works", TOKEN, &CC)
            .authenticated_as(&f.web)
            .answers(200, Answer::Token),
    ]);
    cases
}

/// A method the route does not serve: 405.
fn method_cases() -> Vec<Case> {
    [
        (Method::GET, TOKEN),
        (Method::PUT, TOKEN),
        (Method::DELETE, TOKEN),
        (Method::GET, REVOKE),
        (Method::GET, INTROSPECT),
        (Method::GET, "/logout"),
        (Method::GET, "/clients/x/delete"),
        (Method::GET, "/clients/x/rotate_secret"),
        (Method::GET, "/account/apps/x/revoke"),
        (Method::POST, API_ME),
        (Method::DELETE, USERINFO),
        (Method::PUT, AUTHORIZE),
        (Method::POST, "/oauth/jwks"),
        (Method::POST, "/healthz"),
        (Method::PUT, "/login"),
        (Method::POST, "/"),
    ]
    .into_iter()
    .map(|(method, path)| {
        Case::new(format!("method: {method} {path}"), method, path)
            .answers(405, Answer::Status)
            .must_have(Rule::Present("allow"))
    })
    .collect()
}

/// Lockouts: 429 with `Retry-After` (DESIGN §5).
fn lockout_cases(f: &Fixtures) -> Vec<Case> {
    let lockee = &f.lockee;
    vec![
        Case::post("lockout: a locked client with its right secret", TOKEN, &CC)
            .authenticated_as(&f.locked)
            .answers(429, Answer::Error("invalid_client"))
            .must_have(Rule::Seconds("retry-after")),
        Case::post(
            "lockout: a locked username with the right password",
            TOKEN,
            &[
                ("grant_type", "password"),
                ("username", &lockee.username),
                ("password", &lockee.password),
            ],
        )
        .authenticated_as(&f.web)
        .answers(429, Answer::Error("invalid_grant"))
        .must_have(Rule::Seconds("retry-after")),
        Case::post(
            "lockout: the locked username at /login",
            "/login",
            &[
                ("username", &lockee.username),
                ("password", &lockee.password),
                ("csrf_token", &f.visitor_csrf),
            ],
        )
        .by(Who::Visitor)
        .answers(429, Answer::Page)
        .must_have(Rule::Seconds("retry-after")),
    ]
}

/// What came back.
struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl fmt::Display for Got {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = header_text(&self.headers, LOCATION.as_str());
        let body: String = self.body.chars().take(200).collect();
        write!(f, "{} location={location:?} body={body:?}", self.status)
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default()
}

async fn send(f: &Fixtures, case: &Case) -> Result<Got, String> {
    let browser = f.browser(case.who);
    let mut request = browser
        .client
        .request(case.method.clone(), browser.url(&case.path));
    for (name, value) in &case.headers {
        request = request.header(name, value);
    }
    request = match &case.body {
        Body::None => request,
        Body::Form(pairs) => request.header(CONTENT_TYPE, FORM).body(urlencode(pairs)),
        Body::Raw(content_type, bytes) => request
            .header(CONTENT_TYPE, content_type)
            .body(bytes.clone()),
    };
    let response = request
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Ok(Got {
        status,
        headers,
        body,
    })
}

/// Every way `got` differs from what `case` expects.
fn problems(f: &Fixtures, case: &Case, got: &Got) -> Vec<String> {
    let mut problems = Vec::new();
    if got.status != case.status {
        problems.push(format!("status {} instead of {}", got.status, case.status));
    }
    let header = |name: &str| header_text(&got.headers, name);
    let json: Option<Value> = serde_json::from_str(&got.body).ok();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    match &case.answer {
        Answer::Error(code) => expect(
            json.as_ref().and_then(|body| body["error"].as_str()) == Some(code),
            format!("error {code:?} expected"),
        ),
        Answer::Json(value) => expect(json.as_ref() == Some(value), format!("exactly {value}")),
        Answer::Token => expect(
            json.as_ref()
                .is_some_and(|body| body["access_token"].is_string()),
            "a token response expected".into(),
        ),
        Answer::BareChallenge => expect(
            header("www-authenticate") == "Bearer realm=\"tessera\"",
            format!(
                "bare challenge expected, WWW-Authenticate {:?}",
                header("www-authenticate")
            ),
        ),
        Answer::Page => {
            expect(
                header("content-type").starts_with("text/html"),
                format!(
                    "an HTML page expected, content-type {:?}",
                    header("content-type")
                ),
            );
            expect(header("location").is_empty(), "no redirect expected".into());
            expect(
                header("cache-control") == "no-store",
                "pages are no-store".into(),
            );
        }
        Answer::ClientError(code, with_state) => {
            let location = header("location");
            for problem in client_error_problems(&location, code, *with_state, case.is_implicit()) {
                expect(false, problem);
            }
        }
        Answer::RedirectTo(path) => {
            let location = Url::parse(&f.app.address)
                .expect("base URL")
                .join(&header("location"));
            expect(
                location.as_ref().is_ok_and(|url| {
                    url.path() == *path && url.as_str().starts_with(&f.app.address)
                }),
                format!("a redirect to {path} expected"),
            );
        }
        Answer::Status => {}
    }
    let is_json_answer = matches!(
        case.answer,
        Answer::Error(_) | Answer::Json(_) | Answer::Token
    );
    if case.is_app_endpoint() && is_json_answer {
        expect(
            header("cache-control") == "no-store",
            "Cache-Control: no-store".into(),
        );
        expect(header("pragma") == "no-cache", "Pragma: no-cache".into());
    }
    if let Answer::Error(code) = &case.answer {
        if *code == "invalid_client"
            && case.status == StatusCode::UNAUTHORIZED
            && case.tries_basic()
        {
            expect(
                header("www-authenticate").starts_with("Basic"),
                format!(
                    "a Basic challenge expected, got {:?}",
                    header("www-authenticate")
                ),
            );
        }
        if case.is_bearer_resource() {
            let challenge = header("www-authenticate");
            expect(
                challenge.starts_with("Bearer") && challenge.contains(&format!("error=\"{code}\"")),
                format!("WWW-Authenticate: Bearer error=\"{code}\" expected, got {challenge:?}"),
            );
        }
    }
    for rule in &case.rules {
        match rule {
            Rule::Seconds(name) => expect(
                header(name).parse::<u64>().is_ok(),
                format!("{name}: seconds expected, got {:?}", header(name)),
            ),
            Rule::Present(name) => expect(!header(name).is_empty(), format!("no {name} header")),
        }
    }
    problems
}

/// Reads one parameter of a redirect URL (its query or its fragment).
type ParamReader = fn(&Url, &str) -> Option<String>;

/// What is wrong with a redirect that should carry `error` to the client: in the query, or
/// in the fragment when the request was for the implicit grant (RFC 6749 §4.2.2.1).
fn client_error_problems(
    location: &str,
    code: &str,
    with_state: bool,
    implicit: bool,
) -> Vec<String> {
    let Ok(url) = Url::parse(location) else {
        return vec![format!(
            "a redirect to the client expected, Location {location:?}"
        )];
    };
    let (separator, param): (char, ParamReader) = if implicit {
        ('#', fragment_param)
    } else {
        ('?', query_param)
    };
    let mut problems = Vec::new();
    if !location.starts_with(&format!("{REDIRECT_URI}{separator}")) {
        problems.push(format!(
            "a redirect to {REDIRECT_URI}{separator}... expected"
        ));
    }
    if param(&url, "error").as_deref() != Some(code) {
        problems.push(format!("error={code} expected"));
    }
    let state = param(&url, "state");
    if state.as_deref() != with_state.then_some(STATE) {
        problems.push(format!("state {state:?}"));
    }
    if param(&url, "iss").is_none() {
        problems.push("no iss (RFC 9207)".to_owned());
    }
    if redirect_param(&url, "code").is_some() || redirect_param(&url, "access_token").is_some() {
        problems.push("a grant with an error".to_owned());
    }
    problems
}

both_backends!(
    every_negative_case_gets_exactly_its_promised_answer,
    |backend| async move {
        let f = fixtures(backend).await;
        let cases: Vec<Case> = [
            client_auth_cases(&f),
            basic_header_cases(&f),
            code_grant_cases(&f),
            refresh_cases(&f),
            password_cases(&f),
            grant_type_cases(&f),
            body_cases(&f),
            revoke_cases(&f),
            introspect_cases(&f),
            bearer_cases(&f),
            authorize_cases(&f),
            end_session_cases(&f),
            page_cases(&f),
            method_cases(),
            lockout_cases(&f),
        ]
        .into_iter()
        .flatten()
        .collect();

        let mut mismatches = Vec::new();
        for case in &cases {
            match send(&f, case).await {
                Ok(got) => {
                    let found = problems(&f, case, &got);
                    if !found.is_empty() {
                        mismatches.push(format!("{}: {}; got {got}", case.name, found.join(", ")));
                    }
                }
                Err(error) => mismatches.push(format!("{}: {error}", case.name)),
            }
        }

        eprintln!(
            "negative ({backend:?}): {} cases tried, {} mismatched",
            cases.len(),
            mismatches.len()
        );
        assert!(
            mismatches.is_empty(),
            "{} of {} cases mismatched:\n{}",
            mismatches.len(),
            cases.len(),
            mismatches.join("\n")
        );
    }
);
