"""moto bug fixes of DynamoDB and DynamoDB Streams (items 1-5 of the package docstring)."""

from __future__ import annotations

import base64
import threading
from typing import Any


def _raw_binary(value: Any) -> bytes:
    return value if isinstance(value, bytes) else base64.b64decode(value)


def _with_raw_binary(attribute: Any) -> Any:
    """A copy of a wire-shaped attribute value ({"B": …}, {"M": {…}}, …) whose binaries are bytes."""
    if not isinstance(attribute, dict) or len(attribute) != 1:
        return attribute
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {"B": _raw_binary(value)}
    if kind == "BS":
        return {"BS": [_raw_binary(v) for v in value]}
    if kind == "M" and isinstance(value, dict):
        return {"M": {k: _with_raw_binary(v) for k, v in value.items()}}
    if kind == "L" and isinstance(value, list):
        return {"L": [_with_raw_binary(v) for v in value]}
    return attribute


def _patch_stream_record_binary() -> None:
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.utilities import dynamo_json_dump

    original_init = table_module.StreamRecord.__init__

    def init(self: Any, table: Any, stream_type: str, event_name: str, old: Any, new: Any, seq: int) -> None:
        original_init(self, table, stream_type, event_name, old, new, seq)
        dynamodb = self.record["dynamodb"]
        item = old if old is not None else new
        if item is not None:
            key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            dynamodb["Keys"] = {
                name: {item.attrs[name].type: item.attrs[name].value} for name in key_names if name in item.attrs
            }
        for part in ("Keys", "NewImage", "OldImage"):
            if part in dynamodb:
                dynamodb[part] = {name: _with_raw_binary(v) for name, v in dynamodb[part].items()}
        # moto's own (over)estimate, recomputed so it no longer counts the doubled key encoding.
        dynamodb["SizeBytes"] = len(dynamo_json_dump(dynamodb))

    table_module.StreamRecord.__init__ = init  # type: ignore[method-assign]


def _patch_attribute_updates_put_types() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    original = Item.update_with_attribute_updates
    mistyped = {"B", "BS", "BOOL"}

    def update_with_attribute_updates(self: Any, attribute_updates: dict[str, Any]) -> None:
        rest: dict[str, Any] = {}
        for name, update in attribute_updates.items():
            value = update.get("Value")
            if (
                update.get("Action", "PUT") == "PUT"
                and isinstance(value, dict)
                and set(value) <= mistyped
                and len(value) == 1
            ):
                self.attrs[name] = DynamoType(_with_raw_binary(value))
            else:
                rest[name] = update
        if rest:
            original(self, rest)

    Item.update_with_attribute_updates = update_with_attribute_updates  # type: ignore[method-assign]


def _patch_stream_sequence_numbers() -> None:
    from moto.dynamodb.models import table as table_module

    original_add = table_module.StreamShard.add
    lock = threading.Lock()

    def add(self: Any, old: Any, new: Any) -> None:
        with lock:
            original_add(self, old, new)

    table_module.StreamShard.add = add  # type: ignore[method-assign]


def _patch_scan_order_cache() -> None:
    import bisect

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_put, original_delete, original_scan = Table.put_item, Table.delete_item, Table.scan
    resume = threading.local()  # the ExclusiveStartKey of the scan running on this thread
    locks_lock = threading.Lock()

    def changed(table: Any) -> None:
        table.__dict__["_ddb_lake_version"] = table.__dict__.get("_ddb_lake_version", 0) + 1

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original_put(self, *args, **kwargs)
        finally:
            changed(self)

    def delete_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original_delete(self, *args, **kwargs)
        finally:
            changed(self)

    def sort_key(table: Any, item: Any) -> Any:
        # moto orders by (hash, range) DynamoType values, whose order is that of their cast values.
        if table.range_key_attr is None:
            return (item.hash_key.cast_value,)
        return (item.hash_key.cast_value, item.range_key.cast_value if item.range_key is not None else None)

    def sorted_view(self: Any) -> tuple:
        with locks_lock:
            lock = self.__dict__.setdefault("_ddb_lake_sort_lock", threading.Lock())
        with lock:
            version = self.__dict__.get("_ddb_lake_version", 0)
            cached = self.__dict__.get("_ddb_lake_sorted")
            if cached is not None and cached[0] == version:
                return cached
            items = []
            for hash_set in list(self.items.values()):
                if self.range_key_attr:
                    items.extend(list(hash_set.values()))
                else:
                    items.append(hash_set)
            keyed = sorted(((sort_key(self, i), i) for i in items), key=lambda pair: pair[0])
            cached = (version, [k for k, _ in keyed], [i for _, i in keyed])
            self.__dict__["_ddb_lake_sorted"] = cached
            return cached

    def all_items(self: Any) -> list:
        _, keys, items = sorted_view(self)
        start = getattr(resume, "key", None)
        if start is None:
            return list(items)
        resume.key = None
        # Items after the start key only (the scan loop would skip the ones before it one by one).
        return items[bisect.bisect_right(keys, start) :]

    def scan(self: Any, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
        if exclusive_start_key and not index_name and self.hash_key_attr in exclusive_start_key:
            try:
                start: Any = (DynamoType(exclusive_start_key[self.hash_key_attr]).cast_value,)
                if self.range_key_attr is not None:
                    start += (DynamoType(exclusive_start_key[self.range_key_attr]).cast_value,)
                resume.key = start
            except Exception:
                resume.key = None
        try:
            return original_scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
        finally:
            resume.key = None

    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.scan = scan  # type: ignore[method-assign]


def _patch_stream_disable() -> None:
    from moto.dynamodb.models import table as table_module

    original = table_module.Table.set_stream_specification

    def set_stream_specification(self: Any, streams: Any) -> None:
        view = (self.stream_specification or {}).get("StreamViewType")
        original(self, streams)
        if not (self.stream_specification or {}).get("StreamEnabled"):
            self.stream_specification = {"StreamEnabled": False, **({"StreamViewType": view} if view else {})}
            self.stream_shard = None
            self.latest_stream_label = None

    table_module.Table.set_stream_specification = set_stream_specification  # type: ignore[method-assign]

    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original_describe = DynamoDBStreamsBackend.describe_stream

    def describe_stream(self: Any, arn: str) -> dict[str, Any]:
        table = self._get_table_from_arn(arn)
        label = arn.rsplit("/stream/", 1)[-1]
        if table.stream_shard is None or table.latest_stream_label != label:
            return {
                "StreamArn": arn,
                "StreamLabel": label,
                "StreamStatus": "DISABLED",
                "StreamViewType": (table.stream_specification or {}).get("StreamViewType", "NEW_AND_OLD_IMAGES"),
                "TableName": table.name,
                "KeySchema": table.schema,
                "Shards": [],
            }
        return original_describe(self, arn)

    DynamoDBStreamsBackend.describe_stream = describe_stream  # type: ignore[method-assign]
