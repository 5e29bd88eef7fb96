//! Interoperability with the `oauth2` crate (v5), a client library written elsewhere: every
//! request and answer below is built and parsed by its own API, not by our helpers.
//!
//! One adaptation: the crate refuses a revocation URL that is not https (RFC 7009 §2 says
//! clients must check), and the test server speaks plain http on loopback. So the crate is
//! given `https://127.0.0.1:<port>/oauth/revoke`, and [`LoopbackHttp`], the HTTP client it
//! sends through, turns exactly that origin back into `http://`. The request itself (method,
//! body, client authentication, hint) is still the crate's.

use std::time::Duration;

use crate::helpers::{
    both_backends, spawn_app, Backend, RegisteredClient, TestApp, TestClient, TestUser,
};
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, ClientId, ClientSecret, ConfigurationError,
    EndpointNotSet, EndpointSet, HttpClientError, HttpRequest, IntrospectionUrl, RequestTokenError,
    ResourceOwnerPassword, ResourceOwnerUsername, RevocationUrl, Scope, StandardRevocableToken,
    TokenIntrospectionResponse as _, TokenResponse as _, TokenUrl,
};

/// A client of the crate with the token, introspection and revocation endpoints set.
type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

/// The crate's reqwest client (never following redirects, as the crate's docs advise),
/// sending requests for `https://127.0.0.1:<port>` over plain http.
struct LoopbackHttp(reqwest::Client);

impl LoopbackHttp {
    fn new() -> Self {
        Self(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client builds"),
        )
    }
}

impl<'c> AsyncHttpClient<'c> for LoopbackHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = <reqwest::Client as AsyncHttpClient<'c>>::Future;

    fn call(&'c self, mut request: HttpRequest) -> Self::Future {
        let uri = request.uri().to_string();
        if let Some(rest) = uri.strip_prefix("https://127.0.0.1:") {
            match format!("http://127.0.0.1:{rest}").parse() {
                Ok(plain) => *request.uri_mut() = plain,
                Err(error) => {
                    let error = HttpClientError::Other(format!("{uri}: {error}"));
                    return Box::pin(async move { Err(error) });
                }
            }
        }
        self.0.call(request)
    }
}

/// `client` as the crate sees it: its id, its secret when it has one, Basic or body
/// authentication as registered, and Tessera's endpoints.
fn oauth_client(app: &TestApp, client: &RegisteredClient) -> OAuthClient {
    let revocation = app.url("/oauth/revoke").replacen("http://", "https://", 1);
    let mut oauth = BasicClient::new(ClientId::new(client.id.clone()))
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).expect("token URL"))
        .set_introspection_url(
            IntrospectionUrl::new(app.url("/oauth/introspect")).expect("introspection URL"),
        )
        .set_revocation_url(RevocationUrl::new(revocation).expect("revocation URL"));
    if let Some(secret) = &client.secret {
        oauth = oauth.set_client_secret(ClientSecret::new(secret.clone()));
    }
    if client.auth_method == "client_secret_post" {
        oauth = oauth.set_auth_type(AuthType::RequestBody);
    }
    oauth
}

/// The names of the crate's scopes.
fn names(scopes: Option<&Vec<Scope>>) -> Vec<&str> {
    scopes
        .map(|scopes| scopes.iter().map(|scope| scope.as_str()).collect())
        .unwrap_or_default()
}

/// The RFC error code of a refused request, as the crate parsed it.
fn refused<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> BasicErrorResponseType {
    match error {
        RequestTokenError::ServerResponse(response) => response.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

/// A fresh server with a signed-up user, and a `password` + `refresh_token` client that
/// authenticates with `method`.
async fn app_with_password_client(
    backend: Backend,
    method: &str,
) -> (TestApp, TestUser, RegisteredClient) {
    let app = spawn_app(backend).await;
    let user = app.signed_up_user().await;
    let client = TestClient::confidential(&["password", "refresh_token"], "profile")
        .auth_method(method)
        .register(&app)
        .await;
    (app, user, client)
}

/// The password grant through the crate, expecting tokens.
async fn password_tokens(
    oauth: &OAuthClient,
    http: &LoopbackHttp,
    user: &TestUser,
) -> oauth2::basic::BasicTokenResponse {
    oauth
        .exchange_password(
            &ResourceOwnerUsername::new(user.username.clone()),
            &ResourceOwnerPassword::new(user.password.clone()),
        )
        .add_scope(Scope::new("profile".into()))
        .request_async(http)
        .await
        .expect("the password grant succeeds")
}

both_backends!(
    the_oauth2_crate_gets_a_client_credentials_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        let client = TestClient::confidential(&["client_credentials"], "profile")
            .register(&app)
            .await;
        let oauth = oauth_client(&app, &client);
        let http = LoopbackHttp::new();

        let token = oauth
            .exchange_client_credentials()
            .add_scope(Scope::new("profile".into()))
            .request_async(&http)
            .await
            .expect("the client credentials grant succeeds");

        assert_eq!(token.token_type(), &BasicTokenType::Bearer);
        assert_eq!(names(token.scopes()), ["profile"]);
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
        assert!(token.refresh_token().is_none());
        let description = oauth
            .introspect(token.access_token())
            .request_async(&http)
            .await
            .expect("introspection succeeds");
        assert!(description.active());
        assert_eq!(description.sub(), None);
        assert_eq!(description.username(), None);
        app.assert_api_me_insufficient_scope(token.access_token().secret())
            .await;
    }
);

both_backends!(
    the_oauth2_crate_runs_the_password_grant_and_refreshes_with_every_auth_method,
    |backend| async move {
        for method in ["client_secret_basic", "client_secret_post", "none"] {
            let (app, user, client) = app_with_password_client(backend, method).await;
            let oauth = oauth_client(&app, &client);
            let http = LoopbackHttp::new();

            let first = password_tokens(&oauth, &http, &user).await;
            let first_refresh = first.refresh_token().expect("a refresh token").clone();
            let second = oauth
                .exchange_refresh_token(&first_refresh)
                .request_async(&http)
                .await
                .expect("the refresh succeeds");
            app.assert_api_me_ok(second.access_token().secret()).await;
            let replay = oauth
                .exchange_refresh_token(&first_refresh)
                .request_async(&http)
                .await
                .expect_err("a rotated refresh token is refused");

            assert_eq!(names(first.scopes()), ["profile"], "{method}");
            let second_refresh = second.refresh_token().expect("a new refresh token");
            assert_ne!(second_refresh.secret(), first_refresh.secret(), "{method}");
            assert_eq!(
                refused(replay),
                BasicErrorResponseType::InvalidGrant,
                "{method}"
            );
            // The replay revoked the whole chain (DESIGN §4).
            app.assert_api_me_unauthorized(second.access_token().secret())
                .await;
        }
    }
);

both_backends!(
    the_oauth2_crate_reads_invalid_client_for_a_wrong_secret,
    |backend| async move {
        let (app, user, client) = app_with_password_client(backend, "client_secret_basic").await;
        let oauth = oauth_client(&app, &client.with_secret("wrong"));

        let error = oauth
            .exchange_password(
                &ResourceOwnerUsername::new(user.username.clone()),
                &ResourceOwnerPassword::new(user.password.clone()),
            )
            .request_async(&LoopbackHttp::new())
            .await
            .expect_err("a wrong secret is refused");

        assert_eq!(refused(error), BasicErrorResponseType::InvalidClient);
    }
);

both_backends!(
    the_oauth2_crate_revokes_access_and_refresh_tokens,
    |backend| async move {
        let (app, user, client) = app_with_password_client(backend, "client_secret_basic").await;
        let oauth = oauth_client(&app, &client);
        let http = LoopbackHttp::new();
        let first = password_tokens(&oauth, &http, &user).await;
        let second = password_tokens(&oauth, &http, &user).await;

        oauth
            .revoke_token(StandardRevocableToken::AccessToken(
                first.access_token().clone(),
            ))
            .expect("a revocation request")
            .request_async(&http)
            .await
            .expect("the access token is revoked");
        oauth
            .revoke_token(StandardRevocableToken::RefreshToken(
                second.refresh_token().expect("a refresh token").clone(),
            ))
            .expect("a revocation request")
            .request_async(&http)
            .await
            .expect("the refresh token is revoked");
        oauth
            .revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
                "no-such-token".into(),
            )))
            .expect("a revocation request")
            .request_async(&http)
            .await
            .expect("an unknown token is revoked silently");

        app.assert_api_me_unauthorized(first.access_token().secret())
            .await;
        app.assert_api_me_unauthorized(second.access_token().secret())
            .await;
        let refresh = oauth
            .exchange_refresh_token(second.refresh_token().expect("a refresh token"))
            .request_async(&http)
            .await
            .expect_err("a revoked refresh token is refused");
        assert_eq!(refused(refresh), BasicErrorResponseType::InvalidGrant);
    }
);

both_backends!(
    the_oauth2_crate_refuses_a_plain_http_revocation_url_by_itself,
    |backend| async move {
        let (app, _, client) = app_with_password_client(backend, "client_secret_basic").await;
        let oauth = oauth_client(&app, &client).set_revocation_url(
            RevocationUrl::new(app.url("/oauth/revoke")).expect("revocation URL"),
        );

        let request = oauth.revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
            "x".into(),
        )));

        assert!(
            matches!(request, Err(ConfigurationError::InsecureUrl("revocation"))),
            "the crate checks the scheme itself"
        );
    }
);

both_backends!(
    the_oauth2_crate_introspects_active_and_inactive_tokens,
    |backend| async move {
        let (app, user, client) = app_with_password_client(backend, "client_secret_basic").await;
        let oauth = oauth_client(&app, &client);
        let http = LoopbackHttp::new();
        let tokens = password_tokens(&oauth, &http, &user).await;
        let me = app.assert_api_me_ok(tokens.access_token().secret()).await;

        let access = oauth
            .introspect(tokens.access_token())
            .request_async(&http)
            .await
            .expect("introspection succeeds");
        let refresh_as_access = AccessToken::new(
            tokens
                .refresh_token()
                .expect("a refresh token")
                .secret()
                .clone(),
        );
        let refresh = oauth
            .introspect(&refresh_as_access)
            .set_token_type_hint("refresh_token")
            .request_async(&http)
            .await
            .expect("introspection succeeds");
        oauth
            .revoke_token(StandardRevocableToken::AccessToken(
                tokens.access_token().clone(),
            ))
            .expect("a revocation request")
            .request_async(&http)
            .await
            .expect("the access token is revoked");
        let revoked = oauth
            .introspect(tokens.access_token())
            .request_async(&http)
            .await
            .expect("introspection succeeds");

        assert!(access.active());
        assert_eq!(names(access.scopes()), ["profile"]);
        assert_eq!(
            access.client_id().map(|id| id.as_str()),
            Some(client.id.as_str())
        );
        assert_eq!(access.token_type(), Some(&BasicTokenType::Bearer));
        assert_eq!(access.username(), Some(user.username.as_str()));
        assert_eq!(access.sub(), me["id"].as_str());
        assert!(access.iss().is_some_and(|iss| iss.starts_with("http://")));
        let (exp, iat) = (access.exp().expect("exp"), access.iat().expect("iat"));
        assert_eq!((exp - iat).num_seconds(), 3600);

        assert!(refresh.active());
        assert_eq!(
            refresh.token_type(),
            Some(&BasicTokenType::Extension("refresh_token".into()))
        );

        assert!(!revoked.active());
        assert_eq!(revoked.scopes(), None);
        assert_eq!(revoked.client_id().map(|id| id.as_str()), None);
        assert_eq!(revoked.token_type(), None);
        assert_eq!((revoked.exp(), revoked.sub()), (None, None));
    }
);

both_backends!(
    the_oauth2_crate_introspects_as_a_public_client_with_its_client_id_alone,
    |backend| async move {
        let (app, user, client) = app_with_password_client(backend, "none").await;
        let oauth = oauth_client(&app, &client);
        let http = LoopbackHttp::new();
        let tokens = password_tokens(&oauth, &http, &user).await;

        let description = oauth
            .introspect(tokens.access_token())
            .request_async(&http)
            .await
            .expect("introspection succeeds");

        assert!(description.active());
        assert_eq!(description.username(), Some(user.username.as_str()));
    }
);
