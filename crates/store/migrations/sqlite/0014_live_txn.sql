-- Transactions posted to the live feed (issue 16): `POST /api/v1/transactions` and
-- `rapport stream`. Each is stored once per (source, source_key) before the live engine sees
-- it, so the same transaction posted again is a duplicate that changes nothing. `source` is the
-- line's "source" field (the source system of the account and its transactions, "core" when
-- absent), `source_key` the transaction's key in that system: the same pair an import gives
-- the transaction in `txn`. The live engine's warm-up replays these rows (those not imported
-- into `txn` since), so a restarted engine neither forgets nor double-counts them.

CREATE TABLE live_txn (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    source_key    TEXT    NOT NULL,
    account_id    INTEGER NOT NULL REFERENCES account (id),
    customer_id   INTEGER NOT NULL REFERENCES customer (id),
    booked_on     TEXT    NOT NULL,
    amount        INTEGER NOT NULL,
    balance_after INTEGER,
    category      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    received_by   TEXT    NOT NULL,        -- the actor: API user or `cli`
    received_at   TEXT    NOT NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX live_txn_customer_idx ON live_txn (customer_id, booked_on);
