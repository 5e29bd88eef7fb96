//! Browser sessions (DESIGN §5 "sign-out"): every sign-in is recorded (id, user, started,
//! last seen, ended), so signing out ends it on every process, the account page lists a
//! user's sessions and can end them, and a password change ends all the others.
//!
//! The session cookie names the session; a session counts as signed in only while its
//! record is not ended and is younger than [`Policy::session_ttl`](crate::policy::Policy).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::accounts::SignIn;
use crate::error::StoreError;
use crate::provider::Provider;
use crate::store::Store;
use crate::user::{validate_password, User, UserId};

/// How stale `last_seen_at` may get before a request records a new one: a signed-in page
/// view writes at most once per interval.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// The longest user agent kept (the rest is cut off at a character boundary).
pub const MAX_USER_AGENT_CHARS: usize = 200;

/// A browser session's identifier, named by its cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub Uuid);

impl SessionId {
    /// A fresh random identifier.
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// Parses the text form; `None` when it is not a UUID.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(Self)
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One sign-in of one browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// Identifier.
    pub id: SessionId,
    /// Who signed in.
    pub user_id: UserId,
    /// When they signed in.
    pub started_at: DateTime<Utc>,
    /// The last request seen from it (to within [`TOUCH_INTERVAL`]).
    pub last_seen_at: DateTime<Utc>,
    /// When it was signed out, if it was.
    pub ended_at: Option<DateTime<Utc>>,
    /// The browser's `User-Agent`, shortened, to tell sessions apart on the account page.
    pub user_agent: Option<String>,
}

impl BrowserSession {
    /// Whether it still signs in at `now`: not ended and younger than `ttl`.
    pub fn is_live(&self, now: DateTime<Utc>, ttl: Duration) -> bool {
        self.ended_at.is_none() && now < self.started_at + ttl
    }

    /// Whether a request at `now` should record itself as the last seen.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at >= TOUCH_INTERVAL
    }
}

/// Which of a user's live sessions to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSelection {
    /// This one.
    One(SessionId),
    /// Every one but this (a password change keeps the browser that made it).
    AllExcept(SessionId),
    /// Every one ("sign out everywhere").
    All,
}

impl SessionSelection {
    /// Whether `id` is selected.
    pub fn includes(&self, id: SessionId) -> bool {
        match self {
            Self::One(one) => *one == id,
            Self::AllExcept(kept) => *kept != id,
            Self::All => true,
        }
    }
}

/// The outcome of a password change.
#[derive(Debug)]
pub enum PasswordChange {
    /// Changed; this many other sessions were ended.
    Changed {
        /// Sessions ended.
        ended: usize,
    },
    /// The current password was wrong (counted as a failed sign-in).
    WrongPassword,
    /// The new password breaks a rule; the text says which.
    Invalid(String),
    /// Too many failed sign-ins: try again after this many seconds.
    Locked {
        /// Seconds to wait.
        retry_after: u64,
    },
}

/// Keeps at most [`MAX_USER_AGENT_CHARS`] of a user agent; an empty one is none.
fn shortened(user_agent: Option<&str>) -> Option<String> {
    let user_agent = user_agent?.trim();
    (!user_agent.is_empty()).then(|| user_agent.chars().take(MAX_USER_AGENT_CHARS).collect())
}

impl<S: Store> Provider<S> {
    /// Records a new sign-in of `user` from a browser sending `user_agent`.
    pub fn start_session(
        &self,
        user: UserId,
        user_agent: Option<&str>,
    ) -> Result<BrowserSession, StoreError> {
        let now = self.now();
        let session = BrowserSession {
            id: SessionId::generate(),
            user_id: user,
            started_at: now,
            last_seen_at: now,
            ended_at: None,
            user_agent: shortened(user_agent),
        };
        self.store.insert_session(&session)?;
        Ok(session)
    }

    /// The user signed in under session `id`, if the session is live and belongs to `user`
    /// (the cookie names both) and the user still exists and is not disabled. Records the
    /// visit when the last one is older than [`TOUCH_INTERVAL`].
    pub fn session_user(&self, id: SessionId, user: UserId) -> Result<Option<User>, StoreError> {
        let now = self.now();
        let Some(session) = self.store.find_session(id)? else {
            return Ok(None);
        };
        if session.user_id != user || !session.is_live(now, self.policy.session_ttl) {
            return Ok(None);
        }
        if session.needs_touch(now) {
            self.store.touch_session(id, now)?;
        }
        Ok(self
            .store
            .find_user(user)?
            .filter(|user| !user.is_disabled()))
    }

    /// The user's live sessions, the most recently started first.
    pub fn sessions_of(&self, user: UserId) -> Result<Vec<BrowserSession>, StoreError> {
        let now = self.now();
        let mut sessions = self
            .store
            .live_sessions_of(user, now - self.policy.session_ttl)?;
        sessions.sort_by_key(|session| std::cmp::Reverse(session.started_at));
        Ok(sessions)
    }

    /// Ends the selected live sessions of `user`; returns how many ended. Another user's
    /// session is never selected.
    pub fn end_sessions(&self, user: UserId, which: SessionSelection) -> Result<usize, StoreError> {
        self.store.end_sessions(user, which, self.now())
    }

    /// Changes the password of the user signed in under `session`, after checking the
    /// current one through the sign-in throttle (a wrong one counts against the username
    /// and `address`); every other session of theirs ends.
    pub fn change_password(
        &self,
        user: &User,
        session: SessionId,
        current: &str,
        new: &str,
        address: Option<IpAddr>,
    ) -> Result<PasswordChange, StoreError> {
        match self.sign_in_throttled(&user.username, current, address)? {
            SignIn::User(signed_in) if signed_in.id == user.id => {}
            SignIn::User(_) | SignIn::Refused { .. } => return Ok(PasswordChange::WrongPassword),
            SignIn::Locked { retry_after } => return Ok(PasswordChange::Locked { retry_after }),
        }
        if let Err(rule) = validate_password(new) {
            return Ok(PasswordChange::Invalid(rule));
        }
        let hash = self.passwords.hash(new)?;
        self.store.set_password_hash(user.id, &hash)?;
        let ended = self.end_sessions(user.id, SessionSelection::AllExcept(session))?;
        Ok(PasswordChange::Changed { ended })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(started_at: DateTime<Utc>) -> BrowserSession {
        BrowserSession {
            id: SessionId::generate(),
            user_id: UserId::generate(),
            started_at,
            last_seen_at: started_at,
            ended_at: None,
            user_agent: None,
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_session_is_live_until_it_ends_or_its_lifetime_passes() {
        let ttl = Duration::hours(12);
        let mut live = session(t0());
        assert!(live.is_live(t0(), ttl));
        assert!(live.is_live(t0() + ttl - Duration::seconds(1), ttl));
        assert!(!live.is_live(t0() + ttl, ttl));
        live.ended_at = Some(t0());
        assert!(!live.is_live(t0(), ttl));
    }

    #[test]
    fn a_visit_is_recorded_once_a_minute() {
        let seen = session(t0());
        assert!(!seen.needs_touch(t0() + TOUCH_INTERVAL - Duration::seconds(1)));
        assert!(seen.needs_touch(t0() + TOUCH_INTERVAL));
    }

    #[test]
    fn a_selection_names_one_all_or_all_but_one() {
        let (a, b) = (SessionId::generate(), SessionId::generate());
        assert!(SessionSelection::One(a).includes(a));
        assert!(!SessionSelection::One(a).includes(b));
        assert!(!SessionSelection::AllExcept(a).includes(a));
        assert!(SessionSelection::AllExcept(a).includes(b));
        assert!(SessionSelection::All.includes(a));
    }

    #[test]
    fn user_agents_are_shortened_and_blank_ones_dropped() {
        assert_eq!(shortened(None), None);
        assert_eq!(shortened(Some("  ")), None);
        assert_eq!(shortened(Some("curl/8")).as_deref(), Some("curl/8"));
        let long = "é".repeat(MAX_USER_AGENT_CHARS + 10);
        assert_eq!(
            shortened(Some(&long)).map(|agent| agent.chars().count()),
            Some(MAX_USER_AGENT_CHARS)
        );
    }
}
