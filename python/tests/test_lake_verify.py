"""The comparison of `ddb-lake verify` on Arrow tables: missing, extra, differing and duplicated rows
are counted and sampled with their keys and both values; an equal pair is equal."""

from decimal import Decimal

import pyarrow as pa

from ddb_lake_glue.columns import DERIVED, Column, Plan
from ddb_lake_glue.expected import DerivedSpec, RowBuilder
from lake_verify import REJECTED, UNMAPPED, compare, expected_schema, lake_view

PLAN = Plan(
    [
        Column("account", "account", "S", "string"),
        Column("create_at", "create_at", "S", "string"),
        Column("create_day", None, DERIVED, "string"),
        Column("amount", "amount", "N", "bigint"),
        Column("price", "price", "N", "decimal(38,18)"),
        Column("note", "note", "S", "string"),
    ]
)
KEYS = ["account", "create_at"]


def item(i, note="n", amount="5", price="1.25", **extra):
    it = {
        "account": {"S": f"a{i}"},
        "create_at": {"S": "2023-07-30T16:49:36.000000+0000"},
        "amount": {"N": amount},
        "price": {"N": price},
        "note": {"S": note},
    }
    it.update(extra)
    return it


def expected_table(items):
    builder = RowBuilder(PLAN, KEYS, [DerivedSpec("create_day", "create_at", "day")])
    schema = expected_schema(PLAN)
    cols = {f.name: [] for f in schema}
    for it in items:
        row = builder.row(it)
        for c in builder.column_names:
            cols[c].append(row.values[c])
        cols["_ddb_lake_overflow"].append(row.overflow)
        cols["_hoodie_is_deleted"].append(False)
        cols[UNMAPPED].append(__import__("json").dumps(row.unmapped) if row.unmapped else None)
        cols[REJECTED].append(row.rejected)
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema}), schema


def lake_table(rows):
    """What hudi-rs returns: meta columns, the plan's columns, large strings."""
    return pa.table(
        {
            "_hoodie_commit_time": pa.array(["1"] * len(rows), pa.large_string()),
            "_hoodie_record_key": pa.array(
                [f"account:{r['account']},create_at:{r['create_at']}" for r in rows], pa.large_string()
            ),
            "account": pa.array([r["account"] for r in rows], pa.large_string()),
            "create_at": pa.array([r["create_at"] for r in rows], pa.large_string()),
            "create_day": pa.array([r.get("create_day", "30") for r in rows], pa.large_string()),
            "amount": pa.array([r.get("amount", 5) for r in rows], pa.int64()),
            "price": pa.array([r.get("price", Decimal("1.25")) for r in rows], pa.decimal128(38, 18)),
            "note": pa.array([r.get("note", "n") for r in rows], pa.large_string()),
            "_ddb_lake_ordering": pa.array(["x"] * len(rows), pa.large_string()),
            "_ddb_lake_overflow": pa.array([r.get("overflow") for r in rows], pa.large_string()),
            "_hoodie_is_deleted": pa.array([False] * len(rows), pa.bool_()),
        }
    )


def lake_row(i, **changes):
    r = {"account": f"a{i}", "create_at": "2023-07-30T16:49:36.000000+0000"}
    r.update(changes)
    return r


def run(items, rows, sample=10):
    expected, schema = expected_table(items)
    return compare(expected, lake_view(lake_table(rows), schema), PLAN, KEYS, sample)


def test_equal_table_and_lake():
    r = run([item(i) for i in range(5)], [lake_row(i) for i in range(5)])
    assert r["equal"] is True
    assert (r["missing"]["count"], r["extra"]["count"], r["differing"]["count"], r["duplicates"]["count"]) == (
        0,
        0,
        0,
        0,
    )


def test_missing_extra_and_differing_rows_are_counted_and_sampled():
    items = [item(0), item(1, note="new note"), item(2, price="2.5"), item(3), item(5)]
    rows = [lake_row(0), lake_row(1, note="old note"), lake_row(2), lake_row(3), lake_row(4)]
    r = run(items, rows)
    assert r["equal"] is False
    assert r["missing"] == {
        "count": 1,
        "sample": [{"key": {"account": "a5", "create_at": "2023-07-30T16:49:36.000000+0000"}}],
    }
    assert r["extra"] == {
        "count": 1,
        "sample": [{"key": {"account": "a4", "create_at": "2023-07-30T16:49:36.000000+0000"}}],
    }
    assert r["differing"]["count"] == 2
    assert r["differing"]["byAttribute"] == {"note": 1, "price": 1}
    samples = {(s["key"]["account"], s["attribute"]): (s["table"], s["lake"]) for s in r["differing"]["sample"]}
    assert samples == {("a1", "note"): ("new note", "old note"), ("a2", "price"): ("2.5", "1.25")}


def test_overflow_nulls_unmapped_attributes_and_duplicates():
    # amount 1.5 does not fit bigint: the lake must hold null and the overflow; a1's lake lacks it.
    items = [item(0, amount="1.5"), item(1, amount="1.5"), item(2, colour={"S": "red"}), item(3)]
    rows = [
        lake_row(0, amount=None, overflow='{"amount": {"N": "1.5"}}'),  # Spark's spacing differs: still equal
        lake_row(1, amount=None),
        lake_row(2),
        lake_row(3),
        lake_row(3),
    ]
    r = run(items, rows)
    assert r["differing"]["count"] == 2
    assert r["differing"]["byAttribute"] == {"_ddb_lake_overflow": 1, "colour": 1}
    notes = [s for s in r["differing"]["sample"] if s["attribute"] == "colour"]
    assert notes == [
        {
            "key": {"account": "a2", "create_at": "2023-07-30T16:49:36.000000+0000"},
            "attribute": "colour",
            "column": None,
            "table": "red",
            "lake": None,
            "note": "the lake has no column for this attribute",
        }
    ]
    assert r["duplicates"]["count"] == 1 and r["duplicates"]["rows"] == 2
    assert r["duplicates"]["sample"] == [
        {"key": {"account": "a3", "create_at": "2023-07-30T16:49:36.000000+0000"}, "copies": 2}
    ]
    assert r["equal"] is False


def test_sample_size_limits_every_list():
    r = run([item(i, note="x") for i in range(30)], [lake_row(i, note="y") for i in range(10, 40)], sample=3)
    assert (r["missing"]["count"], r["extra"]["count"], r["differing"]["count"]) == (10, 10, 20)
    assert len(r["missing"]["sample"]) == len(r["extra"]["sample"]) == len(r["differing"]["sample"]) == 3
    # Samples come in key order, so a rerun lists the same rows.
    assert [s["key"]["account"] for s in r["missing"]["sample"]] == ["a0", "a1", "a2"]
