//! Registering clients and letting their owners manage them.

use crate::client::{Client, ClientRegistration};
use crate::error::{Error, StoreError};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::store::Store;
use crate::user::UserId;

impl<S: Store> Provider<S> {
    /// Validates and stores a new client; returns it with its secret in plain text (shown once).
    pub fn register_client(
        &self,
        owner: Option<UserId>,
        registration: ClientRegistration,
    ) -> Result<(Client, Option<Secret>), Error> {
        let (client, secret) = registration.register(owner, self.now(), &self.policy)?;
        self.store.insert_client(&client)?;
        Ok((client, secret))
    }

    /// The clients `owner` registered.
    pub fn clients_of(&self, owner: UserId) -> Result<Vec<Client>, StoreError> {
        self.store.clients_of(owner)
    }

    /// The client, if `owner` registered it; others' clients are indistinguishable from
    /// unknown ones.
    pub fn owned_client(
        &self,
        owner: UserId,
        client_id: &str,
    ) -> Result<Option<Client>, StoreError> {
        Ok(self
            .store
            .find_client(client_id)?
            .filter(|client| client.owner_id == Some(owner)))
    }

    /// Deletes a client `owner` registered, with everything issued to it; false if none.
    pub fn delete_client(&self, owner: UserId, client_id: &str) -> Result<bool, StoreError> {
        self.store.delete_client(client_id, owner)
    }

    /// Gives a confidential client of `owner` a new secret; `None` if there is no such client
    /// or it is public.
    pub fn rotate_client_secret(
        &self,
        owner: UserId,
        client_id: &str,
    ) -> Result<Option<(Client, Secret)>, StoreError> {
        let Some(mut client) = self.owned_client(owner, client_id)? else {
            return Ok(None);
        };
        let Some(secret) = client.rotate_secret() else {
            return Ok(None);
        };
        let Some(digest) = client.secret_digest else {
            return Ok(None);
        };
        if !self.store.set_client_secret(client_id, owner, &digest)? {
            return Ok(None);
        }
        Ok(Some((client, secret)))
    }
}
