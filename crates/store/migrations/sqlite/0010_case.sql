-- Cases and complaints handled in Rapport (issue 6): intake from the UI or the API, the
-- workflow state, the SLA clock's inputs (local times: first response, resolution, pauses while
-- waiting on the customer), every change as an event, escalations raised once per target and
-- level, root causes, and the improvement items root causes roll up into. Imported historical
-- cases stay in service_case.

CREATE TABLE support_case (
    id                  INTEGER PRIMARY KEY,
    customer_id         INTEGER NOT NULL REFERENCES customer (id),
    intake              TEXT    NOT NULL,     -- web | api | cli
    kind                TEXT    NOT NULL,     -- complaint | request | inquiry
    category            TEXT    NOT NULL,
    severity            TEXT    NOT NULL,     -- low | medium | high | critical
    state               TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    assignee            TEXT,
    supervisor          TEXT,
    opened_at           TEXT    NOT NULL,     -- local time
    first_response_at   TEXT,
    resolved_at         TEXT,
    closed_at           TEXT,
    root_cause          TEXT,
    resolution          TEXT,
    reopen_count        INTEGER NOT NULL DEFAULT 0,
    created_by          TEXT    NOT NULL,
    created_at          TEXT    NOT NULL      -- UTC
);
CREATE INDEX support_case_customer_idx ON support_case (customer_id);
CREATE INDEX support_case_state_idx ON support_case (state, opened_at);

CREATE TABLE case_event (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES support_case (id),
    at          TEXT    NOT NULL,             -- local time
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    detail      TEXT
);
CREATE INDEX case_event_case_idx ON case_event (case_id, id);

CREATE TABLE case_pause (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES support_case (id),
    from_at     TEXT    NOT NULL,
    to_at       TEXT
);
CREATE INDEX case_pause_case_idx ON case_pause (case_id);

CREATE TABLE case_escalation (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES support_case (id),
    target      TEXT    NOT NULL,             -- first_response | resolution
    level       TEXT    NOT NULL,             -- warning | breach
    due         TEXT    NOT NULL,
    raised_at   TEXT    NOT NULL,
    escalated_to TEXT   NOT NULL,
    reason      TEXT    NOT NULL,
    UNIQUE (case_id, target, level)
);

CREATE TABLE improvement_item (
    id          INTEGER PRIMARY KEY,
    root_cause  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    status      TEXT    NOT NULL,             -- open | in_progress | done
    note        TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX improvement_item_cause_idx ON improvement_item (root_cause);
