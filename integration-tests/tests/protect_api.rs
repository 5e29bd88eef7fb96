//! The code of `docs/protect-your-api.md`, run: an API, in actix-web and in axum
//! (`axum_api`), that accepts Tessera's bearer tokens, by verifying JWT access tokens
//! (RFC 9068) against the JWK Set, and by asking the introspection endpoint (RFC 7662) about
//! opaque ones. The guide quotes the blocks between the `guide:` markers word for word; a
//! test checks it still does.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{app_with_client, both_backends, json, RegisteredClient, TestApp, TestClient};

mod axum_api;

// guide: jwt
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde::Deserialize;

/// What the API reads from a Tessera JWT access token.
#[derive(Debug, Deserialize)]
struct AccessClaims {
    /// The user's id, or the client's when it acts for itself.
    sub: String,
    /// The granted scopes, space separated.
    scope: String,
}

/// Why the API refuses a request (RFC 6750, section 3.1).
enum Refusal {
    /// No bearer token, or one that does not verify: 401.
    InvalidToken,
    /// A good token without the scope the route needs: 403.
    InsufficientScope,
}

impl Refusal {
    /// The `WWW-Authenticate` header of the refusal.
    fn challenge(&self) -> &'static str {
        match self {
            Self::InvalidToken => "Bearer error=\"invalid_token\"",
            Self::InsufficientScope => "Bearer error=\"insufficient_scope\"",
        }
    }
}

/// Tessera's issuer and its signing keys, fetched once through discovery.
struct TesseraKeys {
    issuer: String,
    keys: JwkSet,
}

impl TesseraKeys {
    async fn discover(issuer: &str) -> reqwest::Result<Self> {
        let metadata: serde_json::Value =
            reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
                .await?
                .json()
                .await?;
        let jwks_uri = metadata["jwks_uri"].as_str().unwrap_or_default().to_owned();
        let keys = reqwest::get(jwks_uri).await?.json().await?;
        Ok(Self {
            issuer: issuer.to_owned(),
            keys,
        })
    }

    /// The claims of a token Tessera signed for itself (`aud` is the issuer), unexpired,
    /// with the `typ` RFC 9068 requires; `None` for anything else.
    fn verify(&self, token: &str) -> Option<AccessClaims> {
        let header = decode_header(token).ok()?;
        if header.typ.as_deref() != Some("at+jwt") {
            return None;
        }
        let jwk = self.keys.find(header.kid.as_deref()?)?;
        let key = DecodingKey::from_jwk(jwk).ok()?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.issuer]);
        decode::<AccessClaims>(token, &key, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The claims of the bearer token in an `Authorization` header value, when it verifies
    /// and grants `scope`.
    fn authorize(&self, authorization: Option<&str>, scope: &str) -> Result<AccessClaims, Refusal> {
        let claims = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| self.verify(token))
            .ok_or(Refusal::InvalidToken)?;
        if claims.scope.split(' ').any(|granted| granted == scope) {
            Ok(claims)
        } else {
            Err(Refusal::InsufficientScope)
        }
    }
}
// guide: end

// guide: actix
/// `GET /photos`: needs a token with the scope `photos:read`.
async fn photos(req: HttpRequest, keys: web::Data<TesseraKeys>) -> HttpResponse {
    let authorization = req
        .headers()
        .get("Authorization")
        .and_then(|value| value.to_str().ok());
    match keys.authorize(authorization, "photos:read") {
        Ok(claims) => HttpResponse::Ok().json(serde_json::json!({ "photos_of": claims.sub })),
        Err(refusal) => {
            let mut response = match refusal {
                Refusal::InvalidToken => HttpResponse::Unauthorized(),
                Refusal::InsufficientScope => HttpResponse::Forbidden(),
            };
            response
                .insert_header(("WWW-Authenticate", refusal.challenge()))
                .finish()
        }
    }
}
// guide: end

// guide: introspection
/// Asks Tessera whether `token` is active, authenticating as the client it was issued to
/// (Tessera answers a client about its own tokens only); the introspection answer when it
/// is.
async fn introspect(
    issuer: &str,
    client_id: &str,
    client_secret: &str,
    token: &str,
) -> reqwest::Result<Option<serde_json::Value>> {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/oauth/introspect"))
        .basic_auth(client_id, Some(client_secret))
        .form(&[("token", token)])
        .send()
        .await?
        .json()
        .await?;
    Ok((answer["active"] == true).then_some(answer))
}
// guide: end

/// One of the guide's APIs, started on a free port on loopback.
struct GuideApi {
    /// The framework it is written with, for the failure messages.
    framework: &'static str,
    /// Its base URL.
    url: String,
}

impl GuideApi {
    /// The API of `framework` listening on `port` on loopback.
    fn on_port(framework: &'static str, port: u16) -> Self {
        Self {
            framework,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Starts the actix-web API.
    fn actix(keys: TesseraKeys) -> Self {
        let keys = web::Data::new(keys);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(keys.clone())
                .route("/photos", web::get().to(photos))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("the API binds");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self::on_port("actix-web", port)
    }

    /// Starts the axum API.
    async fn axum(keys: TesseraKeys) -> Self {
        Self::on_port("axum", axum_api::start(keys).await)
    }

    async fn get_photos(&self, token: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(format!("{}/photos", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("GET /photos")
    }

    /// Asserts that the API answers `GET /photos` with `token` by `status` and the Bearer
    /// challenge naming `error`.
    async fn assert_refuses(&self, token: Option<&str>, status: StatusCode, error: &str) {
        let response = self.get_photos(token).await;
        assert_eq!(response.status(), status, "{}", self.framework);
        let challenge = response.headers().get("WWW-Authenticate");
        let expected = format!("Bearer error=\"{error}\"");
        assert_eq!(
            challenge.and_then(|value| value.to_str().ok()),
            Some(expected.as_str()),
            "{}",
            self.framework
        );
    }

    /// Checks that a JWT access token of `client` (registered for JWTs and the scopes
    /// `photos:read profile`) with `photos:read` gets the photos, and that any other token,
    /// or none, is refused.
    async fn accepts_the_scope_and_refuses_the_rest(
        &self,
        app: &TestApp,
        client: &RegisteredClient,
    ) {
        let reader = token(app, client, "photos:read").await;
        let response = self.get_photos(Some(&reader)).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", self.framework);
        let (_, _, body) = json(response).await;
        assert_eq!(body["photos_of"], client.id.as_str(), "{}", self.framework);

        let profile_only = token(app, client, "profile").await;
        self.assert_refuses(
            Some(&profile_only),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        )
        .await;
        self.assert_refuses(None, StatusCode::UNAUTHORIZED, "invalid_token")
            .await;
        let mut forged = reader.clone();
        forged.pop();
        forged.push(if reader.ends_with('A') { 'B' } else { 'A' });
        self.assert_refuses(Some(&forged), StatusCode::UNAUTHORIZED, "invalid_token")
            .await;
        // An opaque access token is no JWT: this API does not take it.
        let opaque = TestClient::confidential(&["client_credentials"], "photos:read");
        let opaque = opaque.register(app).await;
        let not_a_jwt = token(app, &opaque, "photos:read").await;
        self.assert_refuses(Some(&not_a_jwt), StatusCode::UNAUTHORIZED, "invalid_token")
            .await;
    }
}

/// Tessera's keys, as the guide's APIs fetch them at start-up.
async fn discover(app: &TestApp) -> TesseraKeys {
    TesseraKeys::discover(&app.address)
        .await
        .expect("the API discovers Tessera's keys")
}

/// A client-credentials access token for `client` with `scope`.
async fn token(app: &TestApp, client: &RegisteredClient, scope: &str) -> String {
    let body = client.client_credentials_token(app, scope).await;
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

both_backends!(
    the_guides_apis_accept_tessera_jwts_with_the_scope_and_refuse_the_rest,
    |backend| async move {
        let client = TestClient::confidential(&["client_credentials"], "photos:read profile")
            .access_token_format("jwt");
        let (app, client) = app_with_client(backend, client).await;
        let actix = GuideApi::actix(discover(&app).await);
        let axum = GuideApi::axum(discover(&app).await).await;
        for api in [actix, axum] {
            api.accepts_the_scope_and_refuses_the_rest(&app, &client)
                .await;
        }
    }
);

both_backends!(
    the_guides_introspection_sees_a_token_until_it_is_revoked,
    |backend| async move {
        let client = TestClient::confidential(&["client_credentials"], "photos:read");
        let (app, client) = app_with_client(backend, client).await;
        let secret = client.secret.clone().expect("a confidential client");
        let access = token(&app, &client, "photos:read").await;

        let active = introspect(&app.address, &client.id, &secret, &access)
            .await
            .expect("introspection answers")
            .expect("the token is active");
        assert_eq!(active["scope"], "photos:read");
        assert_eq!(active["client_id"], client.id.as_str());

        let revoked = client
            .post_revoke(&app, &[("token", access.as_str())])
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let after = introspect(&app.address, &client.id, &secret, &access)
            .await
            .expect("introspection answers");
        assert_eq!(after, None::<Value>);
    }
);

/// The blocks between `// guide: NAME` and `// guide: end` in `source`.
fn guide_blocks(source: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in source.lines() {
        let marker = line.trim_start().strip_prefix("// guide: ");
        match (marker, current.as_mut()) {
            (Some("end"), Some(_)) => blocks.extend(current.take()),
            (Some(_), None) => current = Some(String::new()),
            (None, Some(block)) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn the_guide_quotes_this_code_word_for_word() {
    let guide = include_str!("../../docs/protect-your-api.md");
    let mut blocks = guide_blocks(include_str!("protect_api.rs"));
    blocks.extend(guide_blocks(include_str!("protect_api/axum_api.rs")));
    assert_eq!(
        blocks.len(),
        4,
        "the jwt, actix, introspection and axum blocks"
    );
    for block in blocks {
        assert!(
            guide.contains(&block),
            "docs/protect-your-api.md no longer quotes:\n{block}"
        );
    }
}
