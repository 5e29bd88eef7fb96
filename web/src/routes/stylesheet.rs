//! `GET /static/tessera.css`: the pages' one stylesheet, embedded in the binary, so the
//! Content-Security-Policy needs no inline style. Cached by browsers for a day and revalidated
//! with its ETag (a digest of its content).

use std::sync::OnceLock;

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The stylesheet's path, linked from `base.html`.
pub const PATH: &str = "/static/tessera.css";

const STYLESHEET: &str = include_str!("../../../templates/tessera.css");

/// How long browsers may use the stylesheet without asking again.
const CACHE_CONTROL: &str = "public, max-age=86400";

fn etag() -> &'static EntityTag {
    static ETAG: OnceLock<EntityTag> = OnceLock::new();
    ETAG.get_or_init(|| {
        let digest = Sha256::digest(STYLESHEET.as_bytes());
        EntityTag::new_strong(URL_SAFE_NO_PAD.encode(&digest[..16]))
    })
}

/// Serves the stylesheet, or 304 when the browser's copy is current.
pub async fn get(req: HttpRequest) -> HttpResponse {
    let etag = etag();
    let current = match header::Header::parse(&req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
        Err(_) => false,
    };
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(etag.clone()))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    if current {
        response.finish()
    } else {
        response
            .content_type("text/css; charset=utf-8")
            .body(STYLESHEET)
    }
}
