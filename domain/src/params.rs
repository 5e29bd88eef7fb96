//! Request parameters as received (query string or form body), read with RFC 6749 §3.1's rule
//! that no parameter may be sent twice, and the strict decoding of one form-encoded name or
//! value.

use crate::error::OAuthError;

/// The name/value pairs of one request, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Wraps decoded pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The pairs, in the order sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The value of `name`: `None` if absent or empty, `invalid_request` if sent more than once.
    pub fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "the parameter {name} was sent more than once"
            )));
        }
        Ok(first
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty()))
    }

    /// The value of `name`, which must be present exactly once.
    pub fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.single(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("the parameter {name} is missing")))
    }

    /// Every value of `name` (for list fields such as `redirect_uris`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

/// Decodes one `application/x-www-form-urlencoded` name or value: `+` is a space, `%XX` a
/// byte, anything else itself. `None` when the bytes are not UTF-8 once decoded (refused
/// rather than replaced, so values round-trip byte for byte).
pub fn decode_form_component(part: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = part
        .iter()
        .map(|&byte| if byte == b'+' { b' ' } else { byte })
        .collect();
    String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_repeated_parameter_is_invalid_request() {
        let error = params(&[("scope", "a"), ("scope", "b")])
            .single("scope")
            .unwrap_err();
        assert_eq!(error.code, crate::ErrorCode::InvalidRequest);
    }

    #[test]
    fn empty_values_count_as_absent() {
        let params = params(&[("state", ""), ("code", "x")]);
        assert_eq!(params.single("state").unwrap(), None);
        assert_eq!(params.required("code").unwrap(), "x");
        assert!(params.required("state").is_err());
    }

    #[test]
    fn form_components_decode_plus_and_escapes_and_refuse_invalid_utf8() {
        assert_eq!(
            decode_form_component(b"a+b%2B%26c%C3%A9&=").as_deref(),
            Some("a b+&c\u{e9}&=")
        );
        assert_eq!(decode_form_component(b"100%").as_deref(), Some("100%"));
        assert_eq!(decode_form_component(b"%FF"), None);
        assert_eq!(decode_form_component(b"\xc3"), None);
    }
}
