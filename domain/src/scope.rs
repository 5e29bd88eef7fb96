//! Scopes (RFC 6749 §3.3): space-separated, case-sensitive, order-free sets of tokens.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::OAuthError;

/// A set of scope tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-separated scope string; each token must use RFC 6749's `scope-token` characters.
    pub fn parse(text: &str) -> Result<Self, OAuthError> {
        let mut tokens = BTreeSet::new();
        for token in text.split(' ').filter(|token| !token.is_empty()) {
            if !token.chars().all(is_scope_char) {
                return Err(OAuthError::invalid_scope(format!(
                    "the scope {:?} contains a character RFC 6749 does not allow",
                    token.chars().take(40).collect::<String>()
                )));
            }
            tokens.insert(token.to_owned());
        }
        Ok(Self(tokens))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `token` is in the set.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// Every token of `self` and of `other`.
    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    /// Whether every token of `self` is also in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The tokens, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Resolves a requested scope against what the client may ask for: an absent or empty
    /// request means everything the client is registered for; anything beyond it is `invalid_scope`.
    pub fn requested_within(requested: Option<&str>, allowed: &Scope) -> Result<Scope, OAuthError> {
        let requested = match requested {
            Some(text) => Scope::parse(text)?,
            None => Scope::default(),
        };
        if requested.is_empty() {
            return Ok(allowed.clone());
        }
        match requested.0.iter().find(|token| !allowed.contains(token)) {
            Some(token) => Err(OAuthError::invalid_scope(format!(
                "the scope {token:?} is not registered for this client"
            ))),
            None => Ok(requested),
        }
    }
}

fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(text: &str) -> Scope {
        Scope::parse(text).unwrap()
    }

    #[test]
    fn parsing_ignores_order_duplicates_and_extra_spaces() {
        assert_eq!(scope("profile  email profile"), scope("email profile"));
        assert_eq!(scope("b a").to_string(), "a b");
    }

    #[test]
    fn characters_outside_rfc_6749_are_invalid_scope() {
        for bad in ["a\"b", "a\\b", "caf\u{e9}", "tab\there"] {
            let error = Scope::parse(bad).unwrap_err();
            assert_eq!(error.code, crate::ErrorCode::InvalidScope, "{bad:?}");
        }
    }

    #[test]
    fn requested_scope_must_be_registered_and_defaults_to_all_registered() {
        let allowed = scope("profile email");
        assert_eq!(Scope::requested_within(None, &allowed).unwrap(), allowed);
        assert_eq!(
            Scope::requested_within(Some(""), &allowed).unwrap(),
            allowed
        );
        assert_eq!(
            Scope::requested_within(Some("email"), &allowed).unwrap(),
            scope("email")
        );
        let error = Scope::requested_within(Some("profile admin"), &allowed).unwrap_err();
        assert_eq!(error.code, crate::ErrorCode::InvalidScope);
    }
}
