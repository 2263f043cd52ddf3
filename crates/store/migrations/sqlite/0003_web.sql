-- The web application: staff sign-in (sessions, API tokens, login throttling),
-- the audit log, and the marker an erased (anonymised) customer carries.

ALTER TABLE staff_user ADD COLUMN language TEXT;             -- zh-CN | en; NULL = server default
ALTER TABLE staff_user ADD COLUMN active BOOLEAN NOT NULL DEFAULT 1;

-- A signed-in browser session; the cookie carries the token, the store only its SHA-256.
CREATE TABLE web_session (
    token_hash    TEXT    PRIMARY KEY,
    staff_user_id INTEGER NOT NULL REFERENCES staff_user (id),
    csrf_token    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL
);
CREATE INDEX web_session_user_idx ON web_session (staff_user_id);

-- A bearer token for machines; shown once at creation, stored as SHA-256.
CREATE TABLE api_token (
    id            INTEGER PRIMARY KEY,
    staff_user_id INTEGER NOT NULL REFERENCES staff_user (id),
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at    TEXT    NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

-- Every sign-in attempt, for throttling and for the audit trail.
CREATE TABLE login_attempt (
    id        INTEGER PRIMARY KEY,
    username  TEXT    NOT NULL,
    client    TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX login_attempt_username_idx ON login_attempt (username, at);
CREATE INDEX login_attempt_client_idx ON login_attempt (client, at);

-- Append-only: who read or changed what, when, from where.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor_id    INTEGER REFERENCES staff_user (id),
    actor       TEXT    NOT NULL,            -- username, or system:<job>
    role        TEXT    NOT NULL,
    action      TEXT    NOT NULL,            -- e.g. customer.view, customer.unmask, alert.ack
    entity      TEXT    NOT NULL,
    entity_id   TEXT,
    customer_id INTEGER,
    client      TEXT,
    detail      TEXT    NOT NULL DEFAULT '{}' -- JSON, never personal data
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_customer_idx ON audit_log (customer_id, at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);

-- Set when a customer's personal data was erased on request (PIPL / GDPR).
ALTER TABLE customer ADD COLUMN erased_at TEXT;
