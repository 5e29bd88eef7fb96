-- Dynamic client registration (RFC 7591) and management (RFC 7592).
-- clients: the metadata a consent page may show (logo_uri, tos_uri, policy_uri; contacts one
-- per line), the SHA-256 digest of the registration access token (NULL for clients made before
-- registration existed: they cannot be managed over HTTP), and whether the client registered
-- itself at /oauth/register.
-- registration_tokens: initial access tokens for TESSERA_REGISTRATION=token, by digest, with
-- an optional expiry and an optional count of uses left (NULL: unlimited); a registration
-- spends one use with one conditional UPDATE. The purge deletes expired and used-up rows.
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

ALTER TABLE clients ADD COLUMN logo_uri TEXT;
ALTER TABLE clients ADD COLUMN tos_uri TEXT;
ALTER TABLE clients ADD COLUMN policy_uri TEXT;
ALTER TABLE clients ADD COLUMN contacts TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN registration_token_digest TEXT;
ALTER TABLE clients ADD COLUMN registered_dynamically BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE registration_tokens (
    digest     TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    uses_left  INTEGER
);
CREATE INDEX registration_tokens_expires_at ON registration_tokens (expires_at);
