"""Test data in the real layouts: DynamoDB exports, landing files (docs/encoding.md), manifests."""

import base64
import gzip
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

BRIEF_EXPORT_LINES = [
    '{"Item":{"account":{"S":"602-943-1702"},"create_at":{"S":"2023-07-30T16:49:36.444736+0000"},"entity":{"S":"James, Lopez and Welch"},"note":{"S":"Be Mrs small will organization everybody sign."},"update_at":{"S":"2023-07-30T16:49:36.444736+0000"},"amount":{"N":"282"},"is_credit":{"N":"1"}}}',
    '{"Item":{"account":{"S":"729-692-8634"},"create_at":{"S":"2023-07-30T16:49:19.238896+0000"},"entity":{"S":"Pena, Harrison and Cummings"},"note":{"S":"On common speak cultural day protect."},"update_at":{"S":"2023-07-30T16:49:19.238896+0000"},"amount":{"N":"518"},"is_credit":{"N":"1"}}}',
    '{"Item":{"account":{"S":"120-161-2287"},"create_at":{"S":"2023-07-30T16:49:20.627894+0000"},"entity":{"S":"Wall-Moreno"},"note":{"S":"Various type past mouth daughter reality husband national."},"update_at":{"S":"2023-07-30T16:49:20.627894+0000"},"amount":{"N":"990"},"is_credit":{"N":"0"}}}',
]

BRIEF_PROCESSED = [
    {
        "id": "account:602-943-1702,create_at:2023-07-30T16:49:36.444736+0000",
        "account": "602-943-1702",
        "create_at": "2023-07-30T16:49:36.444736+0000",
        "create_year": "2023",
        "create_month": "07",
        "create_day": "30",
        "create_hour": "16",
        "create_minute": "49",
        "update_at": "2023-07-30T16:49:36.444736+0000",
        "entity": "James, Lopez and Welch",
        "amount": 282,
        "is_credit": 1,
        "note": "Be Mrs small will organization everybody sign.",
    },
    {
        "id": "account:729-692-8634,create_at:2023-07-30T16:49:19.238896+0000",
        "account": "729-692-8634",
        "create_at": "2023-07-30T16:49:19.238896+0000",
        "create_year": "2023",
        "create_month": "07",
        "create_day": "30",
        "create_hour": "16",
        "create_minute": "49",
        "update_at": "2023-07-30T16:49:19.238896+0000",
        "entity": "Pena, Harrison and Cummings",
        "amount": 518,
        "is_credit": 1,
        "note": "On common speak cultural day protect.",
    },
    {
        "id": "account:120-161-2287,create_at:2023-07-30T16:49:20.627894+0000",
        "account": "120-161-2287",
        "create_at": "2023-07-30T16:49:20.627894+0000",
        "create_year": "2023",
        "create_month": "07",
        "create_day": "30",
        "create_hour": "16",
        "create_minute": "49",
        "update_at": "2023-07-30T16:49:20.627894+0000",
        "entity": "Wall-Moreno",
        "amount": 990,
        "is_credit": 0,
        "note": "Various type past mouth daughter reality husband national.",
    },
]

BRIEF_DERIVED = [
    {"name": f"create_{p}", "from": "create_at", "part": p} for p in ("year", "month", "day", "hour", "minute")
]


def brief_table(lake: str, **overrides: Any) -> dict[str, Any]:
    table = {
        "lakeLocation": lake,
        "tableName": "transactions",
        "keyFields": ["account", "create_at"],
        "orderingField": "update_at",
        "derivedColumns": BRIEF_DERIVED,
        "partitionFields": [d["name"] for d in BRIEF_DERIVED],
        "types": {"numbers": "auto", "columns": {}},
        "maxRejectedShare": 0.01,
        "glueDatabase": None,
    }
    table.update(overrides)
    return table


def uri(path: Path) -> str:
    return "file://" + str(path)


# ---------------------------------------------------------------------------------------------
# Exports (DynamoDB export layout, DYNAMODB_JSON)


def write_export(root: Path, lines: list[str], files: int = 1, export_time_ms: int = 1690735800000) -> str:
    """Writes data/*.json.gz, manifest-files.json (JSON lines) and manifest-summary.json."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    entries = []
    for i in range(files):
        chunk = lines[i::files]
        name = f"{i:04d}abcdefghijklmnopqrstuv.json.gz"
        with gzip.open(root / "data" / name, "wt", encoding="utf-8") as f:
            for line in chunk:
                f.write(line + "\n")
        entries.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": "x",
                "etag": "y",
                "dataFileS3Key": f"prefix/AWSDynamoDB/{root.name}/data/{name}",
            }
        )
    (root / "manifest-files.json").write_text("".join(json.dumps(e) + "\n" for e in entries))
    (root / "manifest-summary.json").write_text(
        json.dumps(
            {
                "version": "2020-06-30",
                "exportArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/export/x",
                "itemCount": len(lines),
                "outputFormat": "DYNAMODB_JSON",
                "exportType": "FULL_EXPORT",
                "manifestFilesS3Key": f"prefix/AWSDynamoDB/{root.name}/manifest-files.json",
                "exportTime": export_time_ms,
            }
        )
    )
    return uri(root)


def ddb_item(attrs: dict[str, Any]) -> str:
    """A Python item (str / int / Decimal / bool / None / bytes / set / dict / list) as an export line."""
    return json.dumps({"Item": {k: to_ddb(v) for k, v in attrs.items()}}, separators=(",", ":"))


def to_ddb(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"BOOL": v}
    if isinstance(v, (int, Decimal)):
        return {"N": str(v)}
    if isinstance(v, str):
        return {"S": v}
    if v is None:
        return {"NULL": True}
    if isinstance(v, bytes):
        return {"B": base64.b64encode(v).decode()}
    if isinstance(v, (set, frozenset)):
        first = next(iter(v))
        if isinstance(first, str):
            return {"SS": sorted(v)}
        if isinstance(first, bytes):
            return {"BS": [base64.b64encode(x).decode() for x in v]}
        return {"NS": [str(x) for x in v]}
    if isinstance(v, dict):
        return {"M": {k: to_ddb(x) for k, x in v.items()}}
    if isinstance(v, list):
        return {"L": [to_ddb(x) for x in v]}
    raise TypeError(v)


# ---------------------------------------------------------------------------------------------
# Landing lines (docs/encoding.md), encoded the way lambda/encoding.ts does


def landing_line(attrs: dict[str, Any], op: str, seq: int, ts_ms: int, ttl: bool = False) -> str:
    body: dict[str, str] = {}
    types: dict[str, Any] = {}
    for k, v in attrs.items():
        name = "_" + k if k.startswith("_") else k
        text, desc = _plain(v)
        body[name] = text
        if desc is not None:
            types[k] = desc
    meta = {"_op": json.dumps(op), "_seq": json.dumps(str(seq)), "_ts": str(ts_ms), "_ttl": json.dumps(ttl)}
    if types:
        meta["_types"] = json.dumps(types, separators=(",", ":"))
    parts = [f"{json.dumps(k)}:{v}" for k, v in list(body.items()) + list(meta.items())]
    return "{" + ",".join(parts) + "}"


def _plain(v: Any):
    """(JSON text, descriptor) of a value; numbers keep their exact digits."""
    if isinstance(v, bool):
        return json.dumps(v), None
    if isinstance(v, (int, Decimal)):
        return str(v), None
    if isinstance(v, str) or v is None:
        return json.dumps(v, ensure_ascii=False), None
    if isinstance(v, bytes):
        return json.dumps(base64.b64encode(v).decode()), "B"
    if isinstance(v, (set, frozenset)):
        first = next(iter(v))
        if isinstance(first, str):
            return json.dumps(sorted(v), ensure_ascii=False), "SS"
        if isinstance(first, bytes):
            return json.dumps([base64.b64encode(x).decode() for x in v]), "BS"
        return "[" + ",".join(str(x) for x in v) + "]", "NS"
    if isinstance(v, dict):
        inner, descs = [], {}
        for k, x in v.items():
            t, d = _plain(x)
            inner.append(f"{json.dumps(k, ensure_ascii=False)}:{t}")
            if d is not None:
                descs[k] = d
        return "{" + ",".join(inner) + "}", ({"M": descs} if descs else None)
    if isinstance(v, list):
        inner, descs = [], {}
        for i, x in enumerate(v):
            t, d = _plain(x)
            inner.append(t)
            if d is not None:
                descs[str(i)] = d
        return "[" + ",".join(inner) + "]", ({"L": descs} if descs else None)
    raise TypeError(v)


def write_landing(path: Path, lines: Iterable[str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return uri(path)


# ---------------------------------------------------------------------------------------------
# Manifests and reading the lake


def write_manifest(
    path: Path,
    kind: str,
    run_key: str,
    table: dict[str, Any],
    files: list[str] | None = None,
    export: dict[str, Any] | None = None,
    loaded_export_ms: int | None = None,
) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": 1,
        "runKey": run_key,
        "pipeline": "test",
        "kind": kind,
        "table": table,
        "files": files or [],
        "export": export,
        "rejectedLocation": uri(path.parent / "_rejected" / run_key),
        "summaryUri": uri(path.parent / f"{run_key}.summary.json"),
    }
    if loaded_export_ms is not None:
        doc["loadedExportTimeMs"] = loaded_export_ms
    path.write_text(json.dumps(doc, indent=2))
    return uri(path)


def read_with_hudi_rs(location: str) -> list[dict[str, Any]]:
    """The table's snapshot read by hudi-rs (no Spark), as Python rows."""
    import hudi

    table = hudi.HudiTable(location)
    batches = table.read()
    if not batches:
        return []
    return pa.Table.from_batches(batches).to_pylist()


def read_with_spark(spark, location: str) -> list[dict[str, Any]]:
    return [r.asDict() for r in spark.read.format("hudi").load(location).collect()]
