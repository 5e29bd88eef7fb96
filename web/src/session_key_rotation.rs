//! Rotating the session cookie key without signing anyone out (DESIGN §5).
//!
//! actix-session's `SessionMiddleware` knows one key. [`SessionKeyRotation`] wraps it: when
//! the request's session cookie does not open under the current key but does under the
//! previous one (`TESSERA_SECRET_KEY_PREVIOUS`), the cookie is encrypted again under the
//! current key in the request's `Cookie` header, so the session middleware reads the session,
//! and the response sets the re-encrypted cookie (unless the session middleware sets or
//! removes the cookie itself), so the browser holds the current key from then on. A cookie
//! under neither key is left alone: the session middleware ignores it and the browser counts
//! as signed out. The cookies are `PrivateJar` cookies (AES-256-GCM with the cookie's name as
//! associated data), as actix-session's `CookieContentSecurity::Private` makes them.

use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use futures_util::future::{ready, LocalBoxFuture, Ready};

/// The middleware factory: wrap it around (after) the `SessionMiddleware` it serves.
#[derive(Clone)]
pub struct SessionKeyRotation {
    rotation: Option<Rc<Rotation>>,
}

/// The cookie and its two keys.
struct Rotation {
    /// The session cookie's name.
    cookie_name: String,
    /// The key the session middleware uses.
    current: Key,
    /// The key it replaced, still accepted.
    previous: Key,
    /// Whether the cookie carries `Secure`.
    secure: bool,
}

impl SessionKeyRotation {
    /// Accepts cookie `cookie_name` under `previous` as well as under `current`; with no
    /// previous key, it lets every request through untouched. A re-issued cookie is
    /// `HttpOnly`, `SameSite=Lax`, on path `/`, and `Secure` when `secure` is set, as the
    /// session middleware sets it.
    pub fn new(cookie_name: &str, current: Key, previous: Option<Key>, secure: bool) -> Self {
        Self {
            rotation: previous.map(|previous| {
                Rc::new(Rotation {
                    cookie_name: cookie_name.to_owned(),
                    current,
                    previous,
                    secure,
                })
            }),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionKeyRotation
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = SessionKeyRotationMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionKeyRotationMiddleware {
            service: Rc::new(service),
            rotation: self.rotation.clone(),
        }))
    }
}

/// The middleware around one service (see the [module documentation](self)).
pub struct SessionKeyRotationMiddleware<S> {
    service: Rc<S>,
    rotation: Option<Rc<Rotation>>,
}

impl<S, B> Service<ServiceRequest> for SessionKeyRotationMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let rotation = self.rotation.clone();
        // Inside the future, so that what it logs belongs to the request's span.
        Box::pin(async move {
            let reissue = rotation.as_ref().and_then(|rotation| {
                let value = rotation.reencrypt(request.headers_mut())?;
                Some((rotation.cookie_name.as_str(), rotation.set_cookie(value)?))
            });
            let mut response = service.call(request).await?;
            if let Some((name, set_cookie)) = reissue {
                let already_set = response
                    .response()
                    .cookies()
                    .any(|cookie| cookie.name() == name);
                if !already_set {
                    response.headers_mut().append(SET_COOKIE, set_cookie);
                }
            }
            Ok(response)
        })
    }
}

impl Rotation {
    /// When the first session cookie in `headers` opens under the previous key and not the
    /// current one, puts it back encrypted under the current key; returns that value.
    fn reencrypt(&self, headers: &mut HeaderMap) -> Option<String> {
        let mut pieces: Vec<String> = headers
            .get_all(COOKIE)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .map(str::trim)
            .filter(|piece| !piece.is_empty())
            .map(str::to_owned)
            .collect();
        let (position, presented) = pieces.iter().enumerate().find_map(|(position, piece)| {
            Cookie::parse_encoded(piece.clone())
                .ok()
                .filter(|cookie| cookie.name() == self.cookie_name)
                .map(|cookie| (position, cookie))
        })?;
        if open(&self.current, &presented).is_some() {
            return None;
        }
        let session = open(&self.previous, &presented)?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.current).add(Cookie::new(
            self.cookie_name.clone(),
            session.value().to_owned(),
        ));
        let value = jar.get(&self.cookie_name)?.value().to_owned();
        let piece = pieces.get_mut(position)?;
        *piece = Cookie::new(self.cookie_name.as_str(), value.as_str())
            .encoded()
            .to_string();
        let header = HeaderValue::from_str(&pieces.join("; ")).ok()?;
        headers.insert(COOKIE, header);
        tracing::debug!(
            "a session cookie under the previous key is re-issued under the current key"
        );
        Some(value)
    }

    /// The `Set-Cookie` value for the session cookie with encrypted `value`.
    fn set_cookie(&self, value: String) -> Option<HeaderValue> {
        let mut cookie = Cookie::new(self.cookie_name.clone(), value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(self.secure);
        cookie.set_path("/");
        HeaderValue::from_str(&cookie.encoded().to_string()).ok()
    }
}

/// `cookie` decrypted under `key`, if it was encrypted under it.
fn open(key: &Key, cookie: &Cookie<'static>) -> Option<Cookie<'static>> {
    let mut jar = CookieJar::new();
    jar.add_original(cookie.clone());
    jar.private(key).get(cookie.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::from(&[byte; 64])
    }

    fn rotation() -> Rotation {
        Rotation {
            cookie_name: "session".to_owned(),
            current: key(1),
            previous: key(2),
            secure: true,
        }
    }

    /// The `name` cookie holding `value`, encrypted under `key`, as a browser sends it.
    fn sealed(key: &Key, name: &str, value: &str) -> String {
        let mut jar = CookieJar::new();
        jar.private_mut(key)
            .add(Cookie::new(name.to_owned(), value.to_owned()));
        let cookie = jar.get(name).expect("just added").clone();
        Cookie::new(name.to_owned(), cookie.value().to_owned())
            .encoded()
            .to_string()
    }

    fn headers(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie).expect("ASCII"));
        headers
    }

    /// The session cookie of `headers`, decrypted under `key`.
    fn session_under(key: &Key, headers: &HeaderMap) -> Option<String> {
        let text = headers.get(COOKIE)?.to_str().ok()?;
        text.split(';')
            .filter_map(|piece| Cookie::parse_encoded(piece.trim().to_owned()).ok())
            .find(|cookie| cookie.name() == "session")
            .and_then(|cookie| open(key, &cookie))
            .map(|cookie| cookie.value().to_owned())
    }

    #[test]
    fn a_cookie_under_the_previous_key_is_put_back_under_the_current_one() {
        let rotation = rotation();
        let old = sealed(&rotation.previous, "session", r#"{"user_id":"u"}"#);
        let mut headers = headers(&format!("other=1; {old}; last=2"));
        let value = rotation.reencrypt(&mut headers).expect("re-encrypted");
        assert_eq!(
            session_under(&rotation.current, &headers).as_deref(),
            Some(r#"{"user_id":"u"}"#)
        );
        let text = headers
            .get(COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            text.starts_with("other=1; session=") && text.ends_with("; last=2"),
            "{text}"
        );
        let set_cookie = rotation.set_cookie(value).expect("a header value");
        let set_cookie = set_cookie.to_str().unwrap_or("");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
    }

    #[test]
    fn cookies_under_the_current_key_or_neither_key_are_left_alone() {
        let rotation = rotation();
        for cookie in [
            sealed(&rotation.current, "session", "{}"),
            sealed(&key(3), "session", "{}"),
            sealed(&rotation.previous, "another", "{}"),
            "session=not-encrypted-at-all".to_owned(),
        ] {
            let mut headers = headers(&cookie);
            assert_eq!(rotation.reencrypt(&mut headers), None, "{cookie}");
            assert_eq!(
                headers.get(COOKIE).and_then(|v| v.to_str().ok()),
                Some(cookie.as_str())
            );
        }
    }
}
