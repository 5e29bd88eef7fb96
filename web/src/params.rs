//! The request's parameters as the domain's [`Params`]: the query string for `GET` and
//! `HEAD`, otherwise the body, which may be `application/x-www-form-urlencoded` or
//! `multipart/form-data` (text fields only), so `curl -F grant_type=...` works. Bodies are
//! size-limited as a whole (multipart boundaries and part headers included: 413 as soon as
//! the limit is passed, without reading the rest) and time-limited (408 when a body stalls
//! past `TESSERA_REQUEST_TIMEOUT`); names and values must be valid UTF-8 after
//! percent-decoding and may not contain a NUL character (Postgres text cannot hold one).
//!
//! One reader, [`read_params`], and one extractor, [`Form`], whose type parameter is the
//! response a malformed request gets: [`FormParams`] answers RFC 6749 `invalid_request` JSON
//! (the endpoints apps call), [`PageForm`] the HTML error page (the forms people submit).
//! The decoders also work on bytes alone, without a request ([`parse_urlencoded`],
//! [`decode_body`]), as the property tests and the `fuzz/` targets call them.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{HeaderMap, HeaderValue};
use actix_web::http::{header, Method, StatusCode};
use actix_web::web::{Bytes, Data};
use actix_web::{mime, FromRequest, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::{FutureExt as _, StreamExt as _};
use tessera_domain::params::decode_form_component;
use tessera_domain::{OAuthError, Params};

use crate::config::DEFAULT_REQUEST_TIMEOUT;
use crate::error::{PageError, TokenError};
use crate::state::AppState;

/// The largest request body read, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The most fields a multipart body may carry.
pub const MULTIPART_FIELD_LIMIT: usize = 64;

/// Why the parameters could not be read: the answer's status (400, 413 or 408) and a text
/// that is safe to show to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct MalformedParams {
    /// 400 for malformed input, 413 for a body over [`BODY_LIMIT`], 408 for a stalled body.
    pub status: StatusCode,
    /// What is wrong.
    pub text: String,
}

impl MalformedParams {
    fn new(text: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            text: text.into(),
        }
    }
}

impl From<MalformedParams> for TokenError {
    fn from(error: MalformedParams) -> Self {
        let refusal = OAuthError::invalid_request(error.text);
        if error.status == StatusCode::BAD_REQUEST {
            Self::OAuth(refusal)
        } else {
            Self::Unreadable(error.status, refusal)
        }
    }
}

impl From<MalformedParams> for PageError {
    fn from(error: MalformedParams) -> Self {
        if error.status == StatusCode::BAD_REQUEST {
            Self::BadRequest(error.text)
        } else {
            Self::Unreadable(error.status, error.text)
        }
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
    refuse_nul(params)
}

/// Decodes a whole body that arrived with this `Content-Type` as [`read_params`] decodes
/// the body of a `POST`: url-encoded or multipart text fields, at most [`BODY_LIMIT`] bytes
/// (413 beyond) and [`MULTIPART_FIELD_LIMIT`] fields, UTF-8, no NUL character.
pub async fn decode_body(content_type: &str, body: &[u8]) -> Result<Params, MalformedParams> {
    let value = HeaderValue::from_bytes(content_type.as_bytes()).map_err(|_| unsupported_type())?;
    let headers = HeaderMap::from_iter([(header::CONTENT_TYPE, value)]);
    let body = Bytes::copy_from_slice(body);
    let params = decode_by_type(&headers, futures_util::stream::iter([Ok(body)])).await?;
    refuse_nul(params)
}

fn refuse_nul(params: Params) -> Result<Params, MalformedParams> {
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
    refuse_declared_excess(req)?;
    within_request_timeout(req, decode_by_type(req.headers(), payload)).await
}

/// Reads a whole `application/json` body (its `Content-Type` may carry parameters such as
/// `charset`), at most [`BODY_LIMIT`] bytes (413 beyond) and within `TESSERA_REQUEST_TIMEOUT`
/// (408); another content type is a 400. The JSON itself is left to the caller.
pub async fn read_json_body(
    req: &HttpRequest,
    payload: Payload,
) -> Result<Vec<u8>, MalformedParams> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(MalformedParams::new("the body must be application/json"));
    }
    refuse_declared_excess(req)?;
    within_request_timeout(req, async move {
        let exceeded = Rc::new(Cell::new(false));
        let body = read_body(limited(payload, Rc::clone(&exceeded))).await;
        if exceeded.get() {
            return Err(too_large());
        }
        body
    })
    .await
}

/// 413 at once for a `Content-Length` over [`BODY_LIMIT`].
fn refuse_declared_excess(req: &HttpRequest) -> Result<(), MalformedParams> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(too_large());
    }
    Ok(())
}

/// `reading`, or 408 when it takes longer than `TESSERA_REQUEST_TIMEOUT`.
async fn within_request_timeout<T>(
    req: &HttpRequest,
    reading: impl std::future::Future<Output = Result<T, MalformedParams>>,
) -> Result<T, MalformedParams> {
    let timeout = req
        .app_data::<Data<AppState>>()
        .map_or(DEFAULT_REQUEST_TIMEOUT, |state| {
            state.config.request_timeout
        })
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(10));
    actix_web::rt::time::timeout(timeout, reading)
        .await
        .unwrap_or_else(|_| {
            Err(MalformedParams {
                status: StatusCode::REQUEST_TIMEOUT,
                text: "the request body did not arrive in time".into(),
            })
        })
}

/// Decodes a body by its `Content-Type` (url-encoded when absent), within [`BODY_LIMIT`].
async fn decode_by_type(
    headers: &HeaderMap,
    body: impl futures_util::Stream<Item = Result<Bytes, PayloadError>> + 'static,
) -> Result<Params, MalformedParams> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("invalid"))
        .unwrap_or("application/x-www-form-urlencoded");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let exceeded = Rc::new(Cell::new(false));
    let body = limited(body, Rc::clone(&exceeded));
    let params = match essence.as_str() {
        "application/x-www-form-urlencoded" => read_body(body)
            .await
            .and_then(|body| parse_urlencoded(&body)),
        "multipart/form-data" => read_multipart(headers, body).await,
        _ => Err(unsupported_type()),
    };
    if exceeded.get() {
        return Err(too_large());
    }
    params
}

/// The body, failing (and setting `exceeded`) as soon as more than [`BODY_LIMIT`] bytes have
/// arrived in total, whatever reads it.
fn limited(
    body: impl futures_util::Stream<Item = Result<Bytes, PayloadError>>,
    exceeded: Rc<Cell<bool>>,
) -> impl futures_util::Stream<Item = Result<Bytes, PayloadError>> {
    let mut total = 0usize;
    body.map(move |chunk| {
        let chunk = chunk?;
        total = total.saturating_add(chunk.len());
        if total > BODY_LIMIT {
            exceeded.set(true);
            return Err(PayloadError::Overflow);
        }
        Ok(chunk)
    })
}

/// Parses `a=b&c=d`; every name and value must be UTF-8 once percent-decoded (`%FF` is
/// refused rather than replaced, so values such as `state` round-trip byte for byte).
pub fn parse_urlencoded(bytes: &[u8]) -> Result<Params, MalformedParams> {
    let decode = |part: &[u8]| {
        decode_form_component(part)
            .ok_or_else(|| MalformedParams::new("the parameters are not valid UTF-8"))
    };
    let mut pairs = Vec::new();
    for pair in bytes.split(|&byte| byte == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(Params::new(pairs))
}

async fn read_body(
    body: impl futures_util::Stream<Item = Result<Bytes, PayloadError>>,
) -> Result<Vec<u8>, MalformedParams> {
    let mut body = std::pin::pin!(body);
    let mut collected = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|_| MalformedParams::new("the request body could not be read"))?;
        collected.extend_from_slice(&chunk);
    }
    Ok(collected)
}

fn unsupported_type() -> MalformedParams {
    MalformedParams::new(
        "the body must be application/x-www-form-urlencoded or multipart/form-data",
    )
}

fn too_large() -> MalformedParams {
    MalformedParams {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        text: format!("the request body is larger than {} KiB", BODY_LIMIT / 1024),
    }
}

/// Reads the text fields of a multipart body, read whole first (it is at most
/// [`BODY_LIMIT`]). The multipart parser sees it from the first delimiter line on, as the
/// preamble is to be ignored (RFC 2046 §5.1.1) and the parser panics on some short preamble
/// lines; and as the whole body is in memory, it never needs to wait: a parser waiting for
/// more (of a body cut short just after a CR) means the body is malformed.
async fn read_multipart(
    headers: &HeaderMap,
    body: impl futures_util::Stream<Item = Result<Bytes, PayloadError>>,
) -> Result<Params, MalformedParams> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .and_then(|mime| Some(mime.get_param(mime::BOUNDARY)?.as_str().to_owned()))
        .ok_or_else(malformed_multipart)?;
    let body = read_body(body).await?;
    let start = first_delimiter(&body, &boundary).ok_or_else(malformed_multipart)?;
    let parts = futures_util::stream::iter([Ok(Bytes::from(body).slice(start..))]);
    multipart_fields(headers, parts)
        .now_or_never()
        .unwrap_or_else(|| Err(malformed_multipart()))
}

/// Where the first delimiter line, `--boundary` CRLF, starts: at the start of the body or
/// right after a CRLF.
fn first_delimiter(body: &[u8], boundary: &str) -> Option<usize> {
    let line = format!("--{boundary}\r\n");
    if body.starts_with(line.as_bytes()) {
        return Some(0);
    }
    let delimiter = format!("\r\n{line}");
    body.windows(delimiter.len())
        .position(|window| window == delimiter.as_bytes())
        .map(|at| at + 2)
}

fn malformed_multipart() -> MalformedParams {
    MalformedParams::new("the multipart/form-data body is malformed")
}

async fn multipart_fields(
    headers: &HeaderMap,
    body: impl futures_util::Stream<Item = Result<Bytes, PayloadError>> + 'static,
) -> Result<Params, MalformedParams> {
    let malformed = malformed_multipart;
    let mut multipart = Multipart::new(headers, body);
    let mut pairs = Vec::new();
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
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(|_| malformed())?);
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
    async fn a_multipart_body_cut_short_after_a_cr_is_malformed_at_once() {
        let cut = "--XyZ\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\nopenid--\r\n";

        let error = read(multipart(cut)).await.unwrap_err();

        assert_eq!(error.status, StatusCode::BAD_REQUEST, "{error}");
        let decoded = decode_body("multipart/form-data; boundary=XyZ", cut.as_bytes())
            .now_or_never()
            .expect("a body in memory is decoded without waiting");
        assert_eq!(decoded.unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[actix_web::test]
    async fn short_preamble_lines_are_skipped_not_read_by_the_multipart_parser() {
        let field = "Content-Disposition: form-data; name=\"scope\"\r\n\r\nopenid\r\n";
        for (boundary, preamble) in [
            ("XyZ", "--\n\r\n"),
            ("a", "\n\r\n"),
            ("XyZ", "x\n--\n--\r\n"),
        ] {
            let body = format!("{preamble}--{boundary}\r\n{field}--{boundary}--\r\n");
            let content_type = format!("multipart/form-data; boundary={boundary}");

            let params = decode_body(&content_type, body.as_bytes()).await.unwrap();

            assert_eq!(params.single("scope").unwrap(), Some("openid"), "{body:?}");
        }
        for (boundary, preamble) in [("XyZ", "--\n"), ("a", "\n")] {
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let error = decode_body(&content_type, preamble.as_bytes())
                .await
                .unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{preamble:?}");
        }
    }

    #[actix_web::test]
    async fn the_limit_counts_the_whole_body_multipart_preamble_and_part_headers_included() {
        let preamble = format!("{}\r\n--XyZ--\r\n", "A".repeat(BODY_LIMIT + 1));
        let header = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; x=\"{}\"\r\n\r\nv\r\n--XyZ--\r\n",
            "h".repeat(BODY_LIMIT)
        );
        for body in [preamble, header] {
            let error = read(multipart(&body)).await.unwrap_err();
            assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
        }
        let at_limit = format!("a={}", "b".repeat(BODY_LIMIT - 2));
        let params = read(urlencoded(at_limit)).await.unwrap();
        assert_eq!(
            params.single("a").unwrap().map(str::len),
            Some(BODY_LIMIT - 2)
        );
    }

    #[actix_web::test]
    async fn invalid_utf8_after_percent_decoding_is_refused_not_replaced() {
        for request in [
            TestRequest::get().uri("/oauth/authorize?state=%FF"),
            TestRequest::get().uri("/oauth/authorize?%C3=x"),
            urlencoded("username=%E9"),
        ] {
            let error = read(request).await.unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
        }
        let params = read(TestRequest::get().uri("/x?state=%C3%A9+%2B%26"))
            .await
            .unwrap();
        assert_eq!(params.single("state").unwrap(), Some("\u{e9} +&"));
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
            assert!(error.text.contains("NUL"), "{error}");
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
