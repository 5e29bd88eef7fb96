//! The `settings` table: server-wide values such as generated keys, shared by every process.

use diesel::prelude::*;
use tessera_domain::store::SettingStore;
use tessera_domain::StoreError;

use crate::error::from_diesel;
use crate::schema::settings;
use crate::Database;

impl SettingStore for Database {
    /// Inserts, ignores a `Conflict` (another process was first), then reads what is stored,
    /// so racing processes all return the first value written.
    fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let mut connection = self.connection()?;
        let inserted = diesel::insert_into(settings::table)
            .values((settings::name.eq(name), settings::value.eq(value)))
            .execute(&mut *connection)
            .map_err(from_diesel);
        match inserted {
            Ok(_) | Err(StoreError::Conflict) => {}
            Err(error) => return Err(error),
        }
        settings::table
            .find(name)
            .select(settings::value)
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?
            .ok_or_else(|| StoreError::Other(format!("setting {name:?} vanished after insert")))
    }
}
