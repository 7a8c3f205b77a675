"""Must show: 100,000 exported items, then 3 incremental batches holding updates, deletes,
duplicates and out-of-order versions, give a lake equal to the expected final state, read back with
hudi-rs (no Spark) and with Spark. On merge-on-read, the default, at 100,000 items; copy-on-write
runs the same scenario at 20,000 (at 100,000 it took five minutes of `npm test`: each batch rewrites
every file)."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ddb_lake_glue.jobs import run_manifest_uri
from helpers import (
    brief_table,
    ddb_item,
    landing_line,
    read_with_hudi_rs,
    uri,
    write_export,
    write_landing,
    write_manifest,
)

EXPORT_MS = 1_690_750_000_000
BASE = datetime(2023, 7, 30, 13, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


@pytest.mark.parametrize(("table_type", "n_items"), [("MERGE_ON_READ", 100_000), ("COPY_ON_WRITE", 20_000)])
def test_100k_export_then_three_messy_batches_equal_the_expected_state(
    spark, tmp_path: Path, table_type: str, n_items: int
):
    rnd = random.Random(2023)
    items = {}
    for i in range(n_items):
        create = BASE + timedelta(microseconds=i * 97_000 + rnd.randrange(1000))  # ~2.7 h of minutes
        item = {
            "account": f"{rnd.randrange(1000):03d}-{rnd.randrange(1000):03d}-{i:04d}",
            "create_at": iso(create),
            "update_at": iso(create),
            "entity": f"entity {i % 977}",
            "amount": rnd.randrange(1, 1000),
            "is_credit": i % 2,
            "note": f"note {i}",
        }
        items[(item["account"], item["create_at"])] = item
    export = write_export(tmp_path / "export", [ddb_item(v) for v in items.values()], files=4, export_time_ms=EXPORT_MS)
    table = brief_table(uri(tmp_path / "lake"), tableType=table_type)
    m = write_manifest(
        tmp_path / "m" / "il.json", "initialLoad", "il", table, export={"root": export, "exportTimeMs": EXPORT_MS}
    )
    s = run_manifest_uri(spark, m, "initialLoad", "il")
    assert s["upserted"] == n_items and s["rejected"] == 0

    # Changes: per key a few versions in stream order; removes carry the old image (same update_at).
    expected = dict(items)
    events = []
    seq, ts = 10**21, EXPORT_MS + 1_000
    touched = rnd.sample(sorted(items), n_items * 12 // 100)
    new_keys = [(f"900-000-{i:04d}", iso(BASE + timedelta(hours=3, seconds=i))) for i in range(n_items // 50)]
    for key in touched + new_keys:
        current = items.get(key)
        for _ in range(rnd.randint(1, 4)):
            seq += rnd.randint(1, 50)
            ts += rnd.randint(0, 3)
            updated = iso(datetime(2023, 7, 30, 20, tzinfo=UTC) + timedelta(microseconds=ts - EXPORT_MS))
            if current is not None and rnd.random() < 0.3:
                events.append(landing_line(current, "remove", seq, ts))
                current = None
            else:
                op = "modify" if current is not None else "insert"
                base = current or {"account": key[0], "create_at": key[1], "entity": "new", "amount": 7, "is_credit": 1}
                current = dict(base, update_at=updated, note=f"{op} {seq}")
                events.append(landing_line(current, op, seq, ts))
        if current is None:
            expected.pop(key, None)
        else:
            expected[key] = current
    duplicates = rnd.sample(events, len(events) // 12)
    lines = events + duplicates
    rnd.shuffle(lines)  # versions of one key land in different batches, newest often first
    batches = [lines[i::3] for i in range(3)]
    for n, batch in enumerate(batches):
        files = [
            write_landing(tmp_path / "landing" / f"2023-07-30-20-0{n}" / f"shard-{f}.json", batch[f::2])
            for f in range(2)
        ]
        m = write_manifest(tmp_path / "m" / f"inc{n}.json", "incremental", f"inc{n}", table, files=files)
        s = run_manifest_uri(spark, m, "incremental", f"inc{n}")
        assert s["rejected"] == 0

    want = {f"account:{a},create_at:{c}": (v["note"], v["update_at"], v["amount"]) for (a, c), v in expected.items()}
    got_rs = {
        r["_hoodie_record_key"]: (r["note"], r["update_at"], r["amount"])
        for r in read_with_hudi_rs(table["lakeLocation"])
    }
    assert len(got_rs) == len(want)
    assert got_rs == want
    spark_rows = (
        spark.read.format("hudi")
        .load(table["lakeLocation"])
        .select("_hoodie_record_key", "note", "update_at", "amount")
        .collect()
    )
    assert {r[0]: (r[1], r[2], r[3]) for r in spark_rows} == want
    if table_type == "MERGE_ON_READ":
        # The three batches are still log files; after a compaction the base files hold the same rows.
        assert s["deltaCommitsSinceCompaction"] == 3
        m = write_manifest(tmp_path / "m" / "cmp.json", "compaction", "cmp", table)
        c = run_manifest_uri(spark, m, "incremental", "cmp")
        assert c["logFilesCompacted"] > 0
        got_rs = {
            r["_hoodie_record_key"]: (r["note"], r["update_at"], r["amount"])
            for r in read_with_hudi_rs(table["lakeLocation"])
        }
        assert got_rs == want
