-- Contact policy (issue 6): a customer's do-not-disturb choice, and every send decision
-- with its reason (allowed or blocked), whoever asked.

CREATE TABLE contact_preference (
    customer_id     INTEGER PRIMARY KEY REFERENCES customer (id),
    do_not_disturb  BOOLEAN NOT NULL,
    reason          TEXT,
    updated_at      TEXT    NOT NULL,
    updated_by      TEXT    NOT NULL
);

CREATE TABLE contact_decision (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    channel      TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,          -- service | marketing
    send_at      TEXT    NOT NULL,          -- the local time the send was asked for
    decided_at   TEXT    NOT NULL,
    allowed      BOOLEAN NOT NULL,
    code         TEXT    NOT NULL,
    defer_until  TEXT,
    reason       TEXT    NOT NULL,
    context      TEXT    NOT NULL,          -- check | campaign:<id> | …
    decided_by   TEXT    NOT NULL
);
CREATE INDEX contact_decision_customer_idx ON contact_decision (customer_id, id);
