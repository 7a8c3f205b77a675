"""The table's Hudi timeline as the jobs read it: completed instants, their extra metadata, the
table's properties. Plain file reads through Hadoop's FileSystem (no Hudi client), so a batch that
writes nothing opens no Hudi machinery.

ddb-lake keeps its own state in the extra metadata of each ingest commit (docs/contracts.md):
`_ddb_lake_plan` (column plan), `_ddb_lake_index` (index layout), `_ddb_lake_ordering_state`
(the ordering check's high-water mark and recent-versions files) and `_ddb_lake_run_key`.
Compaction commits carry only the run key, so readers walk back to the newest commit with a plan.
"""

import json
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from . import storage
from .errors import JobError

PLAN_KEY = "_ddb_lake_plan"
RUN_KEY = "_ddb_lake_run_key"
INDEX_KEY = "_ddb_lake_index"
STATE_KEY = "_ddb_lake_ordering_state"
# Completed actions that add data: commit (COW commits; MOR compactions), deltacommit (MOR), replacecommit.
DATA_ACTIONS = ("commit", "deltacommit", "replacecommit")


@dataclass(frozen=True)
class Instant:
    time: str
    action: str

    @property
    def file_name(self) -> str:
        return f"{self.time}.{self.action}"


@dataclass
class Timeline:
    """The completed instants of a table's active timeline (newest first) and the pending compactions."""

    location: str
    completed: list[Instant]
    pending_compactions: list[str]
    _cache: dict[str, dict] = field(default_factory=dict)

    def metadata(self, spark: SparkSession, instant: Instant) -> dict:
        """The instant's commit metadata (JSON), read once."""
        if instant.file_name not in self._cache:
            text = storage.read_text(spark, storage.join(self.location, ".hoodie", instant.file_name))
            self._cache[instant.file_name] = json.loads(text) if text.strip() else {}
        return self._cache[instant.file_name]

    def extra(self, spark: SparkSession, instant: Instant) -> dict[str, str]:
        return self.metadata(spark, instant).get("extraMetadata") or {}

    def newest_with(self, spark: SparkSession, key: str) -> tuple[Instant, dict[str, str]] | None:
        for instant in self.completed:
            extra = self.extra(spark, instant)
            if key in extra:
                return instant, extra
        return None

    def last_compaction(self, table_type: str) -> str | None:
        """Instant of the newest completed compaction (a `commit` on a merge-on-read table)."""
        if table_type != "MERGE_ON_READ":
            return None
        return next((i.time for i in self.completed if i.action == "commit"), None)

    def delta_commits_after(self, instant: str | None) -> list[Instant]:
        return [i for i in self.completed if i.action == "deltacommit" and (instant is None or i.time > instant)]

    def _write_stats(self, spark: SparkSession, instant: Instant) -> list[dict]:
        stats = self.metadata(spark, instant).get("partitionToWriteStats") or {}
        return [s for group in stats.values() for s in group or []]

    def bytes_written(self, spark: SparkSession, instant: Instant) -> int:
        return sum(int(s.get("totalWriteBytes") or 0) for s in self._write_stats(spark, instant))

    def log_bytes(self, spark: SparkSession, instant: Instant) -> int | None:
        """Bytes the instant appended to log files; None when it wrote none (e.g. a bulk insert)."""
        logs = [s for s in self._write_stats(spark, instant) if ".log." in (s.get("path") or "")]
        return sum(int(s.get("totalWriteBytes") or 0) for s in logs) if logs else None


def table_exists(spark: SparkSession, location: str) -> bool:
    return storage.exists(spark, storage.join(location, ".hoodie", "hoodie.properties"))


def read_timeline(spark: SparkSession, location: str) -> Timeline:
    names = storage.list_names(spark, storage.join(location, ".hoodie"))
    completed, requested = [], set()
    for name in names:
        stem, _, action = name.partition(".")
        if not stem.isdigit():
            continue
        if action in DATA_ACTIONS:
            completed.append(Instant(stem, action))
        elif action in ("compaction.requested", "compaction.inflight"):
            requested.add(stem)
    done = {i.time for i in completed}
    completed.sort(key=lambda i: i.time, reverse=True)
    return Timeline(location, completed, sorted(t for t in requested if t not in done))


def table_properties(spark: SparkSession, location: str) -> dict[str, str]:
    text = storage.read_text(spark, storage.join(location, ".hoodie", "hoodie.properties"))
    props = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, _, v = line.partition("=")
            props[k.strip()] = v.strip()
    return props


def table_type(spark: SparkSession, location: str) -> str:
    return table_properties(spark, location).get("hoodie.table.type", "COPY_ON_WRITE")


def commit_of_run(spark: SparkSession, location: str, run_key: str) -> str | None:
    """Instant of the newest completed commit written by this run key."""
    timeline = read_timeline(spark, location)
    for instant in timeline.completed:
        if timeline.extra(spark, instant).get(RUN_KEY) == run_key:
            return instant.time
    return None


def require_plan(timeline: Timeline, spark: SparkSession) -> tuple[Instant, dict[str, str]]:
    found = timeline.newest_with(spark, PLAN_KEY)
    if found is None:
        raise JobError(
            f"the Hudi table at {timeline.location} has no ddb-lake column plan in its commits: it was not written by ddb-lake"
        )
    return found
