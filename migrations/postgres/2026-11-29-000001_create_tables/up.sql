-- Tessera's tables. Ids and digests are TEXT, times are epoch seconds (BIGINT).
-- Keep in step with ../../sqlite/ (same version name, same columns) and persistence/src/schema.rs.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY NOT NULL,
    owner_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    secret_digest  TEXT,
    name           TEXT NOT NULL,
    uri            TEXT,
    redirect_uris  TEXT NOT NULL, -- one URI per line
    grant_types    TEXT NOT NULL, -- space separated wire names
    response_types TEXT NOT NULL, -- space separated wire names
    scope          TEXT NOT NULL,
    auth_method    TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX clients_owner_id ON clients (owner_id);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX grants_client_id ON grants (client_id);
CREATE INDEX grants_user_id ON grants (user_id);

CREATE TABLE authorization_codes (
    digest                TEXT PRIMARY KEY NOT NULL,
    grant_id              TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    redirect_uri          TEXT,
    scope                 TEXT NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    used_at               BIGINT
);
CREATE INDEX authorization_codes_grant_id ON authorization_codes (grant_id);

CREATE TABLE tokens (
    digest     TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL, -- 'access' or 'refresh'
    grant_id   TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    user_id    TEXT,
    scope      TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    rotated_at BIGINT
);
CREATE INDEX tokens_grant_id ON tokens (grant_id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
