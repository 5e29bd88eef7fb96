//! [`FormParams`]: the request's parameters as the domain's [`Params`]: the query string
//! for `GET` and `HEAD`, otherwise the body, which may be `application/x-www-form-urlencoded`
//! or `multipart/form-data` (text fields only), so `curl -F grant_type=...` works. Bodies are
//! size-limited; a malformed one is RFC 6749 `invalid_request`.

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt as _;
use tessera_domain::Params;

use crate::error::TokenError;

/// The largest request body read, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The most fields a multipart body may carry.
pub const MULTIPART_FIELD_LIMIT: usize = 64;

/// The request's parameters in the order sent.
#[derive(Debug, Clone, Default)]
pub struct FormParams(pub Params);

impl FormParams {
    /// The value of `name` if sent exactly once and non-empty; repeats and absence give `None`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.single(name).ok().flatten()
    }
}

/// Parses `a=b&c=d`; the text must be UTF-8.
pub fn parse_urlencoded(bytes: &[u8]) -> Result<Params, TokenError> {
    std::str::from_utf8(bytes)
        .map_err(|_| TokenError::invalid_request("the request body is not valid UTF-8"))?;
    Ok(Params::new(
        url::form_urlencoded::parse(bytes)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
    ))
}

impl FromRequest for FormParams {
    type Error = TokenError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            if req.method() == Method::GET || req.method() == Method::HEAD {
                return parse_urlencoded(req.query_string().as_bytes()).map(Self);
            }
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| value.to_str().unwrap_or("invalid"))
                .unwrap_or("application/x-www-form-urlencoded");
            let essence = content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            match essence.as_str() {
                "application/x-www-form-urlencoded" => {
                    let body = read_body(payload).await?;
                    parse_urlencoded(&body).map(Self)
                }
                "multipart/form-data" => read_multipart(&req, payload).await.map(Self),
                _ => Err(TokenError::invalid_request(
                    "the body must be application/x-www-form-urlencoded or multipart/form-data",
                )),
            }
        })
    }
}

async fn read_body(mut payload: Payload) -> Result<Vec<u8>, TokenError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| TokenError::invalid_request("the request body could not be read"))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large() -> TokenError {
    TokenError::invalid_request(format!(
        "the request body is larger than {} KiB",
        BODY_LIMIT / 1024
    ))
}

async fn read_multipart(req: &HttpRequest, payload: Payload) -> Result<Params, TokenError> {
    let malformed = || TokenError::invalid_request("the multipart/form-data body is malformed");
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut pairs = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| malformed())?;
        if pairs.len() >= MULTIPART_FIELD_LIMIT {
            return Err(TokenError::invalid_request("the form has too many fields"));
        }
        let disposition = field.content_disposition().ok_or_else(malformed)?;
        if disposition.get_filename().is_some() {
            return Err(TokenError::invalid_request(
                "file uploads are not accepted; send text fields",
            ));
        }
        let name = disposition.get_name().ok_or_else(malformed)?.to_owned();
        total += name.len();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| malformed())?;
            total += chunk.len();
            if total > BODY_LIMIT {
                return Err(too_large());
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| TokenError::invalid_request("a form field is not valid UTF-8"))?;
        pairs.push((name, value));
    }
    Ok(Params::new(pairs))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    async fn extract(request: TestRequest) -> Result<FormParams, TokenError> {
        let (req, mut payload) = request.to_http_parts();
        FormParams::from_request(&req, &mut payload).await
    }

    #[actix_web::test]
    async fn urlencoded_bodies_are_read_in_order() {
        let params = extract(
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload("grant_type=password&username=a%20b&scope=x&scope=y"),
        )
        .await
        .unwrap();
        assert_eq!(params.get("username"), Some("a b"));
        assert_eq!(params.0.all("scope"), vec!["x", "y"]);
        assert_eq!(params.get("scope"), None);
    }

    #[actix_web::test]
    async fn multipart_text_fields_are_read() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--XyZ\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\nprofile\r\n--XyZ--\r\n";
        let params = extract(
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ"))
                .set_payload(body),
        )
        .await
        .unwrap();
        assert_eq!(params.get("grant_type"), Some("password"));
        assert_eq!(params.get("scope"), Some("profile"));
    }

    #[actix_web::test]
    async fn malformed_or_huge_bodies_are_invalid_request() {
        let cases = [
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ"))
                .set_payload("garbage"),
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload("{}"),
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(vec![b'a'; BODY_LIMIT + 1]),
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(vec![0xff, 0xfe]),
        ];
        for request in cases {
            match extract(request).await {
                Err(TokenError::OAuth(error)) => {
                    assert_eq!(error.code, tessera_domain::ErrorCode::InvalidRequest);
                }
                other => panic!("expected invalid_request, got {other:?}"),
            }
        }
    }

    #[actix_web::test]
    async fn get_requests_read_the_query_string() {
        let params = extract(TestRequest::get().uri("/oauth/authorize?client_id=abc&state=s"))
            .await
            .unwrap();
        assert_eq!(params.get("client_id"), Some("abc"));
    }
}
