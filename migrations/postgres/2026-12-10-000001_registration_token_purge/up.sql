-- An index for the purge of used-up initial access tokens (uses_left = 0), so that each batch
-- it deletes is found by the index rather than a scan of the table; expired ones are found by
-- registration_tokens_expires_at.
-- Keep in step with the other backend's migration of the same name.

CREATE INDEX registration_tokens_uses_left ON registration_tokens (uses_left);
