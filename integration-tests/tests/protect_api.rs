//! The code of `docs/protect-your-api.md`, run: an actix-web API that accepts Tessera's
//! bearer tokens, by verifying JWT access tokens (RFC 9068) against the JWK Set, and by
//! asking the introspection endpoint (RFC 7662) about opaque ones. The guide quotes the
//! blocks between the `guide:` markers word for word; a test checks it still does.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{app_with_client, both_backends, json, TestApp, TestClient};

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
}

/// `GET /photos`: needs a token with the scope `photos:read`.
async fn photos(req: HttpRequest, keys: web::Data<TesseraKeys>) -> HttpResponse {
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(claims) = token.and_then(|token| keys.verify(token)) else {
        return HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer error=\"invalid_token\""))
            .finish();
    };
    if !claims.scope.split(' ').any(|scope| scope == "photos:read") {
        return HttpResponse::Forbidden()
            .insert_header(("WWW-Authenticate", "Bearer error=\"insufficient_scope\""))
            .finish();
    }
    HttpResponse::Ok().json(serde_json::json!({ "photos_of": claims.sub }))
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

/// Starts the guide's API on a free port; its base URL.
async fn start_api(issuer: &str) -> String {
    let keys = web::Data::new(
        TesseraKeys::discover(issuer)
            .await
            .expect("the API discovers Tessera's keys"),
    );
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
    format!("http://127.0.0.1:{port}")
}

async fn get_photos(api: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{api}/photos"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("GET /photos")
}

/// A client-credentials access token for `client` with `scope`.
async fn token(app: &TestApp, client: &crate::helpers::RegisteredClient, scope: &str) -> String {
    let body = client.client_credentials_token(app, scope).await;
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

both_backends!(
    the_guides_api_accepts_tessera_jwts_with_the_scope_and_refuses_the_rest,
    |backend| async move {
        let client = TestClient::confidential(&["client_credentials"], "photos:read profile")
            .access_token_format("jwt");
        let (app, client) = app_with_client(backend, client).await;
        let api = start_api(&app.address).await;

        let reader = token(&app, &client, "photos:read").await;
        let response = get_photos(&api, Some(&reader)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let (_, _, body) = json(response).await;
        assert_eq!(body["photos_of"], client.id.as_str());

        let profile_only = token(&app, &client, "profile").await;
        assert_eq!(
            get_photos(&api, Some(&profile_only)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            get_photos(&api, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let mut forged = reader.clone();
        forged.pop();
        forged.push(if reader.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            get_photos(&api, Some(&forged)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        // An opaque access token is no JWT: this API does not take it.
        let opaque = TestClient::confidential(&["client_credentials"], "photos:read");
        let opaque = opaque.register(&app).await;
        let not_a_jwt = token(&app, &opaque, "photos:read").await;
        assert_eq!(
            get_photos(&api, Some(&not_a_jwt)).await.status(),
            StatusCode::UNAUTHORIZED
        );
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

/// The blocks between `// guide: NAME` and `// guide: end` in this file.
fn guide_blocks() -> Vec<String> {
    let source = include_str!("protect_api.rs");
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
    let blocks = guide_blocks();
    assert_eq!(blocks.len(), 2, "the jwt and introspection blocks");
    for block in blocks {
        assert!(
            guide.contains(&block),
            "docs/protect-your-api.md no longer quotes:\n{block}"
        );
    }
}
