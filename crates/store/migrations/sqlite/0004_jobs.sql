-- The scheduler's table: one row per scheduled job. A process claims a due job by
-- setting its lease in one UPDATE (only one process can win), renews the lease while
-- the job runs, and records the run in job_run when it ends.
CREATE TABLE job_schedule (
    name             TEXT PRIMARY KEY,
    next_run_at      TEXT NOT NULL,
    locked_by        TEXT,
    locked_until     TEXT,
    last_started_at  TEXT,
    last_finished_at TEXT,
    last_status      TEXT,
    last_error       TEXT
);

CREATE TABLE job_run (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    worker      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,          -- running | succeeded | failed | interrupted
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX job_run_name_idx ON job_run (name, id);
