-- Campaign approvals (issue 18, item 2): maker-checker for campaigns. A head-office manager
-- submits a draft; a second one (not the maker) approves or returns it; only a draft approved
-- in the version it has now (the SHA-256 of its spec) can be launched. Every submission is a
-- row, kept as history; editing the draft supersedes its pending or approved rows.

CREATE TABLE campaign_approval (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaign (id),
    spec_sha256   TEXT    NOT NULL,          -- the version of the spec submitted
    state         TEXT    NOT NULL,          -- submitted | approved | rejected | superseded
    submitted_by  TEXT    NOT NULL,
    submitted_at  TEXT    NOT NULL,          -- UTC
    decided_by    TEXT,
    decided_at    TEXT,                      -- UTC
    note          TEXT
);
CREATE INDEX campaign_approval_campaign_idx ON campaign_approval (campaign_id, id);
