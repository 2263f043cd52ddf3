-- Administration (issue 18): erasure of a customer's personal data needs two
-- administrators (one requests, another approves; never the same person), and
-- the audit log is filtered by action (an auditor looks for every unmasking).

-- A request to erase one customer's personal data, and its decision: the approval record,
-- naming the customer by key only (it is about the decision, not about the person, and is
-- kept when the customer is erased).
CREATE TABLE erasure_request (
    id                INTEGER PRIMARY KEY,
    customer_key      TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    requested_by      INTEGER REFERENCES staff_user (id),
    requested_by_name TEXT    NOT NULL,
    requested_at      TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'pending',  -- pending | approved | rejected
    decided_by        INTEGER REFERENCES staff_user (id),
    decided_by_name   TEXT,
    decided_at        TEXT
);
CREATE INDEX erasure_request_status_idx ON erasure_request (status, id);
CREATE INDEX erasure_request_customer_idx ON erasure_request (customer_key, status);

CREATE INDEX audit_log_action_idx ON audit_log (action, at);
