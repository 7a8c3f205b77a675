"""bench/lake-location: the same initial load and incremental batches with the lake on a local path
(file://) and on S3 (a moto server on loopback, through s3a). Prints figures measured in this run.

    bench/lake-location [items] [changes per batch] [batches]
Port: DDB_LAKE_BENCH_MOTO_PORT (default 5202).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3

from common import OUT, Clock, manifest, session, table_spec, write_changes, write_export

# common puts glue/ and glue/tests/ on sys.path, so it is imported before the imports below
# isort: split
from ddb_lake_glue.jobs import run_manifest_uri
from ddb_lake_glue.spark import configure_local_s3

items = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
changes = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
batches = int(sys.argv[3]) if len(sys.argv) > 3 else 3
port = int(os.environ.get("DDB_LAKE_BENCH_MOTO_PORT", "5202"))
endpoint = f"http://127.0.0.1:{port}"
work = OUT / "lake-location"
shutil.rmtree(work, ignore_errors=True)
export = write_export(OUT / f"export-{items}", items)

moto = subprocess.Popen(
    [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="moto", aws_secret_access_key="moto"
    ).create_bucket(Bucket="bench-lake")
    spark = session("bench lake-location")
    configure_local_s3(spark, endpoint)
    changes_uris = [
        write_changes(work / "landing" / f"b{b}", items, changes, files=2, seed=100 + b, seq0=10**20 + b * 10**6)
        for b in range(batches)
    ]

    def run(name: str, lake: str) -> None:
        table = table_spec(lake)
        clock = Clock()
        run_manifest_uri(
            spark,
            manifest(
                work / name / "il.json",
                "initialLoad",
                "il",
                table,
                export={"root": export, "exportTimeMs": 1_690_750_000_000},
            ),
            "initialLoad",
            "il",
        )
        load = clock.lap()
        incs = []
        for b, uris in enumerate(changes_uris):
            run_manifest_uri(
                spark,
                manifest(work / name / f"inc{b}.json", "incremental", f"inc{b}", table, files=uris),
                "incremental",
                f"inc{b}",
            )
            incs.append(clock.lap())
        rows = spark.read.format("hudi").load(lake).count()
        read = clock.lap()
        print(
            f"{name:>8}: initial load {items:,} items {load:6.1f} s | {batches} incremental batches of {changes:,} changes "
            f"{', '.join(f'{x:.1f}' for x in incs)} s (mean {sum(incs) / len(incs):.1f}) | snapshot count {rows:,} in {read:.1f} s",
            flush=True,
        )

    run("warm-up", f"file://{work}/warmup")  # the first run in a JVM pays JIT and class loading
    run("file://", f"file://{work}/lake")
    run("s3://", "s3://bench-lake/lake/transactions")
    run("file://", f"file://{work}/lake2")
    spark.stop()
finally:
    moto.terminate()
    moto.wait(10)
