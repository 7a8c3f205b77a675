"""Writing the Hudi table (and its tombstone table) the same way from both jobs."""

from pyspark.sql import DataFrame, SparkSession

from .columns import ORDERING_COLUMN, Plan
from .layout import IndexLayout, index_options
from .manifest import TableSpec
from .timeline import PLAN_KEY, RUN_KEY, table_exists

# Hudi options a deployment may override without a code change: Spark conf `spark.ddb_lake.hoodie.*`
# (local runner: --conf; Glue: job parameter --conf), e.g. spark.ddb_lake.hoodie.metadata.enable=false.
OVERRIDE_PREFIX = "spark.ddb_lake."


def write_options(
    spark: SparkSession,
    table: TableSpec,
    plan: Plan,
    operation: str,
    run_key: str,
    table_type: str,
    layout: IndexLayout,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Options of every write to the lake (and of the compaction job's write client). `extra`: more
    `_ddb_lake*` keys for the commit's extra metadata."""
    key_columns = [plan.column_for(k).name for k in table.key_fields]
    partition_columns = [plan.column_for(p).name for p in table.partition_fields]
    opts = {
        "hoodie.table.name": table.table_name,
        "hoodie.datasource.write.table.name": table.table_name,
        "hoodie.datasource.write.table.type": table_type,
        "hoodie.datasource.write.operation": operation,
        "hoodie.datasource.write.recordkey.field": ",".join(key_columns),
        "hoodie.datasource.write.precombine.field": ORDERING_COLUMN,
        "hoodie.payload.ordering.field": ORDERING_COLUMN,
        # Keeps the larger ordering value against the stored row too, for upserts and for deletes
        # sent as upserts with _hoodie_is_deleted (checked against Hudi 0.15: glue/tests). On
        # merge-on-read the job never lets an older version reach a log file (docs/ordering.md).
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
        # (Hudi 1.x renamed it hoodie.clean.trigger.max.commits: both are set, each version reads its own.)
        "hoodie.clean.max.commits": "10",
        "hoodie.clean.trigger.max.commits": "10",
        "hoodie.clean.automatic": "true" if table.auto_clean else "false",
        # Only the workflow compacts (a compaction run between two batches, docs/contracts.md):
        # never inline, never scheduled by an ingest commit.
        "hoodie.compact.inline": "false",
        "hoodie.compact.schedule.inline": "false",
        "hoodie.datasource.compaction.async.enable": "false",
        # Avro log blocks: what hudi-rs (ddb-lake verify / sql) reads.
        "hoodie.logfile.data.block.format": "avro",
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
    opts.update(index_options(layout))
    if table.glue_database:
        opts.update(catalog_sync_options(table, partition_columns))
    opts.update(extra or {})
    opts.update(overrides(spark))
    return opts


def catalog_sync_options(table: TableSpec, partition_columns: list[str]) -> dict[str, str]:
    """Glue Data Catalog sync (AWS only; Glue's Hive metastore client is the Data Catalog when the job
    runs with --enable-glue-datacatalog). A merge-on-read table is registered twice, as Hudi's sync
    tool does: `<tableName>_rt` (snapshot: base + log files, what Athena queries for current rows)
    and `<tableName>_ro` (read-optimized: base files only, as of the last compaction)."""
    opts = {
        "hoodie.datasource.hive_sync.enable": "true",
        "hoodie.datasource.meta.sync.enable": "true",
        "hoodie.datasource.hive_sync.mode": "hms",
        "hoodie.datasource.hive_sync.use_jdbc": "false",
        "hoodie.datasource.hive_sync.database": table.glue_database or "",
        "hoodie.datasource.hive_sync.table": table.table_name,
        "hoodie.datasource.hive_sync.support_timestamp": "true",
        # Merge-on-read: keep the `_ro` suffix, so neither name hides that it lags behind.
        "hoodie.datasource.hive_sync.skip_ro_suffix": "false",
    }
    if partition_columns:
        opts["hoodie.datasource.hive_sync.partition_fields"] = ",".join(partition_columns)
        opts["hoodie.datasource.hive_sync.partition_extractor_class"] = (
            "org.apache.hudi.hive.MultiPartKeysValueExtractor"
        )
    else:
        opts["hoodie.datasource.hive_sync.partition_extractor_class"] = "org.apache.hudi.hive.NonPartitionedExtractor"
    return opts


def overrides(spark: SparkSession) -> dict[str, str]:
    conf = spark.sparkContext.getConf()
    return {k[len(OVERRIDE_PREFIX) :]: v for k, v in conf.getAll() if k.startswith(OVERRIDE_PREFIX + "hoodie.")}


def write(df: DataFrame, location: str, options: dict[str, str], overwrite: bool) -> None:
    df.write.format("hudi").options(**options).mode("overwrite" if overwrite else "append").save(location)


# ---------------------------------------------------------------------------------------------
# Tombstones: keys deleted by the stream with the ordering value of their delete. A late, older
# version of a deleted key (a late file, a retried batch) must not bring it back: it is dropped when
# its ordering is not larger than the tombstone's. docs/ordering.md.


def tombstone_options(spark: SparkSession, table: TableSpec, plan: Plan, run_key: str) -> dict[str, str]:
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


def tombstone_key_columns(table: TableSpec, plan: Plan) -> list[str]:
    return [plan.column_for(k).name for k in table.key_fields]


def read_tombstones(spark: SparkSession, table: TableSpec, plan: Plan) -> DataFrame | None:
    if not table_exists(spark, table.tombstone_location):
        return None
    keys = tombstone_key_columns(table, plan)
    return spark.read.format("hudi").load(table.tombstone_location).select(*keys, ORDERING_COLUMN)
