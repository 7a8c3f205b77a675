"""The warm engine (local stack): one Spark session that runs incremental and compaction manifests
one after another, handed over through folders (ddb_lake_glue/engine.py, docs/warm-engine.md).

Arguments: --engine_dir <dir> --jobs_dir <dir> [--aws_endpoint <url>] [--aws_region <r>]
[--idle_exit_seconds <n>].
"""

from ddb_lake_glue.engine import main

if __name__ == "__main__":
    main()
