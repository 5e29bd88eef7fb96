//! Request ids, the request span, the access log and the HTTP metrics, in one middleware
//! around the whole application.
//!
//! - Every request gets an id: its `X-Request-Id` header if that is a [valid id](is_valid_id)
//!   (so that an id given by a proxy or a client follows the request through), else a new
//!   UUID v4. Every response carries it back in `X-Request-Id`, errors and 404s included.
//! - Everything the request logs runs inside the span `request`, with the fields
//!   `request_id`, `method` and `route`.
//! - When the answer is ready, one line is logged at INFO with the target
//!   [`ACCESS_TARGET`]: `method`, `route`, `status`, `latency_ms` and `request_id`, and the
//!   request is counted in `tessera_http_requests_total{route,method,status}` and
//!   `tessera_http_request_duration_seconds{route,method}` (a no-op unless metrics are on,
//!   see [`crate::prometheus`]).
//!
//! The route is the pattern that matched (`/clients/{client_id}`), never the path, or
//! [`UNMATCHED`]: a path may carry ids, and an attacker chooses it, so it would leak values
//! into the log and grow the metrics without bound. Methods outside the standard ones count
//! as `OTHER`. No query string, header or body is logged. The latency is the time until the
//! response head is ready; streaming the body is not included.

use std::rc::Rc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use futures_util::future::{ready, LocalBoxFuture, Ready};
use tracing::Instrument as _;

/// The header that carries the request id, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a request.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// The `tracing` target of the access log lines (`RUST_LOG=tessera::access=off` silences
/// them).
pub const ACCESS_TARGET: &str = "tessera::access";

/// The route of a request that matched no resource (a 404).
pub const UNMATCHED: &str = "unmatched";

/// The counter of answered requests.
pub const REQUESTS_TOTAL: &str = "tessera_http_requests_total";

/// The histogram of the time until the response head was ready, in seconds.
pub const REQUEST_DURATION_SECONDS: &str = "tessera_http_request_duration_seconds";

/// Whether `id` may be used as a request id as it came: 1 to [`MAX_REQUEST_ID_LEN`]
/// characters of `A-Z a-z 0-9 . _ -`, so it is safe in a log line and a header.
pub fn is_valid_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// The id of a request with `X-Request-Id: header` (if any): the header if it is valid,
/// else a new UUID v4.
pub fn request_id(header: Option<&HeaderValue>) -> String {
    header
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_valid_id(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Sets `X-Request-Id: id` (always a valid header value: a checked id or a UUID).
fn insert_id(headers: &mut HeaderMap, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
}

/// The method as a metric label: the standard ones by name, any other as `OTHER`, so that
/// made-up methods cannot add series.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// The middleware factory; wrap it outermost, so that it sees every answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLog;

impl<S, B> Transform<S, ServiceRequest> for AccessLog
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = AccessLogMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AccessLogMiddleware {
            service: Rc::new(service),
        }))
    }
}

/// The middleware around one service (see the [module documentation](self)).
pub struct AccessLogMiddleware<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for AccessLogMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let id = request_id(req.headers().get(&REQUEST_ID_HEADER));
        let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
        let method = req.method().clone();
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %method,
            route = %route,
        );
        let answer = self.service.call(req).instrument(span);
        Box::pin(async move {
            let (answer, status) = match answer.await {
                Ok(mut response) => {
                    insert_id(response.headers_mut(), &id);
                    let status = response.status();
                    (Ok(response), status)
                }
                // An inner middleware failed: the answer is the error's response, with the id.
                Err(error) => {
                    let mut response = error.error_response();
                    insert_id(response.headers_mut(), &id);
                    let status = response.status();
                    (
                        Err(InternalError::from_response(error, response).into()),
                        status,
                    )
                }
            };
            let status = status.as_u16();
            let elapsed = started.elapsed();
            let latency_ms = elapsed.as_micros() as f64 / 1000.0;
            tracing::info!(
                target: ACCESS_TARGET,
                method = %method,
                route = %route,
                status,
                latency_ms,
                request_id = %id,
                "answered"
            );
            let method = method_label(&method);
            metrics::counter!(
                REQUESTS_TOTAL,
                "route" => route.clone(),
                "method" => method,
                "status" => status.to_string(),
            )
            .increment(1);
            metrics::histogram!(
                REQUEST_DURATION_SECONDS,
                "route" => route,
                "method" => method,
            )
            .record(elapsed.as_secs_f64());
            answer
        })
    }
}

#[cfg(test)]
mod tests {
    //! Which incoming ids are kept, and the method labels.

    use super::*;

    #[test]
    fn ids_of_one_to_sixty_four_safe_characters_are_kept() {
        for id in [
            "a",
            "req-123",
            "A.b_C-9",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "6f1c1b9e-8d6a-4c1e-9a55-0d2b7b0e6c11",
        ] {
            assert!(is_valid_id(id), "{id:?}");
            let header = HeaderValue::from_str(id).unwrap();
            assert_eq!(request_id(Some(&header)), id);
        }
    }

    #[test]
    fn other_ids_are_replaced_by_a_new_uuid() {
        let too_long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for id in [
            "",
            " ",
            "has space",
            "semi;colon",
            "quote\"",
            "new\\nline",
            "ünïcode",
            "a/b",
            "a=b",
            too_long.as_str(),
        ] {
            assert!(!is_valid_id(id), "{id:?}");
        }
        for header in [
            None,
            Some(HeaderValue::from_static("has space")),
            Some(HeaderValue::from_str(&too_long).unwrap()),
            Some(HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()),
        ] {
            let id = request_id(header.as_ref());
            let uuid = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(uuid.get_version_num(), 4, "{id}");
            assert_eq!(id, uuid.hyphenated().to_string());
        }
        assert_ne!(request_id(None), request_id(None));
    }

    #[test]
    fn standard_methods_are_labelled_by_name_and_others_as_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
    }
}
