"""Derived columns (config `derivedColumns`): parts of an ISO-8601 timestamp attribute.

`2023-07-30T16:49:36.444736+0000` -> year "2023", month "07", day "30", hour "16", minute "49",
date "2023-07-30": zero-padded strings, as in the brief's processed sample. A timestamp with a
non-zero UTC offset is converted to UTC first, so partitions never depend on the writer's zone;
one without an offset is taken as UTC.
"""

import re
from datetime import UTC, datetime, timedelta, timezone

from .values import ValueError_

PARTS = ("year", "month", "day", "hour", "minute", "date")

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def timestamp_parts(text: str) -> dict[str, str]:
    m = _ISO.match(text)
    if not m:
        raise ValueError_(f"{text[:60]!r} is not an ISO-8601 timestamp")
    year, month, day, hour, minute, second, _frac, offset = m.groups()
    hour, minute, second = hour or "00", minute or "00", second or "00"
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59))
    except ValueError:
        raise ValueError_(f"{text[:60]!r} is not a valid date and time") from None
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))
        if minutes:
            local = datetime(
                int(year), int(month), int(day), int(hour), int(minute), tzinfo=timezone(timedelta(minutes=minutes))
            )
            utc = local.astimezone(UTC)
            year, month, day = f"{utc.year:04d}", f"{utc.month:02d}", f"{utc.day:02d}"
            hour, minute = f"{utc.hour:02d}", f"{utc.minute:02d}"
    return {
        "year": year,
        "month": month,
        "day": day,
        "hour": hour,
        "minute": minute,
        "date": f"{year}-{month}-{day}",
    }


def derive(source_text: str | None, part: str) -> str | None:
    """The part of a timestamp string, or None when the source attribute is missing."""
    if source_text is None:
        return None
    return timestamp_parts(source_text)[part]
