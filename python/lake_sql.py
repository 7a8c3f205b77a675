"""`ddb-lake sql`: SQL over a Hudi lake's current snapshot without Spark.

hudi-rs reads the snapshot into Arrow (python/lake_reader.py); DuckDB queries it. The snapshot is a
view named after the Hudi table (hoodie.table.name) and also `lake`.

  python lake_sql.py --lake <s3://…|file://…|folder> --query "<sql>" [--format table|json|csv] [--max-rows N]

Storage options (S3 endpoint, region, credentials) come as a JSON object in the environment
variable DDB_LAKE_STORAGE_OPTIONS, so they never show in the process list.
Exit codes: 0 ok, 2 a problem the user can fix (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime
import decimal
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import duckdb

from lake_reader import LakeError, read_snapshot

VIEW_ALIAS = "lake"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="lake_sql.py")
    parser.add_argument("--lake", required=True)
    parser.add_argument("--query", required=True)
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    parser.add_argument("--max-rows", type=int, default=1000, help="table format: rows shown at most")
    args = parser.parse_args(argv)
    try:
        options = json.loads(os.environ.get("DDB_LAKE_STORAGE_OPTIONS") or "{}")
        snapshot = read_snapshot(args.lake, options)
        con = duckdb.connect(":memory:")
        con.register(VIEW_ALIAS, snapshot.data)
        if snapshot.table_name and snapshot.table_name != VIEW_ALIAS:
            con.register(snapshot.table_name, snapshot.data)
        views = [VIEW_ALIAS] + (
            [snapshot.table_name] if snapshot.table_name and snapshot.table_name != VIEW_ALIAS else []
        )
        try:
            result = con.execute(args.query)
        except duckdb.CatalogException as err:
            raise LakeError(f"{_one_line(err)}; the lake's views are {' and '.join(reversed(views))}") from None
        except duckdb.Error as err:
            raise LakeError(_one_line(err)) from None
        if result.description is None:
            return 0  # a statement without rows (SET, CREATE VIEW …)
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
    except LakeError as err:
        print(str(err), file=sys.stderr)
        return 2

    out = sys.stdout
    if args.format == "json":
        records = [dict(zip(columns, (_json_value(v) for v in row), strict=True)) for row in rows]
        out.write(json.dumps(records, ensure_ascii=False))
        out.write("\n")
    elif args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else _text(v) for v in row])
    else:
        # The footer follows the rows on the same stream: on stderr it could land beside the last row
        # wherever the two streams are captured separately and joined.
        out.write(_render_table(columns, rows, args.max_rows))
        out.write(
            f"{len(rows)} row{'s' if len(rows) != 1 else ''} · lake snapshot {snapshot.instant} of "
            f"{' / '.join(reversed(views))} ({snapshot.table_type}, {snapshot.data.num_rows} rows)\n"
        )
    return 0


def _one_line(err: Exception) -> str:
    """DuckDB's messages span lines (a caret under the error); keep the part that names the problem."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return f"SQL error: {type(err).__name__}"
    first = lines[0]
    near = next((line for line in lines[1:] if line.startswith("LINE ")), None)
    message = f"{first} ({near})" if near else first
    return (
        message
        if message.lower().startswith(("parser", "binder", "catalog", "conversion", "invalid", "not implemented"))
        else f"SQL error: {message}"
    )


def _json_value(v: Any) -> Any:
    """JSON for one cell: exact decimals as strings, bytes as base64 (as in docs/encoding.md)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, datetime.timedelta):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return str(v)


def _text(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(_json_value(v), ensure_ascii=False)
    j = _json_value(v)
    return j if isinstance(j, str) else repr(j) if isinstance(j, float) else str(j)


def _render_table(columns: list[str], rows: list[tuple], max_rows: int) -> str:
    shown = rows[:max_rows] if max_rows > 0 else rows
    cells = [[_text(v).replace("\n", "\\n") for v in row] for row in shown]
    numeric = [
        all(
            isinstance(row[i], (int, float, decimal.Decimal)) and not isinstance(row[i], bool)
            for row in shown
            if row[i] is not None
        )
        and any(row[i] is not None for row in shown)
        for i in range(len(columns))
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return " | ".join(
            v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    parts = [line(columns), "-+-".join("-" * w for w in widths)]
    parts += [line(r) for r in cells]
    if len(shown) < len(rows):
        parts.append(f"… {len(rows) - len(shown)} more rows (add LIMIT, or use --json / --csv for all)")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
