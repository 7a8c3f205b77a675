"""The jobs against S3 (a real moto server on loopback through s3a): export, landing files, manifest,
summary, rejected records and the lake all on s3://, and the lake read back with hudi-rs from S3."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from ddb_lake_glue.jobs import run_manifest_uri
from helpers import BRIEF_EXPORT_LINES, BRIEF_PROCESSED, brief_table, landing_line, write_export

PORT = int(os.environ.get("DDB_LAKE_TEST_MOTO_PORT", "5201"))
ENDPOINT = f"http://127.0.0.1:{PORT}"
BUCKET = "ddb-lake-test"


@pytest.fixture(scope="module")
def moto():
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", PORT)) == 0:
            pytest.fail(f"port {PORT} is in use; set DDB_LAKE_TEST_MOTO_PORT to a free port")
    moto_server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", PORT), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client(
            "s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="moto", aws_secret_access_key="moto"
        )
        s3.create_bucket(Bucket=BUCKET)
        yield s3
    finally:
        proc.terminate()
        proc.wait(10)


def upload_dir(s3, local: Path, prefix: str) -> str:
    for path in local.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(local)}")
    return f"s3://{BUCKET}/{prefix}"


def put_json(s3, key: str, doc) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(doc).encode())
    return f"s3://{BUCKET}/{key}"


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_initial_load_and_incremental_on_s3(spark, moto, tmp_path: Path, table_type: str):
    s3 = moto
    export = upload_dir(
        s3,
        Path(write_export(tmp_path / "exp", BRIEF_EXPORT_LINES)[len("file://") :]),
        "exports/AWSDynamoDB/01690735800000-a1b2c3d4",
    )
    lake = f"s3://{BUCKET}/lake/{table_type.lower()}/transactions"
    table = brief_table(lake, tableType=table_type)
    manifest = {"version": 1, "pipeline": "t", "table": table, "files": [], "export": None}
    il = put_json(
        s3,
        "landing/_manifests/t/il.json",
        dict(
            manifest,
            runKey="il",
            kind="initialLoad",
            export={"root": export, "exportTimeMs": 1690735800000},
            rejectedLocation=f"s3://{BUCKET}/landing/_rejected/il/",
            summaryUri=f"s3://{BUCKET}/landing/_manifests/t/il.summary.json",
        ),
    )
    s = run_manifest_uri(spark, il, "initialLoad", "il", aws_endpoint=ENDPOINT)
    assert s["upserted"] == 3

    line = landing_line(
        {
            "account": "602-943-1702",
            "create_at": "2023-07-30T16:49:36.444736+0000",
            "update_at": "2023-07-30T17:00:00.000000+0000",
            "entity": "E",
            "amount": 1,
            "is_credit": 0,
            "note": "from s3",
        },
        "modify",
        5,
        1690736400000,
    )
    s3.put_object(Bucket=BUCKET, Key="landing/2023-07-30-17-00/shard_1_5.json", Body=(line + "\n{bad\n").encode())
    inc = put_json(
        s3,
        "landing/_manifests/t/inc1.json",
        dict(
            manifest,
            runKey="inc1",
            kind="incremental",
            table=dict(table, maxRejectedShare=0.5),
            files=[f"s3://{BUCKET}/landing/2023-07-30-17-00/shard_1_5.json"],
            rejectedLocation=f"s3://{BUCKET}/landing/_rejected/inc1/",
            summaryUri=f"s3://{BUCKET}/landing/_manifests/t/inc1.summary.json",
        ),
    )
    s = run_manifest_uri(spark, inc, "incremental", "inc1", aws_endpoint=ENDPOINT)
    assert s["upserted"] == 1 and s["rejected"] == 1
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key="landing/_manifests/t/inc1.summary.json")["Body"].read())
    assert summary["commitInstant"] == s["commitInstant"]
    rejected = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="landing/_rejected/inc1/")["Contents"]]
    assert any(k.endswith(".json") for k in rejected)

    import hudi
    import pyarrow as pa

    options = {
        "aws_endpoint_url": ENDPOINT,
        "aws_allow_http": "true",
        "aws_access_key_id": "moto",
        "aws_secret_access_key": "moto",
        "aws_region": "us-east-1",
        "aws_virtual_hosted_style_request": "false",
    }
    rows = pa.Table.from_batches(hudi.HudiTable(lake, options).read()).to_pylist()
    by_id = {r["_hoodie_record_key"]: r for r in rows}
    assert set(by_id) == {p["id"] for p in BRIEF_PROCESSED}
    assert by_id[BRIEF_PROCESSED[0]["id"]]["note"] == "from s3"
    # The recent versions live on S3 too: the same batch again is recognised as applied, nothing written.
    again = run_manifest_uri(spark, inc, "incremental", "inc1", aws_endpoint=ENDPOINT)
    assert again["upserted"] == 0 and again["versionsFilesRead"] == 1 and again["commitInstant"] is None
    if table_type == "MERGE_ON_READ":
        cmp = put_json(
            s3,
            "landing/_manifests/t/cmp1.json",
            {
                "version": 1,
                "pipeline": "t",
                "runKey": "cmp1",
                "kind": "compaction",
                "table": table,
                "summaryUri": f"s3://{BUCKET}/landing/_manifests/t/cmp1.summary.json",
            },
        )
        c = run_manifest_uri(spark, cmp, "incremental", "cmp1", aws_endpoint=ENDPOINT)
        assert c["compactionInstant"] and c["logFilesCompacted"] == 1
        rows = pa.Table.from_batches(hudi.HudiTable(lake, options).read()).to_pylist()
        assert {r["_hoodie_record_key"]: r["note"] for r in rows}[BRIEF_PROCESSED[0]["id"]] == "from s3"
