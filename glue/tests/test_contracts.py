"""The job contract is defined once, in TypeScript (zod, core/manifest.ts), and exported as JSON Schema
(core/contracts/*.schema.json, `npm run contracts`). Here the Python side is held to it: the manifest
reader asks for exactly the fields the schema has, and the summaries the jobs write validate against
the summary schema. A field renamed on either side fails one of these tests."""

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ddb_lake_glue import manifest as manifest_module
from ddb_lake_glue.jobs import complete_summary, run_manifest_uri
from helpers import BRIEF_EXPORT_LINES, brief_table, landing_line, uri, write_export, write_landing, write_manifest

CONTRACTS = Path(__file__).resolve().parents[2] / "core" / "contracts"


def schema(name: str) -> dict[str, Any]:
    return json.loads((CONTRACTS / f"{name}.schema.json").read_text())


def schema_paths(node: dict[str, Any], prefix: str = "") -> set[str]:
    """Every property path of a JSON Schema object: `table.keyFields`, `table.derivedColumns[].part` …"""
    paths: set[str] = set()
    for variant in node.get("anyOf", []):
        paths |= schema_paths(variant, prefix)
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        paths.add(path)
        paths |= schema_paths(sub, path + ".")
        items = sub.get("items")
        if isinstance(items, dict):
            paths |= schema_paths(items, path + "[].")
        for variant in sub.get("anyOf", []):
            paths |= schema_paths(variant, path + ".")
    return paths


def full_manifest(kind: str) -> dict[str, Any]:
    """A manifest holding every field of the contract (for its kind)."""
    table = brief_table(
        "file:///lake/t", keyTypes={"account": "S", "create_at": "S"}, tombstoneLocation="file:///lake/t__tomb"
    )
    table["types"] = {"numbers": "auto", "columns": {"amount": "long"}}
    table.update(
        tableType="MERGE_ON_READ",
        bucketCount=4,
        versionsLocation="file:///lake/t__versions",
        versionsRetentionHours=24,
        autoClean=False,
    )
    m = {
        "version": 1,
        "runKey": "t-1a2b3c4d-inc-000001-a1",
        "pipeline": "t",
        "kind": kind,
        "table": table,
        "files": ["file:///landing/2026-12-07-10-00/a.json"] if kind == "incremental" else [],
        "export": {"root": "file:///export/x", "exportTimeMs": 1690735800000} if kind == "initialLoad" else None,
        "rejectedLocation": "file:///landing/_rejected/t-1/",
        "summaryUri": "file:///landing/_manifests/t/t-1.summary.json",
    }
    if kind == "incremental":
        m["loadedExportTimeMs"] = 1690735800000
    if kind == "compaction":
        m["compaction"] = {"maxIoMb": 512, "compact": True, "clean": True, "retainCommits": 10}
    return m


def asked_fields(monkeypatch, manifest: dict[str, Any]) -> set[str]:
    """The field paths parse_manifest reads (every `req` / `opt` of its reader)."""
    asked: set[str] = set()
    reader = manifest_module._Reader
    original_check = reader._check
    original_opt = reader.opt

    def record(self, name):
        asked.add(re.sub(r"\[\d+\]", "[]", self.prefix + name))

    def check(self, name, typ):
        record(self, name)
        return original_check(self, name, typ)

    def opt(self, name, typ, default):
        record(self, name)
        return original_opt(self, name, typ, default)

    monkeypatch.setattr(reader, "_check", check)
    monkeypatch.setattr(reader, "opt", opt)
    kind = manifest["kind"]
    manifest_module.parse_manifest(json.dumps(manifest), "test", kind, manifest["runKey"])
    return asked


@pytest.mark.parametrize("kind", ["initialLoad", "incremental", "compaction"])
def test_the_full_manifest_follows_the_schema(kind):
    jsonschema.validate(full_manifest(kind), schema("job-manifest"))


def test_the_manifest_reader_reads_exactly_the_fields_of_the_schema(monkeypatch):
    asked = set().union(
        *(asked_fields(monkeypatch, full_manifest(k)) for k in ("initialLoad", "incremental", "compaction"))
    )
    wanted = schema_paths(schema("job-manifest"))
    assert asked == wanted, (
        f"only in the schema: {sorted(wanted - asked)}; only in the reader: {sorted(asked - wanted)}"
    )


def test_summaries_the_jobs_write_follow_the_schema(spark, tmp_path: Path):
    summary_schema = schema("job-summary")
    root = write_export(tmp_path / "export", BRIEF_EXPORT_LINES)
    lake = uri(tmp_path / "lake")
    table = brief_table(lake)
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": root, "exportTimeMs": 1690735800000}
    )
    jsonschema.validate(run_manifest_uri(spark, m, "initialLoad", "il"), summary_schema)
    jsonschema.validate(json.loads((tmp_path / "m" / "il.summary.json").read_text()), summary_schema)
    item = {
        "account": "602-943-1702",
        "create_at": "2023-07-30T16:49:36.444736+0000",
        "update_at": "2023-07-30T16:50:00.000000+0000",
        "amount": 1,
    }
    f = write_landing(
        tmp_path / "landing" / "2023-07-30-16-50" / "a.json",
        [landing_line(item, "modify", 200, 1690735900000), "not json"],
    )
    m = write_manifest(tmp_path / "m" / "inc.json", "incremental", "inc", dict(table, maxRejectedShare=1), files=[f])
    summary = run_manifest_uri(spark, m, "incremental", "inc")
    assert summary["rejected"] == 1 and summary["rejectedUri"]
    jsonschema.validate(summary, summary_schema)


def test_a_failed_run_summary_follows_the_schema():
    failed = complete_summary({"runKey": None, "kind": "incremental", "status": "failed", "error": "boom"}, 0.0, 1.5)
    jsonschema.validate(failed, schema("job-summary"))


def test_a_renamed_field_fails_validation():
    m = full_manifest("incremental")
    m["table"]["lakeLocations"] = m["table"].pop("lakeLocation")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(m, schema("job-manifest"))


def test_merge_on_read_and_compaction_summaries_follow_the_schema(spark, tmp_path: Path):
    summary_schema = schema("job-summary")
    root = write_export(tmp_path / "export", BRIEF_EXPORT_LINES)
    table = brief_table(uri(tmp_path / "lake"), derivedColumns=[], partitionFields=[], tableType="MERGE_ON_READ")
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": root, "exportTimeMs": 1690735800000}
    )
    loaded = run_manifest_uri(spark, m, "initialLoad", "il")
    assert loaded["tableType"] == "MERGE_ON_READ"
    jsonschema.validate(loaded, summary_schema)
    item = {
        "account": "602-943-1702",
        "create_at": "2023-07-30T16:49:36.444736+0000",
        "update_at": "2023-07-30T16:50:00.000000+0000",
        "amount": 2,
    }
    f = write_landing(
        tmp_path / "landing" / "2023-07-30-16-50" / "a.json", [landing_line(item, "modify", 200, 1690735900000)]
    )
    m = write_manifest(tmp_path / "m" / "inc.json", "incremental", "inc", table, files=[f])
    jsonschema.validate(run_manifest_uri(spark, m, "incremental", "inc"), summary_schema)
    path = tmp_path / "m" / "c.json"
    doc = json.loads(Path(write_manifest(path, "compaction", "c", table)[len("file://") :]).read_text())
    doc["compaction"] = {"maxIoMb": 512, "compact": True, "clean": True, "retainCommits": 10}
    jsonschema.validate(doc, schema("job-manifest"))
    path.write_text(json.dumps(doc))
    compacted = run_manifest_uri(spark, uri(path), "compaction", "c")
    assert compacted["compactionInstant"], compacted
    jsonschema.validate(compacted, summary_schema)
