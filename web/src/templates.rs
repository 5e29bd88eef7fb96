//! The HTML pages: Tera templates embedded in the binary (so it runs from any directory),
//! auto-escaped because every name ends in `.html`. Request data is never marked `|safe`.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use tera::{Context, Tera};

use crate::error::no_store;

/// Every template, by name.
const TEMPLATES: [(&str, &str); 17] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("signup.html", include_str!("../../templates/signup.html")),
    ("login.html", include_str!("../../templates/login.html")),
    (
        "create_client.html",
        include_str!("../../templates/create_client.html"),
    ),
    (
        "edit_client.html",
        include_str!("../../templates/edit_client.html"),
    ),
    ("client.html", include_str!("../../templates/client.html")),
    (
        "approval.html",
        include_str!("../../templates/approval.html"),
    ),
    (
        "client_fields.html",
        include_str!("../../templates/client_fields.html"),
    ),
    (
        "field_error.html",
        include_str!("../../templates/field_error.html"),
    ),
    (
        "client_types.html",
        include_str!("../../templates/client_types.html"),
    ),
    ("not_you.html", include_str!("../../templates/not_you.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("device.html", include_str!("../../templates/device.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("logout.html", include_str!("../../templates/logout.html")),
];

/// The parsed templates.
#[derive(Debug)]
pub struct Templates {
    tera: Tera,
}

static SHARED: OnceLock<Result<Templates, String>> = OnceLock::new();

impl Templates {
    /// Parses the embedded templates.
    pub fn load() -> Result<Self, tera::Error> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.add_raw_templates(TEMPLATES)?;
        tera.register_filter("path_segment", path_segment);
        tera.register_filter("sentence", sentence);
        Ok(Self { tera })
    }

    /// The one parsed set, shared by handlers and error pages (parsed on first use).
    pub fn shared() -> Result<&'static Self, String> {
        SHARED
            .get_or_init(|| Self::load().map_err(|error| crate::error::error_chain(&error)))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Renders `name` with `context`.
    pub fn render(&self, name: &str, context: &Context) -> Result<String, tera::Error> {
        self.tera.render(name, context)
    }

    /// Renders `name` as an HTML response with `status`, never cached (a page may show a
    /// client secret).
    pub fn page(
        &self,
        status: StatusCode,
        name: &str,
        context: &Context,
    ) -> Result<HttpResponse, tera::Error> {
        let body = self.render(name, context)?;
        Ok(no_store(&mut HttpResponse::build(status))
            .content_type("text/html; charset=utf-8")
            .body(body))
    }

    /// The error page's HTML; plain markup if the templates cannot be used.
    pub fn error_page(status: StatusCode, code: Option<&str>, message: &str) -> String {
        let mut context = Context::new();
        context.insert("status", &status.as_u16());
        context.insert("reason", status.canonical_reason().unwrap_or("Error"));
        context.insert("code", &code);
        context.insert("message", message);
        context.insert("what_to_do", what_to_do(status));
        context.insert("username", &None::<String>);
        match Self::shared().and_then(|templates| {
            templates
                .render("error.html", &context)
                .map_err(|error| crate::error::error_chain(&error))
        }) {
            Ok(html) => html,
            Err(error) => {
                tracing::error!(%error, "the error page could not be rendered");
                format!(
                    "<!doctype html><title>Error {}</title><h1>Error {}</h1>",
                    status.as_u16(),
                    status.as_u16()
                )
            }
        }
    }
}

/// What a person can do about an error with this status, in words.
fn what_to_do(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 | 403 => "Reload the page you came from and try again; sign in again if asked.",
        404 => "Check the address. A client that is not yours shows as not found too.",
        408 | 413 => "Send the form again, smaller or faster.",
        429 => "Wait a little, then try again.",
        400..=499 => {
            "If an app sent you here, go back to it and start again; otherwise check the link or the form."
        }
        503 => "The service is busy or restarting: try again in a moment.",
        _ => "Try again in a moment. If it keeps happening, tell whoever runs this server.",
    }
}

/// Tera filter: percent-encodes a value for one URL path segment.
fn path_segment(
    value: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("path_segment expects a string"))?;
    Ok(url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .into())
}

/// Tera filter: a message as a sentence, its first letter in upper case and a full stop at
/// the end (`must use https` becomes `Must use https.`).
fn sentence(
    value: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("sentence expects a string"))?;
    let mut chars = text.chars();
    let mut sentence: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !sentence.is_empty() && !sentence.ends_with('.') {
        sentence.push('.');
    }
    Ok(sentence.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_becomes_a_sentence() {
        let no_args = std::collections::HashMap::new();
        for (message, expected) in [
            ("each URI must use https", "Each URI must use https."),
            ("Done.", "Done."),
            ("élan", "Élan."),
            ("", ""),
        ] {
            let value = tera::Value::from(message);
            assert_eq!(sentence(&value, &no_args).unwrap(), expected);
        }
    }

    fn base_context() -> Context {
        let mut context = Context::new();
        context.insert("username", "alice");
        context.insert("csrf_token", "CSRF<&>");
        context
    }

    #[test]
    fn every_template_renders_and_escapes_request_data() {
        let templates = Templates::load().unwrap();
        let client = serde_json::json!({
            "client_id": "id<script>",
            "client_name": "<b>App</b>",
            "client_uri": "https://app.example",
            "redirect_uris": ["https://app.example/cb"],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": "profile",
            "token_endpoint_auth_method": "client_secret_basic",
            "public": false,
            "name": "<b>App</b>",
            "uri": "https://app.example/\"><x",
            "host": "<script>",
            "logo_uri": "https://app.example/\"><x.png",
            "tos_uri": "https://app.example/<oops>",
            "owner": "<script>",
            "origin": "user",
        });
        let mut context = base_context();
        context.insert("clients", &vec![client.clone()]);
        context.insert("client", &client);
        context.insert("secret", &Some("s3cret"));
        context.insert("error", &Some("<oops>"));
        context.insert("next", &Some("/x"));
        context.insert("form", &serde_json::json!({}));
        context.insert("client_name", "<b>App</b>");
        context.insert(
            "scopes",
            &vec![serde_json::json!({"name": "<script>", "description": "<oops>"})],
        );
        context.insert("not_you_next", "/login?next=\"><x");
        context.insert("what_to_do", "<oops>");
        context.insert("flash", &Some("<script>"));
        context.insert("registration_token", &Some("<script>"));
        context.insert("registration_client_uri", "https://a.example/<script>");
        context.insert(
            "params",
            &vec![serde_json::json!({"name": "state", "value": "\"><x"})],
        );
        context.insert("status", &400);
        context.insert("reason", "Bad Request");
        context.insert("code", &Some("invalid_client"));
        context.insert("message", "<m>");
        context.insert("email", &Some("<e>@example.com"));
        context.insert(
            "apps",
            &vec![serde_json::json!({
                "client_id": "id<script>",
                "client_name": "<b>App</b>",
                "scopes": ["openid", "<oops>"],
                "granted_at": "2026-12-02 10:00 UTC",
            })],
        );
        context.insert(
            "sessions",
            &vec![serde_json::json!({
                "id": "0b8f2a52-7e43-4c53-9b0f-5a1c2f3d4e5f",
                "user_agent": "<script>",
                "started_at": "2026-12-02 10:00 UTC",
                "last_seen_at": "2026-12-02 11:00 UTC",
                "current": true,
            })],
        );
        context.insert("password_error", &Some("<oops>"));
        context.insert("field_errors", &serde_json::json!({"client_uri": "<oops>"}));
        context.insert("confirm", &true);
        context.insert("user_code", "<script>");
        context.insert("client_id", "id<script>");
        for (name, _) in TEMPLATES {
            // base.html is the frame of the others; the client form's partials need the
            // macros their pages (create_client.html, edit_client.html) import.
            if matches!(
                name,
                "base.html" | "client_fields.html" | "client_types.html"
            ) {
                continue;
            }
            let html = templates.render(name, &context).unwrap();
            assert!(!html.contains("<script>"), "{name}");
            assert!(!html.contains("<b>App</b>"), "{name}");
            assert!(!html.contains("\"><x"), "{name}");
            assert!(!html.contains("<oops>"), "{name}");
            assert!(!html.contains("<e>"), "{name}");
        }
        let account = templates.render("account.html", &context).unwrap();
        assert!(account.contains("action=\"/account/apps/id%3Cscript%3E/revoke\""));
        assert!(account
            .contains("action=\"/account/sessions/0b8f2a52-7e43-4c53-9b0f-5a1c2f3d4e5f/end\""));
        assert!(account.contains("(this browser)"));
        let page = templates.render("client.html", &context).unwrap();
        assert!(page.contains("id=\"client_id\""));
        assert!(page.contains("id=\"client_secret\">s3cret<"));
        assert!(page.contains("href=\"/clients/id%3Cscript%3E/edit\""));
        let mut edit = base_context();
        edit.insert("client_id", "id<script>");
        edit.insert(
            "grant_type_choices",
            &["authorization_code", "refresh_token"],
        );
        edit.insert("response_type_choices", &["code", "token"]);
        edit.insert(
            "form",
            &serde_json::json!({
                "client_name": "<b>App</b>",
                "redirect_uris": "https://app.example/cb\nhttps://app.example/two",
                "grant_type_list": ["refresh_token"],
                "response_type_list": ["code"],
                "token_endpoint_auth_method": "none",
            }),
        );
        edit.insert(
            "field_errors",
            &serde_json::json!({"redirect_uris": "<oops>"}),
        );
        let page = templates.render("edit_client.html", &edit).unwrap();
        assert!(!page.contains("<b>App</b>") && !page.contains("<oops>"));
        assert!(page.contains("action=\"/clients/id%3Cscript%3E/edit\""));
        assert!(page.contains("value=\"refresh_token\" checked"));
        assert!(!page.contains("value=\"authorization_code\" checked"));
        assert!(page.contains("value=\"code\" checked"));
        assert!(page.contains("value=\"none\" selected"));
        assert!(page.contains("app.example&#x2F;two</textarea>"));
        assert!(page.contains("<p class=\"error\" id=\"redirect_uris_error\">&lt;oops&gt;.</p>"));
        assert!(page.contains(
            "rows=\"3\" aria-invalid=\"true\" aria-describedby=\"redirect_uris_error\">"
        ));
        assert!(!page.contains("id=\"client_uri_error\""));
        context.insert("confirming", &true);
        let device = templates.render("device.html", &context).unwrap();
        assert!(!device.contains("<script>"));
        assert!(device.contains("name=\"confirm\" value=\"yes\""));
        assert!(device.contains("name=\"csrf_token\" value=\"CSRF&lt;&amp;&gt;\""));
        let consent = templates.render("consent.html", &context).unwrap();
        assert!(consent.contains("name=\"confirm\" value=\"yes\""));
        assert!(consent.contains("name=\"confirm\" value=\"no\""));
        assert!(consent.contains("name=\"csrf_token\" value=\"CSRF&lt;&amp;&gt;\""));
    }

    #[test]
    fn pages_are_never_cached() {
        let templates = Templates::load().unwrap();
        let mut context = base_context();
        context.insert("error", &None::<String>);
        context.insert("form", &serde_json::json!({}));
        let response = templates
            .page(StatusCode::OK, "signup.html", &context)
            .unwrap();
        assert_eq!(
            response
                .headers()
                .get(actix_web::http::header::CACHE_CONTROL)
                .unwrap(),
            "no-store"
        );
    }

    #[test]
    fn the_error_page_shows_the_code() {
        let html = Templates::error_page(StatusCode::BAD_REQUEST, Some("invalid_client"), "no");
        assert!(html.contains("invalid_client"));
    }

    #[test]
    fn the_error_page_says_what_to_do_for_its_status() {
        let advice = |status| {
            let html = Templates::error_page(status, None, "Something failed.");
            assert!(html.contains("Something failed."), "{html}");
            let start = html.find(r#"id="what_to_do">"#).unwrap() + 16;
            html[start..start + html[start..].find('<').unwrap()].to_owned()
        };
        let not_found = advice(StatusCode::NOT_FOUND);
        let busy = advice(StatusCode::SERVICE_UNAVAILABLE);
        let slow_down = advice(StatusCode::TOO_MANY_REQUESTS);
        let bad = advice(StatusCode::BAD_REQUEST);
        for text in [&not_found, &busy, &slow_down, &bad] {
            assert!(text.len() > 20, "{text}");
        }
        assert!(not_found.contains("address"), "{not_found}");
        assert!(slow_down.contains("Wait"), "{slow_down}");
        assert_ne!(bad, busy);
    }
}
