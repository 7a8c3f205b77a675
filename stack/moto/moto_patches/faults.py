"""Fault injection for tests and the chaos bench (items 6-7 of the package docstring)."""

from __future__ import annotations

import threading
from typing import Any

HOLD_TAG = "ddb-lake:fault:hold-stream"
TRIM_TAG = "ddb-lake:fault:trim-stream"


def _trimmed(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("TrimmedDataAccessException", message)


def _patch_stream_faults() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as table_module
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    def horizon(shard: Any) -> int:
        return getattr(shard, "_ddb_lake_trim_horizon", shard.starting_sequence_number)

    original_tag = DynamoDBBackend.tag_resource

    def tag_resource(self: Any, arn: str, tags: dict[str, str]) -> None:
        rest = {k: v for k, v in tags.items() if k != TRIM_TAG}
        if TRIM_TAG in tags:
            for table in self.tables.values():
                if table.table_arn == arn and table.stream_shard is not None:
                    shard = table.stream_shard
                    shard._ddb_lake_trim_horizon = shard.starting_sequence_number + len(shard.items)
        if rest:
            original_tag(self, arn, rest)

    DynamoDBBackend.tag_resource = tag_resource  # type: ignore[method-assign]

    original_get = table_module.StreamShard.get

    def get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < horizon(self):
            raise _trimmed(
                f"the iterator is positioned at sequence number {start}, before the oldest record still in the stream ({horizon(self)}): the records in between were trimmed"
            )
        if any(t.get("Key") == HOLD_TAG for t in (self.table.tags or [])):
            return []
        return original_get(self, start, quantity)

    table_module.StreamShard.get = get  # type: ignore[method-assign]

    original_iterator = DynamoDBStreamsBackend.get_shard_iterator

    def get_shard_iterator(
        self: Any, arn: str, shard_id: str, shard_iterator_type: str, sequence_number: Any = None
    ) -> Any:
        table = self._get_table_from_arn(arn)
        shard = table.stream_shard
        if shard is not None:
            first = horizon(shard)
            if shard_iterator_type == "TRIM_HORIZON" and first > shard.starting_sequence_number:
                return original_iterator(self, arn, shard_id, "AT_SEQUENCE_NUMBER", first)
            wanted = None
            if shard_iterator_type == "AT_SEQUENCE_NUMBER" and sequence_number is not None:
                wanted = int(sequence_number)
            elif shard_iterator_type == "AFTER_SEQUENCE_NUMBER" and sequence_number is not None:
                wanted = int(sequence_number) + 1
            if wanted is not None and wanted < first:
                raise _trimmed(
                    f"sequence number {sequence_number} is before the oldest record still in the stream ({first}): the records in between were trimmed"
                )
        return original_iterator(self, arn, shard_id, shard_iterator_type, sequence_number)

    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator  # type: ignore[method-assign]


FAULT_HEADER = "x-ddb-lake-fault"
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
_request_fault = threading.local()


def _patch_request_fault_headers() -> None:
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.responses import DynamoHandler

    def with_fault(original: Any) -> Any:
        def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
            _request_fault.value = (self.headers.get(FAULT_HEADER) or "").strip().lower() or None
            try:
                return original(self, *args, **kwargs)
            finally:
                _request_fault.value = None

        return handler

    DynamoHandler.put_item = with_fault(DynamoHandler.put_item)  # type: ignore[method-assign]
    DynamoHandler.delete_item = with_fault(DynamoHandler.delete_item)  # type: ignore[method-assign]

    original_add = table_module.StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        if getattr(_request_fault, "value", None) == "no-stream":
            return
        original_add(self, old, new)

    table_module.StreamShard.add = add  # type: ignore[method-assign]

    original_init = table_module.StreamRecord.__init__

    def init(self: Any, table: Any, stream_type: str, event_name: str, old: Any, new: Any, seq: int) -> None:
        original_init(self, table, stream_type, event_name, old, new, seq)
        if event_name == "REMOVE" and getattr(_request_fault, "value", None) == "ttl-remove":
            self.record["userIdentity"] = dict(TTL_IDENTITY)

    table_module.StreamRecord.__init__ = init  # type: ignore[method-assign]
