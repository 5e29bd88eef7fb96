-- Operators can disable a user (`tessera user disable`): the time it was done, NULL while the
-- account is enabled. Disabling also ends the user's sessions and revokes their
-- authorizations, in the same transaction (persistence/src/store/users.rs).
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

ALTER TABLE users ADD COLUMN disabled_at BIGINT;
