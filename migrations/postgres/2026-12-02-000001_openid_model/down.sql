DROP TABLE consents;
ALTER TABLE users DROP COLUMN email;
ALTER TABLE clients DROP COLUMN id_token_signed_response_alg;
ALTER TABLE clients DROP COLUMN post_logout_redirect_uris;

ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
UPDATE authorization_codes SET nonce = (
    SELECT authorizations.nonce FROM authorizations
    WHERE authorizations.id = authorization_codes.authorization_id
);
DROP INDEX authorization_codes_authorization_id;
ALTER TABLE authorization_codes RENAME COLUMN authorization_id TO grant_id;
CREATE INDEX authorization_codes_grant_id ON authorization_codes (grant_id);

DROP INDEX tokens_authorization_id;
ALTER TABLE tokens RENAME COLUMN authorization_id TO grant_id;
CREATE INDEX tokens_grant_id ON tokens (grant_id);

DROP INDEX authorizations_client_id;
DROP INDEX authorizations_user_id;
ALTER TABLE authorizations DROP COLUMN session_id;
ALTER TABLE authorizations DROP COLUMN nonce;
ALTER TABLE authorizations DROP COLUMN auth_time;
ALTER TABLE authorizations RENAME TO grants;
CREATE INDEX grants_client_id ON grants (client_id);
CREATE INDEX grants_user_id ON grants (user_id);
