"""Reads a Hudi table's current snapshot with hudi-rs (no Spark, no JVM) into Arrow.

Shared by `ddb-lake sql` (python/lake_sql.py) and anything else that needs an independent reader.
Works for tables written by Spark 3.5 + Hudi 0.15 (Glue 5.0): copy-on-write and merge-on-read,
partitioned or not, on a local path, a file:// URI or s3:// (storage options below).

Storage options are hudi-rs / object_store keys, e.g. for moto:
  {"aws_endpoint_url": "http://127.0.0.1:5401", "aws_region": "us-east-1",
   "aws_access_key_id": "moto", "aws_secret_access_key": "moto", "aws_allow_http": "true"}
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

import pyarrow as pa
from hudi import HudiReadOptions, HudiTableBuilder

PLAN_KEY = "_ddb_lake_plan"


class LakeError(Exception):
    """A problem the user can fix (no such lake, unreachable storage); its message is one line."""


@dataclass
class LakeSnapshot:
    table_name: str
    table_type: str
    #: The commit the snapshot reads as of (Hudi instant time, yyyyMMddHHmmssSSS).
    instant: str
    data: pa.Table
    #: The extra metadata of the newest ddb-lake write at or before that commit (ddb-lake keeps
    #: `_ddb_lake_plan` and `_ddb_lake_run_key` there; a compaction commit carries neither, so on a
    #: merge-on-read table just compacted it is the ingest commit before it).
    extra_metadata: dict[str, str] = field(default_factory=dict)


def read_snapshot(location: str, storage_options: dict[str, str] | None = None) -> LakeSnapshot:
    """The table's rows as of its latest completed commit, Hudi meta columns included."""
    uri = _normalise(location)
    _check_local(uri)
    try:
        table = HudiTableBuilder.from_base_uri(uri).with_storage_options(dict(storage_options or {})).build()
    except Exception as err:  # hudi-rs raises HudiCoreError for every storage problem
        raise LakeError(_describe_open_error(location, uri, storage_options or {}, err)) from None
    try:
        timeline = table.get_timeline()
        instant = timeline.get_latest_commit_timestamp()
    except Exception:
        timeline, instant = None, ""
    if not instant:
        raise LakeError(f"the lake at {location} has no completed commit yet (nothing has been written to it)")
    # Pin the read to the instant we report, so a commit landing meanwhile cannot mix in.
    batches = table.read(HudiReadOptions().with_as_of_timestamp(instant))
    data = pa.Table.from_batches(batches) if batches else table.get_schema_with_meta_fields().empty_table()
    return LakeSnapshot(
        table_name=table.table_name,
        table_type=table.table_type,
        instant=instant,
        data=data,
        extra_metadata=_extra_metadata(timeline, instant),
    )


def _extra_metadata(timeline, instant: str) -> dict[str, str]:
    """The extra metadata of the newest commit at or before `instant` that carries a ddb-lake column
    plan (empty when there is none or it cannot be read). Commits of both table types: `commit`
    (copy-on-write; merge-on-read compactions), `deltacommit` (merge-on-read), `replacecommit`."""
    try:
        completed = (
            list(timeline.get_completed_commits(desc=True))
            + list(timeline.get_completed_deltacommits(desc=True))
            + list(timeline.get_completed_replacecommits(desc=True))
        )
    except Exception:
        return {}
    for candidate in sorted((i for i in completed if i.timestamp <= instant), key=lambda i: i.timestamp, reverse=True):
        try:
            extra = json.loads(timeline.get_instant_metadata_in_json(candidate)).get("extraMetadata") or {}
        except Exception:
            continue
        if PLAN_KEY in extra:
            return {str(k): str(v) for k, v in extra.items()}
    return {}


def _normalise(location: str) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", location):
        scheme = location.split("://", 1)[0].lower()
        if scheme not in ("s3", "s3a", "file"):
            raise LakeError(
                f"lake location {location} has an unsupported scheme; use s3://…, file://… or a local folder"
            )
        return location.rstrip("/")
    return os.path.abspath(location)


def _check_local(uri: str) -> None:
    """Local lakes get a precise message before hudi-rs's generic 'object not found'."""
    if uri.startswith("s3://") or uri.startswith("s3a://"):
        return
    path = unquote(urlparse(uri).path) if uri.startswith("file://") else uri
    if not os.path.isdir(path):
        raise LakeError(f"no lake at {path} (the folder does not exist)")
    if not os.path.isfile(os.path.join(path, ".hoodie", "hoodie.properties")):
        raise LakeError(f"{path} is not a Hudi table (no .hoodie/hoodie.properties)")


def _describe_open_error(location: str, uri: str, options: dict[str, str], err: Exception) -> str:
    text = str(err)
    bucket = urlparse(uri).netloc
    if "NoSuchBucket" in text:
        return f"no lake at {location}: bucket {bucket} does not exist"
    if "hoodie.properties" in text and ("not found" in text or "NoSuchKey" in text):
        return f"no lake at {location} (no .hoodie/hoodie.properties there)"
    if "error sending request" in text or "Connection refused" in text:
        endpoint = options.get("aws_endpoint_url") or options.get("aws_endpoint") or "S3"
        return f"cannot reach {endpoint} to read {location}"
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return f"cannot open the lake at {location}: {first}"
