//! What the consent page (`/oauth/authorize`) and the device approval page (`/device`) show
//! about the client asking and the scopes it asks for, so that a person can tell at a glance
//! who is asking for what: its name, its home page's host, its logo, who registered it, and a
//! plain description of each scope. Both pages let a client's logo load from its `https`
//! host ([`content_security_policy::APPROVAL`]); every other page loads images from Tessera
//! only.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tessera_domain::{Client, Scope};

use crate::content_security_policy;
use crate::error::PageError;
use crate::off_executor::off_executor;
use crate::state::AppState;

/// The client as the approval pages present it: `name`, `host` and `uri` (its `client_uri`),
/// `logo_uri` (https only), `tos_uri`, `policy_uri`, and who is behind it: `owner` (the
/// username of the user who registered it on the pages), or `origin` `dynamic` (it
/// registered itself) or `operator` (made with `tessera client add`).
pub(crate) async fn presented_client(
    state: &web::Data<AppState>,
    client: &Client,
) -> Result<Value, PageError> {
    let owner = match client.owner_id {
        Some(id) => {
            let provider = state.provider.clone();
            off_executor(move || provider.user(id).map_err(PageError::from))
                .await?
                .map(|user| user.username)
        }
        None => None,
    };
    let origin = match (&owner, client.registered_dynamically) {
        (Some(_), _) => "user",
        (None, true) => "dynamic",
        (None, false) => "operator",
    };
    let host = client
        .uri
        .as_deref()
        .and_then(|uri| url::Url::parse(uri).ok())
        .and_then(|url| url.host_str().map(str::to_owned));
    let logo = client
        .details
        .logo_uri
        .as_deref()
        .filter(|uri| uri.starts_with("https://"));
    Ok(json!({
        "name": client.name,
        "uri": client.uri,
        "host": host,
        "logo_uri": logo,
        "tos_uri": client.details.tos_uri,
        "policy_uri": client.details.policy_uri,
        "owner": owner,
        "origin": origin,
    }))
}

/// Each scope with what it lets the client do, in words.
pub(crate) fn described_scopes(scope: &Scope) -> Vec<Value> {
    scope
        .iter()
        .map(|name| json!({"name": name, "description": describe(name)}))
        .collect()
}

fn describe(scope: &str) -> String {
    match scope {
        "openid" => "Confirm that it is you (your account identifier)".to_owned(),
        "profile" => "See your username".to_owned(),
        "email" => "See your email address".to_owned(),
        "offline_access" => "Stay connected when you are not using it (a refresh token)".to_owned(),
        other => format!("Use “{other}” on your behalf"),
    }
}

/// `response` with the approval pages' Content-Security-Policy.
pub(crate) fn allowing_logos(response: HttpResponse) -> HttpResponse {
    content_security_policy::replaced(response, content_security_policy::APPROVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_scopes_are_described_in_words_and_others_named() {
        let scope = Scope::parse("openid profile email offline_access photos:read").unwrap();
        let described = described_scopes(&scope);
        assert_eq!(described.len(), 5);
        for entry in &described {
            let (name, text) = (
                entry["name"].as_str().unwrap(),
                entry["description"].as_str().unwrap(),
            );
            assert!(!text.is_empty() && text != name, "{entry}");
        }
        assert!(described
            .iter()
            .any(|entry| entry["description"] == "Use “photos:read” on your behalf"));
    }
}
