-- The deny-list of JWT access tokens revoked before their expiry (tessera_domain::jwt_access_token):
-- the tokens themselves are stored nowhere, so revocation records their `jti` until they
-- expire, when the purge deletes the entry (found by the index on expires_at).
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

CREATE TABLE revoked_jwts (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_jwts_expires_at ON revoked_jwts (expires_at);
