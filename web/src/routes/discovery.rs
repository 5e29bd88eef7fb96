//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4) and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414 §3): one document, built from the
//! domain's [`Capabilities`] and the router's
//! [`paths`], with the issuer exactly as configured.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tessera_domain::metadata::{Capabilities, CLAIMS, PROMPT_VALUES, STANDARD_SCOPES};

use super::paths;
use crate::state::AppState;

/// How long clients may cache the document, in seconds.
const MAX_AGE: u32 = 3600;

/// The metadata document for `issuer`; `registration_endpoint` only while registration is
/// on.
pub fn document(issuer: &str, capabilities: &Capabilities) -> Value {
    let base = issuer.trim_end_matches('/');
    let url = |path: &str| format!("{base}{path}");
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "revocation_endpoint": url(paths::REVOKE),
        "introspection_endpoint": url(paths::INTROSPECT),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "end_session_endpoint": url(paths::END_SESSION),
        "pushed_authorization_request_endpoint": url(paths::PUSHED_AUTHORIZATION_REQUEST),
        "device_authorization_endpoint": url(paths::DEVICE_AUTHORIZATION),
        "require_pushed_authorization_requests": capabilities.require_pushed_requests,
        "scopes_supported": STANDARD_SCOPES,
        "response_types_supported": capabilities.response_types,
        "response_modes_supported": capabilities.response_modes,
        "grant_types_supported": capabilities.grant_types,
        "token_endpoint_auth_methods_supported": capabilities.auth_methods,
        "revocation_endpoint_auth_methods_supported": capabilities.auth_methods,
        "introspection_endpoint_auth_methods_supported": capabilities.auth_methods,
        "code_challenge_methods_supported": capabilities.pkce_methods,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": capabilities.signing_algs,
        "claims_supported": CLAIMS,
        "prompt_values_supported": PROMPT_VALUES,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    if capabilities.registration {
        document["registration_endpoint"] = url(paths::REGISTER).into();
    }
    document
}

/// The metadata, cacheable for an hour.
pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    let capabilities = state.provider.capabilities();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={MAX_AGE}")))
        .json(document(&state.config.issuer, &capabilities))
}
