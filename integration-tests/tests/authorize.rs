//! `GET/POST /oauth/authorize`: validation order, consent, and redirected errors.

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use url::Url;

use crate::helpers::fixtures::{authorize_query, REDIRECT_URI, STATE};
use crate::helpers::{
    app_with_client, app_with_user_and_client, both_backends, fragment_param, query_param,
    redirect_param, spawn_app, Pkce, TestApp, TestClient,
};

/// Asserts `response` has no `Location` (`what` names it in the failure message).
fn assert_not_redirected(response: &Response, what: &str) {
    assert!(
        response.headers().get(LOCATION).is_none(),
        "{what} redirected"
    );
}

/// Asserts a redirect to the client's URI carrying `error` and the caller's state.
fn assert_redirected_error(app: &TestApp, response: &Response, errors: &[&str]) {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    assert_error_location(&app.location(response), errors);
}

/// Asserts a redirect target is the client's URI carrying `error` and the caller's state.
fn assert_error_location(location: &Url, errors: &[&str]) {
    assert!(
        location.as_str().starts_with(REDIRECT_URI),
        "redirected elsewhere: {location}"
    );
    let error = redirect_param(location, "error");
    assert!(
        error.as_deref().is_some_and(|e| errors.contains(&e)),
        "expected error in {errors:?}: {location}"
    );
    assert_eq!(redirect_param(location, "state").as_deref(), Some(STATE));
    assert_eq!(redirect_param(location, "code"), None);
}

both_backends!(
    signed_out_authorize_redirects_to_login_with_next,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, client) = app_with_client(backend, client).await;

        let response = app.get_authorize(&client.code_query("profile", None)).await;

        assert!(response.status().is_redirection(), "{}", response.status());
        let location = app.location(&response);
        assert_eq!(location.path(), "/login");
        assert!(location.as_str().starts_with(&app.address), "{location}");
        let next = query_param(&location, "next").unwrap_or_default();
        assert!(next.starts_with("/oauth/authorize"), "next={next:?}");
        assert!(next.contains(&client.id), "next={next:?}");
    }
);

both_backends!(
    unknown_client_gets_a_400_page_and_no_redirect_signed_in_or_not,
    |backend| async move {
        let app = spawn_app(backend).await;
        let query = authorize_query("code", "no-such-client", REDIRECT_URI, "profile");

        let signed_out = app.get_authorize(&query).await;
        app.signed_up_user().await;
        let signed_in = app.get_authorize(&query).await;

        for response in [signed_out, signed_in] {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            assert_not_redirected(&response, "it");
        }
    }
);

both_backends!(
    unregistered_redirect_uri_gets_a_400_page_and_no_redirect_signed_in_or_not,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, client) = app_with_client(backend, client).await;
        let bad_uris = [
            "https://evil.example/cb",
            "https://client.example/cb/",
            "https://client.example/cb?x=1",
            "https://CLIENT.example/cb/../cb",
        ];

        for signed_in in [false, true] {
            if signed_in {
                app.signed_up_user().await;
            }
            for uri in bad_uris {
                let query = authorize_query("code", &client.id, uri, "profile");
                let response = app.get_authorize(&query).await;
                assert_eq!(
                    response.status(),
                    StatusCode::BAD_REQUEST,
                    "{uri} (signed in: {signed_in})"
                );
                assert_not_redirected(&response, uri);
            }
        }
    }
);

both_backends!(
    consent_allow_redirects_303_with_code_and_state,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let location = app
            .consent_redirect(&client.code_query("profile", None), true)
            .await;

        assert!(location.as_str().starts_with(REDIRECT_URI), "{location}");
        assert!(query_param(&location, "code").is_some_and(|c| !c.is_empty()));
        assert_eq!(query_param(&location, "state").as_deref(), Some(STATE));
    }
);

both_backends!(
    consent_deny_redirects_303_with_access_denied_and_state,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let location = app
            .consent_redirect(&client.code_query("profile", None), false)
            .await;

        assert_error_location(&location, &["access_denied"]);
    }
);

both_backends!(
    consent_post_without_or_with_a_wrong_csrf_token_is_rejected,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let form = app.consent_form(&client.code_query("profile", None)).await;

        for csrf in [None, Some("forged")] {
            let mut forged: Vec<(String, String)> = form
                .iter()
                .filter(|(k, _)| k != "csrf_token")
                .cloned()
                .collect();
            forged.extend(csrf.map(|c| ("csrf_token".to_owned(), c.to_owned())));
            forged.push(("confirm".into(), "yes".into()));

            let response = app.post_consent(&forged).await;

            assert!(
                response.status().is_client_error(),
                "{csrf:?}: {}",
                response.status()
            );
            assert_not_redirected(&response, &format!("{csrf:?}"));
        }
    }
);

both_backends!(
    unregistered_scope_redirects_with_invalid_scope,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let response = app
            .get_authorize(&client.code_query("profile email", None))
            .await;

        assert_redirected_error(&app, &response, &["invalid_scope"]);
    }
);

both_backends!(
    prompt_none_while_signed_out_redirects_with_login_required,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, client) = app_with_client(backend, client).await;
        let mut query = client.code_query("profile", None);
        query.push(("prompt", "none"));

        let response = app.get_authorize(&query).await;

        assert_redirected_error(&app, &response, &["login_required"]);
    }
);

both_backends!(
    public_client_without_pkce_is_redirected_with_invalid_request,
    |backend| async move {
        let client = TestClient::public(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let response = app.get_authorize(&client.code_query("profile", None)).await;

        assert_redirected_error(&app, &response, &["invalid_request"]);
    }
);

both_backends!(plain_pkce_is_refused_unless_allowed, |backend| async move {
    // Confidential: public clients need S256 whatever the configuration says.
    let client = TestClient::confidential(&["authorization_code"], "profile");
    let (app, _, client) = app_with_user_and_client(backend, client).await;
    let pkce = Pkce::s256();
    let explicit = client.code_query_with_challenge("profile", &pkce.verifier, Some("plain"));
    let implied = client.code_query_with_challenge("profile", &pkce.verifier, None);

    let explicit = app.get_authorize(&explicit).await;
    let implied = app.get_authorize(&implied).await;

    assert_redirected_error(&app, &explicit, &["invalid_request"]);
    assert_redirected_error(&app, &implied, &["invalid_request"]);
});

both_backends!(
    implicit_grant_for_a_public_client_puts_the_token_in_the_fragment,
    |backend| async move {
        let client = TestClient::public(&["implicit"], "profile").response_types(&["token"]);
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let location = app
            .consent_redirect(&client.token_query("profile"), true)
            .await;

        assert!(location.query().is_none(), "token in the query: {location}");
        let token = fragment_param(&location, "access_token")
            .unwrap_or_else(|| panic!("no access_token in {location}"));
        assert_eq!(
            fragment_param(&location, "token_type").as_deref(),
            Some("Bearer")
        );
        assert_eq!(fragment_param(&location, "state").as_deref(), Some(STATE));
        assert_eq!(fragment_param(&location, "refresh_token"), None);
        app.assert_api_me_ok(&token).await;
    }
);

both_backends!(
    confidential_client_asking_for_a_token_response_is_refused,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;

        let response = app.get_authorize(&client.token_query("profile")).await;

        assert_redirected_error(
            &app,
            &response,
            &["unauthorized_client", "unsupported_response_type"],
        );
        assert_eq!(
            fragment_param(&app.location(&response), "access_token"),
            None
        );
    }
);

both_backends!(
    redirect_uri_may_be_omitted_when_only_one_is_registered,
    |backend| async move {
        let client = TestClient::confidential(&["authorization_code"], "profile");
        let (app, _, client) = app_with_user_and_client(backend, client).await;
        let query: Vec<(&str, &str)> = client
            .code_query("profile", None)
            .into_iter()
            .filter(|(k, _)| *k != "redirect_uri")
            .collect();

        let location = app.consent_redirect(&query, true).await;

        assert!(location.as_str().starts_with(REDIRECT_URI), "{location}");
        assert!(query_param(&location, "code").is_some(), "{location}");
    }
);
