"""Key values with `,` `:` and Hudi placeholders (docs/types.md, "Record keys"): two different
DynamoDB items must never become one lake row.

Hudi 0.15 renders a two-attribute key as `account:<a>,create_at:<c>` without escaping. The first
test shows that this really merges two items when written naively; the others show the jobs
reject exactly the items whose first key value contains `,<second key column>:` (loudly, with the
reason) and load every other key with `,` and `:` as its own row, partitioned or not."""

import json
from pathlib import Path

import pytest

from ddb_lake_glue.jobs import run_manifest_uri
from helpers import ddb_item, landing_line, read_with_hudi_rs, uri, write_export, write_landing, write_manifest

EXPORT_MS = 1690735800000


def keys_table(lake: str, partitioned: bool, table_type: str = "COPY_ON_WRITE"):
    return {
        "tableType": table_type,
        "lakeLocation": lake,
        "tableName": "keys",
        "keyFields": ["account", "create_at"],
        "orderingField": None,
        "derivedColumns": [],
        "partitionFields": ["region"] if partitioned else [],
        "types": {"numbers": "auto", "columns": {}},
        "maxRejectedShare": 0.5,
        "glueDatabase": None,
        "keyTypes": {"account": "S", "create_at": "S"},
    }


def test_hudi_itself_merges_two_items_whose_rendered_keys_collide(spark, tmp_path: Path):
    lake = uri(tmp_path / "naive")
    rows = [("x,create_at:y", "z", "A"), ("x", "y,create_at:z", "B")]
    df = spark.createDataFrame(rows, "account string, create_at string, who string")
    (
        df.write.format("hudi")
        .option("hoodie.table.name", "naive")
        .option("hoodie.datasource.write.recordkey.field", "account,create_at")
        .option("hoodie.datasource.write.precombine.field", "who")
        .option("hoodie.datasource.write.partitionpath.field", "")
        .option("hoodie.datasource.write.keygenerator.class", "org.apache.hudi.keygen.NonpartitionedKeyGenerator")
        .option("hoodie.datasource.write.operation", "upsert")
        .option("hoodie.metadata.enable", "false")
        .option("hoodie.embed.timeline.server", "false")
        .mode("overwrite")
        .save(lake)
    )
    got = spark.read.format("hudi").load(lake).select("_hoodie_record_key", "who").collect()
    assert [r[0] for r in got] == ["account:x,create_at:y,create_at:z"], "two items, one record key"
    assert len(got) == 1, "Hudi kept one of the two items: the reason for the rule"


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
@pytest.mark.parametrize("partitioned", [False, True])
def test_ambiguous_keys_are_rejected_loudly_and_every_other_key_is_its_own_row(
    spark, tmp_path: Path, partitioned: bool, table_type: str
):
    ambiguous_a = {"account": "x,create_at:y", "create_at": "z", "region": "eu", "v": 1}
    plain_b = {"account": "x", "create_at": "y,create_at:z", "region": "eu", "v": 2}
    commas = {"account": "a,b:c", "create_at": "d:e,f", "region": "us", "v": 3}
    colons = {"account": "a:b", "create_at": "c,b:d", "region": "us", "v": 4}
    placeholders = {"account": "__null__", "create_at": "__empty__", "region": "us", "v": 5}
    trailing = {"account": "q,create_at:", "create_at": "r", "region": "eu", "v": 6}
    export = write_export(
        tmp_path / "export",
        [ddb_item(i) for i in (ambiguous_a, plain_b, commas, colons, placeholders, trailing)],
        export_time_ms=EXPORT_MS,
    )
    table = keys_table(uri(tmp_path / "lake"), partitioned, table_type)
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": export, "exportTimeMs": EXPORT_MS}
    )
    s = run_manifest_uri(spark, m, "initialLoad", "il")
    assert s["recordsRead"] == 6 and s["rejected"] == 2 and s["upserted"] == 4
    reasons = [
        json.loads(line)
        for f in Path(s["rejectedUri"][len("file://") :]).glob("part-*")
        for line in f.read_text().splitlines()
    ]
    assert sorted(json.loads(r["raw"])["account"] for r in reasons) == ["S:q,create_at:", "S:x,create_at:y"]
    for r in reasons:
        assert r["reason"].startswith(
            "key attribute 'account' contains ',create_at:': Hudi's record key `account:…,create_at:…` of this item could equal another item's"
        )
        assert r["reason"].endswith("change the item's key in DynamoDB to load it")

    # The stream: another ambiguous item, its look-alike, an update and a delete of keys with , and :.
    ts = EXPORT_MS + 60_000
    lines = [
        landing_line({"account": "p,create_at:q", "create_at": "r", "region": "eu", "v": 7}, "insert", 100, ts),
        landing_line({"account": "p", "create_at": "q,create_at:r", "region": "eu", "v": 8}, "insert", 101, ts),
        landing_line(dict(commas, v=30), "modify", 102, ts),
        landing_line(colons, "remove", 103, ts),
    ]
    f = write_landing(tmp_path / "landing" / "2023-07-30-16-51" / "100_103_abcabcabcabc.json", lines)
    m = write_manifest(tmp_path / "m" / "inc1.json", "incremental", "inc1", table, files=[f])
    s = run_manifest_uri(spark, m, "incremental", "inc1")
    assert s["rejected"] == 1 and s["upserted"] == 2 and s["deleted"] == 1

    want = {
        "account:x,create_at:y,create_at:z": 2,
        "account:a,b:c,create_at:d:e,f": 30,
        "account:__null__,create_at:__empty__": 5,
        "account:p,create_at:q,create_at:r": 8,
    }
    for rows in (
        read_with_hudi_rs(table["lakeLocation"]),
        [r.asDict() for r in spark.read.format("hudi").load(table["lakeLocation"]).collect()],
    ):
        got = {r["_hoodie_record_key"]: r["v"] for r in rows}
        assert got == want
        by_key = {(r["account"], r["create_at"]) for r in rows}
        assert by_key == {("x", "y,create_at:z"), ("a,b:c", "d:e,f"), ("__null__", "__empty__"), ("p", "q,create_at:r")}
