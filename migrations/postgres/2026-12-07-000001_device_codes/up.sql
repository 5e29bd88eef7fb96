-- Device authorizations (RFC 8628, tessera_domain::device_code): the digest of each
-- device_code, the digest of its normalized user_code (unique), the client that asked, the
-- scope, the polling interval and last poll (slow_down), the user's answer (status pending,
-- approved or denied, with the user and their auth_time), and its single redemption
-- (redeemed_at, set by one conditional UPDATE). The purge deletes expired rows (found by the
-- index on expires_at).
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

CREATE TABLE device_codes (
    digest           TEXT PRIMARY KEY NOT NULL,
    user_code_digest TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    interval_seconds BIGINT NOT NULL,
    last_polled_at   BIGINT,
    status           TEXT NOT NULL,
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    auth_time        BIGINT,
    redeemed_at      BIGINT
);
CREATE INDEX device_codes_client_id ON device_codes (client_id);
CREATE INDEX device_codes_user_id ON device_codes (user_id);
CREATE INDEX device_codes_expires_at ON device_codes (expires_at);
