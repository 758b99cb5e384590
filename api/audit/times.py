"""Times as the exports print them: ISO 8601 in Japan Standard Time (no daylight saving)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

JAPAN = timezone(timedelta(hours=9), "JST")


def japan_time(moment: datetime) -> str:
    """`2026-04-02T10:15:30+09:00`: the moment in JST, to the second."""
    return moment.astimezone(JAPAN).isoformat(timespec="seconds")
