-- The server's signing keys (web/src/keys). Keys are only added; which one signs and which
-- are published follows from `signs_from` (see tessera_domain::signing_key).
-- Keep in step with ../../sqlite/ (same version name, same columns) and persistence/src/schema.rs.

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    alg         TEXT NOT NULL,             -- 'RS256', 'ES256' or 'EdDSA'
    public_jwk  TEXT NOT NULL,             -- the public JWK as JSON
    private_key TEXT NOT NULL,             -- base64; plain PKCS#8 DER or sealed, see protection
    protection  TEXT NOT NULL,             -- 'plain' or 'aes256gcm'
    first_for   TEXT UNIQUE,               -- the alg for the first key of each alg, else NULL:
                                           -- processes starting together agree on one
    created_at  BIGINT NOT NULL,
    signs_from  BIGINT NOT NULL
);
