-- Rapport store, initial schema (SQLite dialect).
-- Twin of migrations/postgres/0001_init.sql: same tables, columns, constraints and
-- indexes. Dialect rules: money is INTEGER minor units; dates are ISO 'YYYY-MM-DD'
-- TEXT; timestamps are ISO-8601 UTC TEXT; booleans are 0/1; JSON attributes are TEXT.
-- Every customer-owned table carries customer_id so that it can be distributed by it.
-- Rows loaded from a file keep (source, source_key), a content fingerprint and the
-- import that loaded them.

CREATE TABLE import_file (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete')),
    read        INTEGER NOT NULL DEFAULT 0,
    loaded      INTEGER NOT NULL DEFAULT 0,
    merged      INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    UNIQUE (kind, sha256)
);

CREATE TABLE branch (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    city       TEXT,
    region     TEXT,
    attributes TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE customer (
    id               INTEGER PRIMARY KEY,
    name             TEXT,
    gender           TEXT,
    birth_date       TEXT,
    id_number        TEXT,
    phone            TEXT,
    email            TEXT,
    city             TEXT,
    occupation       TEXT,
    annual_income    INTEGER,
    risk_tolerance   TEXT,
    risk_assessed_on TEXT,
    branch_id        INTEGER REFERENCES branch (id),
    attributes       TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX customer_id_number_idx ON customer (id_number);
CREATE INDEX customer_phone_idx ON customer (phone);
CREATE INDEX customer_branch_idx ON customer (branch_id);

CREATE TABLE customer_source_key (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX customer_source_key_customer_idx ON customer_source_key (customer_id);

CREATE TABLE account (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    source_key   TEXT    NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    account_type TEXT    NOT NULL,
    opened_on    TEXT,
    closed_on    TEXT,
    currency     TEXT    NOT NULL,
    balance      INTEGER,
    credit_limit INTEGER,
    branch_id    INTEGER REFERENCES branch (id),
    attributes   TEXT,
    fingerprint  INTEGER NOT NULL,
    import_id    INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX account_customer_idx ON account (customer_id);

CREATE TABLE account_role (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES account (id),
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    role        TEXT    NOT NULL,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX account_role_account_idx ON account_role (account_id);
CREATE INDEX account_role_customer_idx ON account_role (customer_id);

-- The largest table (about 100 rows per customer) has no FOREIGN KEY constraints:
-- checking three per row would double the cost of a bulk load on PostgreSQL. The
-- store resolves account_id and customer_id (the account's owner) before inserting.
-- Every index costs about as much as the row itself in a bulk load, so it has only
-- what is read: the key (source, source_key) for idempotent imports and
-- (customer_id, booked_on) for per-customer history; by account, filter a
-- customer's rows (an account has one owner).
CREATE TABLE txn (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    source_key    TEXT    NOT NULL,
    account_id    INTEGER NOT NULL,
    customer_id   INTEGER NOT NULL,
    booked_on     TEXT    NOT NULL,
    amount        INTEGER NOT NULL,
    balance_after INTEGER,
    channel       TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    counterparty  TEXT,
    fingerprint   INTEGER NOT NULL,
    import_id     INTEGER NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX txn_customer_booked_idx ON txn (customer_id, booked_on);

CREATE TABLE product (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    risk_level  INTEGER NOT NULL CHECK (risk_level BETWEEN 1 AND 5),
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER REFERENCES import_file (id)
);

CREATE TABLE holding (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    product_id  INTEGER NOT NULL REFERENCES product (id),
    account_id  INTEGER REFERENCES account (id),
    opened_on   TEXT,
    closed_on   TEXT,
    amount      INTEGER,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX holding_customer_idx ON holding (customer_id);

CREATE TABLE loan (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,
    source_key      TEXT    NOT NULL,
    account_id      INTEGER NOT NULL REFERENCES account (id),
    customer_id     INTEGER NOT NULL REFERENCES customer (id),
    granted_on      TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    duration_months INTEGER NOT NULL,
    monthly_payment INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('good', 'bad')),
    days_past_due   INTEGER NOT NULL,
    fingerprint     INTEGER NOT NULL,
    import_id       INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX loan_customer_idx ON loan (customer_id);
CREATE INDEX loan_account_idx ON loan (account_id);

CREATE TABLE card (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    source_key   TEXT    NOT NULL,
    account_id   INTEGER NOT NULL REFERENCES account (id),
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    card_type    TEXT    NOT NULL,
    issued_on    TEXT,
    credit_limit INTEGER,
    fingerprint  INTEGER NOT NULL,
    import_id    INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX card_customer_idx ON card (customer_id);
CREATE INDEX card_account_idx ON card (account_id);

CREATE TABLE standing_order (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES account (id),
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    bank_to     TEXT,
    account_to  TEXT,
    amount      INTEGER NOT NULL,
    category    TEXT    NOT NULL,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX standing_order_customer_idx ON standing_order (customer_id);
CREATE INDEX standing_order_account_idx ON standing_order (account_id);

CREATE TABLE card_statement (
    id               INTEGER PRIMARY KEY,
    source           TEXT    NOT NULL,
    source_key       TEXT    NOT NULL,
    account_id       INTEGER NOT NULL REFERENCES account (id),
    customer_id      INTEGER NOT NULL REFERENCES customer (id),
    statement_month  TEXT    NOT NULL,
    bill_amount      INTEGER NOT NULL,
    paid_amount      INTEGER NOT NULL,
    repayment_status INTEGER NOT NULL,
    days_past_due    INTEGER NOT NULL,
    fingerprint      INTEGER NOT NULL,
    import_id        INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX card_statement_customer_month_idx ON card_statement (customer_id, statement_month);
CREATE INDEX card_statement_account_idx ON card_statement (account_id);

-- Labelled outcomes for validation and model training; never features.
-- source_key is the JSON array [customer_key, label], so (source, customer_key, label) is unique.
CREATE TABLE outcome (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    source_key   TEXT    NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    customer_key TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    value        INTEGER NOT NULL,
    observed_on  TEXT,
    fingerprint  INTEGER NOT NULL,
    import_id    INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX outcome_customer_idx ON outcome (customer_id);
CREATE INDEX outcome_label_idx ON outcome (label);

CREATE TABLE interaction (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    occurred_on TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    outcome     TEXT,
    note        TEXT,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX interaction_customer_idx ON interaction (customer_id, occurred_on);

CREATE TABLE service_case (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    opened_on   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    category    TEXT,
    severity    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    description TEXT,
    closed_on   TEXT,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX service_case_customer_idx ON service_case (customer_id, opened_on);

CREATE TABLE survey_response (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    survey      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    answered_on TEXT    NOT NULL,
    question    TEXT    NOT NULL,
    score       INTEGER,
    answer_text TEXT,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX survey_response_customer_idx ON survey_response (customer_id, answered_on);

CREATE TABLE consent (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    channel     TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    granted     BOOLEAN NOT NULL,
    recorded_on TEXT    NOT NULL,
    revoked_on  TEXT,
    fingerprint INTEGER NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES import_file (id),
    UNIQUE (source, source_key)
);
CREATE INDEX consent_customer_idx ON consent (customer_id);

-- Staff may also be created by the app (no import, no fingerprint); password_hash is set later.
CREATE TABLE staff_user (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    branch_id     INTEGER REFERENCES branch (id),
    password_hash TEXT,
    fingerprint   INTEGER,
    import_id     INTEGER REFERENCES import_file (id),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE quarantine (
    id        INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES import_file (id),
    line      INTEGER NOT NULL,
    field     TEXT,
    reason    TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    raw       TEXT    NOT NULL,
    UNIQUE (import_id, line)
);
CREATE INDEX quarantine_reason_idx ON quarantine (reason);

CREATE TABLE customer_merge (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    source      TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    explanation TEXT    NOT NULL,
    merged_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    import_id   INTEGER NOT NULL REFERENCES import_file (id)
);
CREATE INDEX customer_merge_customer_idx ON customer_merge (customer_id);

-- A field that was supplied but invalid, stored as missing (entity_id is the row's id).
CREATE TABLE field_flag (
    id        INTEGER PRIMARY KEY,
    entity    TEXT    NOT NULL,
    entity_id INTEGER NOT NULL,
    field     TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    import_id INTEGER NOT NULL REFERENCES import_file (id)
);
CREATE INDEX field_flag_entity_idx ON field_flag (entity, entity_id);
CREATE INDEX field_flag_field_idx ON field_flag (entity, field);
