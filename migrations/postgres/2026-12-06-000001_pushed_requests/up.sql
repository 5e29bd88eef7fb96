-- Pushed authorization requests (RFC 9126, tessera_domain::pushed_request): the digest of the
-- random part of each request_uri, the client that pushed it, its parameters as a JSON array
-- of [name, value] pairs, and its single use (used_at, set by one conditional UPDATE). The
-- purge deletes expired rows (found by the index on expires_at).
-- clients.require_pushed_requests: the client's require_pushed_authorization_requests; NULL
-- follows the server's TESSERA_REQUIRE_PAR.
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

CREATE TABLE pushed_requests (
    digest     TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX pushed_requests_client_id ON pushed_requests (client_id);
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);

ALTER TABLE clients ADD COLUMN require_pushed_requests BOOLEAN;
