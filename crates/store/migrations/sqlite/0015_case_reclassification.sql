-- Complaint reclassification and SLA extensions (issue 17). A handler who corrects the category
-- the classifier (or the intake) gave a case leaves one row here: who, when (UTC), from which
-- category to which, and why. The latest correction of each case is a training example of the
-- next classifier (services::cases::classifier). `sla_extensions` counts the extensions of the
-- resolution deadline granted under a policy that allows them (the regulator's: 15 → 30 → 60
-- days, the second with senior approval); each grant is also a `case_event`.

CREATE TABLE case_reclassification (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES support_case (id),
    from_category   TEXT    NOT NULL,
    to_category     TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    at              TEXT    NOT NULL          -- UTC
);
CREATE INDEX case_reclassification_case_idx ON case_reclassification (case_id, id);

ALTER TABLE support_case ADD COLUMN sla_extensions INTEGER NOT NULL DEFAULT 0;
