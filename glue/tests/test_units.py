"""Pure logic (no Spark): values, ordering, derived columns, column plan, arguments, manifest."""

import itertools
import json
import random
from decimal import Decimal

import pytest

from ddb_lake_glue.args import resolve_options
from ddb_lake_glue.columns import AttributeStats, Plan, column_name, extend_plan, number_type
from ddb_lake_glue.derive import timestamp_parts
from ddb_lake_glue.errors import JobError
from ddb_lake_glue.manifest import parse_manifest
from ddb_lake_glue.ordering import attribute_part, bytes_part, number_part, ordering_value
from ddb_lake_glue.records import DecodeContext, decode_lines
from ddb_lake_glue.values import ValueError_, attribute_text, decode_ddb, decode_plain, number_text
from helpers import brief_table, ddb_item, landing_line


@pytest.mark.parametrize(
    "raw,text",
    [
        ("592", "592"),
        ("1.50", "1.5"),
        ("1E+3", "1000"),
        ("-0", "0"),
        ("0.000", "0"),
        ("+7", "7"),
        ("00012.3400", "12.34"),
        ("1e-5", "0.00001"),
        ("-12345678901234567890123456789012345678", "-12345678901234567890123456789012345678"),
        ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + "0" * 88),
        (".5", "0.5"),
        ("5.", "5"),
    ],
)
def test_number_text_is_exact(raw, text):
    assert number_text(raw) == text
    assert Decimal(number_text(raw)) == Decimal(raw)


@pytest.mark.parametrize("raw", ["", "abc", "NaN", "Infinity", " 1", "1 "])
def test_number_text_rejects_non_numbers(raw):
    with pytest.raises(ValueError_):
        number_text(raw)


def test_export_and_landing_decode_to_the_same_text():
    item = {
        "s": "x",
        "n": Decimal("12.50"),
        "big": 2**70,
        "b": True,
        "z": None,
        "bin": b"\x00\xff",
        "ss": {"b", "a"},
        "ns": {Decimal("2.5"), 1},
        "bs": {b"\x02", b"\x01"},
        "m": {"k": Decimal("1.0"), "inner": {"x": [1, "y", b"\x01"]}, "set": {"q"}},
        "l": [1, "two", None, {"t": False}],
    }
    export_nodes = {k: decode_ddb(v) for k, v in json.loads(ddb_item(item))["Item"].items()}
    line = json.loads(landing_line(item, "insert", 1, 1000), parse_float=Decimal)
    types = line.get("_types", {})
    landing_nodes = {k: decode_plain(v, types.get(k)) for k, v in line.items() if not k.startswith("_")}
    assert {k: attribute_text(v) for k, v in export_nodes.items()} == {
        k: attribute_text(v) for k, v in landing_nodes.items()
    }
    texts = {k: attribute_text(v) for k, v in export_nodes.items()}
    assert texts["n"] == "N:12.5"
    assert texts["big"] == f"N:{2**70}"
    assert texts["ss"] == 'SS:["a","b"]'
    assert texts["ns"] == "NS:[1,2.5]"
    assert texts["bs"] == 'BS:["AQ==","Ag=="]'
    assert texts["bin"] == "B:AP8="
    assert texts["z"] == "NULL:"
    assert texts["m"] == 'M:{"inner":{"x":[1,"y","AQ=="]},"k":1,"set":["q"]}'
    assert texts["l"] == 'L:[1,"two",null,{"t":false}]'


@pytest.mark.parametrize(
    "decode,message",
    [
        (lambda: decode_ddb({"SS": "a"}), "SS value is not a list"),
        (lambda: decode_ddb({"SS": ["a", 1]}), "SS holds a non-string"),
        (lambda: decode_plain("a", "NS"), "NS value is not an array"),
        (lambda: decode_plain([1, True], "NS"), "NS holds a non-number"),
        (lambda: decode_plain(["a", 2], "SS"), "SS holds a non-string"),
    ],
)
def test_malformed_sets_are_rejected_with_their_reason(decode, message):
    with pytest.raises(ValueError_, match=message):
        decode()


def test_landing_numbers_never_pass_through_a_float():
    line = '{"k":"a","x":0.1000000000000000055511151231257827,"y":123456789012345678901234567890,"_op":"insert","_seq":"1","_ts":5,"_ttl":false}'
    ctx = DecodeContext(("k",), None, (), None)
    (row,) = list(decode_lines(ctx, [(line.encode(), "f")]))
    assert row[0] is True
    assert row[7]["x"] == "N:0.1000000000000000055511151231257827"
    assert row[7]["y"] == "N:123456789012345678901234567890"


def test_underscore_attributes_are_unescaped_and_metadata_ignored():
    line = '{"k":"a","__x":1,"___y":2,"_future":3,"_op":"modify","_seq":"7","_ts":5,"_ttl":false}'
    ctx = DecodeContext(("k",), None, (), None)
    (row,) = list(decode_lines(ctx, [(line.encode(), "f")]))
    assert row[7] == {"k": "S:a", "_x": "N:1", "__y": "N:2"}


@pytest.mark.parametrize(
    "line,reason",
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1,2]", "JSON object"),
        (b'{"x":"1","_op":"insert","_seq":"1","_ts":1}', "missing key attribute 'k'"),
        (b'{"k":"","_op":"insert","_seq":"1","_ts":1}', "empty string"),
        (b'{"k":"a","_op":"upsert","_seq":"1","_ts":1}', "_op must be"),
        (b'{"k":"a","_op":"insert","_seq":"12a","_ts":1}', "_seq"),
        (b'{"k":"a","_op":"insert","_seq":"1","_ts":-1}', "_ts"),
        (b'{"k":"a","b":"@@","_types":{"b":"B"},"_op":"insert","_seq":"1","_ts":1}', "base64"),
    ],
)
def test_bad_lines_are_rejected_with_a_reason(line, reason):
    ctx = DecodeContext(("k",), None, (), None)
    (row,) = list(decode_lines(ctx, [(line, "file:///x.json")]))
    assert row[0] is False and reason in row[1] and row[2] == "file:///x.json"


def test_remove_without_ordering_attribute_is_rejected_when_ordering_field_is_set():
    ctx = DecodeContext(("k",), "update_at", (), None)
    (row,) = list(decode_lines(ctx, [(landing_line({"k": "a"}, "remove", 5, 1000).encode(), "f")]))
    assert row[0] is False and "OLD_IMAGE" in row[1]


def test_number_ordering_matches_numeric_order():
    rnd = random.Random(7)
    values = [Decimal(0), Decimal("-0.5"), Decimal("1E+125"), Decimal("-1E+125"), Decimal("1E-129"), Decimal("-1E-129")]
    for _ in range(3000):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 38)))
        values.append(Decimal(f"{rnd.choice(['', '-'])}{digits}E{rnd.randint(-60, 60)}"))
    encoded = [(number_part(number_text(v)), v) for v in values]
    ordered = sorted(encoded)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(ordered))
    assert len({e for e, _ in encoded}) == len(set(values))  # equal values, equal encodings
    assert len({len(e) for e, v in encoded if v != 0}) == 1  # fixed width


def test_string_ordering_is_byte_order_and_prefix_free():
    rnd = random.Random(3)
    alphabet = ["a", "b", "!", '"', "#", "~", "}", "\x00", "\x01", " ", "é", "😀", "0", "9", "Z"]
    strings = {"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))) for _ in range(4000)}
    tails = ["|000", "|999"]
    pairs = []
    for s in strings:
        for tail in tails:
            pairs.append((bytes_part(s.encode()) + tail, s.encode(), tail))
    ordered = sorted(pairs)
    assert [(p[1], p[2]) for p in ordered] == sorted((p[1], p[2]) for p in pairs)
    assert all(ord(c) < 128 for p in pairs for c in p[0])


def test_remove_with_same_update_at_wins_by_stream_position():
    node = ("S", "2023-07-30T16:49:36.444736+0000")
    modify = ordering_value("update_at", node, 1690735787000, 1100000000017454423009)
    remove = ordering_value("update_at", node, 1690735787000, 1100000000017454423010)
    exported = ordering_value("update_at", node, 1690735787000, 0)
    assert exported < modify < remove
    assert ordering_value("update_at", ("S", "2023-07-30T16:49:36.5+0000"), 0, 0) > remove
    assert ordering_value("update_at", None, 9 * 10**14, 0) < exported  # a missing value sorts lowest
    assert attribute_part(("N", "10")) > attribute_part(("N", "9"))


def test_timestamp_parts():
    assert timestamp_parts("2023-07-30T16:49:36.444736+0000") == {
        "year": "2023",
        "month": "07",
        "day": "30",
        "hour": "16",
        "minute": "49",
        "date": "2023-07-30",
    }
    assert timestamp_parts("2023-12-31T23:30:00-01:00")["year"] == "2024"
    assert timestamp_parts("2023-07-30T16:49:36Z")["minute"] == "49"
    assert timestamp_parts("2023-07-30")["hour"] == "00"
    with pytest.raises(ValueError_):
        timestamp_parts("yesterday")


def test_column_names():
    assert column_name("amount", set()) == "amount"
    odd = column_name("user-id", set())
    assert odd.startswith("user_id_") and odd == column_name("user-id", set())
    assert column_name("Amount", {"amount"}) != "Amount"
    assert column_name("_hoodie_x", set()).startswith("hoodie_x_")
    assert column_name("9lives", set()).startswith("a_9lives_")


def test_number_types():
    def s(**kw):
        return AttributeStats("n", "N", 1, **kw)

    assert number_type("auto", s(all_long=True, max_scale=0, max_int_digits=5)) == "bigint"
    assert number_type("auto", s(all_long=False, max_scale=2, max_int_digits=5)) == "decimal(38,18)"
    assert number_type("auto", s(all_long=False, max_scale=0, max_int_digits=30)) == "decimal(38,8)"
    assert number_type("auto", s(all_long=False, max_scale=25, max_int_digits=5)) == "decimal(38,25)"
    assert number_type("auto", s(all_long=False, max_scale=20, max_int_digits=30)) is None
    assert number_type("decimal", s(all_long=True, max_scale=0, max_int_digits=3)) == "decimal(38,18)"
    assert number_type("string", s(all_long=True, max_scale=0, max_int_digits=3)) == "string"


def _table(**kw):
    m = json.dumps(
        {
            "version": 1,
            "runKey": "r",
            "pipeline": "p",
            "kind": "incremental",
            "table": brief_table("file:///l", **kw),
            "files": [],
            "export": None,
            "rejectedLocation": "file:///r",
            "summaryUri": "file:///s",
        }
    )
    return parse_manifest(m, "m.json", "incremental", "r").table


def test_plan_keys_first_then_derived_then_sorted_attributes_and_growth():
    table = _table()
    stats = [
        AttributeStats(a, t, 3, True, 0, 3)
        for a, t in [("note", "S"), ("account", "S"), ("create_at", "S"), ("amount", "N"), ("flag", "NULL")]
    ]
    plan = extend_plan(None, stats, table, {})
    assert [c.name for c in plan.columns] == [
        "account",
        "create_at",
        "create_year",
        "create_month",
        "create_day",
        "create_hour",
        "create_minute",
        "amount",
        "note",
    ]
    grown = extend_plan(
        Plan.from_json(plan.to_json()), [AttributeStats("flag", "BOOL", 1), AttributeStats("amount", "S", 9)], table, {}
    )
    assert [c.name for c in grown.columns][-1] == "flag"
    assert grown.by_attribute()["amount"].type == "bigint"  # an existing column never changes


def test_manifest_errors_say_what_to_fix():
    good = {
        "version": 1,
        "runKey": "r",
        "pipeline": "p",
        "kind": "incremental",
        "table": brief_table("file:///l"),
        "files": [],
        "export": None,
        "rejectedLocation": "file:///r",
        "summaryUri": "file:///s",
    }
    with pytest.raises(JobError, match="initialLoad job"):
        parse_manifest(json.dumps(good), "m", "initialLoad", "r")
    with pytest.raises(JobError, match="not --run_key"):
        parse_manifest(json.dumps(good), "m", "incremental", "other")
    bad = dict(good, table=dict(good["table"], keyFields=[]))
    with pytest.raises(JobError, match="keyFields"):
        parse_manifest(json.dumps(bad), "m", "incremental", "r")
    bad = dict(good, table=dict(good["table"], types={"columns": {"x": "int"}}))
    with pytest.raises(JobError, match=r"types\.columns\.x"):
        parse_manifest(json.dumps(bad), "m", "incremental", "r")
    with pytest.raises(JobError, match="not valid JSON"):
        parse_manifest("{", "m", "incremental", "r")


def test_glue_style_arguments():
    got = resolve_options(
        [
            "script.py",
            "--JOB_ID",
            "j",
            "--manifest",
            "s3://b/m.json",
            "--run_key=k1",
            "--aws_endpoint",
            "http://127.0.0.1:5201",
        ],
        ["manifest", "run_key"],
        ["aws_endpoint"],
    )
    assert got == {"manifest": "s3://b/m.json", "run_key": "k1", "aws_endpoint": "http://127.0.0.1:5201"}
    with pytest.raises(JobError, match="--run_key"):
        resolve_options(["s.py", "--manifest", "x"], ["manifest", "run_key"], [])


def test_glue_catalog_sync_options_only_with_a_database():
    from ddb_lake_glue.hudi_table import catalog_sync_options
    from ddb_lake_glue.layout import key_derived_only as _key_derived_only

    table = _table(glueDatabase="analytics")
    opts = catalog_sync_options(table, ["create_year", "create_month"])
    assert opts["hoodie.datasource.hive_sync.enable"] == "true"
    assert opts["hoodie.datasource.hive_sync.database"] == "analytics"
    assert opts["hoodie.datasource.hive_sync.table"] == "transactions"
    assert opts["hoodie.datasource.hive_sync.partition_fields"] == "create_year,create_month"
    assert opts["hoodie.datasource.hive_sync.partition_extractor_class"].endswith("MultiPartKeysValueExtractor")
    assert opts["hoodie.datasource.hive_sync.skip_ro_suffix"] == "false"  # merge-on-read: <table>_rt and <table>_ro
    assert _key_derived_only(table)  # create_* come from the key create_at: SIMPLE index
    assert not _key_derived_only(_table(partitionFields=["entity"]))  # a mutable attribute: global index


def test_table_type_and_ordering_check_settings_in_the_manifest():
    table = _table()
    assert table.table_type == "COPY_ON_WRITE" and table.bucket_count is None and table.auto_clean
    assert table.versions_location == "file:///l__versions" and table.versions_retention_hours == 24
    table = _table(
        tableType="MERGE_ON_READ",
        bucketCount=8,
        versionsLocation="s3://b/v/",
        versionsRetentionHours=1.5,
        autoClean=False,
    )
    assert (
        table.table_type,
        table.bucket_count,
        table.versions_location,
        table.versions_retention_hours,
        table.auto_clean,
    ) == ("MERGE_ON_READ", 8, "s3://b/v", 1.5, False)
    for bad, message in [
        ({"tableType": "MOR"}, "tableType must be COPY_ON_WRITE or MERGE_ON_READ"),
        ({"bucketCount": 0}, "bucketCount"),
        ({"versionsRetentionHours": 0}, "versionsRetentionHours"),
        ({"autoClean": "no"}, "autoClean must be a bool"),
    ]:
        with pytest.raises(JobError, match=message):
            _table(**bad)


def test_compaction_manifest_defaults_and_checks():
    def manifest(**compaction):
        doc = {
            "version": 1,
            "runKey": "c-a1",
            "pipeline": "p",
            "kind": "compaction",
            "table": brief_table("file:///l"),
            "summaryUri": "file:///s",
            "compaction": compaction,
        }
        return parse_manifest(json.dumps(doc), "m.json", "incremental", "c-a1")

    m = manifest()
    assert m.kind == "compaction" and m.compaction.max_io_mb == 512 and m.compaction.compact and m.compaction.clean
    assert manifest(maxIoMb=10, clean=False, retainCommits=3).compaction.retain_commits == 3
    with pytest.raises(JobError, match="both false"):
        manifest(compact=False, clean=False)
    with pytest.raises(JobError, match="is for a compaction run, but this is the initialLoad job"):
        parse_manifest(
            json.dumps(
                {
                    "version": 1,
                    "runKey": "c",
                    "pipeline": "p",
                    "kind": "compaction",
                    "table": brief_table("file:///l"),
                    "summaryUri": "s",
                }
            ),
            "m",
            "initialLoad",
            "c",
        )


def test_index_layout_follows_the_partitions_and_the_size():
    from ddb_lake_glue import layout
    from ddb_lake_glue.compaction_job import run_stem

    assert layout.choose(_table(), 5_000) == layout.IndexLayout("BUCKET", 1)
    assert layout.choose(_table(partitionFields=[], derivedColumns=[]), 10_000_000) == layout.IndexLayout("BUCKET", 10)
    assert layout.choose(_table(partitionFields=[], derivedColumns=[]), 10_000_001).buckets == 11
    assert layout.choose(_table(bucketCount=3), 10_000_000).buckets == 3
    assert layout.choose(_table(partitionFields=["entity"]), 10) == layout.IndexLayout("GLOBAL_SIMPLE")
    assert layout.legacy(_table()) == layout.IndexLayout("SIMPLE")
    assert layout.IndexLayout.from_json(layout.IndexLayout("BUCKET", 4).to_json()).describe() == "BUCKET(4)"
    assert layout.index_options(layout.IndexLayout("BUCKET", 4))["hoodie.bucket.index.num.buckets"] == "4"
    with pytest.raises(JobError, match="not one this job understands"):
        layout.IndexLayout.from_json('{"index":"BUCKET"}')
    assert run_stem("p-1a2b3c4d-cmp-000003-a12") == "p-1a2b3c4d-cmp-000003" and run_stem("plain") == "plain"


def test_recent_versions_expire_into_the_floor():
    from ddb_lake_glue.versions import OrderingState, VersionsFile, expire, larger

    hour = 3_600_000
    state = OrderingState("m", "c", [VersionsFile("old", "f", 10, at=0), VersionsFile("new", "k", 10, at=5 * hour)])
    kept, expired = expire(state, 2, 6 * hour)
    assert (
        [f.name for f in kept.files] == ["new"]
        and [f.name for f in expired] == ["old"]
        and kept.floor == "f"
        and kept.high_water == "m"
    )
    assert expire(state, 24, 6 * hour)[0].floor == "c"
    assert OrderingState.from_json(state.to_json()) == state
    assert (
        larger(None, "a") == "a" and larger("b", None) == "b" and larger("a", "b") == "b" and larger(None, None) is None
    )
