"""Quiet hours (MKT-02): pure functions over local wall-clock times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_clock(value: str | dt.time) -> dt.time:
    """``"21:00"`` → ``time(21, 0)``; a time passes through."""
    if isinstance(value, dt.time):
        return value
    hours, _, minutes = str(value).partition(":")
    return dt.time(int(hours), int(minutes or 0))


def in_quiet_hours(local: dt.time, *, start: dt.time, end: dt.time) -> bool:
    """Whether ``local`` falls in [start, end), wrapping past midnight.

    ``start == end`` means no quiet hours at all.
    """
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def is_quiet_at(
    moment: dt.datetime, *, time_zone: str, start: dt.time, end: dt.time
) -> bool:
    """Whether the aware ``moment`` is inside quiet hours in ``time_zone``.

    An unknown zone name falls back to UTC rather than failing a send.
    """
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return in_quiet_hours(moment.astimezone(zone).time(), start=start, end=end)


def quiet_hours_end(
    moment: dt.datetime, *, time_zone: str, end: dt.time
) -> dt.datetime:
    """The first local ``end`` o'clock after ``moment`` in ``time_zone`` (aware).

    Dates are counted in local time, so a night that loses or gains an hour
    at a DST change still ends at ``end`` on the local clock.
    """
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    candidate = dt.datetime.combine(local.date(), end, tzinfo=zone)
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), end, tzinfo=zone
        )
    return candidate
