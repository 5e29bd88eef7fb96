//! Claiming a single-use credential (an authorization code, a refresh token, and later a
//! device code): the store marks it used in one conditional write whose row count picks the
//! one winner among concurrent claims, and stores the tokens issued for it in the same
//! transaction. The domain decides beforehand whether the credential may be used at all.

/// What a claim did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim<T> {
    /// This call claimed the credential; the tokens were stored with it. Carries the record
    /// as claimed.
    Won(T),
    /// It was already claimed (by an earlier or a concurrent call): nothing was stored.
    /// Carries the record as it is now.
    Taken(T),
    /// Unknown, expired, or another client's: nothing changed.
    Unusable,
}
