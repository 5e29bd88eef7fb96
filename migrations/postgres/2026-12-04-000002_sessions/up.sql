-- Browser sessions (tessera_domain::browser_session): one row per sign-in, so sign-out ends
-- it on every process and the account page lists a user's sessions.
-- Keep in step with the other backend's directory (same version name, same columns) and persistence/src/schema.rs.

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,                -- UUID, named by the session cookie
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ended_at     BIGINT,                                   -- signed out then
    user_agent   TEXT
);

CREATE INDEX sessions_user_id ON sessions (user_id);
-- The purge: ended sessions, and sessions past their lifetime.
CREATE INDEX sessions_ended_at ON sessions (ended_at);
CREATE INDEX sessions_started_at ON sessions (started_at);
