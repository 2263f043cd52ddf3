-- Campaigns and the outbox (issue 6): a campaign's spec and status, every audience member's
-- arm (treatment, control or blocked with the reason), the outbox the dispatcher sends from
-- (one message per campaign and customer, an idempotency key, retries with back-off, a lease
-- so several dispatchers share it), each message's history, and the call and meeting tasks
-- the phone and meeting channels create for RMs and the call centre.

CREATE TABLE campaign (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL UNIQUE,
    name_en      TEXT    NOT NULL,
    name_zh      TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    product_code TEXT,
    spec         TEXT    NOT NULL,          -- the campaign file (TOML) as saved
    status       TEXT    NOT NULL,          -- draft | launched | cancelled
    created_at   TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    launched_at  TEXT,
    launched_by  TEXT,
    launch_counts TEXT                      -- JSON: the plan's counts at launch
);

CREATE TABLE campaign_member (
    campaign_id  INTEGER NOT NULL REFERENCES campaign (id),
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    arm          TEXT    NOT NULL,          -- treatment | control | blocked
    channel      TEXT,
    block_reason TEXT,
    reason       TEXT,
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX campaign_member_customer_idx ON campaign_member (customer_id);

CREATE TABLE outbox_message (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER REFERENCES campaign (id),
    customer_id     INTEGER NOT NULL REFERENCES customer (id),
    channel         TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    address         TEXT    NOT NULL,
    lang            TEXT    NOT NULL,
    subject         TEXT,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL,       -- queued | sent | delivered | failed | responded | cancelled
    scheduled_at    TEXT    NOT NULL,       -- local time, not before
    window_end      TEXT    NOT NULL,       -- local time, not after
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,       -- local time
    lease_until     TEXT,                   -- UTC
    claimed_by      TEXT,
    last_error      TEXT,
    provider_id     TEXT,
    queued_at       TEXT    NOT NULL,
    sent_at         TEXT,
    delivered_at    TEXT,
    failed_at       TEXT,
    responded_at    TEXT,
    response        TEXT
);
CREATE INDEX outbox_message_due_idx ON outbox_message (status, next_attempt_at);
CREATE INDEX outbox_message_customer_idx ON outbox_message (customer_id, purpose);
CREATE INDEX outbox_message_campaign_idx ON outbox_message (campaign_id, status);

CREATE TABLE outbox_event (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES outbox_message (id),
    at          TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    detail      TEXT
);
CREATE INDEX outbox_event_message_idx ON outbox_event (message_id, id);

CREATE TABLE contact_task (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,          -- call | meeting
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    message_id   INTEGER REFERENCES outbox_message (id),
    campaign_id  INTEGER REFERENCES campaign (id),
    assignee     TEXT    NOT NULL,          -- an RM's username, branch:<code> or call_centre
    due_at       TEXT    NOT NULL,
    script       TEXT    NOT NULL,
    video_link   TEXT,
    status       TEXT    NOT NULL,          -- open | done | cancelled
    outcome      TEXT,
    created_at   TEXT    NOT NULL,
    done_at      TEXT
);
CREATE INDEX contact_task_assignee_idx ON contact_task (assignee, status, due_at);

-- One-time survey links: the token is stored as its SHA-256; used_at is set once when answered.
CREATE TABLE survey_invitation (
    id           INTEGER PRIMARY KEY,
    token_sha256 TEXT    NOT NULL UNIQUE,
    survey       TEXT    NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    campaign_id  INTEGER REFERENCES campaign (id),
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    used_at      TEXT
);
CREATE INDEX survey_invitation_customer_idx ON survey_invitation (customer_id);
