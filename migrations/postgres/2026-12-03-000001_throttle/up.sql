-- Brute-force failure counters (tessera_domain::throttle), shared by every process.
-- Keep in step with the other backend's directory (same version name, same columns) and persistence/src/schema.rs.

CREATE TABLE throttles (
    key               TEXT PRIMARY KEY NOT NULL,  -- 'user:<name>', 'addr:<ip>', 'client:<id>', 'device:<session>'
    failures          BIGINT NOT NULL,            -- failures since window_started_at
    window_started_at BIGINT NOT NULL,
    locked_until      BIGINT,                     -- refused until then
    lockouts          BIGINT NOT NULL             -- lockouts so far (each doubles the delay)
);
