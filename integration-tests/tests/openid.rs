//! OpenID Connect over HTTP: discovery, ID tokens checked against the JWK Set as a relying
//! party would, UserInfo by scope, `iss` on every authorization redirect (RFC 9207), and the
//! `prompt` / `max_age` / remembered-consent table of the authorization endpoint.

use std::sync::Arc;

use chrono::Duration;
use jsonwebtoken::Algorithm;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tessera_domain::{Clock as _, FixedClock, SystemClock};
use url::Url;

use crate::helpers::fixtures::{REDIRECT_URI, STATE};
use crate::helpers::id_token::{algorithm, at_hash, verify};
use crate::helpers::{
    assert_bearer_error, assert_tokens, both_backends, fragment_param, html, query_param,
    redirect_param, spawn_app, spawn_app_with, spawn_app_with_clock, www_authenticate, Backend,
    Pkce, RegisteredClient, TestApp, TestClient, TestUser, Tokens,
};

/// The nonce every code-flow test sends: characters a careless server would re-encode.
const NONCE: &str = "n-0S6_WzA2Mj ü+/=&%20";

/// The scope every OpenID client here registers.
const SCOPE: &str = "openid profile email offline_access";

/// A confidential OpenID client with the code, refresh and password grants.
fn openid_client() -> TestClient {
    TestClient::confidential(&["authorization_code", "refresh_token", "password"], SCOPE)
}

/// `query` with `extra` appended.
fn with<'a>(
    query: Vec<(&'a str, &'a str)>,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut query = query;
    query.extend_from_slice(extra);
    query
}

/// A fresh server, a user signed up (with an email) and in, and an OpenID client.
async fn signed_in_with_openid_client(
    backend: Backend,
    client: TestClient,
) -> (TestApp, TestUser, RegisteredClient) {
    let app = spawn_app(backend).await;
    let user = app.signed_up(TestUser::generate().with_email()).await;
    let client = client.register(&app).await;
    (app, user, client)
}

/// The code flow with [`NONCE`] for `scope`, through consent, redeemed: the tokens.
async fn code_flow_tokens(app: &TestApp, client: &RegisteredClient, scope: &str) -> Tokens {
    let query = with(client.code_query(scope, None), &[("nonce", NONCE)]);
    let code = client.authorization_code_for(app, &query).await;
    assert_tokens(client.redeem_code(app, &code, None).await).await
}

/// The ID token of `tokens`, verified against the server's JWK Set for the client's
/// algorithm; its claims, after checking `at_hash` and the header's `kid`.
async fn verified_id_token(
    app: &TestApp,
    client: &RegisteredClient,
    tokens: &Tokens,
    alg: Algorithm,
) -> Value {
    let jws = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token: {tokens}"));
    let (_, jwks) = app.get_jwks().await;
    let (header, claims) = verify(jws, &jwks, alg, &app.address, &client.id);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["at_hash"], at_hash(alg, &tokens.access), "{claims}");
    claims
}

/// The user's id as `/api/me` reports it (the token needs `profile`).
async fn user_id(app: &TestApp, access_token: &str) -> String {
    let me = app.assert_api_me_ok(access_token).await;
    me["id"].as_str().expect("an id").to_owned()
}

/// Asserts `response` is a redirect to the client with `error`, the state and `iss`.
fn assert_error_redirect(app: &TestApp, response: &Response, error: &str) -> Url {
    assert_eq!(response.status(), StatusCode::FOUND, "expected a redirect");
    let location = app.location(response);
    assert!(location.as_str().starts_with(REDIRECT_URI), "{location}");
    assert_eq!(
        redirect_param(&location, "error").as_deref(),
        Some(error),
        "{location}"
    );
    assert_eq!(redirect_param(&location, "state").as_deref(), Some(STATE));
    assert_eq!(
        redirect_param(&location, "iss").as_deref(),
        Some(app.address.as_str())
    );
    assert_eq!(redirect_param(&location, "code"), None);
    location
}

/// Asserts `response` is a 302 straight to the client with a code (no consent page).
fn assert_code_redirect(app: &TestApp, response: &Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "expected a redirect with a code"
    );
    let location = app.location(response);
    assert!(location.as_str().starts_with(REDIRECT_URI), "{location}");
    assert_eq!(query_param(&location, "error"), None, "{location}");
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(app.address.as_str())
    );
    query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// Asserts `response` is the consent page (200 with the form posting to /oauth/authorize).
async fn assert_consent_page(response: Response) {
    let status = response.status();
    let page = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "expected the consent page: {page}");
    assert!(
        !html::form_hidden_inputs(&page, "/oauth/authorize").is_empty(),
        "no consent form: {page}"
    );
}

/// Asserts `response` sends the browser to sign in; returns the `next` it carries.
fn assert_sign_in_redirect(app: &TestApp, response: &Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "expected a redirect to /login"
    );
    let location = app.location(response);
    assert!(location.as_str().starts_with(&app.address), "{location}");
    assert_eq!(location.path(), "/login", "{location}");
    query_param(&location, "next").unwrap_or_else(|| panic!("no next in {location}"))
}

/// The names of the query parameters of a same-site path.
fn param_names(path: &str) -> Vec<String> {
    let url = Url::parse("http://x.invalid")
        .expect("a base")
        .join(path)
        .expect("a path");
    url.query_pairs()
        .map(|(name, _)| name.into_owned())
        .collect()
}

both_backends!(
    both_discovery_documents_are_one_document_listing_every_capability,
    |backend| async move {
        let app = spawn_app(backend).await;

        let openid = app.get_discovery().await;
        let oauth = app
            .get_metadata("/.well-known/oauth-authorization-server")
            .await;

        assert_eq!(openid, oauth);
        let base = &app.address;
        assert_eq!(openid["issuer"], base.as_str());
        for (member, path) in [
            ("authorization_endpoint", "/oauth/authorize"),
            ("token_endpoint", "/oauth/token"),
            ("revocation_endpoint", "/oauth/revoke"),
            ("introspection_endpoint", "/oauth/introspect"),
            ("pushed_authorization_request_endpoint", "/oauth/par"),
            ("userinfo_endpoint", "/oauth/userinfo"),
            ("jwks_uri", "/oauth/jwks"),
        ] {
            assert_eq!(openid[member], format!("{base}{path}"), "{member}");
        }
        let list = |member: &str| -> Vec<String> {
            openid[member]
                .as_array()
                .unwrap_or_else(|| panic!("{member} is not a list: {openid}"))
                .iter()
                .map(|value| value.as_str().expect("a string").to_owned())
                .collect()
        };
        assert_eq!(
            list("scopes_supported"),
            ["openid", "profile", "email", "offline_access"]
        );
        assert_eq!(list("response_types_supported"), ["code", "token"]);
        let grants = list("grant_types_supported");
        for grant in [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
        ] {
            assert!(
                grants.contains(&grant.to_owned()),
                "{grant} missing: {grants:?}"
            );
        }
        assert!(!grants.contains(&"implicit".to_owned()), "{grants:?}");
        assert_eq!(
            list("token_endpoint_auth_methods_supported"),
            ["client_secret_basic", "client_secret_post", "none"]
        );
        assert_eq!(list("code_challenge_methods_supported"), ["S256"]);
        assert_eq!(openid["require_pushed_authorization_requests"], false);
        assert_eq!(list("subject_types_supported"), ["public"]);
        assert_eq!(
            list("id_token_signing_alg_values_supported"),
            ["RS256", "ES256", "EdDSA"]
        );
        let claims = list("claims_supported");
        for claim in [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "preferred_username",
            "email",
            "email_verified",
        ] {
            assert!(
                claims.contains(&claim.to_owned()),
                "{claim} missing: {claims:?}"
            );
        }
        let prompts = list("prompt_values_supported");
        for prompt in ["none", "login", "consent", "select_account"] {
            assert!(
                prompts.contains(&prompt.to_owned()),
                "{prompt} missing: {prompts:?}"
            );
        }
        assert_eq!(openid["request_parameter_supported"], false);
        assert_eq!(openid["request_uri_parameter_supported"], false);
        assert_eq!(openid["claims_parameter_supported"], false);
        assert_eq!(
            openid["authorization_response_iss_parameter_supported"],
            true
        );
    }
);

both_backends!(
    every_endpoint_the_discovery_document_advertises_answers,
    |backend| async move {
        let app = spawn_app(backend).await;
        let document = app.get_discovery().await;
        let advertised: Vec<(String, String)> = document
            .as_object()
            .expect("an object")
            .iter()
            .filter(|(member, _)| member.ends_with("_endpoint") || member.ends_with("_uri"))
            .map(|(member, url)| (member.clone(), url.as_str().expect("a URL").to_owned()))
            .collect();
        assert!(advertised.len() >= 6, "{document}");

        for (member, url) in advertised {
            assert!(
                url.starts_with(&app.address),
                "{member} is elsewhere: {url}"
            );
            // Token, revocation and introspection take POST only; the others GET; a route
            // that exists answers the other method 405, a path that does not exists 404.
            let get = app.client.get(&url).send().await.expect("GET").status();
            let post = app
                .client
                .post(&url)
                .form(&[("x", "y")])
                .send()
                .await
                .expect("POST")
                .status();
            let dead = |status: StatusCode| {
                status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED
            };
            assert!(
                !(dead(get) && dead(post)),
                "{member} {url} is a dead link: GET {get}, POST {post}"
            );
            assert!(
                get != StatusCode::NOT_FOUND && post != StatusCode::NOT_FOUND,
                "{member} {url}: 404"
            );
            assert!(
                !get.is_server_error() && !post.is_server_error(),
                "{member}: GET {get}, POST {post}"
            );
        }
    }
);

both_backends!(
    the_discovery_issuer_is_the_configured_issuer_exactly,
    |backend| async move {
        let issuer = "https://id.example.com/tenant";
        let app = spawn_app_with(backend, &[("TESSERA_ISSUER", issuer)]).await;

        let document = app.get_discovery().await;

        assert_eq!(document["issuer"], issuer);
        assert_eq!(document["token_endpoint"], format!("{issuer}/oauth/token"));
        assert_eq!(document["jwks_uri"], format!("{issuer}/oauth/jwks"));
        assert_eq!(
            document,
            app.get_metadata("/.well-known/oauth-authorization-server")
                .await
        );
    }
);

both_backends!(
    plain_pkce_is_advertised_only_when_allowed,
    |backend| async move {
        let app = spawn_app_with(backend, &[("TESSERA_PKCE_ALLOW_PLAIN", "1")]).await;

        let document = app.get_discovery().await;

        assert_eq!(
            document["code_challenge_methods_supported"],
            serde_json::json!(["S256", "plain"])
        );
    }
);

both_backends!(
    the_code_flow_id_token_verifies_against_the_jwks_and_carries_every_claim,
    |backend| async move {
        let app = spawn_app(backend).await;
        let before = SystemClock.now().timestamp();
        app.signed_up_user().await;
        let after = SystemClock.now().timestamp();
        let client = openid_client().register(&app).await;

        let tokens = code_flow_tokens(&app, &client, "openid profile").await;

        assert_eq!(tokens["scope"], "openid profile");
        let claims = verified_id_token(&app, &client, &tokens, Algorithm::RS256).await;
        assert_eq!(claims["iss"], app.address.as_str());
        assert_eq!(claims["aud"], client.id.as_str());
        let sub = claims["sub"].as_str().expect("a sub");
        assert!(
            uuid::Uuid::parse_str(sub).is_ok(),
            "sub is not a UUID: {sub}"
        );
        assert_eq!(sub, user_id(&app, &tokens.access).await);
        assert_eq!(claims["nonce"], NONCE, "the nonce, byte for byte");
        assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
        let (iat, exp) = (
            claims["iat"].as_i64().expect("iat"),
            claims["exp"].as_i64().expect("exp"),
        );
        assert_eq!(exp - iat, 3600, "{claims}");
        assert!(iat >= before, "{claims}");
        let auth_time = claims["auth_time"].as_i64().expect("auth_time");
        assert!(
            (before..=after).contains(&auth_time),
            "auth_time {auth_time} is not the sign-up"
        );
        assert!(auth_time <= iat, "{claims}");
    }
);

both_backends!(without_openid_there_is_no_id_token, |backend| async move {
    let (app, user, client) = signed_in_with_openid_client(backend, openid_client()).await;

    let code_tokens = code_flow_tokens(&app, &client, "profile").await;
    let password_tokens = client.password_tokens(&app, &user, "profile email").await;

    assert_eq!(code_tokens["id_token"], Value::Null, "{code_tokens}");
    assert_eq!(
        password_tokens["id_token"],
        Value::Null,
        "{password_tokens}"
    );
});

both_backends!(
    a_refreshed_id_token_keeps_sub_and_auth_time_and_has_no_nonce,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        let first = code_flow_tokens(&app, &client, "openid profile").await;
        let first_claims = verified_id_token(&app, &client, &first, Algorithm::RS256).await;

        let refreshed = client.refreshed(&app, first.refresh_token(), None).await;

        let claims = verified_id_token(&app, &client, &refreshed, Algorithm::RS256).await;
        assert_eq!(claims["sub"], first_claims["sub"]);
        assert_eq!(claims["auth_time"], first_claims["auth_time"]);
        assert_eq!(claims["aud"], client.id.as_str());
        assert!(
            claims.get("nonce").is_none(),
            "a refreshed ID token has no nonce: {claims}"
        );
        assert_ne!(refreshed.access, first.access);
    }
);

both_backends!(
    the_password_grant_with_openid_gives_an_id_token_without_a_nonce,
    |backend| async move {
        let (app, user, client) = signed_in_with_openid_client(backend, openid_client()).await;

        let tokens = client.password_tokens(&app, &user, "openid profile").await;

        let claims = verified_id_token(&app, &client, &tokens, Algorithm::RS256).await;
        assert_eq!(claims["sub"], user_id(&app, &tokens.access).await.as_str());
        assert!(claims.get("nonce").is_none(), "{claims}");
        assert!(claims["auth_time"].is_i64(), "{claims}");
    }
);

both_backends!(
    a_client_registered_for_es256_or_eddsa_gets_id_tokens_signed_with_that_algorithm,
    |backend| async move {
        let app = spawn_app(backend).await;
        for alg in ["ES256", "EdDSA", "RS256"] {
            let browser = app.another_browser();
            let user = browser.signed_up_user().await;
            let client = openid_client().id_token_alg(alg).register(&app).await;

            let code = code_flow_tokens(&browser, &client, "openid profile").await;
            let refreshed = client.refreshed(&browser, code.refresh_token(), None).await;
            let password = client.password_tokens(&browser, &user, "openid").await;

            for tokens in [&code, &refreshed, &password] {
                let claims = verified_id_token(&browser, &client, tokens, algorithm(alg)).await;
                assert_eq!(claims["aud"], client.id.as_str(), "{alg}");
            }
        }
    }
);

both_backends!(
    userinfo_answers_the_claims_each_scope_allows,
    |backend| async move {
        let (app, user, client) = signed_in_with_openid_client(backend, openid_client()).await;
        let email = user.email.clone().expect("an email");
        let code_tokens = code_flow_tokens(&app, &client, "openid profile").await;
        let sub =
            verified_id_token(&app, &client, &code_tokens, Algorithm::RS256).await["sub"].clone();

        let cases = [
            ("openid", serde_json::json!({"sub": sub})),
            (
                "openid profile",
                serde_json::json!({"sub": sub, "preferred_username": user.username}),
            ),
            (
                "openid email",
                serde_json::json!({"sub": sub, "email": email, "email_verified": false}),
            ),
            (
                "openid profile email",
                serde_json::json!({"sub": sub, "preferred_username": user.username, "email": email, "email_verified": false}),
            ),
        ];
        for (scope, expected) in cases {
            let tokens = client.password_tokens(&app, &user, scope).await;
            assert_eq!(
                app.assert_userinfo_ok(&tokens.access).await,
                expected,
                "{scope}"
            );
        }
        assert_eq!(
            app.assert_userinfo_ok(&code_tokens.access).await,
            serde_json::json!({"sub": sub, "preferred_username": user.username})
        );
    }
);

both_backends!(
    userinfo_has_no_email_claims_for_a_user_who_gave_no_email,
    |backend| async move {
        let app = spawn_app(backend).await;
        let user = app.signed_up_user().await;
        let client = openid_client().register(&app).await;

        let tokens = client.password_tokens(&app, &user, "openid email").await;

        let claims = app.assert_userinfo_ok(&tokens.access).await;
        assert_eq!(claims.as_object().map(|c| c.len()), Some(1), "{claims}");
        assert!(claims["sub"].is_string(), "{claims}");
    }
);

both_backends!(
    userinfo_refuses_tokens_without_openid_or_a_user_and_bad_tokens,
    |backend| async move {
        let client = TestClient::confidential(&["password", "client_credentials"], SCOPE);
        let (app, user, client) = signed_in_with_openid_client(backend, client).await;
        let profile_only = client.password_tokens(&app, &user, "profile").await;
        let machine = client
            .client_credentials_token(&app, "openid profile")
            .await;
        let machine = machine["access_token"].as_str().expect("a token");

        for token in [profile_only.access.as_str(), machine] {
            assert_bearer_error(
                &app.get_userinfo(token).await,
                StatusCode::FORBIDDEN,
                "insufficient_scope",
            );
            assert_bearer_error(
                &app.post_userinfo(token).await,
                StatusCode::FORBIDDEN,
                "insufficient_scope",
            );
        }
        assert_bearer_error(
            &app.get_userinfo("not-a-token").await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        );
        assert_bearer_error(
            &app.post_userinfo("not-a-token").await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        );
        let anonymous = app
            .userinfo_with(reqwest::Method::GET, |request| request)
            .await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        let challenge = www_authenticate(anonymous.headers());
        let in_query = app
            .userinfo_with(reqwest::Method::GET, |request| {
                request.query(&[("access_token", machine)])
            })
            .await;
        assert_eq!(
            in_query.status(),
            StatusCode::UNAUTHORIZED,
            "a token in the query"
        );
        assert!(
            challenge.starts_with("Bearer") && !challenge.contains("error="),
            "{challenge}"
        );
    }
);

both_backends!(
    every_authorization_redirect_carries_the_issuer,
    |backend| async move {
        let app = spawn_app(backend).await;
        let code_client = openid_client().register(&app).await;
        let implicit_client = TestClient::public(&["implicit"], "openid profile")
            .response_types(&["token"])
            .register(&app)
            .await;
        let issuer = app.address.as_str();

        let signed_out = app
            .get_authorize(&with(
                code_client.code_query("openid", None),
                &[("prompt", "none")],
            ))
            .await;
        assert_error_redirect(&app, &signed_out, "login_required");
        app.signed_up_user().await;
        let code = app
            .consent_redirect(&code_client.code_query("openid", None), true)
            .await;
        let denied = app
            .consent_redirect(&code_client.code_query("openid profile", None), false)
            .await;
        let bad_scope = app
            .get_authorize(&code_client.code_query("openid admin", None))
            .await;
        let implicit = app
            .consent_redirect(&implicit_client.token_query("profile"), true)
            .await;
        let implicit_error = app
            .get_authorize(&implicit_client.token_query("admin"))
            .await;

        assert!(query_param(&code, "code").is_some(), "{code}");
        assert_eq!(query_param(&code, "iss").as_deref(), Some(issuer), "{code}");
        assert_eq!(
            query_param(&denied, "error").as_deref(),
            Some("access_denied")
        );
        assert_eq!(
            query_param(&denied, "iss").as_deref(),
            Some(issuer),
            "{denied}"
        );
        assert_error_redirect(&app, &bad_scope, "invalid_scope");
        assert!(
            fragment_param(&implicit, "access_token").is_some(),
            "{implicit}"
        );
        assert_eq!(
            fragment_param(&implicit, "iss").as_deref(),
            Some(issuer),
            "{implicit}"
        );
        let implicit_error = assert_error_redirect(&app, &implicit_error, "invalid_scope");
        assert_eq!(
            fragment_param(&implicit_error, "iss").as_deref(),
            Some(issuer)
        );
    }
);

both_backends!(
    prompt_none_signed_in_without_a_remembered_consent_is_consent_required,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;

        let response = app
            .get_authorize(&with(
                client.code_query("openid", None),
                &[("prompt", "none")],
            ))
            .await;

        assert_error_redirect(&app, &response, "consent_required");
    }
);

both_backends!(
    an_allowed_request_is_remembered_and_later_requests_within_its_scopes_skip_the_consent_page,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        app.consent_redirect(&client.code_query("openid profile", None), true)
            .await;

        let same = app
            .get_authorize(&client.code_query("openid profile", None))
            .await;
        let narrower = app
            .get_authorize(&with(
                client.code_query("openid", None),
                &[("nonce", NONCE)],
            ))
            .await;
        let silent = app
            .get_authorize(&with(
                client.code_query("openid profile", None),
                &[("prompt", "none")],
            ))
            .await;

        assert_code_redirect(&app, &same);
        assert_code_redirect(&app, &silent);
        let code = assert_code_redirect(&app, &narrower);
        let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        assert_eq!(tokens["scope"], "openid");
        let claims = verified_id_token(&app, &client, &tokens, Algorithm::RS256).await;
        assert_eq!(claims["nonce"], NONCE);
    }
);

both_backends!(
    prompt_consent_shows_the_consent_page_even_when_consent_is_remembered,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        app.consent_redirect(&client.code_query("openid profile", None), true)
            .await;

        let response = app
            .get_authorize(&with(
                client.code_query("openid profile", None),
                &[("prompt", "consent")],
            ))
            .await;

        assert_consent_page(response).await;
    }
);

both_backends!(
    a_scope_wider_than_the_remembered_one_asks_again,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        app.consent_redirect(&client.code_query("openid", None), true)
            .await;

        let wider = app
            .get_authorize(&client.code_query("openid email", None))
            .await;
        let wider_silent = app
            .get_authorize(&with(
                client.code_query("openid email", None),
                &[("prompt", "none")],
            ))
            .await;

        assert_consent_page(wider).await;
        assert_error_redirect(&app, &wider_silent, "consent_required");
    }
);

both_backends!(
    a_denied_request_or_another_users_consent_is_not_remembered,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        app.consent_redirect(&client.code_query("openid", None), false)
            .await;
        let other = app.another_browser();
        other.signed_up_user().await;
        other
            .consent_redirect(&client.code_query("openid profile", None), true)
            .await;

        let after_deny = app.get_authorize(&client.code_query("openid", None)).await;

        assert_consent_page(after_deny).await;
    }
);

both_backends!(
    a_remembered_consent_covers_only_the_client_it_was_given_to,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        let other_client = openid_client().register(&app).await;
        app.consent_redirect(&client.code_query("openid", None), true)
            .await;

        let other = app
            .get_authorize(&with(
                other_client.code_query("openid", None),
                &[("prompt", "none")],
            ))
            .await;

        assert_error_redirect(&app, &other, "consent_required");
    }
);

both_backends!(
    prompt_login_with_a_login_hint_prefills_the_sign_in_page_of_a_signed_in_user,
    |backend| async move {
        let (app, user, client) = signed_in_with_openid_client(backend, openid_client()).await;
        let query = with(
            client.code_query("openid", None),
            &[("prompt", "login"), ("login_hint", &user.username)],
        );

        let response = app.get_authorize(&query).await;

        assert_sign_in_redirect(&app, &response);
        let location = app.location(&response);
        let path = format!(
            "{}?{}",
            location.path(),
            location.query().unwrap_or_default()
        );
        let page = app.get_html(&path).await;
        assert_eq!(
            html::input_value(&page, "username").as_deref(),
            Some(user.username.as_str()),
            "{page}"
        );
    }
);

both_backends!(
    prompt_login_sends_a_signed_in_user_to_sign_in_and_back_to_a_working_request,
    |backend| async move {
        let (app, user, client) = signed_in_with_openid_client(backend, openid_client()).await;
        app.consent_redirect(&client.code_query("openid profile", None), true)
            .await;

        for prompt in ["login", "select_account", "login consent"] {
            let query = with(
                client.code_query("openid profile", None),
                &[("prompt", prompt), ("max_age", "100000"), ("nonce", NONCE)],
            );
            let response = app.get_authorize(&query).await;

            let next = assert_sign_in_redirect(&app, &response);
            let names = param_names(&next);
            assert!(next.starts_with("/oauth/authorize?"), "{next}");
            assert!(!names.contains(&"max_age".to_owned()), "{next}");
            assert!(names.contains(&"nonce".to_owned()), "{next}");
            let next_url = Url::parse(&app.address)
                .expect("base")
                .join(&next)
                .expect("next");
            let resumed_prompt = query_param(&next_url, "prompt");
            assert!(
                resumed_prompt
                    .as_deref()
                    .is_none_or(|p| !p.contains("login") && !p.contains("select_account")),
                "{next}"
            );
            let signed_in = app.login(&user.username, &user.password, Some(&next)).await;
            assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
            assert_eq!(app.location(&signed_in), next_url);
            let resumed = app.get_page(&next).await;
            if prompt.contains("consent") {
                assert_consent_page(resumed).await;
            } else {
                assert_code_redirect(&app, &resumed);
            }
        }
    }
);

both_backends!(
    a_sign_in_older_than_max_age_must_be_repeated,
    |backend| async move {
        // The server's clock starts now and is moved; sign-ins happen at the real time.
        let clock = Arc::new(FixedClock::at(SystemClock.now()));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        let user = app.signed_up_user().await;
        let client = openid_client().register(&app).await;
        let max_age = |seconds: &'static str| {
            with(client.code_query("openid", None), &[("max_age", seconds)])
        };
        assert_consent_page(app.get_authorize(&max_age("100")).await).await;

        clock.advance(Duration::seconds(1000));
        let stale = app.get_authorize(&max_age("100")).await;
        let fresh_enough = app.get_authorize(&max_age("100000")).await;
        let silent = app
            .get_authorize(&with(max_age("100"), &[("prompt", "none")]))
            .await;

        let next = assert_sign_in_redirect(&app, &stale);
        assert!(
            !param_names(&next).contains(&"max_age".to_owned()),
            "{next}"
        );
        assert_consent_page(fresh_enough).await;
        assert_error_redirect(&app, &silent, "login_required");
        let signed_in = app.login(&user.username, &user.password, Some(&next)).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_consent_page(app.get_page(&next).await).await;
    }
);

both_backends!(
    login_hint_reaches_the_sign_in_page_and_prefills_the_username,
    |backend| async move {
        let client = openid_client();
        let app = spawn_app(backend).await;
        let client = client.register(&app).await;

        let response = app
            .get_authorize(&with(
                client.code_query("openid", None),
                &[("login_hint", "alice")],
            ))
            .await;

        let next = assert_sign_in_redirect(&app, &response);
        let location = app.location(&response);
        assert_eq!(
            query_param(&location, "login_hint").as_deref(),
            Some("alice"),
            "{location}"
        );
        assert!(next.starts_with("/oauth/authorize?"), "{next}");
        let path = format!(
            "{}?{}",
            location.path(),
            location.query().unwrap_or_default()
        );
        let page = app.get_html(&path).await;
        assert_eq!(
            html::input_value(&page, "username").as_deref(),
            Some("alice"),
            "{page}"
        );
        assert_eq!(
            html::input_value(&page, "next").as_deref(),
            Some(next.as_str()),
            "{page}"
        );
    }
);

both_backends!(
    request_objects_are_refused_with_the_openid_error_codes,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;

        let request = app
            .get_authorize(&with(
                client.code_query("openid", None),
                &[("request", "eyJhbGciOiJub25lIn0.e30.")],
            ))
            .await;
        let request_uri = app
            .get_authorize(&with(
                client.code_query("openid", None),
                &[("request_uri", "https://client.example/request.jwt")],
            ))
            .await;

        assert_error_redirect(&app, &request, "request_not_supported");
        assert_error_redirect(&app, &request_uri, "request_uri_not_supported");
    }
);

both_backends!(
    ui_locales_claims_display_and_acr_values_are_ignored,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        let query = with(
            client.code_query("openid profile", None),
            &[
                ("ui_locales", "fr-CA fr en"),
                ("claims", r#"{"userinfo":{"email":{"essential":true}}}"#),
                ("display", "popup"),
                ("acr_values", "urn:mace:incommon:iap:silver"),
                ("nonce", NONCE),
            ],
        );

        let code = client.authorization_code_for(&app, &query).await;

        let tokens = assert_tokens(client.redeem_code(&app, &code, None).await).await;
        let claims = verified_id_token(&app, &client, &tokens, Algorithm::RS256).await;
        assert_eq!(claims["nonce"], NONCE);
    }
);

both_backends!(
    an_openid_request_without_redirect_uri_gets_an_error_page_and_no_redirect,
    |backend| async move {
        let (app, _, client) = signed_in_with_openid_client(backend, openid_client()).await;
        let query: Vec<(&str, &str)> = client
            .code_query("openid", None)
            .into_iter()
            .filter(|(name, _)| *name != "redirect_uri")
            .collect();

        let response = app.get_authorize(&query).await;

        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(reqwest::header::LOCATION).is_none());
    }
);

both_backends!(
    a_public_client_gets_a_verifiable_id_token_with_pkce,
    |backend| async move {
        let client = TestClient::public(&["authorization_code", "refresh_token"], "openid profile");
        let (app, _, client) = signed_in_with_openid_client(backend, client).await;
        let pkce = Pkce::s256();
        let query = with(
            client.code_query("openid", Some(&pkce)),
            &[("nonce", NONCE)],
        );
        let code = client.authorization_code_for(&app, &query).await;

        let tokens =
            assert_tokens(client.redeem_code(&app, &code, Some(&pkce.verifier)).await).await;

        let claims = verified_id_token(&app, &client, &tokens, Algorithm::RS256).await;
        assert_eq!(claims["nonce"], NONCE);
    }
);

both_backends!(
    auth_time_is_the_sign_in_time_on_the_servers_clock,
    |backend| async move {
        let t0 = chrono::DateTime::from_timestamp(1_900_000_000, 0).expect("a time");
        let clock = Arc::new(FixedClock::at(t0));
        let app = spawn_app_with_clock(backend, &[], clock.clone()).await;
        app.signed_up_user().await;
        let client = openid_client().register(&app).await;

        let tokens = code_flow_tokens(&app, &client, "openid").await;

        let claims = verified_id_token(&app, &client, &tokens, Algorithm::RS256).await;
        assert_eq!(claims["iat"], t0.timestamp(), "{claims}");
        assert_eq!(claims["auth_time"], t0.timestamp(), "{claims}");
    }
);

both_backends!(
    an_id_token_is_not_introspectable_as_an_access_token,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.signed_up_user().await;
        let client = openid_client().register(&app).await;
        let tokens = code_flow_tokens(&app, &client, "openid").await;
        let id_token = tokens.body["id_token"].as_str().expect("an id_token");

        let answer = client.introspect(&app, id_token).await;
        assert_eq!(answer, serde_json::json!({"active": false}));
        let access = client.introspect(&app, &tokens.access).await;
        assert_eq!(access["active"], true, "{access}");
    }
);
