-- How a client's access tokens look ('opaque' or 'jwt', tessera_domain::jwt_access_token);
-- NULL follows the server's TESSERA_ACCESS_TOKEN_FORMAT.
-- Keep in step with the other backend's migration of the same name and persistence/src/schema.rs.

ALTER TABLE clients ADD COLUMN access_token_format TEXT;
