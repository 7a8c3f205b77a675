"""Glue-style job arguments (`--name value`), read the way AWS Glue reads them."""

import sys
from collections.abc import Sequence

from .errors import JobError

REQUIRED = ["manifest", "run_key"]
OPTIONAL = ["aws_endpoint", "aws_region"]


def parse_job_args(argv: Sequence[str] | None = None) -> dict[str, str | None]:
    """`--manifest`, `--run_key` (required) and `--aws_endpoint`, `--aws_region` (local only).

    On Glue `awsglue.utils.getResolvedOptions` is used, so Glue's own arguments (`--JOB_ID`, ...)
    are tolerated exactly as Glue does; elsewhere an equivalent parser does the same.
    """
    argv = list(sys.argv if argv is None else argv)
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore
    except ImportError:
        getResolvedOptions = None
    if getResolvedOptions is not None:
        resolved = getResolvedOptions(argv, REQUIRED)
        present = [o for o in OPTIONAL if f"--{o}" in argv]
        if present:
            resolved.update(getResolvedOptions(argv, present))
        return {name: resolved.get(name) for name in REQUIRED + OPTIONAL}
    return resolve_options(argv, REQUIRED, OPTIONAL)


def resolve_options(argv: list[str], required: list[str], optional: list[str]) -> dict[str, str | None]:
    """Same rules as getResolvedOptions: `--name value` or `--name=value`; unknown names ignored."""
    values: dict[str, str | None] = {name: None for name in required + optional}
    known = set(values)
    i = 1 if argv and not argv[0].startswith("--") else 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--"):
            name, eq, inline = token[2:].partition("=")
            if eq:
                value: str | None = inline
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                value = argv[i + 1]
                i += 1
            else:
                value = None
            if name in known:
                if value is None:
                    raise JobError(f"argument --{name} needs a value")
                values[name] = value
        i += 1
    missing = [f"--{n}" for n in required if not values[n]]
    if missing:
        raise JobError(
            f"missing job argument(s) {', '.join(missing)}; the job takes --manifest <uri> --run_key <key> (docs/contracts.md)"
        )
    return values
