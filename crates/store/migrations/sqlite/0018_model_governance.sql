-- Model governance (issue 18): a model version is activated or rolled back only when a
-- second person approves the request (the requester cannot), and every scoring of a model
-- records how far the scored population drifted from the model's training population.

-- A request to change the active version of a kind, and its decision.
CREATE TABLE model_change_request (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    action          TEXT    NOT NULL,          -- activate | rollback
    model_id        INTEGER REFERENCES model_version (id),  -- the version to activate (activate only)
    requested_by    TEXT    NOT NULL,
    requested_at    TEXT    NOT NULL,          -- UTC
    status          TEXT    NOT NULL DEFAULT 'pending',   -- pending | approved | rejected
    decided_by      TEXT,
    decided_at      TEXT,                      -- UTC
    result_model_id INTEGER REFERENCES model_version (id)   -- the version active after approval
);
CREATE INDEX model_change_request_status_idx ON model_change_request (status, id);

-- The population a model version scored as of one date against its training population:
-- its share in each band of the training scores (cut at their deciles) and the PSI.
CREATE TABLE model_drift (
    model_id    INTEGER NOT NULL REFERENCES model_version (id),
    as_of       TEXT    NOT NULL,
    population  INTEGER NOT NULL,
    psi         REAL    NOT NULL,
    shares      TEXT    NOT NULL,              -- JSON array: share of the population per band
    PRIMARY KEY (model_id, as_of)
);
