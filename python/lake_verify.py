"""`ddb-lake verify`, the comparison: a DynamoDB table against its lake, key by key, value by value.

The table is read with a parallel Scan (strongly consistent, one thread per segment) straight into
Arrow batches of the values the lake should hold (glue/ddb_lake_glue/expected.py: docs/types.md as
plain Python, the column plan from the lake's latest commit). The lake snapshot is read with hudi-rs
(python/lake_reader.py). DuckDB joins the two on the record key and counts missing rows (in the
table, not in the lake), extra rows (in the lake, not in the table), rows whose values differ (per
column), and keys the lake holds more than once.

  python lake_verify.py            # reads the request from the environment, prints one JSON document

Environment: DDB_LAKE_VERIFY_REQUEST (JSON):
  {"table": "Transaction", "lake": "file:///…", "keyFields": ["account", "create_at"],
   "derivedColumns": [{"name": "create_year", "from": "create_at", "part": "year"}],
   "aws": {"region": "us-east-1", "endpoint": "http://127.0.0.1:5701",      # endpoint: local only
           "accessKeyId": "moto", "secretAccessKey": "moto"},                 # else the default chain
   "segments": 4, "sample": 10}
DDB_LAKE_STORAGE_OPTIONS: hudi-rs storage options for an s3:// lake (as for lake_sql.py).

Exit codes: 0 the comparison ran (equal or not: see "equal"), 2 a problem the user can fix (one line
on stderr), 1 anything else.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "glue"))

from ddb_lake_glue.columns import DELETED_COLUMN, OVERFLOW_COLUMN, Plan
from ddb_lake_glue.expected import DerivedSpec, RowBuilder, canonical_overflow, spark_type_to_arrow
from ddb_lake_glue.hudi_table import PLAN_KEY
from dynamodb_raw import DynamoDb
from lake_reader import LakeError, read_snapshot

UNMAPPED = "__ddb_lake_unmapped"
REJECTED = "__ddb_lake_rejected"


def scan_expected(
    db: DynamoDb, table: str, builder: RowBuilder, schema: pa.Schema, segments: int
) -> tuple[pa.Table, int]:
    """Every item of the table as the lake row it should be (Arrow), and the number of items."""
    columns = [f.name for f in schema]
    value_columns = builder.column_names

    def segment(index: int) -> list[pa.RecordBatch]:
        batches: list[pa.RecordBatch] = []
        start_key = None
        while True:
            body: dict[str, Any] = {
                "TableName": table,
                "ConsistentRead": True,
                "Segment": index,
                "TotalSegments": segments,
            }
            if start_key:
                body["ExclusiveStartKey"] = start_key
            page = db.call("Scan", body)
            items = page.get("Items") or []
            if items:
                cols: dict[str, list[Any]] = {c: [] for c in columns}
                for item in items:
                    row = builder.row(item)
                    for c in value_columns:
                        cols[c].append(row.values[c])
                    cols[OVERFLOW_COLUMN].append(row.overflow)
                    cols[DELETED_COLUMN].append(False)
                    cols[UNMAPPED].append(
                        json.dumps(row.unmapped, ensure_ascii=False, sort_keys=True) if row.unmapped else None
                    )
                    cols[REJECTED].append(row.rejected)
                batches.append(
                    pa.RecordBatch.from_arrays([pa.array(cols[f.name], type=f.type) for f in schema], schema=schema)
                )
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return batches

    with ThreadPoolExecutor(max_workers=segments) as pool:
        parts = list(pool.map(segment, range(segments)))
    batches = [b for part in parts for b in part]
    result = pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()
    return result, result.num_rows


# ---------------------------------------------------------------------------------------------
# The comparison


def expected_schema(plan: Plan) -> pa.Schema:
    fields = [pa.field(c.name, spark_type_to_arrow(c.type)) for c in plan.columns]
    fields += [
        pa.field(OVERFLOW_COLUMN, pa.string()),
        pa.field(DELETED_COLUMN, pa.bool_()),
        pa.field(UNMAPPED, pa.string()),
        pa.field(REJECTED, pa.string()),
    ]
    return pa.schema(fields)


def lake_view(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """The lake's columns that the comparison reads, cast to the expected types (a plan column the
    snapshot lacks reads as null), overflow in canonical form."""
    arrays = []
    names = []
    for f in schema:
        if f.name in (UNMAPPED, REJECTED):
            continue
        if f.name in data.column_names:
            col = data.column(f.name)
            if f.name == OVERFLOW_COLUMN:
                col = (
                    pa.array([canonical_overflow(v) for v in col.to_pylist()], type=pa.string())
                    if col.null_count < len(col)
                    else col.cast(pa.string())
                )
            elif not col.type.equals(f.type):
                col = col.cast(f.type)
        else:
            col = pa.nulls(data.num_rows, type=f.type)
        arrays.append(col)
        names.append(f.name)
    return pa.Table.from_arrays(arrays, names=names)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compare(expected: pa.Table, lake: pa.Table, plan: Plan, key_fields: Sequence[str], sample: int) -> dict[str, Any]:
    key_columns = [plan.column_for(k).name for k in key_fields]
    compared = [c.name for c in plan.columns if c.name not in key_columns] + [OVERFLOW_COLUMN, DELETED_COLUMN]
    attribute_of = {c.name: (c.attribute or c.name) for c in plan.columns}
    con = duckdb.connect(":memory:")
    con.execute("SET threads TO 2")
    con.register("e", expected)
    con.register("l", lake)
    keys_sql = ", ".join(_q(k) for k in key_columns)
    on_sql = " AND ".join(f"e.{_q(k)} = l.{_q(k)}" for k in key_columns)
    key_select_e = ", ".join(f"e.{_q(k)}" for k in key_columns)
    key_select_l = ", ".join(f"l.{_q(k)}" for k in key_columns)

    def keys_of(row: Sequence[Any]) -> dict[str, Any]:
        return {attribute_of.get(k, k): _json_value(v) for k, v in zip(key_columns, row, strict=True)}

    missing_count = con.execute(f"SELECT count(*) FROM e ANTI JOIN l ON {on_sql}").fetchone()[0]
    missing_rows = con.execute(
        f"SELECT {key_select_e}, e.{_q(REJECTED)} FROM e ANTI JOIN l ON {on_sql} ORDER BY {key_select_e} LIMIT {int(sample)}"
    ).fetchall()
    extra_count = con.execute(f"SELECT count(*) FROM l ANTI JOIN e ON {on_sql}").fetchone()[0]
    extra_rows = con.execute(
        f"SELECT {key_select_l} FROM l ANTI JOIN e ON {on_sql} ORDER BY {key_select_l} LIMIT {int(sample)}"
    ).fetchall()
    dup = con.execute(
        f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT {keys_sql}, count(*) AS n FROM l GROUP BY {keys_sql} HAVING count(*) > 1)"
    ).fetchone()
    dup_rows = con.execute(
        f"SELECT {keys_sql}, count(*) AS n FROM l GROUP BY {keys_sql} HAVING count(*) > 1 ORDER BY {keys_sql} LIMIT {int(sample)}"
    ).fetchall()

    diff_terms = [f"(e.{_q(c)} IS DISTINCT FROM l.{_q(c)})" for c in compared] + [f"(e.{_q(UNMAPPED)} IS NOT NULL)"]
    any_diff = " OR ".join(diff_terms)
    counts_sql = ", ".join(f"count(*) FILTER (WHERE {t})" for t in diff_terms)
    row = con.execute(f"SELECT count(*) FILTER (WHERE {any_diff}), {counts_sql} FROM e JOIN l ON {on_sql}").fetchone()
    differing_count = row[0]
    by_column: dict[str, int] = {}
    for name, n in zip(compared, row[1:-1], strict=True):
        if n:
            by_column[attribute_of.get(name, name)] = n
    unmapped_rows = row[-1]
    samples: list[dict[str, Any]] = []
    if differing_count:
        pairs = ", ".join(f"e.{_q(c)}, l.{_q(c)}" for c in compared)
        rows = con.execute(
            f"SELECT {key_select_e}, {pairs}, e.{_q(UNMAPPED)} FROM e JOIN l ON {on_sql} WHERE {any_diff} ORDER BY {key_select_e} LIMIT {int(sample)}"
        ).fetchall()
        nk = len(key_columns)
        for r in rows:
            key = keys_of(r[:nk])
            values = r[nk:-1]
            for i, c in enumerate(compared):
                t, lv = values[2 * i], values[2 * i + 1]
                if not _same(t, lv):
                    samples.append(
                        {
                            "key": key,
                            "attribute": attribute_of.get(c, c),
                            "column": c,
                            "table": _json_value(t),
                            "lake": _json_value(lv),
                        }
                    )
            if r[-1]:
                for attribute, text in json.loads(r[-1]).items():
                    samples.append(
                        {
                            "key": key,
                            "attribute": attribute,
                            "column": None,
                            "table": text.split(":", 1)[1],
                            "lake": None,
                            "note": "the lake has no column for this attribute",
                        }
                    )
    if unmapped_rows:
        for (text,) in con.execute(
            f"SELECT e.{_q(UNMAPPED)} FROM e JOIN l ON {on_sql} WHERE e.{_q(UNMAPPED)} IS NOT NULL"
        ).fetchall():
            for attribute in json.loads(text):
                by_column[attribute] = by_column.get(attribute, 0) + 1
    con.close()
    return {
        "equal": missing_count == 0 and extra_count == 0 and differing_count == 0 and dup[0] == 0,
        "missing": {
            "count": missing_count,
            "sample": [dict({"key": keys_of(r[:-1])}, **({"reason": r[-1]} if r[-1] else {})) for r in missing_rows],
        },
        "extra": {"count": extra_count, "sample": [{"key": keys_of(r)} for r in extra_rows]},
        "differing": {
            "count": differing_count,
            "byAttribute": dict(sorted(by_column.items())),
            "sample": samples[:sample],
        },
        "duplicates": {
            "count": dup[0],
            "rows": int(dup[1]),
            "sample": [{"key": keys_of(r[:-1]), "copies": r[-1]} for r in dup_rows],
        },
    }


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b


def _json_value(v: Any) -> Any:
    """A value for the JSON report: decimals as exact strings, bytes as base64, floats as numbers."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    if isinstance(v, decimal.Decimal):
        text = format(v, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return str(v)


# ---------------------------------------------------------------------------------------------


def run(request: dict[str, Any], storage_options: dict[str, str]) -> dict[str, Any]:
    table = request["table"]
    sample = int(request.get("sample", 10))
    segments = max(1, int(request.get("segments", 4)))
    derived = [DerivedSpec(d["name"], d["from"], d["part"]) for d in request.get("derivedColumns") or []]

    db = DynamoDb(request.get("aws") or {})
    described = db.call("DescribeTable", {"TableName": table}).get("Table") or {}
    schema_keys = [
        k["AttributeName"] for k in sorted(described.get("KeySchema") or [], key=lambda k: k["KeyType"] != "HASH")
    ]
    key_fields = list(request.get("keyFields") or schema_keys)

    started = time.monotonic()
    snapshot = read_snapshot(request["lake"], storage_options)
    lake_seconds = time.monotonic() - started
    plan_text = snapshot.extra_metadata.get(PLAN_KEY)
    if not plan_text:
        raise LakeError(
            f"the lake at {request['lake']} has no ddb-lake column plan in commit {snapshot.instant}: it was not written by ddb-lake"
        )
    plan = Plan.from_json(plan_text)
    builder = RowBuilder(plan, key_fields, derived)
    schema = expected_schema(plan)

    started = time.monotonic()
    expected, items = scan_expected(db, table, builder, schema, segments)
    scan_seconds = time.monotonic() - started

    started = time.monotonic()
    lake = lake_view(snapshot.data, schema)
    result = compare(expected, lake, plan, key_fields, sample)
    compare_seconds = time.monotonic() - started
    return {
        "equal": result["equal"],
        "table": {"name": table, "items": items, "segments": segments, "scanSeconds": round(scan_seconds, 3)},
        "lake": {
            "location": request["lake"],
            "commitInstant": snapshot.instant,
            "runKey": snapshot.extra_metadata.get("_ddb_lake_run_key"),
            "rows": snapshot.data.num_rows,
            "readSeconds": round(lake_seconds, 3),
        },
        "columns": [{"name": c.name, "attribute": c.attribute, "kind": c.kind, "type": c.type} for c in plan.columns],
        "missing": result["missing"],
        "extra": result["extra"],
        "differing": result["differing"],
        "duplicates": result["duplicates"],
        "compareSeconds": round(compare_seconds, 3),
    }


def main() -> int:
    try:
        request = json.loads(os.environ.get("DDB_LAKE_VERIFY_REQUEST") or "")
    except ValueError:
        print("DDB_LAKE_VERIFY_REQUEST is not set to a JSON request", file=sys.stderr)
        return 2
    try:
        storage_options = json.loads(os.environ.get("DDB_LAKE_STORAGE_OPTIONS") or "{}")
        result = run(request, storage_options)
    except LakeError as err:
        print(str(err), file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
