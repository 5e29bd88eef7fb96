//! The request's parameters as the domain's [`Params`]: the query string for `GET` and
//! `HEAD`, otherwise the body, which may be `application/x-www-form-urlencoded` or
//! `multipart/form-data` (text fields only), so `curl -F grant_type=...` works. Bodies are
//! size-limited, and no name or value may contain a NUL character (Postgres text cannot hold
//! one).
//!
//! One reader, [`read_params`], and one extractor, [`Form`], whose type parameter is the
//! response a malformed request gets: [`FormParams`] answers RFC 6749 `invalid_request` JSON
//! (the endpoints apps call), [`PageForm`] the HTML error page (the forms people submit).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{FromRequest, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt as _;
use tessera_domain::Params;

use crate::error::{PageError, TokenError};

/// The largest request body read, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The most fields a multipart body may carry.
pub const MULTIPART_FIELD_LIMIT: usize = 64;

/// Why the parameters could not be read; the text is safe to show to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedParams(pub String);

impl MalformedParams {
    fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

impl From<MalformedParams> for TokenError {
    fn from(error: MalformedParams) -> Self {
        Self::invalid_request(error.0)
    }
}

impl From<MalformedParams> for PageError {
    fn from(error: MalformedParams) -> Self {
        Self::BadRequest(error.0)
    }
}

/// The request's parameters in the order sent, extracted with [`read_params`]; a malformed
/// request is answered with `E`.
pub struct Form<E> {
    params: Params,
    rejection: PhantomData<fn() -> E>,
}

/// Parameters for an endpoint apps call: malformed input is RFC 6749 `invalid_request`.
pub type FormParams = Form<TokenError>;

/// Parameters of a page's form: malformed input is the HTML error page (400).
pub type PageForm = Form<PageError>;

impl<E> Form<E> {
    /// Wraps parameters that were already read.
    pub fn new(params: Params) -> Self {
        Self {
            params,
            rejection: PhantomData,
        }
    }

    /// The value of `name` if sent exactly once and non-empty; repeats and absence give `None`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.single(name).ok().flatten()
    }

    /// The parameters themselves.
    pub fn into_params(self) -> Params {
        self.params
    }
}

impl<E> Deref for Form<E> {
    type Target = Params;

    fn deref(&self) -> &Params {
        &self.params
    }
}

impl<E> fmt::Debug for Form<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Form").field(&self.params).finish()
    }
}

impl<E> FromRequest for Form<E>
where
    E: From<MalformedParams> + ResponseError + 'static,
{
    type Error = E;
    type Future = LocalBoxFuture<'static, Result<Self, E>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { Ok(Self::new(read_params(&req, payload).await?)) })
    }
}

/// Reads the query string (`GET`, `HEAD`) or the body, and refuses NUL characters.
pub async fn read_params(req: &HttpRequest, payload: Payload) -> Result<Params, MalformedParams> {
    let params = if req.method() == Method::GET || req.method() == Method::HEAD {
        parse_urlencoded(req.query_string().as_bytes())?
    } else {
        read_body_params(req, payload).await?
    };
    let has_nul = |text: &str| text.contains('\0');
    if params
        .pairs()
        .iter()
        .any(|(name, value)| has_nul(name) || has_nul(value))
    {
        return Err(MalformedParams::new(
            "parameter names and values must not contain NUL characters",
        ));
    }
    Ok(params)
}

async fn read_body_params(req: &HttpRequest, payload: Payload) -> Result<Params, MalformedParams> {
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
        "application/x-www-form-urlencoded" => parse_urlencoded(&read_body(payload).await?),
        "multipart/form-data" => read_multipart(req, payload).await,
        _ => Err(MalformedParams::new(
            "the body must be application/x-www-form-urlencoded or multipart/form-data",
        )),
    }
}

/// Parses `a=b&c=d`; the text must be UTF-8.
pub fn parse_urlencoded(bytes: &[u8]) -> Result<Params, MalformedParams> {
    std::str::from_utf8(bytes)
        .map_err(|_| MalformedParams::new("the request body is not valid UTF-8"))?;
    Ok(Params::new(
        url::form_urlencoded::parse(bytes)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
    ))
}

async fn read_body(mut payload: Payload) -> Result<Vec<u8>, MalformedParams> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| MalformedParams::new("the request body could not be read"))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large() -> MalformedParams {
    MalformedParams::new(format!(
        "the request body is larger than {} KiB",
        BODY_LIMIT / 1024
    ))
}

async fn read_multipart(req: &HttpRequest, payload: Payload) -> Result<Params, MalformedParams> {
    let malformed = || MalformedParams::new("the multipart/form-data body is malformed");
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut pairs = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| malformed())?;
        if pairs.len() >= MULTIPART_FIELD_LIMIT {
            return Err(MalformedParams::new("the form has too many fields"));
        }
        let disposition = field.content_disposition().ok_or_else(malformed)?;
        if disposition.get_filename().is_some() {
            return Err(MalformedParams::new(
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
            .map_err(|_| MalformedParams::new("a form field is not valid UTF-8"))?;
        pairs.push((name, value));
    }
    Ok(Params::new(pairs))
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test::TestRequest;

    use super::*;

    async fn read(request: TestRequest) -> Result<Params, MalformedParams> {
        let (req, payload) = request.to_http_parts();
        read_params(&req, payload).await
    }

    fn urlencoded(body: impl Into<Vec<u8>>) -> TestRequest {
        TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body.into())
    }

    fn multipart(body: &str) -> TestRequest {
        TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ"))
            .set_payload(body.to_owned())
    }

    #[actix_web::test]
    async fn urlencoded_bodies_are_read_in_order() {
        let params = FormParams::new(
            read(urlencoded(
                "grant_type=password&username=a%20b&scope=x&scope=y",
            ))
            .await
            .unwrap(),
        );
        assert_eq!(params.get("username"), Some("a b"));
        assert_eq!(params.all("scope"), vec!["x", "y"]);
        assert_eq!(params.get("scope"), None);
    }

    #[actix_web::test]
    async fn multipart_text_fields_are_read() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--XyZ\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\nprofile\r\n--XyZ--\r\n";
        let params = PageForm::new(read(multipart(body)).await.unwrap());
        assert_eq!(params.get("grant_type"), Some("password"));
        assert_eq!(params.get("scope"), Some("profile"));
    }

    #[actix_web::test]
    async fn malformed_or_huge_bodies_are_refused() {
        let cases = [
            multipart("garbage"),
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload("{}"),
            urlencoded(vec![b'a'; BODY_LIMIT + 1]),
            urlencoded(vec![0xff, 0xfe]),
        ];
        for request in cases {
            assert!(read(request).await.is_err());
        }
    }

    #[actix_web::test]
    async fn nul_characters_are_refused_in_names_and_values_everywhere() {
        let cases = [
            urlencoded("client_id=abc%00def"),
            urlencoded("user%00name=alice"),
            multipart("--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\na\0b\r\n--XyZ--\r\n"),
            TestRequest::get().uri("/oauth/authorize?client_id=%00"),
        ];
        for request in cases {
            let error = read(request).await.unwrap_err();
            assert!(error.0.contains("NUL"), "{error}");
        }
    }

    #[actix_web::test]
    async fn get_requests_read_the_query_string() {
        let params = read(TestRequest::get().uri("/oauth/authorize?client_id=abc&state=s"))
            .await
            .unwrap();
        assert_eq!(params.single("client_id").unwrap(), Some("abc"));
    }

    #[actix_web::test]
    async fn apps_get_invalid_request_json_and_people_get_the_error_page() {
        let (req, mut payload) = urlencoded("a=%00").to_http_parts();
        let response = FormParams::from_request(&req, &mut payload)
            .await
            .unwrap_err()
            .error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );

        let (req, mut payload) = urlencoded("a=%00").to_http_parts();
        let error = PageForm::from_request(&req, &mut payload)
            .await
            .unwrap_err();
        assert!(matches!(error, PageError::BadRequest(_)), "{error:?}");
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
}
