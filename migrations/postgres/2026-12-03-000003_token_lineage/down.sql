DROP INDEX tokens_parent_digest;
ALTER TABLE tokens DROP COLUMN parent_digest;
