"""The lake value a DynamoDB item should have in each column: docs/types.md as plain Python.

`ddb-lake verify` compares a table with its lake through these functions. They follow the Spark
projection of the jobs (`lake._value`, `lake.project`) rule for rule, starting from the same canonical
form (`values.decode_ddb` → `values.attribute_text`), and `glue/tests/test_expected.py` runs both on
the same values to keep them in step. No Spark here: verify runs without a JVM.

A column's value is decided by the column plan (`columns.Plan`, stored in every commit) — the kind of
attribute the column was made for and its Spark type:

- the attribute is absent or NULL: null;
- its kind matches and the value fits the type: the typed value;
- otherwise: null, and the value goes to `_ddb_lake_overflow` as `{"<attribute>": {"<type>": "<text>"}}`
  (key attributes cannot overflow: such an item is rejected by the jobs and never in the lake).
"""

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .columns import DERIVED, Column, Plan
from .derive import timestamp_parts
from .values import Node, ValueError_, attribute_text, decode_ddb

_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_PLAIN_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")

#: A converter: the attribute's "<type>:<text>" split in two -> the column value, or _UNFIT.
_UNFIT = object()


def _scale(text: str) -> int:
    pos = text.find(".")
    return len(text) - pos - 1 if pos >= 0 else 0


def _int_digits(text: str) -> int:
    int_part = text.lstrip("-").split(".", 1)[0]
    return 0 if int_part == "0" else len(int_part)


def _bigint(text: str) -> Any:
    """Spark's cast of a string to bigint (ANSI off): null when not an integer within a long."""
    if not _PLAIN_INT.match(text):
        return None
    n = int(text)
    return n if LONG_MIN <= n <= LONG_MAX else None


def _spark_decimal(text: str, precision: int, scale: int) -> Decimal | None:
    """Spark's cast of a string to decimal(p,s): rounded half up to the scale, null on overflow."""
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    q = d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    digits = len(q.as_tuple().digits) if q != 0 else 1
    int_digits = digits + q.as_tuple().exponent if q != 0 else 0
    if int_digits > precision - scale:
        return None
    return q


def _decimal_text(d: Decimal, scale: int) -> str:
    """How Spark prints a decimal(p,s) (BigDecimal.toPlainString: exactly `scale` decimals)."""
    return format(d, f".{scale}f")


def _java_double_text(x: float) -> str:
    """Java's Double.toString, which Spark uses to cast a double to a string: plain from 10^-3 to
    10^7, else `d.dddE<n>`. (Java 17 sometimes prints more digits than the shortest; such values fail
    the round trip here and in Spark alike only when they differ, which is rare.)"""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    sign = "-" if x < 0 else ""
    a = abs(x)
    if 1e-3 <= a < 1e7:
        r = repr(a)
        return sign + (r if "." in r else r + ".0")
    _, digits, exponent = Decimal(repr(a)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    return f"{sign}{ds[0]}.{ds[1:] or '0'}E{len(ds) - 1 + exponent}"


def converter(col: Column) -> Callable[[str, str], Any]:
    """The column's conversion of an attribute of type `t` with canonical text `text` (see module doc).
    Mirrors `lake._value`; returns _UNFIT when the value does not fit the column."""
    typ = col.type
    kind = col.kind

    if kind == "N":
        if typ == "bigint":

            def conv(t: str, text: str) -> Any:
                if t != kind or "." in text:
                    return _UNFIT
                v = _bigint(text)
                return _UNFIT if v is None else v

            return conv
        m = _DECIMAL.match(typ)
        if m:
            p, s = int(m.group(1)), int(m.group(2))

            def conv(t: str, text: str) -> Any:
                if t != kind or _scale(text) > s or _int_digits(text) > p - s:
                    return _UNFIT
                return Decimal(text)

            return conv
        if typ == "double":
            return lambda t, text: float(text) if t == kind else _UNFIT
        if typ == "string":
            return lambda t, text: text if t == kind else _UNFIT
    if kind == "BOOL" and typ == "boolean":
        return lambda t, text: (text == "true") if t == kind else _UNFIT
    if kind == "B" and typ == "binary":
        return lambda t, text: base64.b64decode(text) if t == kind else _UNFIT
    if typ == "string":
        return lambda t, text: text if t == kind else _UNFIT
    return _pinned_other(kind, typ)


def _pinned_other(kind: str, typ: str) -> Callable[[str, str], Any]:
    """A pinned type that does not hold the column's kind (e.g. an S attribute pinned to long): Spark
    casts the text and keeps it only when casting back gives the same text."""
    m = _DECIMAL.match(typ)

    def conv(t: str, text: str) -> Any:
        if t != kind:
            return _UNFIT
        if typ == "bigint":
            v = _bigint(text.strip())
            return v if v is not None and str(v) == text else _UNFIT
        if m:
            p, s = int(m.group(1)), int(m.group(2))
            d = _spark_decimal(text, p, s)
            return d if d is not None and _decimal_text(d, s) == text else _UNFIT
        if typ == "boolean":
            return {"true": True, "false": False}.get(text, _UNFIT)
        if typ == "double":
            try:
                x = float(text)
            except ValueError:
                return _UNFIT
            return x if _java_double_text(x) == text else _UNFIT
        if typ == "binary":
            return text.encode("utf-8")
        return _UNFIT

    return conv


@dataclass(frozen=True)
class DerivedSpec:
    name: str
    source: str
    part: str


@dataclass
class ExpectedRow:
    """One table item as the lake should hold it."""

    #: Column name -> value (Python: str, int, Decimal, float, bool, bytes or None).
    values: dict[str, Any]
    #: `_ddb_lake_overflow` (canonical JSON text) or None.
    overflow: str | None
    #: Attributes the lake has no column for: name -> "<type>:<text>".
    unmapped: dict[str, str]
    #: Why the jobs would reject this item (it can then never be in the lake), else None.
    rejected: str | None


class RowBuilder:
    """Builds the expected lake row of table items for one column plan and config."""

    def __init__(self, plan: Plan, key_fields: Sequence[str], derived: Sequence[DerivedSpec]):
        self.plan = plan
        self.key_fields = list(key_fields)
        self.derived = {d.name: d for d in derived}
        self.attribute_columns: list[tuple[Column, Callable[[str, str], Any]]] = [
            (c, converter(c)) for c in plan.columns if c.kind != DERIVED and c.attribute is not None
        ]
        self.derived_columns = [c for c in plan.columns if c.kind == DERIVED]
        self.known = {c.attribute for c, _ in self.attribute_columns}
        self.keys = set(self.key_fields)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.plan.columns]

    def row(self, item: dict[str, Any]) -> ExpectedRow:
        """`item`: the DynamoDB JSON of one item (`{"account": {"S": "…"}, …}`)."""
        nodes: dict[str, Node] = {}
        rejected: str | None = None
        for name, value in item.items():
            try:
                nodes[name] = decode_ddb(value)
            except ValueError_ as err:
                rejected = f"attribute {name!r}: {err}"
        return self.row_of_nodes(nodes, rejected)

    def row_of_nodes(self, nodes: dict[str, Node], rejected: str | None = None) -> ExpectedRow:
        values: dict[str, Any] = {}
        overflow: dict[str, dict[str, str]] = {}
        for col, conv in self.attribute_columns:
            node = nodes.get(col.attribute)  # type: ignore[arg-type]
            if node is None or node[0] == "NULL":
                values[col.name] = None
                if col.attribute in self.keys:
                    rejected = rejected or f"missing key attribute {col.attribute!r}"
                continue
            t, _, text = attribute_text(node).partition(":")
            v = conv(t, text)
            if v is _UNFIT:
                values[col.name] = None
                if col.attribute in self.keys:
                    rejected = rejected or f"key attribute {col.attribute!r} does not fit its column type {col.type}"
                else:
                    overflow[col.attribute] = {t: text}  # type: ignore[index]
            else:
                values[col.name] = v
        parsed: dict[str, dict[str, str] | None] = {}  # each source timestamp parsed once per item
        for col in self.derived_columns:
            spec = self.derived.get(col.name)
            values[col.name] = None
            if spec is None:
                continue
            if spec.source not in parsed:
                node = nodes.get(spec.source)
                parsed[spec.source] = None
                if node is None or node[0] == "NULL":
                    pass
                elif node[0] != "S":
                    rejected = (
                        rejected or f"derived columns need {spec.source!r} to be an ISO-8601 string, it is {node[0]}"
                    )
                else:
                    try:
                        parsed[spec.source] = timestamp_parts(node[1])
                    except ValueError_ as err:
                        rejected = rejected or f"attribute {spec.source!r}: {err}"
            parts = parsed[spec.source]
            if parts is not None:
                values[col.name] = parts[spec.part]
        unmapped = {
            name: attribute_text(node) for name, node in nodes.items() if name not in self.known and node[0] != "NULL"
        }
        return ExpectedRow(values, overflow_text(overflow) if overflow else None, unmapped, rejected)


def overflow_text(entries: dict[str, dict[str, str]]) -> str:
    """Canonical JSON of an overflow object (keys sorted, compact, non-ASCII kept)."""
    return json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_overflow(text: str | None) -> str | None:
    """A lake's `_ddb_lake_overflow` (Spark's to_json) in the canonical form of `overflow_text`."""
    if text is None:
        return None
    try:
        return overflow_text(json.loads(text))
    except (ValueError, TypeError):
        return text


def spark_type_to_arrow(typ: str):
    """The Arrow type hudi-rs reads a column of this Spark type as."""
    import pyarrow as pa

    if typ == "string":
        return pa.string()
    if typ == "bigint":
        return pa.int64()
    if typ == "double":
        return pa.float64()
    if typ == "boolean":
        return pa.bool_()
    if typ == "binary":
        return pa.binary()
    m = _DECIMAL.match(typ)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"unknown column type {typ!r}")
