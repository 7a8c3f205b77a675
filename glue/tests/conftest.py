"""pytest fixtures: one local Spark session (local[2], small memory) per test module."""

import glob
import os
import sys
from pathlib import Path

import pytest

GLUE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(GLUE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# Python workers import the job package and the test helpers the same way the driver does.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(GLUE_DIR), str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")]
)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def jar_paths():
    jars_dir = os.environ.get("DDB_LAKE_JARS") or os.path.join(
        os.environ.get("DDB_LAKE_CACHE")
        or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ddb-lake"),
        "jars",
    )
    jars = sorted(glob.glob(os.path.join(jars_dir, "*.jar")))
    if len(jars) < 3:
        pytest.exit(
            f"the Spark jars are missing from {jars_dir}; run `ddb-lake setup` (or set DDB_LAKE_JARS)", returncode=2
        )
    return jars


def spark_session(app: str):
    from pyspark.sql import SparkSession

    from ddb_lake_glue.spark import SESSION_CONF

    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.jars", ",".join(jar_paths()))
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ddb_lake.hoodie.metadata.enable", os.environ.get("DDB_LAKE_TEST_METADATA", "false"))
        .config("spark.ddb_lake.hoodie.upsert.shuffle.parallelism", "2")
        .config("spark.ddb_lake.hoodie.bulkinsert.shuffle.parallelism", "2")
    )
    # Ports from the environment (the test runner's assigned range), else Spark picks free ones.
    if os.environ.get("DDB_LAKE_SPARK_DRIVER_PORT"):
        builder = builder.config("spark.driver.port", os.environ["DDB_LAKE_SPARK_DRIVER_PORT"])
        builder = builder.config("spark.blockManager.port", os.environ.get("DDB_LAKE_SPARK_BLOCK_MANAGER_PORT", "0"))
        builder = builder.config("spark.port.maxRetries", os.environ.get("DDB_LAKE_SPARK_PORT_RETRIES", "3"))
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@pytest.fixture(scope="module")
def spark(request):
    # A session per module: one for the whole run ran out of its 1 GB heap (test_must_show after the others).
    session = spark_session(f"ddb-lake tests {request.module.__name__}")
    yield session
    session.stop()
