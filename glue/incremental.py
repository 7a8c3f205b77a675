"""AWS Glue 5.0 job (and local spark-submit): apply the landing files of one manifest to the Hudi
table: per key the largest ordering value wins, deletes included.

Arguments: --manifest <uri> --run_key <key> [--aws_endpoint <url>] (docs/contracts.md).
"""

from ddb_lake_glue.jobs import main

if __name__ == "__main__":
    main("incremental")
