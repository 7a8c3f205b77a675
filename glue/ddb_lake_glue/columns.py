"""The column plan: which lake column holds which attribute, with which kind and type.

Pure Python (unit-tested without Spark). The rules are docs/types.md; the plan of a table is kept
in the extra metadata of each of its Hudi commits (`_ddb_lake_plan`), so the next run types new
attributes the same way and knows what each column was made for.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from .errors import JobError
from .manifest import TableSpec

ORDERING_COLUMN = "_ddb_lake_ordering"
OVERFLOW_COLUMN = "_ddb_lake_overflow"
DELETED_COLUMN = "_hoodie_is_deleted"
META_COLUMNS = (ORDERING_COLUMN, OVERFLOW_COLUMN, DELETED_COLUMN)
PLAN_VERSION = 1

# Kinds: the DynamoDB type a column was made for. DERIVED: a derived column (string).
DERIVED = "derived"
KIND_PRECEDENCE = ("S", "N", "BOOL", "B", "M", "L", "SS", "NS", "BS")
_PLAIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
_RESERVED_PREFIXES = ("_hoodie", "_ddb_lake")
DEFAULT_DECIMAL_SCALE = 18
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


@dataclass
class Column:
    name: str
    attribute: str | None
    kind: str
    type: str  # Spark SQL type: string, bigint, double, boolean, binary, decimal(p,s)


@dataclass
class Plan:
    columns: list[Column] = field(default_factory=list)
    version: int = PLAN_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {"version": self.version, "columns": [asdict(c) for c in self.columns]}, separators=(",", ":")
        )

    @staticmethod
    def from_json(text: str) -> "Plan":
        raw = json.loads(text)
        if raw.get("version") != PLAN_VERSION:
            raise JobError(
                f"the table's column plan has version {raw.get('version')}; this job understands {PLAN_VERSION}"
            )
        return Plan([Column(**c) for c in raw["columns"]])

    def by_attribute(self) -> dict[str, Column]:
        return {c.attribute: c for c in self.columns if c.attribute is not None}

    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    def column_for(self, field_name: str) -> Column:
        """The column of a configured field: a derived column's name or an attribute name."""
        for c in self.columns:
            if c.kind == DERIVED and c.name == field_name:
                return c
        col = self.by_attribute().get(field_name)
        if col is None:
            raise JobError(f"{field_name!r} is neither a derived column nor an attribute seen in the data")
        return col


@dataclass
class AttributeStats:
    """What one batch holds for one attribute and DynamoDB type."""

    attribute: str
    type: str
    count: int
    all_long: bool | None = None  # N only
    max_scale: int | None = None
    max_int_digits: int | None = None


def column_name(attribute: str, taken_lower: Iterable[str]) -> str:
    """The attribute's name when it is a plain identifier that no other column has (ignoring case);
    otherwise a sanitised name with a short hash of the attribute name, stable across runs."""
    taken = set(taken_lower)
    if (
        _PLAIN_NAME.match(attribute)
        and not attribute.lower().startswith(_RESERVED_PREFIXES)
        and attribute.lower() not in taken
    ):
        return attribute
    base = re.sub(r"[^A-Za-z0-9_]", "_", attribute).strip("_")[:100] or "attr"
    if not base[0].isalpha():
        base = "a_" + base
    digest = hashlib.sha256(attribute.encode("utf-8")).hexdigest()
    for length in (8, 16, 64):
        candidate = f"{base}_{digest[:length]}"
        if candidate.lower() not in taken:
            return candidate
    raise JobError(f"cannot find a column name for attribute {attribute!r}")


def number_type(numbers_mode: str, stats: AttributeStats | None) -> str | None:
    """Spark type of a new N column by the rule of docs/types.md; None: no exact numeric type."""
    if numbers_mode == "string":
        return "string"
    if stats is None:
        return f"decimal(38,{DEFAULT_DECIMAL_SCALE})" if numbers_mode == "decimal" else "bigint"
    if numbers_mode == "auto" and stats.all_long:
        return "bigint"
    max_scale = stats.max_scale or 0
    max_int = stats.max_int_digits or 0
    scale = min(max(DEFAULT_DECIMAL_SCALE, max_scale), 38 - max_int)
    if scale < max_scale:
        return None  # needs more than 38 digits: kept as exact text
    return f"decimal(38,{scale})"


def column_type(kind: str, pinned: str | None, numbers_mode: str, stats: AttributeStats | None, is_key: bool) -> str:
    if pinned:
        t = _spark_type(pinned)
        if is_key and t in ("double", "binary", "boolean"):
            raise JobError(f"types.columns pins key attribute to {pinned}; keys must be string, long or decimal")
        return t
    if kind == "S":
        return "string"
    if kind == "N":
        return number_type(numbers_mode, stats) or "string"
    if kind == "BOOL":
        return "boolean"
    if kind == "B":
        return "string" if is_key else "binary"  # key columns hold base64 so the record key is readable
    return "string"  # SS, NS, BS, M, L: canonical JSON


def _spark_type(pinned: str) -> str:
    return "bigint" if pinned == "long" else pinned.replace(" ", "")


def choose_kind(stats: list[AttributeStats]) -> str | None:
    """The most frequent non-NULL type of an attribute in the batch (ties: KIND_PRECEDENCE)."""
    typed = [s for s in stats if s.type != "NULL"]
    if not typed:
        return None
    return max(typed, key=lambda s: (s.count, -KIND_PRECEDENCE.index(s.type))).type


def extend_plan(
    existing: Plan | None, stats: list[AttributeStats], table: TableSpec, key_types: dict[str, str]
) -> Plan:
    """The plan for this batch: the existing columns unchanged, then a column for every attribute
    seen for the first time (keys and derived columns first on a new table)."""
    plan = Plan(list(existing.columns)) if existing else Plan()
    taken = {c.name.lower() for c in plan.columns} | {m.lower() for m in META_COLUMNS}
    taken |= {d.name.lower() for d in table.derived_columns}
    by_attr: dict[str, list[AttributeStats]] = {}
    for s in stats:
        by_attr.setdefault(s.attribute, []).append(s)
    known = plan.by_attribute()

    def add(attribute: str, kind: str, stats_for_kind: AttributeStats | None, is_key: bool) -> None:
        name = column_name(attribute, taken)
        taken.add(name.lower())
        typ = column_type(kind, table.types.columns.get(attribute), table.types.numbers, stats_for_kind, is_key)
        col = Column(name, attribute, kind, typ)
        plan.columns.append(col)
        known[attribute] = col

    new_table = not plan.columns
    for key in table.key_fields:
        if key in known:
            continue
        kind = key_types.get(key) or choose_kind(by_attr.get(key, [])) or "S"
        add(key, kind, next((s for s in by_attr.get(key, []) if s.type == kind), None), True)
    if new_table:
        for d in table.derived_columns:
            plan.columns.append(Column(d.name, None, DERIVED, "string"))
    elif any(d.name not in plan.by_name() for d in table.derived_columns):
        missing = [d.name for d in table.derived_columns if d.name not in plan.by_name()]
        raise JobError(
            f"derived column(s) {', '.join(missing)} are not in the table; derived columns cannot be added to an existing table"
        )
    for attribute in sorted(by_attr):
        if attribute in known:
            continue
        kind = choose_kind(by_attr[attribute])
        if kind is None:
            continue  # only NULL so far: no column until a typed value arrives (docs/types.md)
        add(attribute, kind, next(s for s in by_attr[attribute] if s.type == kind), False)
    return plan
