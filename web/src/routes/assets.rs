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

#[cfg(test)]
mod tests {
    use super::*;

    /// The colour variables of the stylesheet's `:root` blocks: the light scheme first, then
    /// the dark one.
    fn schemes() -> Vec<Vec<(String, String)>> {
        STYLESHEET
            .body
            .split(":root {")
            .skip(1)
            .map(|block| {
                block[..block.find('}').expect("a closed block")]
                    .split(';')
                    .filter_map(|declaration| declaration.trim().split_once(':'))
                    .filter(|(name, _)| name.starts_with("--"))
                    .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
                    .collect()
            })
            .collect()
    }

    /// The relative luminance of `#rrggbb` (WCAG 2.2).
    fn luminance(hex: &str) -> f64 {
        let hex = hex.strip_prefix('#').expect("a #rrggbb colour");
        assert_eq!(hex.len(), 6, "#rrggbb: {hex}");
        let channel = |at: usize| {
            let value = f64::from(u8::from_str_radix(&hex[at..at + 2], 16).expect("hex")) / 255.0;
            if value <= 0.04045 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    #[test]
    fn contrast_is_computed_as_wcag_defines_it() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((contrast("#777777", "#ffffff") - 4.48).abs() < 0.01);
    }

    /// WCAG 2.2 AA: 4.5:1 for text (1.4.3), 3:1 for the focus ring and field borders
    /// (1.4.11), in both schemes, for every pair of colours the stylesheet puts together.
    #[test]
    fn both_colour_schemes_meet_wcag_aa_contrast() {
        const TEXT: f64 = 4.5;
        const UI: f64 = 3.0;
        let pairs = [
            ("--text", "--page", TEXT),
            ("--text", "--card", TEXT),
            ("--text", "--field", TEXT),
            ("--text", "--code-bg", TEXT),
            ("--muted", "--page", TEXT),
            ("--muted", "--card", TEXT),
            ("--accent", "--page", TEXT),
            ("--accent", "--card", TEXT),
            ("--accent-text", "--accent", TEXT),
            ("--accent-text", "--secondary", TEXT),
            ("--accent-text", "--danger", TEXT),
            ("--danger", "--card", TEXT),
            ("--danger", "--error-bg", TEXT),
            ("--ok", "--ok-bg", TEXT),
            ("--focus", "--page", UI),
            ("--focus", "--card", UI),
            ("--focus", "--header", UI),
            ("--field-line", "--field", UI),
        ];
        let schemes = schemes();
        assert_eq!(schemes.len(), 2, "a light and a dark scheme");
        for (scheme, colours) in ["light", "dark"].iter().zip(&schemes) {
            let colour = |name: &str| {
                colours
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, value)| value.as_str())
                    .unwrap_or_else(|| panic!("{scheme}: no {name}"))
            };
            for (foreground, background, minimum) in pairs {
                let ratio = contrast(colour(foreground), colour(background));
                assert!(
                    ratio >= minimum,
                    "{scheme}: {foreground} on {background} is {ratio:.2}:1, below {minimum}:1"
                );
            }
            // The header's white text and links.
            let ratio = contrast("#ffffff", colour("--header"));
            assert!(ratio >= TEXT, "{scheme}: header text is {ratio:.2}:1");
        }
    }
}
