"""Initial load on local Spark + Hudi: the brief's sample export, counts, types, partitions."""

import json
from pathlib import Path

import pytest

from ddb_lake_glue.errors import JobError
from ddb_lake_glue.jobs import run_manifest_uri
from helpers import (BRIEF_EXPORT_LINES, BRIEF_PROCESSED, brief_table, read_with_hudi_rs, read_with_spark, uri,
                     write_export, write_manifest)


def test_brief_sample_loads_into_the_brief_rows(spark, tmp_path: Path):
    root = write_export(tmp_path / "export" / "01690735800000-a1b2c3d4", BRIEF_EXPORT_LINES, files=2)
    lake = uri(tmp_path / "lake" / "transactions")
    m = write_manifest(tmp_path / "m" / "il-1.json", "initialLoad", "il-1", brief_table(lake),
                       export={"root": root, "exportTimeMs": 1690735800000})
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
            assert row["_hoodie_partition_path"] == "create_year=2023/create_month=07/create_day=30/create_hour=16/create_minute=49"
    written = json.loads((tmp_path / "m" / "il-1.summary.json").read_text())
    assert written["status"] == "succeeded"


def test_partition_by_a_mutable_attribute_moves_the_row(spark, tmp_path: Path):
    from helpers import landing_line, write_landing

    root = write_export(tmp_path / "export", BRIEF_EXPORT_LINES)
    lake = uri(tmp_path / "lake")
    table = brief_table(lake, derivedColumns=[], partitionFields=["entity"])
    m = write_manifest(tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": root, "exportTimeMs": 1690735800000})
    run_manifest_uri(spark, m, "initialLoad", "il")
    moved = landing_line({"account": "602-943-1702", "create_at": "2023-07-30T16:49:36.444736+0000", "update_at": "2023-07-30T17:00:00.000000+0000",
                          "entity": "Someone Else", "amount": 282, "is_credit": 1, "note": "moved"}, "modify", 10, 1690736400000)
    f = write_landing(tmp_path / "landing" / "f.json", [moved])
    m = write_manifest(tmp_path / "m" / "inc.json", "incremental", "inc", table, files=[f])
    run_manifest_uri(spark, m, "incremental", "inc")
    rows = [r for r in read_with_hudi_rs(lake) if r["account"] == "602-943-1702"]
    assert len(rows) == 1 and rows[0]["note"] == "moved" and rows[0]["_hoodie_partition_path"] == "entity=Someone Else"


def test_export_whose_counts_do_not_match_its_manifest_fails(spark, tmp_path: Path):
    root = tmp_path / "export"
    write_export(root, BRIEF_EXPORT_LINES)
    files = (root / "manifest-files.json").read_text().replace('"itemCount": 3', '"itemCount": 4')
    (root / "manifest-files.json").write_text(files)
    summary = json.loads((root / "manifest-summary.json").read_text())
    (root / "manifest-summary.json").write_text(json.dumps(dict(summary, itemCount=4)))
    m = write_manifest(tmp_path / "m" / "il.json", "initialLoad", "il", brief_table(uri(tmp_path / "lake")),
                       export={"root": uri(root), "exportTimeMs": 1690735800000})
    with pytest.raises(JobError, match=r"export item counts do not match its manifest .* manifest 4, read 3"):
        run_manifest_uri(spark, m, "initialLoad", "il")
