"""bench/initial-load: initial load of N exported items (default 1,000,000), rows/s, the ratio of the
Hudi bulk insert to a plain Parquet write of the same DataFrame in the same run, then one incremental
batch of 100,000 changes into that table. Prints figures measured in this run.

    bench/initial-load [items] [changes]
"""

import shutil
import sys

from common import OUT, Clock, manifest, session, table_spec, write_changes, write_export

# common puts glue/ and glue/tests/ on sys.path, so it is imported before the imports below
# isort: split
from pyspark.sql import functions as F

from ddb_lake_glue import hudi_table, layout, storage
from ddb_lake_glue.columns import extend_plan
from ddb_lake_glue.jobs import export_data_files, run_manifest_uri
from ddb_lake_glue.lake import attribute_stats, lake_columns, project, read_records
from ddb_lake_glue.manifest import parse_manifest
from ddb_lake_glue.records import DecodeContext
from ddb_lake_glue.steps import derived_index as _derived_index

items = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
changes = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
work = OUT / f"initial-load-{items}"
clock = Clock()
export = write_export(OUT / f"export-{items}", items)
print(f"export of {items:,} items ready in {clock.lap():.1f} s ({export})", flush=True)
for sub in ("lake", "parquet", "hudi-same-df", "m"):
    shutil.rmtree(work / sub, ignore_errors=True)
table = table_spec(f"file://{work}/lake")
spark = session("bench initial-load")
print(f"spark session {clock.lap():.1f} s (local[2], driver 2g)", flush=True)

m = manifest(
    work / "m" / "il.json", "initialLoad", "il", table, export={"root": export, "exportTimeMs": 1_690_750_000_000}
)
clock.lap()
s = run_manifest_uri(spark, m, "initialLoad", "il")
job = clock.lap()
assert s["upserted"] == items, s
print(
    f"initial load job: {items:,} items in {job:.1f} s = {items / job:,.0f} rows/s   phases {s['phases']}", flush=True
)

# The same DataFrame, materialised once, written as plain Parquet and as a Hudi bulk insert.
mf = parse_manifest(storage.read_text(spark, m), m, "initialLoad", "il")
ctx = DecodeContext.of(mf.table, mf.export.export_time_ms)

files, _ = export_data_files(spark, mf.export.root)
records = read_records(spark, [u for u, _ in files], ctx)
good = records.filter(F.col("ok"))
plan = extend_plan(None, attribute_stats(good), mf.table, {})
rows = project(good, plan, mf.table, _derived_index(mf.table)).select(*lake_columns(plan)).persist()
n = rows.count()
records.unpersist()
print(f"same DataFrame materialised: {n:,} rows in {clock.lap():.1f} s", flush=True)
partitions = [f"create_{p}" for p in ("year", "month", "day", "hour", "minute")]
options = hudi_table.write_options(
    spark, mf.table, plan, "bulk_insert", "il-same-df", mf.table.table_type, layout.choose(mf.table, n)
)
# Alternate the two writes twice (the machine is shared: the best of two is the steadier figure).
parquet_times, hudi_times = [], []
for _ in range(2):
    clock.lap()
    rows.write.partitionBy(*partitions).option("compression", "snappy").mode("overwrite").parquet(
        f"file://{work}/parquet"
    )
    parquet_times.append(clock.lap())
    hudi_table.write(rows, f"file://{work}/hudi-same-df", options, overwrite=True)
    hudi_times.append(clock.lap())
parquet, hudi = min(parquet_times), min(hudi_times)
print(
    f"plain Parquet write (partitionBy, snappy): {', '.join(f'{t:.1f}' for t in parquet_times)} s, best {parquet:.1f} s = {n / parquet:,.0f} rows/s",
    flush=True,
)
print(
    f"Hudi bulk insert of the same DataFrame:     {', '.join(f'{t:.1f}' for t in hudi_times)} s, best {hudi:.1f} s = {n / hudi:,.0f} rows/s",
    flush=True,
)
print(f"ratio Hudi / Parquet (best of each): {hudi / parquet:.2f} (target <= 2)", flush=True)
rows.unpersist()

uris = write_changes(work / "landing", items, changes, files=4, seed=7, seq0=10**20)
clock.lap()
m = manifest(work / "m" / "inc.json", "incremental", "inc", table, files=uris)
s = run_manifest_uri(spark, m, "incremental", "inc")
inc = clock.lap()
print(
    f"incremental batch of {changes:,} changes into the {items:,}-row table: {inc:.1f} s "
    f"(upserted {s['upserted']:,}, deleted {s['deleted']:,}, superseded {s['superseded']:,})   phases {s['phases']}",
    flush=True,
)
spark.stop()
