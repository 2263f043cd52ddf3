-- Lines the live path refused (issue 19): `rapport stream` and `POST /api/v1/transactions`
-- keep every refused line with its reason, so that bad input loses nothing and the counts
-- reconcile (lines read = transactions + duplicates + rejected lines). Written by the live
-- path's writer in the same database transaction as the batch the line arrived with.
-- `line` is the line's number in its stream (stdin) or body (one API request); `raw` the
-- line as received, cut to at most 2,000 bytes (bytes that are not UTF-8 shown as U+FFFD);
-- `field` the field at fault (`json`, `line`, `account`, `amount`, …), `reason` why.

CREATE TABLE live_rejected_line (
    id          INTEGER PRIMARY KEY,
    received_at TEXT    NOT NULL,
    received_by TEXT    NOT NULL,
    line        INTEGER NOT NULL,
    raw         TEXT    NOT NULL,
    field       TEXT    NOT NULL,
    reason      TEXT    NOT NULL
);
CREATE INDEX live_rejected_line_received_idx ON live_rejected_line (received_at);
