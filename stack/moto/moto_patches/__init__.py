"""Narrow fixes to moto (pinned 5.2.5) so the local stack's DynamoDB Streams carry correct binary.

`apply()` installs them; it is idempotent. `stack/moto/moto_server.py` calls it before serving.

Found by putting binary values through moto and reading the stream back (test/stream/moto-binary.test.ts
checks both through the real server):

1. Stream `Keys` of a binary key attribute are base64-encoded twice.
   `moto.dynamodb.models.table.StreamRecord.__init__` builds `Keys` with `DynamoType.to_json()`,
   which already base64-encodes a `bytes` value into a `str`; the response serializer then encodes
   that `str` again as a blob. (`NewImage` / `OldImage` come from `Item.to_json()`, which keeps the
   raw `bytes`, so they are encoded once and are correct.) A table keyed by `B` would land every
   change under a wrong key. Fix: after the record is built, rebuild `Keys` from the item's own
   attribute values, and make every `B` / `BS` value in `Keys`, `NewImage` and `OldImage` raw bytes
   (decoding a base64 `str` if a code path stored one), so the serializer encodes each exactly once.

2. Legacy `UpdateItem` `AttributeUpdates` with `Action: PUT` stores a `B`, `BS` or `BOOL` value under
   the wrong type: `Item.update_with_attribute_updates` falls through to `DynamoType({"S": value})`
   (B, BOOL) or `{"L": value}` (BS), so the table, and hence its stream, holds the Python repr
   `"b'\\x00\\x01'"` as a string. Fix: PUT of those three types stores the value with its own type;
   every other action and type still goes through moto's code unchanged.

3. Stream sequence numbers are not unique under concurrent writes. `StreamShard.add` computes
   `seq = len(self.items) + start` and builds the record before appending it; moto's server is
   threaded, so two writes at once get the same sequence number (and the next one is skipped).
   Seen in the 10,000-change test (19 duplicates). A reader that checkpoints by sequence number then
   re-reads or mis-orders records. Fix: `StreamShard.add` runs under a lock, so numbers are unique,
   gap-free and in append order.

4. Scanning is quadratic (a performance fix; results are unchanged). Every Scan page re-sorts all of
   the table's items with Python-level comparisons (`Table.all_items`) and then walks from the first
   item to the page's `ExclusiveStartKey`: a 20,000-item table costs ~0.7 s per page, a million-item
   table minutes per page (`ddb-lake verify` and the local exporter scan whole tables). Fix: the
   sorted order (same order: by the key attributes' values) is kept per table until the next
   `put_item` / `delete_item` of that table, and a page resumes at its `ExclusiveStartKey` by
   binary search instead of walking there. Queries, index scans and filters are untouched.

5. A table whose stream is disabled (UpdateTable StreamEnabled=false) fails every later write
   with HTTP 500: moto drops the view type from the stream specification but keeps the shard, whose
   `add` then looks the view type up; DescribeStream of the old stream fails the same way, and the
   stream can never be enabled again (the old label counts as enabled). Fix: a disabled stream keeps
   its view type in the specification, the table gets no shard and no label (writes reach no stream,
   as in DynamoDB), DescribeStream of the old ARN answers DISABLED with no shards, and enabling it
   again starts a new stream (new label, new shard).

6. Fault injection for tests (not a moto bug): a DynamoDB Streams reader that falls behind the
   24 h retention loses records, and the API says so with `TrimmedDataAccessException`. moto keeps
   every record forever, so two table tags (set with the ordinary TagResource call) simulate it:
   - `ddb-lake:fault:hold-stream` (any value): while the table carries it, GetRecords on its stream
     returns no records, as if the reader were far behind; writes still append to the stream.
   - `ddb-lake:fault:trim-stream` (any value; one-shot, not kept as a tag): every record in the
     stream so far is trimmed. GetShardIterator at or after a trimmed sequence number and GetRecords
     with an iterator positioned before the trim horizon raise TrimmedDataAccessException, and
     TRIM_HORIZON starts after the trimmed records, as in DynamoDB.
   Used by the stream-gap tests (test/stream/gaps.test.ts, test/gaps.test.ts); docs/gaps.md.

7. Per-request fault headers for the chaos bench (not a moto bug; tools/chaos/, bench/README.md
   "chaos"). A PutItem / DeleteItem request carrying the HTTP header `x-ddb-lake-fault`:
   - `ttl-remove` (DeleteItem): the REMOVE stream record carries DynamoDB's TTL identity
     `userIdentity {Type: Service, PrincipalId: dynamodb.amazonaws.com}`, as a delete by DynamoDB's
     Time to Live process does (moto never expires items and never sets userIdentity);
   - `no-stream` (PutItem): the write reaches the table but appends no stream record, as if its
     record were carried by a writer that lands it late, or by hand (the bench then lands it itself).
   Requests without the header are untouched; the header is read per request (a thread-local while
   moto's threaded server handles it).

8. Glue job runs as AWS has them (the Glue runner, activities/aws/glue-job-runner.ts, and
   test/moto-aws-runners.test.ts):
   - `BatchStopJobRun` is not implemented by moto. Fix: it stops each named run that is STARTING or
     RUNNING (state STOPPED, CompletedOn now) and answers `SuccessfulSubmissions`; a run id it does
     not know, or a run that already ended, comes back in `Errors` with an `ErrorDetail`, as AWS does.
   - `CompletedOn` is set when a run is created, so a running run looked finished. Fix: a run has
     `CompletedOn` only once it ended (SUCCEEDED, FAILED, STOPPED, …), from the moment it did.
   Runs still advance through moto's state manager (model `glue::job_run`: STARTING → RUNNING →
   SUCCEEDED; POST /moto-api/state-manager/set-transition holds them where a test wants them).

9. DynamoDB exports as AWS makes them (the exporter, activities/aws/dynamodb-exporter.ts). moto
   implements ExportTableToPointInTime and DescribeExport, but:
   - `ClientToken` is ignored: a retried start began a second export. Fix: a token seen in the last
     8 hours with the same parameters answers the export it started; with other parameters,
     `ExportConflictException` (the API reference names IdempotentParameterMismatch or
     ImportConflictException in different versions; the exporter treats any of them as a conflict).
   - The ARN is `…:table/<the table's whole ARN>/import/<id>`. Fix: `…:table/<name>/export/<id>` with
     DynamoDB's id form (`<14-digit ms>-<8 hex>`).
   - No `ExportTime`, `StartTime`, `EndTime` or `ExportManifest`, and no manifests: one data file
     `<prefix>/AWSDynamoDB/<uuid>/data/<uuid>.gz` (a leading `/` when the prefix is empty). Fix: the
     layout DynamoDB writes, `<prefix>/AWSDynamoDB/<id>/data/<26 chars>.json.gz`,
     `manifest-files.json` (one JSON line per data file: itemCount, md5Checksum, etag,
     dataFileS3Key) and `manifest-summary.json` (+ their `.md5`), and those four fields.
   - DescribeExport of an unknown ARN fails with HTTP 500. Fix: `ExportNotFoundException`.

Not fixed (left visible, not silent): `AttributeUpdates` PUT of a map holding binary fails with
HTTP 500 inside moto, and `ADD` of a `BS` raises NotImplementedError (HTTP 500). Two requests
writing the *same item* at the same moment may reach the stream in the other order than the table
applied them (moto does not make a write and its stream record one step); DynamoDB does.
"""

from __future__ import annotations

from .dynamodb_fixes import (
    _patch_attribute_updates_put_types,
    _patch_scan_order_cache,
    _patch_stream_disable,
    _patch_stream_record_binary,
    _patch_stream_sequence_numbers,
)
from .exports import _patch_table_export
from .faults import FAULT_HEADER, HOLD_TAG, TRIM_TAG, _patch_request_fault_headers, _patch_stream_faults
from .glue_runs import _patch_glue_job_runs

__all__ = ["FAULT_HEADER", "HOLD_TAG", "TRIM_TAG", "apply"]

_APPLIED = False


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _patch_stream_record_binary()
    _patch_attribute_updates_put_types()
    _patch_stream_sequence_numbers()
    _patch_scan_order_cache()
    _patch_stream_disable()
    _patch_stream_faults()
    _patch_request_fault_headers()
    _patch_glue_job_runs()
    _patch_table_export()
    _APPLIED = True
