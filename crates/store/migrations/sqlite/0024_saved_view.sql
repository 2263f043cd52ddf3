-- Saved views (issue 18, lists a bank can work with): a member of staff's
-- named filter and sort of one list (customers, alerts, cases, tasks,
-- campaigns, audit), kept as the list's normalised query string; shared views
-- are offered to everyone who may open that list (each still sees only their
-- own row scope: a view is only a query string).
CREATE TABLE saved_view (
    id            INTEGER PRIMARY KEY,
    staff_user_id INTEGER NOT NULL REFERENCES staff_user (id),
    list          TEXT    NOT NULL,   -- customers | alerts | cases | tasks | campaigns | audit
    name          TEXT    NOT NULL,
    query         TEXT    NOT NULL,   -- normalised: the list's own parameters, sorted
    shared        BOOLEAN NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    UNIQUE (staff_user_id, list, name)
);
CREATE INDEX saved_view_list_idx ON saved_view (list, shared);
