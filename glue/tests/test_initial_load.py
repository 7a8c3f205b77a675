"""Initial load on local Spark + Hudi: the brief's sample export, counts, types, partitions."""

import json
from pathlib import Path

import pytest

from ddb_lake_glue.errors import JobError
from ddb_lake_glue.jobs import run_manifest_uri
from helpers import (
    BRIEF_EXPORT_LINES,
    BRIEF_PROCESSED,
    brief_table,
    read_with_hudi_rs,
    read_with_spark,
    uri,
    write_export,
    write_manifest,
)


def test_brief_sample_loads_into_the_brief_rows(spark, tmp_path: Path):
    root = write_export(tmp_path / "export" / "01690735800000-a1b2c3d4", BRIEF_EXPORT_LINES, files=2)
    lake = uri(tmp_path / "lake" / "transactions")
    m = write_manifest(
        tmp_path / "m" / "il-1.json",
        "initialLoad",
        "il-1",
        brief_table(lake),
        export={"root": root, "exportTimeMs": 1690735800000},
    )
    summary = run_manifest_uri(spark, m, "initialLoad", "il-1")
    assert summary["recordsRead"] == 3 and summary["upserted"] == 3 and summary["rejected"] == 0
    assert summary["commitInstant"]
    for reader in (lambda: read_with_spark(spark, lake), lambda: read_with_hudi_rs(lake)):
        rows = {r["_hoodie_record_key"]: r for r in reader()}
        assert set(rows) == {p["id"] for p in BRIEF_PROCESSED}
        for expected in BRIEF_PROCESSED:
            row = rows[expected["id"]]
            for column, value in expected.items():
                if column != "id":
                    assert row[column] == value, (column, row[column], value)
            assert (
                row["_hoodie_partition_path"]
                == "create_year=2023/create_month=07/create_day=30/create_hour=16/create_minute=49"
            )
    written = json.loads((tmp_path / "m" / "il-1.summary.json").read_text())
    assert written["status"] == "succeeded"


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_partition_by_a_mutable_attribute_moves_the_row(spark, tmp_path: Path, table_type: str):
    from helpers import landing_line, write_landing

    root = write_export(tmp_path / "export", BRIEF_EXPORT_LINES)
    lake = uri(tmp_path / "lake")
    table = brief_table(lake, derivedColumns=[], partitionFields=["is_credit"], tableType=table_type)
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": root, "exportTimeMs": 1690735800000}
    )
    assert run_manifest_uri(spark, m, "initialLoad", "il")["index"] == "GLOBAL_SIMPLE"
    moved = landing_line(
        {
            "account": "602-943-1702",
            "create_at": "2023-07-30T16:49:36.444736+0000",
            "update_at": "2023-07-30T17:00:00.000000+0000",
            "entity": "Someone Else",
            "amount": 282,
            "is_credit": 0,
            "note": "moved",
        },
        "modify",
        10,
        1690736400000,
    )
    # A delete in the same batch and file group (is_credit=1): merge-on-read writes it in a commit of
    # its own (hudi-rs cannot read a delete block mixing it with the move's delete).
    removed = landing_line(
        {
            "account": "729-692-8634",
            "create_at": "2023-07-30T16:49:19.238896+0000",
            "update_at": "2023-07-30T17:00:00.000000+0000",
            "is_credit": 1,
        },
        "remove",
        11,
        1690736400000,
    )
    f = write_landing(tmp_path / "landing" / "f.json", [moved, removed])
    m = write_manifest(tmp_path / "m" / "inc.json", "incremental", "inc", table, files=[f])
    s = run_manifest_uri(spark, m, "incremental", "inc")
    assert (s["upserted"], s["deleted"]) == (1, 1)
    for reader in (lambda: read_with_hudi_rs(lake), lambda: read_with_spark(spark, lake)):
        rows = {r["account"]: r for r in reader()}
        assert set(rows) == {"602-943-1702", "120-161-2287"}
        assert (
            rows["602-943-1702"]["note"] == "moved" and rows["602-943-1702"]["_hoodie_partition_path"] == "is_credit=0"
        )


def test_export_whose_counts_do_not_match_its_manifest_fails(spark, tmp_path: Path):
    root = tmp_path / "export"
    write_export(root, BRIEF_EXPORT_LINES)
    files = (root / "manifest-files.json").read_text().replace('"itemCount": 3', '"itemCount": 4')
    (root / "manifest-files.json").write_text(files)
    summary = json.loads((root / "manifest-summary.json").read_text())
    (root / "manifest-summary.json").write_text(json.dumps(dict(summary, itemCount=4)))
    m = write_manifest(
        tmp_path / "m" / "il.json",
        "initialLoad",
        "il",
        brief_table(uri(tmp_path / "lake")),
        export={"root": uri(root), "exportTimeMs": 1690735800000},
    )
    with pytest.raises(JobError, match=r"export item counts do not match its manifest .* manifest 4, read 3"):
        run_manifest_uri(spark, m, "initialLoad", "il")
