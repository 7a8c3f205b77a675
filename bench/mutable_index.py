"""bench/mutable-index: which global index for a table partitioned by a mutable attribute (a row
moves partition when the value changes)? GLOBAL_SIMPLE (what the jobs use: joins the batch's keys
with every key of the table) against the metadata table's record index (RECORD_INDEX: a key ->
file group lookup kept in Hudi's metadata table), both merge-on-read, the jobs' write options
otherwise. One warm session; per table size a bulk insert, then batches of 1,000 upserts of spread
keys, 10% of them moving partition; median of 3. Plain Hudi writes (the jobs do not use RECORD_INDEX).

    bench/mutable-index [--sizes 100000,1000000] [--runs 3]
"""

import argparse
import os
import random
import shutil
import statistics
import time

os.environ.setdefault("DDB_LAKE_BENCH_SPARK_PORT", "7300")
os.environ.setdefault("DDB_LAKE_BENCH_BLOCK_MANAGER_PORT", "8300")

from common import OUT, session

# common puts glue/ and glue/tests/ on sys.path, so it is imported before the imports below
# isort: split
from pyspark.sql import functions as F

from ddb_lake_glue import hudi_table, layout
from ddb_lake_glue.columns import DELETED_COLUMN, ORDERING_COLUMN, OVERFLOW_COLUMN, Column, Plan
from ddb_lake_glue.manifest import TableSpec, TypesConfig

WORK = OUT / "mutable-index"
PLAN = Plan(
    [
        Column("user_id", "user_id", "S", "string"),
        Column("tier", "tier", "S", "string"),
        Column("note", "note", "S", "string"),
    ]
)
TIERS = 16
INDEXES = {
    "GLOBAL_SIMPLE": {},
    "RECORD_INDEX": {
        "hoodie.index.type": "RECORD_INDEX",
        "hoodie.metadata.enable": "true",
        "hoodie.metadata.record.index.enable": "true",
        "hoodie.record.index.update.partition.path": "true",
    },
}


def options(location: str, operation: str, index: str) -> dict:
    spec = TableSpec(
        lake_location=location,
        table_name="users",
        key_fields=["user_id"],
        ordering_field=None,
        derived_columns=[],
        partition_fields=["tier"],
        types=TypesConfig(),
        max_rejected_share=0,
        glue_database=None,
        tombstone_location="",
    )
    opts = hudi_table.write_options(
        spark, spec, PLAN, operation, "bench", "MERGE_ON_READ", layout.IndexLayout("GLOBAL_SIMPLE")
    )
    opts.update(INDEXES[index])
    return opts


def rows_df(ids, tier_of, note: str, ordering: str):
    return spark.createDataFrame(
        [(f"u{i:010d}", f"t{tier_of(i):02d}", note, ordering, None, False) for i in ids],
        f"user_id string, tier string, note string, {ORDERING_COLUMN} string, {OVERFLOW_COLUMN} string, {DELETED_COLUMN} boolean",
    )


parser = argparse.ArgumentParser(prog="bench/mutable-index")
parser.add_argument("--sizes", default="100000,1000000")
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()
spark = session("bench mutable-index", driver_memory="3g")
print(f"spark local[2], driver 3g; load average {os.getloadavg()[0]:.1f}", flush=True)
results = {}
for size in [int(s) for s in args.sizes.split(",")]:
    for index in INDEXES:
        location = f"file://{WORK}/{index}-{size}"
        shutil.rmtree(WORK / f"{index}-{size}", ignore_errors=True)
        base = spark.range(size).select(
            F.format_string("u%010d", "id").alias("user_id"),
            F.format_string("t%02d", F.col("id") % TIERS).alias("tier"),
            F.lit("exported").alias("note"),
            F.lit("0001").alias(ORDERING_COLUMN),
            F.lit(None).cast("string").alias(OVERFLOW_COLUMN),
            F.lit(False).alias(DELETED_COLUMN),
        )
        started = time.time()
        hudi_table.write(base, location, options(location, "bulk_insert", index), overwrite=True)
        load = time.time() - started
        times = []
        for run in range(args.runs + 1):  # the first is a warm-up
            rnd = random.Random(run)
            ids = rnd.sample(range(size), 1000)
            moved = set(ids[:100])
            batch = rows_df(
                ids, lambda i, moved=moved: (i + (1 if i in moved else 0)) % TIERS, f"run {run}", f"{run + 2:04d}"
            )
            started = time.time()
            hudi_table.write(batch, location, options(location, "upsert", index), overwrite=False)
            if run:
                times.append(time.time() - started)
        check = spark.read.format("hudi").load(location)
        rows, keys = check.count(), check.select("user_id").distinct().count()
        results[(size, index)] = (load, times)
        print(
            f"  {index:<14} {size:>10,} rows: load {load:6.1f} s, batches {' '.join(f'{t:.2f}' for t in times)} s, "
            f"median {statistics.median(times):.2f} s (rows {rows:,}, distinct keys {keys:,})",
            flush=True,
        )
spark.stop()
print(
    f"\nmerge-on-read, partitioned by a mutable attribute ({TIERS} values), 1,000 upserts of spread keys, 100 moving; "
    f"median of {args.runs}; load average now {os.getloadavg()[0]:.1f}"
)
for (size, index), (load, times) in results.items():
    print(f"{index:<14} {size:>10,} rows  bulk insert {load:6.1f} s  batch median {statistics.median(times):6.2f} s")
