"""The incremental job: landing files -> upserts and deletes of the lake, per key the largest ordering
value winning, and no version that is not newer than what the lake holds ever written
(docs/ordering.md; the check itself is versions.py)."""

import time
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import compaction_job, hudi_table, layout, timeline, versions
from .columns import ORDERING_COLUMN, OVERFLOW_COLUMN, Plan, extend_plan
from .lake import attribute_stats, key_columns_from_text, lake_columns, project, read_records, rejected_rows
from .manifest import Manifest, TableSpec
from .records import BEFORE_EXPORT, DecodeContext
from .steps import Phases, check_rejected_share, derived_index, empty_records, reject, release, write_rejects
from .versions import LogCount, OrderingState, larger


def now_ms_clock() -> int:
    """Wall-clock time the recent versions are stamped and expired by (a seam for tests)."""
    return int(time.time() * 1000)


class LakeState:
    """What the job reads of the lake before it writes: type, plan, index layout, ordering state."""

    def __init__(self, spark: SparkSession, table: TableSpec):
        self.exists = timeline.table_exists(spark, table.lake_location)
        self.table_type = table.table_type
        self.plan: Plan | None = None
        self.layout = layout.legacy(table)
        self.state: OrderingState | None = None
        self.timeline: timeline.Timeline | None = None
        if not self.exists:
            return
        # The table decides: a manifest's tableType only shapes a new table (initial load).
        self.table_type = timeline.table_type(spark, table.lake_location)
        self.timeline = timeline.read_timeline(spark, table.lake_location)
        _, extra = timeline.require_plan(self.timeline, spark)
        self.plan = Plan.from_json(extra[timeline.PLAN_KEY])
        if timeline.INDEX_KEY in extra:
            self.layout = layout.IndexLayout.from_json(extra[timeline.INDEX_KEY])
        if timeline.STATE_KEY in extra:
            self.state = OrderingState.from_json(extra[timeline.STATE_KEY])

    @property
    def merge_on_read(self) -> bool:
        return self.table_type == "MERGE_ON_READ"


def run_incremental(spark: SparkSession, manifest: Manifest, phases: Phases) -> dict[str, Any]:
    table = manifest.table
    ctx = DecodeContext.of(table, loaded_export_ms=manifest.loaded_export_ms)
    records = (
        read_records(spark, manifest.files, ctx, small_in_driver=True) if manifest.files else empty_records(spark, ctx)
    )
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
    lake = LakeState(spark, table)
    stats = attribute_stats(latest) if good_n else []
    plan = extend_plan(lake.plan, stats, table, table.key_types) if stats or lake.plan else None
    result: dict[str, Any] = {
        "recordsRead": read,
        "upserted": 0,
        "deleted": 0,
        "rejected": decode_rejected,
        "superseded": 0,
        "overflowed": 0,
        "newColumns": [],
        "commitInstant": None,
        "rejectedUri": manifest.rejected_location if decode_rejected else None,
        "tableType": lake.table_type,
        "index": lake.layout.describe(),
    }
    if plan is None or not good_n:
        if decode_rejected:
            write_rejects(manifest, [rejected_rows(records)])
        check_rejected_share(manifest, decode_rejected, read)
        release(records)
        return result
    old_names = {c.name for c in lake.plan.columns} if lake.plan else set()
    projected = project(latest, plan, table, derived_index(table)).persist()
    state = lake.state if lake.state is not None else _bootstrap_state(spark, table, plan, lake)
    now_ms = now_ms_clock()
    state, expired = versions.expire(state, table.versions_retention_hours, now_ms)
    tombstones_written = 0
    if expired:
        # Before the check relies on the risen floor: the expired files' deletes become tombstones.
        tombstones_written = _write_tombstones(
            spark, table, plan, versions.deletes_in(spark, table.versions_location, expired), manifest.run_key
        )
        phases.mark("tombstones")
    counts = _batch_counts(projected, state.high_water)
    bad_keys = counts.bad_keys
    rejected = reject(manifest, records, projected, decode_rejected, bad_keys, read)
    phases.mark("plan")
    valid = projected.filter(F.col("bad_key").isNull())
    check = versions.CheckStats(candidates=counts.candidates)
    upserted, deleted, overflowed = counts.upserts, counts.deletes, counts.overflow
    if counts.candidates:
        dropped, check = versions.superseded_candidates(
            spark,
            valid,
            state,
            counts.candidate_min,
            counts.candidates,
            table.versions_location,
            lambda df: _superseded_in_lake(spark, table, plan, lake, df),
        )
        check.candidates = counts.candidates
        if dropped is not None:
            dropped = dropped.distinct().persist()
            if dropped.count():
                valid = valid.join(dropped.select("key"), "key", "left_anti")
                upserted, deleted, overflowed = _written_counts(valid)
        phases.mark("ordering check")
    result.update(
        upserted=upserted,
        deleted=deleted,
        rejected=rejected,
        superseded=good_n - bad_keys - upserted - deleted,
        overflowed=overflowed,
        newColumns=[c.name for c in plan.columns if c.name not in old_names],
        rejectedUri=manifest.rejected_location if rejected else None,
        orderingCandidates=check.candidates,
        orderingLakeLookups=check.lake_lookups,
        versionsFilesRead=check.files_read,
        tombstonesRead=check.tombstones_read,
        tombstonesWritten=tombstones_written,
    )
    if upserted or deleted:
        valid = valid.persist()
        result.update(
            _write(
                spark,
                manifest,
                plan,
                lake,
                state,
                valid,
                upserted,
                deleted,
                counts.batch_max,
                now_ms,
                [f.name for f in expired],
                phases,
            )
        )
        result["tombstonesWritten"] += result.pop("agedTombstones", 0)
    elif lake.merge_on_read and lake.timeline is not None:
        result.update(_log_figures(_log_count(spark, lake.timeline, lake.table_type, state.log)))
    projected.unpersist()
    latest.unpersist()
    release(records)
    return result


class BatchCounts:
    def __init__(self, rows: list[Any]):
        by = {(r["op"], r["bad"]): r for r in rows}
        good = [r for (_, bad), r in by.items() if not bad]
        self.upserts = by[("upsert", False)]["n"] if ("upsert", False) in by else 0
        self.deletes = by[("delete", False)]["n"] if ("delete", False) in by else 0
        self.overflow = by[("upsert", False)]["overflow"] if ("upsert", False) in by else 0
        self.bad_keys = sum(r["n"] for (_, bad), r in by.items() if bad)
        self.candidates = sum(r["candidates"] or 0 for r in good)
        self.candidate_min = min((r["candidate_min"] for r in good if r["candidate_min"] is not None), default=None)
        self.batch_max = max((r["max"] for r in good if r["max"] is not None), default=None)


def _batch_counts(projected: DataFrame, high_water: str | None) -> BatchCounts:
    """Per (op, bad key): rows, rows with overflow, largest ordering, candidates (ordering <= the
    high-water mark) and their smallest ordering — one pass."""
    is_candidate = F.col(ORDERING_COLUMN) <= F.lit(high_water) if high_water is not None else F.lit(False)
    rows = (
        projected.groupBy("op", F.col("bad_key").isNotNull().alias("bad"))
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count(OVERFLOW_COLUMN).alias("overflow"),
            F.max(ORDERING_COLUMN).alias("max"),
            F.sum(is_candidate.cast("int")).alias("candidates"),
            F.min(F.when(is_candidate, F.col(ORDERING_COLUMN))).alias("candidate_min"),
        )
        .collect()
    )
    return BatchCounts(rows)


def _written_counts(valid: DataFrame) -> tuple[int, int, int]:
    rows = {
        r["op"]: r
        for r in valid.groupBy("op")
        .agg(F.count(F.lit(1)).alias("n"), F.count(OVERFLOW_COLUMN).alias("overflow"))
        .collect()
    }
    up = rows.get("upsert")
    return (up["n"] if up else 0), (rows["delete"]["n"] if "delete" in rows else 0), (up["overflow"] if up else 0)


def _superseded_in_lake(
    spark: SparkSession, table: TableSpec, plan: Plan, lake: LakeState, fallback: DataFrame
) -> DataFrame:
    """Versions older than the recent versions reach back: compared with their key's tombstone (a
    version older than the delete stays out; an equal one is that delete itself, applied again) and
    with the stored row (both table types, so both write exactly the same versions; copy-on-write's
    writer would also keep the stored row)."""
    keys = hudi_table.tombstone_key_columns(table, plan)
    out = []
    tombstones = hudi_table.read_tombstones(spark, table, plan)
    if tombstones is not None:
        tomb = tombstones.withColumnRenamed(ORDERING_COLUMN, "_tomb_ordering")
        out.append(
            fallback.join(tomb, keys, "inner")
            .filter(F.col("_tomb_ordering") > F.col(ORDERING_COLUMN))
            .select("key", "op")
        )
    if lake.exists:
        stored = layout.partitions_of(table, plan, fallback, spark.read.format("hudi").load(table.lake_location))
        stored = stored.select(*keys, F.col(ORDERING_COLUMN).alias("_stored_ordering"))
        out.append(
            fallback.join(stored, keys, "inner")
            .filter(F.col("_stored_ordering") >= F.col(ORDERING_COLUMN))
            .select("key", "op")
        )
    if not out:
        return fallback.limit(0).select("key", "op")
    dropped = out[0]
    for d in out[1:]:
        dropped = dropped.unionByName(d)
    return dropped


def _bootstrap_state(spark: SparkSession, table: TableSpec, plan: Plan, lake: LakeState) -> OrderingState:
    """A table written before the ordering state existed: its largest ordering value (rows and
    tombstones) starts the check; read once, then carried in the commits."""
    high = None
    if lake.exists:
        high = spark.read.format("hudi").load(table.lake_location).agg(F.max(ORDERING_COLUMN)).collect()[0][0]
    tombstones = hudi_table.read_tombstones(spark, table, plan)
    if tombstones is not None:
        high = larger(high, tombstones.agg(F.max(ORDERING_COLUMN)).collect()[0][0])
    return OrderingState(high_water=high, floor=high)


def _write(
    spark: SparkSession,
    manifest: Manifest,
    plan: Plan,
    lake: LakeState,
    state: OrderingState,
    valid: DataFrame,
    upserted: int,
    deleted: int,
    batch_max: str | None,
    now_ms: int,
    expired: list[str],
    phases: Phases,
) -> dict[str, Any]:
    table = manifest.table
    tl = lake.timeline
    pending = tl.pending_compactions if tl is not None and lake.merge_on_read else []
    if pending:
        # A compaction run failed after scheduling its plan: finish it before writing (see complete_pending).
        compaction_job.complete_pending(spark, table, plan, lake.layout, pending, manifest.run_key)
        tl = timeline.read_timeline(spark, table.lake_location)
        phases.mark("pending compaction")
    log = _log_count(spark, tl, lake.table_type, state.log) if tl is not None else LogCount()
    new_file = versions.write_batch_file(
        spark, table.versions_location, valid, upserted + deleted, batch_max or "", manifest.run_key, now_ms
    )
    new_state, obsolete, aged_deletes = versions.next_state(
        spark,
        state,
        new_file,
        batch_max,
        table.versions_location,
        table.versions_retention_hours,
        now_ms,
        manifest.run_key,
        log,
    )
    phases.mark("versions")
    aged = 0
    if aged_deletes is not None:
        # Deletes leaving the recent versions (merged away for their age): kept as tombstones. A
        # batch's own deletes are in its recent-versions file, committed with the lake.
        aged = _write_tombstones(spark, table, plan, aged_deletes, manifest.run_key)
        phases.mark("tombstones")

    def options(state_now: OrderingState) -> dict[str, str]:
        extra = {timeline.INDEX_KEY: lake.layout.to_json(), **versions.to_extra(state_now)}
        return hudi_table.write_options(
            spark, table, plan, "upsert", manifest.run_key, lake.table_type, lake.layout, extra
        )

    if lake.merge_on_read and lake.layout.is_global and deleted and upserted:
        # A row that moves partition leaves a delete Hudi orders by 0; hudi-rs 0.5 cannot read a delete
        # block that mixes it with our ordered deletes, so the deletes get a commit of their own first
        # (it keeps the old state: a retry after it applies them again, which changes nothing).
        hudi_table.write(
            valid.filter(F.col("op") == "delete").select(*lake_columns(plan)),
            table.lake_location,
            options(state),
            overwrite=False,
        )
        valid = valid.filter(F.col("op") == "upsert")
    hudi_table.write(valid.select(*lake_columns(plan)), table.lake_location, options(new_state), overwrite=False)
    phases.mark("write")
    versions.delete_files(spark, table.versions_location, obsolete + expired)
    after = timeline.read_timeline(spark, table.lake_location)
    before = set(tl.completed) if tl is not None else set()
    mine = [
        i
        for i in after.completed
        if i not in before and after.extra(spark, i).get(timeline.RUN_KEY) == manifest.run_key
    ]
    out: dict[str, Any] = {
        "agedTombstones": aged,
        "pendingCompactionsCompleted": pending,
        "commitInstant": mine[0].time if mine else None,
        "bytesWritten": sum(after.bytes_written(spark, i) for i in mine),
    }
    if lake.merge_on_read:
        out.update(_log_figures(_log_count(spark, after, lake.table_type, log)))
    return out


def _write_tombstones(spark: SparkSession, table: TableSpec, plan: Plan, deletes: DataFrame, run_key: str) -> int:
    """Deletes `(k, o)` that leave the recent versions, upserted into the tombstone table (per key the
    larger ordering value wins there, so writing one twice changes nothing)."""
    rows = deletes.select(
        *key_columns_from_text(deletes, "k", plan, table), F.col("o").alias(ORDERING_COLUMN)
    ).persist()
    n = rows.count()
    if n:
        hudi_table.write(
            rows, table.tombstone_location, hudi_table.tombstone_options(spark, table, plan, run_key), overwrite=False
        )
    rows.unpersist()
    return n


def _log_count(spark: SparkSession, tl: timeline.Timeline, table_type: str, previous: LogCount) -> LogCount:
    """Delta commits that wrote log files after the last compaction, and their log bytes: the
    previous count plus the commits it has not counted (normally one: the previous batch's, whose
    metadata the job has read already for the state)."""
    if table_type != "MERGE_ON_READ":
        return LogCount()
    compaction = tl.last_compaction(table_type)
    deltas = tl.delta_commits_after(compaction)
    if previous.after == compaction:
        new = [d for d in deltas if previous.through is None or d.time > previous.through]
        count = LogCount(compaction, previous.through, previous.bytes, previous.commits)
    else:
        new, count = deltas, LogCount(compaction, None, 0, 0)
    for d in new:
        logged = tl.log_bytes(spark, d)
        if logged is not None:
            count.bytes += logged
            count.commits += 1
    if deltas:
        count.through = deltas[0].time
    return count


def _log_figures(count: LogCount) -> dict[str, Any]:
    """What the workflow decides a compaction by: delta commits and log bytes since the last one."""
    return {"deltaCommitsSinceCompaction": count.commits, "logBytesSinceCompaction": count.bytes}
