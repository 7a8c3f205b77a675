"""The Spark half shared by both jobs: lines -> records -> typed rows of the lake's columns."""

import gzip
import re

from pyspark import StorageLevel
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import storage
from .columns import (
    DELETED_COLUMN,
    DERIVED,
    ORDERING_COLUMN,
    OVERFLOW_COLUMN,
    AttributeStats,
    Column,
    Plan,
)
from .manifest import TableSpec
from .records import DecodeContext, decode_lines, record_schema

_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


# Batches up to this size are read and decoded in the driver: a small incremental batch then starts no
# Python worker and no file-reading Spark job (seconds of a freshness cycle). Same decoder either way.
LOCAL_DECODE_MAX_BYTES = 16 * 1024 * 1024
LOCAL_DECODE_MAX_FILES = 200


def read_records(spark: SparkSession, uris: list[str], ctx: DecodeContext, small_in_driver: bool = False) -> DataFrame:
    """Every non-blank line of the files as a record row (records.RECORD_SCHEMA), decoded once.
    `small_in_driver`: decode a small batch in the driver (landing files; never a whole export)."""
    limit = int(spark.conf.get("spark.ddb_lake.localDecodeMaxBytes", str(LOCAL_DECODE_MAX_BYTES)))
    if small_in_driver and len(uris) <= LOCAL_DECODE_MAX_FILES and storage.total_size(spark, uris, limit) <= limit:
        rows = list(decode_lines(ctx, ((line, uri) for uri in uris for line in _lines(spark, uri))))
        return spark.createDataFrame(rows, record_schema(len(ctx.derived)), verifySchema=False)
    schema = record_schema(len(ctx.derived))
    decode = decode_lines
    # Lines as raw bytes (cast from the text source's UTF8String without decoding, so invalid UTF-8 is
    # seen and rejected, never replaced), tagged with their file. (SparkContext.textFile would decode
    # in the JVM with replacement characters.)
    lines = spark.read.text(uris).select(F.col("value").cast("binary"), F.input_file_name()).rdd
    # The decoded rows are kept as the Python side's pickled batches (cheap to store; unpickled again
    # by each of the few actions that read them): building Spark's columnar cache of the map column
    # cost more than the decoding itself.
    rdd = lines.mapPartitions(lambda rows: decode(ctx, ((r[0], r[1]) for r in rows))).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    return spark.createDataFrame(rdd, schema, verifySchema=False)


def _lines(spark: SparkSession, uri: str) -> list[bytes]:
    """The file's lines as Hadoop's text reader splits them (\\n, \\r\\n or \\r; .gz decompressed)."""
    data = storage.read_bytes(spark, uri)
    if uri.endswith(".gz"):
        data = gzip.decompress(data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # Hadoop's LineRecordReader skips a UTF-8 byte order mark too
    return data.splitlines()


def _split(tv: SparkColumn) -> tuple[SparkColumn, SparkColumn]:
    """'N:1.5' -> ('N', '1.5')."""
    pos = F.instr(tv, ":")
    return F.substring_index(tv, ":", 1), tv.substr(pos + 1, F.lit(1 << 30))


def _scale(text: SparkColumn) -> SparkColumn:
    pos = F.instr(text, ".")
    return F.when(pos > 0, F.length(text) - pos).otherwise(F.lit(0))


def _int_digits(text: SparkColumn) -> SparkColumn:
    int_part = F.substring_index(F.regexp_replace(text, "^-", ""), ".", 1)
    return F.when(int_part == "0", F.lit(0)).otherwise(F.length(int_part))


def attribute_stats(records: DataFrame) -> list[AttributeStats]:
    """Per attribute and DynamoDB type: how often, and for numbers whether they fit a long and how
    many digits they need (one aggregation, native Spark)."""
    pairs = records.select(F.explode("attrs").alias("attribute", "tv"))
    t, text = _split(F.col("tv"))
    pairs = pairs.select("attribute", t.alias("t"), text.alias("text"))
    is_n = F.col("t") == "N"
    fits_long = (~F.col("text").contains(".")) & F.col("text").cast("bigint").isNotNull()
    rows = (
        pairs.groupBy("attribute", "t")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.min(F.when(is_n, fits_long)).alias("all_long"),
            F.max(F.when(is_n, _scale(F.col("text")))).alias("max_scale"),
            F.max(F.when(is_n, _int_digits(F.col("text")))).alias("max_int_digits"),
        )
        .collect()
    )
    return [
        AttributeStats(r["attribute"], r["t"], r["n"], r["all_long"], r["max_scale"], r["max_int_digits"]) for r in rows
    ]


def _value(col: Column, t: SparkColumn, text: SparkColumn) -> SparkColumn:
    """The typed value when the attribute's value fits the column, else null."""
    typ = col.type
    same_kind = t == col.kind
    if col.kind == "N":
        if typ == "bigint":
            return F.when(same_kind & ~text.contains("."), text.cast("bigint"))
        m = _DECIMAL.match(typ)
        if m:
            p, s = int(m.group(1)), int(m.group(2))
            fits = same_kind & (_scale(text) <= s) & (_int_digits(text) <= p - s)
            return F.when(fits, text.cast(typ))
        if typ == "double":
            return F.when(same_kind, text.cast("double"))
        if typ == "string":
            return F.when(same_kind, text)
    if col.kind == "BOOL" and typ == "boolean":
        return F.when(same_kind, text == "true")
    if col.kind == "B" and typ == "binary":
        return F.when(same_kind, F.unbase64(text))
    if typ == "string":
        return F.when(same_kind, text)
    # A pinned type that does not hold this kind (e.g. an S attribute pinned to long): try an exact
    # conversion, keep it only when it round-trips.
    converted = text.cast(typ)
    return F.when(same_kind & (converted.cast("string") == text), converted)


def project(records: DataFrame, plan: Plan, table: TableSpec, derived_index: dict[str, int]) -> DataFrame:
    """Typed rows: one column per plan column, then ordering, overflow and the delete flag, plus
    `op`, `key` (the record's key attributes as text: the ordering check's key) and `bad_key` (a key
    value that does not fit its key column: the record is rejected)."""
    selected: list[SparkColumn] = []
    overflow_entries: list[SparkColumn] = []
    key_attrs = set(table.key_fields)
    bad_key: SparkColumn | None = None
    for col in plan.columns:
        if col.kind == DERIVED:
            selected.append(F.col(f"d{derived_index[col.name]}").alias(col.name))
            continue
        tv = F.col("attrs").getItem(col.attribute)
        t, text = _split(tv)
        value = _value(col, t, text)
        selected.append(value.alias(col.name))
        unfit = tv.isNotNull() & (t != "NULL") & value.isNull()
        if col.attribute in key_attrs:
            reason = F.when(
                unfit | tv.isNull(), F.lit(f"key attribute {col.attribute!r} does not fit its column type {col.type}")
            )
            bad_key = reason if bad_key is None else F.coalesce(bad_key, reason)
        else:
            overflow_entries.append(
                F.struct(F.lit(col.attribute).alias("k"), F.when(unfit, F.create_map(t, text)).alias("v"))
            )
    ambiguous = ambiguous_key(plan, table)
    if ambiguous is not None:
        bad_key = ambiguous if bad_key is None else F.coalesce(bad_key, ambiguous)
    if overflow_entries:
        entries = F.filter(F.array(*overflow_entries), lambda e: e["v"].isNotNull())
        overflow = F.when(F.size(entries) > 0, F.to_json(F.map_from_entries(entries)))
    else:
        overflow = F.lit(None).cast("string")
    selected += [
        F.col("ordering").alias(ORDERING_COLUMN),
        overflow.alias(OVERFLOW_COLUMN),
        (F.col("op") == "delete").alias(DELETED_COLUMN),
        F.col("op"),
        F.col("key"),
        (bad_key if bad_key is not None else F.lit(None).cast("string")).alias("bad_key"),
        F.col("source"),
        F.col("attrs"),
    ]
    return records.select(*selected)


def ambiguous_key(plan: Plan, table: TableSpec) -> SparkColumn | None:
    """Hudi renders a two-attribute key as `<c1>:<v1>,<c2>:<v2>` without escaping, so an item whose
    first key value contains `,<c2>:` could get the record key of another item (account
    "x,create_at:y" + create_at "z" and account "x" + create_at "y,create_at:z" both give
    `account:x,create_at:y,create_at:z`) and Hudi would merge the two. Without such a value the
    rendering is one-to-one (docs/types.md), so exactly those items are rejected, loudly."""
    if len(table.key_fields) != 2:
        return None
    first, second = plan.column_for(table.key_fields[0]), plan.column_for(table.key_fields[1])
    marker = f",{second.name}:"
    _, text = _split(F.col("attrs").getItem(first.attribute))
    reason = (
        f"key attribute {first.attribute!r} contains {marker!r}: Hudi's record key `{first.name}:…,{second.name}:…` of this item "
        "could equal another item's, so it is left out of the lake (docs/types.md); change the item's key in DynamoDB to load it"
    )
    return F.when(text.contains(marker), F.lit(reason))


def key_columns_from_text(df: DataFrame, key_text: str, plan: Plan, table: TableSpec) -> list[SparkColumn]:
    """The typed key columns of a record's `key` text (the JSON list of its key attributes as
    `"<type>:<text>"`, records.py), as `project` types them."""
    texts = F.from_json(F.col(key_text), "array<string>")
    out = []
    for i, field in enumerate(table.key_fields):
        col = plan.column_for(field)
        t, text = _split(texts.getItem(i))
        out.append(_value(col, t, text).alias(col.name))
    return out


def lake_columns(plan: Plan) -> list[str]:
    return [c.name for c in plan.columns] + [ORDERING_COLUMN, OVERFLOW_COLUMN, DELETED_COLUMN]


def rejected_rows(records: DataFrame) -> DataFrame:
    return records.filter(~F.col("ok")).select("source", "reason", "raw")


def bad_key_rows(projected: DataFrame) -> DataFrame:
    return projected.filter(F.col("bad_key").isNotNull()).select(
        "source", F.col("bad_key").alias("reason"), F.to_json("attrs").alias("raw")
    )
