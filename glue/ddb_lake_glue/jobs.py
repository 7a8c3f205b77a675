"""The run wrapper of the jobs (arguments, manifest, summary, error text) and the dispatch to the
three kinds: initial load (load_job), incremental (incremental_job), compaction (compaction_job)."""

import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import SparkSession

from . import storage
from .args import parse_job_args
from .compaction_job import run_compaction
from .errors import JobError
from .incremental_job import run_incremental
from .load_job import export_data_files, run_initial_load  # noqa: F401 - export_data_files: bench/initial_load.py
from .manifest import Manifest, parse_manifest
from .spark import build_session, configure_local_s3
from .steps import Phases, error_text

SUMMARY_PREFIX = "DDB_LAKE_SUMMARY "
KINDS = {"initialLoad": "initial load", "incremental": "incremental", "compaction": "compaction"}


# ---------------------------------------------------------------------------------------------
# Entry point shared by glue/initial_load.py and glue/incremental.py (which also runs compactions)


def main(kind: str, argv: Sequence[str] | None = None) -> None:
    """Run one job; the summary is written to summaryUri and printed as the log's last line.
    A failure prints the summary with `error`, then raises (Glue reports the exception's message)."""
    started = time.time()
    spark: SparkSession | None = None
    phases = Phases()
    try:
        args = parse_job_args(argv)
        spark = build_session(f"ddb-lake {KINDS[kind]} {args['run_key']}", args["aws_endpoint"], args["aws_region"])
    except BaseException as e:  # every failure must leave a summary
        summary = complete_summary(
            {"runKey": None, "kind": kind, "status": "failed", "error": error_text(e)}, started, time.time()
        )
        _print_summary(summary)
        if spark is not None:
            spark.stop()
        if isinstance(e, JobError):
            raise JobError(summary["error"]) from None
        raise
    phases.mark("session")
    summary, failure = run_one(spark, kind, args["manifest"] or "", args["run_key"] or "", started, phases)
    spark.stop()
    _print_summary(summary)
    if failure is not None:
        if isinstance(failure, JobError):
            raise JobError(summary["error"]) from None
        raise failure


def run_one(
    spark: SparkSession,
    kind: str,
    manifest_uri: str,
    run_key: str,
    started: float | None = None,
    phases: Phases | None = None,
) -> tuple[dict[str, Any], BaseException | None]:
    """One run on a session that outlives it (the one-shot job's, or the warm engine's): the summary,
    written to the manifest's summaryUri, and the failure if there was one. Never raises."""
    started = time.time() if started is None else started
    summary: dict[str, Any] = {"runKey": run_key or None, "kind": kind, "status": "failed"}
    manifest: Manifest | None = None
    failure: BaseException | None = None
    phases = phases or Phases()
    try:
        manifest = load_manifest(spark, manifest_uri, kind, run_key)
        summary["kind"] = manifest.kind
        summary.update(run(spark, manifest, phases))
        summary["status"] = "succeeded"
    except BaseException as e:  # every failure must leave a summary
        summary["error"] = error_text(e)
        failure = e
    complete_summary(summary, started, time.time())
    if manifest is not None:
        try:
            storage.write_text(spark, manifest.summary_uri, json.dumps(summary, indent=2) + "\n")
        except Exception as e:  # the printed summary still tells the runner
            summary.setdefault("warnings", []).append(f"could not write {manifest.summary_uri}: {error_text(e)}")
    return summary, failure


def summary_line(summary: dict[str, Any]) -> str:
    return SUMMARY_PREFIX + json.dumps(summary, separators=(",", ":"))


def _print_summary(summary: dict[str, Any]) -> None:
    sys.stderr.flush()
    print(summary_line(summary), flush=True)


def complete_summary(summary: dict[str, Any], started: float, finished: float) -> dict[str, Any]:
    """Every field the contract requires (core/contracts/job-summary.schema.json), whatever the run did."""
    summary.setdefault("recordsRead", 0)
    for k in ("upserted", "deleted", "rejected", "superseded", "overflowed"):
        summary.setdefault(k, 0)
    summary.setdefault("commitInstant", None)
    summary["durationSeconds"] = round(finished - started, 3)
    summary["startedAt"] = _iso(started)
    summary["finishedAt"] = _iso(finished)
    return summary


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def load_manifest(spark: SparkSession, uri: str, kind: str, run_key: str) -> Manifest:
    try:
        text = storage.read_text(spark, uri)
    except Exception as e:
        raise JobError(f"cannot read manifest {uri}: {error_text(e)}") from None
    return parse_manifest(text, uri, kind, run_key)


def run(spark: SparkSession, manifest: Manifest, phases: Phases | None = None) -> dict[str, Any]:
    spark.conf.set("spark.sql.ansi.enabled", "false")
    phases = phases or Phases()
    if manifest.kind == "initialLoad":
        result = run_initial_load(spark, manifest, phases)
    elif manifest.kind == "compaction":
        result = run_compaction(spark, manifest, phases)
    else:
        result = run_incremental(spark, manifest, phases)
    result["phases"] = phases.times
    return result


def run_manifest_uri(
    spark: SparkSession, manifest_uri: str, kind: str, run_key: str, aws_endpoint: str | None = None
) -> dict[str, Any]:
    """In-process run for tests: like `main`, but on an existing session and returning the summary."""
    if aws_endpoint:
        configure_local_s3(spark, aws_endpoint)
    started = time.time()
    manifest = load_manifest(spark, manifest_uri, kind, run_key)
    summary: dict[str, Any] = {"runKey": run_key, "kind": manifest.kind, "status": "succeeded"}
    summary.update(run(spark, manifest))
    complete_summary(summary, started, time.time())
    storage.write_text(spark, manifest.summary_uri, json.dumps(summary, indent=2) + "\n")
    return summary
