"""The initial load: a DynamoDB export -> a new Hudi table (bulk insert), replacing any table at the
location, with the index layout, the ordering state and the column plan in its commit."""

import json
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from . import hudi_table, layout, storage, timeline
from .columns import ORDERING_COLUMN, OVERFLOW_COLUMN, extend_plan
from .errors import JobError
from .lake import attribute_stats, lake_columns, project, read_records
from .manifest import Manifest
from .records import DecodeContext
from .steps import Phases, derived_index, empty_records, error_text, reject, release
from .versions import OrderingState, to_extra


def export_data_files(spark: SparkSession, root: str) -> tuple[list[tuple[str, int]], int]:
    """(data file URI, item count) from manifest-files.json, and the summary's item count."""
    try:
        summary = json.loads(storage.read_text(spark, storage.join(root, "manifest-summary.json")))
    except Exception as e:
        raise JobError(f"cannot read the export's manifest-summary.json under {root}: {error_text(e)}") from None
    fmt = summary.get("outputFormat", "DYNAMODB_JSON")
    if fmt != "DYNAMODB_JSON":
        raise JobError(f"the export at {root} is {fmt}; only DYNAMODB_JSON exports can be loaded")
    if summary.get("exportType", "FULL_EXPORT") != "FULL_EXPORT":
        raise JobError(f"the export at {root} is {summary.get('exportType')}; the initial load needs a FULL_EXPORT")
    try:
        lines = storage.read_text(spark, storage.join(root, "manifest-files.json")).splitlines()
    except Exception as e:
        raise JobError(f"cannot read the export's manifest-files.json under {root}: {error_text(e)}") from None
    files = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            key, count = entry["dataFileS3Key"], int(entry["itemCount"])
        except (ValueError, KeyError, TypeError):
            raise JobError(f"manifest-files.json line {n} under {root} has no dataFileS3Key / itemCount") from None
        files.append((storage.join(root, "data", key.rsplit("/", 1)[-1]), count))
    total = summary.get("itemCount")
    if total is not None and int(total) != sum(c for _, c in files):
        raise JobError(
            f"the export at {root} is inconsistent: manifest-summary.json says {total} items, manifest-files.json lists {sum(c for _, c in files)}"
        )
    return files, sum(c for _, c in files)


def run_initial_load(spark: SparkSession, manifest: Manifest, phases: Phases) -> dict[str, Any]:
    table = manifest.table
    assert manifest.export is not None
    files, expected = export_data_files(spark, manifest.export.root)
    ctx = DecodeContext.of(table, manifest.export.export_time_ms)
    records = read_records(spark, [u for u, _ in files], ctx) if files else empty_records(spark, ctx)
    per_file = records.groupBy("source", "ok").count().collect()
    counts: dict[str, int] = {}
    for r in per_file:
        name = r["source"].rsplit("/", 1)[-1]
        counts[name] = counts.get(name, 0) + r["count"]
    wrong = [(u, c, counts.get(u.rsplit("/", 1)[-1], 0)) for u, c in files if counts.get(u.rsplit("/", 1)[-1], 0) != c]
    if wrong:
        detail = "; ".join(f"{u}: manifest {c}, read {n}" for u, c, n in wrong[:5])
        raise JobError(f"export item counts do not match its manifest ({len(wrong)} file(s)): {detail}")
    read = sum(counts.values())
    decode_rejected = sum(r["count"] for r in per_file if not r["ok"])
    phases.mark("read")
    good = records.filter(F.col("ok"))
    plan = extend_plan(None, attribute_stats(good), table, table.key_types)
    projected = project(good, plan, table, derived_index(table))
    by = _load_counts(projected)
    bad_keys = sum(n for (_, bad), (n, _, _) in by.items() if bad)
    rejected = reject(manifest, records, projected, decode_rejected, bad_keys, read)
    loaded = read - rejected
    rows = projected.filter(F.col("bad_key").isNull()).select(*lake_columns(plan))
    chosen = layout.choose(table, _largest_partition(rows, plan, table, loaded))
    # Every version written so far is the export's: the ordering check starts from its largest value.
    high_water = max((m for (_, bad), (_, _, m) in by.items() if not bad and m is not None), default=None)
    state = OrderingState(high_water=high_water, floor=high_water)
    phases.mark("plan")
    extra = {timeline.INDEX_KEY: chosen.to_json(), **to_extra(state)}
    options = hudi_table.write_options(
        spark, table, plan, "bulk_insert", manifest.run_key, table.table_type, chosen, extra
    )
    # A retried initial load starts from scratch: the table, its tombstones and recent versions are replaced.
    storage.delete(spark, table.tombstone_location)
    storage.delete(spark, table.versions_location)
    hudi_table.write(rows, table.lake_location, options, overwrite=True)
    phases.mark("write")
    release(records)
    tl = timeline.read_timeline(spark, table.lake_location)
    commit = next((i for i in tl.completed if tl.extra(spark, i).get(timeline.RUN_KEY) == manifest.run_key), None)
    return {
        "recordsRead": read,
        "upserted": loaded,
        "deleted": 0,
        "rejected": rejected,
        "superseded": 0,
        "overflowed": sum(o for (_, bad), (_, o, _) in by.items() if not bad),
        "exportItems": expected,
        "columns": len(plan.columns),
        "newColumns": [c.name for c in plan.columns],
        "commitInstant": commit.time if commit else None,
        "rejectedUri": manifest.rejected_location if rejected else None,
        "tableType": table.table_type,
        "index": chosen.describe(),
        "bytesWritten": tl.bytes_written(spark, commit) if commit else 0,
    }


def _load_counts(projected) -> dict[tuple[Any, bool], tuple[int, int, Any]]:
    """(op, has a bad key) -> (rows, rows with overflow, largest ordering value), in one pass."""
    rows = (
        projected.groupBy("op", F.col("bad_key").isNotNull().alias("bad"))
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count(OVERFLOW_COLUMN).alias("overflow"),
            F.max(ORDERING_COLUMN).alias("max"),
        )
        .collect()
    )
    return {(r["op"], r["bad"]): (r["n"], r["overflow"], r["max"]) for r in rows}


def _largest_partition(rows, plan, table, loaded: int) -> int:
    """Rows of the largest partition (sizes the bucket index); one more pass only when it matters."""
    if not table.partition_fields or table.bucket_count or not layout.key_derived_only(table):
        return loaded
    columns = [plan.column_for(p).name for p in table.partition_fields]
    largest = rows.groupBy(*columns).count().agg(F.max("count")).collect()[0][0]
    return int(largest or 0)
