"""Small file operations through Hadoop's FileSystem (s3:// on Glue, s3a -> moto or file:// locally),
so the jobs need no second S3 client and behave the same on every scheme."""

import os

from pyspark.sql import SparkSession


def normalize_uri(uri: str) -> str:
    """A local path becomes a file:// URI; s3://, s3a:// and file:// URIs are kept."""
    if "://" in uri:
        return uri
    return "file://" + os.path.abspath(uri)


def _path(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(normalize_uri(uri))
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def read_bytes(spark: SparkSession, uri: str) -> bytes:
    path, fs = _path(spark, uri)
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        out = jvm.java.io.ByteArrayOutputStream()
        jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, out, 65536, False)
        return bytes(out.toByteArray())
    finally:
        stream.close()


def read_text(spark: SparkSession, uri: str) -> str:
    return read_bytes(spark, uri).decode("utf-8")


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    path, fs = _path(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def total_size(spark: SparkSession, uris: list[str], stop_above: int) -> int:
    """Sum of the files' sizes, stopping early once it exceeds `stop_above`."""
    total = 0
    for uri in uris:
        path, fs = _path(spark, uri)
        total += int(fs.getFileStatus(path).getLen())
        if total > stop_above:
            break
    return total


def exists(spark: SparkSession, uri: str) -> bool:
    path, fs = _path(spark, uri)
    return bool(fs.exists(path))


def delete(spark: SparkSession, uri: str) -> None:
    path, fs = _path(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)


def list_names(spark: SparkSession, uri: str) -> list[str]:
    """Names of the entries directly under a folder ([] when it does not exist)."""
    path, fs = _path(spark, uri)
    if not fs.exists(path):
        return []
    return [status.getPath().getName() for status in fs.listStatus(path)]


def join(base: str, *parts: str) -> str:
    out = base.rstrip("/")
    for p in parts:
        out += "/" + p.strip("/")
    return out
