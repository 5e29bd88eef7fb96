//! [`KeyError`]: why the signing keys could not be used. A key sealed under another secret
//! names `TESSERA_SECRET_KEY`, so start-up ends with one line saying what to fix.

use tessera_domain::StoreError;

/// Why the keys could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key was sealed under a different secret.
    #[error(
        "the private signing key {kid} was encrypted under a different TESSERA_SECRET_KEY; \
         start with the secret it was stored under"
    )]
    WrongSecretKey {
        /// The key that does not open.
        kid: String,
    },
    /// A key is sealed but no secret is configured.
    #[error("the private signing key {kid} is encrypted; set TESSERA_SECRET_KEY to the secret it was stored under")]
    SecretKeyMissing {
        /// The key that cannot be opened.
        kid: String,
    },
    /// A stored key does not read back.
    #[error("corrupt signing key: {0}")]
    Corrupt(String),
    /// A cryptographic operation failed.
    #[error("signing key failure: {0}")]
    Crypto(String),
}

impl From<KeyError> for StoreError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Store(error) => error,
            other => StoreError::Other(other.to_string()),
        }
    }
}
