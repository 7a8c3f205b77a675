"""The compaction run (manifest kind `compaction`, run by the incremental job): Hudi compaction of a
merge-on-read table (schedule + execute, bounded IO) and cleaning, through Hudi's write client.

The workflow runs it between two ingest batches of the pipeline, never beside one: Hudi treats a
table service in another process as a second writer, which needs a lock provider and optimistic
concurrency control (docs/contracts.md, "Compaction and cleaning"). One writer at a time keeps
Hudi's single-writer guarantees without a lock.

Idempotent under its run key: the compaction commit carries `_ddb_lake_run_key`; a retried attempt
(`…-a2`) of a run whose compaction completed reports it (`alreadyDone`); one whose plan was scheduled
but not completed (the job died) executes that plan — Hudi rolls back a half-done execution first.
"""

import json
import re
from typing import Any

from pyspark.sql import SparkSession

from . import hudi_table, layout, timeline
from .columns import Plan
from .errors import JobError
from .manifest import CompactionSpec, Manifest
from .steps import Phases

STRATEGY = "org.apache.hudi.table.action.compact.strategy.LogFileSizeBasedCompactionStrategy"


def run_stem(run_key: str) -> str:
    """The run key without its attempt suffix: every attempt of one run shares it."""
    return re.sub(r"-a\d+$", "", run_key)


def run_compaction(spark: SparkSession, manifest: Manifest, phases: Phases) -> dict[str, Any]:
    table = manifest.table
    spec = manifest.compaction or CompactionSpec()
    if not timeline.table_exists(spark, table.lake_location):
        raise JobError(f"there is no lake at {table.lake_location} to compact (run the initial load first)")
    tl = timeline.read_timeline(spark, table.lake_location)
    table_type = timeline.table_type(spark, table.lake_location)
    _, extra = timeline.require_plan(tl, spark)
    plan = Plan.from_json(extra[timeline.PLAN_KEY])
    chosen = (
        layout.IndexLayout.from_json(extra[timeline.INDEX_KEY]) if timeline.INDEX_KEY in extra else layout.legacy(table)
    )
    result: dict[str, Any] = {
        "tableType": table_type,
        "index": chosen.describe(),
        "compactionInstant": None,
        "alreadyDone": False,
        "fileGroupsCompacted": 0,
        "logFilesCompacted": 0,
        "logBytesCompacted": 0,
        "recordsWritten": 0,
        "bytesWritten": 0,
        "cleanInstant": None,
        "filesCleaned": 0,
    }
    phases.mark("plan")
    client = _write_client(spark, table, plan, table_type, chosen, spec, manifest.run_key)
    try:
        if table_type == "MERGE_ON_READ" and spec.compact:
            result.update(_compact(spark, client, tl, manifest.run_key))
            phases.mark("compaction")
        if spec.clean:
            cleaned = client.clean()
            if cleaned is not None:
                result["cleanInstant"] = str(cleaned.getStartCleanTime())
                result["filesCleaned"] = int(cleaned.getTotalFilesDeleted())
            phases.mark("clean")
    finally:
        client.close()
    return result


def _compact(spark: SparkSession, client, tl: timeline.Timeline, run_key: str) -> dict[str, Any]:
    jvm = spark.sparkContext._jvm
    option = jvm.org.apache.hudi.common.util.Option
    extra = jvm.java.util.HashMap()
    extra.put(timeline.RUN_KEY, run_key)
    stem = run_stem(run_key)
    done = next(
        (
            i
            for i in tl.completed
            if i.action == "commit" and run_stem(tl.extra(spark, i).get(timeline.RUN_KEY, "")) == stem
        ),
        None,
    )
    if done is not None:
        return dict(_figures(tl.metadata(spark, done)), compactionInstant=done.time, alreadyDone=True)
    if tl.pending_compactions:
        # A plan an earlier attempt (or run) scheduled: Hudi needs it done before another; this run does it.
        instant = tl.pending_compactions[0]
    else:
        scheduled = client.scheduleCompaction(option.of(extra))
        if not scheduled.isPresent():
            return {}  # no file group has log files: nothing to compact
        instant = scheduled.get()
    return dict(_execute(spark, client, instant, run_key), compactionInstant=instant)


def _execute(spark: SparkSession, client, instant: str, run_key: str) -> dict[str, int]:
    jvm = spark.sparkContext._jvm
    extra = jvm.java.util.HashMap()
    extra.put(timeline.RUN_KEY, run_key)
    written = client.compact(instant)
    metadata = written.getCommitMetadata().get()
    client.commitCompaction(instant, metadata, jvm.org.apache.hudi.common.util.Option.of(extra))
    return _figures(json.loads(metadata.toJsonString()))


def complete_pending(spark: SparkSession, table, plan: Plan, chosen, pending: list[str], run_key: str) -> None:
    """Executes compaction plans left pending by a failed compaction run. The incremental job calls it
    before it writes: hudi-rs 0.5 does not read log files written after a pending plan (the file
    slice of the plan's instant has no base file yet) until the plan is executed."""
    client = _write_client(spark, table, plan, "MERGE_ON_READ", chosen, CompactionSpec(), run_key)
    try:
        for instant in pending:
            _execute(spark, client, instant, run_key)
    finally:
        client.close()


def _figures(metadata: dict) -> dict[str, int]:
    stats = [s for group in (metadata.get("partitionToWriteStats") or {}).values() for s in group or []]
    return {
        "fileGroupsCompacted": len(stats),
        "logFilesCompacted": sum(int(s.get("totalLogFilesCompacted") or 0) for s in stats),
        "logBytesCompacted": sum(int(s.get("totalLogSizeCompacted") or 0) for s in stats),
        "recordsWritten": sum(int(s.get("numWrites") or 0) for s in stats),
        "bytesWritten": sum(int(s.get("totalWriteBytes") or 0) for s in stats),
    }


def _write_client(spark: SparkSession, table, plan: Plan, table_type: str, chosen, spec: CompactionSpec, run_key: str):
    """Hudi's Spark write client with the same options as the ingest writes (same index, payload,
    metadata-table setting: a writer with another metadata setting would drop the metadata table)."""
    opts = hudi_table.write_options(spark, table, plan, "upsert", run_key, table_type, chosen)
    opts.update(
        {
            # The workflow decides when; Hudi's own trigger would wait for 5 delta commits.
            "hoodie.compact.inline.trigger.strategy": "NUM_COMMITS",
            "hoodie.compact.inline.max.delta.commits": "1",
            # Bounded IO: the file groups with the most log data first, until maxIoMb read + written.
            "hoodie.compaction.strategy": STRATEGY,
            "hoodie.compaction.target.io": str(spec.max_io_mb),
            # 0.15 names; Hudi 1.x reads hoodie.clean.commits.retained / hoodie.clean.trigger.max.commits.
            "hoodie.cleaner.commits.retained": str(spec.retain_commits),
            "hoodie.clean.commits.retained": str(spec.retain_commits),
            "hoodie.clean.max.commits": "1",
            "hoodie.clean.trigger.max.commits": "1",
            "hoodie.clean.automatic": "false",
        }
    )
    opts.update(hudi_table.overrides(spark))
    jvm = spark.sparkContext._jvm
    options = jvm.scala.collection.immutable.HashMap()
    for k, v in opts.items():
        options = options.updated(k, v)
    return jvm.org.apache.hudi.HoodieCLIUtils.createHoodieWriteClient(
        spark._jsparkSession, table.lake_location, options, jvm.scala.Option.empty()
    )
