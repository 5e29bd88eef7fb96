//! Registering clients and letting their owners (and operators) manage them.

use crate::client::{Client, ClientOrigin, ClientRegistration, Edited, Registered};
use crate::error::{Error, StoreError};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::store::Store;
use crate::user::UserId;

impl<S: Store> Provider<S> {
    /// Validates and stores a new client from the pages or the command line; returns it with
    /// its secret and registration access token in plain text (shown once).
    pub fn register_client(
        &self,
        origin: ClientOrigin,
        registration: ClientRegistration,
    ) -> Result<Registered, Error> {
        let registered = registration.register(origin, self.now(), &self.policy)?;
        self.store.insert_client(&registered.client)?;
        Ok(registered)
    }

    /// Every client, oldest first (`tessera client list`).
    pub fn all_clients(&self) -> Result<Vec<Client>, StoreError> {
        self.store.all_clients()
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
        let Some(client) = self.owned_client(owner, client_id)? else {
            return Ok(None);
        };
        self.rotate_secret_of(client, Some(owner))
    }

    /// The client with this `client_id`, whoever owns it (for operators).
    pub fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        self.store.find_client(client_id)
    }

    /// Validates `registration` ([`ClientRegistration::edit`]) and makes it the metadata of
    /// the client `client_id`, if `owner` registered it or `owner` is `None` (an operator);
    /// `Ok(None)` if there is no such client (of that owner). Returns the client as stored,
    /// with its new secret when it has just become confidential.
    pub fn edit_client(
        &self,
        owner: Option<UserId>,
        client_id: &str,
        registration: ClientRegistration,
    ) -> Result<Option<Edited>, Error> {
        let current = self
            .store
            .find_client(client_id)?
            .filter(|client| owner.is_none_or(|owner| client.owner_id == Some(owner)));
        let Some(current) = current else {
            return Ok(None);
        };
        let edited = registration.edit(&current, &self.policy)?;
        if !self.store.edit_client(&edited.client, owner)? {
            return Ok(None);
        }
        Ok(Some(edited))
    }

    /// Deletes the client, whoever owns it, with everything issued to it (`tessera client
    /// delete`); false if there is none.
    pub fn delete_any_client(&self, client_id: &str) -> Result<bool, StoreError> {
        self.store.delete_any_client(client_id)
    }

    /// Gives a confidential client, whoever owns it, a new secret (`tessera client
    /// rotate-secret`); `None` if there is no such client or it is public.
    pub fn rotate_any_client_secret(
        &self,
        client_id: &str,
    ) -> Result<Option<(Client, Secret)>, StoreError> {
        let Some(client) = self.store.find_client(client_id)? else {
            return Ok(None);
        };
        self.rotate_secret_of(client, None)
    }

    /// Gives `client`, as read, a new secret, storing only its digest (so an edit made
    /// since the read is kept), if it is still a confidential client of `owner` (any owner
    /// when `None`); `None` otherwise.
    fn rotate_secret_of(
        &self,
        mut client: Client,
        owner: Option<UserId>,
    ) -> Result<Option<(Client, Secret)>, StoreError> {
        let Some(secret) = client.rotate_secret() else {
            return Ok(None);
        };
        if !self
            .store
            .set_client_secret(&client.id, owner, &secret.digest())?
        {
            return Ok(None);
        }
        Ok(Some((client, secret)))
    }
}
