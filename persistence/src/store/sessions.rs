//! The `sessions` table: one row per browser sign-in. Ending sessions is one `UPDATE` of the
//! rows not yet ended, so each ends once whichever process asks.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tessera_domain::browser_session::{BrowserSession, SessionId, SessionSelection};
use tessera_domain::store::SessionStore;
use tessera_domain::user::UserId;
use tessera_domain::StoreError;

use super::{epoch, optional_time, time, uuid};
use crate::error::from_diesel;
use crate::schema::sessions;
use crate::Database;

const TABLE: &str = "sessions";

/// A row of `sessions`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    started_at: i64,
    last_seen_at: i64,
    ended_at: Option<i64>,
    user_agent: Option<String>,
}

impl From<&BrowserSession> for SessionRow {
    fn from(session: &BrowserSession) -> Self {
        Self {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            started_at: epoch(session.started_at),
            last_seen_at: epoch(session.last_seen_at),
            ended_at: session.ended_at.map(epoch),
            user_agent: session.user_agent.clone(),
        }
    }
}

impl TryFrom<SessionRow> for BrowserSession {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: SessionId(uuid(TABLE, &row.id)?),
            user_id: UserId(uuid(TABLE, &row.user_id)?),
            started_at: time(TABLE, row.started_at)?,
            last_seen_at: time(TABLE, row.last_seen_at)?,
            ended_at: optional_time(TABLE, row.ended_at)?,
            user_agent: row.user_agent,
        })
    }
}

impl SessionStore for Database {
    fn insert_session(&self, session: &BrowserSession) -> Result<(), StoreError> {
        let row = SessionRow::from(session);
        self.write_statement(move |connection| {
            diesel::insert_into(sessions::table)
                .values(row)
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn find_session(&self, id: SessionId) -> Result<Option<BrowserSession>, StoreError> {
        let mut connection = self.connection()?;
        sessions::table
            .find(id.to_string())
            .select(SessionRow::as_select())
            .first(&mut *connection)
            .optional()
            .map_err(from_diesel)?
            .map(BrowserSession::try_from)
            .transpose()
    }

    fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (id, now) = (id.to_string(), epoch(now));
        self.write_statement(move |connection| {
            diesel::update(sessions::table.find(id))
                .set(sessions::last_seen_at.eq(now))
                .execute(connection)
                .map(drop)
                .map_err(from_diesel)
        })
    }

    fn live_sessions_of(
        &self,
        user: UserId,
        started_after: DateTime<Utc>,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        let mut connection = self.connection()?;
        sessions::table
            .filter(sessions::user_id.eq(user.to_string()))
            .filter(sessions::ended_at.is_null())
            .filter(sessions::started_at.gt(epoch(started_after)))
            .select(SessionRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?
            .into_iter()
            .map(BrowserSession::try_from)
            .collect()
    }

    fn all_live_sessions(
        &self,
        started_after: DateTime<Utc>,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        let mut connection = self.connection()?;
        sessions::table
            .filter(sessions::ended_at.is_null())
            .filter(sessions::started_at.gt(epoch(started_after)))
            .select(SessionRow::as_select())
            .load(&mut *connection)
            .map_err(from_diesel)?
            .into_iter()
            .map(BrowserSession::try_from)
            .collect()
    }

    fn end_sessions(
        &self,
        user: UserId,
        which: SessionSelection,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let (user, now) = (user.to_string(), epoch(now));
        self.write_statement(move |connection| {
            let live = sessions::table
                .filter(sessions::user_id.eq(user))
                .filter(sessions::ended_at.is_null());
            let ended = sessions::ended_at.eq(Some(now));
            match which {
                SessionSelection::One(id) => {
                    diesel::update(live.filter(sessions::id.eq(id.to_string())))
                        .set(ended)
                        .execute(connection)
                }
                SessionSelection::AllExcept(kept) => {
                    diesel::update(live.filter(sessions::id.ne(kept.to_string())))
                        .set(ended)
                        .execute(connection)
                }
                SessionSelection::All => diesel::update(live).set(ended).execute(connection),
            }
            .map_err(from_diesel)
        })
    }
}
