//! The pages' static files, embedded in the binary so that the Content-Security-Policy needs
//! nothing inline: the one stylesheet ([`STYLESHEET`]) and the script of the copy buttons
//! beside one-time secrets ([`COPY_SCRIPT`]). Cached by browsers for a day and revalidated
//! with an ETag (a digest of the content).

use std::sync::OnceLock;

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// One embedded file and the path it is served at.
pub struct Asset {
    /// Where the pages link it from.
    pub path: &'static str,
    content_type: &'static str,
    body: &'static str,
    etag: OnceLock<EntityTag>,
}

/// `GET /static/tessera.css`, linked from `base.html`.
pub static STYLESHEET: Asset = Asset::new(
    "/static/tessera.css",
    "text/css; charset=utf-8",
    include_str!("../../../templates/tessera.css"),
);

/// `GET /static/copy.js`: shows the copy buttons beside one-time secrets and copies on a
/// click; the pages work without it.
pub static COPY_SCRIPT: Asset = Asset::new(
    "/static/copy.js",
    "text/javascript; charset=utf-8",
    include_str!("../../../templates/copy.js"),
);

/// How long browsers may use a file without asking again.
const CACHE_CONTROL: &str = "public, max-age=86400";

impl Asset {
    const fn new(path: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Self {
            path,
            content_type,
            body,
            etag: OnceLock::new(),
        }
    }

    fn etag(&self) -> &EntityTag {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.body.as_bytes());
            EntityTag::new_strong(URL_SAFE_NO_PAD.encode(&digest[..16]))
        })
    }

    /// The file, or 304 when the browser's copy is current.
    pub fn serve(&self, req: &HttpRequest) -> HttpResponse {
        let etag = self.etag();
        let current = match header::Header::parse(req) {
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
            response.content_type(self.content_type).body(self.body)
        }
    }
}
