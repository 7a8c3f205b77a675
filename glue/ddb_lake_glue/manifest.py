"""The run manifest (docs/contracts.md): everything a job needs besides --manifest / --run_key."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .derive import PARTS
from .errors import JobError

_COLUMN_TYPE = re.compile(r"^(string|long|double|boolean|binary|decimal\((\d{1,2}),(\d{1,2})\))$")
TABLE_TYPES = ("COPY_ON_WRITE", "MERGE_ON_READ")
KINDS = ("initialLoad", "incremental", "compaction")


@dataclass(frozen=True)
class DerivedColumn:
    name: str
    source: str
    part: str


@dataclass(frozen=True)
class TypesConfig:
    numbers: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TableSpec:
    lake_location: str
    table_name: str
    key_fields: list[str]
    ordering_field: str | None
    derived_columns: list[DerivedColumn]
    partition_fields: list[str]
    types: TypesConfig
    max_rejected_share: float
    glue_database: str | None
    tombstone_location: str
    key_types: dict[str, str] = field(default_factory=dict)
    # Initial load: the Hudi table type. Later runs follow the table as it is (hoodie.properties).
    table_type: str = "COPY_ON_WRITE"
    # Initial load: buckets per partition of the bucket index; None = from the export's size.
    bucket_count: int | None = None
    # The recent-versions store of the ordering check (docs/ordering.md) and how long it keeps versions.
    versions_location: str = ""
    versions_retention_hours: float = 24.0
    # False: the workflow schedules cleaning (a compaction run); ingest commits never clean.
    auto_clean: bool = True


@dataclass(frozen=True)
class CompactionSpec:
    # At most this many MB read + written per run (Hudi's target IO); the file groups with the most
    # log data first.
    max_io_mb: int = 512
    compact: bool = True
    clean: bool = True
    retain_commits: int = 10


@dataclass(frozen=True)
class ExportSpec:
    root: str
    export_time_ms: int


@dataclass(frozen=True)
class Manifest:
    run_key: str
    pipeline: str
    kind: str
    table: TableSpec
    files: list[str]
    export: ExportSpec | None
    rejected_location: str
    summary_uri: str
    # Incremental: the point in time of the export the lake was (last) loaded from, when known.
    loaded_export_ms: int | None = None
    compaction: CompactionSpec | None = None


def parse_manifest(text: str, source: str, expected_kind: str, run_key: str) -> Manifest:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise JobError(f"manifest {source} is not valid JSON: {e}") from None
    p = _Reader(raw, source)
    if p.req("version", int) != 1:
        raise JobError(f"manifest {source}: version {raw.get('version')} is not supported (expected 1)")
    kind = p.req("kind", str)
    if kind not in KINDS:
        raise JobError(f"manifest {source}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    # The incremental job also runs the table's compaction/cleaning runs (same Glue job, same slot).
    if kind != expected_kind and not (expected_kind == "incremental" and kind == "compaction"):
        raise JobError(f"manifest {source} is for a {kind} run, but this is the {expected_kind} job")
    if p.req("runKey", str) != run_key:
        raise JobError(f"manifest {source} is for run {raw.get('runKey')!r}, not --run_key {run_key!r}")
    t = _Reader(p.req("table", dict), source, "table.")
    key_fields = t.req("keyFields", list)
    if (
        not key_fields
        or not all(isinstance(k, str) and k for k in key_fields)
        or len(set(key_fields)) != len(key_fields)
    ):
        raise JobError(f"manifest {source}: table.keyFields must list 1 or more distinct attribute names")
    derived = []
    for i, d in enumerate(t.opt("derivedColumns", list, [])):
        dr = _Reader(d, source, f"table.derivedColumns[{i}].")
        part = dr.req("part", str)
        if part not in PARTS:
            raise JobError(f"manifest {source}: table.derivedColumns[{i}].part must be one of {', '.join(PARTS)}")
        derived.append(DerivedColumn(dr.req("name", str), dr.req("from", str), part))
    types_raw = _Reader(t.opt("types", dict, {}), source, "table.types.")
    numbers = types_raw.opt("numbers", str, "auto")
    if numbers not in ("auto", "decimal", "string"):
        raise JobError(f"manifest {source}: table.types.numbers must be auto, decimal or string")
    pins = types_raw.opt("columns", dict, {})
    for name, typ in pins.items():
        m = _COLUMN_TYPE.match(str(typ))
        if not m or (m.group(2) and not (0 < int(m.group(2)) <= 38 and int(m.group(3)) <= int(m.group(2)))):
            raise JobError(
                f"manifest {source}: table.types.columns.{name} = {typ!r} is not a column type (docs/types.md)"
            )
    share = t.opt("maxRejectedShare", (int, float), 0.01)
    if not 0 <= share <= 1:
        raise JobError(f"manifest {source}: table.maxRejectedShare must be between 0 and 1")
    key_types = t.opt("keyTypes", dict, {})
    for name, typ in key_types.items():
        if name not in key_fields or typ not in ("S", "N", "B"):
            raise JobError(f"manifest {source}: table.keyTypes must map key fields to S, N or B")
    partition_fields = t.opt("partitionFields", list, [])
    if not all(isinstance(f, str) and f for f in partition_fields):
        raise JobError(f"manifest {source}: table.partitionFields must list field names")
    table_name = t.req("tableName", str)
    if not re.match(r"^[A-Za-z0-9_]{1,128}$", table_name):
        raise JobError(f"manifest {source}: table.tableName must be letters, digits and _")
    lake = t.req("lakeLocation", str).rstrip("/")
    table_type = t.opt("tableType", str, "COPY_ON_WRITE")
    if table_type not in TABLE_TYPES:
        raise JobError(f"manifest {source}: table.tableType must be COPY_ON_WRITE or MERGE_ON_READ, not {table_type!r}")
    bucket_count = t.opt("bucketCount", int, None)
    if bucket_count is not None and not 1 <= bucket_count <= 100_000:
        raise JobError(f"manifest {source}: table.bucketCount must be between 1 and 100000")
    retention = t.opt("versionsRetentionHours", (int, float), 24.0)
    if not 0 < retention <= 24 * 365:
        raise JobError(f"manifest {source}: table.versionsRetentionHours must be more than 0 and at most 8760")
    table = TableSpec(
        lake_location=lake,
        table_name=table_name,
        key_fields=key_fields,
        ordering_field=t.opt("orderingField", str, None),
        derived_columns=derived,
        partition_fields=partition_fields,
        types=TypesConfig(numbers, dict(pins)),
        max_rejected_share=float(share),
        glue_database=t.opt("glueDatabase", str, None),
        tombstone_location=(t.opt("tombstoneLocation", str, None) or lake + "__tombstones").rstrip("/"),
        key_types=dict(key_types),
        table_type=table_type,
        bucket_count=bucket_count,
        versions_location=(t.opt("versionsLocation", str, None) or lake + "__versions").rstrip("/"),
        versions_retention_hours=float(retention),
        auto_clean=t.opt("autoClean", bool, True),
    )
    export = None
    files = p.opt("files", list, [])
    if kind == "initialLoad":
        e = _Reader(p.req("export", dict), source, "export.")
        export = ExportSpec(e.req("root", str).rstrip("/"), e.req("exportTimeMs", int))
    elif not all(isinstance(f, str) and f for f in files):
        raise JobError(f"manifest {source}: files must be a list of URIs")
    loaded_export_ms = p.opt("loadedExportTimeMs", int, None) if kind == "incremental" else None
    compaction = _compaction_spec(p, source) if kind == "compaction" else None
    return Manifest(
        run_key=run_key,
        pipeline=p.req("pipeline", str),
        kind=kind,
        table=table,
        files=list(files),
        export=export,
        rejected_location=(
            p.opt("rejectedLocation", str, "") if kind == "compaction" else p.req("rejectedLocation", str)
        ).rstrip("/"),
        summary_uri=p.req("summaryUri", str),
        loaded_export_ms=loaded_export_ms,
        compaction=compaction,
    )


def _compaction_spec(p: "_Reader", source: str) -> CompactionSpec:
    c = _Reader(p.opt("compaction", dict, {}), source, "compaction.")
    max_io = c.opt("maxIoMb", int, 512)
    if max_io < 1:
        raise JobError(f"manifest {source}: compaction.maxIoMb must be at least 1")
    retain = c.opt("retainCommits", int, 10)
    if retain < 1:
        raise JobError(f"manifest {source}: compaction.retainCommits must be at least 1")
    spec = CompactionSpec(
        max_io_mb=max_io, compact=c.opt("compact", bool, True), clean=c.opt("clean", bool, True), retain_commits=retain
    )
    if not spec.compact and not spec.clean:
        raise JobError(f"manifest {source}: compaction.compact and compaction.clean are both false: nothing to do")
    return spec


class _Reader:
    def __init__(self, raw: Any, source: str, prefix: str = ""):
        if not isinstance(raw, dict):
            raise JobError(f"manifest {source}: {prefix.rstrip('.') or 'the document'} must be an object")
        self.raw, self.source, self.prefix = raw, source, prefix

    def req(self, name: str, typ: Any) -> Any:
        if name not in self.raw or self.raw[name] is None:
            raise JobError(f"manifest {self.source}: {self.prefix}{name} is required")
        return self._check(name, typ)

    def opt(self, name: str, typ: Any, default: Any) -> Any:
        if self.raw.get(name) is None:
            return default
        return self._check(name, typ)

    def _check(self, name: str, typ: Any) -> Any:
        value = self.raw[name]
        ok = False if isinstance(value, bool) and typ is not bool and typ != (int, float) else isinstance(value, typ)
        if not ok:
            names = typ.__name__ if isinstance(typ, type) else "number"
            raise JobError(f"manifest {self.source}: {self.prefix}{name} must be a {names}")
        return value
