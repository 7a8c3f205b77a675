"""Which Hudi index a table uses (docs/contracts.md, "The Hudi table"), chosen once by the initial
load and kept in every commit's extra metadata (`_ddb_lake_index`), so every later run writes with
exactly the same index settings (a bucket index hashes keys with its bucket count: a different
count would put a key in a second file group).

- Partitions derived from key fields only (or none): a row never changes partition, so a
  partition-level index is enough: `BUCKET` (Hudi's SIMPLE bucket engine). A key's file group is its
  hash modulo the bucket count: no lookup at all, for copy-on-write and merge-on-read alike. A batch
  touches at most `buckets` file groups per partition (one log file each on merge-on-read).
- A partition field from a mutable attribute: a row moves when the value changes, which needs a
  global index: `GLOBAL_SIMPLE` with partition-path updates (it joins the batch's keys with the keys
  of the whole table: O(table)). Hudi 0.15's alternative, the metadata table's record index, needs
  the metadata table on every writer (docs/contracts.md says why it is not used yet).
- Tables written before layouts were recorded keep their index: `SIMPLE` / `GLOBAL_SIMPLE`.
"""

import json
import math
from dataclasses import asdict, dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from .columns import Plan
from .errors import JobError
from .manifest import TableSpec

# Rows per bucket the initial load aims at: ~130 MB base files for the brief's items (Hudi's default
# maximum base file size is 120 MB). A table that grows 4x gets ~500 MB files; reload to re-bucket.
ROWS_PER_BUCKET = 1_000_000
INDEXES = ("BUCKET", "SIMPLE", "GLOBAL_SIMPLE")


@dataclass(frozen=True)
class IndexLayout:
    index: str
    buckets: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "IndexLayout":
        raw = json.loads(text)
        layout = IndexLayout(raw.get("index", ""), raw.get("buckets"))
        if layout.index not in INDEXES or (layout.index == "BUCKET" and not layout.buckets):
            raise JobError(f"the table's index layout {text} is not one this job understands ({', '.join(INDEXES)})")
        return layout

    @property
    def is_global(self) -> bool:
        return self.index == "GLOBAL_SIMPLE"

    def describe(self) -> str:
        return f"BUCKET({self.buckets})" if self.index == "BUCKET" else self.index


def key_derived_only(table: TableSpec) -> bool:
    """Every partition field is a key field or derived from one: a row never changes partition."""
    sources = {d.name: d.source for d in table.derived_columns}
    return all(f in table.key_fields or sources.get(f) in table.key_fields for f in table.partition_fields)


def buckets_for(rows_in_largest_partition: int) -> int:
    return max(1, math.ceil(rows_in_largest_partition / ROWS_PER_BUCKET))


def choose(table: TableSpec, rows_in_largest_partition: int) -> IndexLayout:
    """The layout of a new table (initial load)."""
    if not key_derived_only(table):
        return IndexLayout("GLOBAL_SIMPLE")
    return IndexLayout("BUCKET", table.bucket_count or buckets_for(rows_in_largest_partition))


def legacy(table: TableSpec) -> IndexLayout:
    """The index of a table written before layouts were recorded (what hudi_table chose then)."""
    return IndexLayout("SIMPLE" if key_derived_only(table) else "GLOBAL_SIMPLE")


def index_options(layout: IndexLayout) -> dict[str, str]:
    if layout.index == "BUCKET":
        return {
            "hoodie.index.type": "BUCKET",
            "hoodie.index.bucket.engine": "SIMPLE",
            "hoodie.bucket.index.num.buckets": str(layout.buckets),
        }
    if layout.index == "GLOBAL_SIMPLE":
        # A partition value can change with an update: find the key in any partition and move it.
        return {"hoodie.index.type": "GLOBAL_SIMPLE", "hoodie.simple.index.update.partition.path": "true"}
    return {"hoodie.index.type": "SIMPLE"}


def partitions_of(table: TableSpec, plan: Plan, rows: DataFrame, stored: DataFrame) -> DataFrame:
    """The stored rows of the partitions `rows` fall in, when a key's partition follows from the key
    (its row never lives elsewhere): Hudi prunes the other partitions, so the lake fallback reads a
    few partitions instead of the whole table. Otherwise (or when a column is not found) all of it."""
    if not table.partition_fields or not key_derived_only(table):
        return stored
    try:
        names = [plan.column_for(f).name for f in table.partition_fields]
    except JobError:
        return stored
    if not all(n in rows.columns and n in stored.columns for n in names):
        return stored
    wanted = rows.select(*names).distinct().collect()
    if not wanted or len(wanted) > 1000:
        return stored
    condition = None
    for r in wanted:
        one = None
        for n in names:
            term = F.col(n).isNull() if r[n] is None else F.col(n) == F.lit(r[n])
            one = term if one is None else one & term
        condition = one if condition is None else condition | one
    return stored.filter(condition)
