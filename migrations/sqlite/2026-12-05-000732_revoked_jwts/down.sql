DROP TABLE revoked_jwts;
