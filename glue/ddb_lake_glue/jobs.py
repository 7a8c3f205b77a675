"""The two jobs and the run wrapper (arguments, manifest, summary, error text)."""

import json
import sys
import time
import traceback
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import hudi_table, storage
from .args import parse_job_args
from .columns import ORDERING_COLUMN, OVERFLOW_COLUMN, extend_plan
from .errors import JobError
from .lake import attribute_stats, bad_key_rows, lake_columns, project, read_records, rejected_rows
from .manifest import Manifest, TableSpec, parse_manifest
from .records import BEFORE_EXPORT, DecodeContext, record_schema
from .spark import build_session, configure_local_s3

SUMMARY_PREFIX = "DDB_LAKE_SUMMARY "


class Phases:
    """Seconds spent per phase of a run (reported in the summary as `phases`)."""

    def __init__(self) -> None:
        self.times: Dict[str, float] = {}
        self._last = time.time()

    def mark(self, name: str) -> None:
        now = time.time()
        self.times[name] = round(self.times.get(name, 0) + now - self._last, 3)
        self._last = now
KINDS = {"initialLoad": "initial load", "incremental": "incremental"}


# ---------------------------------------------------------------------------------------------
# Entry point shared by glue/initial_load.py and glue/incremental.py


def main(kind: str, argv: Optional[Sequence[str]] = None) -> None:
    """Run one job; the summary is written to summaryUri and printed as the log's last line.
    A failure prints the summary with `error`, then raises (Glue reports the exception's message)."""
    started = time.time()
    summary: Dict[str, Any] = {"runKey": None, "kind": kind, "status": "failed"}
    spark: Optional[SparkSession] = None
    manifest: Optional[Manifest] = None
    try:
        args = parse_job_args(argv)
        summary["runKey"] = args["run_key"]
        phases = Phases()
        spark = build_session(f"ddb-lake {KINDS[kind]} {args['run_key']}", args["aws_endpoint"], args["aws_region"])
        phases.mark("session")
        manifest = load_manifest(spark, args["manifest"] or "", kind, args["run_key"] or "")
        result = run(spark, manifest, phases)
        summary.update(result)
        summary["status"] = "succeeded"
    except BaseException as e:  # noqa: BLE001 - every failure must leave a summary
        summary["error"] = error_text(e)
        _finish(spark, manifest, summary, started)
        if isinstance(e, JobError):
            raise JobError(summary["error"]) from None
        raise
    _finish(spark, manifest, summary, started)


def complete_summary(summary: Dict[str, Any], started: float, finished: float) -> Dict[str, Any]:
    """Every field the contract requires (core/contracts/job-summary.schema.json), whatever the run did."""
    summary.setdefault("recordsRead", 0)
    for k in ("upserted", "deleted", "rejected", "superseded", "overflowed"):
        summary.setdefault(k, 0)
    summary.setdefault("commitInstant", None)
    summary["durationSeconds"] = round(finished - started, 3)
    summary["startedAt"] = _iso(started)
    summary["finishedAt"] = _iso(finished)
    return summary


def _finish(spark: Optional[SparkSession], manifest: Optional[Manifest], summary: Dict[str, Any], started: float) -> None:
    complete_summary(summary, started, time.time())
    if spark is not None and manifest is not None:
        try:
            storage.write_text(spark, manifest.summary_uri, json.dumps(summary, indent=2) + "\n")
        except Exception as e:  # noqa: BLE001 - the printed summary still tells the runner
            summary.setdefault("warnings", []).append(f"could not write {manifest.summary_uri}: {error_text(e)}")
    if spark is not None:
        spark.stop()
    sys.stderr.flush()
    print(SUMMARY_PREFIX + json.dumps(summary, separators=(",", ":")), flush=True)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def error_text(e: BaseException) -> str:
    """The message a person needs: ours as is, a JVM error as its class and message (root cause too)."""
    if isinstance(e, JobError):
        return str(e)
    java = getattr(e, "java_exception", None)
    if java is not None:
        parts = []
        seen = 0
        while java is not None and seen < 8:
            parts.append(str(java.toString()).split("\n")[0])
            java = java.getCause()
            seen += 1
        return " | caused by: ".join(dict.fromkeys(parts))
    text = "".join(traceback.format_exception_only(type(e), e)).strip()
    return text


def load_manifest(spark: SparkSession, uri: str, kind: str, run_key: str) -> Manifest:
    try:
        text = storage.read_text(spark, uri)
    except Exception as e:  # noqa: BLE001
        raise JobError(f"cannot read manifest {uri}: {error_text(e)}") from None
    return parse_manifest(text, uri, kind, run_key)


def run(spark: SparkSession, manifest: Manifest, phases: Optional[Phases] = None) -> Dict[str, Any]:
    spark.conf.set("spark.sql.ansi.enabled", "false")
    phases = phases or Phases()
    if manifest.kind == "initialLoad":
        result = run_initial_load(spark, manifest, phases)
    else:
        result = run_incremental(spark, manifest, phases)
    result["phases"] = phases.times
    return result


def run_manifest_uri(spark: SparkSession, manifest_uri: str, kind: str, run_key: str, aws_endpoint: Optional[str] = None) -> Dict[str, Any]:
    """In-process run for tests: like `main`, but on an existing session and returning the summary."""
    if aws_endpoint:
        configure_local_s3(spark, aws_endpoint)
    started = time.time()
    manifest = load_manifest(spark, manifest_uri, kind, run_key)
    summary: Dict[str, Any] = {"runKey": run_key, "kind": kind, "status": "succeeded"}
    summary.update(run(spark, manifest))
    complete_summary(summary, started, time.time())
    storage.write_text(spark, manifest.summary_uri, json.dumps(summary, indent=2) + "\n")
    return summary


# ---------------------------------------------------------------------------------------------
# Shared steps


def _empty_records(spark: SparkSession, ctx: DecodeContext) -> DataFrame:
    return spark.createDataFrame([], record_schema(len(ctx.derived)))


def _release(records: DataFrame) -> None:
    """Drop the decoded rows kept by read_records (the persisted Python RDD under the DataFrame)."""
    for rdd in records.sparkSession.sparkContext._jsc.getPersistentRDDs().values():
        rdd.unpersist(False)


def _derived_index(table: TableSpec) -> Dict[str, int]:
    return {d.name: i for i, d in enumerate(table.derived_columns)}


def _write_rejects(manifest: Manifest, parts: List[DataFrame]) -> None:
    rejects = parts[0]
    for p in parts[1:]:
        rejects = rejects.unionByName(p)
    rejects.coalesce(1).write.mode("overwrite").json(manifest.rejected_location)


def _projected_counts(projected: DataFrame) -> Dict[Tuple[Optional[str], bool], Tuple[int, int]]:
    """(op, has a bad key) -> (rows, rows with overflow), in one pass."""
    rows = projected.groupBy("op", F.col("bad_key").isNotNull().alias("bad")).agg(
        F.count(F.lit(1)).alias("n"), F.count(OVERFLOW_COLUMN).alias("overflow")).collect()
    return {(r["op"], r["bad"]): (r["n"], r["overflow"]) for r in rows}


def _check_rejected_share(manifest: Manifest, rejected: int, read: int) -> None:
    if read and rejected / read > manifest.table.max_rejected_share:
        raise JobError(
            f"{rejected} of {read} records were rejected ({rejected / read:.2%}), more than maxRejectedShare "
            f"{manifest.table.max_rejected_share:.2%}; reasons are in {manifest.rejected_location}"
        )


# ---------------------------------------------------------------------------------------------
# Initial load: the export -> a new table (bulk insert)


def export_data_files(spark: SparkSession, root: str) -> Tuple[List[Tuple[str, int]], int]:
    """(data file URI, item count) from manifest-files.json, and the summary's item count."""
    try:
        summary = json.loads(storage.read_text(spark, storage.join(root, "manifest-summary.json")))
    except Exception as e:  # noqa: BLE001
        raise JobError(f"cannot read the export's manifest-summary.json under {root}: {error_text(e)}") from None
    fmt = summary.get("outputFormat", "DYNAMODB_JSON")
    if fmt != "DYNAMODB_JSON":
        raise JobError(f"the export at {root} is {fmt}; only DYNAMODB_JSON exports can be loaded")
    if summary.get("exportType", "FULL_EXPORT") != "FULL_EXPORT":
        raise JobError(f"the export at {root} is {summary.get('exportType')}; the initial load needs a FULL_EXPORT")
    try:
        lines = storage.read_text(spark, storage.join(root, "manifest-files.json")).splitlines()
    except Exception as e:  # noqa: BLE001
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
        raise JobError(f"the export at {root} is inconsistent: manifest-summary.json says {total} items, manifest-files.json lists {sum(c for _, c in files)}")
    return files, sum(c for _, c in files)


def run_initial_load(spark: SparkSession, manifest: Manifest, phases: Phases) -> Dict[str, Any]:
    table = manifest.table
    assert manifest.export is not None
    files, expected = export_data_files(spark, manifest.export.root)
    ctx = DecodeContext.of(table, manifest.export.export_time_ms)
    records = read_records(spark, [u for u, _ in files], ctx) if files else _empty_records(spark, ctx)
    per_file = records.groupBy("source", "ok").count().collect()
    counts: Dict[str, int] = {}
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
    projected = project(good, plan, table, _derived_index(table))
    by = _projected_counts(projected)
    bad_keys = sum(n for (_, bad), (n, _) in by.items() if bad)
    rejected = decode_rejected + bad_keys
    if rejected:
        _write_rejects(manifest, [rejected_rows(records), bad_key_rows(projected)])
    _check_rejected_share(manifest, rejected, read)
    phases.mark("plan")
    rows = projected.filter(F.col("bad_key").isNull()).select(*lake_columns(plan))
    options = hudi_table.write_options(spark, table, plan, "bulk_insert", manifest.run_key)
    # A retried initial load starts from scratch: the table (and any tombstones) are replaced.
    storage.delete(spark, table.tombstone_location)
    hudi_table.write(rows, table.lake_location, options, overwrite=True)
    phases.mark("write")
    _release(records)
    return {
        "recordsRead": read,
        "upserted": read - rejected,
        "deleted": 0,
        "rejected": rejected,
        "superseded": 0,
        "overflowed": sum(o for (_, bad), (_, o) in by.items() if not bad),
        "exportItems": expected,
        "columns": len(plan.columns),
        "newColumns": [c.name for c in plan.columns],
        "commitInstant": hudi_table.commit_of_run(spark, table.lake_location, manifest.run_key),
        "rejectedUri": manifest.rejected_location if rejected else None,
    }


# ---------------------------------------------------------------------------------------------
# Incremental: landing files -> upserts and deletes, the largest ordering value winning


def run_incremental(spark: SparkSession, manifest: Manifest, phases: Phases) -> Dict[str, Any]:
    table = manifest.table
    ctx = DecodeContext.of(table, loaded_export_ms=manifest.loaded_export_ms)
    records = read_records(spark, manifest.files, ctx, small_in_driver=True) if manifest.files else _empty_records(spark, ctx)
    by_ok = {r["ok"]: r["count"] for r in records.groupBy("ok").count().collect()}
    good_n, decode_rejected = by_ok.get(True, 0), by_ok.get(False, 0)
    read = good_n + decode_rejected
    # Changes older than the export the lake was loaded from are in it already: counted as superseded.
    good = records.filter(F.col("ok") & (F.col("op") != BEFORE_EXPORT))
    # Per key, the version with the largest ordering value (ties are the same stream record).
    newest_first = Window.partitionBy("key").orderBy(F.col("ordering").desc())
    latest = good.withColumn("_rank", F.row_number().over(newest_first)).filter(F.col("_rank") == 1).drop("_rank")
    latest = latest.persist()
    phases.mark("read")
    existing = hudi_table.read_plan(spark, table.lake_location)
    stats = attribute_stats(latest) if good_n else []
    plan = extend_plan(existing, stats, table, table.key_types) if stats or existing else None
    result: Dict[str, Any] = {"recordsRead": read, "upserted": 0, "deleted": 0, "rejected": decode_rejected,
                              "superseded": 0, "overflowed": 0, "newColumns": [], "commitInstant": None,
                              "rejectedUri": manifest.rejected_location if decode_rejected else None}
    if plan is None or not good_n:
        if decode_rejected:
            _write_rejects(manifest, [rejected_rows(records)])
        _check_rejected_share(manifest, decode_rejected, read)
        _release(records)
        return result
    old_names = {c.name for c in existing.columns} if existing else set()
    projected = project(latest, plan, table, _derived_index(table))
    keys = hudi_table.tombstone_key_columns(table, plan)
    tombstones = hudi_table.read_tombstones(spark, table, plan)
    if tombstones is not None:
        # A version not newer than its key's tombstone is older than the delete: dropped.
        tomb = tombstones.withColumnRenamed(ORDERING_COLUMN, "_tomb_ordering")
        projected = projected.join(tomb, keys, "left").filter(
            F.col("_tomb_ordering").isNull() | (F.col(ORDERING_COLUMN) > F.col("_tomb_ordering"))).drop("_tomb_ordering")
    projected = projected.persist()
    by = _projected_counts(projected)
    upserted = by.get(("upsert", False), (0, 0))[0]
    deleted = by.get(("delete", False), (0, 0))[0]
    bad_keys = sum(n for (_, bad), (n, _) in by.items() if bad)
    rejected = decode_rejected + bad_keys
    if rejected:
        _write_rejects(manifest, [rejected_rows(records), bad_key_rows(projected)])
    _check_rejected_share(manifest, rejected, read)
    phases.mark("plan")
    result.update(
        upserted=upserted,
        deleted=deleted,
        rejected=rejected,
        superseded=good_n - bad_keys - upserted - deleted,
        overflowed=by.get(("upsert", False), (0, 0))[1],
        newColumns=[c.name for c in plan.columns if c.name not in old_names],
        rejectedUri=manifest.rejected_location if rejected else None,
    )
    valid = projected.filter(F.col("bad_key").isNull())
    if upserted or deleted:
        if deleted:
            # Tombstones first: if the job dies between the two commits, the retry still deletes.
            tomb_rows = valid.filter(F.col("op") == "delete").select(*keys, ORDERING_COLUMN)
            hudi_table.write(tomb_rows, table.tombstone_location, hudi_table.tombstone_options(spark, table, plan, manifest.run_key), overwrite=False)
            phases.mark("tombstones")
        rows = valid.select(*lake_columns(plan))
        hudi_table.write(rows, table.lake_location, hudi_table.write_options(spark, table, plan, "upsert", manifest.run_key), overwrite=False)
        result["commitInstant"] = hudi_table.commit_of_run(spark, table.lake_location, manifest.run_key)
        phases.mark("write")
    projected.unpersist()
    latest.unpersist()
    _release(records)
    return result
