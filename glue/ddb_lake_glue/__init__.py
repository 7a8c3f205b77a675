"""ddb-lake's Glue jobs: DynamoDB export / stream landing files -> Apache Hudi table.

Plain PySpark (no GlueContext), so the same code runs on AWS Glue 5.0 (`--datalake-formats hudi`)
and under a local `spark-submit`. Shipped to Glue with `--extra-py-files`, to local Spark with
`--py-files`. Contracts: docs/contracts.md (manifest, arguments, summary), docs/encoding.md (landing
lines), docs/types.md (column types), docs/ordering.md (which version wins).
"""
