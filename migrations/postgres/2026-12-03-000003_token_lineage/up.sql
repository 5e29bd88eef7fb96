-- Which rotation minted a token: the digest of the refresh token it replaced (NULL for
-- tokens not minted by a refresh), so a retry inside the refresh grace period can revoke the
-- pair an earlier attempt minted and the chain never forks.
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

ALTER TABLE tokens ADD COLUMN parent_digest TEXT;
CREATE INDEX tokens_parent_digest ON tokens (parent_digest);
