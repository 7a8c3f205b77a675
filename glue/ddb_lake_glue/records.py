"""Lines -> records: the Python half of both jobs (the Spark half is in lake.py).

Every input line becomes one row of `RECORD_SCHEMA`: either a version of an item (key, operation,
ordering value, attributes as `"<type>:<text>"`, derived column values) or a rejected line with its
reason. Export lines (DynamoDB JSON) and landing lines (docs/encoding.md) end in the same form.
"""

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .derive import timestamp_parts
from .manifest import TableSpec
from .ordering import export_stream_position, ordering_value
from .values import Node, ValueError_, attribute_text, decode_ddb, decode_plain

MAX_RAW_CHARS = 10000
OPS = {"insert": "upsert", "modify": "upsert", "remove": "delete"}


def record_schema(derived_count: int):
    from pyspark.sql.types import BooleanType, MapType, StringType, StructField, StructType

    fields = [
        StructField("ok", BooleanType(), False),
        StructField("reason", StringType(), True),
        StructField("source", StringType(), True),
        StructField("raw", StringType(), True),
        StructField("key", StringType(), True),
        StructField("op", StringType(), True),
        StructField("ordering", StringType(), True),
        StructField("attrs", MapType(StringType(), StringType(), True), True),
    ]
    fields += [StructField(f"d{i}", StringType(), True) for i in range(derived_count)]
    return StructType(fields)


@dataclass(frozen=True)
class DecodeContext:
    key_fields: tuple[str, ...]
    ordering_field: str | None
    derived: tuple[tuple[str, str], ...]  # (source attribute, part)
    export_ts_ms: int | None  # set for export lines
    # Landing lines: changes from before this stream time are in the export the lake was loaded from.
    changes_from_ms: int | None = None

    @staticmethod
    def of(table: TableSpec, export_time_ms: int | None = None, loaded_export_ms: int | None = None) -> "DecodeContext":
        return DecodeContext(
            key_fields=tuple(table.key_fields),
            ordering_field=table.ordering_field,
            derived=tuple((d.source, d.part) for d in table.derived_columns),
            export_ts_ms=None if export_time_ms is None else export_stream_position(export_time_ms),
            changes_from_ms=None if loaded_export_ms is None else export_stream_position(loaded_export_ms),
        )


# The op of a landing line older than the export the lake was loaded from: read, counted, not applied.
BEFORE_EXPORT = "before-export"


class Rejected(Exception):
    pass


def decode_lines(ctx: DecodeContext, rows: Iterable[tuple[Any, str]]) -> Iterator[tuple]:
    """(raw line bytes, source file) -> record rows. Blank lines are skipped."""
    empty = (None,) * (4 + len(ctx.derived))
    for raw, source in rows:
        data = bytes(raw)
        if not data.strip():
            continue
        try:
            yield (True, None, source, None, *_decode(ctx, data))
        except Rejected as e:
            yield (False, str(e), source, _raw_text(data), *empty)
        except ValueError_ as e:
            yield (False, str(e), source, _raw_text(data), *empty)


def _raw_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data[:MAX_RAW_CHARS]).decode("ascii")
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…"


def _decode(ctx: DecodeContext, data: bytes) -> tuple:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Rejected(f"not UTF-8 (byte {e.start})") from None
    try:
        doc = json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, RecursionError) as e:
        raise Rejected(f"not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise Rejected("a line must be a JSON object")
    if ctx.export_ts_ms is not None:
        nodes, op, ts, seq = _export_item(doc), "upsert", ctx.export_ts_ms, 0
    else:
        nodes, op, ts, seq = _landing_item(doc)
        if ctx.changes_from_ms is not None and ts < ctx.changes_from_ms:
            # Already in the export (docs/ordering.md): applying it could bring back an item deleted
            # before the export whose delete the landing zone lacks (a gap before a rebackfill).
            op = BEFORE_EXPORT
    return _record(ctx, nodes, op, ts, seq)


def _export_item(doc: dict[str, Any]) -> dict[str, Node]:
    item = doc.get("Item")
    if not isinstance(item, dict):
        raise Rejected('an export line must be {"Item": {...}} (DYNAMODB_JSON)')
    nodes = {}
    for name, value in item.items():
        try:
            nodes[name] = decode_ddb(value)
        except ValueError_ as e:
            raise Rejected(f"attribute {name!r}: {e}") from None
    return nodes


def _landing_item(doc: dict[str, Any]) -> tuple[dict[str, Node], str, int, int]:
    op = OPS.get(doc.get("_op"))  # type: ignore[arg-type]
    if op is None:
        raise Rejected(f"_op must be insert, modify or remove, not {doc.get('_op')!r}")
    seq_text = doc.get("_seq")
    if not isinstance(seq_text, str) or not seq_text.isdigit() or not seq_text.isascii() or len(seq_text) > 40:
        raise Rejected("_seq must be a string of up to 40 digits")
    ts = doc.get("_ts")
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0:
        raise Rejected("_ts must be a non-negative integer (epoch milliseconds)")
    types = doc.get("_types") or {}
    if not isinstance(types, dict):
        raise Rejected("_types must be an object")
    nodes = {}
    for field, value in doc.items():
        if field.startswith("_"):
            if not field.startswith("__"):
                continue  # metadata (known or future)
            name = field[1:]
        else:
            name = field
        try:
            nodes[name] = decode_plain(value, types.get(name))
        except ValueError_ as e:
            raise Rejected(f"attribute {name!r}: {e}") from None
    return nodes, op, ts, int(seq_text)


def _record(ctx: DecodeContext, nodes: dict[str, Node], op: str, ts: int, seq: int) -> tuple:
    key_texts: list[str] = []
    for k in ctx.key_fields:
        node = nodes.get(k)
        if node is None or node[0] == "NULL":
            raise Rejected(f"missing key attribute {k!r}")
        if node[0] not in ("S", "N", "B"):
            raise Rejected(f"key attribute {k!r} is {node[0]}; keys are S, N or B")
        if node[0] == "S" and node[1] == "":
            raise Rejected(f"key attribute {k!r} is an empty string")
        key_texts.append(attribute_text(node))
    order_node = nodes.get(ctx.ordering_field) if ctx.ordering_field else None
    if op == "delete" and ctx.ordering_field and (order_node is None or order_node[0] == "NULL"):
        raise Rejected(
            f"remove without the ordering attribute {ctx.ordering_field!r} (no old image): its order cannot "
            "be decided; use a stream view type with OLD_IMAGE, or no orderingField"
        )
    try:
        ordering = ordering_value(ctx.ordering_field, order_node, ts, seq)
    except ValueError_ as e:
        raise Rejected(str(e)) from None
    derived = []
    parsed: dict[str, dict[str, str] | None] = {}  # each source timestamp parsed once per record
    for source, part in ctx.derived:
        if source not in parsed:
            node = nodes.get(source)
            if node is None or node[0] == "NULL":
                parsed[source] = None
            elif node[0] != "S":
                raise Rejected(f"derived columns need {source!r} to be an ISO-8601 string, it is {node[0]}")
            else:
                try:
                    parsed[source] = timestamp_parts(node[1])
                except ValueError_ as e:
                    raise Rejected(f"attribute {source!r}: {e}") from None
        parts = parsed[source]
        derived.append(None if parts is None else parts[part])
    attrs = {name: attribute_text(node) for name, node in nodes.items()}
    return (json.dumps(key_texts, ensure_ascii=False), op, ordering, attrs, *derived)
