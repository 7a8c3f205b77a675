"""`expected.py` (what verify expects in each lake column) against the jobs' own Spark projection.

The same DynamoDB values go through `lake.project` (Spark, what the jobs write) and through
`RowBuilder` (plain Python, what `ddb-lake verify` expects); every column value and the overflow
must agree. Then the pure parts: derived columns, unmapped attributes, rejected items.
"""

import json
from decimal import Decimal

import pytest

from ddb_lake_glue.columns import DERIVED, Column, Plan
from ddb_lake_glue.expected import DerivedSpec, RowBuilder, _java_double_text, canonical_overflow
from ddb_lake_glue.lake import project
from ddb_lake_glue.manifest import TableSpec, TypesConfig
from ddb_lake_glue.records import record_schema
from ddb_lake_glue.values import attribute_text, decode_ddb

PLAN = Plan(
    [
        Column("k", "k", "S", "string"),
        Column("s", "s", "S", "string"),
        Column("n_big", "n_big", "N", "bigint"),
        Column("n_dec", "n_dec", "N", "decimal(38,18)"),
        Column("n_dec2", "n_dec2", "N", "decimal(10,2)"),
        Column("n_dbl", "n_dbl", "N", "double"),
        Column("n_str", "n_str", "N", "string"),
        Column("b", "b", "BOOL", "boolean"),
        Column("bin", "bin", "B", "binary"),
        Column("m", "m", "M", "string"),
        Column("l", "l", "L", "string"),
        Column("ss", "ss", "SS", "string"),
        Column("pin_long", "pin_long", "S", "bigint"),
        Column("pin_dec", "pin_dec", "S", "decimal(10,2)"),
        Column("pin_bool", "pin_bool", "S", "boolean"),
        Column("pin_dbl", "pin_dbl", "S", "double"),
        Column("pin_bin", "pin_bin", "S", "binary"),
    ]
)

# Per column: DynamoDB values that fit, and values that do not (another type, too big, too precise).
VALUES = {
    "s": [{"S": "x"}, {"S": ""}, {"S": 'héllo "quoted" \n'}, {"N": "5"}, {"BOOL": True}, {"NULL": True}],
    "n_big": [
        {"N": "592"},
        {"N": "-9223372036854775808"},
        {"N": "9223372036854775808"},
        {"N": "1.5"},
        {"N": "1.0"},
        {"N": "1E+3"},
        {"S": "7"},
    ],
    "n_dec": [
        {"N": "1.5"},
        {"N": "0.000000000000000001"},
        {"N": "0.0000000000000000001"},
        {"N": "12345678901234567890"},
        {"N": "-3"},
        {"S": "1"},
    ],
    "n_dec2": [{"N": "12345678.12"}, {"N": "123456789.1"}, {"N": "1.123"}, {"N": "0.1"}],
    "n_dbl": [{"N": "0.1"}, {"N": "1E+308"}, {"N": "123456789012345678901234567890"}, {"S": "0.1"}],
    "n_str": [{"N": "1.50"}, {"N": "-0"}, {"S": "a"}],
    "b": [{"BOOL": True}, {"BOOL": False}, {"S": "true"}, {"N": "1"}],
    "bin": [{"B": "AAEC"}, {"B": ""}, {"S": "AAEC"}],
    "m": [{"M": {"z": {"N": "1.0"}, "a": {"SS": ["b", "a"]}, "é": {"B": "AA=="}}}, {"L": [{"S": "x"}]}],
    "l": [{"L": [{"N": "1"}, {"NULL": True}, {"M": {"t": {"BOOL": False}}}]}, {"M": {}}],
    "ss": [{"SS": ["b", "a", "c"]}, {"NS": ["2", "1"]}],
    "pin_long": [{"S": "42"}, {"S": "042"}, {"S": "4.2"}, {"S": "x"}, {"N": "42"}],
    "pin_dec": [{"S": "1.50"}, {"S": "1.5"}, {"S": "-0.25"}, {"S": "123456789.00"}],
    "pin_bool": [{"S": "true"}, {"S": "false"}, {"S": "yes"}, {"S": "True"}],
    "pin_dbl": [{"S": "1.5"}, {"S": "1000.0"}, {"S": "1e3"}, {"S": "1.0E10"}, {"S": "0.0001"}, {"S": "1.0E-4"}],
    "pin_bin": [{"S": "abc"}, {"S": "ünïcode"}],
}


def _items():
    items = []
    for column, values in VALUES.items():
        for i, v in enumerate(values):
            items.append({"k": {"S": f"{column}-{i}"}, column: v})
    return items


def _spark_rows(spark, items):
    table = TableSpec(
        lake_location="file:///unused",
        table_name="t",
        key_fields=["k"],
        ordering_field=None,
        derived_columns=[],
        partition_fields=[],
        types=TypesConfig(),
        max_rejected_share=0.01,
        glue_database=None,
        tombstone_location="file:///unused__t",
    )
    rows = []
    for item in items:
        attrs = {name: attribute_text(decode_ddb(v)) for name, v in item.items()}
        rows.append((True, None, "test", None, json.dumps([attrs["k"]]), "upsert", "0", attrs))
    records = spark.createDataFrame(rows, record_schema(0))
    projected = project(records, PLAN, table, {})
    return {r["k"]: r.asDict() for r in projected.collect()}


def _same(a, b):
    if isinstance(a, (bytes, bytearray)) or isinstance(b, (bytes, bytearray)):
        return a is not None and b is not None and bytes(a) == bytes(b)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return (a == b and type(a) is type(b)) or (a is None and b is None)


def test_verify_expects_exactly_what_the_jobs_write(spark):
    items = _items()
    spark_rows = _spark_rows(spark, items)
    builder = RowBuilder(PLAN, ["k"], [])
    checked = 0
    for item in items:
        key = item["k"]["S"]
        expected = builder.row(item)
        written = spark_rows[key]
        for col in PLAN.columns:
            assert _same(expected.values[col.name], written[col.name]), (
                key,
                col.name,
                expected.values[col.name],
                written[col.name],
            )
            checked += 1
        assert expected.overflow == canonical_overflow(written["_ddb_lake_overflow"]), (
            key,
            expected.overflow,
            written["_ddb_lake_overflow"],
        )
    assert checked == len(items) * len(PLAN.columns)
    # The cases above really exercise both outcomes.
    rows = [builder.row(i) for i in items]
    assert sum(r.overflow is not None for r in rows) >= 20
    assert sum(r.overflow is None for r in rows) >= 20


def test_derived_columns_unmapped_attributes_and_rejected_items():
    plan = Plan(
        [
            Column("account", "account", "S", "string"),
            Column("create_at", "create_at", "S", "string"),
            Column("create_day", None, DERIVED, "string"),
            Column("create_hour", None, DERIVED, "string"),
            Column("amount", "amount", "N", "bigint"),
        ]
    )
    derived = [DerivedSpec("create_day", "create_at", "day"), DerivedSpec("create_hour", "create_at", "hour")]
    builder = RowBuilder(plan, ["account", "create_at"], derived)
    row = builder.row(
        {
            "account": {"S": "1"},
            "create_at": {"S": "2023-07-30T23:49:36.444736-0200"},
            "amount": {"N": "1.5"},
            "extra": {"S": "x"},
            "gone": {"NULL": True},
        }
    )
    assert row.values == {
        "account": "1",
        "create_at": "2023-07-30T23:49:36.444736-0200",
        "create_day": "31",
        "create_hour": "01",
        "amount": None,
    }
    assert row.overflow == '{"amount":{"N":"1.5"}}'
    assert row.unmapped == {"extra": "S:x"}
    assert row.rejected is None
    assert (
        builder.row({"account": {"S": "1"}, "create_at": {"N": "5"}}).rejected is not None
    )  # key does not fit, not a timestamp
    assert "missing key" in builder.row({"account": {"S": "1"}}).rejected
    assert "not an ISO-8601" in builder.row({"account": {"S": "1"}, "create_at": {"S": "yesterday"}}).rejected


@pytest.mark.parametrize(
    "x,text",
    [
        (1.5, "1.5"),
        (1000.0, "1000.0"),
        (1e7, "1.0E7"),
        (1.0e-4, "1.0E-4"),
        (0.001, "0.001"),
        (-2.5e-10, "-2.5E-10"),
        (123456789.0, "1.23456789E8"),
        (0.0, "0.0"),
    ],
)
def test_java_double_text(x, text):
    assert _java_double_text(x) == text
