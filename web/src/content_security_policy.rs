//! The pages' Content-Security-Policy. Every response gets [`DEFAULT`]: nothing runs, nothing
//! loads but Tessera's own stylesheet and images, no framing. Two kinds of page relax one
//! directive each by replacing the header ([`replaced`]): the approval pages load a client's
//! logo ([`APPROVAL`]), and a page showing a one-time secret runs Tessera's copy script
//! ([`SHOWING_SECRETS`]). No policy allows inline script or style.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpResponse;

/// The policy of every response. No `form-action`: browsers apply it to the redirect after
/// the consent form, which leads to the client's redirect URI.
pub const DEFAULT: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The consent and device approval pages: [`DEFAULT`], with images also from any `https`
/// origin (a registered `logo_uri`).
pub const APPROVAL: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'";

/// A client page showing a secret just made: [`DEFAULT`], with scripts from Tessera itself
/// (the copy buttons' `/static/copy.js`).
pub const SHOWING_SECRETS: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `response` with `policy` instead of [`DEFAULT`].
pub fn replaced(mut response: HttpResponse, policy: &'static str) -> HttpResponse {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    response
}
