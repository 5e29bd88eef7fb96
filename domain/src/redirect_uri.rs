//! Redirect URIs: validated at registration, matched exactly at authorization (RFC 9700 §2.1).

use std::fmt;

use url::Url;

/// A redirect URI a client registered: absolute, without a fragment (RFC 6749 §3.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

/// Schemes never accepted as a redirect URI: following one runs code or reads local files.
const FORBIDDEN_SCHEMES: [&str; 4] = ["javascript", "data", "file", "vbscript"];

impl RedirectUri {
    /// Validates a URI offered at registration; the error says what is wrong with it, as a
    /// predicate ("must use https ...") without echoing the URI.
    ///
    /// The URI must be absolute, without fragment or userinfo, and use `https`; `http` only
    /// on a loopback host (`127.0.0.1`, `[::1]`, `localhost`) unless `insecure_transport`;
    /// or a private-use scheme in reverse-domain form (RFC 8252 §7.1, `com.example.app:/cb`).
    /// `javascript:`, `data:`, `file:` and `vbscript:` are always refused.
    pub fn parse(text: &str, insecure_transport: bool) -> Result<Self, String> {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".into());
        }
        let url = Url::parse(text).map_err(|_| "must be an absolute URI")?;
        if url.fragment().is_some() {
            return Err("must not contain a fragment".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain a user name or password".into());
        }
        let scheme = url.scheme();
        if FORBIDDEN_SCHEMES.contains(&scheme) {
            return Err(format!("must not use the {scheme}: scheme"));
        }
        match scheme {
            "https" if url.host().is_some() => {}
            "http" if url.host().is_some() && (insecure_transport || is_loopback(&url)) => {}
            "http" => {
                return Err(
                    "must use https (http only on 127.0.0.1, [::1] or localhost)"
                        .into(),
                )
            }
            "https" => return Err("must name a host".into()),
            private if private.contains('.') && !url.cannot_be_a_base() => {}
            _ => {
                return Err(
                    "must use https, or a private-use scheme in reverse-domain form such as com.example.app:/callback"
                        .into(),
                )
            }
        }
        Ok(Self(text.to_owned()))
    }

    /// Wraps a URI that was validated when it was stored.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The URI exactly as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This URI with `params` added to its query (`fragment == false`) or as its fragment;
    /// with no params, the URI exactly as registered.
    pub fn with_params(&self, params: &[(&str, &str)], fragment: bool) -> String {
        if params.is_empty() {
            return self.0.clone();
        }
        let Ok(mut url) = Url::parse(&self.0) else {
            return self.0.clone();
        };
        if fragment {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            url.set_fragment(Some(&encoded));
        } else {
            url.query_pairs_mut().extend_pairs(params);
        }
        url.into()
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Chooses the redirect URI of an authorization request. `requested` must equal a registered
/// URI character for character; it may be omitted only when exactly one is registered and
/// the request is not an OpenID Connect request. `None` means no redirect is safe.
pub fn resolve<'a>(
    registered: &'a [RedirectUri],
    requested: Option<&str>,
    openid: bool,
) -> Option<&'a RedirectUri> {
    match requested {
        Some(requested) => registered.iter().find(|uri| uri.0 == requested),
        None if registered.len() == 1 && !openid => registered.first(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(list: &[&str]) -> Vec<RedirectUri> {
        list.iter()
            .map(|uri| RedirectUri::parse(uri, false).unwrap())
            .collect()
    }

    #[test]
    fn registration_accepts_https_loopback_http_and_reverse_domain_schemes() {
        for good in [
            "https://app.example/cb",
            "https://app.example:8443/cb?x=1",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "http://LOCALHOST/cb",
            "com.example.app:/oauth",
            "com.example.app:/oauth2redirect/provider",
        ] {
            assert!(RedirectUri::parse(good, false).is_ok(), "{good}");
        }
    }

    #[test]
    fn registration_refuses_weak_or_dangerous_uris() {
        for bad in [
            "/callback",
            "https://app.example/cb#frag",
            "https://user:pass@app.example/cb",
            "https://user@app.example/cb",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "vbscript:msgbox",
            "http://app.example/cb",
            "http://127.0.0.2.example/cb",
            "http://localhost.evil.example/cb",
            "myapp:/cb",
            "myapp://cb",
            "com.example.app:cb",
            "urn:ietf:wg:oauth:2.0:oob",
            "not a uri",
            "https://app.example/c b",
            "https://app.example/cb\nhttps://evil.example",
        ] {
            assert!(RedirectUri::parse(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn insecure_transport_allows_plain_http_but_never_dangerous_schemes() {
        assert!(RedirectUri::parse("http://app.example/cb", true).is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:,x",
            "vbscript:x",
        ] {
            assert!(RedirectUri::parse(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_do_not_echo_the_uri() {
        let error = RedirectUri::parse("http://evil.example/\"x", false).unwrap_err();
        assert!(!error.contains("evil"), "{error}");
    }

    #[test]
    fn matching_is_exact() {
        let registered = uris(&["https://app.example/cb", "https://app.example/other"]);
        let table = [
            ("https://app.example/cb", true),
            ("https://app.example/other", true),
            ("https://app.example/cb/", false),
            ("https://APP.example/cb", false),
            ("https://app.example/cb?x=1", false),
            ("https://app.example/c", false),
        ];
        for (requested, ok) in table {
            assert_eq!(
                resolve(&registered, Some(requested), false).is_some(),
                ok,
                "{requested}"
            );
        }
    }

    #[test]
    fn omitted_uri_is_allowed_only_for_one_registered_uri_outside_openid() {
        let one = uris(&["https://app.example/cb"]);
        let two = uris(&["https://app.example/cb", "https://app.example/other"]);
        assert_eq!(resolve(&one, None, false), one.first());
        assert_eq!(resolve(&one, None, true), None);
        assert_eq!(resolve(&two, None, false), None);
    }

    #[test]
    fn parameters_are_added_to_the_query_or_fragment() {
        let uri = RedirectUri::parse("https://app.example/cb?keep=1", false).unwrap();
        assert_eq!(
            uri.with_params(&[("code", "a b"), ("state", "s")], false),
            "https://app.example/cb?keep=1&code=a+b&state=s"
        );
        assert_eq!(
            uri.with_params(&[("access_token", "t")], true),
            "https://app.example/cb?keep=1#access_token=t"
        );
        let bare = RedirectUri::parse("https://app.example/bye", false).unwrap();
        assert_eq!(bare.with_params(&[], false), "https://app.example/bye");
    }
}
