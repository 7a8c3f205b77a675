"""The ordering check of the incremental job (docs/ordering.md, "The ordering check").

Invariant: a version is written to the lake only when its ordering value is strictly larger than
everything the lake holds for its key (its row, or the delete that removed it). Then every merge
path — Spark's snapshot read, compaction, hudi-rs, Athena's `_rt` table, even a merge by commit
time — gives the same row, whatever it does with ordering values (apache/hudi#17642).

How the job decides it without a lookup in the lake for every version:
- `highWater`: the largest ordering value ever written to the lake (the initial load included). A
  version above it is newer than anything stored: written, no lookup. The common case.
- The *candidates* (ordering <= highWater: late files, retries, replays, shards interleaving,
  ordering attributes that go back in time) are checked against the **recent versions**: one small
  JSON-lines file per batch of (record key, ordering, deleted, time) for every version it wrote,
  listed with its largest ordering value in the state. A file whose largest value is below every
  candidate cannot supersede any of them and is not read.
- `floor`: the largest ordering value written in batches the recent versions no longer cover (the
  initial load, pruned files). A candidate that is not superseded by a recent version and is above
  the floor is newer than anything older than the recent versions too: written. One at or below
  the floor falls back to the lake: its tombstone and its stored row (Spark's snapshot read, exact
  on merge-on-read because of the invariant). Rare, and counted (`orderingLakeLookups`).

The state lives in the extra metadata of the commit that wrote the batch (`_ddb_lake_ordering_state`),
so it changes atomically with the lake: a file of a run that failed before its commit is listed
nowhere (and removed with the next merge).
"""

import json
from dataclasses import asdict, dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import storage
from .columns import DELETED_COLUMN, ORDERING_COLUMN

VERSIONS_SCHEMA = "k string, o string, d boolean, at bigint"
STATE_VERSION = 1
# Batches of up to this many written versions are written by the driver (one small file, no Spark job).
DRIVER_WRITE_MAX = 50_000
# Up to this many candidates, and recent versions to read for them, are checked in the driver: a
# few dicts instead of a JSON read of every file and a join (Spark's overhead outweighed the work).
DRIVER_CHECK_MAX = 200_000
# More individual files than MERGE_AT: all but the newest KEEP_INDIVIDUAL are merged into one file
# (per key the largest version), so a candidate never makes the job read hundreds of small files.
MERGE_AT = 64
KEEP_INDIVIDUAL = 16


@dataclass
class VersionsFile:
    name: str
    max: str  # the largest ordering value in the file
    rows: int
    at: int  # epoch ms of the batch (a merged file: of its newest entry)
    merged: bool = False


@dataclass
class LogCount:
    """Delta commits that wrote log files after compaction `after` (None: no compaction yet) and
    their log bytes, counted through instant `through` (the commit holding this count is not in it)."""

    after: str | None = None
    through: str | None = None
    bytes: int = 0
    commits: int = 0


@dataclass
class OrderingState:
    high_water: str | None = None
    floor: str | None = None
    files: list[VersionsFile] = field(default_factory=list)
    log: LogCount = field(default_factory=LogCount)

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": STATE_VERSION,
                "highWater": self.high_water,
                "floor": self.floor,
                "files": [asdict(f) for f in self.files],
                "log": asdict(self.log),
            },
            separators=(",", ":"),
        )

    @staticmethod
    def from_json(text: str) -> "OrderingState":
        raw = json.loads(text)
        return OrderingState(
            raw.get("highWater"),
            raw.get("floor"),
            [VersionsFile(**f) for f in raw.get("files") or []],
            LogCount(**(raw.get("log") or {})),
        )


def larger(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass
class CheckStats:
    candidates: int = 0
    files_read: int = 0
    lake_lookups: int = 0
    tombstones_read: bool = False


def superseded_candidates(
    spark: SparkSession,
    valid: DataFrame,
    state: OrderingState,
    candidate_min: str,
    candidate_count: int,
    versions_location: str,
    fallback_lookup,
) -> tuple[DataFrame | None, CheckStats]:
    """The candidates of `valid` (ordering <= highWater) that must not be written: (key, op) rows,
    or None when the driver found none. `fallback_lookup(df)` returns the rows of `df` (key, op,
    ordering, key columns) superseded in the lake or its tombstones."""
    stats = CheckStats()
    assert state.high_water is not None
    files = [f for f in state.files if f.max >= candidate_min]
    stats.files_read = len(files)
    recent_rows = sum(f.rows for f in files)
    if candidate_count <= DRIVER_CHECK_MAX and recent_rows <= DRIVER_CHECK_MAX:
        return _check_in_driver(spark, valid, state, files, versions_location, fallback_lookup, stats)
    candidates = valid.filter(F.col(ORDERING_COLUMN) <= F.lit(state.high_water))
    if files:
        recent = (
            spark.read.schema(VERSIONS_SCHEMA)
            .json([storage.join(versions_location, f.name) for f in files])
            .groupBy("k")
            .agg(F.max("o").alias("_recent"))
        )
        checked = candidates.join(
            F.broadcast(recent) if recent_rows <= DRIVER_CHECK_MAX else recent,
            candidates["key"] == recent["k"],
            "left",
        ).drop("k")
    else:
        checked = candidates.withColumn("_recent", F.lit(None).cast("string"))
    checked = checked.persist()
    dropped = checked.filter(F.col("_recent") >= F.col(ORDERING_COLUMN)).select("key", "op")
    if state.floor is not None:
        # Not superseded by a recent version, but the recent versions do not reach back that far.
        fallback = checked.filter(
            (F.col("_recent").isNull() | (F.col("_recent") < F.col(ORDERING_COLUMN)))
            & (F.col(ORDERING_COLUMN) <= F.lit(state.floor))
        ).drop("_recent")
        stats.lake_lookups = fallback.count()
        if stats.lake_lookups:
            stats.tombstones_read = True
            dropped = dropped.unionByName(fallback_lookup(fallback).select("key", "op"))
    return dropped, stats


def _check_in_driver(
    spark: SparkSession,
    valid: DataFrame,
    state: OrderingState,
    files: list[VersionsFile],
    versions_location: str,
    fallback_lookup,
    stats: CheckStats,
) -> tuple[DataFrame | None, CheckStats]:
    """superseded_candidates for a batch whose candidates and recent versions fit the driver."""
    candidates = (
        valid.filter(F.col(ORDERING_COLUMN) <= F.lit(state.high_water)).select("key", "op", ORDERING_COLUMN).collect()
    )
    wanted = {r["key"] for r in candidates}
    recent: dict[str, str] = {}
    for f in files:
        for k, o in read_versions(spark, storage.join(versions_location, f.name), wanted):
            if o > recent.get(k, ""):
                recent[k] = o
    dropped, fallback = [], []
    for r in candidates:
        newest = recent.get(r["key"])
        if newest is not None and newest >= r[ORDERING_COLUMN]:
            dropped.append((r["key"], r["op"]))
        elif state.floor is not None and r[ORDERING_COLUMN] <= state.floor:
            # Not superseded by a recent version, but the recent versions do not reach back that far.
            fallback.append((r["key"], r[ORDERING_COLUMN]))
    stats.lake_lookups = len(fallback)
    if not dropped and not fallback:
        return None, stats
    out = spark.createDataFrame(dropped, "key string, op string")
    if fallback:
        stats.tombstones_read = True
        keys = spark.createDataFrame(fallback, f"key string, {ORDERING_COLUMN} string")
        rows = valid.join(F.broadcast(keys), ["key", ORDERING_COLUMN], "left_semi")
        out = out.unionByName(fallback_lookup(rows).select("key", "op"))
    return out, stats


def read_versions(spark: SparkSession, uri: str, keys: set[str]):
    """(k, o) of the entries of one recent-versions file (or a folder of part files) whose key is in
    `keys`, read in the driver."""
    if uri.endswith(".json"):
        parts = [uri]
    else:
        parts = [storage.join(uri, n) for n in sorted(storage.list_names(spark, uri)) if n.endswith(".json")]
    for part in parts:
        for line in storage.read_bytes(spark, part).splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry["k"] in keys:
                yield entry["k"], entry["o"]


def write_batch_file(
    spark: SparkSession,
    versions_location: str,
    written: DataFrame,
    rows: int,
    batch_max: str,
    run_key: str,
    now_ms: int,
) -> VersionsFile:
    """The versions this batch writes to the lake, as (key, ordering, deleted, time) lines."""
    columns = written.select(
        F.col("key").alias("k"), F.col(ORDERING_COLUMN).alias("o"), F.col(DELETED_COLUMN).alias("d")
    )
    if rows <= DRIVER_WRITE_MAX:
        name = f"{run_key}.json"
        lines = [
            json.dumps({"k": r[0], "o": r[1], "d": bool(r[2]), "at": now_ms}, ensure_ascii=False, separators=(",", ":"))
            for r in columns.collect()
        ]
        storage.write_text(spark, storage.join(versions_location, name), "".join(line + "\n" for line in lines))
    else:
        name = run_key
        columns.withColumn("at", F.lit(now_ms)).coalesce(1).write.mode("overwrite").json(
            storage.join(versions_location, name)
        )
    return VersionsFile(name, batch_max, rows, now_ms)


def expire(state: OrderingState, retention_hours: float, now_ms: int) -> tuple[OrderingState, list[VersionsFile]]:
    """The state without the files older than the retention (the floor rises to their largest value),
    and those files: their deletes go to the tombstones before anything relies on the new floor."""
    cutoff = now_ms - int(retention_hours * 3_600_000)
    floor, kept, expired = state.floor, [], []
    for f in state.files:
        if f.at < cutoff:
            floor = larger(floor, f.max)
            expired.append(f)
        else:
            kept.append(f)
    return OrderingState(state.high_water, floor, kept, state.log), expired


def deletes_in(spark: SparkSession, versions_location: str, files: list[VersionsFile]) -> DataFrame:
    """(k, o) of each key whose newest version in these files is a delete."""
    entries = spark.read.schema(VERSIONS_SCHEMA).json([storage.join(versions_location, f.name) for f in files])
    newest = entries.groupBy("k").agg(F.max(F.struct("o", "d")).alias("v"))
    return newest.filter(F.col("v.d")).select("k", F.col("v.o").alias("o"))


def next_state(
    spark: SparkSession,
    state: OrderingState,
    new_file: VersionsFile,
    batch_max: str | None,
    versions_location: str,
    retention_hours: float,
    now_ms: int,
    run_key: str,
    log: LogCount,
) -> tuple[OrderingState, list[str], DataFrame | None]:
    """The state after this batch (`state`: already expired): its file added, many small files
    merged. Returns it, the names to delete after the commit, and (k, o) of the deletes the merge
    left out for their age (they go to the tombstones before the commit)."""
    floor, kept, obsolete, aged_deletes = state.floor, [*state.files, new_file], [], None
    individual = sorted((f for f in kept if not f.merged), key=lambda f: f.at)
    if len(individual) > MERGE_AT:
        to_merge = [f for f in kept if f.merged] + individual[:-KEEP_INDIVIDUAL]
        cutoff = now_ms - int(retention_hours * 3_600_000)
        merged, dropped_max, aged_deletes = _merge(spark, versions_location, to_merge, cutoff, run_key)
        floor = larger(floor, dropped_max)
        kept = ([merged] if merged else []) + individual[-KEEP_INDIVIDUAL:]
        obsolete += [f.name for f in to_merge]
        obsolete += _orphans(spark, versions_location, {f.name for f in kept} | set(obsolete))
    return OrderingState(larger(state.high_water, batch_max), floor, kept, log), obsolete, aged_deletes


def _merge(
    spark: SparkSession, versions_location: str, files: list[VersionsFile], cutoff: int, run_key: str
) -> tuple[VersionsFile | None, str | None, DataFrame]:
    """One file with each key's largest version; keys whose largest version is older than the
    retention are left out (their largest ordering value raises the floor; their deletes are returned)."""
    entries = spark.read.schema(VERSIONS_SCHEMA).json([storage.join(versions_location, f.name) for f in files])
    newest = (
        entries.groupBy("k").agg(F.max(F.struct("o", "d", "at")).alias("v")).select("k", "v.o", "v.d", "v.at").persist()
    )
    summary = newest.agg(
        F.count(F.when(F.col("at") >= cutoff, 1)).alias("kept"),
        F.max(F.when(F.col("at") >= cutoff, F.col("o"))).alias("kept_max"),
        F.max(F.when(F.col("at") >= cutoff, F.col("at"))).alias("kept_at"),
        F.max(F.when(F.col("at") < cutoff, F.col("o"))).alias("dropped_max"),
    ).collect()[0]
    merged = None
    if summary["kept"]:
        name = f"merged-{run_key}"
        newest.filter(F.col("at") >= cutoff).coalesce(1).write.mode("overwrite").json(
            storage.join(versions_location, name)
        )
        merged = VersionsFile(name, summary["kept_max"], summary["kept"], summary["kept_at"], merged=True)
    return merged, summary["dropped_max"], newest.filter((F.col("at") < cutoff) & F.col("d")).select("k", "o")


def _orphans(spark: SparkSession, versions_location: str, known: set) -> list[str]:
    """Files of runs that failed before their commit (listed in no state)."""
    return [n for n in storage.list_names(spark, versions_location) if n not in known and not n.startswith(("_", "."))]


def delete_files(spark: SparkSession, versions_location: str, names: list[str]) -> None:
    for name in names:
        storage.delete(spark, storage.join(versions_location, name))


def to_extra(state: OrderingState) -> dict[str, str]:
    from .timeline import STATE_KEY

    return {STATE_KEY: state.to_json()}
