"""DynamoDB exports as AWS makes them (item 9 of the package docstring)."""

from __future__ import annotations

import base64
import threading
from datetime import UTC
from typing import Any

_export_request = threading.local()
EXPORT_TOKEN_SECONDS = 8 * 3600


def _patch_table_export() -> None:
    import hashlib
    import json
    import random
    import string
    import time
    from datetime import datetime

    from moto.core.responses import ActionResult
    from moto.core.utils import gzip_compress
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table_export import TableExport
    from moto.dynamodb.models.utilities import dynamo_json_dump
    from moto.dynamodb.responses import DynamoHandler

    def error(kind: str, message: str) -> Exception:
        return DynamodbException(ERROR_TYPE_PREFIX + kind, message)

    original_init = TableExport.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        now = datetime.now(UTC)
        requested = getattr(_export_request, "export_time", None)
        self.start_time = now
        self.export_time = datetime.fromtimestamp(float(requested), UTC) if requested is not None else now
        self.end_time = None
        self.manifest_key = None
        self.client_token = getattr(_export_request, "token", None)
        self.export_id = f"{int(now.timestamp() * 1000):014d}-{random.getrandbits(32):08x}"
        self.arn = f"arn:{self.partition}:dynamodb:{self.region_name}:{self.account_id}:table/{self.table.name}/export/{self.export_id}"

    def write_export(self: Any, s3_backend: Any) -> None:
        def put(key: str, body: bytes) -> str:
            obj = s3_backend.put_object(bucket_name=self.s3_bucket, key_name=key, value=body)
            return obj.etag.strip('"')

        def md5(body: bytes) -> str:

            return base64.b64encode(hashlib.md5(body).digest()).decode()

        root = (
            f"{self.s3_prefix.strip('/')}/AWSDynamoDB/{self.export_id}"
            if self.s3_prefix
            else f"AWSDynamoDB/{self.export_id}"
        )
        lines = []
        for item in self.table.all_items():
            json_item = item.to_json(root_attr_name="Item")
            line = dynamo_json_dump(json_item) + "\n"
            lines.append(line)
            self.processed_bytes += len(line.encode("utf-8"))
            self.item_count += 1
        data = gzip_compress("".join(lines).encode("utf-8"))
        name = "".join(random.choice(string.ascii_lowercase + "234567") for _ in range(26))
        data_key = f"{root}/data/{name}.json.gz"
        etag = put(data_key, data)
        files = (
            json.dumps({"itemCount": len(lines), "md5Checksum": md5(data), "etag": etag, "dataFileS3Key": data_key})
            + "\n"
        ).encode()
        put(f"{root}/manifest-files.json", files)
        put(f"{root}/manifest-files.md5", md5(files).encode())
        self.end_time = datetime.now(UTC)

        def iso(t: datetime) -> str:
            return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")

        summary = json.dumps(
            {
                "version": "2020-06-30",
                "exportArn": self.arn,
                "startTime": iso(self.start_time),
                "endTime": iso(self.end_time),
                "tableArn": self.table.table_arn,
                "tableId": getattr(self.table, "table_id", None),  # moto tables have no TableId
                "exportTime": iso(self.export_time),
                "s3Bucket": self.s3_bucket,
                "s3Prefix": self.s3_prefix or None,
                "s3SseAlgorithm": "AES256",
                "s3SseKmsKeyId": None,
                "manifestFilesS3Key": f"{root}/manifest-files.json",
                "billedSizeBytes": self.processed_bytes,
                "itemCount": self.item_count,
                "outputFormat": "DYNAMODB_JSON",
                "exportType": "FULL_EXPORT",
            }
        ).encode()
        put(f"{root}/manifest-summary.json", summary)
        put(f"{root}/manifest-summary.md5", md5(summary).encode())
        self.manifest_key = f"{root}/manifest-summary.json"
        self.status = "COMPLETED"

    original_response = TableExport.response

    def response(self: Any) -> dict[str, Any]:
        out = original_response(self)
        out["ExportTime"] = self.export_time
        out["StartTime"] = self.start_time
        if self.end_time is not None:
            out["EndTime"] = self.end_time
        if self.manifest_key is not None:
            out["ExportManifest"] = self.manifest_key
        if self.client_token:
            out["ClientToken"] = self.client_token
        return {k: v for k, v in out.items() if v is not None}

    TableExport.__init__ = init  # type: ignore[method-assign]
    TableExport._backup_to_s3_file = write_export  # type: ignore[method-assign]
    TableExport.response = response  # type: ignore[method-assign]

    original_handler = DynamoHandler.export_table_to_point_in_time

    def export_table_to_point_in_time(self: Any) -> Any:
        token = self.body.get("ClientToken")
        params = {
            k: self.body.get(k)
            for k in ("TableArn", "S3Bucket", "S3Prefix", "S3BucketOwner", "ExportTime", "ExportFormat", "ExportType")
        }
        backend = self.dynamodb_backend
        tokens = backend.__dict__.setdefault("_ddb_lake_export_tokens", {})
        known = tokens.get(token) if token else None
        if known and time.time() - known[2] < EXPORT_TOKEN_SECONDS:
            arn, known_params, _ = known
            if known_params != params:
                raise error(
                    "ExportConflictException", f"client token {token} was used for an export with other parameters"
                )
            return ActionResult({"ExportDescription": backend.table_exports[arn].response()})
        _export_request.token, _export_request.export_time = token, self.body.get("ExportTime")
        try:
            before = set(backend.table_exports)
            result = original_handler(self)
        finally:
            _export_request.token = _export_request.export_time = None
        if token:
            (arn,) = set(backend.table_exports) - before
            tokens[token] = (arn, params, time.time())
        return result

    DynamoHandler.export_table_to_point_in_time = export_table_to_point_in_time  # type: ignore[method-assign]

    original_describe = DynamoDBBackend.describe_export

    def describe_export(self: Any, export_arn: str) -> Any:
        if export_arn not in self.table_exports:
            raise error("ExportNotFoundException", f"Export not found: {export_arn}")
        return original_describe(self, export_arn)

    DynamoDBBackend.describe_export = describe_export  # type: ignore[method-assign]
