//! Redirect URIs: validated at registration, matched exactly at authorization (RFC 9700 §2.1).

use std::fmt;

use url::Url;

/// A redirect URI a client registered: absolute, without a fragment (RFC 6749 §3.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Validates a URI offered at registration; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "{text:?} must not contain spaces or control characters"
            ));
        }
        let url = Url::parse(text).map_err(|_| format!("{text:?} is not an absolute URI"))?;
        if url.fragment().is_some() {
            return Err(format!("{text:?} must not contain a fragment"));
        }
        if url.cannot_be_a_base() && url.scheme() != "urn" {
            return Err(format!("{text:?} is not a usable redirect URI"));
        }
        if url.scheme() == "javascript" || url.scheme() == "data" {
            return Err(format!("{text:?} uses a forbidden scheme"));
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
            .map(|uri| RedirectUri::parse(uri).unwrap())
            .collect()
    }

    #[test]
    fn registration_refuses_relative_uris_fragments_and_script_schemes() {
        for bad in [
            "/callback",
            "https://app.example/cb#frag",
            "javascript:alert(1)",
            "not a uri",
            "https://app.example/c b",
            "https://app.example/cb\nhttps://evil.example",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
        assert!(RedirectUri::parse("http://127.0.0.1:8080/cb").is_ok());
        assert!(RedirectUri::parse("com.example.app:/oauth").is_ok());
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
        let uri = RedirectUri::parse("https://app.example/cb?keep=1").unwrap();
        assert_eq!(
            uri.with_params(&[("code", "a b"), ("state", "s")], false),
            "https://app.example/cb?keep=1&code=a+b&state=s"
        );
        assert_eq!(
            uri.with_params(&[("access_token", "t")], true),
            "https://app.example/cb?keep=1#access_token=t"
        );
        let bare = RedirectUri::parse("https://app.example/bye").unwrap();
        assert_eq!(bare.with_params(&[], false), "https://app.example/bye");
    }
}
