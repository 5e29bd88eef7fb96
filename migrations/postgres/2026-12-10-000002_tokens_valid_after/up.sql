-- users.tokens_valid_after: when the user was last disabled (`tessera user disable`), kept
-- when they are enabled again; a token issued to the user at or before it (to the second)
-- never works again, even one that is stored nowhere (a JWT access token without a family).
-- Users disabled now get their disabled_at.
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT;
UPDATE users SET tokens_valid_after = disabled_at WHERE disabled_at IS NOT NULL;
