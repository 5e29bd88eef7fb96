-- Indexes for the purge of rows past their use (tessera_domain::purge), so that each batch it
-- deletes is found by a range of an index rather than a scan of the table.
-- Keep in step with the other backend's migration of the same name.

-- Unused codes by expiry (used_at IS NULL, expires_at <= ?); used codes by use (used_at <= ?).
CREATE INDEX authorization_codes_used_at_expires_at ON authorization_codes (used_at, expires_at);
-- Unrotated tokens by expiry (rotated_at IS NULL, expires_at <= ?); rotated ones by rotation.
CREATE INDEX tokens_rotated_at_expires_at ON tokens (rotated_at, expires_at);
-- Authorizations by age; their codes and tokens are found by the authorization_id indexes.
CREATE INDEX authorizations_created_at ON authorizations (created_at);
-- Throttle counters whose window is over.
CREATE INDEX throttles_window_started_at ON throttles (window_started_at);
