"""The core customer features computed by DuckDB with SQL, independently of
Rapport's feature engine, for `rapport bench score` (crates/app/src/bench/score.rs).

Owns: loading the store's own tables into DuckDB (the small ones exported as
CSV by `Store::export_table_csv`, the transactions from the columnar copy's
Parquet files, which hold the store's rows) and the SQL of the eight core
features of docs/FEATURES.md.
Must never: read the generator's files, reuse Rapport's results, or change
a definition without docs/FEATURES.md changing first.

Usage: python3 duckdb_features.py AS_OF(YYYY-MM-DD) CSV_DIR TXN_PARTS OUT.csv
CSV_DIR holds customer.csv, customer_source_key.csv, account.csv and
account_role.csv (header row; an empty cell is NULL). TXN_PARTS is a text file
naming the copy's Parquet files, one path per line (the parts its manifest
lists).
Prints one JSON object on stdout: timings, row counts and the peak RSS.
"""

import datetime
import json
import os
import resource
import sys
import time

import duckdb

# Only the columns the core features read, with their types. Every column is
# read as text and cast here, so nothing depends on DuckDB's type sniffing
# (a source_key of digits must stay text: ties are broken in byte order).
TABLES = {
    "customer": "CAST(id AS BIGINT) AS id",
    "customer_source_key": "CAST(id AS BIGINT) AS id, CAST(customer_id AS BIGINT) AS customer_id, source_key",
    "account": (
        "CAST(id AS BIGINT) AS id, CAST(customer_id AS BIGINT) AS customer_id, account_type, "
        "CAST(closed_on AS DATE) AS closed_on, CAST(balance AS BIGINT) AS balance"
    ),
    "account_role": "CAST(account_id AS BIGINT) AS account_id, CAST(customer_id AS BIGINT) AS customer_id, role",
}
# The transactions, from the copy's Parquet files (typed there: booked_on is a
# DATE, amounts are minor units, source_key is text).
TXN_COLUMNS = "account_id, booked_on, amount, balance_after, category, source_key"

# D is $d; windows are [D - W days, D). Money is minor units in the store and
# major units (/ 100) in the features; counts are integers.
FEATURES_SQL = """
CREATE TABLE features AS
WITH own AS (
    SELECT id AS account_id, customer_id FROM account
    UNION
    SELECT account_id, customer_id FROM account_role WHERE role = 'owner'
),
t AS (
    SELECT o.customer_id AS cid, x.booked_on, x.amount, x.category
    FROM txn x JOIN own o ON o.account_id = x.account_id
    WHERE x.booked_on < $d
),
agg AS (
    SELECT cid,
        COUNT(*) FILTER (WHERE booked_on >= $d30) AS n30,
        COUNT(*) FILTER (WHERE booked_on >= $d90) AS n90,
        SUM(amount) FILTER (WHERE booked_on >= $d90 AND amount > 0) AS inflow,
        SUM(-amount) FILTER (WHERE booked_on >= $d90 AND amount < 0) AS outflow,
        MAX(-amount) FILTER (WHERE booked_on >= $d90 AND amount < 0) AS max_out,
        date_diff('day', MAX(booked_on), $d) AS days_since,
        COUNT(DISTINCT date_trunc('month', booked_on))
            FILTER (WHERE category = 'salary' AND booked_on >= $m6 AND booked_on < $m0) AS salary
    FROM t GROUP BY cid
),
latest AS (
    SELECT account_id, arg_max_null(balance_after, (booked_on, source_key)) AS balance_after
    FROM txn WHERE booked_on < $d
    GROUP BY account_id
),
bal AS (
    SELECT o.customer_id AS cid, SUM(COALESCE(l.balance_after, a.balance)) AS balance
    FROM account a
    JOIN own o ON o.account_id = a.id
    LEFT JOIN latest l ON l.account_id = a.id
    WHERE a.account_type IN ('current', 'savings', 'term_deposit')
      AND (a.closed_on IS NULL OR a.closed_on >= $d)
    GROUP BY o.customer_id
),
keys AS (
    SELECT customer_id, arg_min(source_key, id) AS customer_key
    FROM customer_source_key GROUP BY customer_id
)
SELECT c.id AS customer_id,
       COALESCE(k.customer_key, '#' || c.id) AS customer_key,
       COALESCE(agg.n30, 0) AS txn_count_30,
       COALESCE(agg.n90, 0) AS txn_count_90,
       CAST(COALESCE(agg.inflow, 0) AS DOUBLE) / 100 AS inflow_90,
       CAST(COALESCE(agg.outflow, 0) AS DOUBLE) / 100 AS outflow_90,
       CAST(COALESCE(agg.max_out, 0) AS DOUBLE) / 100 AS max_outflow_90,
       agg.days_since AS days_since_last_txn,
       CAST(bal.balance AS DOUBLE) / 100 AS balance_now,
       COALESCE(agg.salary, 0) AS salary_months_6
FROM customer c
LEFT JOIN keys k ON k.customer_id = c.id
LEFT JOIN agg ON agg.cid = c.id
LEFT JOIN bal ON bal.cid = c.id
ORDER BY c.id
"""



def peak_rss_bytes():
    """This process's own peak resident memory: VmHWM, which starts afresh at
    exec. (ru_maxrss does not: on Linux it keeps the forking parent's resident
    size, so a child of a large Rapport process would report Rapport's.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def main() -> None:
    if len(sys.argv) != 5:
        sys.exit("usage: duckdb_features.py AS_OF CSV_DIR TXN_PARTS OUT.csv")
    as_of = datetime.date.fromisoformat(sys.argv[1])
    csv_dir, parts_list, out = sys.argv[2], sys.argv[3], sys.argv[4]
    with open(parts_list) as f:
        parts = [line.strip() for line in f if line.strip()]
    if not parts:
        sys.exit(f"{parts_list}: names no Parquet file")
    this_month = as_of.replace(day=1)
    m6_year, m6_month = divmod(this_month.year * 12 + this_month.month - 1 - 6, 12)
    params = {
        "d": as_of,
        "d30": as_of - datetime.timedelta(days=30),
        "d90": as_of - datetime.timedelta(days=90),
        "m6": datetime.date(m6_year, m6_month + 1, 1),
        "m0": this_month,
    }

    con = duckdb.connect()
    rows = {}
    t0 = time.perf_counter()
    for table, columns in TABLES.items():
        path = os.path.join(csv_dir, f"{table}.csv")
        con.execute(
            f"CREATE TABLE {table} AS SELECT {columns} FROM "
            "read_csv(?, header = true, all_varchar = true, quote = '\"', escape = '\"')",
            [path],
        )
        rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.execute(f"CREATE TABLE txn AS SELECT {TXN_COLUMNS} FROM read_parquet(?)", [parts])
    rows["txn"] = con.execute("SELECT count(*) FROM txn").fetchone()[0]
    load_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    con.execute(FEATURES_SQL, params)
    query_seconds = time.perf_counter() - t1

    t2 = time.perf_counter()
    con.execute(
        f"COPY (SELECT * EXCLUDE (customer_id) FROM features ORDER BY customer_id) TO '{out}' (HEADER, DELIMITER ',')"
    )
    write_seconds = time.perf_counter() - t2
    customers = con.execute("SELECT count(*) FROM features").fetchone()[0]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    print(
        json.dumps(
            {
                "duckdb_version": duckdb.__version__,
                "threads": threads,
                "rows": rows,
                "customers": customers,
                "load_seconds": load_seconds,
                "query_seconds": query_seconds,
                "write_seconds": write_seconds,
                "peak_rss_bytes": peak_rss_bytes(),
            }
        )
    )


if __name__ == "__main__":
    main()
