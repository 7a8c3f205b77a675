"""Incremental job on local Spark + Hudi: dedup, out-of-order batches, deletes and tombstones,
schema growth, types, bad records. One table per table type (copy-on-write, merge-on-read), changed
batch after batch like a real pipeline."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ddb_lake_glue import versions
from ddb_lake_glue.errors import JobError
from ddb_lake_glue.jobs import run_manifest_uri
from helpers import (
    BRIEF_EXPORT_LINES,
    brief_table,
    landing_line,
    read_with_hudi_rs,
    read_with_spark,
    uri,
    write_export,
    write_landing,
    write_manifest,
)

EXPORT_MS = 1690735800000  # 2023-07-30T16:50:00Z
A = {"account": "602-943-1702", "create_at": "2023-07-30T16:49:36.444736+0000"}
B = {"account": "729-692-8634", "create_at": "2023-07-30T16:49:19.238896+0000"}
C = {"account": "120-161-2287", "create_at": "2023-07-30T16:49:20.627894+0000"}
ID_A = "account:602-943-1702,create_at:2023-07-30T16:49:36.444736+0000"
ID_B = "account:729-692-8634,create_at:2023-07-30T16:49:19.238896+0000"
ID_C = "account:120-161-2287,create_at:2023-07-30T16:49:20.627894+0000"


class Lake:
    """A table loaded from the brief's export, and a helper to run incremental batches on it."""

    def __init__(self, spark, root: Path, check_in_spark: bool = False, **table_overrides):
        self.spark, self.root, self.n = spark, root, 0
        self.check_in_spark = check_in_spark
        self.location = uri(root / "lake" / "transactions")
        self.table = brief_table(self.location, **table_overrides)
        export = write_export(root / "export" / "01690735800000-a1b2c3d4", BRIEF_EXPORT_LINES)
        m = write_manifest(
            root / "m" / "il.json", "initialLoad", "il", self.table, export={"root": export, "exportTimeMs": EXPORT_MS}
        )
        run_manifest_uri(spark, m, "initialLoad", "il")

    def batch(self, *files_lines, table=None):
        self.n += 1
        key = f"inc-{self.n:03d}"
        files = [
            write_landing(self.root / "landing" / "2023-07-30-16-55" / f"shard_{key}_{i}.json", lines)
            for i, lines in enumerate(files_lines)
        ]
        m = write_manifest(self.root / "m" / f"{key}.json", "incremental", key, table or self.table, files=files)
        limit = versions.DRIVER_CHECK_MAX
        if self.check_in_spark:
            versions.DRIVER_CHECK_MAX = -1  # the ordering check of big batches, on these small ones
        try:
            return run_manifest_uri(self.spark, m, "incremental", key)
        finally:
            versions.DRIVER_CHECK_MAX = limit

    def rows(self):
        return {r["_hoodie_record_key"]: r for r in read_with_spark(self.spark, self.location)}

    def rows_rs(self):
        return {r["_hoodie_record_key"]: r for r in read_with_hudi_rs(self.location)}


def version(key, note, update_at, op="modify", seq=0, ts=EXPORT_MS + 60_000, **extra):
    attrs = dict(key, note=note, update_at=update_at, entity="E", amount=1, is_credit=0, **extra)
    return landing_line(attrs, op, seq, ts)


@pytest.fixture(scope="module", params=["COPY_ON_WRITE", "MERGE_ON_READ", "MERGE_ON_READ-check in Spark"])
def lake(spark, tmp_path_factory, request):
    table_type, _, check = request.param.partition("-")
    return Lake(spark, tmp_path_factory.mktemp("inc"), check_in_spark=bool(check), tableType=table_type)


def test_largest_update_at_wins_within_a_batch_across_files_and_duplicates(lake):
    v2 = version(A, "v2", "2023-07-30T17:00:02.000000+0000", seq=20)
    v3 = version(A, "v3", "2023-07-30T17:00:03.000000+0000", seq=30)
    v1 = version(A, "v1", "2023-07-30T17:00:01.000000+0000", seq=10)
    s = lake.batch([v3, v1], [v2, v3])  # two files, v3 twice (a replayed batch)
    assert s["recordsRead"] == 4 and s["upserted"] == 1 and s["superseded"] == 3
    assert lake.rows()[ID_A]["note"] == "v3"


def test_an_older_batch_arriving_later_does_not_win(lake):
    lake.batch([version(A, "old", "2023-07-30T17:00:00.500000+0000", seq=5)])
    assert lake.rows()[ID_A]["note"] == "v3"


def test_delete_then_late_older_version_stays_deleted(lake):
    # B was exported with update_at 16:49:19; it is modified, then removed (same update_at as the modify:
    # the REMOVE's old image), and the modify and the original insert arrive again afterwards.
    modify = version(B, "changed", "2023-07-30T17:01:00.000000+0000", seq=100)
    remove = version(B, "changed", "2023-07-30T17:01:00.000000+0000", op="remove", seq=101)
    s = lake.batch([modify, remove])
    assert s["deleted"] == 1 and s["upserted"] == 0
    assert ID_B not in lake.rows()
    late = lake.batch([modify], [version(B, "original", "2023-07-30T16:49:19.238896+0000", op="insert", seq=1)])
    assert late["upserted"] == 0 and late["superseded"] == 2
    assert ID_B not in lake.rows() and ID_B not in lake.rows_rs()
    # Re-created later (a newer version than the delete): it comes back.
    lake.batch([version(B, "again", "2023-07-30T17:05:00.000000+0000", op="insert", seq=200)])
    assert lake.rows()[ID_B]["note"] == "again"


def test_delete_older_than_the_table_row_is_ignored(lake):
    stale_remove = version(A, "v1", "2023-07-30T17:00:01.000000+0000", op="remove", seq=11)
    lake.batch([stale_remove])
    assert lake.rows()[ID_A]["note"] == "v3"


def test_remove_of_unknown_key_blocks_its_late_insert(lake):
    d = {"account": "999-000-0001", "create_at": "2023-07-30T16:58:00.000000+0000"}
    lake.batch([version(d, "x", "2023-07-30T16:58:00.000000+0000", op="remove", seq=301)])
    lake.batch([version(d, "x", "2023-07-30T16:58:00.000000+0000", op="insert", seq=300)])
    assert "account:999-000-0001,create_at:2023-07-30T16:58:00.000000+0000" not in lake.rows()


def test_new_attributes_add_columns_and_types_are_exact(lake):
    extra = {
        "tags": {"b", "a"},
        "scores": {Decimal("2.5"), 1},
        "blobs": {b"\x01"},
        "meta": {"k": Decimal("1.0"), "l": [1, "x"]},
        "items": [1, {"y": None}],
        "photo": b"\x89PNG",
        "flag": True,
        "nothing": None,
        "big": 123456789012345678901234567890,
        "price": Decimal("19.99"),
        "_private": "p",
    }
    s = lake.batch([version(C, "typed", "2023-07-30T17:10:00.000000+0000", seq=400, **extra)])
    assert {"tags", "scores", "blobs", "meta", "items", "photo", "flag", "big", "price"} <= set(s["newColumns"])
    assert "nothing" not in s["newColumns"]
    for rows in (lake.rows(), lake.rows_rs()):
        row = rows[ID_C]
        assert row["note"] == "typed" and row["amount"] == 1
        assert row["tags"] == '["a","b"]' and row["scores"] == "[1,2.5]" and row["blobs"] == '["AQ=="]'
        assert row["meta"] == '{"k":1,"l":[1,"x"]}' and row["items"] == '[1,{"y":null}]'
        assert bytes(row["photo"]) == b"\x89PNG" and row["flag"] is True
        assert row["big"] == Decimal("123456789012345678901234567890") and row["price"] == Decimal("19.99")
        private = [k for k in row if k.startswith("private")]
        assert private and row[private[0]] == "p"
        assert rows[ID_A]["tags"] is None  # older rows: null in the new columns
    spark_schema = {
        f.name: f.dataType.simpleString() for f in lake.spark.read.format("hudi").load(lake.location).schema.fields
    }
    assert (
        spark_schema["amount"] == "bigint"
        and spark_schema["big"] == "decimal(38,8)"
        and spark_schema["price"] == "decimal(38,18)"
    )
    assert spark_schema["flag"] == "boolean" and spark_schema["photo"] == "binary"


def test_value_that_does_not_fit_its_column_goes_to_overflow(lake):
    line = landing_line(
        dict(C, note=42, update_at="2023-07-30T17:11:00.000000+0000", entity="E", amount=Decimal("1.5"), is_credit=0),
        "modify",
        401,
        EXPORT_MS + 70_000,
    )
    s = lake.batch([line])
    assert s["overflowed"] == 1
    row = lake.rows()[ID_C]
    assert row["amount"] is None and row["note"] is None
    assert json.loads(row["_ddb_lake_overflow"]) == {"amount": {"N": "1.5"}, "note": {"N": "42"}}


@pytest.fixture
def distributed_decode(spark):
    """Decode with Python workers (the path of large batches) instead of in the driver."""
    spark.conf.set("spark.ddb_lake.localDecodeMaxBytes", "0")
    yield
    spark.conf.unset("spark.ddb_lake.localDecodeMaxBytes")


def test_bad_records_are_set_aside_and_fail_the_job_only_above_the_share(lake, distributed_decode):
    good = [version(A, f"n{i}", f"2023-07-30T17:20:{i:02d}.000000+0000", seq=500 + i) for i in range(1)]
    others = [
        version(
            {"account": f"100-000-{i:04d}", "create_at": "2023-07-30T17:20:00.000000+0000"},
            "bulk",
            "2023-07-30T17:20:00.000000+0000",
            op="insert",
            seq=600 + i,
        )
        for i in range(199)
    ]
    s = lake.batch(good + others + ["{broken json"])
    assert s["rejected"] == 1 and s["upserted"] == 200 and s["rejectedUri"]
    rejected_dir = Path(s["rejectedUri"][len("file://") :])
    lines = [json.loads(x) for f in rejected_dir.glob("part-*") for x in f.read_text().splitlines()]
    assert (
        lines[0]["reason"].startswith("not JSON")
        and lines[0]["raw"] == "{broken json"
        and lines[0]["source"].endswith(".json")
    )
    # Not UTF-8: set aside with the bytes kept (base64), never decoded with replacement characters.
    bad_bytes = (
        (version(A, "\u00e9", "2023-07-30T17:20:30.000000+0000", seq=530))
        .encode("utf-8")
        .replace("\u00e9".encode(), b"\xe9")
    )
    path = lake.root / "landing" / "latin1.json"
    path.write_bytes(b"".join(x.encode() + b"\n" for x in others[:150]) + bad_bytes + b"\n")
    lake.n += 1
    m = write_manifest(lake.root / "m" / "latin1.json", "incremental", "latin1", lake.table, files=[uri(path)])
    s = run_manifest_uri(lake.spark, m, "incremental", "latin1")
    assert s["rejected"] == 1
    rejected = [
        json.loads(x)
        for f in Path(s["rejectedUri"][len("file://") :]).glob("part-*")
        for x in f.read_text().splitlines()
    ]
    assert rejected[0]["reason"].startswith("not UTF-8") and rejected[0]["raw"].startswith("base64:")
    before = lake.rows()[ID_A]["note"]
    with pytest.raises(JobError, match=r"2 of 3 records were rejected .* maxRejectedShare"):
        lake.batch([version(A, "never", "2023-07-30T18:00:00.000000+0000", seq=700), "nope", '{"account":"x"}'])
    assert lake.rows()[ID_A]["note"] == before


def test_summary_is_written_next_to_the_manifest(lake):
    s = lake.batch([version(A, "last", "2023-07-30T19:00:00.000000+0000", seq=900)])
    written = json.loads((lake.root / "m" / f"inc-{lake.n:03d}.summary.json").read_text())
    assert (
        written["upserted"] == 1 and written["commitInstant"] == s["commitInstant"] and written["status"] == "succeeded"
    )
    assert s["tableType"] == lake.table["tableType"] and s["index"] == "BUCKET(1)" and s["bytesWritten"] > 0


def test_ingest_commits_never_compact(lake):
    """Only the workflow's compaction runs compact: after more delta commits than Hudi's inline
    default (5), the merge-on-read table still has no compaction commit."""
    hoodie = Path(lake.location[len("file://") :]) / ".hoodie"
    commits = sorted(
        p.name for p in hoodie.iterdir() if p.name[:1].isdigit() and p.name.endswith((".commit", ".deltacommit"))
    )
    if lake.table["tableType"] == "MERGE_ON_READ":
        assert len([c for c in commits if c.endswith(".deltacommit")]) >= 7
        assert not [c for c in commits if c.endswith(".commit")]
        s = lake.batch([version(A, "one more", "2023-07-30T19:30:00.000000+0000", seq=950)])
        assert s["deltaCommitsSinceCompaction"] >= 6 and s["logBytesSinceCompaction"] > 0
    else:
        assert commits and not [c for c in commits if c.endswith(".deltacommit")]
