-- Analytics results: scoring runs, health scores, segments and their members,
-- RM assignment, early-warning alerts with their history.

-- One run of `rapport score` (or the nightly job) for an as-of date.
CREATE TABLE score_run (
    id          INTEGER PRIMARY KEY,
    as_of       TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    scorecard   TEXT    NOT NULL,          -- scorecard name and content hash
    customers   INTEGER NOT NULL DEFAULT 0,
    summary     TEXT    NOT NULL DEFAULT '{}' -- JSON: distribution, migration, stage timings
);
CREATE INDEX score_run_as_of_idx ON score_run (as_of);

-- The health score of one customer as of one date (a re-run replaces it).
CREATE TABLE health_score (
    as_of       TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    run_id      INTEGER NOT NULL REFERENCES score_run (id),
    score       REAL    NOT NULL,
    band        TEXT    NOT NULL,
    factors     TEXT    NOT NULL,          -- JSON array, top factors first
    PRIMARY KEY (as_of, customer_id)
);
CREATE INDEX health_score_customer_idx ON health_score (customer_id, as_of);

-- A saved segment: rule (expression), tier, cluster or holiday need.
CREATE TABLE segment (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    updated_at  TEXT    NOT NULL
);

CREATE TABLE segment_membership (
    as_of       TEXT    NOT NULL,
    segment_id  INTEGER NOT NULL REFERENCES segment (id),
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    PRIMARY KEY (as_of, segment_id, customer_id)
);
CREATE INDEX segment_membership_customer_idx ON segment_membership (customer_id, as_of);

-- The relationship manager looking after a customer.
CREATE TABLE rm_assignment (
    customer_id   INTEGER PRIMARY KEY REFERENCES customer (id),
    staff_user_id INTEGER NOT NULL REFERENCES staff_user (id),
    assigned_at   TEXT    NOT NULL
);
CREATE INDEX rm_assignment_staff_idx ON rm_assignment (staff_user_id);

-- An early-warning alert; raised_on is the as-of date at which it was observed.
CREATE TABLE alert (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    rule        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    raised_on   TEXT    NOT NULL,
    raised_at   TEXT    NOT NULL,
    origin      TEXT    NOT NULL,          -- batch | live
    message     TEXT    NOT NULL,
    evidence    TEXT    NOT NULL,          -- JSON: features and triggering transactions
    assignee_id INTEGER REFERENCES staff_user (id),
    queue       TEXT,                      -- when no RM: branch:<code> or central
    status      TEXT    NOT NULL DEFAULT 'new',
    disposition TEXT,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX alert_customer_rule_idx ON alert (customer_id, rule, raised_on);
CREATE INDEX alert_status_idx ON alert (status, severity);
CREATE INDEX alert_assignee_idx ON alert (assignee_id, status);

-- Every status change of an alert, with who made it and why.
CREATE TABLE alert_event (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alert (id),
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    note        TEXT
);
CREATE INDEX alert_event_alert_idx ON alert_event (alert_id);
