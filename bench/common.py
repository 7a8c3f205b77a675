"""Shared by the Python benches: data in the real layouts, and a local Spark session."""

import gzip
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "glue"))
sys.path.insert(0, str(REPO / "glue" / "tests"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(REPO / "glue"), str(REPO / "glue" / "tests"), os.environ.get("PYTHONPATH", "")]
)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
OUT = REPO / "bench" / "out"
BASE = datetime(2023, 7, 30, 13, 0, tzinfo=UTC)
EXPORT_MS = 1_690_750_000_000
PARTS = ("year", "month", "day", "hour", "minute")


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


def table_spec(lake: str) -> dict:
    return {
        "lakeLocation": lake,
        "tableName": "transactions",
        "keyFields": ["account", "create_at"],
        "orderingField": "update_at",
        "derivedColumns": [{"name": f"create_{p}", "from": "create_at", "part": p} for p in PARTS],
        "partitionFields": [f"create_{p}" for p in PARTS],
        "maxRejectedShare": 0.0,
    }


def keys(n: int) -> list[tuple[str, str]]:
    """The brief's Transaction keys: ~100 writes/s, so 1M items span ~2.8 hours of minute partitions."""
    return [
        (
            f"{(i * 7919) % 1000:03d}-{(i * 104729) % 1000:03d}-{i % 10000:04d}",
            iso(BASE + timedelta(microseconds=i * 10_000)),
        )
        for i in range(n)
    ]


def write_export(root: Path, n: int, files: int = 8) -> str:
    """A DynamoDB export of n Transaction items (DYNAMODB_JSON, gzip), reused when already there."""
    if (root / "manifest-summary.json").exists() and json.loads((root / "manifest-summary.json").read_text())[
        "itemCount"
    ] == n:
        return "file://" + str(root)
    (root / "data").mkdir(parents=True, exist_ok=True)
    rnd = random.Random(1)
    entries = []
    all_keys = keys(n)
    for f in range(files):
        name = f"{f:02d}{'abcdefghijklmnopqrstuvwx'}.json.gz"
        count = 0
        with gzip.open(root / "data" / name, "wt", encoding="utf-8", compresslevel=1) as out:
            for i in range(f, n, files):
                account, create = all_keys[i]
                out.write(
                    f'{{"Item":{{"account":{{"S":"{account}"}},"create_at":{{"S":"{create}"}},"entity":{{"S":"Entity {i % 977}"}},'
                    f'"note":{{"S":"Note number {i} of the bench."}},"update_at":{{"S":"{create}"}},'
                    f'"amount":{{"N":"{rnd.randrange(1, 1000)}"}},"is_credit":{{"N":"{i % 2}"}}}}}}\n'
                )
                count += 1
        entries.append(
            {"itemCount": count, "md5Checksum": "-", "etag": "-", "dataFileS3Key": f"bench/AWSDynamoDB/x/data/{name}"}
        )
    (root / "manifest-files.json").write_text("".join(json.dumps(e) + "\n" for e in entries))
    (root / "manifest-summary.json").write_text(
        json.dumps({"itemCount": n, "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"})
    )
    return "file://" + str(root)


def write_changes(folder: Path, n_items: int, changes: int, files: int, seed: int, seq0: int) -> list[str]:
    """`changes` landing lines (docs/encoding.md): 80% modifies of existing items, 10% removes, 10% inserts."""
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    all_keys = keys(n_items)
    lines = []
    for c in range(changes):
        seq, ts = seq0 + c, EXPORT_MS + 60_000 + c
        updated = iso(datetime(2023, 7, 30, 20, tzinfo=UTC) + timedelta(microseconds=seed * 10**9 + c))
        r = rnd.random()
        if r < 0.8:
            account, create = all_keys[rnd.randrange(n_items)]
            op, note = "modify", f"changed {seed}-{c}"
        elif r < 0.9:
            account, create = all_keys[rnd.randrange(n_items)]
            op, note = "remove", "gone"
        else:
            account, create = f"new-{seed}-{c:07d}", iso(BASE + timedelta(hours=3, microseconds=c))
            op, note = "insert", "new"
        lines.append(
            f'{{"account":"{account}","create_at":"{create}","update_at":"{updated}","entity":"E","amount":{c % 1000},'
            f'"is_credit":1,"note":"{note}","_op":"{op}","_seq":"{seq}","_ts":{ts},"_ttl":false}}'
        )
    uris = []
    for f in range(files):
        path = folder / f"shard-{f}_{seq0}.json"
        path.write_text("".join(line + "\n" for line in lines[f::files]))
        uris.append("file://" + str(path))
    return uris


def manifest(path: Path, kind: str, run_key: str, table: dict, files=None, export=None) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "runKey": run_key,
                "pipeline": "bench",
                "kind": kind,
                "table": table,
                "files": files or [],
                "export": export,
                "rejectedLocation": f"file://{path.parent}/_rejected/{run_key}",
                "summaryUri": f"file://{path.parent}/{run_key}.summary.json",
            }
        )
    )
    return "file://" + str(path)


def session(app: str, driver_memory: str = "2g"):
    from pyspark.sql import SparkSession

    from conftest import jar_paths
    from ddb_lake_glue.spark import SESSION_CONF

    port = os.environ.get("DDB_LAKE_BENCH_SPARK_PORT", "5203")
    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.jars", ",".join(jar_paths()))
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.port", port)
        .config("spark.blockManager.port", os.environ.get("DDB_LAKE_BENCH_BLOCK_MANAGER_PORT", str(int(port) + 2)))
        .config("spark.port.maxRetries", "1")
        .config("spark.ddb_lake.hoodie.metadata.enable", "false")
    )
    for k, v in SESSION_CONF.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class Clock:
    def __init__(self):
        self.t = time.time()

    def lap(self) -> float:
        now = time.time()
        d, self.t = now - self.t, now
        return d
