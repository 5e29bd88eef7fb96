//! Resource owners: the people who sign in and approve clients.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;

/// A user's stable identifier (the `sub` of their tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub Uuid);

impl UserId {
    /// A fresh random identifier.
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Unique sign-in name.
    pub username: String,
    /// The password's bcrypt hash.
    pub password_hash: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// An email address the user gave, if any (the OpenID `email` claim; not verified).
    pub email: Option<String>,
    /// When an operator disabled the account (`tessera user disable`); a disabled user
    /// cannot sign in and their tokens stop working.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When the account was last disabled, kept when it is enabled again: no token issued to
    /// the user until then works again. Stored ones are revoked at the disable; a JWT access
    /// token is refused by its `iat` ([`Self::accepts_token_issued_at`]).
    pub tokens_valid_after: Option<DateTime<Utc>>,
}

impl User {
    /// Whether an operator disabled the account.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    /// Whether a token issued to the user at `issued_at` (a JWT's `iat`) may act for them
    /// now: the account is not disabled, and was not disabled since. `iat` counts whole
    /// seconds, so a token of the very second of the last disable is refused, even one
    /// issued after an enable within that second.
    pub fn accepts_token_issued_at(&self, issued_at: DateTime<Utc>) -> bool {
        !self.is_disabled()
            && self
                .tokens_valid_after
                .is_none_or(|after| issued_at.timestamp() > after.timestamp())
    }
}

/// bcrypt reads at most 72 bytes; longer passwords are refused rather than truncated.
pub const MAX_PASSWORD_BYTES: usize = 72;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Checks a new username: 1 to 40 characters of letters, digits, `.`, `_` and `-`.
pub fn validate_username(username: &str) -> Result<(), String> {
    let length = username.chars().count();
    if !(1..=40).contains(&length) {
        return Err("The username must be 1 to 40 characters long.".into());
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("The username may contain only letters, digits, '.', '_' and '-'.".into());
    }
    Ok(())
}

/// Checks an email address given at sign-up: one `@` with text on both sides, a dot in the
/// domain, no spaces or control characters, at most 254 bytes (RFC 5321 §4.5.3.1.3).
pub fn validate_email(email: &str) -> Result<(), String> {
    let invalid = || "The email address is not valid.".to_owned();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(())
        }
        _ => Err(invalid()),
    }
}

/// Checks a new password: at least 8 characters and at most 72 bytes.
pub fn validate_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "The password must be at least {MIN_PASSWORD_CHARS} characters long."
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "The password must be at most {MAX_PASSWORD_BYTES} bytes long (bcrypt's limit)."
        ));
    }
    Ok(())
}

/// Hashes and checks passwords (bcrypt in production). Implementations are slow on purpose:
/// call them off any async executor.
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password that passed [`validate_password`].
    fn hash(&self, password: &str) -> Result<String, StoreError>;
    /// Whether `password` matches `hash`; false for a malformed hash.
    fn verify(&self, password: &str, hash: &str) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_over_72_bytes_are_refused_not_truncated() {
        assert!(validate_password(&"a".repeat(72)).is_ok());
        assert!(validate_password(&"a".repeat(73)).is_err());
        // 25 three-byte characters are 75 bytes.
        assert!(validate_password(&"\u{20ac}".repeat(25)).is_err());
        assert!(validate_password("short").is_err());
    }

    #[test]
    fn usernames_are_short_and_plain() {
        assert!(validate_username("alice_01").is_ok());
        for bad in ["", "a b", "<script>", &"x".repeat(41)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
