DROP TABLE settings;
DROP TABLE tokens;
DROP TABLE authorization_codes;
DROP TABLE grants;
DROP TABLE clients;
DROP TABLE users;
