"""Merge-on-read: the ordering rules hold in every reader and after every compaction (docs/ordering.md,
"The ordering check"), and the compaction run does what docs/contracts.md says.

The trap (apache/hudi#17642): on merge-on-read, an older delete written after a newer version wins
in Spark's snapshot read and in compaction. The first test shows it with Hudi alone; the others show
the jobs never let it happen — read with Spark, hudi-rs and python/lake_reader, before and after a
compaction, on both table types, through the recent versions and through the lake fallback."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

from ddb_lake_glue import compaction_job
from ddb_lake_glue.jobs import run_manifest_uri
from helpers import (
    ddb_item,
    landing_line,
    read_with_hudi_rs,
    read_with_spark,
    uri,
    write_export,
    write_landing,
    write_manifest,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from lake_reader import read_snapshot

EXPORT_MS = 1_700_000_000_000
TABLE_TYPES = ["COPY_ON_WRITE", "MERGE_ON_READ"]


def test_hudi_alone_lets_an_older_delete_win_on_merge_on_read(spark, tmp_path: Path):
    """The reason for the ordering check: Hudi 0.15, bucket index, DefaultHoodieRecordPayload."""
    lake = uri(tmp_path / "naive")
    opts = {
        "hoodie.table.name": "naive",
        "hoodie.datasource.write.table.type": "MERGE_ON_READ",
        "hoodie.datasource.write.recordkey.field": "pk",
        "hoodie.datasource.write.precombine.field": "ord",
        "hoodie.payload.ordering.field": "ord",
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
        "hoodie.datasource.write.partitionpath.field": "",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
        "hoodie.index.type": "BUCKET",
        "hoodie.bucket.index.num.buckets": "1",
        "hoodie.metadata.enable": "false",
        "hoodie.embed.timeline.server": "false",
    }
    schema = "pk string, ord string, val string, _hoodie_is_deleted boolean"
    spark.createDataFrame([("a", "10", "stored", False), ("b", "10", "stored", False)], schema).write.format(
        "hudi"
    ).options(**opts).option("hoodie.datasource.write.operation", "bulk_insert").mode("overwrite").save(lake)
    spark.createDataFrame([("b", "05", "older delete", True)], schema).write.format("hudi").options(**opts).option(
        "hoodie.datasource.write.operation", "upsert"
    ).mode("append").save(lake)
    assert sorted(r["pk"] for r in read_with_spark(spark, lake)) == ["a"], (
        "Spark's snapshot read let the older delete win"
    )
    assert sorted(r["pk"] for r in read_with_hudi_rs(lake)) == ["a", "b"], "hudi-rs merged it by ordering"


def plain_table(lake: str, table_type: str, **overrides):
    table = {
        "lakeLocation": lake,
        "tableName": "items",
        "keyFields": ["pk"],
        "orderingField": "v",
        "derivedColumns": [],
        "partitionFields": [],
        "maxRejectedShare": 0,
        "keyTypes": {"pk": "S"},
        "tableType": table_type,
    }
    table.update(overrides)
    return table


class Lake:
    def __init__(self, spark, root: Path, table_type: str, items, **overrides):
        self.spark, self.root, self.n = spark, root, 0
        self.location = uri(root / "lake")
        self.table = plain_table(self.location, table_type, **overrides)
        export = write_export(root / "export", [ddb_item(i) for i in items], export_time_ms=EXPORT_MS)
        m = write_manifest(
            root / "m" / "il.json", "initialLoad", "il", self.table, export={"root": export, "exportTimeMs": EXPORT_MS}
        )
        self.load = run_manifest_uri(spark, m, "initialLoad", "il")

    def batch(self, *lines):
        self.n += 1
        key = f"inc-{self.n:03d}-a1"
        f = write_landing(self.root / "landing" / f"{key}.json", lines)
        m = write_manifest(
            self.root / "m" / f"{key}.json", "incremental", key, self.table, files=[f], loaded_export_ms=EXPORT_MS
        )
        return run_manifest_uri(self.spark, m, "incremental", key)

    def compact(self, run_key: str, **spec):
        path = self.root / "m" / f"{run_key}.json"
        path.write_text(
            json.dumps(
                {
                    "version": 1,
                    "runKey": run_key,
                    "pipeline": "test",
                    "kind": "compaction",
                    "table": self.table,
                    "compaction": spec,
                    "summaryUri": uri(self.root / "m" / f"{run_key}.summary.json"),
                }
            )
        )
        return run_manifest_uri(self.spark, uri(path), "incremental", run_key)

    def views(self):
        """Every reader's rows as {pk: (v, note)}: they must agree."""
        spark_rows = {r["pk"]: (r["v"], r["note"]) for r in read_with_spark(self.spark, self.location)}
        rs_rows = {r["pk"]: (r["v"], r["note"]) for r in read_with_hudi_rs(self.location)}
        snapshot = read_snapshot(self.location)
        reader_rows = {r["pk"]: (r["v"], r["note"]) for r in snapshot.data.to_pylist()}
        assert spark_rows == rs_rows == reader_rows, (spark_rows, rs_rows, reader_rows)
        assert "_ddb_lake_plan" in snapshot.extra_metadata  # `verify` finds the plan after a compaction too
        return spark_rows


def change(pk, v, note, op="modify", seq=0, ts=EXPORT_MS + 60_000):
    return landing_line({"pk": pk, "v": v, "note": note}, op, seq, ts)


@pytest.mark.parametrize("table_type", TABLE_TYPES)
@pytest.mark.parametrize("recent_versions", ["kept", "pruned at once"])
def test_older_updates_and_deletes_never_win_in_any_reader_before_or_after_compaction(
    spark, tmp_path: Path, table_type: str, recent_versions: str
):
    # "pruned at once": the recent versions keep nothing older than the running batch, so every
    # candidate is decided by the lake fallback (tombstones, and on merge-on-read the stored row).
    retention = {"versionsRetentionHours": 1e-9} if recent_versions != "kept" else {}
    exported = [{"pk": "a", "v": 10, "note": "exported"}, {"pk": "b", "v": 10, "note": "exported"}]
    lake = Lake(spark, tmp_path, table_type, exported, **retention)
    assert lake.load["tableType"] == table_type and lake.load["index"] == "BUCKET(1)"
    s = lake.batch(change("c", 10, "batch"), change("d", 10, "batch", op="insert", seq=2))
    assert s["upserted"] == 2 and s["orderingCandidates"] == 0 and not s["tombstonesRead"]
    # The trap: older versions of rows the export stored (a, b) and a batch stored (c, d), and an older
    # insert of a key nobody has (e: written).
    s = lake.batch(
        change("a", 5, "older update", seq=10),
        change("b", 5, "older delete", op="remove", seq=11),
        change("c", 5, "older update", seq=12),
        change("d", 5, "older delete", op="remove", seq=13),
        change("e", 5, "older insert", op="insert", seq=14),
    )
    assert (s["upserted"], s["deleted"], s["superseded"], s["orderingCandidates"]) == (1, 0, 4, 5)
    assert s["orderingLakeLookups"] == (3 if recent_versions == "kept" else 5)
    want = {
        "a": (10, "exported"),
        "b": (10, "exported"),
        "c": (10, "batch"),
        "d": (10, "batch"),
        "e": (5, "older insert"),
    }
    assert lake.views() == want
    if table_type == "MERGE_ON_READ":
        assert s["deltaCommitsSinceCompaction"] == 2 and s["logBytesSinceCompaction"] > 0
        c = lake.compact("cmp-001-a1")
        assert (
            c["compactionInstant"]
            and c["fileGroupsCompacted"] == 1
            and c["logFilesCompacted"] >= 1
            and not c["alreadyDone"]
        )
        assert lake.views() == want
    # Newer versions win; then older ones of the deleted key stay out, and a newer one re-creates it.
    s = lake.batch(change("a", 20, "newer delete", op="remove", seq=20), change("b", 20, "newer update", seq=21))
    assert (s["upserted"], s["deleted"]) == (1, 1)
    if table_type == "MERGE_ON_READ":
        assert s["deltaCommitsSinceCompaction"] == 1
    s = lake.batch(change("a", 15, "late older insert", op="insert", seq=5), change("a", 12, "replayed", seq=6))
    assert s["upserted"] == 0 and s["superseded"] == 2
    want.update(b=(20, "newer update"))
    del want["a"]
    assert lake.views() == want
    if table_type == "MERGE_ON_READ":
        lake.compact("cmp-002-a1")
        assert lake.views() == want
    lake.batch(change("a", 30, "re-created", op="insert", seq=30))
    want["a"] = (30, "re-created")
    assert lake.views() == want


@pytest.mark.parametrize("table_type", TABLE_TYPES)
def test_a_replayed_batch_changes_nothing_and_reads_no_lake(spark, tmp_path: Path, table_type: str):
    lake = Lake(spark, tmp_path, table_type, [{"pk": f"k{i}", "v": 1, "note": "exported"} for i in range(20)])
    lines = [change(f"k{i}", 2, "updated", seq=i) for i in range(10)] + [change("k15", 2, "gone", op="remove", seq=99)]
    first = lake.batch(*lines)
    assert (first["upserted"], first["deleted"]) == (10, 1)
    before = lake.views()
    replay = lake.batch(*lines)
    assert (replay["upserted"], replay["deleted"], replay["superseded"]) == (0, 0, 11)
    assert (
        replay["orderingCandidates"] == 11 and replay["orderingLakeLookups"] == 0 and replay["versionsFilesRead"] == 1
    )
    assert replay["commitInstant"] is None and lake.views() == before


def test_compaction_run_is_idempotent_bounded_and_cleans(spark, tmp_path: Path):
    # Incompressible notes: each of the 4 base files holds > 1 MB.
    items = [
        {"pk": f"k{i:05d}", "v": 1, "note": hashlib.sha256(str(i).encode()).hexdigest() * 2} for i in range(60_000)
    ]
    lake = Lake(spark, tmp_path, "MERGE_ON_READ", items, bucketCount=4)
    assert lake.load["index"] == "BUCKET(4)"
    for n in range(3):
        s = lake.batch(*[change(f"k{i:05d}", 2 + n, f"batch {n}", seq=n * 1000 + i) for i in range(0, 60_000, 500)])
        assert s["upserted"] == 120
    assert s["deltaCommitsSinceCompaction"] == 3
    hoodie = Path(lake.location[len("file://") :]) / ".hoodie"
    assert not list(hoodie.glob("*.commit")), "an ingest write compacted (only the workflow may)"
    want = lake.views()
    # Each file group is > 1 MB of base file: a 1 MB bound compacts the one with the most log data only.
    first = lake.compact("cmp-001-a1", maxIoMb=1, clean=False)
    assert first["fileGroupsCompacted"] == 1 and first["logFilesCompacted"] >= 1 and first["cleanInstant"] is None
    again = lake.compact("cmp-001-a2", maxIoMb=1, clean=False)
    assert again["alreadyDone"] and again["compactionInstant"] == first["compactionInstant"]
    assert again["fileGroupsCompacted"] == first["fileGroupsCompacted"]
    assert lake.views() == want
    # A plan scheduled by an attempt that died before executing it: the next attempt executes it.
    # (Hudi schedules only after a delta commit following the last compaction.)
    from ddb_lake_glue import layout, timeline
    from ddb_lake_glue.columns import Plan
    from ddb_lake_glue.manifest import CompactionSpec, parse_manifest

    def schedule_and_die(run_key: str) -> str:
        manifest = parse_manifest(
            (lake.root / "m" / "cmp-001-a1.json").read_text().replace("cmp-001-a1", run_key),
            "m",
            "incremental",
            run_key,
        )
        extra = timeline.require_plan(timeline.read_timeline(spark, lake.location), spark)[1]
        client = compaction_job._write_client(
            spark,
            manifest.table,
            Plan.from_json(extra[timeline.PLAN_KEY]),
            "MERGE_ON_READ",
            layout.IndexLayout.from_json(extra[timeline.INDEX_KEY]),
            CompactionSpec(max_io_mb=100_000),
            run_key,
        )
        try:
            return client.scheduleCompaction(spark.sparkContext._jvm.org.apache.hudi.common.util.Option.empty()).get()
        finally:
            client.close()

    lake.batch(change("k00001", 7, "one more", seq=5000))
    want["k00001"] = (7, "one more")
    scheduled = schedule_and_die("cmp-002-a1")
    second = lake.compact("cmp-002-a2", clean=False)
    # The three file groups the bounded run left, and maybe the one the last batch wrote to.
    assert (
        second["compactionInstant"] == scheduled
        and second["fileGroupsCompacted"] in (3, 4)
        and not second["alreadyDone"]
    )
    assert lake.views() == want
    # A pending plan and then an ingest batch: the batch executes the plan first (hudi-rs 0.5 does not
    # read log files written after a pending plan: without this, `views` sees the old row).
    lake.batch(change("k00003", 7, "one more", seq=5001))
    want["k00003"] = (7, "one more")
    scheduled = schedule_and_die("cmp-003-a1")
    s = lake.batch(change("k00002", 8, "after a pending plan", seq=6000))
    assert s["upserted"] == 1 and s["pendingCompactionsCompleted"] == [scheduled]
    want["k00002"] = (8, "after a pending plan")
    assert lake.views() == want
    s = lake.batch(change("k00000", 9, "after compaction", seq=9999))
    assert s["deltaCommitsSinceCompaction"] == 2
    cleaned = lake.compact("cmp-004-a1", compact=False, retainCommits=1)
    assert cleaned["compactionInstant"] is None and cleaned["filesCleaned"] > 0
    want["k00000"] = (9, "after compaction")
    assert lake.views() == want


def test_a_copy_on_write_table_is_only_cleaned(spark, tmp_path: Path):
    lake = Lake(spark, tmp_path, "COPY_ON_WRITE", [{"pk": "a", "v": 1, "note": "x"}], autoClean=False)
    for n in range(3):
        lake.batch(change("a", 2 + n, f"n{n}", seq=n))
    c = lake.compact("cmp-001-a1", retainCommits=1)
    assert c["tableType"] == "COPY_ON_WRITE" and c["compactionInstant"] is None and c["filesCleaned"] >= 1
    assert lake.views() == {"a": (4, "n2")}


@pytest.mark.parametrize("table_type", TABLE_TYPES)
@pytest.mark.parametrize("recent_versions", ["kept", "pruned at once"])
def test_a_retry_after_the_tombstone_commit_still_deletes(spark, tmp_path: Path, table_type: str, recent_versions: str):
    """A run that died between its tombstone commit and its lake commit: the retry's delete equals the
    tombstone and must still be applied (through the recent versions, or the fallback)."""
    from ddb_lake_glue import hudi_table, timeline
    from ddb_lake_glue.columns import ORDERING_COLUMN, Plan
    from ddb_lake_glue.manifest import parse_manifest
    from ddb_lake_glue.ordering import ordering_value

    retention = {"versionsRetentionHours": 1e-9} if recent_versions != "kept" else {}
    lake = Lake(
        spark,
        tmp_path,
        table_type,
        [{"pk": "a", "v": 1, "note": "exported"}, {"pk": "b", "v": 1, "note": "exported"}],
        **retention,
    )
    lake.batch(change("b", 10, "newer", seq=1))  # raises the high-water mark above the delete below
    ts, seq = EXPORT_MS + 60_000, 10
    table = parse_manifest((lake.root / "m" / "il.json").read_text(), "m", "initialLoad", "il").table
    plan = Plan.from_json(
        timeline.require_plan(timeline.read_timeline(spark, lake.location), spark)[1][timeline.PLAN_KEY]
    )
    tomb = spark.createDataFrame(
        [("a", ordering_value("v", ("N", "5"), ts, seq))], f"pk string, {ORDERING_COLUMN} string"
    )
    hudi_table.write(
        tomb, table.tombstone_location, hudi_table.tombstone_options(spark, table, plan, "inc-002-a1"), overwrite=False
    )
    s = lake.batch(change("a", 5, "gone", op="remove", seq=seq, ts=ts))
    assert s["deleted"] == 1 and s["orderingCandidates"] == 1
    assert s["orderingLakeLookups"] == (1 if recent_versions != "kept" else 0)
    assert lake.views() == {"b": (10, "newer")}


def test_recent_versions_merge_and_old_deletes_become_tombstones(spark, tmp_path: Path, monkeypatch):
    """Many batch files are merged into one; a delete that ages out of them is written to the
    tombstones, and a late older version of its key stays out (through the lake fallback)."""
    from ddb_lake_glue import incremental_job, versions

    hour = 3_600_000
    clock = {"now": 1_800_000_000_000}
    monkeypatch.setattr(incremental_job, "now_ms_clock", lambda: clock["now"])
    monkeypatch.setattr(versions, "MERGE_AT", 2)
    monkeypatch.setattr(versions, "KEEP_INDIVIDUAL", 1)
    lake = Lake(
        spark,
        tmp_path,
        "MERGE_ON_READ",
        [{"pk": f"k{i}", "v": 1, "note": "exported"} for i in range(6)],
        versionsRetentionHours=1,
    )
    start = clock["now"]
    steps = [
        (0.0, change("k1", 2, "deleted", op="remove", seq=1)),
        (0.1, change("k2", 2, "b2", seq=2)),
        (0.2, change("k3", 2, "b3", seq=3)),
        (1.05, change("k4", 2, "b4", seq=4)),
    ]
    for at, line in steps:
        clock["now"] = start + int(at * hour)
        s = lake.batch(line)
        assert s["tombstonesWritten"] == 0
    versions_dir = Path(lake.table["lakeLocation"][len("file://") :] + "__versions")
    (versions_dir / "orphan-of-a-failed-run.json").write_text('{"k":"[\\"S:k9\\"]","o":"x","d":false,"at":0}\n')
    # Three individual files (b3, b4, b5) > 2: the merged file (b1, b2) and b3, b4 are merged; b1's
    # delete is older than the hour: it leaves the recent versions for the tombstones.
    clock["now"] = start + int(1.06 * hour)
    s = lake.batch(change("k5", 2, "b5", seq=5))
    assert s["tombstonesWritten"] == 1
    names = sorted(p.name for p in versions_dir.iterdir() if not p.name.startswith("."))
    assert len([n for n in names if n.startswith("merged-")]) == 1 and "orphan-of-a-failed-run.json" not in names
    late = lake.batch(change("k1", 1, "late, older than its delete", op="insert", seq=0))
    assert late["upserted"] == 0 and late["orderingLakeLookups"] == 1 and late["tombstonesRead"]
    assert lake.views() == {"k0": (1, "exported"), "k2": (2, "b2"), "k3": (2, "b3"), "k4": (2, "b4"), "k5": (2, "b5")}
