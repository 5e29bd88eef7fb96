//! bcrypt for user passwords, behind the domain's [`PasswordHasher`]. Slow on purpose: only
//! ever called off the async executor.

use tessera_domain::{PasswordHasher, StoreError};

/// Hashes with bcrypt at a fixed cost (`TESSERA_BCRYPT_COST`).
#[derive(Debug, Clone, Copy)]
pub struct BcryptHasher {
    /// The bcrypt cost, 4 to 31.
    pub cost: u32,
}

impl PasswordHasher for BcryptHasher {
    fn hash(&self, password: &str) -> Result<String, StoreError> {
        bcrypt::hash(password, self.cost)
            .map_err(|error| StoreError::Other(format!("bcrypt failed: {error}")))
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        bcrypt::verify(password, hash).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let hasher = BcryptHasher { cost: 4 };
        let hash = hasher.hash("correct horse").unwrap();
        assert!(hasher.verify("correct horse", &hash));
        assert!(!hasher.verify("wrong horse", &hash));
        assert!(!hasher.verify("correct horse", "not a hash"));
    }
}
