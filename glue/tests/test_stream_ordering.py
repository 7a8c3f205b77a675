"""A table without an ordering attribute is ordered by its stream (docs/ordering.md): replaying the
stream from any point before the export, in any batch order, converges to the table's final state,
and no batch ever takes a row back behind the version the export holds."""

import random
from pathlib import Path

import pytest

from ddb_lake_glue.jobs import run_manifest_uri
from helpers import (
    ddb_item,
    landing_line,
    read_with_hudi_rs,
    read_with_spark,
    uri,
    write_export,
    write_landing,
    write_manifest,
)

EXPORT_MS = 1_700_000_005_500  # the export happens half-way through a second


def simulate(rnd: random.Random, keys: int = 150, events: int = 360):
    """A DynamoDB history: (ts_ms, seq, op, item) in stream order, with many changes in the export's second."""
    state, history = {}, []
    ts = EXPORT_MS - 3_000
    seq = 10**20
    for i in range(events):
        ts += rnd.choice([0, 1, 7, 15, 40])
        seq += rnd.randint(1, 1000)
        pk = f"k{rnd.randrange(keys):03d}"
        if pk in state and rnd.random() < 0.25:
            op, item = "remove", ({"pk": pk} if rnd.random() < 0.5 else dict(state[pk]))  # keys only or old image
            del state[pk]
        else:
            op = "modify" if pk in state else "insert"
            item = {"pk": pk, "val": i, "note": f"n{i}"}
            state[pk] = item
        history.append((ts, seq, op, item))
    return history


def state_at(history, before_ms=None):
    state = {}
    for ts, _, op, item in history:
        if before_ms is not None and ts >= before_ms:
            break
        if op == "remove":
            state.pop(item["pk"], None)
        else:
            state[item["pk"]] = item
    return state


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_replaying_the_stream_from_before_the_export_converges(spark, tmp_path: Path, table_type: str):
    rnd = random.Random(11)
    history = simulate(rnd)
    assert sum(1 for ts, *_ in history if ts // 1000 == EXPORT_MS // 1000) > 10  # the interesting second
    exported = state_at(history, EXPORT_MS)
    table = {
        "lakeLocation": uri(tmp_path / "lake"),
        "tableName": "plain",
        "keyFields": ["pk"],
        "orderingField": None,
        "derivedColumns": [],
        "partitionFields": [],
        "maxRejectedShare": 0,
        "tableType": table_type,
    }
    export = write_export(
        tmp_path / "export", [ddb_item(v) for v in exported.values()], files=2, export_time_ms=EXPORT_MS
    )
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": export, "exportTimeMs": EXPORT_MS}
    )
    run_manifest_uri(spark, m, "initialLoad", "il")
    rows = {r["_hoodie_record_key"]: r for r in read_with_spark(spark, table["lakeLocation"])}
    assert set(rows) == set(exported)  # a single key field: the record key is the value itself
    assert all(rows[k]["val"] == v["val"] for k, v in exported.items())

    # The stream from a point 2 s before the export on, as 8 files delivered in 3 batches: the oldest
    # changes first (the worst case for going back in time), then the rest newest first, files shuffled
    # and one file delivered twice.
    start = next(i for i, h in enumerate(history) if h[0] >= EXPORT_MS - 2_000)
    replayed = history[start:]
    assert history[-1][0] < EXPORT_MS + 3_000
    lines = [landing_line(item, op, seq, ts) for ts, seq, op, item in replayed]
    third = len(lines) // 3
    batches = [
        [lines[:third]],
        [lines[2 * third :][i::3] for i in range(3)],
        [lines[third : 2 * third][i::4] for i in range(4)],
    ]
    batches[2].append(batches[2][1])
    for n, chunks in enumerate(batches):
        rnd.shuffle(chunks)
        files = [write_landing(tmp_path / "landing" / f"b{n}f{i}.json", chunk) for i, chunk in enumerate(chunks)]
        m = write_manifest(
            tmp_path / "m" / f"inc{n}.json", "incremental", f"inc{n}", table, files=files, loaded_export_ms=EXPORT_MS
        )
        run_manifest_uri(spark, m, "incremental", f"inc{n}")
        if n == 0:
            now = {r["pk"]: r["val"] for r in read_with_spark(spark, table["lakeLocation"])}
            older = {k: (now[k], v["val"]) for k, v in exported.items() if k in now and now[k] < v["val"]}
            assert not older, f"rows went back behind the export: {older}"

    final = state_at(history)
    for reader in (
        lambda: read_with_spark(spark, table["lakeLocation"]),
        lambda: read_with_hudi_rs(table["lakeLocation"]),
    ):
        got = {r["pk"]: (r["val"], r["note"]) for r in reader()}
        assert got == {k: (v["val"], v["note"]) for k, v in final.items()}


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_a_change_from_before_the_export_never_brings_back_what_the_export_lacks(
    spark, tmp_path: Path, table_type: str
):
    """A gap (docs/gaps.md) lost the delete of "gone"; the rebackfill's export no longer holds it. The
    landing zone still holds its insert from before the export, which the first batches after the
    reload take again (the watermark starts before the export's minute): it must not come back."""

    table = {
        "lakeLocation": uri(tmp_path / "lake"),
        "tableName": "plain",
        "keyFields": ["pk"],
        "orderingField": None,
        "derivedColumns": [],
        "partitionFields": [],
        "maxRejectedShare": 0,
        "tableType": table_type,
    }
    export = write_export(
        tmp_path / "export", [ddb_item({"pk": "kept", "val": 1, "note": "exported"})], files=1, export_time_ms=EXPORT_MS
    )
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": export, "exportTimeMs": EXPORT_MS}
    )
    run_manifest_uri(spark, m, "initialLoad", "il")
    lines = [
        landing_line(
            {"pk": "gone", "val": 2, "note": "inserted, then deleted in the gap"}, "insert", 10**20, EXPORT_MS - 90_000
        ),
        landing_line(
            {"pk": "kept", "val": 0, "note": "older than the export"}, "modify", 10**20 + 1, EXPORT_MS - 60_000
        ),
        landing_line(
            {"pk": "same-second", "val": 3, "note": "the export's second: applied"},
            "insert",
            10**20 + 2,
            EXPORT_MS - 400,
        ),
        landing_line({"pk": "after", "val": 4, "note": "after the export"}, "insert", 10**20 + 3, EXPORT_MS + 2_000),
    ]
    files = [write_landing(tmp_path / "landing" / "f0.json", lines)]
    m = write_manifest(
        tmp_path / "m" / "inc0.json", "incremental", "inc0", table, files=files, loaded_export_ms=EXPORT_MS
    )
    summary = run_manifest_uri(spark, m, "incremental", "inc0")
    for reader in (
        lambda: read_with_spark(spark, table["lakeLocation"]),
        lambda: read_with_hudi_rs(table["lakeLocation"]),
    ):
        got = {r["pk"]: r["note"] for r in reader()}
        assert got == {"kept": "exported", "same-second": "the export's second: applied", "after": "after the export"}
    assert summary["recordsRead"] == 4 and summary["upserted"] == 2 and summary["superseded"] == 2
