#!/usr/bin/env python3
"""Rapport's transaction aggregates as of @AS_OF@, computed on Apache Spark.

Written by `rapport analytics spark-job`: write it again rather than edit it
(the aggregates are defined once, in Rapport's feature catalogue).

  spark-submit job.py --copy DIR --out OUT   over Rapport's columnar copy
                                             (rapport analytics rebuild)
  spark-submit job.py --out OUT              over the bank's own tables, when
                                             the job was written with --mapping
  python3 job.py ... --master local[2]       with pyspark installed (local mode)

OUT receives customers/ (one row per customer: the aggregates), accounts/
(each account's latest balances) as Parquet, and job.json; then
`rapport score --features OUT` finishes the scoring.
"""
import argparse
import json
import os
import sys

AS_OF = "@AS_OF@"
LAYOUT = @LAYOUT@
AGGREGATES = @AGGREGATES@
MAPPING = @MAPPING@
TRANSACTION_COLUMNS = {
    "account_id": "bigint",
    "booked_on": "date",
    "amount": "bigint",
    "balance_after": "bigint",
    "category": "string",
    "channel": "string",
    "source_key": "string",
}
OWNER_COLUMNS = {"account_id": "bigint", "customer_id": "bigint"}

CUSTOMER_SQL = """
@CUSTOMER_SQL@
"""

ACCOUNT_SQL = """
@ACCOUNT_SQL@
"""


def fail(message):
    print("rapport spark job: " + message, file=sys.stderr)
    sys.exit(2)


def project(df, where, section, names, columns):
    """The columns of the job's view, from the table's own names."""
    from pyspark.sql import functions as F

    missing = [
        '%s (column "%s")' % (c, names[c]) for c in columns if names[c] not in df.columns
    ]
    if missing:
        fail("%s: [%s] has no %s" % (where, section, ", ".join(missing)))
    return df.select(
        *[F.col("`%s`" % names[c]).cast(t).alias(c) for c, t in columns.items()]
    )


def mapped(spark, section, columns):
    spec = MAPPING[section]
    if spec["format"] == "table":
        df, where = spark.table(spec["table"]), "table " + spec["table"]
    else:
        df, where = spark.read.parquet(spec["table"]), spec["table"]
    return project(df, where, section, spec["columns"], columns)


def from_copy(spark, copy):
    from pyspark.sql.types import StructType

    manifest_path = os.path.join(copy, "@MANIFEST@")
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
    except OSError as e:
        fail("%s: %s (rapport analytics rebuild writes the copy)" % (manifest_path, e))
    files = [os.path.join(copy, p["file"]) for p in manifest.get("parts", [])]
    identity = {c: c for c in TRANSACTION_COLUMNS}
    if files:
        txn = project(spark.read.parquet(*files), copy, "transactions", identity, TRANSACTION_COLUMNS)
    else:
        schema = ", ".join("%s %s" % (c, t) for c, t in TRANSACTION_COLUMNS.items())
        txn = spark.createDataFrame([], StructType.fromDDL(schema))
    owners_path = os.path.join(copy, "@OWNERS@")
    if not os.path.exists(owners_path):
        fail("%s: missing (rapport analytics rebuild writes it)" % owners_path)
    owners = project(
        spark.read.parquet(owners_path),
        owners_path,
        "owners",
        {c: c for c in OWNER_COLUMNS},
        OWNER_COLUMNS,
    )
    return txn, owners


def write_text(spark, path, text):
    """Writes a small file through Hadoop's file system (local, HDFS, S3...)."""
    jvm = spark._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(spark._jsc.hadoopConfiguration())
    out = fs.create(p, True)
    out.write(bytearray(text.encode("utf-8")))
    out.close()


def main():
    ap = argparse.ArgumentParser(description="Rapport transaction aggregates as of " + AS_OF)
    ap.add_argument("--copy", help="Rapport's columnar copy (rapport analytics rebuild)")
    ap.add_argument("--out", required=True, help="output directory (replaced)")
    ap.add_argument("--master", help="Spark master, e.g. local[2] (default: spark-submit's)")
    ap.add_argument("--shuffle-partitions", type=int, help="spark.sql.shuffle.partitions")
    args = ap.parse_args()
    if MAPPING is None and not args.copy:
        fail("give --copy DIR (this job was written without a mapping)")
    if MAPPING is not None and args.copy:
        fail("this job reads the tables of its mapping: leave out --copy")

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("rapport-features-" + AS_OF)
    if args.master:
        builder = builder.master(args.master)
    builder = builder.config("spark.ui.enabled", "false").config(
        "spark.ui.showConsoleProgress", "false"
    )
    if args.shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(args.shuffle_partitions))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        if MAPPING is None:
            txn, owners = from_copy(spark, args.copy)
        else:
            txn = mapped(spark, "transactions", TRANSACTION_COLUMNS)
            owners = mapped(spark, "owners", OWNER_COLUMNS)
        txn.createOrReplaceTempView("transactions")
        owners.createOrReplaceTempView("owners")
        out = args.out.rstrip("/")
        spark.sql(CUSTOMER_SQL).write.mode("overwrite").parquet(out + "/customers")
        spark.sql(ACCOUNT_SQL).write.mode("overwrite").parquet(out + "/accounts")
        meta = {"layout": LAYOUT, "as_of": AS_OF, "aggregates": AGGREGATES}
        write_text(spark, out + "/job.json", json.dumps(meta, indent=2) + "\n")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
