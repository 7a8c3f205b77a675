"""Steps and helpers shared by the jobs: phases, error text, rejected records."""

import time
import traceback

from pyspark.sql import DataFrame, SparkSession

from .errors import JobError
from .lake import bad_key_rows, rejected_rows
from .manifest import Manifest, TableSpec
from .records import DecodeContext, record_schema


class Phases:
    """Seconds spent per phase of a run (reported in the summary as `phases`)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.time()

    def mark(self, name: str) -> None:
        now = time.time()
        self.times[name] = round(self.times.get(name, 0) + now - self._last, 3)
        self._last = now


def error_text(e: BaseException) -> str:
    """The message a person needs: ours as is, a JVM error as its class and message (root cause too)."""
    if isinstance(e, JobError):
        return str(e)
    java = getattr(e, "java_exception", None)
    if java is not None:
        parts = []
        seen = 0
        while java is not None and seen < 8:
            parts.append(str(java.toString()).split("\n")[0])
            java = java.getCause()
            seen += 1
        return " | caused by: ".join(dict.fromkeys(parts))
    text = "".join(traceback.format_exception_only(type(e), e)).strip()
    return text


def empty_records(spark: SparkSession, ctx: DecodeContext) -> DataFrame:
    return spark.createDataFrame([], record_schema(len(ctx.derived)))


def release(records: DataFrame) -> None:
    """Drop the decoded rows kept by read_records (the persisted Python RDD under the DataFrame)."""
    for rdd in records.sparkSession.sparkContext._jsc.getPersistentRDDs().values():
        rdd.unpersist(False)


def derived_index(table: TableSpec) -> dict[str, int]:
    return {d.name: i for i, d in enumerate(table.derived_columns)}


def write_rejects(manifest: Manifest, parts: list[DataFrame]) -> None:
    rejects = parts[0]
    for p in parts[1:]:
        rejects = rejects.unionByName(p)
    rejects.coalesce(1).write.mode("overwrite").json(manifest.rejected_location)


def check_rejected_share(manifest: Manifest, rejected: int, read: int) -> None:
    if read and rejected / read > manifest.table.max_rejected_share:
        raise JobError(
            f"{rejected} of {read} records were rejected ({rejected / read:.2%}), more than maxRejectedShare "
            f"{manifest.table.max_rejected_share:.2%}; reasons are in {manifest.rejected_location}"
        )


def reject(
    manifest: Manifest, records: DataFrame, projected: DataFrame, decode_rejected: int, bad_keys: int, read: int
) -> int:
    """Sets aside the lines that did not decode and the rows without a usable key (with their reasons),
    and fails the job past maxRejectedShare. Returns the records rejected in all."""
    rejected = decode_rejected + bad_keys
    if rejected:
        write_rejects(manifest, [rejected_rows(records), bad_key_rows(projected)])
    check_rejected_share(manifest, rejected, read)
    return rejected
