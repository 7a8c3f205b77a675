"""bench/batch-scale: does a batch cost what the batch is, or what the table is? (issue 12)

One batch of 1,000 changes (90% updates, 5% deletes, 5% inserts) whose keys are spread uniformly over
a table without time partitioning (keyed like a user id), applied by the real incremental job into
tables of 100,000 / 1,000,000 / 10,000,000 rows, merge-on-read and copy-on-write, in one warm Spark
session (local[2]). Per table: the batch time (median of 3, the three runs interleaved across tables
so load from other work hits all alike), the ratio to the smallest table, the bytes a batch writes,
a late batch (the first batch again: every version is checked against the recent versions), the
hudi-rs snapshot read (python/lake_reader.py, base + log files), the compaction run (merge-on-read,
default bound: 512 MB of IO) and the lake's size on disk as loaded and after the batches (copy-on-write
keeps the replaced file versions until cleaning).

    bench/batch-scale [--sizes 100000,1000000,10000000] [--types MERGE_ON_READ,COPY_ON_WRITE]
                      [--changes 1000] [--runs 3] [--rebuild]

The tables are built once with a bulk insert (the initial load's writer, layout and state) and kept in
bench/out/batch-scale/ (git-ignored); each run works on a fresh copy. Spark ports:
DDB_LAKE_BENCH_SPARK_PORT (default 7300) and DDB_LAKE_BENCH_BLOCK_MANAGER_PORT (default 8300).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("DDB_LAKE_BENCH_SPARK_PORT", "7300")
os.environ.setdefault("DDB_LAKE_BENCH_BLOCK_MANAGER_PORT", "8300")

from common import OUT, REPO, session

sys.path.insert(0, str(REPO / "python"))

from pyspark.sql import functions as F

from ddb_lake_glue import hudi_table, layout, timeline
from ddb_lake_glue.columns import DELETED_COLUMN, ORDERING_COLUMN, OVERFLOW_COLUMN, Plan
from ddb_lake_glue.jobs import run_manifest_uri
from ddb_lake_glue.manifest import parse_manifest
from ddb_lake_glue.ordering import export_stream_position, ordering_value
from ddb_lake_glue.versions import OrderingState, to_extra
from lake_reader import read_snapshot

CACHE = OUT / "batch-scale"
EXPORT_MS = 1_690_750_000_000
MULTIPLIER = 2654435761  # odd and not a multiple of 5: i -> i * M mod 10^10 is one-to-one


def user_id(i: int) -> str:
    return f"u{(i * MULTIPLIER) % 10**10:010d}"


def table_spec(lake: str, table_type: str) -> dict:
    return {
        "lakeLocation": lake,
        "tableName": "users",
        "keyFields": ["user_id"],
        "orderingField": None,
        "derivedColumns": [],
        "partitionFields": [],
        "maxRejectedShare": 0.0,
        "keyTypes": {"user_id": "S"},
        "tableType": table_type,
    }


def manifest(path: Path, kind: str, run_key: str, table: dict, **fields) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": 1,
        "runKey": run_key,
        "pipeline": "bench",
        "kind": kind,
        "table": table,
        "files": [],
        "export": None,
        "rejectedLocation": f"file://{path.parent}/_rejected/{run_key}",
        "summaryUri": f"file://{path.parent}/{run_key}.summary.json",
    }
    doc.update(fields)
    path.write_text(json.dumps(doc))
    return "file://" + str(path)


def probe_plan(spark) -> Plan:
    """The column plan the initial load gives these items: a real initial load of 1,000 of them."""
    root = CACHE / "plan-probe"
    shutil.rmtree(root, ignore_errors=True)
    (root / "export" / "data").mkdir(parents=True)
    lines = [
        json.dumps(
            {
                "Item": {
                    "user_id": {"S": user_id(i)},
                    "name": {"S": f"User {i}"},
                    "email": {"S": f"user{i}@example.com"},
                    "score": {"N": str(i * 7919 % 100000)},
                    "note": {"S": f"Note number {i} of the bench."},
                    "updated": {"S": "2023-07-30T13:00:00.000000+0000"},
                }
            }
        )
        for i in range(1000)
    ]
    import gzip

    with gzip.open(root / "export" / "data" / "part.json.gz", "wt") as f:
        f.write("\n".join(lines) + "\n")
    (root / "export" / "manifest-files.json").write_text(
        json.dumps({"itemCount": 1000, "dataFileS3Key": "x/data/part.json.gz"}) + "\n"
    )
    (root / "export" / "manifest-summary.json").write_text(
        json.dumps({"itemCount": 1000, "outputFormat": "DYNAMODB_JSON"})
    )
    table = table_spec(f"file://{root}/lake", "COPY_ON_WRITE")
    m = manifest(
        root / "m" / "il.json",
        "initialLoad",
        "il",
        table,
        export={"root": f"file://{root}/export", "exportTimeMs": EXPORT_MS},
    )
    run_manifest_uri(spark, m, "initialLoad", "il")
    tl = timeline.read_timeline(spark, table["lakeLocation"])
    return Plan.from_json(timeline.require_plan(tl, spark)[1][timeline.PLAN_KEY])


def build(spark, plan: Plan, table_type: str, size: int, rebuild: bool) -> Path:
    """A table of `size` rows as the initial load writes it (bulk insert, index layout, ordering state)."""
    folder = CACHE / f"{table_type}-{size}" / "pristine"
    ready = folder / "ready.json"
    if ready.exists() and not rebuild:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    lake = f"file://{folder}/lake"
    spec = parse_manifest(
        json.dumps(
            {
                "version": 1,
                "runKey": "il",
                "pipeline": "bench",
                "kind": "initialLoad",
                "table": table_spec(lake, table_type),
                "export": {"root": "unused", "exportTimeMs": EXPORT_MS},
                "rejectedLocation": "unused",
                "summaryUri": "unused",
            }
        ),
        "bench",
        "initialLoad",
        "il",
    ).table
    exported = ordering_value(None, None, export_stream_position(EXPORT_MS), 0)
    i = F.col("id")
    values = {
        "user_id": F.format_string("u%010d", (i * MULTIPLIER) % 10**10),
        "name": F.format_string("User %d", i),
        "email": F.format_string("user%d@example.com", i),
        "score": (i * 7919 % 100000).cast("bigint"),
        "note": F.format_string("Note number %d of the bench.", i),
        "updated": F.lit("2023-07-30T13:00:00.000000+0000"),
    }
    rows = spark.range(size).select(
        *[values[c.attribute].cast(c.type).alias(c.name) for c in plan.columns],
        F.lit(exported).alias(ORDERING_COLUMN),
        F.lit(None).cast("string").alias(OVERFLOW_COLUMN),
        F.lit(False).alias(DELETED_COLUMN),
    )
    chosen = layout.choose(spec, size)
    extra = {timeline.INDEX_KEY: chosen.to_json(), **to_extra(OrderingState(high_water=exported, floor=exported))}
    options = hudi_table.write_options(spark, spec, plan, "bulk_insert", "il", table_type, chosen, extra)
    started = time.time()
    hudi_table.write(rows.repartition(max(2, chosen.buckets or 2)), lake, options, overwrite=True)
    ready.write_text(json.dumps({"rows": size, "buckets": chosen.buckets, "seconds": round(time.time() - started, 1)}))
    print(f"  built {table_type} {size:,} rows ({chosen.describe()}) in {time.time() - started:.0f} s", flush=True)
    return folder


def changes(size: int, batch: int, n: int) -> list:
    """n landing lines: keys uniform over the table; 90% modify, 5% remove, 5% insert; newer than the table."""
    rnd = random.Random(batch * 7 + size)
    lines = []
    for c in range(n):
        seq, ts = 10**20 + batch * 100_000 + c, EXPORT_MS + 60_000 + batch * 10_000 + c
        r = rnd.random()
        if r < 0.9:
            uid, op = user_id(rnd.randrange(size)), "modify"
        elif r < 0.95:
            uid, op = user_id(rnd.randrange(size)), "remove"
        else:
            uid, op = f"n{batch:03d}{c:06d}", "insert"
        lines.append(
            json.dumps(
                {
                    "user_id": uid,
                    "name": f"User {uid}",
                    "email": f"{uid}@example.com",
                    "score": c,
                    "note": f"changed in batch {batch}",
                    "updated": "2023-07-30T20:00:00.000000+0000",
                    "_op": op,
                    "_seq": str(seq),
                    "_ts": ts,
                    "_ttl": False,
                }
            )
        )
    return lines


class Work:
    """One table's working copy and its runs."""

    def __init__(self, table_type: str, size: int, pristine: Path):
        self.table_type, self.size = table_type, size
        self.root = CACHE / f"{table_type}-{size}" / "work"
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(pristine, self.root)
        self.table = table_spec(f"file://{self.root}/lake", table_type)
        self.buckets = json.loads((pristine / "ready.json").read_text())["buckets"]
        self.loaded_bytes = self.size_on_disk(pristine)
        self.runs, self.files = [], []

    def batch(self, spark, batch: int, n: int, replay=None):
        """A batch of n fresh changes, or `replay`: a landing file applied before (every version late)."""
        path = replay or self.root / "landing" / f"b{batch:03d}.json"
        if replay is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(changes(self.size, batch, n)) + "\n")
            self.files.append(path)
        key = f"bench-inc-{batch:03d}-a1"
        m = manifest(self.root / "m" / f"{key}.json", "incremental", key, self.table, files=[f"file://{path}"])
        started = time.time()
        summary = run_manifest_uri(spark, m, "incremental", key)
        return time.time() - started, summary

    def compact(self, spark):
        m = manifest(self.root / "m" / "cmp.json", "compaction", "bench-cmp-a1", self.table)
        started = time.time()
        summary = run_manifest_uri(spark, m, "incremental", "bench-cmp-a1")
        return time.time() - started, summary

    def size_on_disk(self, root=None) -> int:
        return sum(
            p.stat().st_size
            for p in ((root or self.root) / "lake").rglob("*")
            if p.is_file() and not p.name.endswith(".crc")
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/batch-scale")
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--types", default="MERGE_ON_READ,COPY_ON_WRITE")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    types = args.types.split(",")
    started = time.time()
    spark = session("bench batch-scale", driver_memory="3g")
    print(f"spark session local[2], driver 3g; load average {os.getloadavg()[0]:.1f}", flush=True)
    plan = probe_plan(spark)
    pristine = {(t, s): build(spark, plan, t, s, args.rebuild) for t in types for s in sizes}
    works = {k: Work(k[0], k[1], p) for k, p in pristine.items()}
    # Warm-up (not counted): one batch into the smallest table of each type, then a fresh copy.
    for t in types:
        works[(t, sizes[0])].batch(spark, 999, args.changes)
        works[(t, sizes[0])] = Work(t, sizes[0], pristine[(t, sizes[0])])
    for run in range(args.runs):
        for key, work in works.items():
            seconds, summary = work.batch(spark, run, args.changes)
            work.runs.append((seconds, summary))
            print(
                f"  run {run + 1}: {key[0]} {key[1]:>10,} rows: {seconds:5.2f} s  phases {summary['phases']}",
                flush=True,
            )
    results = []
    for key, work in works.items():
        late_seconds, late = work.batch(spark, 100, args.changes, replay=work.files[0])
        started_read = time.time()
        snapshot = read_snapshot(work.table["lakeLocation"])
        read_seconds, read_rows = time.time() - started_read, snapshot.data.num_rows
        del snapshot
        after_batches = work.size_on_disk()
        compaction = work.compact(spark) if work.table_type == "MERGE_ON_READ" else None
        times = [s for s, _ in work.runs]
        median_run = sorted(work.runs, key=lambda r: r[0])[len(work.runs) // 2]
        results.append(
            {
                "tableType": key[0],
                "rows": key[1],
                "buckets": work.buckets,
                "batchSeconds": [round(t, 2) for t in times],
                "median": round(statistics.median(times), 2),
                "medianPhases": median_run[1]["phases"],
                "bytesWritten": median_run[1].get("bytesWritten"),
                "upserted": median_run[1]["upserted"],
                "deleted": median_run[1]["deleted"],
                "lateBatchSeconds": round(late_seconds, 2),
                "lateBatch": {
                    k: late.get(k)
                    for k in (
                        "upserted",
                        "superseded",
                        "orderingCandidates",
                        "orderingLakeLookups",
                        "versionsFilesRead",
                    )
                },
                "hudiRsReadSeconds": round(read_seconds, 2),
                "hudiRsRows": read_rows,
                "compactionSeconds": round(compaction[0], 2) if compaction else None,
                "compaction": {
                    k: compaction[1].get(k)
                    for k in ("fileGroupsCompacted", "logFilesCompacted", "logBytesCompacted", "bytesWritten")
                }
                if compaction
                else None,
                "lakeBytesLoaded": work.loaded_bytes,
                "lakeBytesAfterBatches": after_batches,
            }
        )
        print(
            f"  {key[0]} {key[1]:,}: late batch {late_seconds:.2f} s, hudi-rs read {read_seconds:.2f} s ({read_rows:,} rows)"
            + (f", compaction {compaction[0]:.1f} s" if compaction else ""),
            flush=True,
        )
    spark.stop()
    report(results, time.time() - started)
    out = OUT / f"batch-scale-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"results": results, "loadAverage": os.getloadavg(), "changes": args.changes}, indent=2))
    print(f"figures: {out}")


def report(results: list, seconds: float) -> None:
    print(
        f"\nbatch of 1,000 changes, keys spread uniformly, no time partitioning; median of 3 (s); {seconds:.0f} s in all; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'table type':<14} {'rows':>11} {'buckets':>7} {'batch s (3 runs)':>20} {'median':>7} {'x smallest':>10} {'MB written':>10} "
        f"{'late s':>7} {'hudi-rs s':>9} {'compact s (groups)':>18} {'lake MB':>8} {'after':>6}"
    )
    print(header)
    print("-" * len(header))
    for t in dict.fromkeys(r["tableType"] for r in results):
        rows = [r for r in results if r["tableType"] == t]
        smallest = rows[0]["median"]
        for r in rows:
            compact = (
                f"{r['compactionSeconds']:.1f} ({r['compaction']['fileGroupsCompacted']}/{r['buckets']})"
                if r["compactionSeconds"] is not None
                else "-"
            )
            runs = " ".join(f"{x:.2f}" for x in r["batchSeconds"])
            print(
                f"{t:<14} {r['rows']:>11,} {r['buckets']:>7} {runs:>20} {r['median']:>7.2f} {r['median'] / smallest:>10.2f} "
                f"{(r['bytesWritten'] or 0) / 1e6:>10.1f} {r['lateBatchSeconds']:>7.2f} {r['hudiRsReadSeconds']:>9.2f} {compact:>18} "
                f"{r['lakeBytesLoaded'] / 1e6:>8.0f} {r['lakeBytesAfterBatches'] / 1e6:>6.0f}"
            )
        print(f"{t}: largest / smallest = {rows[-1]['median'] / smallest:.2f}")


if __name__ == "__main__":
    main()
