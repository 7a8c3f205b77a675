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
