//! Thousands of random, mostly malformed requests to every route: odd methods, paths with
//! odd bytes and escapes, garbage `Content-Type`, `Authorization` and cookies, huge header
//! values, random bytes, almost-valid OAuth forms, truncated multipart and JSON garbage as
//! bodies, and (over a bare connection) invalid request lines, header bytes and framing.
//! No answer may be 5xx, a complete request is never left waiting for 408, and no server
//! thread may panic; the server still answers `/healthz` afterwards and its memory stays
//! bounded.
//!
//! The requests come from a seeded generator: the seed is printed, and
//! `TESSERA_FUZZ_SEED=<seed>` replays the same requests; `TESSERA_FUZZ_REQUESTS=<count>`
//! sends more (or fewer) than the default 3000 per backend.

use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tessera_web::params::BODY_LIMIT;
use tessera_web::routes::{account, paths};
use tessera_web::startup::SESSION_COOKIE;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::helpers::fixtures::REDIRECT_URI;
use crate::helpers::raw_http::{authority, read_status, resident_kib};
use crate::helpers::{both_backends, spawn_app_with, TestClient};

/// The seed used unless `TESSERA_FUZZ_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x7e55_e4a5_eed5;
/// Requests per backend unless `TESSERA_FUZZ_REQUESTS` says otherwise: seconds of work
/// on a debug build.
const DEFAULT_REQUESTS: usize = 3000;
/// Requests in flight at once.
const IN_FLIGHT: usize = 8;
/// How long a bare connection waits for an answer's head. A request whose body or head
/// never completes is answered 408 after `TESSERA_REQUEST_TIMEOUT`, set to 1 s here.
const RAW_ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// The most the process's resident memory may grow over one run, in KiB. The servers run
/// in this process: each in-flight request holds at most a 64 KiB body and its head, and
/// the allocator keeps some freed pages, so honest growth is a few MiB (both backends' runs
/// may overlap). A leak of 22 KiB per request, about a third of one body, would pass
/// 64 MiB over 3000 requests.
const MEMORY_GROWTH_KIB: u64 = 64 * 1024;

/// Every route the router registers (`web/src/routes/mod.rs`) with its methods; `{id}`
/// stands for a client id.
const ROUTES: &[(&str, &[&str])] = &[
    ("/", &["GET"]),
    ("/signup", &["GET", "POST"]),
    ("/login", &["GET", "POST"]),
    ("/logout", &["POST"]),
    (account::PATH, &["GET"]),
    ("/account/apps/{id}/revoke", &["POST"]),
    ("/account/sessions/end_all", &["POST"]),
    ("/account/password", &["POST"]),
    ("/create_client", &["GET", "POST"]),
    ("/clients/claim", &["POST"]),
    ("/clients/{id}", &["GET"]),
    ("/clients/{id}/edit", &["GET", "POST"]),
    ("/clients/{id}/delete", &["POST"]),
    ("/clients/{id}/rotate_secret", &["POST"]),
    (paths::AUTHORIZE, &["GET", "POST"]),
    (paths::TOKEN, &["POST"]),
    (paths::REVOKE, &["POST"]),
    (paths::INTROSPECT, &["POST"]),
    (paths::PUSHED_AUTHORIZATION_REQUEST, &["POST"]),
    (paths::DEVICE_AUTHORIZATION, &["POST"]),
    (paths::DEVICE, &["GET", "POST"]),
    (paths::REGISTER, &["POST"]),
    ("/oauth/register/{id}", &["GET", "PUT", "DELETE"]),
    (paths::JWKS, &["GET"]),
    (paths::USERINFO, &["GET", "POST"]),
    (paths::END_SESSION, &["GET", "POST"]),
    (paths::OPENID_CONFIGURATION, &["GET"]),
    (paths::OAUTH_METADATA, &["GET"]),
    ("/api/me", &["GET"]),
    ("/healthz", &["GET"]),
    ("/static/tessera.css", &["GET"]),
    ("/static/copy.js", &["GET"]),
    ("/no/such/route", &["GET"]),
];

/// Parameter names of every form and query Tessera reads, and some it does not.
const NAMES: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "refresh_token",
    "username",
    "password",
    "email",
    "token",
    "token_type_hint",
    "prompt",
    "max_age",
    "id_token_hint",
    "post_logout_redirect_uri",
    "csrf_token",
    "confirm",
    "next",
    "client_name",
    "redirect_uris",
    "grant_types",
    "response_types",
    "post_logout_redirect_uris",
    "token_endpoint_auth_method",
    "id_token_signed_response_alg",
    "access_token_format",
    "login_hint",
    "claims",
    "request",
    "",
];

/// Values that mean something to some endpoint.
const VALUES: &[&str] = &[
    "password",
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "code",
    "token",
    "id_token",
    "code id_token",
    "openid",
    "openid profile email",
    "profile",
    "S256",
    "plain",
    "none",
    "login",
    "consent",
    "select_account",
    "client_secret_basic",
    "client_secret_post",
    "RS256",
    "ES256",
    "EdDSA",
    "HS256",
    "jwt",
    "opaque",
    "yes",
    "no",
    "0",
    "-1",
    "99999999999999999999999",
    REDIRECT_URI,
    "https://client.example/cb#frag",
    "javascript:alert(1)",
    "data:text/html,x",
    "//evil.example",
    "/account",
    "https://evil.example/",
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "",
];

/// What the generator knows of the server: real credentials, so some requests get past
/// the first checks.
struct Known {
    client_id: String,
    client_secret: String,
    username: String,
    access_token: String,
    refresh_token: String,
}

/// One request to send, and how to describe it if it goes wrong.
struct Case {
    description: String,
    exchange: Exchange,
}

enum Exchange {
    /// Sent with reqwest, in the signed-in browser or an anonymous one.
    Client {
        method: Method,
        target: String,
        headers: HeaderMap,
        body: Vec<u8>,
        signed_in: bool,
    },
    /// Sent as these bytes over a bare connection; `complete` unless the head or body
    /// deliberately stops short (then the server may answer 408 once its timeout passes).
    Raw { bytes: Vec<u8>, complete: bool },
}

/// A request before it is framed.
struct Parts {
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
    body_kind: &'static str,
}

struct Generator<'a> {
    rng: StdRng,
    known: &'a Known,
}

impl Generator<'_> {
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.gen_range(0..100) < percent
    }

    fn pick<'b, T: ?Sized>(&mut self, items: &[&'b T]) -> &'b T {
        items
            .choose(&mut self.rng)
            .copied()
            .expect("a non-empty list")
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let length = self.rng.gen_range(0..=max);
        (0..length).map(|_| self.rng.gen()).collect()
    }

    /// Printable, control and non-ASCII characters.
    fn text(&mut self, max: usize) -> String {
        let length = self.rng.gen_range(0..=max);
        (0..length)
            .map(|_| match self.rng.gen_range(0..10) {
                0 => char::from(self.rng.gen_range(0u8..0x20)),
                1 => self.rng.gen_range('\u{80}'..='\u{10ffff}'),
                _ => char::from(self.rng.gen_range(0x20u8..0x7f)),
            })
            .collect()
    }

    fn value(&mut self) -> String {
        let known = self.known;
        match self.rng.gen_range(0..10) {
            0 => known.client_id.clone(),
            1 => known.username.clone(),
            2 => self
                .pick(&[
                    known.access_token.as_str(),
                    &known.refresh_token,
                    &known.client_secret,
                ])
                .to_owned(),
            3 => self.text(40),
            4 => "x".repeat(self.rng.gen_range(100..5000)),
            _ => self.pick(VALUES).to_owned(),
        }
    }

    fn case(&mut self) -> Case {
        let (route, methods) = *ROUTES.choose(&mut self.rng).expect("routes");
        let mut parts = Parts {
            method: self.method(methods),
            target: self.target(route),
            headers: Vec::new(),
            body: Vec::new(),
            body_kind: "empty",
        };
        self.headers_and_body(&mut parts);
        let description = describe(&parts);
        let signed_in = self.chance(50);
        let as_client = self.chance(75).then(|| client_exchange(&parts, signed_in));
        match as_client.flatten() {
            Some(exchange) => Case {
                description: format!(
                    "[reqwest{}] {description}",
                    if signed_in { ", signed in" } else { "" }
                ),
                exchange,
            },
            None => {
                let (bytes, framing, complete) = self.raw(&parts);
                Case {
                    description: format!("[raw, framing {framing}] {description}"),
                    exchange: Exchange::Raw { bytes, complete },
                }
            }
        }
    }

    fn method(&mut self, route_methods: &[&str]) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0..=5 => self.pick(route_methods).as_bytes().to_vec(),
            6..=8 => self
                .pick(&[
                    "GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get",
                    "PoSt", "FOO", "M-SEARCH",
                ])
                .as_bytes()
                .to_vec(),
            _ => self.bytes(8),
        }
    }

    fn target(&mut self, route: &str) -> Vec<u8> {
        let id = match self.rng.gen_range(0..6) {
            0 | 1 => self.known.client_id.clone(),
            2 => percent_encode(self.text(20).as_bytes()),
            _ => self
                .pick(&[
                    "%00", "..", "%2F", "%2e%2e", "a%0Ab", "%FF", "%C3%28", "x;y", "",
                ])
                .to_owned(),
        };
        let mut target = route.replace("{id}", &id).into_bytes();
        if self.chance(20) {
            let suffix = self.pick(&["/", "//", "/..", "/./", "%", "%zz", "%ff", ";x", "?", "#x"]);
            target.extend_from_slice(suffix.as_bytes());
        }
        if self.chance(50) {
            target.push(b'?');
            target.extend(self.form_body());
        }
        if self.chance(4) {
            let at = self.rng.gen_range(0..=target.len());
            let odd = self.pick(&[&b" "[..], b"\t", b"\x00", b"\x7f", b"\xff\xfe", b"\xc3"]);
            target.splice(at..at, odd.iter().copied());
        }
        target
    }

    fn headers_and_body(&mut self, parts: &mut Parts) {
        let (body, kind, boundary) = self.body();
        parts.body = body;
        parts.body_kind = kind;
        if boundary.is_some() || self.chance(60) {
            let content_type = self.content_type(boundary.as_deref());
            parts.headers.push((b"Content-Type".to_vec(), content_type));
        }
        for _ in 0..self.rng.gen_range(0..5) {
            let header = self.header();
            parts.headers.push(header);
        }
    }

    fn content_type(&mut self, boundary: Option<&str>) -> Vec<u8> {
        if let Some(boundary) = boundary {
            if self.chance(85) {
                return format!("multipart/form-data; boundary={boundary}").into_bytes();
            }
        }
        match self.rng.gen_range(0..14) {
            0..=4 => b"application/x-www-form-urlencoded".to_vec(),
            5 => b"APPLICATION/X-WWW-FORM-URLENCODED; charset=latin1".to_vec(),
            6 => b"multipart/form-data".to_vec(),
            7 => b"multipart/form-data; boundary=".to_vec(),
            8 => format!("multipart/form-data; boundary=\"{}\"", "b".repeat(300)).into_bytes(),
            9 => b"application/json".to_vec(),
            10 => b"text/plain; charset=utf-8".to_vec(),
            11 => b";;;".to_vec(),
            12 => self.text(30).into_bytes(),
            _ => self.bytes(30),
        }
    }

    fn header(&mut self) -> (Vec<u8>, Vec<u8>) {
        let known = self.known;
        let (name, value): (&str, Vec<u8>) = match self.rng.gen_range(0..12) {
            0 => (
                "Authorization",
                format!(
                    "Basic {}",
                    STANDARD.encode(format!("{}:{}", known.client_id, known.client_secret))
                )
                .into_bytes(),
            ),
            1 => {
                let raw = self.bytes(40);
                (
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(raw)).into_bytes(),
                )
            }
            2 => {
                let garbage = match self.rng.gen_range(0..6) {
                    0 => format!("Bearer {}", known.access_token),
                    1 => format!("bearer {}", self.text(60)),
                    2 => format!("Bearer {}", "A".repeat(self.rng.gen_range(1000..20_000))),
                    3 => "Basic".to_owned(),
                    4 => format!("Basic {}", self.text(30)),
                    _ => format!("Digest {}", self.text(30)),
                };
                ("Authorization", garbage.into_bytes())
            }
            3 => {
                let value = match self.rng.gen_range(0..4) {
                    0 => format!("{SESSION_COOKIE}={}", STANDARD.encode(self.bytes(200))),
                    1 => format!("{SESSION_COOKIE}={}", self.text(80)),
                    2 => "a=b; ".repeat(self.rng.gen_range(1..800)),
                    _ => format!(
                        "{SESSION_COOKIE}={}",
                        "x".repeat(self.rng.gen_range(4000..12_000))
                    ),
                };
                ("Cookie", value.into_bytes())
            }
            4 => {
                let hops = match self.rng.gen_range(0..3) {
                    0 => "::1, 10.0.0.1, 999.1.1.1".to_owned(),
                    1 => "1.2.3.4, ".repeat(300),
                    _ => self.text(40),
                };
                ("X-Forwarded-For", hops.into_bytes())
            }
            5 => (
                "Content-Encoding",
                self.pick(&["gzip", "br", "deflate", "identity", "x"])
                    .into(),
            ),
            6 => (
                "Accept-Encoding",
                self.pick(&["gzip", "br, gzip;q=0", "*;q=2", ""]).into(),
            ),
            7 => ("Expect", self.pick(&["100-continue", "nonsense"]).into()),
            8 => (
                "Origin",
                self.pick(&["null", "https://evil.example", "\u{0}"]).into(),
            ),
            9 => (
                "X-Padding",
                "p".repeat(self.rng.gen_range(10_000..40_000)).into_bytes(),
            ),
            10 => ("Accept", self.text(40).into_bytes()),
            _ => {
                let name = self.text(12).into_bytes();
                return (name, self.bytes(40));
            }
        };
        (name.as_bytes().to_vec(), value)
    }

    /// A body, what kind it is, and the boundary of a multipart one.
    fn body(&mut self) -> (Vec<u8>, &'static str, Option<String>) {
        match self.rng.gen_range(0..20) {
            0..=3 => (Vec::new(), "empty", None),
            4..=6 => (self.bytes(2048), "random bytes", None),
            7..=12 => (self.form_body(), "form", None),
            13..=16 => {
                let (body, boundary) = self.multipart_body();
                (body, "multipart", Some(boundary))
            }
            17 | 18 => (self.json_body(), "JSON", None),
            _ => {
                let mut body = self.form_body();
                body.resize(
                    self.rng.gen_range(BODY_LIMIT - 2048..BODY_LIMIT + 8192),
                    b'a',
                );
                (body, "near or over the body limit", None)
            }
        }
    }

    /// `name=value&...` from the OAuth vocabulary, some of it broken.
    fn form_body(&mut self) -> Vec<u8> {
        let mut pairs = Vec::new();
        for _ in 0..self.rng.gen_range(1..9) {
            let name = self.pick(NAMES).to_owned();
            let value = self.value();
            let pair = match self.rng.gen_range(0..12) {
                0 => name,
                1 => format!("{name}={value}"),
                2 => format!(
                    "{name}=%{}",
                    self.pick(&["", "G", "zz", "FF", "C3", "00", "E2%82"])
                ),
                3 => format!(
                    "{}={}",
                    percent_encode(name.as_bytes()),
                    percent_encode(&self.bytes(20))
                ),
                _ => format!(
                    "{}={}",
                    percent_encode(name.as_bytes()),
                    percent_encode(value.as_bytes())
                ),
            };
            pairs.push(pair);
        }
        let separator = if self.chance(10) { "&&" } else { "&" };
        pairs.join(separator).into_bytes()
    }

    /// Text fields, maybe a file, maybe too many, maybe cut short; and its boundary.
    fn multipart_body(&mut self) -> (Vec<u8>, String) {
        let boundary = match self.rng.gen_range(0..5) {
            0 => "XyZ".to_owned(),
            1 => "a".to_owned(),
            2 => "----formdata-boundary-1234567890".to_owned(),
            3 => "-".repeat(self.rng.gen_range(1..70)),
            _ => format!("b{}", self.rng.gen::<u32>()),
        };
        let mut body = Vec::new();
        if self.chance(15) {
            // A preamble, which the server ignores: random bytes or short lines.
            let preamble = match self.rng.gen_range(0..3) {
                0 => self.bytes(100),
                1 => b"--\n".to_vec(),
                _ => b"\n-\n--\n\r".to_vec(),
            };
            body.extend(preamble);
            body.extend_from_slice(b"\r\n");
        }
        let mut value_ends = Vec::new();
        let fields = if self.chance(5) {
            70
        } else {
            self.rng.gen_range(1..6)
        };
        for _ in 0..fields {
            let name = self.pick(NAMES);
            let disposition = match self.rng.gen_range(0..8) {
                0 => format!("form-data; name=\"{name}\"; filename=\"a.txt\""),
                1 => "form-data".to_owned(),
                2 => format!("attachment; name={name}"),
                3 => format!(
                    "form-data; name*=UTF-8''{}",
                    percent_encode(name.as_bytes())
                ),
                _ => format!("form-data; name=\"{name}\""),
            };
            let value = self.value();
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n").as_bytes(),
            );
            if self.chance(10) {
                body.extend_from_slice(b"Content-Type: application/octet-stream\r\n");
            }
            body.extend_from_slice(b"\r\n");
            if self.chance(10) {
                body.extend(self.bytes(50));
            } else {
                body.extend_from_slice(value.as_bytes());
            }
            value_ends.push(body.len());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        match self.rng.gen_range(0..10) {
            0..=2 => {
                let cut = self.rng.gen_range(0..=body.len());
                body.truncate(cut);
            }
            3 | 4 => {
                // Cut within the line break after a value, where a parser has to look
                // ahead for the boundary.
                if let Some(&at) = value_ends.choose(&mut self.rng) {
                    body.truncate(at + self.rng.gen_range(1..=3));
                }
            }
            _ => {}
        }
        (body, boundary)
    }

    fn json_body(&mut self) -> Vec<u8> {
        let text = match self.rng.gen_range(0..7) {
            5 | 6 => self.client_metadata().to_string(),
            0 => format!(
                "{{\"grant_type\":\"password\",\"username\":\"{}\"}}",
                self.text(20)
            ),
            1 => "[".repeat(self.rng.gen_range(1..5000)),
            2 => "{\"a\":".to_owned(),
            3 => format!("{{\"client_id\":{}}}", self.rng.gen::<i64>()),
            _ => self.text(200),
        };
        text.into_bytes()
    }

    /// A registration body (RFC 7591): some metadata fields, each with a value of a random
    /// JSON type.
    fn client_metadata(&mut self) -> serde_json::Value {
        const FIELDS: &[&str] = &[
            "redirect_uris",
            "grant_types",
            "response_types",
            "token_endpoint_auth_method",
            "client_name",
            "client_uri",
            "logo_uri",
            "scope",
            "contacts",
            "post_logout_redirect_uris",
            "require_pushed_authorization_requests",
            "software_statement",
            "client_id",
            "client_secret",
        ];
        let mut object = serde_json::Map::new();
        for _ in 0..self.rng.gen_range(1..8) {
            let value = match self.rng.gen_range(0..7) {
                0 => serde_json::Value::from(self.pick(VALUES)),
                1 => serde_json::Value::from(vec![self.pick(VALUES), self.pick(VALUES)]),
                2 => serde_json::Value::from(vec![self.text(40)]),
                3 => serde_json::Value::from(self.rng.gen::<i64>()),
                4 => serde_json::Value::from(self.chance(50)),
                5 => serde_json::Value::Null,
                _ => serde_json::Value::from(self.text(60)),
            };
            object.insert(self.pick(FIELDS).to_owned(), value);
        }
        serde_json::Value::Object(object)
    }

    /// The request as bytes, its framing sometimes broken (bad request lines, header lines
    /// without a colon or with forbidden bytes, conflicting or false lengths, bad chunks),
    /// the framing it got, and whether the request is complete.
    fn raw(&mut self, parts: &Parts) -> (Vec<u8>, String, bool) {
        let mut head = Vec::new();
        let version = if self.chance(90) {
            "HTTP/1.1"
        } else {
            self.pick(&[
                "HTTP/1.0",
                "HTTP/2.0",
                "HTTP/9.9",
                "http/1.1",
                "HTTP/1.1 extra",
                "",
            ])
        };
        head.extend_from_slice(&parts.method);
        head.push(b' ');
        head.extend_from_slice(&parts.target);
        head.push(b' ');
        head.extend_from_slice(version.as_bytes());
        head.extend_from_slice(b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (name, value) in &parts.headers {
            head.extend_from_slice(name);
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        let length = parts.body.len();
        let mut body = parts.body.clone();
        let mut complete = true;
        let framing: &[u8] = match self.rng.gen_range(0..20) {
            0 => b"no colon in this line\r\n",
            1 => b"Bad Name: x\r\n",
            2 => b"X-Folded: a\r\n continued\r\n",
            3 => b"X-Bytes: \x00\x01\x7f\xff\r\n",
            4 => &format!(
                "Content-Length: {length}\r\nContent-Length: {}\r\n",
                length + 1
            )
            .into_bytes(),
            5 => {
                &format!("Content-Length: {length}\r\nTransfer-Encoding: chunked\r\n").into_bytes()
            }
            6 => {
                body = chunked(&parts.body);
                b"Transfer-Encoding: chunked\r\n"
            }
            7 => {
                body = b"zz\r\nabc\r\n0\r\n\r\n".to_vec();
                b"Transfer-Encoding: chunked\r\n"
            }
            8 => b"Content-Length: -1\r\n",
            9 => b"Content-Length: abc\r\n",
            10 => {
                complete = false;
                b"Transfer-Encoding: gzip, chunked\r\n"
            }
            // Declares more than it sends: answered 408 once the request timeout passes.
            11 if self.chance(25) => {
                complete = false;
                &format!("Content-Length: {}\r\n", length + 10).into_bytes()
            }
            12 => {
                complete = false;
                head = self.bytes(200);
                b""
            }
            _ => &format!("Content-Length: {length}\r\n").into_bytes(),
        };
        head.extend_from_slice(framing);
        let description = if head.starts_with(&parts.method) {
            String::from_utf8_lossy(framing).escape_debug().to_string()
        } else {
            "random bytes instead of a head".to_owned()
        };
        head.extend_from_slice(b"\r\n");
        head.extend_from_slice(&body);
        (head, description, complete)
    }
}

/// Every byte as `%XX`.
fn percent_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// `body` as chunks of up to 1000 bytes and the last chunk.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut framed = Vec::new();
    for chunk in body.chunks(1000) {
        framed.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(b"0\r\n\r\n");
    framed
}

/// The request as reqwest would send it, if it can: a token method, a printable ASCII
/// target, valid header names and values, no framing headers.
fn client_exchange(parts: &Parts, signed_in: bool) -> Option<Exchange> {
    let method = Method::from_bytes(&parts.method).ok()?;
    if method == Method::CONNECT || !parts.target.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let target = String::from_utf8(parts.target.clone()).ok()?;
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        let name = HeaderName::from_bytes(name).ok()?;
        if name == reqwest::header::CONTENT_LENGTH || name == reqwest::header::TRANSFER_ENCODING {
            return None;
        }
        headers.append(name, HeaderValue::from_bytes(value).ok()?);
    }
    Some(Exchange::Client {
        method,
        target,
        headers,
        body: parts.body.clone(),
        signed_in,
    })
}

/// `METHOD target {headers} body`, shortened and escaped.
fn describe(parts: &Parts) -> String {
    let short = |bytes: &[u8], max: usize| {
        let text = String::from_utf8_lossy(bytes);
        let escaped: String = text.escape_debug().take(max).collect();
        if escaped.len() < text.len() {
            format!("{escaped}...")
        } else {
            escaped
        }
    };
    let headers: Vec<String> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            format!(
                "{}: {} ({} bytes)",
                short(name, 30),
                short(value, 60),
                value.len()
            )
        })
        .collect();
    format!(
        "{} {} {{{}}} body {}, {} bytes: {}",
        short(&parts.method, 20),
        short(&parts.target, 160),
        headers.join("; "),
        parts.body_kind,
        parts.body.len(),
        short(&parts.body, 120),
    )
}

/// Whether the whole request is sent, so that the server has no reason to wait (408).
fn complete(exchange: &Exchange) -> bool {
    match exchange {
        Exchange::Client { .. } => true,
        Exchange::Raw { complete, .. } => *complete,
    }
}

/// What the server made of one request.
enum Outcome {
    Status(u16),
    NoAnswer(String),
}

async fn send(
    case: &Case,
    address: &str,
    authority: &str,
    signed_in: &reqwest::Client,
    anonymous: &reqwest::Client,
) -> Outcome {
    match &case.exchange {
        Exchange::Client {
            method,
            target,
            headers,
            body,
            signed_in: in_session,
        } => {
            let client = if *in_session { signed_in } else { anonymous };
            let sent = client
                .request(method.clone(), format!("{address}{target}"))
                .headers(headers.clone())
                .body(body.clone())
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            match sent {
                Ok(response) => Outcome::Status(response.status().as_u16()),
                Err(error) => Outcome::NoAnswer(format!("{error:?}")),
            }
        }
        Exchange::Raw { bytes, .. } => {
            let Ok(mut stream) = TcpStream::connect(authority).await else {
                return Outcome::NoAnswer("connect failed".into());
            };
            // The server may answer and close before everything is written.
            let _ = stream.write_all(bytes).await;
            match read_status(&mut stream, RAW_ANSWER_WITHIN).await {
                Some(status) => Outcome::Status(status),
                None => Outcome::NoAnswer("no status line".into()),
            }
        }
    }
}

/// Panics on any thread of this process since the hook went in: the servers run in it, and
/// a handler that panics drops its connection rather than answering 5xx. (A failing test
/// running alongside also shows here; its own failure fails the run anyway.)
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records every panic in [`PANICS`], then reports it as before.
fn record_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_owned();
            if let Ok(mut panics) = PANICS.lock() {
                panics.push(format!("{thread}: {info}"));
            }
            previous(info);
        }));
    });
}

fn panics_so_far() -> Vec<String> {
    PANICS
        .lock()
        .map(|panics| panics.clone())
        .unwrap_or_default()
}

/// The number in the variable `name`, or `default` when it is not set.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
        Err(_) => default,
    }
}

both_backends!(
    random_malformed_requests_to_every_route_never_get_5xx,
    |backend| async move {
        record_panics();
        let app = spawn_app_with(backend, &[("TESSERA_REQUEST_TIMEOUT", "1")]).await;
        let client = TestClient::confidential(
            &[
                "password",
                "refresh_token",
                "authorization_code",
                "client_credentials",
            ],
            "openid profile email",
        );
        let (user, client) = app.user_and_client(client).await;
        let tokens = client.password_tokens(&app, &user, "openid profile").await;
        let known = Known {
            client_id: client.id.clone(),
            client_secret: client.secret.clone().expect("a confidential client"),
            username: user.username.clone(),
            access_token: tokens.access.clone(),
            refresh_token: tokens.refresh_token().to_owned(),
        };
        let seed = setting("TESSERA_FUZZ_SEED", DEFAULT_SEED);
        let requests = setting("TESSERA_FUZZ_REQUESTS", DEFAULT_REQUESTS);
        let mut generator = Generator {
            rng: StdRng::seed_from_u64(seed),
            known: &known,
        };
        let cases: Vec<Case> = (0..requests).map(|_| generator.case()).collect();
        let anonymous = app.another_browser();
        let authority = authority(&app);
        let panics_before = panics_so_far().len();
        let memory_before = resident_kib();
        let started = Instant::now();

        let outcomes: Vec<(usize, Outcome)> = futures_util::stream::iter(cases.iter().enumerate())
            .map(|(i, case)| {
                let (address, authority) = (&app.address, &authority);
                let (signed_in, anonymous) = (&app.client, &anonymous.client);
                async move {
                    (
                        i,
                        send(case, address, authority, signed_in, anonymous).await,
                    )
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;

        let elapsed = started.elapsed();
        let memory_after = resident_kib();
        let mut offending = Vec::new();
        let mut unanswered = 0;
        for (i, outcome) in &outcomes {
            let case = &cases[*i];
            match outcome {
                Outcome::Status(status) if *status >= 500 => {
                    offending.push(format!("#{i} got {status}: {}", case.description));
                }
                Outcome::Status(408) if complete(&case.exchange) => {
                    offending.push(format!(
                        "#{i} got 408 for a complete request: {}",
                        case.description
                    ));
                }
                Outcome::Status(_) => {}
                Outcome::NoAnswer(why) => {
                    unanswered += 1;
                    let well_formed = match &case.exchange {
                        Exchange::Client { body, .. } => body.len() <= BODY_LIMIT,
                        Exchange::Raw { .. } => false,
                    };
                    if well_formed {
                        offending.push(format!("#{i} got no answer ({why}): {}", case.description));
                    }
                }
            }
        }
        let grown = memory_after.saturating_sub(memory_before);
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        for (_, outcome) in &outcomes {
            if let Outcome::Status(status) = outcome {
                *statuses.entry(*status).or_default() += 1;
            }
        }
        println!(
            "{backend:?} fuzz seed {seed} (TESSERA_FUZZ_SEED replays it): {} requests in {:.1} s, \
             {unanswered} unanswered malformed ones, statuses {statuses:?}, \
             resident memory {memory_before} -> {memory_after} KiB",
            outcomes.len(),
            elapsed.as_secs_f64()
        );
        let panics: Vec<String> = panics_so_far().split_off(panics_before);
        assert!(
            panics.is_empty(),
            "panics while fuzzing (seed {seed}):\n{}",
            panics.join("\n")
        );
        assert!(
            offending.is_empty(),
            "{} of {} requests got 5xx or no answer (seed {seed}):\n{}",
            offending.len(),
            outcomes.len(),
            offending.join("\n")
        );
        assert_eq!(app.get_page("/healthz").await.status(), StatusCode::OK);
        assert!(
            grown < MEMORY_GROWTH_KIB,
            "resident memory grew by {grown} KiB over {} requests",
            outcomes.len()
        );
    }
);
