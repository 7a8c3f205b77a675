"""AWS Glue 5.0 job (and local spark-submit): load a DynamoDB export into a new Hudi table.

Arguments: --manifest <uri> --run_key <key> [--aws_endpoint <url>] (docs/contracts.md).
"""

from ddb_lake_glue.jobs import main

if __name__ == "__main__":
    main("initialLoad")
