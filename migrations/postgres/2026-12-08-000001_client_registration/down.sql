DROP TABLE registration_tokens;
ALTER TABLE clients DROP COLUMN registered_dynamically;
ALTER TABLE clients DROP COLUMN registration_token_digest;
ALTER TABLE clients DROP COLUMN contacts;
ALTER TABLE clients DROP COLUMN policy_uri;
ALTER TABLE clients DROP COLUMN tos_uri;
ALTER TABLE clients DROP COLUMN logo_uri;
