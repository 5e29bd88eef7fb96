-- OpenID Connect: grants become authorizations (the family of tokens one sign-in and consent
-- issued, with the sign-in time and nonce an ID token repeats); consents are remembered per
-- user and client; users may have an email address; clients choose how ID tokens are signed and
-- where RP-initiated logout may return.
-- Keep in step with ../../postgres/ (same version name, same columns) and persistence/src/schema.rs.

ALTER TABLE grants RENAME TO authorizations;
ALTER TABLE authorizations ADD COLUMN auth_time BIGINT;
ALTER TABLE authorizations ADD COLUMN nonce TEXT;
ALTER TABLE authorizations ADD COLUMN session_id TEXT; -- the browser session that approved it
DROP INDEX grants_client_id;
DROP INDEX grants_user_id;
CREATE INDEX authorizations_client_id ON authorizations (client_id);
CREATE INDEX authorizations_user_id ON authorizations (user_id);

ALTER TABLE tokens RENAME COLUMN grant_id TO authorization_id;
DROP INDEX tokens_grant_id;
CREATE INDEX tokens_authorization_id ON tokens (authorization_id);

ALTER TABLE authorization_codes RENAME COLUMN grant_id TO authorization_id;
DROP INDEX authorization_codes_grant_id;
CREATE INDEX authorization_codes_authorization_id ON authorization_codes (authorization_id);
UPDATE authorizations SET nonce = (
    SELECT codes.nonce FROM authorization_codes codes
    WHERE codes.authorization_id = authorizations.id AND codes.nonce IS NOT NULL
    LIMIT 1
);
ALTER TABLE authorization_codes DROP COLUMN nonce;

ALTER TABLE users ADD COLUMN email TEXT;

ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT ''; -- one URI per line

CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_id ON consents (client_id);
