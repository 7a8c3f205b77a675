"""The warm engine: one long-lived Spark session per pipeline that runs the workflow's manifests one
after another (docs/warm-engine.md). It pays the JVM, the session and Python's imports once instead
of once per batch, as Hudi's own `HoodieStreamer --continuous` does.

The runner (activities/local/warm-job-runner.ts) talks to it through folders, so either side may
restart without losing a batch:

- `<engine_dir>/inbox/<runKey>.json` — a request `{"runKey", "kind", "manifestUri"}`, written whole
  (temporary name, then rename) by the runner;
- `<engine_dir>/active/<runKey>.json` — the request the engine took (a rename: a request is taken
  once, and a runner that removes it from the inbox first has cancelled it);
- `<jobs_dir>/<runKey>.log` and `<runKey>.exit` — the run's log (its last line the summary) and exit
  code, exactly what a one-shot run leaves, so the run records read both kinds of run alike.

A batch in flight when the engine dies has no exit file: the runner reports it failed and the
workflow retries it under a new run key, which the commit metadata makes harmless.
"""

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from pyspark.sql import SparkSession

from .args import resolve_options
from .jobs import run_one, summary_line
from .spark import build_session
from .steps import error_text

POLL_SECONDS = 0.05


def main(argv: Sequence[str] | None = None) -> None:
    args = resolve_options(
        list(sys.argv if argv is None else argv),
        ["engine_dir", "jobs_dir"],
        ["aws_endpoint", "aws_region", "idle_exit_seconds"],
    )
    engine_dir, jobs_dir = args["engine_dir"] or "", args["jobs_dir"] or ""
    idle_exit = float(args["idle_exit_seconds"] or 0)
    inbox, active = os.path.join(engine_dir, "inbox"), os.path.join(engine_dir, "active")
    os.makedirs(inbox, exist_ok=True)
    os.makedirs(active, exist_ok=True)
    spark = build_session(
        f"ddb-lake warm engine {os.path.basename(engine_dir)}", args["aws_endpoint"], args["aws_region"]
    )
    _log(f"ready (pid {os.getpid()})")
    _write_atomic(os.path.join(engine_dir, "ready"), f"{os.getpid()}\n")
    idle_since = time.time()
    while True:
        request = _take(inbox, active)
        if request is None:
            if idle_exit and time.time() - idle_since > idle_exit:
                _log(f"idle for {idle_exit:.0f} s: exiting")
                break
            time.sleep(POLL_SECONDS)
            continue
        name, body = request
        serve(spark, body, jobs_dir)
        os.remove(os.path.join(active, name))
        idle_since = time.time()
        if not _alive(spark):
            _log("the Spark session is gone: exiting so the runner starts a new engine")
            sys.exit(3)
    spark.stop()


def serve(spark: SparkSession, request: dict[str, Any], jobs_dir: str) -> None:
    """Run one request; its log and exit file tell the runner how it ended."""
    run_key = str(request.get("runKey") or "")
    log_file = os.path.join(jobs_dir, f"{run_key}.log")
    started = time.time()
    _log(f"run {run_key}: start")
    with open(log_file, "a", encoding="utf-8") as log:
        log.write(f"warm engine pid {os.getpid()}: {run_key} ({request.get('manifestUri')})\n")
        summary, failure = run_one(
            spark, str(request.get("kind") or ""), str(request.get("manifestUri") or ""), run_key, started
        )
        if failure is not None:
            log.write("".join(traceback.format_exception(type(failure), failure, failure.__traceback__)))
        log.write(summary_line(summary) + "\n")
    # Nothing a run cached may outlive it: the next batch starts from what the lake holds.
    with contextlib.suppress(Exception):  # a dead session is found just below
        spark.catalog.clearCache()
    _write_atomic(os.path.join(jobs_dir, f"{run_key}.exit"), "0\n" if summary.get("status") == "succeeded" else "1\n")
    _log(
        f"run {run_key}: {summary.get('status')} in {time.time() - started:.1f} s"
        + (f": {error_text(failure).splitlines()[0]}" if failure is not None else "")
    )


def _take(inbox: str, active: str):
    for name in sorted(n for n in os.listdir(inbox) if n.endswith(".json")):
        try:
            os.rename(os.path.join(inbox, name), os.path.join(active, name))
        except FileNotFoundError:
            continue  # cancelled by the runner
        with open(os.path.join(active, name), encoding="utf-8") as f:
            try:
                return name, json.load(f)
            except json.JSONDecodeError:
                return name, {"runKey": name[: -len(".json")], "kind": "", "manifestUri": ""}
    return None


def _alive(spark: SparkSession) -> bool:
    try:
        return not spark.sparkContext._jsc.sc().isStopped()
    except Exception:  # Py4J: the JVM is gone
        return False


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _log(message: str) -> None:
    print(f"{time.strftime('%y/%m/%d %H:%M:%S')} ddb-lake engine: {message}", file=sys.stderr, flush=True)
