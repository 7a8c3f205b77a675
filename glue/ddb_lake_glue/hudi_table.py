"""Writing the Hudi table (and its tombstone table) the same way from both jobs."""

import json
from typing import Dict, List, Optional

from pyspark.sql import DataFrame, SparkSession

from . import storage
from .columns import ORDERING_COLUMN, Plan
from .errors import JobError
from .manifest import TableSpec

PLAN_KEY = "_ddb_lake_plan"
RUN_KEY = "_ddb_lake_run_key"
# Hudi options a deployment may override without a code change: Spark conf `spark.ddb_lake.hoodie.*`
# (local runner: --conf; Glue: job parameter --conf), e.g. spark.ddb_lake.hoodie.metadata.enable=false.
OVERRIDE_PREFIX = "spark.ddb_lake."


def table_exists(spark: SparkSession, location: str) -> bool:
    return storage.exists(spark, storage.join(location, ".hoodie", "hoodie.properties"))


def completed_commits(spark: SparkSession, location: str) -> List[str]:
    """Completed commit files of the table's active timeline, newest first."""
    names = storage.list_names(spark, storage.join(location, ".hoodie"))
    done = [n for n in names if n.split(".")[0].isdigit() and n.endswith((".commit", ".replacecommit", ".deltacommit"))]
    return sorted(done, reverse=True)


def _extra_metadata(spark: SparkSession, location: str, name: str) -> Dict[str, str]:
    text = storage.read_text(spark, storage.join(location, ".hoodie", name))
    if not text.strip():
        return {}
    return json.loads(text).get("extraMetadata") or {}


def read_plan(spark: SparkSession, location: str) -> Optional[Plan]:
    """The column plan of the newest commit that carries one; None when there is no table."""
    if not table_exists(spark, location):
        return None
    for name in completed_commits(spark, location):
        meta = _extra_metadata(spark, location, name)
        if PLAN_KEY in meta:
            return Plan.from_json(meta[PLAN_KEY])
    raise JobError(f"the Hudi table at {location} has no ddb-lake column plan in its commits: it was not written by ddb-lake")


def commit_of_run(spark: SparkSession, location: str, run_key: str) -> Optional[str]:
    """Instant of the newest completed commit written by this run key."""
    for name in completed_commits(spark, location):
        if _extra_metadata(spark, location, name).get(RUN_KEY) == run_key:
            return name.split(".")[0]
    return None


def _key_derived_only(table: TableSpec) -> bool:
    sources = {d.name: d.source for d in table.derived_columns}
    return all(f in table.key_fields or sources.get(f) in table.key_fields for f in table.partition_fields)


def write_options(spark: SparkSession, table: TableSpec, plan: Plan, operation: str, run_key: str) -> Dict[str, str]:
    key_columns = [plan.column_for(k).name for k in table.key_fields]
    partition_columns = [plan.column_for(p).name for p in table.partition_fields]
    opts = {
        "hoodie.table.name": table.table_name,
        "hoodie.datasource.write.table.name": table.table_name,
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": operation,
        "hoodie.datasource.write.recordkey.field": ",".join(key_columns),
        "hoodie.datasource.write.precombine.field": ORDERING_COLUMN,
        "hoodie.payload.ordering.field": ORDERING_COLUMN,
        # Keeps the larger ordering value against the stored row too, for upserts and for deletes
        # sent as upserts with _hoodie_is_deleted (checked against Hudi 0.15: glue/tests).
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
        "hoodie.datasource.write.hive_style_partitioning": "true",
        "hoodie.datasource.write.commitmeta.key.prefix": "_ddb_lake",
        PLAN_KEY: plan.to_json(),
        RUN_KEY: run_key,
        # One writer per table (the workflow guarantees it): no lock provider, no timeline server
        # (it would open a port), direct markers.
        "hoodie.embed.timeline.server": "false",
        "hoodie.write.markers.type": "DIRECT",
        "hoodie.parquet.compression.codec": "snappy",
        "hoodie.datasource.write.reconcile.schema": "false",
        # Cleaning old file versions after every commit costs ~0.4 s a run; every 10th is enough.
        "hoodie.clean.max.commits": "10",
    }
    if operation == "bulk_insert":
        # Sorted by partition path within each task: one open file writer per task instead of one per
        # partition (many partitions x open Parquet writers run a small driver out of memory).
        opts["hoodie.bulkinsert.sort.mode"] = "PARTITION_SORT"
    if partition_columns:
        opts["hoodie.datasource.write.partitionpath.field"] = ",".join(partition_columns)
        opts["hoodie.datasource.write.keygenerator.class"] = "org.apache.hudi.keygen.ComplexKeyGenerator"
    else:
        opts["hoodie.datasource.write.partitionpath.field"] = ""
        opts["hoodie.datasource.write.keygenerator.class"] = "org.apache.hudi.keygen.NonpartitionedKeyGenerator"
    if _key_derived_only(table):
        opts["hoodie.index.type"] = "SIMPLE"
    else:
        # A partition value can change with an update: find the key in any partition and move it.
        opts["hoodie.index.type"] = "GLOBAL_SIMPLE"
        opts["hoodie.simple.index.update.partition.path"] = "true"
    if table.glue_database:
        opts.update(catalog_sync_options(table, partition_columns))
    opts.update(overrides(spark))
    return opts


def catalog_sync_options(table: TableSpec, partition_columns: List[str]) -> Dict[str, str]:
    """Glue Data Catalog sync (AWS only; Glue's Hive metastore client is the Data Catalog when the job
    runs with --enable-glue-datacatalog)."""
    opts = {
        "hoodie.datasource.hive_sync.enable": "true",
        "hoodie.datasource.meta.sync.enable": "true",
        "hoodie.datasource.hive_sync.mode": "hms",
        "hoodie.datasource.hive_sync.use_jdbc": "false",
        "hoodie.datasource.hive_sync.database": table.glue_database or "",
        "hoodie.datasource.hive_sync.table": table.table_name,
        "hoodie.datasource.hive_sync.support_timestamp": "true",
    }
    if partition_columns:
        opts["hoodie.datasource.hive_sync.partition_fields"] = ",".join(partition_columns)
        opts["hoodie.datasource.hive_sync.partition_extractor_class"] = "org.apache.hudi.hive.MultiPartKeysValueExtractor"
    else:
        opts["hoodie.datasource.hive_sync.partition_extractor_class"] = "org.apache.hudi.hive.NonPartitionedExtractor"
    return opts


def overrides(spark: SparkSession) -> Dict[str, str]:
    conf = spark.sparkContext.getConf()
    return {k[len(OVERRIDE_PREFIX):]: v for k, v in conf.getAll() if k.startswith(OVERRIDE_PREFIX + "hoodie.")}


def write(df: DataFrame, location: str, options: Dict[str, str], overwrite: bool) -> None:
    df.write.format("hudi").options(**options).mode("overwrite" if overwrite else "append").save(location)


# ---------------------------------------------------------------------------------------------
# Tombstones: keys deleted by the stream with the ordering value of their delete. A late, older
# version of a deleted key (a late file, a retried batch) must not bring it back: it is dropped when
# its ordering is not larger than the tombstone's. docs/ordering.md.


def tombstone_options(spark: SparkSession, table: TableSpec, plan: Plan, run_key: str) -> Dict[str, str]:
    key_columns = [plan.column_for(k).name for k in table.key_fields]
    opts = {
        "hoodie.table.name": table.table_name + "_tombstones",
        "hoodie.datasource.write.table.name": table.table_name + "_tombstones",
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": ",".join(key_columns),
        "hoodie.datasource.write.partitionpath.field": "",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
        "hoodie.datasource.write.precombine.field": ORDERING_COLUMN,
        "hoodie.payload.ordering.field": ORDERING_COLUMN,
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
        "hoodie.datasource.write.commitmeta.key.prefix": "_ddb_lake",
        RUN_KEY: run_key,
        "hoodie.embed.timeline.server": "false",
        "hoodie.write.markers.type": "DIRECT",
        "hoodie.parquet.compression.codec": "snappy",
        "hoodie.index.type": "SIMPLE",
        "hoodie.clean.max.commits": "10",
    }
    opts.update(overrides(spark))
    return opts


def tombstone_key_columns(table: TableSpec, plan: Plan) -> List[str]:
    return [plan.column_for(k).name for k in table.key_fields]


def read_tombstones(spark: SparkSession, table: TableSpec, plan: Plan) -> Optional[DataFrame]:
    if not table_exists(spark, table.tombstone_location):
        return None
    keys = tombstone_key_columns(table, plan)
    return spark.read.format("hudi").load(table.tombstone_location).select(*keys, ORDERING_COLUMN)

