-- Sign-in and credentials (issue 16): service accounts for machines, forced password
-- changes after an administrator's reset, who created each API token, and the index the
-- per-(user, client) sign-in back-off reads.

-- person: a member of staff who signs in; service: a machine identity with its own role,
-- no password, no web sign-in, holding API tokens an administrator creates.
ALTER TABLE staff_user ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
-- Set by an administrator's password reset: the next session can only change the password.
ALTER TABLE staff_user ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- Who created the token (NULL: the system at the console, or a token older than this column).
ALTER TABLE api_token ADD COLUMN created_by BIGINT REFERENCES staff_user (id);

CREATE INDEX login_attempt_user_client_idx ON login_attempt (username, client, at);
