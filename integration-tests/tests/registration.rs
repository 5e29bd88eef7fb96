//! Dynamic client registration (RFC 7591) at `POST /oauth/register` and client management
//! (RFC 7592) at each client's `registration_client_uri`: the modes of
//! `TESSERA_REGISTRATION` (open, token, off), the registered metadata with its defaults, every
//! refusal with its RFC 7591 error code, the registered client at work in the code flow,
//! reading, updating and deleting a client with its registration access token (page-made
//! clients too), claiming an ownerless client on the home page, and the per-address throttle.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tessera_domain::FixedClock;

use crate::helpers::fixtures::REDIRECT_URI;
use crate::helpers::{
    assert_oauth_error, assert_tokens, both_backends, html, json, spawn_app_with,
    spawn_app_with_clock, www_authenticate, Backend, Pkce, RegisteredClient, TestApp, TestClient,
    Tokens,
};

/// A second redirect URI, for updates that change the registered one.
const OTHER_URI: &str = "https://client.example/other";

/// The scope a client registers when it names none.
const DEFAULT_SCOPE: &str = "openid profile email offline_access";

/// The metadata documents that advertise the registration endpoint.
const METADATA_PATHS: [&str; 2] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

/// The optional string fields that are absent from an answer unless registered.
const OPTIONAL_STRINGS: [&str; 5] = [
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "access_token_format",
];

/// Starts Tessera with `env` and a `TESSERA_MAX_FAILURES` high enough that the per-address
/// registration throttle (4 × that many attempts) never refuses a test's own requests.
async fn spawn_registrar(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let mut full = vec![("TESSERA_MAX_FAILURES", "100")];
    full.extend_from_slice(env);
    spawn_app_with(backend, &full).await
}

/// `method uri` (absolute) with `Authorization: Bearer token` when given and `body` sent as is
/// with `Content-Type: content_type` when given.
async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<String>,
) -> Response {
    let mut request = app.client.request(method.clone(), uri);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {uri}: {e}"))
}

/// `POST /oauth/register` of `body` as `application/json`, with a bearer token when given.
async fn post_register(app: &TestApp, body: &Value, bearer: Option<&str>) -> Response {
    let uri = app.url("/oauth/register");
    let text = body.to_string();
    send(
        app,
        Method::POST,
        &uri,
        bearer,
        Some("application/json"),
        Some(text),
    )
    .await
}

/// `POST /oauth/register` of `body` (no credential): status, headers and JSON answer.
async fn register(app: &TestApp, body: &Value) -> (StatusCode, HeaderMap, Value) {
    json(post_register(app, body, None).await).await
}

/// [`register`] with `bearer`, expecting 201 with `Cache-Control: no-store`; returns the answer.
async fn registered_with(app: &TestApp, body: &Value, bearer: Option<&str>) -> Value {
    let (status, headers, answer) = json(post_register(app, body, bearer).await).await;
    assert_eq!(status, StatusCode::CREATED, "registering {body}: {answer}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "registering {body}");
    answer
}

/// [`registered_with`] without a credential (open mode).
async fn registered(app: &TestApp, body: &Value) -> Value {
    registered_with(app, body, None).await
}

/// A management call on `uri` (a `registration_client_uri`): `method` with a bearer token when
/// given and `body` as `application/json` when given.
async fn manage(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let content_type = body.map(|_| "application/json");
    send(
        app,
        method,
        uri,
        token,
        content_type,
        body.map(Value::to_string),
    )
    .await
}

/// `GET uri` with `token`, expecting 200 with `Cache-Control: no-store`; returns the metadata.
async fn read(app: &TestApp, uri: &str, token: &str) -> Value {
    let (status, headers, body) =
        json(manage(app, Method::GET, uri, Some(token), None).await).await;
    assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "GET {uri}");
    body
}

/// `PUT uri` of `body` with `token`, expecting 200 with `Cache-Control: no-store`; returns the
/// new metadata.
async fn update(app: &TestApp, uri: &str, token: &str, body: &Value) -> Value {
    let response = manage(app, Method::PUT, uri, Some(token), Some(body)).await;
    let (status, headers, answer) = json(response).await;
    assert_eq!(status, StatusCode::OK, "PUT {uri} {body}: {answer}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "PUT {uri}");
    answer
}

/// The string field `name` of a JSON answer (panics when it is not a string).
fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name}: {body}"))
}

/// The `scope` of an answer as a set of tokens (scopes are order-free, RFC 6749 §3.3).
fn scope_set(body: &Value) -> BTreeSet<String> {
    text(body, "scope")
        .split(' ')
        .filter(|token| !token.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

/// The tokens of a space-separated scope.
fn tokens_of(scope: &str) -> BTreeSet<String> {
    scope.split(' ').map(ToOwned::to_owned).collect()
}

/// `answer` without the fields only a registration or an update hands out once.
fn without_credentials(answer: &Value) -> Value {
    let mut answer = answer.clone();
    if let Some(fields) = answer.as_object_mut() {
        fields.remove("client_secret");
        fields.remove("registration_access_token");
    }
    answer
}

/// A minimal valid registration (`redirect_uris` only) with `fields` added or replaced.
fn valid_with(fields: Value) -> Value {
    let mut body = json!({ "redirect_uris": [REDIRECT_URI] });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), fields) {
        body.extend(extra);
    }
    body
}

/// A [`RegisteredClient`] for the client in a registration answer, to drive the token and
/// authorization endpoints with; it has no owner, so its `owner` is a signed-out browser.
fn client_of(app: &TestApp, answer: &Value) -> RegisteredClient {
    RegisteredClient {
        id: text(answer, "client_id").to_owned(),
        secret: answer["client_secret"].as_str().map(ToOwned::to_owned),
        redirect_uri: answer["redirect_uris"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        auth_method: text(answer, "token_endpoint_auth_method").to_owned(),
        owner: app.another_browser(),
    }
}

/// Runs the code flow with PKCE for `client` in `app`'s signed-in browser (Allow on the
/// consent page) and redeems the code; returns the tokens.
async fn code_flow_tokens(app: &TestApp, client: &RegisteredClient) -> Tokens {
    let pkce = Pkce::s256();
    let code = client
        .authorization_code(app, "openid profile", Some(&pkce))
        .await;
    assert_tokens(client.redeem_code(app, &code, Some(&pkce.verifier)).await).await
}

/// Asserts the bare challenge of a request without a bearer token: 401 with
/// `WWW-Authenticate: Bearer realm="tessera"` and no error code.
fn assert_bare_challenge(response: &Response, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(
        www_authenticate(response.headers()),
        "Bearer realm=\"tessera\"",
        "{what}"
    );
}

/// Asserts a refused bearer token: 401, a `WWW-Authenticate` challenge with
/// `error="invalid_token"`, and the JSON error `invalid_token`, not cached.
async fn assert_invalid_token(response: Response, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    let challenge = www_authenticate(response.headers());
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{what}: WWW-Authenticate {challenge:?}"
    );
    let (_, headers, body) = json(response).await;
    assert_eq!(body["error"], "invalid_token", "{what}: {body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "{what}");
}

/// Asserts a refused registration or update: `status` with the JSON `error`, not cached, and
/// no client in the answer.
async fn assert_refused(response: Response, status: StatusCode, error: &str, what: &str) {
    let (got, headers, body) = json(response).await;
    assert_eq!(
        (got, body["error"].as_str()),
        (status, Some(error)),
        "{what}: {body}"
    );
    assert!(body["error_description"].is_string(), "{what}: {body}");
    assert!(body.get("client_id").is_none(), "{what} registered: {body}");
    assert_eq!(headers[CACHE_CONTROL], "no-store", "{what}");
}

/// Asserts the authorization endpoint's error page: 400 and no redirect.
fn assert_error_page(response: &Response, what: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
    assert!(
        response.headers().get(LOCATION).is_none(),
        "{what} redirected"
    );
}

/// The current time in Unix seconds, by the system clock.
fn unix_now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the system clock is after 1970")
        .as_secs();
    i64::try_from(seconds).expect("the time fits in i64")
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).expect("a time")
}

both_backends!(
    every_given_field_is_registered_and_echoed_and_unknown_fields_are_not,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let given = json!({
            "redirect_uris": [REDIRECT_URI, OTHER_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_post",
            "client_name": "Example app",
            "client_uri": "https://client.example",
            "logo_uri": "https://client.example/logo.png",
            "tos_uri": "https://client.example/tos",
            "policy_uri": "https://client.example/privacy",
            "scope": "openid profile",
            "contacts": ["admin@client.example", "ops@client.example"],
            "id_token_signed_response_alg": "ES256",
            "post_logout_redirect_uris": ["https://client.example/bye"],
            "access_token_format": "jwt",
            "require_pushed_authorization_requests": true,
            "jwks_uri": "https://client.example/jwks",
            "x_unknown_field": "ignored",
            "frobnicate": { "deep": [1, 2, 3] },
        });
        let answer = registered(&app, &given).await;

        for field in [
            "redirect_uris",
            "grant_types",
            "response_types",
            "token_endpoint_auth_method",
            "client_name",
            "client_uri",
            "logo_uri",
            "tos_uri",
            "policy_uri",
            "contacts",
            "id_token_signed_response_alg",
            "post_logout_redirect_uris",
            "access_token_format",
            "require_pushed_authorization_requests",
        ] {
            assert_eq!(answer[field], given[field], "{field} echoed: {answer}");
        }
        assert_eq!(scope_set(&answer), tokens_of("openid profile"), "{answer}");
        for ignored in ["jwks_uri", "x_unknown_field", "frobnicate"] {
            assert!(answer.get(ignored).is_none(), "{ignored} echoed: {answer}");
        }
        let id = text(&answer, "client_id");
        assert!(!id.is_empty(), "{answer}");
        assert!(!text(&answer, "client_secret").is_empty(), "{answer}");
        assert_eq!(answer["client_secret_expires_at"], 0, "{answer}");
        assert!(
            !text(&answer, "registration_access_token").is_empty(),
            "{answer}"
        );
        assert_eq!(
            answer["registration_client_uri"],
            app.url(&format!("/oauth/register/{id}")),
            "{answer}"
        );
    }
);

both_backends!(
    a_minimal_registration_gets_every_default_and_a_secret,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let before = unix_now();
        // Parameters of the media type are fine; `null` means absent.
        let body = json!({
            "redirect_uris": [REDIRECT_URI],
            "logo_uri": null,
            "contacts": null,
        });
        let response = send(
            &app,
            Method::POST,
            &app.url("/oauth/register"),
            None,
            Some("application/json; charset=utf-8"),
            Some(body.to_string()),
        )
        .await;
        let (status, headers, answer) = json(response).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        assert_eq!(headers[CACHE_CONTROL], "no-store");

        let id = text(&answer, "client_id");
        assert_eq!(answer["redirect_uris"], json!([REDIRECT_URI]), "{answer}");
        assert_eq!(
            answer["grant_types"],
            json!(["authorization_code"]),
            "{answer}"
        );
        assert_eq!(answer["response_types"], json!(["code"]), "{answer}");
        assert_eq!(
            answer["token_endpoint_auth_method"], "client_secret_basic",
            "{answer}"
        );
        assert_eq!(scope_set(&answer), tokens_of(DEFAULT_SCOPE), "{answer}");
        assert_eq!(answer["id_token_signed_response_alg"], "RS256", "{answer}");
        assert_eq!(answer["client_name"], id, "the name defaults to the id");
        assert_eq!(
            answer["require_pushed_authorization_requests"], false,
            "{answer}"
        );
        let issued_at = answer["client_id_issued_at"]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer client_id_issued_at: {answer}"));
        assert!(
            (before - 5..=unix_now() + 5).contains(&issued_at),
            "client_id_issued_at {issued_at} is not now ({before})"
        );
        assert!(!text(&answer, "client_secret").is_empty(), "{answer}");
        assert_eq!(answer["client_secret_expires_at"], 0, "{answer}");
        assert!(
            !text(&answer, "registration_access_token").is_empty(),
            "{answer}"
        );
        assert_eq!(
            answer["registration_client_uri"],
            app.url(&format!("/oauth/register/{id}")),
            "{answer}"
        );
        for absent in OPTIONAL_STRINGS {
            assert!(answer.get(absent).is_none(), "{absent}: {answer}");
        }
        for list in ["contacts", "post_logout_redirect_uris"] {
            assert!(
                answer.get(list).is_none() || answer[list] == json!([]),
                "{list}: {answer}"
            );
        }

        let second = registered(&app, &valid_with(json!({}))).await;
        assert_ne!(second["client_id"], answer["client_id"]);
        assert_ne!(second["client_secret"], answer["client_secret"]);
        assert_ne!(
            second["registration_access_token"],
            answer["registration_access_token"]
        );
    }
);

both_backends!(
    a_public_client_gets_no_secret_and_may_use_loopback_and_app_schemes,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let uris = json!([
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/cb",
        ]);
        let answer = registered(
            &app,
            &json!({ "redirect_uris": uris, "token_endpoint_auth_method": "none" }),
        )
        .await;
        assert_eq!(answer["token_endpoint_auth_method"], "none", "{answer}");
        assert_eq!(answer["redirect_uris"], uris, "{answer}");
        assert!(answer.get("client_secret").is_none(), "{answer}");
        assert!(
            !text(&answer, "registration_access_token").is_empty(),
            "{answer}"
        );
        assert!(answer["registration_client_uri"].is_string(), "{answer}");
    }
);

both_backends!(
    a_registered_confidential_client_runs_the_code_flow_with_pkce,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &valid_with(json!({ "client_name": "Registered app" })),
        )
        .await;
        let client = client_of(&app, &answer);
        assert_eq!(client.auth_method, "client_secret_basic");
        let user = app.signed_up_user().await;

        let pkce = Pkce::s256();
        let consent = app
            .get_authorize(&client.code_query("openid profile", Some(&pkce)))
            .await;
        assert_eq!(consent.status(), StatusCode::OK, "the consent page");
        let page = consent.text().await.expect("body");
        assert!(page.contains("Registered app"), "{page}");
        let code = client
            .authorization_code(&app, "openid profile", Some(&pkce))
            .await;
        let tokens =
            assert_tokens(client.redeem_code(&app, &code, Some(&pkce.verifier)).await).await;
        assert!(tokens["id_token"].is_string(), "{tokens}");
        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], user.username.as_str());
    }
);

both_backends!(
    a_registered_public_client_runs_the_code_flow_with_pkce_alone,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &json!({
                "redirect_uris": ["http://127.0.0.1:8080/cb"],
                "token_endpoint_auth_method": "none",
            }),
        )
        .await;
        let client = client_of(&app, &answer);
        assert!(client.secret.is_none());
        let user = app.signed_up_user().await;
        let tokens = code_flow_tokens(&app, &client).await;
        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["username"], user.username.as_str());
    }
);

/// One refused registration: what it shows, the body, the error code and, for a field of
/// the wrong JSON type, the field the description must name.
struct Refusal {
    what: &'static str,
    body: Value,
    error: &'static str,
    names: Option<&'static str>,
}

impl Refusal {
    fn new(what: &'static str, body: Value, error: &'static str) -> Self {
        Self {
            what,
            body,
            error,
            names: None,
        }
    }

    fn naming(mut self, field: &'static str) -> Self {
        self.names = Some(field);
        self
    }
}

const BAD_URI: &str = "invalid_redirect_uri";
const BAD_METADATA: &str = "invalid_client_metadata";

/// Every invalid JSON registration the spec lists, with its error code.
fn refusals() -> Vec<Refusal> {
    let uri = |what, uri: &str| Refusal::new(what, json!({ "redirect_uris": [uri] }), BAD_URI);
    let meta = |what, fields: Value| Refusal::new(what, valid_with(fields), BAD_METADATA);
    let eleven_contacts: Vec<String> = (0..11).map(|n| format!("c{n}@client.example")).collect();
    vec![
        uri("a relative redirect URI", "/cb"),
        uri(
            "a redirect URI with a fragment",
            "https://client.example/cb#x",
        ),
        uri(
            "a redirect URI with userinfo",
            "https://user:pw@client.example/cb",
        ),
        uri(
            "an http redirect URI off loopback",
            "http://client.example/cb",
        ),
        uri("a javascript: redirect URI", "javascript:alert(1)"),
        uri("a data: redirect URI", "data:text/html,x"),
        uri("a file: redirect URI", "file:///etc/passwd"),
        uri("a vbscript: redirect URI", "vbscript:x"),
        uri("a private-use scheme without a dot", "myapp:/cb"),
        Refusal::new("no redirect URI with the code grant", json!({}), BAD_URI),
        Refusal::new(
            "an empty redirect URI list with the code grant",
            json!({ "redirect_uris": [] }),
            BAD_URI,
        ),
        Refusal::new(
            "no redirect URI with response type code",
            json!({ "grant_types": ["authorization_code"], "response_types": ["code"] }),
            BAD_URI,
        ),
        Refusal::new(
            "an http post-logout redirect URI off loopback",
            valid_with(json!({ "post_logout_redirect_uris": ["http://client.example/bye"] })),
            BAD_URI,
        ),
        Refusal::new(
            "a javascript: post-logout redirect URI",
            valid_with(json!({ "post_logout_redirect_uris": ["javascript:alert(1)"] })),
            BAD_URI,
        ),
        Refusal::new(
            "redirect_uris as a string",
            json!({ "redirect_uris": REDIRECT_URI }),
            BAD_METADATA,
        )
        .naming("redirect_uris"),
        Refusal::new(
            "redirect_uris holding a number",
            json!({ "redirect_uris": [1] }),
            BAD_METADATA,
        )
        .naming("redirect_uris"),
        meta(
            "grant_types as a string",
            json!({ "grant_types": "authorization_code" }),
        )
        .naming("grant_types"),
        meta(
            "response_types as a string",
            json!({ "response_types": "code" }),
        )
        .naming("response_types"),
        meta(
            "token_endpoint_auth_method as a number",
            json!({ "token_endpoint_auth_method": 1 }),
        )
        .naming("token_endpoint_auth_method"),
        meta("client_name as a number", json!({ "client_name": 5 })).naming("client_name"),
        meta("scope as a list", json!({ "scope": ["openid"] })).naming("scope"),
        meta(
            "contacts as a string",
            json!({ "contacts": "a@client.example" }),
        )
        .naming("contacts"),
        meta("logo_uri as an object", json!({ "logo_uri": {} })).naming("logo_uri"),
        meta(
            "require_pushed_authorization_requests as a string",
            json!({ "require_pushed_authorization_requests": "yes" }),
        )
        .naming("require_pushed_authorization_requests"),
        meta(
            "post_logout_redirect_uris as a string",
            json!({ "post_logout_redirect_uris": "https://client.example/bye" }),
        )
        .naming("post_logout_redirect_uris"),
        meta(
            "an unknown grant type",
            json!({ "grant_types": ["authorization_code", "magic"] }),
        ),
        meta(
            "an unknown response type",
            json!({ "response_types": ["code", "bogus"] }),
        ),
        meta(
            "an unknown auth method",
            json!({ "token_endpoint_auth_method": "private_key_jwt" }),
        ),
        meta(
            "an unknown ID token alg",
            json!({ "id_token_signed_response_alg": "HS256" }),
        ),
        meta(
            "the none ID token alg",
            json!({ "id_token_signed_response_alg": "none" }),
        ),
        meta(
            "an unknown access token format",
            json!({ "access_token_format": "paseto" }),
        ),
        meta(
            "response type code without the authorization_code grant",
            json!({ "grant_types": ["client_credentials"], "response_types": ["code"] }),
        ),
        meta(
            "the authorization_code grant without response type code",
            json!({ "grant_types": ["authorization_code", "implicit"], "response_types": ["token"], "token_endpoint_auth_method": "none" }),
        ),
        meta(
            "the implicit grant for a confidential client",
            json!({ "grant_types": ["implicit"], "response_types": ["token"] }),
        ),
        meta(
            "the password grant, which apps registering themselves cannot have (RFC 9700)",
            json!({ "grant_types": ["password", "refresh_token"], "response_types": [] }),
        ),
        meta(
            "the implicit grant, even for a public client (RFC 9700)",
            json!({ "grant_types": ["implicit"], "response_types": ["token"], "token_endpoint_auth_method": "none" }),
        ),
        Refusal::new(
            "client_credentials for a public client",
            json!({ "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none" }),
            BAD_METADATA,
        ),
        meta(
            "an ftp client_uri",
            json!({ "client_uri": "ftp://client.example" }),
        ),
        meta(
            "a javascript: logo_uri",
            json!({ "logo_uri": "javascript:alert(1)" }),
        ),
        meta(
            "a tos_uri that is no URL",
            json!({ "tos_uri": "not a url" }),
        ),
        meta(
            "a file: policy_uri",
            json!({ "policy_uri": "file:///etc/passwd" }),
        ),
        meta("an empty contact", json!({ "contacts": [""] })),
        meta(
            "a contact with a control character",
            json!({ "contacts": ["a@client.example\nBcc: b@evil.example"] }),
        ),
        meta("eleven contacts", json!({ "contacts": eleven_contacts })),
        meta("a contact that is a number", json!({ "contacts": [42] })),
        meta(
            "a scope with a quote",
            json!({ "scope": "openid \"profile\"" }),
        ),
        meta(
            "a scope with a backslash",
            json!({ "scope": "openid a\\b" }),
        ),
        Refusal::new(
            "a software statement that is no JWS",
            valid_with(json!({ "software_statement": "not-a-jws" })),
            "invalid_software_statement",
        ),
        Refusal::new(
            "a software statement of two parts",
            valid_with(json!({ "software_statement": "eyJhbGciOiJSUzI1NiJ9.eyJzIjoxfQ" })),
            "invalid_software_statement",
        ),
        Refusal::new(
            "a software statement with characters outside base64url",
            valid_with(json!({ "software_statement": "e30=.e30=.c2ln*" })),
            "invalid_software_statement",
        ),
        Refusal::new(
            "a JWS-shaped software statement from an issuer nobody trusts",
            valid_with(json!({
                "software_statement":
                    "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngiLCJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZSJ9.c2lnbmF0dXJl"
            })),
            "unapproved_software_statement",
        ),
    ]
}

/// Bodies that are not a JSON object sent as `application/json`: what each shows, its
/// content type and its text.
const RAW_REFUSALS: [(&str, Option<&str>, &str); 8] = [
    (
        "invalid JSON",
        Some("application/json"),
        "{\"redirect_uris\": [",
    ),
    ("an empty body", Some("application/json"), ""),
    (
        "a JSON list",
        Some("application/json"),
        "[\"https://client.example/cb\"]",
    ),
    (
        "a JSON string",
        Some("application/json"),
        "\"https://client.example/cb\"",
    ),
    ("JSON null", Some("application/json"), "null"),
    ("a JSON number", Some("application/json"), "42"),
    (
        "a JSON object sent as text/plain",
        Some("text/plain"),
        "{\"redirect_uris\": [\"https://client.example/cb\"]}",
    ),
    (
        "a form",
        Some("application/x-www-form-urlencoded"),
        "redirect_uris=https%3A%2F%2Fclient.example%2Fcb",
    ),
];

/// What is wrong with `response` as the refusal `error` (naming `names` when given), or
/// `None` when it is that refusal.
async fn refusal_mismatch(response: Response, error: &str, names: Option<&str>) -> Option<String> {
    let status = response.status();
    let no_store = response
        .headers()
        .get(CACHE_CONTROL)
        .is_some_and(|value| value == "no-store");
    let text = response.text().await.expect("body");
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return Some(format!("{status} with a body that is no JSON: {text}"));
    };
    let description = body["error_description"].as_str().unwrap_or_default();
    if status != StatusCode::BAD_REQUEST || body["error"] != error {
        Some(format!("expected 400 {error}, got {status} {body}"))
    } else if body.get("client_id").is_some() {
        Some(format!("a client was registered: {body}"))
    } else if !no_store {
        Some("no Cache-Control: no-store".to_owned())
    } else if names.is_some_and(|field| !description.contains(field)) {
        Some(format!(
            "the description does not name {}: {body}",
            names.unwrap_or_default()
        ))
    } else {
        None
    }
}

both_backends!(
    every_invalid_registration_gets_its_rfc_7591_error_and_registers_nothing,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let mut mismatches = Vec::new();
        for case in refusals() {
            let response = post_register(&app, &case.body, None).await;
            if let Some(wrong) = refusal_mismatch(response, case.error, case.names).await {
                mismatches.push(format!("{}: {} ({})", case.what, wrong, case.body));
            }
        }
        for (what, content_type, body) in RAW_REFUSALS {
            let response = send(
                &app,
                Method::POST,
                &app.url("/oauth/register"),
                None,
                content_type,
                Some(body.to_owned()),
            )
            .await;
            if let Some(wrong) = refusal_mismatch(response, BAD_METADATA, None).await {
                mismatches.push(format!("{what}: {wrong}"));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{} refusals went wrong:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
);

both_backends!(a_registration_over_64_kib_is_413, |backend| async move {
    let app = spawn_registrar(backend, &[]).await;
    let huge = valid_with(json!({ "client_name": "a".repeat(70 * 1024) }));
    let response = post_register(&app, &huge, None).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit is read: the unknown field is ignored.
    let large = valid_with(json!({ "x_padding": "a".repeat(60 * 1024) }));
    let answer = registered(&app, &large).await;
    assert!(answer.get("x_padding").is_none(), "echoed");
});

both_backends!(
    token_mode_needs_an_initial_access_token_with_uses_left,
    |backend| async move {
        let app = spawn_registrar(backend, &[("TESSERA_REGISTRATION", "token")]).await;
        let body = valid_with(json!({}));

        let anonymous = post_register(&app, &body, None).await;
        assert_bare_challenge(&anonymous, "no initial access token");
        let wrong = post_register(&app, &body, Some("not-a-registration-token")).await;
        assert_invalid_token(wrong, "an unknown initial access token").await;

        let twice = app.registration_token(None, Some(2)).await;
        let invalid = valid_with(json!({ "redirect_uris": ["http://client.example/cb"] }));
        let refused = post_register(&app, &invalid, Some(&twice)).await;
        assert_refused(refused, StatusCode::BAD_REQUEST, BAD_URI, "an invalid body").await;
        let first = registered_with(&app, &body, Some(&twice)).await;
        let second = registered_with(&app, &body, Some(&twice)).await;
        assert_ne!(first["client_id"], second["client_id"]);
        let used_up = post_register(&app, &body, Some(&twice)).await;
        assert_invalid_token(used_up, "a used-up initial access token").await;

        // A registered client works as in open mode.
        let client = client_of(&app, &first);
        app.signed_up_user().await;
        code_flow_tokens(&app, &client).await;

        let unlimited = app.registration_token(None, None).await;
        for _ in 0..3 {
            registered_with(&app, &body, Some(&unlimited)).await;
        }
        for path in METADATA_PATHS {
            let metadata = app.get_metadata(path).await;
            assert_eq!(
                metadata["registration_endpoint"],
                app.url("/oauth/register"),
                "{path}"
            );
        }
    }
);

both_backends!(
    an_expired_initial_access_token_is_refused,
    |backend| async move {
        let clock = Arc::new(FixedClock::at(t0()));
        let app = spawn_app_with_clock(
            backend,
            &[
                ("TESSERA_REGISTRATION", "token"),
                ("TESSERA_MAX_FAILURES", "100"),
            ],
            clock.clone(),
        )
        .await;
        let token = app
            .registration_token(Some(Duration::seconds(60)), None)
            .await;
        let body = valid_with(json!({}));
        clock.advance(Duration::seconds(59));
        registered_with(&app, &body, Some(&token)).await;
        clock.advance(Duration::seconds(2));
        let expired = post_register(&app, &body, Some(&token)).await;
        assert_invalid_token(expired, "an expired initial access token").await;
    }
);

both_backends!(
    open_mode_is_the_default_ignores_authorization_and_names_the_endpoint,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let body = valid_with(json!({}));
        registered_with(&app, &body, Some("whatever-this-is")).await;
        let basic = app
            .client
            .post(app.url("/oauth/register"))
            .basic_auth("someone", Some("something"))
            .json(&body)
            .send()
            .await
            .expect("POST /oauth/register");
        assert_eq!(basic.status(), StatusCode::CREATED);
        for path in METADATA_PATHS {
            let metadata = app.get_metadata(path).await;
            assert_eq!(
                metadata["registration_endpoint"],
                app.url("/oauth/register"),
                "{path}"
            );
        }
    }
);

both_backends!(
    off_mode_has_no_registration_endpoint_but_clients_stay_manageable,
    |backend| async move {
        let app = spawn_registrar(backend, &[("TESSERA_REGISTRATION", "off")]).await;
        let response = post_register(&app, &valid_with(json!({})), None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        for path in METADATA_PATHS {
            let metadata = app.get_metadata(path).await;
            assert!(
                metadata.get("registration_endpoint").is_none(),
                "{path}: {metadata}"
            );
        }

        let made = made_on_the_pages(&app).await;
        let metadata = read(&app, &made.uri, &made.token).await;
        assert_eq!(metadata["client_id"], made.client.id.as_str());
    }
);

both_backends!(
    reading_a_client_needs_its_own_registration_access_token,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &valid_with(json!({ "client_name": "Readable", "contacts": ["a@client.example"] })),
        )
        .await;
        let other = registered(&app, &valid_with(json!({}))).await;
        let uri = text(&answer, "registration_client_uri");
        let token = text(&answer, "registration_access_token");

        let metadata = read(&app, uri, token).await;
        assert_eq!(metadata, without_credentials(&answer));
        assert!(metadata.get("client_secret").is_none(), "{metadata}");
        assert!(
            metadata.get("registration_access_token").is_none(),
            "{metadata}"
        );
        // A read does not rotate the token.
        assert_eq!(read(&app, uri, token).await, metadata);

        let anonymous = manage(&app, Method::GET, uri, None, None).await;
        assert_bare_challenge(&anonymous, "GET without a token");
        let cases = [
            ("a wrong token", uri.to_owned(), "not-the-token"),
            (
                "another client's token",
                uri.to_owned(),
                text(&other, "registration_access_token"),
            ),
            (
                "an unknown client",
                app.url("/oauth/register/no-such-client"),
                token,
            ),
        ];
        for (what, target, bearer) in cases {
            let response = manage(&app, Method::GET, &target, Some(bearer), None).await;
            assert_invalid_token(response, what).await;
        }
        let foreign = text(&other, "registration_access_token");
        let put = manage(
            &app,
            Method::PUT,
            uri,
            Some(foreign),
            Some(&json!({ "client_id": answer["client_id"], "redirect_uris": [OTHER_URI] })),
        )
        .await;
        assert_invalid_token(put, "PUT with another client's token").await;
        let delete = manage(&app, Method::DELETE, uri, Some(foreign), None).await;
        assert_invalid_token(delete, "DELETE with another client's token").await;
        let anonymous = manage(&app, Method::DELETE, uri, None, None).await;
        assert_bare_challenge(&anonymous, "DELETE without a token");
        assert_eq!(read(&app, uri, token).await, metadata, "nothing changed");
    }
);

both_backends!(
    an_update_replaces_the_metadata_takes_effect_and_rotates_the_token,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &json!({
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "client_name": "Before",
                "logo_uri": "https://client.example/logo.png",
                "scope": "openid profile",
                "contacts": ["a@client.example"],
                "id_token_signed_response_alg": "ES256",
                "access_token_format": "jwt",
                "require_pushed_authorization_requests": true,
            }),
        )
        .await;
        let client = client_of(&app, &answer);
        let uri = text(&answer, "registration_client_uri");
        let old_token = text(&answer, "registration_access_token");
        let refused = client.client_credentials(&app, "profile").await;
        assert_oauth_error(refused, StatusCode::BAD_REQUEST, "unauthorized_client").await;

        let new = update(
            &app,
            uri,
            old_token,
            &json!({
                "client_id": client.id,
                "redirect_uris": [OTHER_URI],
                "grant_types": ["authorization_code", "client_credentials"],
                "client_name": "After",
            }),
        )
        .await;
        assert_eq!(new["client_id"], client.id.as_str());
        assert_eq!(new["redirect_uris"], json!([OTHER_URI]), "{new}");
        assert_eq!(
            new["grant_types"],
            json!(["authorization_code", "client_credentials"]),
            "{new}"
        );
        assert_eq!(new["client_name"], "After", "{new}");
        // Omitted fields are back to their defaults.
        assert_eq!(new["response_types"], json!(["code"]), "{new}");
        assert_eq!(
            new["token_endpoint_auth_method"], "client_secret_basic",
            "{new}"
        );
        assert_eq!(scope_set(&new), tokens_of(DEFAULT_SCOPE), "{new}");
        assert_eq!(new["id_token_signed_response_alg"], "RS256", "{new}");
        assert_eq!(new["require_pushed_authorization_requests"], false, "{new}");
        for absent in OPTIONAL_STRINGS {
            assert!(new.get(absent).is_none(), "{absent}: {new}");
        }
        assert!(
            new.get("contacts").is_none() || new["contacts"] == json!([]),
            "{new}"
        );
        assert_eq!(new["client_id_issued_at"], answer["client_id_issued_at"]);
        assert_eq!(new["registration_client_uri"], uri);
        assert!(
            new.get("client_secret").is_none(),
            "the secret is kept: {new}"
        );
        let new_token = text(&new, "registration_access_token");
        assert_ne!(new_token, old_token, "the token is rotated");

        let stale = manage(&app, Method::GET, uri, Some(old_token), None).await;
        assert_invalid_token(stale, "the token before the update").await;
        assert_eq!(read(&app, uri, new_token).await, without_credentials(&new));

        // The new grant works, with the secret of the registration.
        client.client_credentials_token(&app, "profile").await;
        app.signed_up_user().await;
        let pkce = Pkce::s256();
        let removed = app
            .get_authorize(&client.code_query("openid profile", Some(&pkce)))
            .await;
        assert_error_page(&removed, "the removed redirect URI");
        let moved = RegisteredClient {
            redirect_uri: OTHER_URI.to_owned(),
            ..client.clone()
        };
        // Pushing is no longer required, so a direct request reaches the consent page.
        let tokens = code_flow_tokens(&app, &moved).await;
        app.assert_api_me_ok(&tokens.access).await;
        assert!(
            tokens.refresh.is_none(),
            "refresh_token was dropped: {tokens}"
        );
    }
);

both_backends!(
    a_refused_update_changes_nothing_and_the_current_secret_is_accepted,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &valid_with(json!({
                "grant_types": ["authorization_code", "client_credentials"],
                "client_name": "Original",
            })),
        )
        .await;
        let client = client_of(&app, &answer);
        let secret = client.secret.clone().expect("a confidential client");
        let uri = text(&answer, "registration_client_uri");
        let token = text(&answer, "registration_access_token");
        let id = client.id.as_str();
        let change = |fields: Value| {
            let mut body = json!({
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "client_credentials"],
                "client_name": "Changed",
            });
            if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
                body.extend(fields);
            }
            body
        };

        let cases = [
            ("no client_id", change(json!({})), BAD_METADATA),
            (
                "another client_id",
                change(json!({ "client_id": "someone-else" })),
                BAD_METADATA,
            ),
            (
                "a wrong client_secret",
                change(json!({ "client_id": id, "client_secret": "not-the-secret" })),
                BAD_METADATA,
            ),
            (
                "an http redirect URI off loopback",
                change(json!({ "client_id": id, "redirect_uris": ["http://client.example/cb"] })),
                BAD_URI,
            ),
            (
                "an unknown grant type",
                change(json!({ "client_id": id, "grant_types": ["magic"] })),
                BAD_METADATA,
            ),
            (
                "redirect_uris as a string",
                change(json!({ "client_id": id, "redirect_uris": REDIRECT_URI })),
                BAD_METADATA,
            ),
            (
                "the implicit grant for a confidential client",
                change(json!({
                    "client_id": id,
                    "grant_types": ["implicit"],
                    "response_types": ["token"],
                })),
                BAD_METADATA,
            ),
        ];
        for (what, body, error) in cases {
            let response = manage(&app, Method::PUT, uri, Some(token), Some(&body)).await;
            assert_refused(response, StatusCode::BAD_REQUEST, error, what).await;
        }
        let as_text = send(
            &app,
            Method::PUT,
            uri,
            Some(token),
            Some("text/plain"),
            Some(change(json!({ "client_id": id })).to_string()),
        )
        .await;
        assert_refused(as_text, StatusCode::BAD_REQUEST, BAD_METADATA, "text/plain").await;
        let not_json = send(
            &app,
            Method::PUT,
            uri,
            Some(token),
            Some("application/json"),
            Some("{\"client_id\":".to_owned()),
        )
        .await;
        assert_refused(not_json, StatusCode::BAD_REQUEST, BAD_METADATA, "not JSON").await;

        assert_eq!(
            read(&app, uri, token).await,
            without_credentials(&answer),
            "a refused update changed the client"
        );
        client.client_credentials_token(&app, "profile").await;

        // The current secret, and fields only the server sets, which are ignored.
        let new = update(
            &app,
            uri,
            token,
            &change(json!({
                "client_id": id,
                "client_secret": secret,
                "registration_access_token": "chosen-by-the-client",
                "registration_client_uri": "https://evil.example/register/x",
                "client_secret_expires_at": 99,
                "client_id_issued_at": 1,
            })),
        )
        .await;
        assert_eq!(new["client_name"], "Changed", "{new}");
        assert_eq!(new["client_id_issued_at"], answer["client_id_issued_at"]);
        assert_eq!(new["registration_client_uri"], uri);
        assert!(
            new.get("client_secret_expires_at").is_none() || new["client_secret_expires_at"] == 0,
            "{new}"
        );
        let new_token = text(&new, "registration_access_token");
        assert_ne!(new_token, "chosen-by-the-client");
        assert_ne!(new_token, token);
        assert!(new.get("client_secret").is_none(), "{new}");
        // The secret survives an ordinary update.
        client.client_credentials_token(&app, "profile").await;
        assert_eq!(read(&app, uri, new_token).await["client_name"], "Changed");
    }
);

both_backends!(
    an_update_that_makes_a_public_client_confidential_hands_out_a_working_secret,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &valid_with(json!({ "token_endpoint_auth_method": "none" })),
        )
        .await;
        assert!(answer.get("client_secret").is_none(), "{answer}");
        let uri = text(&answer, "registration_client_uri");
        let token = text(&answer, "registration_access_token");
        let new = update(
            &app,
            uri,
            token,
            &valid_with(json!({
                "client_id": answer["client_id"],
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "client_credentials"],
            })),
        )
        .await;
        assert_eq!(
            new["token_endpoint_auth_method"], "client_secret_basic",
            "{new}"
        );
        assert!(!text(&new, "client_secret").is_empty(), "{new}");
        assert_eq!(new["client_secret_expires_at"], 0, "{new}");
        let client = client_of(&app, &new);
        let issued = client.client_credentials_token(&app, "profile").await;
        assert_eq!(issued["token_type"], "Bearer");
        let wrong = client
            .with_secret("not-the-secret")
            .client_credentials(&app, "profile")
            .await;
        assert_oauth_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

both_backends!(
    deleting_a_client_revokes_everything_it_holds,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(
            &app,
            &valid_with(json!({
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            })),
        )
        .await;
        let client = client_of(&app, &answer);
        let uri = text(&answer, "registration_client_uri");
        let token = text(&answer, "registration_access_token");
        app.signed_up_user().await;
        let tokens = code_flow_tokens(&app, &client).await;
        app.assert_api_me_ok(&tokens.access).await;
        client.client_credentials_token(&app, "profile").await;

        let wrong = manage(&app, Method::DELETE, uri, Some("not-the-token"), None).await;
        assert_invalid_token(wrong, "DELETE with a wrong token").await;
        app.assert_api_me_ok(&tokens.access).await;

        let deleted = manage(&app, Method::DELETE, uri, Some(token), None).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert!(deleted.text().await.expect("body").is_empty());

        app.assert_api_me_status(
            &tokens.access,
            StatusCode::UNAUTHORIZED,
            "a deleted client's access token works",
        )
        .await;
        let refreshed = client.refresh(&app, tokens.refresh_token(), None).await;
        assert!(
            refreshed.status().is_client_error(),
            "a deleted client's refresh token: {}",
            refreshed.status()
        );
        let authenticated = client.client_credentials(&app, "profile").await;
        assert_oauth_error(authenticated, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let gone = manage(&app, Method::GET, uri, Some(token), None).await;
        assert_invalid_token(gone, "GET after DELETE").await;
        let again = manage(&app, Method::DELETE, uri, Some(token), None).await;
        assert_invalid_token(again, "DELETE after DELETE").await;
    }
);

/// A client made on `/create_client` with the registration access token its page showed.
struct PageClient {
    /// The client, owned by a signed-in browser.
    client: RegisteredClient,
    /// Its `client_name`.
    name: String,
    /// Its registration access token, from `id="registration_access_token"`.
    token: String,
    /// `<issuer>/oauth/register/<client_id>`.
    uri: String,
}

/// Signs a new owner up in another browser and creates a confidential client for the code
/// and client-credentials grants on `/create_client`; reads its page.
async fn made_on_the_pages(app: &TestApp) -> PageClient {
    let owner = app.another_browser();
    owner.signed_up_user().await;
    let form = TestClient::confidential(
        &["authorization_code", "client_credentials"],
        "openid profile",
    );
    let response = form.submit(&owner).await;
    let response = owner.follow(response).await;
    assert_eq!(response.status(), StatusCode::OK, "the new client's page");
    let page = response.text().await.expect("body");
    let field = |id: &str| {
        html::element_text(&page, id)
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| panic!("no id=\"{id}\" on the client page: {page}"))
    };
    let (id, secret, token) = (
        field("client_id"),
        field("client_secret"),
        field("registration_access_token"),
    );
    PageClient {
        uri: app.url(&format!("/oauth/register/{id}")),
        client: RegisteredClient {
            id,
            secret: Some(secret),
            redirect_uri: REDIRECT_URI.to_owned(),
            auth_method: "client_secret_basic".to_owned(),
            owner,
        },
        name: form.name,
        token,
    }
}

both_backends!(
    a_client_made_on_the_pages_is_managed_with_the_token_its_page_showed_once,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let made = made_on_the_pages(&app).await;
        let client = &made.client;
        let later = client.owner.get_html(&client.page()).await;
        assert!(!later.contains(&made.token), "the token is shown again");

        let metadata = read(&app, &made.uri, &made.token).await;
        assert_eq!(metadata["client_id"], client.id.as_str());
        assert_eq!(metadata["client_name"], made.name.as_str());
        assert_eq!(metadata["registration_client_uri"], made.uri.as_str());
        assert!(metadata.get("client_secret").is_none(), "{metadata}");

        let new = update(
            &app,
            &made.uri,
            &made.token,
            &json!({
                "client_id": client.id,
                "client_name": "Renamed",
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "client_credentials"],
            }),
        )
        .await;
        assert_eq!(new["client_name"], "Renamed");
        let page = client.owner.get_html(&client.page()).await;
        assert!(page.contains("Renamed"), "{page}");
        client.client_credentials_token(&app, "profile").await;

        let new_token = text(&new, "registration_access_token");
        let deleted = manage(&app, Method::DELETE, &made.uri, Some(new_token), None).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            client.owner.get_page(&client.page()).await.status(),
            StatusCode::NOT_FOUND
        );
        let refused = client.client_credentials(&app, "profile").await;
        assert_oauth_error(refused, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
);

/// `POST /clients/claim` in `browser` with the CSRF token of its home page's claim form.
async fn claim(browser: &TestApp, client_id: &str, token: &str) -> Response {
    let home = browser.get_html("/").await;
    let form = html::form_hidden_inputs(&home, "/clients/claim");
    let csrf = form
        .iter()
        .find(|(name, _)| name == "csrf_token")
        .map(|(_, value)| value.clone())
        .unwrap_or_else(|| panic!("no claim form with a csrf_token on /: {home}"));
    browser
        .post_form(
            "/clients/claim",
            &[
                ("client_id", client_id),
                ("registration_access_token", token),
                ("csrf_token", &csrf),
            ],
        )
        .await
}

both_backends!(
    a_registered_client_belongs_to_nobody_until_a_user_claims_it,
    |backend| async move {
        let app = spawn_registrar(backend, &[]).await;
        let answer = registered(&app, &valid_with(json!({ "client_name": "Unclaimed app" }))).await;
        let id = text(&answer, "client_id");
        let token = text(&answer, "registration_access_token");
        let page = format!("/clients/{id}");
        let first = app.clone();
        first.signed_up_user().await;
        let second = app.another_browser();
        second.signed_up_user().await;
        for user in [&first, &second] {
            assert!(!user.get_html("/").await.contains(id), "on a home page");
            assert_eq!(user.get_page(&page).await.status(), StatusCode::NOT_FOUND);
        }

        let wrong = claim(&first, id, "not-the-token").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST, "a wrong token");
        let unknown = claim(&first, "no-such-client", token).await;
        assert_eq!(
            unknown.status(),
            StatusCode::BAD_REQUEST,
            "an unknown client"
        );
        assert_eq!(first.get_page(&page).await.status(), StatusCode::NOT_FOUND);
        assert!(!first.get_html("/").await.contains(id));

        let claimed = claim(&first, id, token).await;
        assert_eq!(claimed.status(), StatusCode::SEE_OTHER);
        assert_eq!(first.location(&claimed).path(), page);
        let shown = first.follow(claimed).await;
        assert_eq!(shown.status(), StatusCode::OK);
        let shown = shown.text().await.expect("body");
        assert_eq!(html::element_text(&shown, "client_id").as_deref(), Some(id));
        assert!(shown.contains("Unclaimed app"), "{shown}");
        assert!(
            first.get_html("/").await.contains(id),
            "not on the home page"
        );

        let taken = claim(&second, id, token).await;
        assert_eq!(taken.status(), StatusCode::BAD_REQUEST, "a claimed client");
        assert_eq!(second.get_page(&page).await.status(), StatusCode::NOT_FOUND);
        assert!(!second.get_html("/").await.contains(id));
        assert_eq!(first.get_page(&page).await.status(), StatusCode::OK);
    }
);

both_backends!(
    the_fifth_registration_attempt_of_an_address_is_throttled,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_MAX_FAILURES", "1")]).await;
        let good =
            valid_with(json!({ "grant_types": ["authorization_code", "client_credentials"] }));
        let bad = json!({ "redirect_uris": ["http://client.example/cb"] });
        let answer = registered(&app, &good).await;
        let (status, _, body) = register(&app, &bad).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "the second attempt: {body}"
        );
        registered(&app, &good).await;
        let (status, _, body) = register(&app, &bad).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "the fourth attempt: {body}"
        );

        let fifth = post_register(&app, &good, None).await;
        let retry_after = fifth
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u32>().ok());
        assert!(
            retry_after.is_some_and(|seconds| seconds > 0),
            "Retry-After of the fifth attempt: {retry_after:?}"
        );
        assert_refused(
            fifth,
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "the fifth attempt",
        )
        .await;

        let client = client_of(&app, &answer);
        client.client_credentials_token(&app, "profile").await;
    }
);
