-- Predictive models and matching (issue 5): the model registry with its activation
-- history, batch model scores with their explanations, every suitability decision,
-- the next best actions proposed per customer and what became of them.

-- One trained model version. kind: churn | default | propensity:<category> | extract:<name>.
-- artefact is the TrainedModel JSON (binning, coefficients or trees); metrics the validation.
CREATE TABLE model_version (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    algorithm    TEXT    NOT NULL,
    trained_at   TEXT    NOT NULL,
    trained_by   TEXT    NOT NULL,
    source       TEXT    NOT NULL,          -- JSON: windows and label definition, or the extract
    metrics      TEXT    NOT NULL,          -- JSON: the validation summary
    artefact     TEXT    NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (kind, version)
);

-- Every activation, newest last; a rollback re-activates the version active before.
CREATE TABLE model_activation (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    model_id     INTEGER NOT NULL REFERENCES model_version (id),
    action       TEXT    NOT NULL,          -- activate | rollback
    at           TEXT    NOT NULL,
    by_user      TEXT    NOT NULL
);
CREATE INDEX model_activation_kind_idx ON model_activation (kind, id);

-- The latest batch score of each customer by one model version (a re-run replaces it).
CREATE TABLE model_score (
    model_id     INTEGER NOT NULL REFERENCES model_version (id),
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    as_of        TEXT    NOT NULL,
    probability  REAL    NOT NULL,
    points       REAL,                      -- scorecard points; NULL for trees
    reasons      TEXT    NOT NULL,          -- JSON array: points per feature or top tree features
    PRIMARY KEY (model_id, customer_id)
);
CREATE INDEX model_score_customer_idx ON model_score (customer_id);

-- Every suitability decision where a product was proposed, offered or sold.
CREATE TABLE suitability_decision (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    product_code TEXT    NOT NULL,
    context      TEXT    NOT NULL,          -- propose | offer | sell
    decided_at   TEXT    NOT NULL,
    allowed      BOOLEAN NOT NULL,
    code         TEXT    NOT NULL,
    product_risk INTEGER NOT NULL,
    tolerance    TEXT,
    assessed_on  TEXT,
    reason       TEXT    NOT NULL,
    decided_by   TEXT    NOT NULL
);
CREATE INDEX suitability_decision_customer_idx ON suitability_decision (customer_id, id);

-- A next best action proposed to staff for one customer. Batch proposals still
-- 'proposed' are replaced by the next run; offered / accepted / declined ones stay.
CREATE TABLE recommendation (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    as_of        TEXT    NOT NULL,
    generated_at TEXT    NOT NULL,
    rank         INTEGER NOT NULL,
    action       TEXT    NOT NULL,          -- retention | reassessment | sale
    product_code TEXT,
    priority     REAL    NOT NULL,
    detail       TEXT    NOT NULL,          -- JSON: sources, factors, reasons in zh and en, channels
    status       TEXT    NOT NULL DEFAULT 'proposed',
    status_at    TEXT    NOT NULL
);
CREATE INDEX recommendation_customer_idx ON recommendation (customer_id, status);

-- What happened to a recommendation: offered, accepted or declined, by whom and how.
CREATE TABLE recommendation_outcome (
    id                INTEGER PRIMARY KEY,
    recommendation_id INTEGER NOT NULL REFERENCES recommendation (id),
    outcome           TEXT    NOT NULL,     -- offered | accepted | declined
    recorded_at       TEXT    NOT NULL,
    recorded_by       TEXT    NOT NULL,
    channel           TEXT,
    note              TEXT
);
CREATE INDEX recommendation_outcome_rec_idx ON recommendation_outcome (recommendation_id);
