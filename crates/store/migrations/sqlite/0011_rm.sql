-- Relationship management (C12): the contact log of RMs (call, visit, video or message, with
-- its outcome, at a local time), optional per-RM capacity overrides for key customers, and at
-- most one open cadence task per customer (the cadence run relies on it to stay idempotent).

CREATE TABLE contact_log (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    staff        TEXT    NOT NULL,          -- username of who made the contact
    kind         TEXT    NOT NULL,          -- call | visit | video | message
    outcome      TEXT    NOT NULL,          -- reached | no_answer | interested | declined | follow_up | completed | other
    note         TEXT,
    at           TEXT    NOT NULL,          -- local time
    recorded_at  TEXT    NOT NULL           -- UTC
);
CREATE INDEX contact_log_customer_idx ON contact_log (customer_id, at);

CREATE TABLE rm_capacity (
    staff_user_id     INTEGER PRIMARY KEY REFERENCES staff_user (id),
    max_key_customers INTEGER NOT NULL
);

CREATE UNIQUE INDEX contact_task_open_cadence_idx ON contact_task (customer_id)
    WHERE kind = 'cadence' AND status = 'open';
