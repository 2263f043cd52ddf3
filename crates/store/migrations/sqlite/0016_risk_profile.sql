-- Risk-tolerance assessments (issue 17, item 8): every questionnaire a customer answered
-- through Rapport (C1-C5 with its answers, total score and date), kept as history. The latest
-- one is also written to customer.risk_tolerance / risk_assessed_on in the same transaction,
-- which is what the suitability rule reads; before the first recorded assessment the imported
-- value is copied here once (source 'import') so the history keeps it.

CREATE TABLE risk_assessment (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customer (id),
    source         TEXT    NOT NULL,          -- rapport | import
    questionnaire  TEXT,                      -- questionnaire version (rapport only)
    answers        TEXT,                      -- JSON: question id -> option letter
    score          INTEGER,                   -- total score (rapport only)
    tolerance      TEXT    NOT NULL,          -- c1 .. c5
    assessed_on    TEXT    NOT NULL,
    recorded_by    TEXT    NOT NULL,          -- username, or system:import
    recorded_at    TEXT    NOT NULL           -- UTC
);
CREATE INDEX risk_assessment_customer_idx ON risk_assessment (customer_id, assessed_on);

-- The customer 360 reads the survey answers and contact tasks created in Rapport by customer.
CREATE INDEX survey_answer_customer_idx ON survey_answer (customer_id, answered_at);
CREATE INDEX contact_task_customer_idx ON contact_task (customer_id, created_at);
