//! Interoperability with the `openidconnect` crate (v4), a relying-party library written
//! elsewhere: discovery, the authorization URL, the code exchange, ID token verification
//! (signature against the JWK Set the crate fetched, issuer, audience, expiry, nonce,
//! `at_hash`), UserInfo and refresh are all the crate's own code; the test only plays the
//! user's browser.
//!
//! Unlike the `oauth2` crate's revocation check (see `interop_oauth2.rs`), the crate accepts a
//! plain-http loopback issuer as it is, so it talks to the test server directly.
//!
//! The marked region below is the README's "Use it from Rust with `openidconnect`" example,
//! verbatim: a test runs it, and another checks that the README still shows exactly it.

use crate::helpers::{both_backends, spawn_app, RegisteredClient, TestApp, TestClient, TestUser};

// README example: begin
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::reqwest;
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

/// Signs a user in with Tessera and returns their `sub`. `browse` takes the user to the
/// authorization URL and returns the URL Tessera sent them back to.
pub async fn sign_in_with_tessera<F, Fut>(
    issuer: &str,
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    browse: F,
) -> anyhow::Result<String>
where
    F: FnOnce(url::Url) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<url::Url>>,
{
    // Never follow redirects in the client that talks to the provider (SSRF).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;

    // Discovery: the endpoints, and the JWK Set that ID tokens are signed with.
    let issuer_url = IssuerUrl::new(issuer.to_owned())?;
    let metadata = CoreProviderMetadata::discover_async(issuer_url, &http).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned())?);

    // The authorization URL, with PKCE (S256), a state and a nonce; `openid` is implied.
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(pkce_challenge)
        .url();

    // Tessera sends the browser back with `code`, `state` and `iss` (RFC 9207).
    let callback = browse(authorize_url).await?;
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    anyhow::ensure!(param("state").as_deref() == Some(state.secret().as_str()));
    anyhow::ensure!(param("iss").as_deref() == Some(issuer));
    let code = param("code").ok_or_else(|| anyhow::anyhow!("no code in {callback}"))?;

    // The code exchange, then the ID token: signature, iss, aud, exp, nonce and at_hash.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| anyhow::anyhow!("no ID token"))?;
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce)?;
    let expected_hash = claims
        .access_token_hash()
        .ok_or_else(|| anyhow::anyhow!("no at_hash"))?;
    let actual_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg()?,
        id_token.signing_key(&verifier)?,
    )?;
    anyhow::ensure!(actual_hash == *expected_hash, "at_hash mismatch");
    Ok(claims.subject().to_string())
}
// README example: end

use openidconnect::core::{CoreJwsSigningAlgorithm, CoreUserInfoClaims};
use openidconnect::{RefreshToken, SubjectIdentifier};

/// The user's browser at `authorize_url` (the crate's, pointing at `app`): the consent page,
/// Allow, and the URL the server redirects back to.
async fn allow_in_browser(app: &TestApp, authorize_url: url::Url) -> url::Url {
    let endpoint = authorize_url.as_str().split('?').next().unwrap_or_default();
    assert_eq!(
        endpoint,
        app.url("/oauth/authorize"),
        "the crate's endpoint"
    );
    let pairs: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    let query: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.consent_redirect(&query, true).await
}

/// A fresh server, a user signed up (with an email) and in, and a confidential OpenID client
/// with the code, refresh and password grants, its ID tokens signed with `alg`.
async fn app_with_openid_client(
    backend: crate::helpers::Backend,
    alg: &str,
) -> (TestApp, TestUser, RegisteredClient) {
    let app = spawn_app(backend).await;
    let user = app.signed_up(TestUser::generate().with_email()).await;
    let client = TestClient::confidential(
        &["authorization_code", "refresh_token", "password"],
        "openid profile email",
    )
    .id_token_alg(alg)
    .register(&app)
    .await;
    (app, user, client)
}

both_backends!(
    the_readme_example_signs_a_user_in_with_the_openidconnect_crate,
    |backend| async move {
        let (app, user, client) = app_with_openid_client(backend, "RS256").await;
        let browser = app.clone();

        let sub = sign_in_with_tessera(
            &app.address,
            &client.id,
            client.secret.as_deref().expect("a secret"),
            &client.redirect_uri,
            |url| async move { Ok(allow_in_browser(&browser, url).await) },
        )
        .await
        .expect("the README example signs the user in");

        let tokens = client.password_tokens(&app, &user, "profile").await;
        let me = app.assert_api_me_ok(&tokens.access).await;
        assert_eq!(me["id"], sub.as_str());
    }
);

#[test]
fn the_readme_shows_the_example_exactly_as_it_is_tested() {
    let source = include_str!("interop_openidconnect.rs");
    let readme = include_str!("../../README.md");
    let begin = "// README example: begin\n";
    let end = "// README example: end\n";
    let start = source.find(begin).expect("the begin marker") + begin.len();
    let stop = source.find(end).expect("the end marker");
    let example = &source[start..stop];
    assert!(example.contains("sign_in_with_tessera"), "{example}");
    assert!(
        readme.contains(&format!("```rust\n{example}```\n")),
        "README.md must show the example of tests/interop_openidconnect.rs verbatim:\n{example}"
    );
}

both_backends!(
    the_openidconnect_crate_runs_the_code_flow_userinfo_and_refresh_for_every_algorithm,
    |backend| async move {
        for alg in ["RS256", "ES256", "EdDSA"] {
            let (app, user, client) = app_with_openid_client(backend, alg).await;
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client builds");
            let issuer = IssuerUrl::new(app.address.clone()).expect("an issuer URL");

            let metadata = CoreProviderMetadata::discover_async(issuer, &http)
                .await
                .expect("discovery succeeds");
            assert_eq!(metadata.issuer().as_str(), app.address);
            assert_eq!(metadata.jwks().keys().len(), 3, "{alg}");
            let oidc = CoreClient::from_provider_metadata(
                metadata,
                ClientId::new(client.id.clone()),
                client.secret.clone().map(ClientSecret::new),
            )
            .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).expect("a URL"));
            let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
            let (authorize_url, state, nonce) = oidc
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .add_scope(Scope::new("profile".into()))
                .add_scope(Scope::new("email".into()))
                .set_pkce_challenge(challenge)
                .url();
            let callback = allow_in_browser(&app, authorize_url).await;
            let param = |name: &str| crate::helpers::query_param(&callback, name);
            assert_eq!(param("state").as_deref(), Some(state.secret().as_str()));
            let code = param("code").unwrap_or_else(|| panic!("no code in {callback}"));

            let tokens = oidc
                .exchange_code(AuthorizationCode::new(code))
                .expect("a token endpoint")
                .set_pkce_verifier(pkce_verifier)
                .request_async(&http)
                .await
                .expect("the code exchange succeeds");
            let id_token = tokens.id_token().expect("an ID token");
            let verifier = oidc.id_token_verifier();
            let claims = id_token
                .claims(&verifier, &nonce)
                .expect("the ID token verifies");
            let signing_alg = id_token.signing_alg().expect("an algorithm");
            let expected_alg = match alg {
                "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
                _ => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            };
            assert_eq!(signing_alg, &expected_alg);
            let at_hash = AccessTokenHash::from_token(
                tokens.access_token(),
                signing_alg,
                id_token.signing_key(&verifier).expect("the signing key"),
            )
            .expect("an access token hash");
            assert_eq!(claims.access_token_hash(), Some(&at_hash), "{alg}");
            assert!(claims.auth_time().is_some(), "{alg}");
            assert!(
                id_token
                    .claims(&verifier, &Nonce::new("another".into()))
                    .is_err(),
                "the crate checks the nonce"
            );

            let info: CoreUserInfoClaims = oidc
                .user_info(
                    tokens.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .expect("a userinfo endpoint")
                .request_async(&http)
                .await
                .expect("UserInfo answers");
            assert_eq!(info.subject(), claims.subject());
            assert_eq!(
                info.preferred_username().map(|name| name.as_str()),
                Some(user.username.as_str())
            );
            assert_eq!(
                info.email().map(|email| email.as_str()),
                user.email.as_deref()
            );
            assert_eq!(info.email_verified(), Some(false));

            let refresh = tokens.refresh_token().expect("a refresh token");
            let refreshed = oidc
                .exchange_refresh_token(&RefreshToken::new(refresh.secret().clone()))
                .expect("a token endpoint")
                .request_async(&http)
                .await
                .expect("the refresh succeeds");
            let no_nonce = |nonce: Option<&Nonce>| match nonce {
                None => Ok(()),
                Some(_) => Err("a refreshed ID token has no nonce".to_owned()),
            };
            let refreshed_claims = refreshed
                .id_token()
                .expect("a refreshed ID token")
                .claims(&verifier, no_nonce)
                .expect("the refreshed ID token verifies");
            assert_eq!(refreshed_claims.subject(), claims.subject());
            assert_eq!(refreshed_claims.auth_time(), claims.auth_time());
            let me = app
                .assert_api_me_ok(refreshed.access_token().secret())
                .await;
            assert_eq!(
                Some(claims.subject()),
                me["id"]
                    .as_str()
                    .map(|id| SubjectIdentifier::new(id.into()))
                    .as_ref()
            );
        }
    }
);
