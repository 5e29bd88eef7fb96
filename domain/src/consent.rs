//! Remembered consent: what a user agreed to share with a client. Allow on the consent page
//! records it; a later authorization request within it skips the page (unless
//! `prompt=consent`), and `prompt=none` may then succeed. Withdrawing it revokes every token
//! the client holds for the user.

use chrono::{DateTime, Utc};

use crate::client::Client;
use crate::error::StoreError;
use crate::provider::Provider;
use crate::scope::Scope;
use crate::store::Store;
use crate::user::UserId;

/// A user's standing approval of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Who approved.
    pub user_id: UserId,
    /// The approved client.
    pub client_id: String,
    /// Every scope approved so far.
    pub scope: Scope,
    /// When it was last given or widened.
    pub granted_at: DateTime<Utc>,
}

impl Consent {
    /// Whether a request for `scope` needs no new approval.
    pub fn covers(&self, scope: &Scope) -> bool {
        scope.is_subset_of(&self.scope)
    }
}

/// An approved client as the account page lists it.
#[derive(Debug, Clone)]
pub struct ApprovedClient {
    /// The standing consent.
    pub consent: Consent,
    /// The client it was given to.
    pub client: Client,
}

impl<S: Store> Provider<S> {
    /// Records that `user_id` approved `scope` for `client_id`, adding to what they approved
    /// before.
    pub fn remember_consent(
        &self,
        user_id: UserId,
        client_id: &str,
        scope: &Scope,
    ) -> Result<(), StoreError> {
        let earlier = self.store.find_consent(user_id, client_id)?;
        let scope = match earlier {
            Some(earlier) => earlier.scope.union(scope),
            None => scope.clone(),
        };
        self.store.record_consent(&Consent {
            user_id,
            client_id: client_id.to_owned(),
            scope,
            granted_at: self.now(),
        })
    }

    /// The clients `user_id` approved, most recent first.
    pub fn approved_clients(&self, user_id: UserId) -> Result<Vec<ApprovedClient>, StoreError> {
        let mut approved = Vec::new();
        for consent in self.store.consents_of(user_id)? {
            if let Some(client) = self.store.find_client(&consent.client_id)? {
                approved.push(ApprovedClient { consent, client });
            }
        }
        approved.sort_by_key(|approved| std::cmp::Reverse(approved.consent.granted_at));
        Ok(approved)
    }

    /// Forgets `user_id`'s consent for `client_id` and revokes every token the client holds
    /// for the user; false if there was no such consent.
    pub fn withdraw_consent(&self, user_id: UserId, client_id: &str) -> Result<bool, StoreError> {
        self.store.withdraw_consent(user_id, client_id, self.now())
    }
}
