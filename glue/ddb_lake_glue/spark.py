"""The SparkSession the jobs use, and the s3a settings for a local S3 endpoint (moto)."""

import os

from pyspark.sql import SparkSession

# Settings every run needs (Hudi requires Kryo); everything about resources comes from the caller
# (Glue job parameters, or the local runner's spark-submit --conf).
SESSION_CONF = {
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.kryo.registrator": "org.apache.spark.HoodieSparkKryoRegistrar",
    "spark.sql.session.timeZone": "UTC",
    # Attribute names differ only in case in some tables; columns are planned to be unique
    # case-insensitively (docs/types.md), resolution stays exact.
    "spark.sql.caseSensitive": "true",
    "spark.sql.hive.convertMetastoreParquet": "false",
    # Exactness checks rely on casts returning null (not failing) when a number does not fit.
    "spark.sql.ansi.enabled": "false",
}


def build_session(app_name: str, aws_endpoint: str | None, aws_region: str | None = None) -> SparkSession:
    builder = SparkSession.builder.appName(app_name)
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if aws_endpoint:
        configure_local_s3(spark, aws_endpoint, aws_region)
    return spark


def configure_local_s3(spark: SparkSession, endpoint: str, region: str | None = None) -> None:
    """Point s3:// and s3a:// at a local S3 (moto): path-style, plain HTTP, dummy credentials
    unless the environment names others. Only used when --aws_endpoint is given (never on Glue)."""
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    settings = {
        "fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.endpoint": endpoint,
        "fs.s3a.endpoint.region": region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": "true" if endpoint.startswith("https:") else "false",
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.access.key": os.environ.get("AWS_ACCESS_KEY_ID") or "moto",
        "fs.s3a.secret.key": os.environ.get("AWS_SECRET_ACCESS_KEY") or "moto",
        # moto answers at once; do not wait minutes on a wrong endpoint.
        "fs.s3a.attempts.maximum": "3",
        "fs.s3a.retry.limit": "3",
        "fs.s3a.connection.establish.timeout": "5000",
        "fs.s3a.connection.timeout": "60000",
        "fs.s3a.change.detection.mode": "none",
        "fs.s3a.committer.magic.enabled": "false",
    }
    for key, value in settings.items():
        conf.set(key, value)
